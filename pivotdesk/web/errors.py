"""Django's error handlers for what fails before a view runs (e.g. a body too large read by the CSRF check)."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from pivotdesk.common.request_size import PAYLOAD_TOO_LARGE, too_large_message
from pivotdesk.web.base import error_response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """`handler400`: a body over the upload limit is a 413 the person can read — JSON `{code, message}` under
    /api/, else the error page or, for HTMX, a toast; any other bad request keeps Django's answer."""
    if isinstance(exception, RequestDataTooBig):
        if request.path.startswith("/api/"):
            return JsonResponse({"code": PAYLOAD_TOO_LARGE, "message": too_large_message()}, status=413)
        return error_response(request, too_large_message(), status=413)
    return defaults.bad_request(request, exception or Exception())
