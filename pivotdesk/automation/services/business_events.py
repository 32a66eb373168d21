"""Business events in (`POST /api/v1/events/`): `{"id", "type", "key", "data"}` from an order system, a carrier, a
payment provider.

Nothing is lost (rule 7): the raw body is stored before it is parsed, a body that does not parse stays as a
`failed` row with its reason, and an event whose key matches no chain or ticket stays as `unknown_key` (it can be
matched again later, e.g. once the chain has started). Delivery is idempotent by the event's `id`: a second
delivery returns the stored row and fires nothing. A matched event publishes `BusinessEventReceived`, which the
rules hear.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.json_guard import loads_guarded
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket

from ..errors import AutomationErrorCode
from ..events import BusinessEventReceived
from ..models import BusinessEvent, BusinessEventStatus, Chain

MAX_RAW = 1_000_000
MAX_ID = 200
MAX_TYPE = 100
MAX_KEY = 200
MAX_DATA = 100_000
TYPE_PATTERN = re.compile(r"[a-z0-9_.\-]+")
TICKET_KEY = re.compile(r"ticket:#?(\d{1,18})")
PENDING_PREFIX = "raw:"

#: Why an event was not processed: the stable code stored in `reason`, and its words for a person.
REASONS: dict[str, Promise] = {
    "too_large": gettext_lazy("The event is larger than %(n)s characters."),
    "invalid_json": gettext_lazy("The event is not valid JSON."),
    "not_an_object": gettext_lazy("The event must be a JSON object."),
    "missing_id": gettext_lazy("The event needs an “id” (text of at most 200 characters)."),
    "bad_type": gettext_lazy(
        "The event needs a “type” of at most 100 characters: lower-case letters, digits, “_”, “.” and “-”."
    ),
    "bad_key": gettext_lazy("The event's “key” must be text of at most 200 characters."),
    "bad_data": gettext_lazy("The event's “data” must be a JSON object (without NUL characters)."),
    "no_key": gettext_lazy("The event has no key: there is nothing to match it to."),
    "no_match": gettext_lazy("No chain or ticket has this key."),
}


class MalformedEvent(ValidationFailed):
    """The body of a business event did not parse or validate (stored as a failed row all the same)."""

    status_code = 400
    code = "malformed_event"


def reason_text(reason: str) -> str:
    """The words for a stored reason code, in the active language."""
    text = REASONS.get(reason)
    if text is None:
        return reason
    return str(text) % {"n": MAX_RAW} if reason == "too_large" else str(text)


@dataclass(frozen=True)
class Parsed:
    event_id: str
    type: str
    key: str
    data: dict[str, Any]


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _has_nul(value: Any) -> bool:
    return bool(without_nul(value) != value)


def _field_id(body: dict[str, Any]) -> str:
    value = body.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID or "\x00" in value:
        raise _Refused("missing_id")
    return value.strip()


def _field_type(body: dict[str, Any]) -> str:
    value = body.get("type")
    if not isinstance(value, str) or len(value) > MAX_TYPE or not TYPE_PATTERN.fullmatch(value):
        raise _Refused("bad_type")
    return value


def _field_key(body: dict[str, Any]) -> str:
    value = body.get("key")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_KEY or "\x00" in value:
        raise _Refused("bad_key")
    return value.strip()


def _field_data(body: dict[str, Any]) -> dict[str, Any]:
    value = body.get("data")
    if value is None:
        return {}
    if not isinstance(value, dict) or _has_nul(value) or len(json.dumps(value, default=str)) > MAX_DATA:
        raise _Refused("bad_data")
    return value


def parse(raw: str) -> Parsed:
    """The fields of a business event, or `_Refused` with the reason code."""
    if len(raw) > MAX_RAW:
        raise _Refused("too_large")
    try:
        body = loads_guarded(raw)
    except (ValueError, RecursionError):
        raise _Refused("invalid_json") from None
    if not isinstance(body, dict):
        raise _Refused("not_an_object")
    return Parsed(_field_id(body), _field_type(body), _field_key(body), _field_data(body))


def _raw_text(body: bytes | str | dict[str, Any]) -> str:
    if isinstance(body, dict):
        return json.dumps(body, ensure_ascii=False, default=str)
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return str(body)


# --- matching ----------------------------------------------------------------------------------------------------


def _match(workspace_id: int, key: str) -> tuple[Chain | None, Ticket | None, str]:
    """The chain (and its parent ticket) or the ticket an event's key names, else the reason code."""
    if not key:
        return None, None, "no_key"
    chain = Chain.objects.filter(workspace_id=workspace_id, key=key).select_related("parent").first()
    if chain is not None:
        return chain, chain.parent, ""
    ticket = Ticket.objects.filter(workspace_id=workspace_id, external_id=key).first()
    if ticket is None and (found := TICKET_KEY.fullmatch(key)):
        ticket = Ticket.objects.filter(workspace_id=workspace_id, number=int(found.group(1))).first()
    if ticket is not None:
        return None, ticket, ""
    return None, None, "no_match"


def _process(event: BusinessEvent) -> BusinessEvent:
    """Match a stored event to its chain or ticket; publish it when matched (in the caller's transaction)."""
    chain, ticket, reason = _match(event.workspace_id, event.key)
    event.chain, event.ticket, event.processed_at = chain, ticket, now()
    if ticket is None:
        event.status, event.reason = BusinessEventStatus.UNKNOWN_KEY, reason
    else:
        event.status, event.reason = BusinessEventStatus.PROCESSED, ""
    event.save(update_fields=["chain", "ticket", "processed_at", "status", "reason", "updated_at"])
    if ticket is not None:
        publish(
            BusinessEventReceived(
                workspace_id=event.workspace_id,
                business_event_id=event.pk,
                type=event.type,
                key=event.key,
                ticket_id=ticket.pk,
                chain_id=chain.pk if chain else None,
            )
        )
    return event


# --- the services ------------------------------------------------------------------------------------------------


def _fail(row: BusinessEvent, reason: str) -> MalformedEvent:
    BusinessEvent.objects.filter(pk=row.pk).update(
        status=BusinessEventStatus.FAILED, reason=reason, processed_at=now(), updated_at=now()
    )
    message = reason_text(reason)
    return MalformedEvent(message, details={"business_event_id": row.pk, "reason": reason})


def business_event_receive(
    *, actor: Actor, workspace: Workspace, body: bytes | str | dict[str, Any]
) -> tuple[BusinessEvent, bool]:
    """Store an inbound business event, then parse and match it: (the row, whether it is new). A body that does not
    parse is kept as a failed row and refused with `MalformedEvent` (400); a repeated id returns the first row."""
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=workspace.pk)
    raw = without_nul(_raw_text(body))
    # Stored first, under a placeholder id, so that no body is lost whatever parsing does with it.
    row = BusinessEvent.objects.create(
        workspace=workspace, event_id=f"{PENDING_PREFIX}{uuid.uuid4().hex}", raw=raw[:MAX_RAW]
    )
    try:
        parsed = parse(raw)
    except _Refused as refused:
        raise _fail(row, refused.reason) from None
    earlier = BusinessEvent.objects.filter(workspace=workspace, event_id=parsed.event_id).first()
    if earlier is not None:
        row.delete()  # a repeated delivery: the first row is the record
        return earlier, False
    try:
        with transaction.atomic():
            row.event_id, row.type, row.key, row.data = parsed.event_id, parsed.type, parsed.key, parsed.data
            row.save(update_fields=["event_id", "type", "key", "data", "updated_at"])
            return _process(row), True
    except IntegrityError:  # the same id delivered twice at once: the other delivery won
        row.delete()
        return BusinessEvent.objects.get(workspace=workspace, event_id=parsed.event_id), False


def channel_sink(workspace: Workspace, body: bytes) -> dict[str, Any]:
    """A business event that came in through a generic channel webhook (authenticated by the channel's signature or
    bearer token): received as through the API, answered in the webhook's JSON."""
    event, created = business_event_receive(actor=Actor.system("channel"), workspace=workspace, body=body)
    return {
        "id": event.pk,
        "event_id": event.event_id,
        "event_status": event.status,
        "reason": event.reason,
        "message": reason_text(event.reason) if event.reason else "",
        "duplicate": not created,
    }


def business_event_retry(*, actor: Actor, event: BusinessEvent) -> BusinessEvent:
    """Match an event whose key was unknown again (the chain or ticket may exist by now)."""
    authorize(actor, Perm.AUTOMATION_MANAGE, workspace_id=event.workspace_id)
    with transaction.atomic():
        current = BusinessEvent.objects.select_for_update().get(pk=event.pk)
        if current.status != BusinessEventStatus.UNKNOWN_KEY:
            raise Conflict(
                gettext("Only an event whose key was unknown can be matched again."),
                code=AutomationErrorCode.WRONG_STATE,
            )
        return _process(current)
