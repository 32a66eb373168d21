"""A request's progress as its customer sees it: the status in the workspace's words, the timeline in plain language
(received, assigned to a team, waiting on you, approval stages, linked-chain stages, solved), and which events are
worth a progress notice. Facts come from the ticket's timeline (`TicketEvent`) and automation's approvals and
chains; the words are rendered in the reader's language (`render.progress_sentence`), never stored.
Never shown: internal notes, agents' names or addresses, other customers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pivotdesk.automation.domain import chains as chain_domain
from pivotdesk.automation.models import Approval, ApprovalStatus, Chain
from pivotdesk.automation.services import approvals as approval_services
from pivotdesk.common.config_cache import workspace_config
from pivotdesk.portal.render import progress_sentence
from pivotdesk.portal.services.progress import status_change
from pivotdesk.tickets.models import Status, StatusDefinition, Ticket, TicketEvent

# ---- the status, in the workspace's words ---------------------------------------------------------------------------


def _definitions(workspace_id: int) -> dict[int, StatusDefinition]:
    def load() -> list[StatusDefinition]:
        return list(StatusDefinition.objects.filter(workspace_id=workspace_id).order_by("position", "pk"))

    return {d.pk: d for d in workspace_config(workspace_id, "status_definitions", load)}


def category_text(category: str) -> str:
    """A status category as a customer reads it (the workspace's labels come first, see `status_text`)."""
    texts: dict[str, str] = {
        Status.NEW: _("Received"),
        Status.OPEN: _("In progress"),
        Status.PENDING: _("Waiting for your reply"),
        Status.ON_HOLD: _("On hold"),
        Status.SOLVED: _("Solved"),
        Status.CLOSED: _("Closed"),
    }
    return texts.get(category, category)


def status_text(ticket: Ticket) -> str:
    """The request's status as the workspace names it (its own label, in the reader's language when the label has a
    Chinese form), else the customer's wording of the category. Read through the same per-workspace cache as the
    agents' vocabulary (`web/desk/statuses.py`), so a list costs no query per row."""
    label_id = ticket.custom_status_id
    if label_id is not None:
        definition = _definitions(ticket.workspace_id).get(label_id)
        if definition is not None and definition.category == ticket.status:
            if (get_language() or "").lower().startswith("zh") and definition.label_zh:
                return definition.label_zh
            return definition.label
    return category_text(ticket.status)


def status_tone(status: str) -> str:
    """A CSS modifier for the status chip."""
    tones: dict[str, str] = {
        Status.PENDING: "you",
        Status.SOLVED: "done",
        Status.CLOSED: "done",
        Status.ON_HOLD: "hold",
    }
    return tones.get(status, "work")


# ---- the timeline ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One line of the customer's timeline."""

    at: dt.datetime | None
    text: str
    tone: str = "info"  # info | you | done | current | waiting


@dataclass
class StageBar:
    """An approval flow or a linked chain as a row of stages."""

    title: str
    stages: list[tuple[str, str]] = field(default_factory=list)  # (name, done | current | waiting | cancelled)


def timeline(ticket: Ticket) -> list[Step]:
    """What happened to the request, oldest first, in plain language."""
    steps: list[Step] = []
    rows = TicketEvent.objects.filter(ticket=ticket, workspace_id=ticket.workspace_id).order_by("created_at", "pk")
    rows = rows.filter(verb__in=("created", "status_changed", "field_changed", "assigned"))
    assigned_once = False
    for row in rows.only("verb", "field", "old_value", "new_value", "created_at"):
        if row.verb == "created":
            steps.append(Step(row.created_at, progress_sentence("received", {}), "done"))
        elif row.verb == "status_changed":
            change = status_change(str(row.old_value or ""), str(row.new_value or ""))
            if change is not None:
                tone = {"waiting": "you", "solved": "done", "closed": "done"}.get(change, "info")
                steps.append(Step(row.created_at, progress_sentence(change, {}), tone))
        elif row.verb == "field_changed" and row.field == "team" and isinstance(row.new_value, dict):
            steps.append(
                Step(row.created_at, progress_sentence("assigned_team", {"team": row.new_value.get("name", "")}))
            )
        elif row.verb == "assigned" and row.new_value and not assigned_once:
            assigned_once = True  # one line is enough: who it was stays private
            steps.append(Step(row.created_at, _("An agent is working on your request.")))
    return steps


def stage_bars(ticket: Ticket) -> list[StageBar]:
    """The request's approval flows and linked chains, stage by stage (none for most requests)."""
    bars: list[StageBar] = []
    for approval in Approval.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket).order_by("pk"):
        try:
            progress = approval_services.progress_of(approval)
        except (KeyError, TypeError, ValueError):
            continue
        titles: dict[str, str] = {
            ApprovalStatus.APPROVED: _("Approval: approved"),
            ApprovalStatus.REJECTED: _("Approval: not approved"),
            ApprovalStatus.CHANGES_REQUESTED: _("Approval: changes requested"),
            ApprovalStatus.CANCELLED: _("Approval: cancelled"),
        }
        title = titles.get(approval.status, _("Approval in progress"))
        bars.append(StageBar(title, [(s.name, _stage_tone(s.status)) for s in progress.stages]))
    for chain in Chain.objects.filter(workspace_id=ticket.workspace_id, parent=ticket).order_by("pk"):
        try:
            definition = chain_domain.chain_from_data(chain.snapshot)
            states = chain_domain.states_from_data(chain.states)
        except (KeyError, TypeError, ValueError):
            continue
        by_key = {s.key: s.status for s in states}
        stages = [(d.name, _stage_tone(by_key.get(d.key, "waiting"))) for d in definition.stages]
        bars.append(StageBar(_("Progress") if not chain.done else _("Progress: complete"), stages))
    return bars


def _stage_tone(status: str) -> str:
    return {"done": "done", "current": "current", "open": "current", "cancelled": "cancelled"}.get(status, "waiting")


# ---- which events are worth a notice --------------------------------------------------------------------------------


def change_of_event(event: dict[str, Any]) -> tuple[int, str, dict[str, Any]] | None:
    """(ticket id, change, params) a customer should hear about for a domain event, or None."""
    name, payload = event.get("name", ""), event.get("payload", {}) or {}
    ticket_id = payload.get("ticket_id")
    if name == "ticket.status_changed":
        change = status_change(str(payload.get("old", "")), str(payload.get("new", "")))
        return (ticket_id, change, {}) if change and isinstance(ticket_id, int) else None
    if name == "ticket.updated":
        if "team" not in (payload.get("fields") or []) or not isinstance(ticket_id, int):
            return None
        team = Ticket.objects.filter(pk=ticket_id).values_list("team__name", flat=True).first()
        return (ticket_id, "assigned_team", {"team": team}) if team else None
    if name == "automation.approval_decided":
        return _approval_change(payload)
    if name == "automation.chain_stage_changed":
        return _chain_change(payload)
    return None


def _approval_change(payload: dict[str, Any]) -> tuple[int, str, dict[str, Any]] | None:
    approval_id = payload.get("approval_id")
    approval = Approval.objects.filter(pk=approval_id).first() if isinstance(approval_id, int) else None
    if approval is None:
        return None
    status = str(payload.get("status", ""))
    if status == ApprovalStatus.PENDING:
        stage = next(
            (s.get("name", "") for s in approval.snapshot.get("stages", []) if s.get("key") == approval.stage_key), ""
        )
        return (approval.ticket_id, "approval_stage", {"stage": stage}) if stage else None
    changes: dict[str, str] = {
        ApprovalStatus.APPROVED: "approval_approved",
        ApprovalStatus.REJECTED: "approval_rejected",
        ApprovalStatus.CHANGES_REQUESTED: "approval_changes",
    }
    change = changes.get(status)
    return (approval.ticket_id, change, {}) if change else None


def _chain_change(payload: dict[str, Any]) -> tuple[int, str, dict[str, Any]] | None:
    chain_id = payload.get("chain_id")
    chain = Chain.objects.filter(pk=chain_id).first() if isinstance(chain_id, int) else None
    change = {"opened": "chain_stage", "done": "chain_stage_done"}.get(str(payload.get("change", "")))
    if chain is None or change is None:
        return None
    key = str(payload.get("stage_key", ""))
    stage = next((s.get("name", "") for s in chain.snapshot.get("stages", []) if s.get("key") == key), key)
    return (chain.parent_id, change, {"stage": stage})


def event_may_notify(event: dict[str, Any]) -> bool:
    """The subscriber's cheap check (no query): a status change a customer hears about, a team change, or an
    approval / chain event."""
    name, payload = event.get("name", ""), event.get("payload", {}) or {}
    if name == "ticket.status_changed":
        return status_change(str(payload.get("old", "")), str(payload.get("new", ""))) is not None
    if name == "ticket.updated":
        return "team" in (payload.get("fields") or [])
    return name in ("automation.approval_decided", "automation.chain_stage_changed")
