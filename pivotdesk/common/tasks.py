"""Celery tasks of the event relay's backstop: thin, bounded, safe to run twice (rows are claimed with a lease)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings

from pivotdesk.common import relay


@shared_task(name="events.relay_due", ignore_result=True)
def relay_due() -> int:
    """Deliver committed events that no relay process has taken (a desk run without `events_relay`, or after an
    outage); at most 8 s per run."""
    return relay.relay_for(seconds=8.0)


@shared_task(name="events.prune", ignore_result=True)
def prune_events() -> int:
    """Delete delivered events older than PIVOTDESK_EVENTS_KEEP_DAYS."""
    return relay.prune(older_than=dt.timedelta(days=float(settings.PIVOTDESK_EVENTS_KEEP_DAYS)))
