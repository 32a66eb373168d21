"""Time spent on tickets (issue 18): entries logged by hand, reports of the ticket page merged into one automatic
entry per agent, ticket and local day, and deleting an entry."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket
from pivotdesk.workforce.domain.active_time import PageSession, cap_entry, credit_report
from pivotdesk.workforce.domain.durations import MAX_SECONDS, DurationError, parse_duration
from pivotdesk.workforce.time_models import TimeEntry, TimeSource

MAX_NOTE = 500
MAX_PAGES_KEPT = 50  # page sessions remembered per automatic entry (a day of reloads is far fewer)


def _who(actor: Actor, agent: AgentProfile | None, ticket: Ticket) -> AgentProfile:
    """The agent the time is for: the acting agent, or (for the system, or a supervisor logging for someone else)
    the agent given. Logging for another agent needs workforce.manage."""
    target = agent or actor.agent
    if target is None:
        raise ValidationFailed(gettext("Say which agent spent this time."))
    if target.workspace_id != ticket.workspace_id:
        raise ValidationFailed(gettext("The agent belongs to another workspace."))
    if actor.agent is not None and not actor.is_agent(target.pk):
        authorize(actor, Perm.WORKFORCE_MANAGE, workspace_id=ticket.workspace_id)
    return target


def _seconds(duration: str | int) -> int:
    if isinstance(duration, int):
        if not 0 < duration <= MAX_SECONDS:
            raise ValidationFailed(gettext("A duration must be more than zero and at most a day."))
        return duration
    try:
        return parse_duration(duration)
    except DurationError as exc:
        raise ValidationFailed(gettext(exc.template) % exc.params, details={"duration": "invalid"}) from exc


def time_entry_add(
    *,
    ticket: Ticket,
    actor: Actor,
    duration: str | int,
    note: str = "",
    started_at: dt.datetime | None = None,
    agent: AgentProfile | None = None,
) -> TimeEntry:
    """Log time by hand ("15m", "1h 30m", "1:30", or seconds) on a ticket, for oneself (or, with workforce.manage,
    for another agent). The ticket's current category is kept with the entry."""
    authorize(actor, Perm.TICKET_NOTE, workspace_id=ticket.workspace_id)
    target = _who(actor, agent, ticket)
    seconds = _seconds(duration)
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise ValidationFailed(gettext("A note has at most %(n)d characters.") % {"n": MAX_NOTE})
    at = now()
    if started_at is not None and started_at > at:
        raise ValidationFailed(gettext("Time cannot be logged in the future."))
    return TimeEntry.objects.create(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        agent=target,
        started_at=started_at or at - dt.timedelta(seconds=seconds),
        seconds=seconds,
        source=TimeSource.MANUAL,
        note=note,
        category_id=ticket.category_id,
    )


def time_entry_track(
    *, ticket: Ticket, actor: Actor, page: str, active_seconds: int, agent: AgentProfile | None = None
) -> TimeEntry | None:
    """Merge a ticket page's report — `active_seconds` the agent was active on it since the page (`page`, a random
    id per page view) opened — into the agent's automatic entry of the day. Idempotent per page and total, capped at
    the wall clock; returns the entry (None when there was nothing to add and no entry yet)."""
    authorize(actor, Perm.TICKET_NOTE, workspace_id=ticket.workspace_id)
    target = _who(actor, agent, ticket)
    page = page.strip()[:64]
    if not page:
        raise ValidationFailed(gettext("The report names no page."))
    if active_seconds < 0 or active_seconds > MAX_SECONDS:
        raise ValidationFailed(gettext("A duration must be more than zero and at most a day."))
    at = now()
    day = at.astimezone(ZoneInfo(ticket.workspace.time_zone)).date()
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _merge(ticket=ticket, agent=target, page=page, active_seconds=active_seconds, at=at, day=day)
        except IntegrityError:  # two reports created the day's entry at once: the second one merges into it
            if attempt:
                raise
    return None  # pragma: no cover - the loop returns or raises


def _merge(
    *, ticket: Ticket, agent: AgentProfile, page: str, active_seconds: int, at: dt.datetime, day: dt.date
) -> TimeEntry | None:
    entry = (
        TimeEntry.objects.select_for_update()
        .filter(ticket=ticket, agent=agent, day=day, source=TimeSource.AUTOMATIC)
        .first()
    )
    pages = dict(entry.pages) if entry else {}
    known = pages.get(page)
    session = (
        PageSession(opened_at=dt.datetime.fromisoformat(known["opened_at"]), credited=int(known["credited"]))
        if known
        else None
    )
    session, added = credit_report(session, reported_total=active_seconds, at=at)
    if entry is None and added == 0:
        return None
    pages[page] = {"opened_at": session.opened_at.isoformat(), "credited": session.credited}
    if len(pages) > MAX_PAGES_KEPT:  # forget the oldest pages (they stopped reporting long ago)
        pages = dict(sorted(pages.items(), key=lambda item: item[1]["opened_at"])[-MAX_PAGES_KEPT:])
    if entry is None:
        return TimeEntry.objects.create(
            workspace_id=ticket.workspace_id,
            ticket=ticket,
            agent=agent,
            started_at=session.opened_at,
            seconds=cap_entry(added, started_at=session.opened_at, at=at),
            source=TimeSource.AUTOMATIC,
            category_id=ticket.category_id,
            day=day,
            pages=pages,
        )
    started = min(entry.started_at, session.opened_at)
    entry.seconds = cap_entry(entry.seconds + added, started_at=started, at=at)
    entry.started_at = started
    entry.pages = pages
    entry.save(update_fields=["seconds", "started_at", "pages", "updated_at"])
    return entry


def time_entry_delete(*, entry: TimeEntry, actor: Actor) -> None:
    """Delete a time entry: one's own (anyone who may work on tickets), or anyone's with workforce.manage."""
    own = actor.is_agent(entry.agent_id)
    authorize(actor, Perm.TICKET_NOTE if own else Perm.WORKFORCE_MANAGE, workspace_id=entry.workspace_id)
    entry.delete()
