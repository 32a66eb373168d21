"""Real-time adherence: scheduled activity vs actual presence per agent now, and adherence % per agent per day.

Presence comes from `agent.status_changed` events (`presence_record`, system only): one `PresenceSpan` per status,
closed when the next one starts. "Available" means online. Breaks inside a shift are not scheduled work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, AgentStatus, Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.time import now
from pivotdesk.workforce.domain.adherence import Adherence, adherence
from pivotdesk.workforce.models import Leave, PresenceSpan, RosterStatus, Shift
from pivotdesk.workforce.services.time import day_bounds, zone_of


def presence_record(*, actor: Actor, workspace_id: int, agent_id: int, status: str, at: dt.datetime) -> None:
    """Close the agent's open presence span at `at` and open one with the new status (idempotent: a repeat of the
    current status changes nothing; an older event than the open span is ignored)."""
    authorize_system(actor)
    with transaction.atomic():
        current = (
            PresenceSpan.objects.select_for_update()
            .filter(agent_id=agent_id, end__isnull=True)
            .order_by("-start")
            .first()
        )
        if current is not None:
            if current.status == status or at < current.start:
                return
            current.end = at
            current.save(update_fields=["end", "updated_at"])
        PresenceSpan.objects.create(workspace_id=workspace_id, agent_id=agent_id, status=status, start=at)


@dataclass(frozen=True)
class AgentAdherence:
    agent: AgentProfile
    scheduled_now: str  # working | break | off | leave
    actual: str  # online | away | offline
    in_adherence: bool
    today: Adherence


def _available(
    agent_id: int, start: dt.datetime, end: dt.datetime, status_now: str, at: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    spans = list(
        PresenceSpan.objects.filter(agent_id=agent_id, start__lt=end)
        .exclude(end__lte=start)
        .values_list("status", "start", "end")
    )
    out = [(max(s, start), min(e or at, end)) for status, s, e in spans if status == AgentStatus.ONLINE]
    if not spans and status_now == AgentStatus.ONLINE:
        out.append((start, min(at, end)))
    return out


def adherence_board(*, actor: Actor, workspace: Workspace, at: dt.datetime | None = None) -> list[AgentAdherence]:
    """Every active agent: what the schedule says now, what they are doing, and adherence today so far."""
    authorize(actor, Perm.WORKFORCE_MANAGE, workspace_id=workspace.pk)
    at = at or now()
    tz = zone_of(workspace)
    day_start, day_end = day_bounds(at.astimezone(tz).date(), tz)
    shifts = list(
        Shift.objects.filter(
            workspace_id=workspace.pk,
            roster__status=RosterStatus.PUBLISHED,
            agent__isnull=False,
            start__lt=day_end,
            end__gt=day_start - dt.timedelta(hours=16),
        ).values_list("agent_id", "start", "end", "break_start", "break_end")
    )
    leave = set(
        Leave.objects.filter(workspace_id=workspace.pk, start__lte=at, end__gt=at).values_list("agent_id", flat=True)
    )
    rows = []
    for agent in AgentProfile.objects.filter(workspace=workspace, is_active=True).select_related("user"):
        mine = [(s, e) for a, s, e, _bs, _be in shifts if a == agent.pk]
        breaks = [(bs, be) for a, _s, _e, bs, be in shifts if a == agent.pk and bs is not None and be is not None]
        if agent.pk in leave:
            scheduled_now = "leave"
        elif any(bs <= at < be for bs, be in breaks):
            scheduled_now = "break"
        elif any(s <= at < e for s, e in mine):
            scheduled_now = "working"
        else:
            scheduled_now = "off"
        online = agent.status == AgentStatus.ONLINE
        today = adherence(
            scheduled=mine,
            breaks=breaks,
            available=_available(agent.pk, day_start, day_end, agent.status, at),
            window=(day_start, min(at, day_end)),
        )
        rows.append(
            AgentAdherence(
                agent=agent,
                scheduled_now=scheduled_now,
                actual=agent.status,
                in_adherence=online == (scheduled_now == "working"),
                today=today,
            )
        )
    return rows


def adherence_day(*, actor: Actor, agent: AgentProfile, day: dt.date) -> Adherence:
    """One agent's adherence over a whole local day (their own, or anyone's for a supervisor)."""
    own = actor.is_agent(agent.pk)
    authorize(actor, Perm.SELF_MANAGE if own else Perm.WORKFORCE_MANAGE, workspace_id=agent.workspace_id)
    tz = zone_of(agent.workspace)
    start, end = day_bounds(day, tz)
    at = min(now(), end)
    rows = list(
        Shift.objects.filter(
            agent=agent, roster__status=RosterStatus.PUBLISHED, start__lt=end, end__gt=start
        ).values_list("start", "end", "break_start", "break_end")
    )
    return adherence(
        scheduled=[(s, e) for s, e, _bs, _be in rows],
        breaks=[(bs, be) for _s, _e, bs, be in rows if bs is not None and be is not None],
        available=_available(agent.pk, start, end, agent.status, at),
        window=(start, at),
    )
