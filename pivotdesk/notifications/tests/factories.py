"""Test helpers for notifications (targets are built through the service so their URL is encrypted)."""

from __future__ import annotations

from pivotdesk.accounts.models import AgentProfile
from pivotdesk.notifications.models import NotificationPreference, NotificationTarget


def make_target(
    agent: AgentProfile, url: str, *, label: str = "Hook", kinds: list[str] | None = None, shared: bool = False
) -> NotificationTarget:
    target = NotificationTarget(
        workspace_id=agent.workspace_id, agent=None if shared else agent, label=label, kinds=kinds or []
    )
    target.url = url
    target.save()
    return target


def set_channels(agent: AgentProfile, channels: dict[str, list[str]], **quiet: object) -> NotificationPreference:
    pref, _ = NotificationPreference.objects.get_or_create(agent=agent, defaults={"workspace_id": agent.workspace_id})
    pref.channels = channels
    for k, v in quiet.items():
        setattr(pref, k, v)
    pref.save()
    return pref
