"""Public web form submissions: store the submission raw, then process it into a ticket (and re-process later)."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from typing import Any

from django.conf import settings

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.channels.domain.web_form import CheckedSubmission, FormField
from pivotdesk.channels.models import ChannelAccount, InboundPayload, InboundStatus
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.common.errors import DomainError
from pivotdesk.common.json_guard import loads_guarded
from pivotdesk.customers import services as customer_services
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Ticket

log = logging.getLogger(__name__)


def form_rate_limit(account: ChannelAccount) -> int:
    """Submissions per visitor IP and hour the form accepts (config, else the setting)."""
    configured = (account.config or {}).get("rate_limit_per_hour")
    if isinstance(configured, int) and configured > 0:
        return configured
    return int(getattr(settings, "PIVOTDESK_WEB_FORM_RATE_PER_HOUR", 20))


def submission_document(
    *, checked: CheckedSubmission, fields: list[FormField], language: str, page_url: str = "", submission_id: str = ""
) -> dict[str, Any]:
    """The JSON document stored for a checked submission (the web_form parser reads it back)."""
    labels = {f.key: (f.label_zh if language.startswith("zh") and f.label_zh else f.label) for f in fields if f.custom}
    return {
        "id": submission_id or uuid.uuid4().hex,
        **checked.values,
        "fields": checked.custom,
        "field_labels": {k: v for k, v in labels.items() if k in checked.custom},
        "attachments": [
            {
                "filename": f.filename,
                "content_type": f.content_type,
                "content_base64": base64.b64encode(f.content).decode("ascii"),
            }
            for f in checked.files
        ],
        "language": language,
        "page_url": page_url,
    }


def web_form_submit(
    *, actor: Actor, account: ChannelAccount, document: dict[str, Any], meta: dict[str, Any] | None = None
) -> InboundPayload:
    """Store the submission before anything else, then process it into a ticket right away (so the visitor sees
    the ticket number). A processing failure leaves the stored row failed with its reason, for an admin. System
    only (the public form view)."""
    authorize_system(actor)
    payload = inbound_store(
        actor=actor,
        workspace=account.workspace,
        channel=account.kind,
        raw=json.dumps(document, ensure_ascii=False).encode(),
        content_type="application/json",
        meta=meta or {},
        account=account,
        dedupe_key=f"web_form:{document.get('id', '')}",
    )
    return inbound_reprocess(actor=actor, payload=payload)


def inbound_reprocess(*, actor: Actor, payload: InboundPayload) -> InboundPayload:
    """Process (or re-process after a fix) a stored payload; for a web form also apply its custom field values and
    the phone it gave to the new ticket and contact. The system, or an admin (CHANNEL_CONFIGURE) after a fix."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=payload.workspace_id)
    payload = inbound_process(actor=actor, payload=payload)
    if payload.channel == "web_form" and payload.status == InboundStatus.PROCESSED and payload.ticket_id:
        _apply_form_extras(payload, payload.ticket_id)
    return payload


def _apply_form_extras(payload: InboundPayload, ticket_id: int) -> None:
    try:
        document = loads_guarded(bytes(payload.raw))
    except ValueError:
        return
    ticket = Ticket.objects.select_related("requester").get(pk=ticket_id)
    fields = document.get("fields") if isinstance(document, dict) else None
    actor = Actor.for_contact(ticket.requester_id, ticket.requester.display_name)
    if isinstance(fields, dict) and fields:
        wanted = {k: v for k, v in fields.items() if k not in (ticket.custom_fields or {})}
        if wanted:
            try:
                ticket_services.ticket_update(ticket=ticket, actor=actor, changes={"custom_fields": wanted})
            except DomainError as exc:  # a field removed since the submission: the values stay in the text
                log.warning("web form payload %s: custom fields not applied: %s", payload.pk, exc.message)
    phone = document.get("phone") if isinstance(document, dict) else None
    if isinstance(phone, str) and phone:
        try:
            customer_services.identity_attach(
                actor=Actor.system("channel"), contact=ticket.requester, kind="phone", value=phone
            )
        except DomainError:  # the number belongs to another contact: shown as a probable duplicate instead
            return
