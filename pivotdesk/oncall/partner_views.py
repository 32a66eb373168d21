"""The partner's pages: one ticket behind a scoped, expiring link, no sign-in (`services/partners.py` scopes it).

Unlike the public web form (csrf_exempt: the visitor has nothing to protect), a partner link carries power over a
ticket, so its forms use Django's CSRF check: the ticket page sets the cookie and every form carries the token. The
secret is in the path, so every answer says `Referrer-Policy: no-referrer` (a link in a message must not hand the
token to another site) and `Cache-Control: no-store`. Requests are limited per client address, posts per link.
Files are always downloads (`user_file_response`, nosniff, sandboxed), never shown inline.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.common import ratelimit
from pivotdesk.common.errors import DomainError, NotFound
from pivotdesk.common.user_files import user_file_response
from pivotdesk.oncall.models import PartnerAccess
from pivotdesk.oncall.services import partners
from pivotdesk.tickets.models import Status, TicketEvent

REQUESTS_PER_IP_HOUR = 600
POSTS_PER_LINK_HOUR = 60
DONE = ("reply", "parts", "ack")


def _language(code: str) -> str:
    return "zh-hans" if (code or "").lower().startswith("zh") else "en"


def _private(response: HttpResponseBase) -> HttpResponseBase:
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    response = render(request, "oncall/partner/not_found.html", {"language": translation.get_language()}, status=404)
    _private(response)
    return response


def _limited(request: HttpRequest) -> HttpResponse | None:
    verdict = ratelimit.hit(
        scope="partner-link", key=ratelimit.client_ip(request), limit=REQUESTS_PER_IP_HOUR, window_seconds=3600
    )
    if verdict.allowed:
        return None
    response = render(request, "oncall/partner/limited.html", {"language": translation.get_language()}, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    _private(response)
    return response


def _zone(access: PartnerAccess) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(access.ticket.workspace.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def _page(request: HttpRequest, token: str, *, error: str = "", status: int = 200, values: Any = None) -> HttpResponse:
    try:
        view = partners.partner_view(token)
    except NotFound:
        return _gone(request)
    with translation.override(_language(view.language)), timezone.override(_zone(view.access)):
        done = request.GET.get("done", "")
        context = {
            "view": view,
            "token": token,
            "language": translation.get_language(),
            "status_label": str(Status(view.status).label) if view.status in Status.values else view.status,
            "time_zone": _zone(view.access).key,
            "error": error,
            "done": done if done in DONE else "",
            "values": values or {},
            "max_files": partners.MAX_FILES,
        }
        response = render(request, "oncall/partner/ticket.html", context, status=status)
    _private(response)
    return response


@ensure_csrf_cookie
@require_GET
def ticket_page(request: HttpRequest, token: str) -> HttpResponseBase:
    """The ticket behind the link, in the partner's language, with the forms to reply, acknowledge and mark parts."""
    return _limited(request) or _page(request, token)


def _done(token: str, what: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(reverse("partner:page", args=[token]) + f"?done={what}", status=303)
    _private(response)
    return response


def _post_allowed(request: HttpRequest, token: str) -> HttpResponse | None:
    """The address limit, the link (404), then the per-link limit on posts."""
    refused = _limited(request)
    if refused is not None:
        return refused
    try:
        access = partners.partner_access(token)
    except NotFound:
        return _gone(request)
    if not ratelimit.hit(
        scope="partner-post", key=str(access.pk), limit=POSTS_PER_LINK_HOUR, window_seconds=3600
    ).allowed:
        with translation.override(_language(access.partner.language)):
            return _page(request, token, error=_("Too many posts through this link; try again later."), status=429)
    return None


@require_POST
def reply(request: HttpRequest, token: str) -> HttpResponseBase:
    """A reply or an internal note, with files."""
    refused = _post_allowed(request, token)
    if refused is not None:
        return refused
    try:
        body = request.POST.get("body", "")
        kind = request.POST.get("kind", "public")
        uploads = request.FILES.getlist("files")
    except RequestDataTooBig:
        return _page(request, token, error=_("The reply is too large."), status=413)
    access = partners.partner_access(token)
    with translation.override(_language(access.partner.language)):
        try:
            if len(uploads) > partners.MAX_FILES:  # refused before any file is read
                error = _("At most %(n)s files can be attached.") % {"n": partners.MAX_FILES}
                return _page(request, token, error=error, status=422, values={"body": body, "kind": kind})
            files = [(f.name or "attachment", f.read(), f.content_type or "") for f in uploads]
            partners.partner_reply(token, body, kind=kind, files=files)
        except NotFound:
            return _gone(request)
        except DomainError as exc:
            return _page(request, token, error=exc.message, status=exc.status_code, values={"body": body, "kind": kind})
    return _done(token, "reply")


@require_POST
def parts_dispatched(request: HttpRequest, token: str) -> HttpResponseBase:
    """The partner sent the spare parts."""
    refused = _post_allowed(request, token)
    if refused is not None:
        return refused
    try:
        partners.partner_parts_dispatched(token)
    except NotFound:
        return _gone(request)
    return _done(token, "parts")


@require_POST
def acknowledge(request: HttpRequest, token: str) -> HttpResponseBase:
    """The partner takes the ticket on."""
    refused = _post_allowed(request, token)
    if refused is not None:
        return refused
    try:
        partners.partner_acknowledge(token)
    except NotFound:
        return _gone(request)
    return _done(token, "ack")


@require_GET
def attachment(request: HttpRequest, token: str, attachment_id: int) -> HttpResponseBase:
    """A file of a shared message, as a download."""
    refused = _limited(request)
    if refused is not None:
        return refused
    try:
        found = partners.partner_attachment(token, attachment_id)
        handle = found.file.open("rb")
    except (NotFound, FileNotFoundError, OSError):
        return _gone(request)
    return _private(user_file_response(handle=handle, filename=found.filename, inline=False))


# --- the agents' timeline -------------------------------------------------------------------------------------------


def timeline_sentence(event: TicketEvent, actor: str) -> SafeString | None:
    """The partner events of a ticket's timeline in words (for `web/desk/timeline_text.py`), None for others."""
    data = event.data or {}
    partner = data.get("partner") if isinstance(data.get("partner"), dict) else {}
    name = str((partner or {}).get("name") or "—")
    if event.verb == "partner_invited":
        return format_html(_("{actor} gave partner {partner} a link to this ticket"), actor=actor, partner=name)
    if event.verb == "partner_revoked":
        return format_html(_("{actor} withdrew the link of partner {partner}"), actor=actor, partner=name)
    if event.verb == "partner_acknowledged":
        return format_html(_("Partner {partner} acknowledged the ticket"), partner=name)
    if event.verb == "partner_parts_dispatched":
        return format_html(_("Partner {partner} dispatched the spare parts"), partner=name)
    return None
