"""Public inbound endpoints: every platform posts to /channels/in/<kind>/<webhook key>/.

The key in the URL picks the channel account (and so the workspace). The adapter registered for the kind verifies
the platform's signature and answers in the platform's format; the common path stores the raw payload first and
queues its processing, so a parse failure never loses it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import ChannelAccount, InboundPayload
from pivotdesk.channels.services.inbound import inbound_store
from pivotdesk.common.db_retry import retry_when_locked

WebhookHandler = Callable[[HttpRequest, ChannelAccount], HttpResponse]
WEBHOOK_HANDLERS: dict[str, WebhookHandler] = {}

_KEPT_HEADERS = ("content-type", "user-agent", "x-forwarded-for")


def register_webhook(kind: str) -> Callable[[WebhookHandler], WebhookHandler]:
    """Register the handler of a platform's webhook (signature check + response format)."""

    def wrap(fn: WebhookHandler) -> WebhookHandler:
        WEBHOOK_HANDLERS[kind] = fn
        return fn

    return wrap


def request_meta(request: HttpRequest, *, extra_headers: tuple[str, ...] = ()) -> dict[str, object]:
    """What to keep of the request beside the raw body: selected headers, the query string, the remote address."""
    wanted = set(_KEPT_HEADERS) | {h.lower() for h in extra_headers}
    return {
        "headers": {k: v for k, v in request.headers.items() if k.lower() in wanted},
        "query": request.GET.dict(),
        "remote_addr": request.META.get("REMOTE_ADDR", ""),
        "method": request.method,
    }


def store_and_queue(
    request: HttpRequest, account: ChannelAccount, *, dedupe_key: str = "", extra_headers: tuple[str, ...] = ()
) -> InboundPayload:
    """Store the raw request body for this account and queue its processing after commit."""
    from pivotdesk.channels.tasks import process_inbound_task

    def store() -> InboundPayload:
        with transaction.atomic():
            payload = inbound_store(
                actor=Actor.system("channel"),
                workspace=account.workspace,
                channel=account.kind,
                raw=request.body,
                content_type=request.content_type or "",
                meta=request_meta(request, extra_headers=extra_headers),
                account=account,
                dedupe_key=dedupe_key,
            )
            transaction.on_commit(lambda: process_inbound_task.delay(payload.pk))
        return payload

    # A database that stays locked ends as a 503 with Retry-After (`views.inbound_webhook`): the platform retries.
    return retry_when_locked(store, attempts=3)


def json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)
