"""The page links (public: they work on a phone without signing in). GET shows the ticket and a button; the POST
acts, so a link preview or a mail scanner fetching the URL never acknowledges anything."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from pivotdesk.common.errors import DomainError
from pivotdesk.oncall.models import PageNotice
from pivotdesk.oncall.services import paging


def _language(notice: PageNotice | None) -> str:
    if notice is not None and notice.agent is not None:
        from pivotdesk.notifications.render import recipient_language

        return recipient_language(notice.agent)
    if notice is not None and notice.partner is not None:
        return notice.partner.language or "zh-hans"
    return translation.get_language() or "zh-hans"


def _link(request: HttpRequest, token: str, *, resolve: bool) -> HttpResponse:
    try:
        notice = paging.check_link(token, resolve=resolve)
    except DomainError as exc:
        return render(request, "oncall/link.html", {"error": exc.message}, status=exc.status_code)
    with translation.override(_language(notice)):
        if request.method == "POST":
            try:
                page = (paging.resolve_link if resolve else paging.acknowledge_link)(token=token)
            except DomainError as exc:
                return render(request, "oncall/link.html", {"error": exc.message}, status=exc.status_code)
            return render(request, "oncall/link.html", {"page": page, "done": True, "resolve": resolve})
        return render(request, "oncall/link.html", {"page": notice.page, "resolve": resolve, "token": token})


@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    return _link(request, token, resolve=False)


@require_http_methods(["GET", "POST"])
def resolve(request: HttpRequest, token: str) -> HttpResponse:
    return _link(request, token, resolve=True)
