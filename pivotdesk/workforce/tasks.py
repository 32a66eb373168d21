"""Celery tasks of workforce: thin, take the event dict or ids, call one service, safe to rerun."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.common.events import publish
from pivotdesk.common.time import now
from pivotdesk.workforce.events import AvailabilityChanged
from pivotdesk.workforce.models import RosterStatus, Shift, WorkQueue
from pivotdesk.workforce.services.adherence import presence_record

log = logging.getLogger(__name__)
SYSTEM = Actor.system("workforce")
BOUNDARY_WINDOW = dt.timedelta(minutes=2)


@shared_task(name="workforce.presence_on_event", ignore_result=True)
def presence_on_event(event: dict[str, Any]) -> None:
    """agent.status_changed → a presence span (adherence)."""
    payload = event.get("payload") or {}
    workspace_id, agent_id, new = event.get("workspace_id"), payload.get("agent_id"), payload.get("new")
    if not (isinstance(workspace_id, int) and isinstance(agent_id, int) and isinstance(new, str)):
        return
    changed_at = AgentProfile.objects.filter(pk=agent_id).values_list("status_changed_at", flat=True).first()
    presence_record(actor=SYSTEM, workspace_id=workspace_id, agent_id=agent_id, status=new, at=changed_at or now())


@shared_task(name="workforce.shift_boundaries", ignore_result=True)
def shift_boundaries() -> int:
    """Beat (every minute): shifts that started or ended in the last two minutes → one availability event per
    workspace, so routing refreshes its pool and routes waiting tickets to whoever just came on shift. A boundary
    is announced once (a cache key per workspace and minute); a repeat is harmless anyway."""
    at = now()
    since = at - BOUNDARY_WINDOW
    rows = Shift.objects.filter(roster__status=RosterStatus.PUBLISHED, agent__isnull=False).filter(
        start__gt=since, start__lte=at
    ) | Shift.objects.filter(roster__status=RosterStatus.PUBLISHED, agent__isnull=False, end__gt=since, end__lte=at)
    by_workspace: dict[int, set[int]] = {}
    for workspace_id, agent_id in rows.values_list("workspace_id", "agent_id"):
        by_workspace.setdefault(workspace_id, set()).add(agent_id)
    sent = 0
    for workspace_id, agents in by_workspace.items():
        key = f"workforce:boundary:{workspace_id}:{at:%Y%m%d%H%M}:{hash(frozenset(agents))}"
        if not cache.add(key, 1, timeout=int(BOUNDARY_WINDOW.total_seconds()) * 2):
            continue
        with transaction.atomic():
            publish(AvailabilityChanged(workspace_id=workspace_id, agent_ids=sorted(agents), reason="shift_boundary"))
        sent += 1
    return sent


@shared_task(name="workforce.refresh_forecasts", ignore_result=True)
def refresh_forecasts() -> int:
    """Nightly: recount each active queue's history from the desk's tickets and fit its forecast again."""
    from pivotdesk.workforce.services.forecasting import forecast_refresh

    done = 0
    for queue in WorkQueue.objects.filter(is_active=True).select_related("workspace"):
        try:
            forecast_refresh(actor=SYSTEM, queue=queue)
            done += 1
        except Exception:  # one queue's failure must not stop the others; it is stored as a failed forecast
            log.exception("workforce: forecast of queue %s failed", queue.pk)
    return done
