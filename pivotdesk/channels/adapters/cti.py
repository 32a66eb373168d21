"""Call centre (CTI) webhook: phone calls open or append to voice tickets.

POST /channels/in/cti/<key>/ with JSON, authenticated like the generic webhook (X-PivotDesk-Signature and/or a
bearer token)::

    {"event": "call.started" | "call.answered" | "call.ended",
     "call_id": "c-1",                 # required; (call_id, event) is delivered once however often it is posted
     "from": "+8613800138000",         # required: the caller (E.164)
     "to": "+862150001000",
     "agent_email": "li@example.com",  # answered/ended: the agent who took the call
     "started_at": "2026-03-01T10:00:00+08:00",
     "duration_s": 95,                 # ended
     "recording_url": "https://…"}     # ended: downloaded as an audio attachment and queued for transcription

call.started opens a "voice" ticket for the caller (or appends to their recent voice ticket) with "Incoming call
from …"; call.answered adds an internal note by the agent; call.ended a note with the duration and the recording.
Events arriving out of order still find (or open) the call's ticket. Account settings — secrets: `signing_secret`
and/or `bearer_token`; `recording_token` (optional, sent as a bearer token when downloading recordings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.channels.adapters import register_parser
from pivotdesk.channels.adapters.generic import signed_webhook
from pivotdesk.channels.adapters.transport import MediaCollector
from pivotdesk.channels.domain.inbound import NormalizedInbound, PayloadError
from pivotdesk.channels.domain.payload_shape import as_text, load_json_object
from pivotdesk.channels.services.inbound import inbound_deliver
from pivotdesk.channels.webhooks import register_webhook
from pivotdesk.common.errors import DomainError
from pivotdesk.customers.domain.identity import IdentityError, normalize_phone
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, MessageKind

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload

EVENTS = ("call.started", "call.answered", "call.ended")
CALL_NOISE = "call_event"  # answered/ended write their note themselves; the payload row says so


@dataclass(frozen=True)
class CallEvent:
    event: str
    call_id: str
    caller: str  # E.164
    to: str
    agent_email: str
    started_at: str
    duration_s: int | None
    recording_url: str

    @property
    def external_id(self) -> str:
        return f"{self.call_id}:{self.event}"


def parse_call_event(raw: bytes) -> CallEvent:
    """Validate a CTI event body (PayloadError with the reason otherwise)."""
    data = load_json_object(raw)
    event = as_text(data.get("event"), "event", required=True)
    if event not in EVENTS:
        raise PayloadError(f"event must be one of {', '.join(EVENTS)}, not {event[:40]!r}.")
    call_id = as_text(data.get("call_id"), "call_id", required=True).strip()
    if len(call_id) > 200:
        raise PayloadError("call_id is longer than 200 characters.")
    try:
        caller = normalize_phone(as_text(data.get("from"), "from", required=True))
    except IdentityError as exc:
        raise PayloadError(f"from: {exc}") from exc
    duration = data.get("duration_s")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration < 0):
        raise PayloadError("duration_s must be a non-negative number.")
    return CallEvent(
        event=event,
        call_id=call_id,
        caller=caller,
        to=as_text(data.get("to"), "to")[:40],
        agent_email=as_text(data.get("agent_email"), "agent_email").strip()[:254],
        started_at=as_text(data.get("started_at"), "started_at")[:40],
        duration_s=int(duration) if duration is not None and duration < 10**9 else None,
        recording_url=as_text(data.get("recording_url"), "recording_url").strip(),
    )


@register_webhook("cti")
def cti_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """Authenticate like the generic webhook, store the event, answer 202."""
    try:
        call = parse_call_event(request.body)
        key = f"cti:{call.external_id}"
    except PayloadError:
        key = ""  # still stored: the parser records why it cannot be read
    return signed_webhook(request, account, dedupe_key=key)


def _call_data(call: CallEvent) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "from": call.caller,
        "to": call.to,
        "started_at": call.started_at,
        "agent_email": call.agent_email,
    }


def _started(call: CallEvent) -> NormalizedInbound:
    return NormalizedInbound(
        channel="voice",
        identity_kind="phone",
        identity_value=call.caller,
        subject=call.caller,  # a fact, not an English sentence: the queue shows the channel ("Voice" / "语音")
        text=f"Incoming call from {call.caller}" + (f" to {call.to}" if call.to else ""),
        external_id=f"{call.call_id}:call.started",
        conversation_key=call.call_id,
        metadata={"call": _call_data(call)},
    )


@register_parser("cti")
def parse_cti_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    """call.started → the customer message that opens or continues the caller's voice ticket. call.answered and
    call.ended → a note on the call's ticket, written here (the inbound pipeline only writes customer messages);
    the payload row then reads "Not opened: call event" and links the note."""
    call = parse_call_event(bytes(payload.raw))
    if call.event == "call.started":
        return [_started(call)]
    media = MediaCollector()
    if call.event == "call.ended" and call.recording_url:
        token = str(payload.account.secrets.get("recording_token", "")) if payload.account else ""
        media.fetch(
            call.recording_url,
            kind="audio",
            stem=f"call-{call.call_id}",
            headers={"Authorization": f"Bearer {token}"} if token else None,
        )
    with transaction.atomic():
        note = _note(payload, call, media)
    payload.ticket_id, payload.message_id = note.ticket_id, note.pk
    marker = _started(call)
    marker.noise, marker.external_id = CALL_NOISE, call.external_id
    return [marker]


def _call_ticket_message(payload: InboundPayload, call: CallEvent) -> Message:
    """The call's opening message (the call.started one), delivered now when that event has not arrived yet."""
    started = Message.objects.filter(
        workspace=payload.workspace, channel="voice", external_id=f"{call.call_id}:call.started"
    ).first()
    if started is not None:
        return started
    message, _ = inbound_deliver(
        actor=Actor.system("channel"), workspace=payload.workspace, inbound=_started(call), account=payload.account
    )
    return message


def _agent(payload: InboundPayload, email: str) -> AgentProfile | None:
    if not email:
        return None
    return (
        AgentProfile.objects.select_related("user")
        .filter(workspace=payload.workspace, user__email__iexact=email, is_active=True)
        .first()
    )


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "unknown duration"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _note(payload: InboundPayload, call: CallEvent, media: MediaCollector) -> Message:
    ticket = _call_ticket_message(payload, call).ticket
    agent = _agent(payload, call.agent_email)
    who = agent.name if agent is not None else (call.agent_email or "an agent")
    metadata: dict[str, Any] = {"call": {**_call_data(call), "event": call.event}, **media.metadata()}
    if call.event == "call.answered":
        body = f"Call answered by {who}."
    else:
        body = f"Call ended after {_duration(call.duration_s)}."
        metadata["call"]["duration_s"] = call.duration_s
        if media.attachments:
            body += " Recording attached."
            metadata["transcription"] = "queued"
        elif media.errors:
            body += " The recording could not be downloaded: " + "; ".join(media.errors)
    attachments = [(a.filename, a.content, a.content_type) for a in media.attachments]
    fields: dict[str, Any] = {
        "ticket": ticket,
        "body": body,
        "kind": MessageKind.NOTE,
        "channel": "voice",
        "external_id": call.external_id,
        "metadata": metadata,
        "attachments": attachments,
    }
    if agent is not None:
        try:
            with transaction.atomic():
                return ticket_services.message_create(actor=Actor.for_agent(agent), **fields)
        except DomainError:  # the agent's role may not write notes, or the ticket is closed: the system writes it
            pass
    return ticket_services.message_create(actor=Actor.system("Call centre"), **fields)
