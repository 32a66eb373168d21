"""Paging: an urgent ticket pages the first level of the matching escalation policy; nobody acknowledging within
the level's timeout pages the next level, the whole ladder repeats `repeat` times, then the fallback team hears
nobody answered. Acknowledging (a single-use link that works without signing in, or the ticket page) stops the
escalation and assigns the ticket to the acknowledger.

Exactly once: each escalation step is a compare-and-set UPDATE on (status, level, cycle, next_escalation_at), so of
two scanners only the one whose UPDATE changed the row pages the next level; the same for acknowledgements and for
each link (its `used_at`). Every page, level, acknowledgement and resolution is on the ticket's timeline.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.crypto import secret_digest
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.time import now
from pivotdesk.notifications.services import absolute_url, notify
from pivotdesk.oncall.errors import OncallErrorCode
from pivotdesk.oncall.events import PageAcknowledged, PageEscalated, PageResolved, PageTriggered
from pivotdesk.oncall.models import (
    EscalationPolicy,
    EscalationStep,
    Page,
    PageNotice,
    PageStatus,
    Partner,
    TargetKind,
)
from pivotdesk.tickets.models import Status, Ticket
from pivotdesk.tickets.services import timeline

log = logging.getLogger(__name__)
SYSTEM = Actor.system("on-call")
LINK_HOURS = 12


_hash = secret_digest


# --- which tickets page ------------------------------------------------------------------------------------------


def _outside_hours(ticket: Ticket, at: dt.datetime) -> bool:
    """Outside the business hours of the ticket's calendar (the workspace's default business calendar)."""
    from pivotdesk.common.calendars.calendar import is_open
    from pivotdesk.sla.calendars import domain_calendar
    from pivotdesk.sla.models import BusinessCalendar

    row = BusinessCalendar.objects.filter(workspace_id=ticket.workspace_id, is_default=True).first()
    return row is not None and not is_open(domain_calendar(row), at)


def _text(ticket: Ticket) -> str:
    first = ticket.messages.order_by("created_at", "pk").values_list("body_text", flat=True).first() or ""
    return f"{ticket.subject}\n{first}".lower()


def matches(conditions: dict[str, Any], ticket: Ticket, at: dt.datetime) -> bool:
    """Every condition that is set holds (lists are "any of")."""
    c = conditions
    failed = (
        (c.get("priorities") and ticket.priority not in c["priorities"])
        or (c.get("categories") and ticket.category_id not in {int(x) for x in c["categories"]})
        or (c.get("channels") and ticket.channel not in c["channels"])
        or (c.get("sla_states") and ticket.sla_state not in c["sla_states"])
        or (c.get("tiers") and _tier(ticket) not in c["tiers"])
    )
    if failed:
        return False
    keywords = [str(k).lower() for k in c.get("keywords") or [] if str(k).strip()]
    if keywords and not any(k in _text(ticket) for k in keywords):
        return False
    return not (c.get("outside_hours") and not _outside_hours(ticket, at))


def _tier(ticket: Ticket) -> str:
    requester = ticket.requester
    organization = getattr(requester, "organization", None) if requester is not None else None
    return str(getattr(organization, "tier", "") or getattr(requester, "tier", "") or "standard")


def policy_for(ticket: Ticket, at: dt.datetime) -> EscalationPolicy | None:
    for policy in EscalationPolicy.objects.filter(workspace_id=ticket.workspace_id, active=True).order_by(
        "position", "pk"
    ):
        if policy.steps.exists() and matches(policy.conditions or {}, ticket, at):
            return policy
    return None


# --- paging a level ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    agents: list[int]
    partners: list[int]
    links: dict[str, str]  # recipient key → raw acknowledge token (tests, the partner link)


def _steps(page: Page) -> list[EscalationStep]:
    if page.policy is None:
        return []
    return list(page.policy.steps.order_by("position", "pk"))


def _level_steps(page: Page) -> list[EscalationStep]:
    """The steps of the page's current level: steps sharing a position page together."""
    steps = _steps(page)
    positions = sorted({s.position for s in steps})
    if page.level >= len(positions):
        return []
    return [s for s in steps if s.position == positions[page.level]]


def levels(page: Page) -> int:
    return len({s.position for s in _steps(page)})


def _recipients(step: EscalationStep, at: dt.datetime) -> tuple[list[AgentProfile], list[Partner]]:
    if step.target_kind == TargetKind.AGENT and step.agent is not None and step.agent.is_active:
        return [step.agent], []
    if step.target_kind == TargetKind.SCHEDULE and step.schedule is not None:
        from pivotdesk.oncall.services.schedules import on_call_agent

        agent_id = on_call_agent(step.schedule, at)
        agent = AgentProfile.objects.filter(pk=agent_id, is_active=True).first() if agent_id else None
        return ([agent] if agent else []), []
    if step.target_kind == TargetKind.PARTNER and step.partner is not None and step.partner.is_active:
        return [], [step.partner]
    return [], []


def _links(token: str, resolve: str) -> tuple[str, str]:
    return (
        absolute_url(reverse("oncall_ack", args=[token])),
        absolute_url(reverse("oncall_resolve", args=[resolve])),
    )


def _notice(page: Page, *, agent: AgentProfile | None, partner: Partner | None, at: dt.datetime) -> tuple[str, str]:
    token, resolve = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    PageNotice.objects.create(
        workspace_id=page.workspace_id,
        page=page,
        level=page.level,
        cycle=page.cycle,
        agent=agent,
        partner=partner,
        token_hash=_hash(token),
        resolve_hash=_hash(resolve),
        expires_at=at + dt.timedelta(hours=LINK_HOURS),
    )
    return token, resolve


def _page_level(page: Page, at: dt.datetime) -> Sent:
    ticket = page.ticket
    agents: list[int] = []
    partners: list[int] = []
    links: dict[str, str] = {}
    for step in _level_steps(page):
        people, providers = _recipients(step, at)
        for agent in people:
            if agent.pk in agents:
                continue
            token, resolve = _notice(page, agent=agent, partner=None, at=at)
            ack_url, resolve_url = _links(token, resolve)
            notify(
                workspace=ticket.workspace,
                actor=SYSTEM,
                recipient=agent,
                kind="oncall.page",
                title=f"PAGE #{ticket.number} {ticket.subject}"[:255],
                body=f"{ack_url}\n{resolve_url}",
                url=ack_url,
                ticket=ticket,
                urgent=True,
                dedupe_key=f"oncall.page:{page.pk}:{page.cycle}:{page.level}",
                data={
                    "number": ticket.number,
                    "subject": ticket.subject,
                    "level": page.level,
                    "cycle": page.cycle,
                    "resolve_url": resolve_url,
                },
            )
            agents.append(agent.pk)
            links[f"agent:{agent.pk}"] = token
        for partner in providers:
            token, _resolve = _notice(page, agent=None, partner=partner, at=at)
            partners.append(partner.pk)
            links[f"partner:{partner.pk}"] = token
            _page_partner(page, partner, token)
    timeline.record(
        ticket=ticket,
        actor=SYSTEM,
        verb="oncall_paged",
        data={"level": page.level + 1, "cycle": page.cycle, "agents": agents, "partners": partners},
    )
    return Sent(agents=agents, partners=partners, links=links)


def _page_partner(page: Page, partner: Partner, token: str) -> None:
    """A partner provider is paged through its own link to the ticket (`services.partners.page_partner`)."""
    from pivotdesk.oncall.services.partners import page_partner

    page_partner(page=page, partner=partner, ack_token=token)


def page_ticket(*, actor: Actor, ticket: Ticket, at: dt.datetime | None = None) -> Page | None:
    """Page for a ticket when an escalation policy matches and no page is open on it (system: the ticket's events;
    a supervisor may page by hand with Perm.ROUTING_MANAGE)."""
    if actor.kind == "system":
        authorize_system(actor)
    else:
        authorize(actor, Perm.ROUTING_MANAGE, workspace_id=ticket.workspace_id)
    at = at or now()
    if ticket.status in (Status.SOLVED, Status.CLOSED) or ticket.merged_into_id is not None:
        return None
    if Page.objects.filter(ticket=ticket, status=PageStatus.TRIGGERED).exists():
        return None
    policy = policy_for(ticket, at)
    if policy is None:
        return None
    first = policy.steps.order_by("position", "pk").first()
    assert first is not None  # noqa: S101 - policy_for keeps policies with steps
    try:
        with transaction.atomic():
            page = Page.objects.create(
                workspace_id=ticket.workspace_id,
                ticket=ticket,
                policy=policy,
                next_escalation_at=at + dt.timedelta(minutes=first.timeout_minutes),
            )
            _page_level(page, at)
            publish(
                PageTriggered(
                    workspace_id=ticket.workspace_id, page_id=page.pk, ticket_id=ticket.pk, policy_id=policy.pk
                )
            )
    except IntegrityError:  # a concurrent page of the same ticket won (one open page per ticket)
        return None
    return page


# --- escalation --------------------------------------------------------------------------------------------------


def _step_timeout(page: Page) -> int:
    steps = _level_steps(page)
    return max((s.timeout_minutes for s in steps), default=10)


def _exhausted(page: Page, at: dt.datetime) -> None:
    """Nobody acknowledged after every repeat: tell the fallback team (or the workspace's supervisors)."""
    ticket = page.ticket
    for person in _fallback_people(page):
        notify(
            workspace=ticket.workspace,
            actor=SYSTEM,
            recipient=person,
            kind="oncall.page",
            title=f"UNACKNOWLEDGED #{ticket.number}",
            url=absolute_url(reverse("web:ticket", args=[ticket.number])),
            ticket=ticket,
            urgent=True,
            dedupe_key=f"oncall.exhausted:{page.pk}",
            data={"number": ticket.number, "subject": ticket.subject, "level": page.level, "exhausted": True},
        )
    timeline.record(ticket=ticket, actor=SYSTEM, verb="oncall_exhausted", data={"cycles": page.cycle + 1})


def _fallback_people(page: Page) -> list[AgentProfile]:
    """The policy's fallback team, else the workspace's supervisors and admins."""
    team = page.policy.fallback_team if page.policy else None
    if team is not None:
        people = list(team.members.filter(is_active=True).select_related("user", "workspace"))
        if people:
            return people
    return list(
        AgentProfile.objects.filter(
            workspace_id=page.workspace_id, is_active=True, role__in=(Role.SUPERVISOR, Role.ADMIN)
        ).select_related("user", "workspace")[:20]
    )


def escalate_page(page: Page, at: dt.datetime) -> bool:
    """Move one due page to its next level (or repeat, or give up). True when this caller made the move."""
    total = levels(page)
    level, cycle = page.level + 1, page.cycle
    repeat = page.policy.repeat if page.policy else 0
    exhausted = False
    if level >= total:
        level, cycle = 0, cycle + 1
        exhausted = cycle > repeat
    fields: dict[str, Any] = {"level": level, "cycle": cycle, "updated_at": at}
    if exhausted:
        fields |= {"status": PageStatus.EXHAUSTED, "next_escalation_at": None, "level": page.level, "cycle": page.cycle}
    with transaction.atomic():
        won = Page.objects.filter(
            pk=page.pk,
            status=PageStatus.TRIGGERED,
            level=page.level,
            cycle=page.cycle,
            next_escalation_at=page.next_escalation_at,
        ).update(**fields)
        if not won:
            return False
        page.refresh_from_db()
        if exhausted:
            _exhausted(page, at)
            return True
        page.next_escalation_at = at + dt.timedelta(minutes=_step_timeout(page))
        page.save(update_fields=["next_escalation_at", "updated_at"])
        _page_level(page, at)
        publish(
            PageEscalated(
                workspace_id=page.workspace_id,
                page_id=page.pk,
                ticket_id=page.ticket_id,
                level=page.level,
                cycle=page.cycle,
            )
        )
    return True


def escalate_due(*, actor: Actor, at: dt.datetime | None = None, limit: int = 200) -> int:
    """Beat: every page whose acknowledgement timeout has passed climbs one level (exactly once per due time)."""
    authorize_system(actor)
    at = at or now()
    moved = 0
    due = Page.objects.filter(status=PageStatus.TRIGGERED, next_escalation_at__lte=at).select_related(
        "policy", "ticket__workspace"
    )[:limit]
    for page in due:
        try:
            moved += escalate_page(page, at)
        except Exception:  # one page's failure must not stop the others; it is retried at the next run
            log.exception("on-call: escalating page %s failed", page.pk)
    return moved


# --- acknowledge and resolve -------------------------------------------------------------------------------------


def _notice_for(token: str, *, resolve: bool) -> PageNotice:
    field = "resolve_hash" if resolve else "token_hash"
    notice = (
        PageNotice.objects.filter(**{field: _hash(token or "")})
        .select_related("page__ticket__workspace", "agent__user", "partner")
        .first()
    )
    if notice is None:
        raise NotFound(gettext("This link is not valid."), code=OncallErrorCode.LINK_INVALID)
    return notice


def check_link(token: str, *, resolve: bool = False) -> PageNotice:
    """The notice of a link that can still be used (errors say why not, in the reader's language)."""
    notice = _notice_for(token, resolve=resolve)
    if (notice.resolve_used_at if resolve else notice.used_at) is not None:
        raise ValidationFailed(gettext("This link was already used."), code=OncallErrorCode.LINK_USED)
    if notice.expires_at <= now():
        raise ValidationFailed(gettext("This link has expired."), code=OncallErrorCode.LINK_EXPIRED)
    return notice


def _acknowledge(page: Page, *, agent: AgentProfile | None, partner: Partner | None, at: dt.datetime) -> bool:
    won = Page.objects.filter(pk=page.pk, status=PageStatus.TRIGGERED).update(
        status=PageStatus.ACKNOWLEDGED,
        acknowledged_by=agent,
        acknowledged_partner=partner,
        acknowledged_at=at,
        next_escalation_at=None,
        updated_at=at,
    )
    if not won:
        return False
    ticket = page.ticket
    timeline.record(
        ticket=ticket,
        actor=Actor.for_agent(agent) if agent else SYSTEM,
        verb="oncall_acknowledged",
        data={"agent": agent.pk if agent else None, "partner": partner.name if partner else None},
    )
    if agent is not None and ticket.assignee_id != agent.pk:
        from pivotdesk.tickets.services import ticket_assign

        ticket_assign(ticket=ticket, assignee=agent, actor=SYSTEM)
    publish(
        PageAcknowledged(
            workspace_id=page.workspace_id,
            page_id=page.pk,
            ticket_id=page.ticket_id,
            agent_id=agent.pk if agent else None,
            partner_id=partner.pk if partner else None,
        )
    )
    return True


def acknowledge_by_partner(*, ticket: Ticket, partner: Partner, at: dt.datetime | None = None) -> bool:
    """The partner acknowledged through its ticket link (authorised by that link): the ticket's open page stops."""
    page = Page.objects.filter(ticket=ticket, status=PageStatus.TRIGGERED).first()
    if page is None:
        return False
    with transaction.atomic():
        return _acknowledge(page, agent=None, partner=partner, at=at or now())


def acknowledge_link(*, token: str, at: dt.datetime | None = None) -> Page:
    """The one-click acknowledge link (single use, expires): stops the escalation, assigns the ticket to whoever
    was paged. A page someone else acknowledged first stays theirs."""
    at = at or now()
    with transaction.atomic():
        notice = check_link(token)
        if not PageNotice.objects.filter(pk=notice.pk, used_at__isnull=True).update(used_at=at):
            raise ValidationFailed(gettext("This link was already used."), code=OncallErrorCode.LINK_USED)
        page = notice.page
        _acknowledge(page, agent=notice.agent, partner=notice.partner, at=at)
        page.refresh_from_db()
    return page


def resolve_link(*, token: str, at: dt.datetime | None = None) -> Page:
    """The resolve link: the incident is over (the ticket keeps its own status)."""
    at = at or now()
    with transaction.atomic():
        notice = check_link(token, resolve=True)
        if not PageNotice.objects.filter(pk=notice.pk, resolve_used_at__isnull=True).update(resolve_used_at=at):
            raise ValidationFailed(gettext("This link was already used."), code=OncallErrorCode.LINK_USED)
        page = notice.page
        _resolve(page, actor=Actor.for_agent(notice.agent) if notice.agent else SYSTEM, at=at)
        page.refresh_from_db()
    return page


def _resolve(page: Page, *, actor: Actor, at: dt.datetime) -> bool:
    won = Page.objects.filter(pk=page.pk, status__in=(PageStatus.TRIGGERED, PageStatus.ACKNOWLEDGED)).update(
        status=PageStatus.RESOLVED, resolved_at=at, next_escalation_at=None, updated_at=at
    )
    if won:
        timeline.record(ticket=page.ticket, actor=actor, verb="oncall_resolved", data={})
        publish(PageResolved(workspace_id=page.workspace_id, page_id=page.pk, ticket_id=page.ticket_id))
    return bool(won)


def page_acknowledge(*, actor: Actor, page: Page) -> Page:
    """Acknowledge from the ticket page (signed in): any agent who may update tickets takes it."""
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=page.workspace_id)
    if page.status != PageStatus.TRIGGERED:
        raise ValidationFailed(gettext("This page is no longer waiting."), code=OncallErrorCode.WRONG_STATE)
    with transaction.atomic():
        _acknowledge(page, agent=actor.agent, partner=None, at=now())
    page.refresh_from_db()
    return page


def page_resolve(*, actor: Actor, page: Page) -> Page:
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=page.workspace_id)
    with transaction.atomic():
        if not _resolve(page, actor=actor, at=now()):
            raise ValidationFailed(gettext("This page is already over."), code=OncallErrorCode.WRONG_STATE)
    page.refresh_from_db()
    return page


def ack_link_hours() -> int:
    return int(getattr(settings, "PIVOTDESK_PAGE_LINK_HOURS", LINK_HOURS))
