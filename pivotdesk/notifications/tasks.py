"""Celery tasks of notifications: thin, take ids, call one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from pivotdesk.notifications import services


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    """Send one attempt of a delivery if it is still open and due."""
    services.deliver(delivery_id=delivery_id)


@shared_task(name="notifications.retry_due", ignore_result=True)
def retry_due() -> int:
    """Queue deliveries whose back-off or quiet hours are over (run every 30 s by beat)."""
    return services.retry_due()
