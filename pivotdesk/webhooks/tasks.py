"""Celery tasks of outgoing webhooks: thin, take ids (or the event dict), call one service, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from pivotdesk.accounts.actors import Actor
from pivotdesk.webhooks import services


@shared_task(bind=True, name="webhooks.fan_out", ignore_result=True)
def webhook_fan_out(self: Task[Any, Any], event: dict[str, Any]) -> None:
    """Create one delivery per endpoint subscribed to this event (the subscriber table sends every event here).

    Without an id in the event, the task id stands in for it: a broker redelivering this message keeps the task id,
    so the redelivery creates no second delivery.
    """
    services.webhook_fan_out(event=event, actor=Actor.system("webhooks"), fallback_event_id=self.request.id)


@shared_task(name="webhooks.deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> None:
    """Send one attempt of a delivery if it is still open and due."""
    services.webhook_deliver(delivery_id=delivery_id, actor=Actor.system("webhooks"))


@shared_task(name="webhooks.retry_due", ignore_result=True)
def webhook_retry_due() -> int:
    """Queue the deliveries whose next attempt is due (run every 30 s by beat)."""
    return services.webhook_retry_due()
