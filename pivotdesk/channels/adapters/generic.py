"""Generic JSON webhook: any system that can POST JSON opens and answers tickets.

POST /channels/in/generic/<key>/ with `Content-Type: application/json` and this body::

    {
      "id": "msg-123",                    # required: your message id; the same id twice is one message
      "from": {                           # required: who wrote it
        "id": "user-42",                  #   required: your id for the person
        "name": "Wang Fang",              #   optional
        "email": "wangfang@example.cn",   #   optional: when given, the person is the same contact as by email
        "phone": "+8613800138000"         #   optional (E.164): the same contact as by SMS or phone
      },
      "text": "The printer is jammed",    # text and/or html and/or attachments
      "html": "<p>…</p>",                 # optional
      "subject": "Printer",               # optional: subject of a new ticket
      "conversation_id": "chat-7",        # optional: echoed back on replies
      "attachments": [                    # optional, at most 20
        {"url": "https://…/photo.jpg", "filename": "photo.jpg", "content_type": "image/jpeg"},
        {"content_base64": "aGVsbG8=", "filename": "note.txt", "content_type": "text/plain"}
      ]
    }

Authentication (at least one is required; each configured one is checked):
- `X-PivotDesk-Signature: sha256=<hex HMAC-SHA256 of the raw body with the channel's signing secret>`;
- `Authorization: Bearer <the channel's bearer token>`.

Answers 202 {"status": "accepted", "payload_id": …}; 401/403 when authentication fails.

Replies: an agent's public reply is POSTed as JSON to the channel's `reply_url`, signed the same way
(X-PivotDesk-Signature over the body, plus `Idempotency-Key`)::

    {"id": "pivotdesk-message-981", "in_reply_to": "msg-123", "conversation_id": "chat-7",
     "to": {"id": "user-42", "name": "…", "email": "…", "phone": "…"},
     "text": "…", "html": "…", "ticket": {"number": 10234, "subject": "…"},
     "author": {"name": "Li Lei"}, "sent_at": "2026-03-01T10:00:00+00:00"}

A 2xx answer marks the reply sent (a JSON {"id": …} in it is kept as the provider id); 429/5xx are retried.

Account settings — config: `reply_url`; secrets: `signing_secret`, `bearer_token` (inbound), `reply_bearer_token`
(optional, sent as Authorization on replies).

Business events: a body with a "type" and a "key" and no "from" (`{"id": "evt-1", "type": "shipment.delayed",
"key": "order:PD2026…", "data": {…}}`, the shape of `POST /api/v1/events/`) is authenticated the same way and
handed to the business-event sink the automation app registers (`register_business_event_sink`): stored raw, matched
to a chain or ticket by key, idempotent by id. Answers 202 {"status": "accepted", "event_id": …, "event_status": …,
"duplicate": …}; a malformed event 400 with the reason (the raw body is kept as a failed event).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters import register_parser, register_sender
from pivotdesk.channels.adapters.transport import MediaCollector, send_request
from pivotdesk.channels.domain.inbound import NormalizedInbound, PayloadError
from pivotdesk.channels.domain.payload_shape import as_list, as_object, as_text, load_json_object
from pivotdesk.channels.domain.signatures import sha256_header, verify_sha256_header
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.channels.services.rejections import inbound_reject
from pivotdesk.channels.webhooks import json_error, register_webhook, store_and_queue
from pivotdesk.common.errors import DomainError
from pivotdesk.common.json_guard import loads_guarded
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.domain.identity import IdentityError, normalize_email, normalize_phone
from pivotdesk.tickets.models import AuthorType, Message

if TYPE_CHECKING:
    from pivotdesk.accounts.models import Workspace
    from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage

SIGNATURE_HEADER = "X-PivotDesk-Signature"
MAX_ATTACHMENTS = 20

#: Takes (workspace, raw body) → the JSON answer of an accepted business event; raises DomainError for a refused
#: one. Registered by the automation app (a higher layer) when it loads; None while no app takes events.
BusinessEventSink = Callable[["Workspace", bytes], dict[str, Any]]
_event_sink: BusinessEventSink | None = None


def register_business_event_sink(sink: BusinessEventSink | None) -> None:
    """Install what the generic webhook hands business events to (automation's `business_event_receive`)."""
    global _event_sink  # noqa: PLW0603
    _event_sink = sink


def _looks_like_business_event(body: bytes) -> bool:
    try:
        value = loads_guarded(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and "type" in value and "key" in value and "from" not in value


def authentication_failure(request: HttpRequest, account: ChannelAccount) -> tuple[int, str] | None:
    """None when the request carries every credential the account is configured with (signature and/or bearer
    token), else (HTTP status, reason). An account with neither configured accepts nothing."""
    secret = str(account.secrets.get("signing_secret", ""))
    bearer = str(account.secrets.get("bearer_token", ""))
    if not secret and not bearer:
        return 403, "The channel has neither a signing secret nor a bearer token configured."
    if secret:
        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            return 401, f"No {SIGNATURE_HEADER} header."
        if not verify_sha256_header(secret, request.body, header):
            return 403, f"{SIGNATURE_HEADER} does not match the signing secret."
    if bearer:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return 401, "No bearer token."
        if not hmac.compare_digest(given.strip().encode("utf-8", "surrogatepass"), bearer.encode()):
            return 403, "The bearer token does not match."
    return None


def signed_webhook(
    request: HttpRequest,
    account: ChannelAccount,
    *,
    dedupe_key: str,
    accept: Callable[[HttpRequest, ChannelAccount], HttpResponse] | None = None,
) -> HttpResponse:
    """The shared POST handling of the generic and CTI webhooks: authenticate, store, answer 202 (`accept`, when
    given, takes an authenticated request instead of storing it as a message)."""
    if request.method != "POST":
        return json_error(405, "method_not_allowed", "POST a JSON body.")
    failure = authentication_failure(request, account)
    if failure is not None:
        status, reason = failure
        inbound_reject(
            actor=Actor.system("channel"),
            request=request,
            account=account,
            reason=f"Rejected: {reason}",
            extra_headers=(SIGNATURE_HEADER,),
        )
        return json_error(status, "unauthorized" if status == 401 else "forbidden", reason)
    if accept is not None:
        return accept(request, account)
    payload = store_and_queue(request, account, dedupe_key=dedupe_key, extra_headers=(SIGNATURE_HEADER,))
    return JsonResponse({"status": "accepted", "payload_id": payload.pk}, status=202)


def _body_field(body: bytes, name: str) -> str:
    try:
        value = loads_guarded(body).get(name)
    except (ValueError, AttributeError, RecursionError):
        return ""
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


@register_webhook("generic")
def generic_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """Authenticate (signature and/or bearer token), store the JSON body, answer 202."""
    if _event_sink is not None and _looks_like_business_event(request.body):
        return signed_webhook(request, account, dedupe_key="", accept=_accept_business_event)
    message_id = _body_field(request.body, "id")
    return signed_webhook(request, account, dedupe_key=f"generic:{message_id}" if message_id else "")


def _accept_business_event(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    sink = _event_sink
    if sink is None:  # pragma: no cover - checked by the caller
        return json_error(400, "not_accepted", "This desk takes no business events.")
    try:
        answer = sink(account.workspace, request.body)
    except DomainError as exc:
        return json_error(exc.status_code, str(exc.code or "invalid"), str(exc.message))
    return JsonResponse({"status": "accepted", **answer}, status=202)


def _identity(sender: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """(kind, value, valid extras): the email when valid, else the phone, else the external id."""
    extras: dict[str, str] = {}
    for kind, read, normalize in (
        ("email", sender.get("email"), normalize_email),
        ("phone", sender.get("phone"), normalize_phone),
    ):
        value = as_text(read, f"from.{kind}")
        if value:
            try:
                extras[kind] = normalize(value)
            except IdentityError:
                continue
    external = as_text(sender.get("id"), "from.id", required=True).strip()
    if not external or len(external) > 255:
        raise PayloadError("from.id must be 1–255 characters.")
    if "email" in extras:
        return "email", extras["email"], extras
    if "phone" in extras:
        return "phone", extras["phone"], extras
    return "external", external, extras


@register_parser("generic")
def parse_generic_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    """The documented JSON body → one message; attachments downloaded or decoded."""
    data = load_json_object(bytes(payload.raw))
    message_id = as_text(data.get("id"), "id", required=True)
    sender = as_object(data.get("from"), "from")
    kind, value, extras = _identity(sender)
    external = as_text(sender.get("id"), "from.id").strip()
    name = as_text(sender.get("name"), "from.name")[:200]
    text, html = as_text(data.get("text"), "text"), as_text(data.get("html"), "html")
    media = MediaCollector()
    for index, raw_item in enumerate(as_list(data.get("attachments"), "attachments")[:MAX_ATTACHMENTS]):
        item = as_object(raw_item, "attachments[]")
        filename = as_text(item.get("filename"), "attachments[].filename")
        content_type = as_text(item.get("content_type"), "attachments[].content_type")
        kind_of = content_type.split("/")[0] if "/" in content_type else "file"
        stem = f"attachment-{index + 1}"
        encoded, url = item.get("content_base64"), item.get("url")
        if isinstance(encoded, str) and encoded:
            try:
                content = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                media.fail(f"attachment {index + 1}: content_base64 is not base64 ({exc})", kind=kind_of)
                continue
            media.add(content, kind=kind_of, stem=stem, content_type=content_type, filename=filename)
        elif isinstance(url, str) and url:
            media.fetch(url, kind=kind_of, stem=stem, content_type=content_type, filename=filename)
        else:
            media.fail(f"attachment {index + 1}: neither url nor content_base64", kind=kind_of)
    if not (text.strip() or html.strip() or media.attachments or media.placeholders):
        raise PayloadError("The message has no text, html or attachments.")
    if payload.account is not None and kind != "external":
        _remember_external_id(payload.workspace, kind, value, external, name)
    conversation = as_text(data.get("conversation_id"), "conversation_id")
    return [
        NormalizedInbound(
            channel="api",
            identity_kind=kind,
            identity_value=value,
            sender_name=name,
            subject=as_text(data.get("subject"), "subject")[:250],
            text=media.text_with(text) if not html.strip() else text,
            html=html,
            attachments=media.attachments,
            external_id=f"generic:{payload.account_id or 0}:{message_id}",
            conversation_key=conversation,
            metadata={
                "generic": {
                    "id": message_id,
                    "from": {"id": external, "name": name, **extras},
                    "conversation_id": conversation,
                },
                **media.metadata(),
            },
            needs_transcription=media.needs_transcription,
        )
    ]


def _remember_external_id(workspace: Workspace, kind: str, value: str, external: str, name: str) -> None:
    """A person known by email or phone also keeps the sender's own id, so replies can address them by it and a
    later message carrying only that id finds the same contact. An id already on another contact is left there."""
    try:
        contact = customer_services.contact_resolve(
            actor=Actor.system("channel"), workspace=workspace, kind=kind, value=value, name=name
        )
        customer_services.identity_attach(
            actor=Actor.system("channel"), contact=contact, kind="external", value=external
        )
    except DomainError:
        return


def _latest_customer_metadata(ticket_id: int) -> dict[str, Any]:
    latest = (
        Message.objects.filter(ticket_id=ticket_id, author_type=AuthorType.CONTACT, metadata__has_key="generic")
        .order_by("-pk")
        .first()
    )
    found = latest.metadata.get("generic") if latest is not None else None
    return found if isinstance(found, dict) else {}


@register_sender("generic")
def send_generic(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """POST the reply JSON to the channel's reply_url, signed with X-PivotDesk-Signature."""
    if account is None:
        raise SendError("No generic webhook channel is configured.", permanent=True)
    url = str(account.config.get("reply_url", "")).strip()
    if not url:
        raise SendError("The generic webhook channel has no reply_url.", permanent=True)
    message = outbound.message
    ticket = message.ticket
    inbound = _latest_customer_metadata(ticket.pk)
    recipient = {"id": outbound.recipient, **(inbound.get("from") or {})}
    our_id = f"pivotdesk-message-{message.pk}"
    body = json.dumps(
        {
            "id": our_id,
            "in_reply_to": inbound.get("id", ""),
            "conversation_id": inbound.get("conversation_id", ""),
            "to": recipient,
            "text": message.body_text,
            "html": message.body_html,
            "ticket": {"number": ticket.number, "subject": ticket.subject},
            "author": {"name": message.author_agent.name if message.author_agent else message.author_label},
            "sent_at": message.created_at.isoformat(),
        },
        ensure_ascii=False,
    ).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": our_id}
    secret = str(account.secrets.get("signing_secret", ""))
    if secret:
        headers[SIGNATURE_HEADER] = sha256_header(secret, body)
    token = str(account.secrets.get("reply_bearer_token", ""))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = send_request("POST", url, content=body, headers=headers)
    try:
        answered = json.loads(response.content)
    except ValueError:
        return our_id
    given = answered.get("id") if isinstance(answered, dict) else None
    return str(given) if isinstance(given, (str, int)) and given != "" else our_id
