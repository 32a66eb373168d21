"""Public, anonymous pages and endpoints of the intake: the web form and the chat widget's JSON API.

No session and no CSRF token: the visitor has no privileges to protect, the form may be framed on another site and
the widget posts cross-origin. Abuse is held off by a honeypot field, per-IP and per-visitor rate limits and the
form's optional captcha; the chat session is a signed visitor token kept by the widget.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels import adapters, intake_selectors
from pivotdesk.channels.captcha import captcha_passes, provider_for
from pivotdesk.channels.domain.web_form import CheckedSubmission, UploadedFile, check_submission
from pivotdesk.channels.models import ChannelAccount, InboundPayload, InboundStatus
from pivotdesk.channels.services import chat as chat_services
from pivotdesk.channels.services import web_form as form_services
from pivotdesk.channels.webhooks import json_error, request_meta
from pivotdesk.common import ratelimit
from pivotdesk.common.csp import csp_allow
from pivotdesk.common.errors import NotFound
from pivotdesk.common.json_guard import loads_guarded
from pivotdesk.customers.domain.identity import IdentityError, normalize_email
from pivotdesk.tickets.models import AuthorType, Message

HONEYPOT = "website"
THANKS_SALT = "pivotdesk.channels.form.thanks"
VISITOR_HEADER = "X-PivotDesk-Visitor"
CHAT_MESSAGES_PER_MINUTE = 20
CHAT_SESSIONS_PER_IP_HOUR = 120


def _language(request: HttpRequest, account: ChannelAccount) -> str:
    wanted = request.GET.get("lang") or (account.config or {}).get("language") or translation.get_language() or "en"
    return "zh-hans" if str(wanted).lower().startswith("zh") else "en"


def _builtin_labels() -> dict[str, str]:
    return {
        "name": _("Your name"),
        "email": _("Email address"),
        "phone": _("Phone"),
        "subject": _("Subject"),
        "description": _("How can we help?"),
        "attachments": _("Attachments"),
    }


def _error_text(code: str, detail: str) -> str:
    texts = {
        "required": _("This field is required."),
        "invalid_email": _("Enter a valid email address."),
        "invalid_phone": _("Enter a valid phone number (with the country code, e.g. +86 138 0013 8000)."),
        "too_long": _("This is too long (at most %(n)s characters).") % {"n": detail},
        "invalid_value": _("This value is not valid: %(reason)s") % {"reason": detail},
        "not_allowed": _("This form does not accept attachments."),
        "too_many": _("At most %(n)s files can be attached.") % {"n": detail},
        "too_large": _("“%(name)s” is larger than the size limit.") % {"name": detail},
        "type_not_allowed": _("Files of this type are not accepted: “%(name)s”.") % {"name": detail},
        "captcha": _("Please complete the captcha check."),
        "spam": _("The submission was rejected."),
        "rate_limited": _("Too many submissions from your network. Please try again later."),
    }
    return texts.get(code, code)


def _worded(checked: CheckedSubmission) -> dict[str, list[str]]:
    return {key: [_error_text(code, detail) for code, detail in errs] for key, errs in checked.errors.items()}


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        data = loads_guarded(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _json_files(data: dict[str, Any]) -> tuple[list[UploadedFile], bool]:
    """Base64 attachments of a headless JSON submission; the flag is False when one is not valid base64."""
    items = data.get("attachments")
    files: list[UploadedFile] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            return files, False
        try:
            content = base64.b64decode(str(item.get("content_base64", "")), validate=True)
        except (binascii.Error, ValueError):
            return files, False
        files.append(
            UploadedFile(str(item.get("filename") or "attachment"), str(item.get("content_type") or ""), content)
        )
    return files, True


@csrf_exempt
@require_http_methods(["GET", "POST"])
def web_form(request: HttpRequest, key: str) -> HttpResponse:
    """The public form of a workspace: GET shows it; POST (form or JSON) checks, stores and opens a ticket."""
    try:
        account = intake_selectors.public_account(kind="web_form", key=key)
    except NotFound:
        return render(request, "channels/not_found.html", status=404)
    with translation.override(_language(request, account)):
        response = _web_form(request, account)
    sources = provider_for(account.config or {}).csp_sources
    if sources:  # the captcha widget's script, frame and styles come from its provider
        csp_allow(response, dict.fromkeys(("script-src", "frame-src", "style-src", "connect-src"), sources))
    return response


def _web_form(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    language = translation.get_language() or "en"
    definition = intake_selectors.web_form_definition(account=account, language=language)
    headless = request.method == "POST" and (request.content_type or "").startswith("application/json")
    context: dict[str, Any] = {
        "account": account,
        "form": definition,
        "labels": _builtin_labels(),
        "captcha": provider_for(account.config or {}),
        "captcha_site_key": ((account.config or {}).get("captcha") or {}).get("site_key", ""),
        "honeypot": HONEYPOT,
        "values": {},
        "errors": {},
        "language": language,
    }
    if request.method != "POST":
        return render(request, "channels/form.html", context)
    try:
        if headless:
            body = _json_body(request)
            if body is None:
                return json_error(400, "invalid_json", "The body must be a JSON object.")
            data: dict[str, Any] = body
            files, files_ok = _json_files(body)
            if not files_ok:
                return json_error(400, "invalid_attachment", "An attachment is not valid base64.")
        else:
            data = {
                k: (request.POST.getlist(k) if len(request.POST.getlist(k)) > 1 else v) for k, v in request.POST.items()
            }
            files = [
                UploadedFile(f.name or "attachment", f.content_type or "", f.read())
                for f in request.FILES.getlist("attachments")
            ]
    except RequestDataTooBig:
        return json_error(413, "payload_too_large", "The submission is too large.")
    context["values"] = {k: v for k, v in data.items() if k != "attachments"}

    def refuse(errors: dict[str, list[str]], status: int = 400) -> HttpResponse:
        if headless:
            return JsonResponse(
                {"code": "invalid", "message": _("Please correct the errors."), "errors": errors}, status=status
            )
        context["errors"] = errors
        return render(request, "channels/form.html", context, status=status)

    if str(data.get(HONEYPOT) or "").strip():
        return refuse({"form": [_error_text("spam", "")]})
    remote_ip = ratelimit.client_ip(request)
    if not ratelimit.hit(
        scope=f"form:{account.pk}", key=remote_ip, limit=form_services.form_rate_limit(account), window_seconds=3600
    ).allowed:
        return refuse({"form": [_error_text("rate_limited", "")]}, status=429)
    checked = check_submission(definition.fields, definition.attachments, data, files)
    posted = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    secret = str(account.secrets.get("captcha_secret", ""))
    if not checked.errors and not captcha_passes(
        config=account.config or {}, secret=secret, posted=posted, remote_ip=remote_ip
    ):
        checked.fail("form", "captcha")
    if checked.errors:
        return refuse(_worded(checked))
    document = form_services.submission_document(
        checked=checked,
        fields=definition.fields,
        language=language,
        page_url=str(data.get("page_url") or request.headers.get("referer", ""))[:500],
        submission_id=str(data.get("id") or "")[:80] if headless else "",
    )
    payload = form_services.web_form_submit(
        actor=Actor.system("channel"), account=account, document=document, meta=request_meta(request)
    )
    number = _ticket_number(payload)
    if headless:
        status = 201 if payload.status == InboundStatus.PROCESSED else 202
        return JsonResponse(
            {"status": "received", "payload_id": payload.pk, "ticket": number, "processing": payload.status},
            status=status,
        )
    token = signing.dumps(payload.pk, salt=THANKS_SALT)
    return HttpResponseRedirect(
        reverse("channels:form_thanks", args=[account.webhook_key, token]) + f"?lang={language}"
    )


def _ticket_number(payload: InboundPayload) -> int | None:
    if payload.ticket_id is None:
        return None
    return intake_selectors.ticket_number_of(workspace_id=payload.workspace_id, ticket_id=payload.ticket_id)


@require_http_methods(["GET"])
def web_form_thanks(request: HttpRequest, key: str, token: str) -> HttpResponse:
    """The thank-you page with the new ticket's number (the token is signed, so numbers cannot be guessed)."""
    try:
        account = intake_selectors.public_account(kind="web_form", key=key)
        payload_id = signing.loads(token, salt=THANKS_SALT, max_age=60 * 60 * 24)
        payload = intake_selectors.public_payload(account=account, payload_id=int(payload_id))
    except (NotFound, signing.BadSignature, TypeError, ValueError):
        return render(request, "channels/not_found.html", status=404)
    with translation.override(_language(request, account)):
        definition = intake_selectors.web_form_definition(account=account, language=translation.get_language() or "en")
        context = {
            "account": account,
            "form": definition,
            "number": _ticket_number(payload),
            "language": translation.get_language(),
        }
        return render(request, "channels/thanks.html", context)


# --- the chat widget's JSON API ------------------------------------------------------------------------------


def _origin_allowed(account: ChannelAccount, origin: str) -> bool:
    configured = (account.config or {}).get("allowed_origins")
    if not isinstance(configured, list) or not configured or "*" in configured:
        return True
    wanted = {str(o).rstrip("/").lower() for o in configured}
    return origin.rstrip("/").lower() in wanted


def _with_cors(request: HttpRequest, account: ChannelAccount, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("origin", "")
    if origin and _origin_allowed(account, origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = f"Content-Type, {VISITOR_HEADER}"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


ChatHandler = Callable[[HttpRequest, ChannelAccount], HttpResponse]


def _chat_endpoint(methods: list[str]) -> Callable[[ChatHandler], Callable[[HttpRequest, str], HttpResponse]]:
    """Resolve the chat account, answer CORS preflights, refuse origins the account does not allow."""

    def wrap(handler: ChatHandler) -> Callable[[HttpRequest, str], HttpResponse]:
        @csrf_exempt
        def view(request: HttpRequest, key: str) -> HttpResponse:
            try:
                account = intake_selectors.public_account(kind="chat", key=key)
            except NotFound:
                return json_error(404, "unknown_channel", "Unknown or inactive chat channel.")
            origin = request.headers.get("origin", "")
            if origin and not _origin_allowed(account, origin):
                return json_error(403, "origin_not_allowed", "This site may not embed the chat.")
            if request.method == "OPTIONS":
                return _with_cors(request, account, HttpResponse(status=204))
            if request.method not in methods:
                return _with_cors(request, account, json_error(405, "method_not_allowed", "Method not allowed."))
            with translation.override(_language(request, account)):
                return _with_cors(request, account, handler(request, account))

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    return wrap


def _visitor(request: HttpRequest, account: ChannelAccount) -> str | None:
    token = request.headers.get(VISITOR_HEADER, "") or request.GET.get("token", "")
    return chat_services.visitor_from_token(account=account, token=token)


def _chat_config(account: ChannelAccount, language: str) -> dict[str, Any]:
    config = account.config or {}
    zh = language.startswith("zh")

    def text(key: str, default: str) -> str:
        return str((config.get(f"{key}_zh") if zh else None) or config.get(key) or default)

    return {
        "title": text("title", _("Chat with us")),
        "greeting": text("greeting", _("Hi! Leave us a message and we will answer here.")),
        "require_email": bool(config.get("require_email", False)),
        "ask_email": bool(config.get("ask_email", True)),
        "color": str(config.get("color") or "#2563eb")[:20],
        "language": language,
        "poll_seconds": 2.5,
    }


@_chat_endpoint(["POST"])
def chat_session(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """Start (or resume, with a valid token) a chat session; returns the token and the widget's settings."""
    visitor = _visitor(request, account)
    token = request.headers.get(VISITOR_HEADER, "")
    if visitor is None:
        ip = ratelimit.client_ip(request)
        if not ratelimit.hit(
            scope=f"chat-session:{account.pk}", key=ip, limit=CHAT_SESSIONS_PER_IP_HOUR, window_seconds=3600
        ).allowed:
            return json_error(429, "rate_limited", "Too many chat sessions from this address.")
        visitor, token = chat_services.visitor_token_issue(account=account)
    tickets = intake_selectors.session_tickets(account=account, visitor=visitor)
    latest = tickets.first()
    return JsonResponse(
        {
            "token": token,
            "visitor": visitor,
            "ticket": latest.number if latest is not None else None,
            "config": _chat_config(account, translation.get_language() or "en"),
        }
    )


def _as_json(message: Message) -> dict[str, Any]:
    from_visitor = message.author_type == AuthorType.CONTACT
    author = ""
    if not from_visitor:
        agent = message.author_agent
        author = agent.name if agent is not None else _("Support")
    return {
        "id": message.pk,
        "from": "visitor" if from_visitor else "agent",
        "author": author,
        "text": message.body_text,
        "at": message.created_at.isoformat(),
        "ticket": message.ticket.number,
    }


@_chat_endpoint(["GET", "POST"])
def chat_messages(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    """GET ?since=<id>: the conversation after a message id (and the visitor counts as present).
    POST {"text", "name", "email", "client_id"}: a visitor message, stored raw, then added to the session's ticket."""
    visitor = _visitor(request, account)
    if visitor is None:
        return json_error(401, "invalid_token", "Start a chat session first (the visitor token is missing or invalid).")
    if request.method == "GET":
        try:
            since = max(0, int(request.GET.get("since", "0")))
        except ValueError:
            since = 0
        chat_services.chat_seen(actor=Actor.system("channel"), account=account, visitor=visitor)
        found = intake_selectors.chat_messages(account=account, visitor=visitor, since=since)
        return JsonResponse({"messages": [_as_json(m) for m in found]})
    if not ratelimit.hit(scope="chat-message", key=visitor, limit=CHAT_MESSAGES_PER_MINUTE, window_seconds=60).allowed:
        return json_error(429, "rate_limited", "Too many messages; wait a moment.")
    try:
        raw = request.body
    except RequestDataTooBig:
        return json_error(413, "payload_too_large", "The message is too large.")
    body = _json_body(request)
    if body is None or not str(body.get("text") or "").strip():
        return json_error(400, "invalid", _("Write a message first."))
    config = account.config or {}
    email = str(body.get("email") or "").strip()
    if config.get("require_email") and not email:
        return json_error(400, "email_required", _("Enter your email address so we can answer you."))
    if email:
        try:
            normalize_email(email)
        except IdentityError:
            return json_error(400, "invalid_email", _("Enter a valid email address."))
    adapters.load()
    payload = chat_services.chat_post(
        actor=Actor.system("channel"),
        account=account,
        visitor=visitor,
        raw=raw,
        meta=request_meta(request, extra_headers=("origin",)),
    )
    if payload.status not in (InboundStatus.PROCESSED, InboundStatus.DUPLICATE) or payload.message_id is None:
        return JsonResponse(
            {"code": "not_delivered", "message": payload.reason, "payload_id": payload.pk},
            status=422 if payload.status == InboundStatus.FAILED else 202,
        )
    message = intake_selectors.chat_message(account=account, message_id=payload.message_id)
    return JsonResponse({"message": _as_json(message), "ticket": message.ticket.number}, status=201)
