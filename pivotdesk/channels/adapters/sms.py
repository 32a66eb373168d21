"""SMS and MMS in Twilio's format (Twilio itself, or any gateway that speaks its webhook and Messages API).

Account settings — config: `account_sid`, `from_number` (E.164) or `messaging_service_sid`, `api_base` (default
https://api.twilio.com), `public_url` (the scheme and host Twilio calls, e.g. https://desk.example.com, when a proxy
sits in front: the signature covers the URL Twilio used); secrets: `auth_token`. Webhook URL (as the messaging
webhook, HTTP POST): /channels/in/sms/<key>/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters import register_parser, register_sender
from pivotdesk.channels.adapters.transport import MediaCollector, send_request
from pivotdesk.channels.domain.inbound import NormalizedInbound, PayloadError
from pivotdesk.channels.domain.signatures import verify_twilio_signature
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.channels.services.rejections import inbound_reject
from pivotdesk.channels.webhooks import register_webhook, store_and_queue
from pivotdesk.customers.domain.identity import IdentityError, normalize_phone

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage

SIGNATURE_HEADER = "X-Twilio-Signature"
API_BASE = "https://api.twilio.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
BODY_LIMIT = 1600  # characters Twilio accepts in one message
MAX_MEDIA = 10


def _twiml(status: int = 200) -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8", status=status)


def signed_urls(request: HttpRequest, account: ChannelAccount) -> list[str]:
    """The URLs Twilio may have signed: the configured public base + this path, and the URL as the request saw it
    (scheme and host, honouring X-Forwarded-* only where settings trust them)."""
    urls = []
    public = str(account.config.get("public_url", "")).strip().rstrip("/")
    if public:
        urls.append(public + request.get_full_path())
    urls.append(request.build_absolute_uri())
    return list(dict.fromkeys(urls))


def _form_params(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"not a urlencoded form: {exc}") from exc


@register_webhook("sms")
def sms_webhook(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """Verify X-Twilio-Signature over the URL and the form, store the body, answer an empty TwiML <Response/>."""
    if request.method != "POST":
        return HttpResponse("POST the message form.", status=405, content_type="text/plain")
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        inbound_reject(
            actor=Actor.system("channel"),
            request=request,
            account=account,
            reason=f"Rejected: no {SIGNATURE_HEADER} header.",
        )
        return HttpResponse("Missing signature.", status=401, content_type="text/plain")
    try:
        params = _form_params(request.body)
    except PayloadError:
        params = []
    token = str(account.secrets.get("auth_token", ""))
    urls = signed_urls(request, account)
    if not verify_twilio_signature(token, urls, params, header):
        inbound_reject(
            actor=Actor.system("channel"),
            request=request,
            account=account,
            reason=f"Rejected: {SIGNATURE_HEADER} does not match the auth token for {' or '.join(urls)}.",
            extra_headers=(SIGNATURE_HEADER,),
        )
        return HttpResponse("Invalid signature.", status=403, content_type="text/plain")
    sid = dict(params).get("MessageSid", "")
    store_and_queue(request, account, dedupe_key=f"sms:{sid}" if sid else "", extra_headers=(SIGNATURE_HEADER,))
    return _twiml()


@register_parser("sms")
def parse_sms_payload(payload: InboundPayload) -> list[NormalizedInbound]:
    """An incoming-message webhook form → one message from the E.164 sender; MMS media downloaded (with the
    account's credentials, as Twilio requires when media authentication is on). Status callbacks are skipped."""
    form = dict(_form_params(bytes(payload.raw)))
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    if not sid:
        raise PayloadError("MessageSid is missing.")
    if "From" not in form and form.get("MessageStatus"):
        return []  # a delivery status callback, not a message
    try:
        phone = normalize_phone(form.get("From", ""))
    except IdentityError as exc:
        raise PayloadError(f"From: {exc}") from exc
    account = payload.account
    config = account.config if account else {}
    auth = None
    if account is not None and config.get("account_sid") and account.secrets.get("auth_token"):
        auth = (str(config["account_sid"]), str(account.secrets["auth_token"]))
    media = MediaCollector()
    try:
        count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError as exc:
        raise PayloadError(f"NumMedia is not a number: {form.get('NumMedia')!r}") from exc
    for index in range(count):
        url = form.get(f"MediaUrl{index}", "")
        content_type = form.get(f"MediaContentType{index}", "")
        kind = content_type.split("/")[0] if "/" in content_type else "file"
        if not url:
            media.fail(f"MediaUrl{index} is missing", kind=kind)
            continue
        media.fetch(url, kind=kind, stem=f"{sid}-{index}", content_type=content_type, auth=auth)
    location = {k: form[k] for k in ("FromCity", "FromState", "FromCountry") if form.get(k)}
    return [
        NormalizedInbound(
            channel="sms",
            identity_kind="phone",
            identity_value=phone,
            text=media.text_with(form.get("Body", "")) or "(empty SMS)",
            attachments=media.attachments,
            external_id=sid,
            conversation_key=f"{phone}>{form.get('To', '')}",
            metadata={"sms": {"to": form.get("To", ""), **location}, **media.metadata()},
            needs_transcription=media.needs_transcription,
        )
    ]


@register_sender("sms")
def send_sms(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json (Basic auth; To, From or MessagingServiceSid, Body).
    A reply longer than one message goes as several."""
    if account is None:
        raise SendError("No SMS channel is configured.", permanent=True)
    sid, token = str(account.config.get("account_sid", "")), str(account.secrets.get("auth_token", ""))
    sender = str(account.config.get("from_number", ""))
    service = str(account.config.get("messaging_service_sid", ""))
    if not (sid and token and (sender or service)):
        raise SendError("The SMS channel needs account_sid, auth_token and from_number.", permanent=True)
    text = outbound.message.body_text.strip()
    if not text:
        raise SendError("SMS replies need text.", permanent=True)
    base = str(account.config.get("api_base") or API_BASE).rstrip("/")
    ids = []
    for start in range(0, len(text), BODY_LIMIT):
        form = {"To": outbound.recipient, "Body": text[start : start + BODY_LIMIT]}
        form.update({"MessagingServiceSid": service} if service else {"From": sender})
        response = send_request("POST", f"{base}/2010-04-01/Accounts/{sid}/Messages.json", data=form, auth=(sid, token))
        try:
            ids.append(str(response.json().get("sid", "")))
        except (ValueError, AttributeError):
            ids.append("")
    return ids[0]
