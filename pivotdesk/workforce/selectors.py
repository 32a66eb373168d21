"""Reads of the workforce app. `availability` is the one answer to "who is scheduled now, for which skill, and who
is on leave" — routing's pool and night duty ask it; nothing else decides availability."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from pivotdesk.common.errors import NotFound
from pivotdesk.workforce.errors import WorkforceErrorCode
from pivotdesk.workforce.models import (
    Contract,
    ForecastEvent,
    Leave,
    Roster,
    RosterStatus,
    Shift,
    ShiftRequest,
    ShiftTemplate,
    WorkQueue,
)


@dataclass(frozen=True)
class Availability:
    """Who works at one instant.

    `rostered` is False when no published shift covers the instant: the workspace does not plan shifts then (or has
    no roster at all), and everyone online counts as on shift, as before workforce existed. `on_shift` maps each
    scheduled agent to the skill their shift covers (None: any). `next_change` is the next instant at which a shift
    or a leave starts or ends (the pool rebuilds then)."""

    at: dt.datetime
    rostered: bool
    on_shift: dict[int, str | None] = field(default_factory=dict)
    on_break: frozenset[int] = frozenset()
    on_leave: frozenset[int] = frozenset()
    next_change: dt.datetime | None = None

    def is_on_shift(self, agent_id: int) -> bool:
        return (not self.rostered or agent_id in self.on_shift) and agent_id not in self.on_leave


LOOKAHEAD = dt.timedelta(hours=36)


def published_shifts(workspace_id: int) -> Q:
    return Q(workspace_id=workspace_id, roster__status=RosterStatus.PUBLISHED, agent__isnull=False)


def availability(workspace_id: int, at: dt.datetime) -> Availability:
    """Who is scheduled at `at` (published rosters only), on break, on leave; and when that changes next.
    Two queries: shifts around `at`, leaves around `at`."""
    horizon = at + LOOKAHEAD
    shifts = list(
        Shift.objects.filter(published_shifts(workspace_id), start__lt=horizon, end__gt=at).values_list(
            "agent_id", "start", "end", "break_start", "break_end", "skill__name"
        )
    )
    leaves = list(
        Leave.objects.filter(workspace_id=workspace_id, start__lt=horizon, end__gt=at).values_list(
            "agent_id", "start", "end"
        )
    )
    on_shift: dict[int, str | None] = {}
    on_break: set[int] = set()
    boundaries: list[dt.datetime] = []
    for agent_id, start, end, break_start, break_end, skill in shifts:
        boundaries.extend(b for b in (start, end, break_start, break_end) if b is not None and b > at)
        if start <= at < end:
            on_shift[agent_id] = skill
            if break_start is not None and break_end is not None and break_start <= at < break_end:
                on_break.add(agent_id)
    on_leave = set()
    for agent_id, start, end in leaves:
        boundaries.extend(b for b in (start, end) if b > at)
        if start <= at < end:
            on_leave.add(agent_id)
    return Availability(
        at=at,
        rostered=bool(on_shift),
        on_shift=on_shift,
        on_break=frozenset(on_break),
        on_leave=frozenset(on_leave),
        next_change=min(boundaries) if boundaries else None,
    )


def agent_shifts(agent_id: int, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """An agent's published shifts overlapping [start, end), in order."""
    return list(
        Shift.objects.filter(
            agent_id=agent_id, roster__status=RosterStatus.PUBLISHED, start__lt=end, end__gt=start
        ).select_related("template", "skill", "roster")
    )


def on_leave_ids(workspace_id: int, at: dt.datetime) -> set[int]:
    return set(
        Leave.objects.filter(workspace_id=workspace_id, start__lte=at, end__gt=at).values_list("agent_id", flat=True)
    )


def _get[M: models.Model](model: type[M], workspace_id: int, pk: int, what: str) -> M:
    """One row of the workspace by id (another workspace's id is simply not found)."""
    row = model._default_manager.filter(workspace_id=workspace_id, pk=pk).first() if isinstance(pk, int) else None
    if row is None:
        raise NotFound(gettext("No such %(what)s.") % {"what": what}, code=WorkforceErrorCode.NOT_FOUND)
    return row


def queue_get(workspace_id: int, pk: int) -> WorkQueue:
    return _get(WorkQueue, workspace_id, pk, gettext("queue"))


def roster_get(workspace_id: int, pk: int) -> Roster:
    return _get(Roster, workspace_id, pk, gettext("roster"))


def shift_get(workspace_id: int, pk: int) -> Shift:
    return _get(Shift, workspace_id, pk, gettext("shift"))


def request_get(workspace_id: int, pk: int) -> ShiftRequest:
    return _get(ShiftRequest, workspace_id, pk, gettext("request"))


def event_get(workspace_id: int, pk: int) -> ForecastEvent:
    return _get(ForecastEvent, workspace_id, pk, gettext("event"))


def contract_get(workspace_id: int, pk: int) -> Contract:
    return _get(Contract, workspace_id, pk, gettext("contract"))


def template_get(workspace_id: int, pk: int) -> ShiftTemplate:
    return _get(ShiftTemplate, workspace_id, pk, gettext("shift template"))


def requests_visible(workspace_id: int, agent_id: int, *, manager: bool) -> QuerySet[ShiftRequest]:
    """A supervisor sees every request; an agent their own and those naming them as the colleague of a swap."""
    rows = ShiftRequest.objects.filter(workspace_id=workspace_id).select_related(
        "requester__user", "peer__user", "shift", "peer_shift", "decided_by__user"
    )
    return rows if manager else rows.filter(Q(requester_id=agent_id) | Q(peer_id=agent_id))
