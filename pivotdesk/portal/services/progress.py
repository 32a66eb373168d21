"""Progress notices: a request's status or stage changed → one notice in plain language to its requester, through
their channel, unless they turned progress notices off. One notice per event (the event id is the dedupe key), so
a redelivered event sends nothing twice. Survey invitations (`survey.invited`) go the same way.
"""

from __future__ import annotations

from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.customers.models import Contact
from pivotdesk.portal import links, selectors
from pivotdesk.portal.models import CustomerNotice, NoticeKind
from pivotdesk.portal.services.notices import notice_enqueue
from pivotdesk.tickets.models import Status, Ticket

# status category → the change a customer is told about; None: not worth a message
_STATUS_CHANGE: dict[str, str] = {
    Status.PENDING: "waiting",
    Status.ON_HOLD: "on_hold",
    Status.SOLVED: "solved",
    Status.CLOSED: "closed",
}
_DONE = (Status.SOLVED, Status.CLOSED)


def status_change(old: str, new: str) -> str | None:
    """What a status change means to the customer: "waiting", "solved", "reopened"… or None (nothing to tell:
    new → open, closed after solved)."""
    if old == new:
        return None
    if old in _DONE and new not in _DONE:
        return "reopened"
    if new == Status.CLOSED and old == Status.SOLVED:
        return None
    if new == Status.OPEN:
        return "open" if old in (Status.PENDING, Status.ON_HOLD) else None
    return _STATUS_CHANGE.get(new)


def progress_notify(
    *, actor: Actor, ticket: Ticket, change: str, event_id: str, params: dict[str, Any] | None = None
) -> CustomerNotice | None:
    """Tell a request's requester that it moved on (`change`, see `render.progress_sentence`), once per event,
    respecting their opt-out. System only (the subscribers of ticket and automation events)."""
    authorize_system(actor)
    contact = ticket.requester
    if contact.merged_into_id is not None or ticket.merged_into_id is not None:
        return None
    preference = selectors.preference_for(contact=contact)
    if not preference.progress_notices:
        return None
    data = {
        "number": ticket.number,
        "subject": ticket.subject,
        "change": change,
        "params": params or {},
        "url": links.ticket_link(ticket),
        "opt_out": links.opt_out_link(workspace=ticket.workspace, contact_id=contact.pk),
    }
    return notice_enqueue(
        actor=actor,
        workspace=ticket.workspace,
        contact=contact,
        ticket=ticket,
        kind=NoticeKind.PROGRESS,
        data=data,
        dedupe_key=f"progress:{event_id}",
    )


def survey_invite(
    *,
    actor: Actor,
    contact: Contact,
    survey_id: int,
    kind: str,
    links_by_score: list[tuple[int, str]],
    ticket: Ticket | None = None,
) -> CustomerNotice | None:
    """Invite a customer to rate a request (CSAT) or the service (NPS, no ticket) with one-click score links, once
    per survey, unless they turned such messages off. System only (the `survey.invited` subscriber)."""
    authorize_system(actor)
    if contact.merged_into_id is not None:
        return None
    preference = selectors.preference_for(contact=contact)
    if not preference.survey_notices:
        return None
    workspace = contact.workspace
    data: dict[str, Any] = {
        "number": ticket.number if ticket is not None else "",
        "subject": ticket.subject if ticket is not None else "",
        "kind": kind,
        "survey_id": survey_id,
        "links": [{"score": score, "url": links.absolute(workspace, path)} for score, path in links_by_score],
        "opt_out": links.opt_out_link(workspace=workspace, contact_id=contact.pk),
    }
    return notice_enqueue(
        actor=actor,
        workspace=workspace,
        contact=contact,
        ticket=ticket,
        kind=NoticeKind.SURVEY,
        data=data,
        dedupe_key=f"survey:{survey_id}",
    )
