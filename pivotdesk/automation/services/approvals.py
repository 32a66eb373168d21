"""Multi-stage approvals on tickets: flow definitions, runs, decisions (UI, API or a one-click link), delegation.

The rules live in `domain.approvals` (a pure state machine); this module resolves people, stores the state and its
query copies, writes the timeline, tells the approvers and answers the customer. Choices, and why:

- The snapshot resolves every stage's approvers when the approval STARTS (people, team members, a role, the
  manager): editing the flow, a team or a role later never changes a running approval, and what was asked of whom
  stays auditable. Delegations (a `Delegation` row covering the moment, else for an approver on approved workforce
  leave the lead of their first team) are looked up again whenever a stage (re)starts, because leave changes.
- Each approver gets a single-use link per stage and round (`ApprovalLink`, hashed token, 7 days); a link is only
  good while its stage and round are the current ones and its agent is still expected to act.
- A reject or a request for changes answers the requester publicly in the customer's language (the ticket's, else
  the contact's, else Chinese) with the stage, the reason and the missing items, and sets the ticket pending.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, NoReturn

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.accounts.permissions import AGENT_KINDS, Perm, authorize, authorize_system
from pivotdesk.common.crypto import secret_digest
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.time import now
from pivotdesk.tickets.domain.status import can_transition
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.selectors import customer_language
from pivotdesk.tickets.services import timeline

from ..domain import approvals as domain
from ..errors import AutomationErrorCode
from ..events import ApprovalDecided
from ..models import Approval, ApprovalFlow, ApprovalLink, ApprovalStatus, Delegation
from .approval_flows import flow_save, resolve_approvers

SYSTEM = Actor.system("approvals")
LINK_DAYS = 7
OPEN_STATUSES = (ApprovalStatus.PENDING, ApprovalStatus.CHANGES_REQUESTED)
_DENIED = frozenset({"not_an_approver", "on_leave"})
_CONFLICTS = frozenset({"not_pending", "already_decided", "not_sent_back", "finished"})


_hash = secret_digest


def _raise_domain(err: domain.ApprovalError) -> NoReturn:
    """Raise the desk's error for a broken approval rule, translated into the reader's language."""
    if err.code in _DENIED:
        raise PermissionDenied(
            gettext(err.template) % err.params, code=AutomationErrorCode.NOT_AN_APPROVER, details={"rule": err.code}
        ) from err
    if err.code in _CONFLICTS:
        raise Conflict(
            gettext(err.template) % err.params, code=AutomationErrorCode.WRONG_STATE, details={"rule": err.code}
        ) from err
    raise ValidationFailed(
        gettext(err.template) % err.params, code=AutomationErrorCode.INVALID_VALUE, details={"rule": err.code}
    ) from err


def _authorize_ticket_work(actor: Actor, workspace_id: int) -> None:
    """Agents who may update tickets, rules, and the system; never a contact (its reply resubmits via the system)."""
    if actor.kind == "contact":
        raise PermissionDenied(
            gettext("Only an agent, a rule or the system may do this."), code=AutomationErrorCode.NOT_AN_APPROVER
        )
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=workspace_id)


# --- delegation --------------------------------------------------------------------------------------------------


def _first_team_lead(agent_id: int) -> int | None:
    team = Team.objects.filter(members__pk=agent_id).order_by("name", "pk").select_related("lead").first()
    lead = team.lead if team is not None else None
    return lead.pk if lead is not None and lead.is_active and lead.pk != agent_id else None


def _reaches(mapping: Mapping[int, int], start: int, target: int) -> bool:
    agent, seen = start, set()
    while agent in mapping and agent not in seen:
        seen.add(agent)
        agent = mapping[agent]
    return agent == target


def delegations_at(workspace_id: int, approvers: Iterable[int], at: dt.datetime) -> dict[int, int]:
    """Approver → who acts for them at `at`: their `Delegation` covering the moment, else (on approved leave) the
    lead of their first team. Delegates' own delegations are followed; an entry that would close a cycle is left
    out (the approver keeps their slot)."""
    from pivotdesk.workforce.selectors import on_leave_ids

    on_leave = on_leave_ids(workspace_id, at)
    mapping: dict[int, int] = {}
    todo, looked = set(approvers), set()
    while todo:
        looked |= todo
        rows = Delegation.objects.filter(
            workspace_id=workspace_id, agent_id__in=todo, start__lte=at, end__gt=at, delegate__is_active=True
        ).order_by("-start", "-pk")
        found: dict[int, int] = {}
        for agent_id, delegate_id in rows.values_list("agent_id", "delegate_id"):
            found.setdefault(agent_id, delegate_id)
        for agent_id in sorted(todo & on_leave - set(found)):
            lead = _first_team_lead(agent_id)
            if lead is not None:
                found[agent_id] = lead
        for agent_id, delegate_id in sorted(found.items()):
            if delegate_id != agent_id and not _reaches(mapping, delegate_id, agent_id):
                mapping[agent_id] = delegate_id
        todo = set(found.values()) - looked
    return mapping


def _with_current_delegations(state: domain.ApprovalState, workspace_id: int, at: dt.datetime) -> domain.ApprovalState:
    return replace(state, delegations=delegations_at(workspace_id, state.stage.approvers, at))


# --- storing and telling -----------------------------------------------------------------------------------------


def _store(approval: Approval, state: domain.ApprovalState, at: dt.datetime) -> None:
    """Save the state and its query copies (status, stage, when it started, when it is due, who must act)."""
    shown = domain.progress(state, at)
    approval.state = domain.state_to_data(state)
    approval.status = state.status
    approval.stage_key = state.stage.key
    approval.stage_started_at = state.history[-1].started_at
    approval.stage_due_at = shown.due_at
    approval.waiting_on = sorted(shown.expected)
    approval.save(
        update_fields=["state", "status", "stage_key", "stage_started_at", "stage_due_at", "waiting_on", "updated_at"]
    )


def link_url(token: str) -> str:
    from pivotdesk.notifications.services import absolute_url

    return absolute_url(reverse("automation_approval_link", args=[token]))


def _notify_stage(approval: Approval, state: domain.ApprovalState, at: dt.datetime) -> dict[int, str]:
    """Send each expected approver a fresh single-use link for this stage and round; agent id → raw token."""
    from pivotdesk.notifications.services import notify

    ticket = approval.ticket
    stage, tokens = state.stage, {}
    flow_name = str(approval.snapshot.get("name") or "")
    for agent in AgentProfile.objects.filter(pk__in=domain.expected_approvers(state), is_active=True):
        token = secrets.token_urlsafe(24)
        ApprovalLink.objects.create(
            workspace_id=approval.workspace_id,
            approval=approval,
            agent=agent,
            stage_key=stage.key,
            round=state.round,
            token_hash=_hash(token),
            expires_at=at + dt.timedelta(days=LINK_DAYS),
        )
        url = link_url(token)
        notify(
            workspace=ticket.workspace,
            actor=SYSTEM,
            recipient=agent,
            kind="automation.approval",
            title=f"#{ticket.number} {ticket.subject}"[:255],
            body=url,
            url=url,
            ticket=ticket,
            dedupe_key=f"automation.approval:{approval.pk}:{stage.key}:{state.round}",
            data={"number": ticket.number, "subject": ticket.subject, "flow": flow_name, "stage": stage.name},
        )
        tokens[agent.pk] = token
    return tokens


def _set_status(ticket: Ticket, status: str) -> None:
    from pivotdesk.tickets.services import ticket_update

    ticket.refresh_from_db(fields=["status"])
    if ticket.status != status and can_transition(ticket.status, status):
        ticket_update(ticket=ticket, actor=SYSTEM, changes={"status": status})


def sent_back_text(stage: domain.StageDef, record: domain.StageRecord) -> str:
    """The reply to the requester (in the active language): stage, reason, the missing items as a list."""
    if record.outcome == domain.REJECTED:
        lines = [gettext("Your request was not approved at the stage “%(stage)s”.") % {"stage": stage.name}]
    else:
        lines = [gettext("Your request needs changes at the stage “%(stage)s”.") % {"stage": stage.name}]
    lines.append(gettext("Reason: %(reason)s") % {"reason": record.reason})
    if record.missing_items:
        lines += ["", gettext("Please provide:"), *(f"- {item}" for item in record.missing_items)]
    lines += ["", gettext("Reply to this message with what is missing and the review continues at this stage.")]
    return "\n".join(lines)


def _send_back(approval: Approval, state: domain.ApprovalState) -> None:
    from pivotdesk.tickets.services import message_create

    ticket = approval.ticket
    with translation.override(customer_language(ticket)):
        body = sent_back_text(state.stage, state.history[-1])
    message_create(ticket=ticket, actor=SYSTEM, body=body, kind="public")
    _set_status(ticket, "pending")


def _approved(approval: Approval) -> None:
    from pivotdesk.tickets.services import message_create

    ticket = approval.ticket
    with translation.override(ticket.workspace.default_language or "zh-hans"):
        body = gettext("Approval “%(flow)s” approved: every stage agreed.") % {"flow": approval.snapshot.get("name")}
    message_create(ticket=ticket, actor=SYSTEM, body=body, kind="note")
    _set_status(ticket, "open")


# --- starting ----------------------------------------------------------------------------------------------------


def _snapshot(flow: ApprovalFlow, ticket: Ticket) -> domain.FlowDef:
    """The flow with every stage's approvers resolved now (see the module docstring)."""
    stages = tuple(
        domain.StageDef(
            key=str(spec["key"]),
            name=str(spec["name"]),
            approvers=resolve_approvers(spec.get("approvers") or {}, ticket),
            rule=str(spec.get("rule") or domain.ANY),
            n=int(spec.get("n") or 1),
            sla_minutes=spec.get("sla_minutes"),
            required_items=tuple(spec.get("required_items") or ()),
        )
        for spec in flow.stages
    )
    return domain.FlowDef(key=str(flow.pk), name=flow.name, version=flow.version, stages=stages)


def approval_start(*, actor: Actor, ticket: Ticket, flow: ApprovalFlow) -> Approval:
    """Start `flow` on the ticket (one open approval per ticket) and notify the first stage's approvers."""
    _authorize_ticket_work(actor, ticket.workspace_id)
    if flow.workspace_id != ticket.workspace_id:
        raise NotFound(gettext("No such approval flow."), code=AutomationErrorCode.NOT_FOUND)
    if not flow.active:
        raise ValidationFailed(gettext("This approval flow is switched off."), code=AutomationErrorCode.WRONG_STATE)
    at = now()
    flow_def = _snapshot(flow, ticket)
    try:
        state = domain.start(flow_def, at)
    except domain.ApprovalError as err:
        _raise_domain(err)
    state = _with_current_delegations(state, ticket.workspace_id, at)
    with transaction.atomic():
        if Approval.objects.filter(ticket=ticket, status__in=OPEN_STATUSES).exists():
            raise Conflict(gettext("This ticket already has an open approval."), code=AutomationErrorCode.WRONG_STATE)
        try:
            with transaction.atomic():
                approval = Approval.objects.create(
                    workspace_id=ticket.workspace_id, ticket=ticket, flow=flow, flow_version=flow.version,
                    snapshot=domain.flow_to_data(flow_def), state={},
                )  # fmt: skip
        except IntegrityError as exc:  # a concurrent start won (the partial unique constraint)
            raise Conflict(
                gettext("This ticket already has an open approval."), code=AutomationErrorCode.WRONG_STATE
            ) from exc
        _store(approval, state, at)
        timeline.record(
            ticket=ticket,
            actor=actor,
            verb="approval_started",
            data={"approval": approval.pk, "flow": flow.name, "version": flow.version, "stage": state.stage.name},
        )
        _notify_stage(approval, state, at)
    return approval


def approval_start_for_rule(*, ticket: Ticket, flow_id: int, actor: Actor) -> str:
    """The rule action "start_approval": the active flow `flow_id` of the ticket's workspace; returns its name."""
    flow = ApprovalFlow.objects.filter(workspace_id=ticket.workspace_id, pk=flow_id, active=True).first()
    if flow is None:
        raise NotFound(gettext("The approval flow no longer exists."), code=AutomationErrorCode.NOT_FOUND)
    approval_start(actor=actor, ticket=ticket, flow=flow)
    return flow.name


# --- deciding ----------------------------------------------------------------------------------------------------


def _decision_data(before: domain.ApprovalState, after: domain.ApprovalState, approval: Approval) -> dict[str, Any]:
    record = next(r for r in reversed(after.history) if r.stage_key == before.stage.key and r.round == before.round)
    decision = (after.decisions or record.decisions)[-1]
    names = dict(
        AgentProfile.objects.filter(pk__in={decision.approver, decision.acting_for or 0}).values_list(
            "pk", "user__display_name"
        )
    )
    return {
        "approval": approval.pk,
        "verdict": decision.verdict,
        "stage": before.stage.name,
        "stage_key": before.stage.key,
        "round": before.round,
        "agent": decision.approver,
        "agent_name": names.get(decision.approver, ""),
        "for": decision.acting_for,
        "for_name": names.get(decision.acting_for or 0, ""),
        "comment": decision.comment,
        "reason": decision.reason,
        "missing_items": list(decision.missing_items),
        "status": after.status,
        "duration_seconds": int(record.duration.total_seconds()) if record.duration is not None else None,
    }


def _decide(approval: Approval, *, agent: AgentProfile, actor: Actor, **decision: Any) -> Approval:
    """Lock the approval, let the domain decide, store, record, publish and carry out what follows."""
    at = now()
    approval = Approval.objects.select_for_update().select_related("ticket__workspace").get(pk=approval.pk)
    before = domain.state_from_data(approval.state)
    try:
        after = domain.decide(before, actor=agent.pk, at=at, **decision)
    except domain.ApprovalError as err:
        _raise_domain(err)
    opened = after.status == domain.PENDING and after.stage_index != before.stage_index
    if opened:
        after = _with_current_delegations(after, approval.workspace_id, at)
    _store(approval, after, at)
    data = _decision_data(before, after, approval)
    timeline.record(ticket=approval.ticket, actor=actor, verb="approval_decided", data=data)
    publish(
        ApprovalDecided(
            workspace_id=approval.workspace_id,
            approval_id=approval.pk,
            ticket_id=approval.ticket_id,
            stage_key=before.stage.key,
            verdict=data["verdict"],
            status=after.status,
        )
    )
    if after.status in domain.SENT_BACK:
        _send_back(approval, after)
    elif after.status == domain.APPROVED:
        _approved(approval)
    elif opened:
        _notify_stage(approval, after, at)
    return approval


def approval_decide(
    *,
    actor: Actor,
    approval: Approval,
    verdict: str,
    comment: str = "",
    reason: str = "",
    missing_items: Iterable[str] = (),
) -> Approval:
    """The acting agent approves, rejects or requests changes at the current stage (who may: the domain decides)."""
    authorize(actor, Perm.TICKET_VIEW, workspace_id=approval.workspace_id)
    if actor.kind not in AGENT_KINDS or actor.agent is None:
        raise PermissionDenied(
            gettext("Only an approver of this stage may decide."), code=AutomationErrorCode.NOT_AN_APPROVER
        )
    with transaction.atomic():
        return _decide(
            approval, agent=actor.agent, actor=actor, verdict=verdict, comment=comment, reason=reason,
            missing_items=tuple(missing_items),
        )  # fmt: skip


def approval_resubmit(*, actor: Actor, approval: Approval, provided_items: Iterable[str] = ()) -> Approval:
    """The requester answered: a new round at the stage that sent the ticket back; its approvers are told again."""
    _authorize_ticket_work(actor, approval.workspace_id)
    at = now()
    with transaction.atomic():
        approval = Approval.objects.select_for_update().select_related("ticket__workspace").get(pk=approval.pk)
        try:
            state = domain.resubmit(domain.state_from_data(approval.state), at=at, provided_items=provided_items)
        except domain.ApprovalError as err:
            _raise_domain(err)
        state = _with_current_delegations(state, approval.workspace_id, at)
        _store(approval, state, at)
        timeline.record(
            ticket=approval.ticket,
            actor=actor,
            verb="approval_resubmitted",
            data={
                "approval": approval.pk,
                "stage": state.stage.name,
                "stage_key": state.stage.key,
                "round": state.round,
                "provided_items": list(state.history[-1].provided_items),
            },
        )
        _notify_stage(approval, state, at)
        _set_status(approval.ticket, "open")
    return approval


def resubmit_on_customer_reply(*, actor: Actor, ticket: Ticket) -> Approval | None:
    """The requester replied to a ticket whose approval was sent back: resubmit it (None when there is none)."""
    authorize_system(actor)
    approval = Approval.objects.filter(
        ticket=ticket, status__in=(ApprovalStatus.CHANGES_REQUESTED, ApprovalStatus.REJECTED)
    ).first()
    if approval is None:
        return None
    return approval_resubmit(actor=actor, approval=approval)


def approval_cancel(*, actor: Actor, approval: Approval, reason: str = "") -> Approval:
    """Withdraw a pending or sent-back approval; its links stop working."""
    _authorize_ticket_work(actor, approval.workspace_id)
    at = now()
    with transaction.atomic():
        approval = Approval.objects.select_for_update().select_related("ticket").get(pk=approval.pk)
        try:
            state = domain.cancel(domain.state_from_data(approval.state), at=at, reason=reason)
        except domain.ApprovalError as err:
            _raise_domain(err)
        _store(approval, state, at)
        timeline.record(
            ticket=approval.ticket,
            actor=actor,
            verb="approval_cancelled",
            data={"approval": approval.pk, "stage": state.stage.name, "reason": reason.strip()},
        )
    return approval


# --- one-click links ---------------------------------------------------------------------------------------------


def find_link(token: str) -> ApprovalLink | None:
    """The link of a raw token, usable or not (the public page picks its language from the link's agent)."""
    return (
        ApprovalLink.objects.filter(token_hash=_hash(token or ""))
        .select_related("approval__ticket__workspace", "agent__user", "agent__workspace")
        .first()
    )


def check_link(token: str) -> ApprovalLink:
    """The link of a token that can still be used; otherwise an error that says why, in the reader's language."""
    link = find_link(token)
    if link is None:
        raise NotFound(gettext("This link is not valid."), code=AutomationErrorCode.LINK_INVALID)
    if link.used_at is not None:
        raise Conflict(gettext("This link was already used."), code=AutomationErrorCode.LINK_INVALID)
    if link.expires_at <= now():
        raise Conflict(gettext("This link has expired."), code=AutomationErrorCode.LINK_INVALID)
    approval = link.approval
    state = domain.state_from_data(approval.state)
    if state.status != domain.PENDING or (state.stage.key, state.round) != (link.stage_key, link.round):
        raise Conflict(
            gettext("This link is for a stage that no longer waits for a decision."),
            code=AutomationErrorCode.LINK_INVALID,
        )
    if not link.agent.is_active or link.agent_id not in domain.expected_approvers(state):
        raise Conflict(
            gettext("Your decision is no longer expected at this stage."), code=AutomationErrorCode.LINK_INVALID
        )
    return link


def decide_by_link(
    *, token: str, verdict: str, comment: str = "", reason: str = "", missing_items: Iterable[str] = ()
) -> Approval:
    """Decide as the link's agent (the link is the authority); the link is used up in the same transaction."""
    with transaction.atomic():
        link = check_link(token)
        if not ApprovalLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now()):
            raise Conflict(gettext("This link was already used."), code=AutomationErrorCode.LINK_INVALID)
        return _decide(
            link.approval, agent=link.agent, actor=Actor.for_agent(link.agent), verdict=verdict, comment=comment,
            reason=reason, missing_items=tuple(missing_items),
        )  # fmt: skip


# --- delegation rows ---------------------------------------------------------------------------------------------


def delegation_set(
    *, actor: Actor, agent: AgentProfile, delegate: AgentProfile, start: dt.datetime, end: dt.datetime
) -> Delegation:
    """ "While I am away, `delegate` approves for me": an agent for themselves, a supervisor for anyone. It replaces
    the agent's delegations that overlap the period, and applies from the next stage (re)start."""
    own = actor.is_agent(agent.pk)
    authorize(actor, Perm.SELF_MANAGE if own else Perm.AUTOMATION_MANAGE, workspace_id=agent.workspace_id)
    if delegate.workspace_id != agent.workspace_id or not delegate.is_active or delegate.pk == agent.pk:
        raise ValidationFailed(
            gettext("Choose an active colleague of the same workspace as the delegate."),
            code=AutomationErrorCode.INVALID_VALUE,
            details={"delegate": "invalid"},
        )
    if start.tzinfo is None or end.tzinfo is None or end <= start or end - start > dt.timedelta(days=366):
        raise ValidationFailed(
            gettext("The delegation needs a start before its end, at most a year apart."),
            code=AutomationErrorCode.INVALID_VALUE,
            details={"end": "invalid"},
        )
    with transaction.atomic():
        Delegation.objects.filter(workspace_id=agent.workspace_id, agent=agent, start__lt=end, end__gt=start).delete()
        return Delegation.objects.create(
            workspace_id=agent.workspace_id, agent=agent, delegate=delegate, start=start, end=end
        )


# --- selectors ---------------------------------------------------------------------------------------------------


def waiting_for(agent: AgentProfile) -> list[Approval]:
    """The pending approvals of the agent's workspace that wait for this agent now (JSON containment differs
    between SQLite and PostgreSQL: filtered here)."""
    pending = Approval.objects.filter(workspace_id=agent.workspace_id, status=ApprovalStatus.PENDING).select_related(
        "ticket"
    )
    return [a for a in pending.order_by("stage_started_at", "pk") if agent.pk in (a.waiting_on or [])]


def progress_of(approval: Approval, at: dt.datetime | None = None) -> domain.Progress:
    """The progress bar of an approval at `at` (now by default)."""
    return domain.progress(domain.state_from_data(approval.state), at or now())


def approval_of(ticket: Ticket) -> Approval | None:
    """The ticket's latest approval (open or finished)."""
    return Approval.objects.filter(ticket=ticket).order_by("-created_at", "-pk").first()


def flow_get(workspace: Workspace, pk: int) -> ApprovalFlow:
    """A flow of the workspace by id (another workspace's id is not found)."""
    flow = ApprovalFlow.objects.filter(workspace_id=workspace.pk, pk=pk).first()
    if flow is None:
        raise NotFound(gettext("No such approval flow."), code=AutomationErrorCode.NOT_FOUND)
    return flow


__all__ = [
    "approval_cancel",
    "approval_decide",
    "approval_of",
    "approval_resubmit",
    "approval_start",
    "approval_start_for_rule",
    "check_link",
    "decide_by_link",
    "delegation_set",
    "find_link",
    "flow_get",
    "flow_save",
    "progress_of",
    "resolve_approvers",
    "resubmit_on_customer_reply",
    "waiting_for",
]
