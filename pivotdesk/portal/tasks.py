"""Celery tasks of the portal: sending customer notices, the retry scan, and the subscribers that turn ticket,
automation and survey events into progress notices and survey invitations (listed in `config/subscribers.py`).
Thin, take ids, idempotent (a notice's dedupe key is the event id)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pivotdesk.accounts.actors import Actor
from pivotdesk.portal.models import CustomerNotice

_PORTAL = Actor.system("portal")


@shared_task(name="portal.notice_send", ignore_result=True)
def notice_send_task(notice_id: int) -> None:
    """Send one customer notice if it is still due (one claim wins; safe to run twice)."""
    from pivotdesk.portal.services.notices import notice_send

    notice = CustomerNotice.objects.filter(pk=notice_id).first()
    if notice is not None:
        notice_send(actor=_PORTAL, notice=notice)


@shared_task(name="portal.retry_due", ignore_result=True)
def retry_due_task() -> int:
    """Periodic: send every queued notice whose back-off has passed, and every send whose lease ran out."""
    from pivotdesk.portal.services.notices import notices_due

    ids = notices_due()
    for notice_id in ids:
        notice_send_task.delay(notice_id)
    return len(ids)


def _ticket(ticket_id: Any) -> Any:
    from pivotdesk.tickets.models import Ticket

    if not isinstance(ticket_id, int):
        return None
    return Ticket.objects.select_related("requester", "workspace", "team").filter(pk=ticket_id).first()


@shared_task(name="portal.progress_on_event", ignore_result=True)
def progress_on_event(event: dict[str, Any]) -> None:
    """ticket.status_changed, ticket.updated (team), automation.approval_decided / chain_stage_changed → a notice
    in plain language to the requester (once per event; opt-out respected)."""
    from pivotdesk.portal.services.progress import progress_notify
    from pivotdesk.portal.stages import change_of_event

    found = change_of_event(event)
    if found is None:
        return
    ticket_id, change, params = found
    ticket = _ticket(ticket_id)
    if ticket is None:
        return
    progress_notify(actor=_PORTAL, ticket=ticket, change=change, params=params, event_id=str(event.get("id", "")))


@shared_task(name="portal.survey_invited_on_event", ignore_result=True)
def survey_invited_on_event(event: dict[str, Any]) -> None:
    """survey.invited → the invitation with one-click score links, through the customer's channel, once."""
    from pivotdesk.customers.models import Contact
    from pivotdesk.portal.services.progress import survey_invite
    from pivotdesk.portal.surveys_bridge import score_links

    payload = event.get("payload", {})
    survey_id, contact_id = payload.get("survey_id"), payload.get("contact_id")
    if not isinstance(survey_id, int) or not isinstance(contact_id, int):
        return
    contact = Contact.objects.select_related("workspace").filter(pk=contact_id).first()
    links = score_links(survey_id)
    if contact is None or not links:
        return
    survey_invite(
        actor=_PORTAL,
        contact=contact,
        ticket=_ticket(payload.get("ticket_id")),
        survey_id=survey_id,
        kind=str(payload.get("kind", "csat")),
        links_by_score=links,
    )
