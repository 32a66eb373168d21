"""REST endpoints of notifications, mounted at /api/v1/notifications/: the caller's own notifications only.

Reading needs any token; marking read changes state, so it needs a write (or admin) token. Someone else's
notification, or another workspace's, is 404.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Query, Router, Schema

from pivotdesk.accounts.api_auth import ApiContext, context
from pivotdesk.accounts.schemas import Limit, Offset
from pivotdesk.common.errors import PermissionDenied
from pivotdesk.common.pagination import paginate
from pivotdesk.notifications import selectors, services
from pivotdesk.notifications.errors import NotificationErrorCode
from pivotdesk.notifications.models import Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    ticket_id: int | None
    ticket_number: int | None
    urgent: bool
    data: dict[str, object]
    read_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_title(obj: Notification) -> str:
        """Rendered in the request's language from the kind and its facts (`data`)."""
        return obj.display_title

    @staticmethod
    def resolve_body(obj: Notification) -> str:
        return obj.display_body

    @staticmethod
    def resolve_ticket_number(obj: Notification) -> int | None:
        return obj.ticket.number if obj.ticket is not None else None


class NotificationPage(Schema):
    items: list[NotificationOut]
    count: int
    unread: int
    limit: int
    offset: int
    next_offset: int | None


class NotificationFilters(Schema):
    unread: bool = False
    limit: Limit = 50
    offset: Offset = 0


class ReadAllOut(Schema):
    marked: int


def _writer(request: HttpRequest) -> ApiContext:
    ctx = context(request)
    if not ctx.can_write:
        raise PermissionDenied(
            gettext("Marking notifications read needs a token with the 'write' scope."),
            code=NotificationErrorCode.INSUFFICIENT_SCOPE,
        )
    return ctx


@router.get("/", response=NotificationPage, summary="List my notifications (newest first)")
def list_notifications(request: HttpRequest, filters: Query[NotificationFilters]) -> dict[str, object]:
    ctx = context(request)
    page = paginate(
        selectors.my_notifications(agent=ctx.agent, unread_only=filters.unread),
        limit=filters.limit,
        offset=filters.offset,
    )
    return {**page.body(), "unread": selectors.unread_count(agent=ctx.agent)}


@router.post("/read-all", response=ReadAllOut, summary="Mark all my notifications read")
def read_all(request: HttpRequest) -> dict[str, int]:
    ctx = _writer(request)
    return {"marked": services.notifications_mark_all_read(actor=ctx.actor, agent=ctx.agent)}


@router.post("/{notification_id}/read", response=NotificationOut, summary="Mark one of my notifications read")
def mark_read(request: HttpRequest, notification_id: int) -> Notification:
    ctx = _writer(request)
    return services.notification_mark_read(actor=ctx.actor, agent=ctx.agent, notification_id=notification_id)
