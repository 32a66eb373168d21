"""Celery tasks of notifications: thin, take ids, call one service, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pivotdesk.accounts.actors import Actor
from pivotdesk.notifications import services


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    """Send one attempt of a delivery if it is still open and due."""
    services.deliver(delivery_id=delivery_id)


@shared_task(name="notifications.retry_due", ignore_result=True)
def retry_due() -> int:
    """Queue deliveries whose back-off or quiet hours are over (run every 30 s by beat)."""
    return services.retry_due()


@shared_task(name="notifications.mentions_on_event", ignore_result=True)
def mentions_on_event(event: dict[str, Any]) -> int:
    """message.created: an internal note's @mentions tell the colleagues it names."""
    message_id = (event.get("payload") or {}).get("message_id")
    if not isinstance(message_id, int):
        return 0
    return services.notify_mentions(actor=Actor.system("mentions"), message_id=message_id)
