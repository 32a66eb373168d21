"""NUL characters in form fields and query strings are dropped before any view sees them.

A NUL (U+0000) is never meaningful in text a person typed, and PostgreSQL cannot store it in a text column (nor
compare with it): a NUL in a saved view's name or a search query would otherwise fail the request with a 500 on
PostgreSQL while SQLite accepts it. The channels' public intake (`/channels/…`) and the API (`/api/…`) are left
alone: they store the raw request before parsing it (and the intake removes NULs itself, `common.text.without_nul`),
and reading `request.POST` here would make their raw body unreadable.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, QueryDict

from pivotdesk.common.text import without_nul

EXEMPT_PREFIXES = ("/channels/", "/api/")


def _without_nul(data: QueryDict) -> QueryDict:
    cleaned = QueryDict(mutable=True, encoding=data.encoding)
    for key, values in data.lists():
        cleaned.setlist(without_nul(key), without_nul(values))
    cleaned._mutable = False
    return cleaned


class NulGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(EXEMPT_PREFIXES):
            query = request.META.get("QUERY_STRING", "")
            if "%00" in query or "\x00" in query:
                request.GET = _without_nul(request.GET)  # type: ignore[assignment]
            form = request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
            if request.method == "POST" and form:
                request.POST = _without_nul(request.POST)  # type: ignore[assignment]
        return self.get_response(request)
