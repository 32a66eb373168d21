"""The public webhook dispatcher (no session, no CSRF: platforms authenticate by signature and URL key)."""

from __future__ import annotations

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from pivotdesk.channels import adapters
from pivotdesk.channels.selectors import account_by_webhook_key
from pivotdesk.channels.webhooks import WEBHOOK_HANDLERS, json_error
from pivotdesk.common.db_retry import is_database_locked
from pivotdesk.common.errors import NotFound

MAX_BODY = 30 * 1024 * 1024


@csrf_exempt
def inbound_webhook(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    """Route a platform's callback to its adapter; unknown kinds or keys are 404, oversize bodies 413."""
    adapters.load()
    handler = WEBHOOK_HANDLERS.get(kind)
    if handler is None:
        return json_error(404, "unknown_channel", f"No inbound channel of kind '{kind}'.")
    try:
        account = account_by_webhook_key(kind=kind, key=key)
    except NotFound:
        return json_error(404, "unknown_channel", "Unknown or inactive channel.")
    if len(request.body) > MAX_BODY:
        return json_error(413, "payload_too_large", "The payload is larger than 30 MB.")
    try:
        return handler(request, account)
    except OperationalError as exc:
        if not is_database_locked(exc):
            raise
        # Not stored (the database stayed locked through the retries): say so, so the platform sends it again.
        response = json_error(503, "busy", "Busy: send the payload again shortly.")
        response["Retry-After"] = "30"
        return response
