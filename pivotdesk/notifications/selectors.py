"""Reads of the notifications app, always scoped to the workspace (and to the agent for personal rows)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.common.errors import NotFound
from pivotdesk.notifications.models import Delivery, DeliveryStatus, Notification, NotificationTarget


def my_notifications(*, agent: AgentProfile, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(workspace_id=agent.workspace_id, recipient=agent).select_related("ticket")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-pk")


def unread_count(*, agent: AgentProfile) -> int:
    return Notification.objects.filter(workspace_id=agent.workspace_id, recipient=agent, read_at__isnull=True).count()


def access_notification(*, agent: AgentProfile, notification_id: int) -> Notification:
    """One of the agent's own notifications; anyone else's (or another workspace's) is NotFound."""
    found = my_notifications(agent=agent).filter(pk=notification_id).first()
    if found is None:
        raise NotFound(gettext("No such notification."))
    return found


def my_targets(*, agent: AgentProfile) -> QuerySet[NotificationTarget]:
    return NotificationTarget.objects.filter(workspace_id=agent.workspace_id, agent=agent).order_by("label", "pk")


def workspace_targets(*, workspace: Workspace) -> QuerySet[NotificationTarget]:
    return NotificationTarget.objects.filter(workspace=workspace, agent__isnull=True).order_by("label", "pk")


def access_target(*, agent: AgentProfile, target_id: int, shared: bool = False) -> NotificationTarget:
    """The agent's own target, or (shared=True) a workspace target of the agent's workspace."""
    qs = workspace_targets(workspace=agent.workspace) if shared else my_targets(agent=agent)
    found = qs.filter(pk=target_id).first()
    if found is None:
        raise NotFound(gettext("No such target."))
    return found


def delivery_log(*, workspace: Workspace, status: str = "", channel: str = "") -> QuerySet[Delivery]:
    qs = Delivery.objects.filter(workspace=workspace).select_related(
        "notification__ticket", "notification__recipient__user"
    )
    if status in DeliveryStatus.values:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("-created_at", "-pk")


def access_delivery(*, workspace: Workspace, delivery_id: int) -> Delivery:
    found = Delivery.objects.filter(workspace=workspace, pk=delivery_id).first()
    if found is None:
        raise NotFound(gettext("No such delivery."))
    return found


def event_may_mention(event: dict[str, Any]) -> bool:
    """message.created: only an agent's internal note that has an "@" can mention anyone (the task reads the rest)."""
    payload = event.get("payload") or {}
    return payload.get("kind") == "note" and payload.get("author_type") == "agent"
