"""The one subscriber table: which background tasks react to which domain event.

`pivotdesk.tickets` (and the apps below it) publish events after commit; they never import the apps that react.
Every reaction to `ticket.created` is listed here, in one place. A task receives the event as a dict
({"name", "workspace_id", "payload"}) and must be idempotent. `"*"` subscribes to every event.
"""

from __future__ import annotations

import importlib
import logging
from functools import cache
from typing import Any

from django.conf import settings

from pivotdesk.common.events import DomainEvent, set_dispatcher

log = logging.getLogger(__name__)

_SLA_APPLY = "pivotdesk.sla.tasks.sla_apply_on_event"

SUBSCRIBERS: dict[str, list[str]] = {
    # Outgoing webhooks hear every event; each endpoint filters by the event types it registered.
    "*": ["pivotdesk.webhooks.tasks.webhook_fan_out"],
    "ticket.created": [
        # AI triage: every new ticket (and, below, every later message from the customer).
        "pivotdesk.ai.tasks.triage_on_event",
        # Routing: route the new ticket — after triage when triage runs (see WAIT_FOR below).
        "pivotdesk.routing.tasks.route_on_created",
        # SLA: match a policy and start the clocks.
        _SLA_APPLY,
    ],
    # AI triage of a new ticket finished (category, language, priority, team set or abstained): route it now.
    "ticket.triaged": ["pivotdesk.routing.tasks.route_on_created"],
    "ticket.updated": [
        # A person changing a field the AI set marks that prediction overridden (the training signal).
        "pivotdesk.ai.tasks.track_overrides",
        # Routing: a waiting ticket whose category, language or priority changed is tried again.
        "pivotdesk.routing.tasks.on_waiting_ticket_changed",
        # SLA: priority, tags, category, organization… may change the policy or the targets.
        _SLA_APPLY,
    ],
    "ticket.status_changed": [
        # Routing: a reopened ticket is routed again; a solved/closed one frees capacity (drain the queue).
        "pivotdesk.routing.tasks.on_status_changed",
        # SLA: pause, resume, fulfil resolution, resume it on reopen.
        _SLA_APPLY,
    ],
    # Routing: an unassigned ticket frees its agent's capacity.
    "ticket.assigned": ["pivotdesk.routing.tasks.on_unassigned"],
    # SLA: the merged ticket's clocks stop; the survivor keeps its own.
    "ticket.merged": [_SLA_APPLY],
    "message.created": [
        # A public agent reply goes back through the channel the customer used (outbox with retries).
        "pivotdesk.channels.tasks.outbox_enqueue_task",
        "pivotdesk.ai.tasks.triage_on_event",
        # SLA: an agent's public reply fulfils first/next reply; a customer message starts next reply.
        _SLA_APPLY,
    ],
    # Routing: re-route or drain on presence changes (offline/away with open tickets, an agent coming online).
    "agent.status_changed": ["pivotdesk.routing.tasks.on_agent_status"],
    # SLA: a contact's tier or organization changed, or a merge gave its tickets another requester; an
    # organization's tier changed: re-match the unsolved tickets at the next scan.
    "contact.updated": ["pivotdesk.sla.tasks.sla_recheck_on_contact_event"],
    "contact.merged": ["pivotdesk.sla.tasks.sla_recheck_on_contact_event"],
    "organization.updated": ["pivotdesk.sla.tasks.sla_recheck_on_organization_event"],
    # Automation (a later issue) hooks in here.
}


# Cheap checks, run in the publishing process, that skip queueing a task that would do nothing. A broker round
# trip costs far more than an indexed EXISTS (on the embedded SQLite broker it halved ticket creation speed).
# A check that fails (raises) lets the task be queued: a wasted task is better than a lost reaction.
WHEN: dict[str, str] = {
    "pivotdesk.webhooks.tasks.webhook_fan_out": "pivotdesk.webhooks.selectors.event_has_endpoints",
    "pivotdesk.channels.tasks.outbox_enqueue_task": "pivotdesk.channels.selectors.event_may_need_sending",
    "pivotdesk.ai.tasks.triage_on_event": "pivotdesk.ai.selectors.event_needs_triage",
    "pivotdesk.ai.tasks.track_overrides": "pivotdesk.ai.selectors.event_may_override",
    "pivotdesk.routing.tasks.route_on_created": "pivotdesk.routing.selectors.event_may_route",
    "pivotdesk.routing.tasks.on_status_changed": "pivotdesk.routing.selectors.event_status_matters",
    "pivotdesk.routing.tasks.on_unassigned": "pivotdesk.routing.selectors.event_frees_capacity",
    "pivotdesk.routing.tasks.on_agent_status": "pivotdesk.routing.selectors.event_agent_status",
    "pivotdesk.routing.tasks.on_waiting_ticket_changed": "pivotdesk.routing.selectors.event_changes_waiting_ticket",
    "pivotdesk.sla.tasks.sla_apply_on_event": "pivotdesk.sla.selectors.event_needs_sla",
    "pivotdesk.sla.tasks.sla_recheck_on_contact_event": "pivotdesk.sla.selectors.event_may_rematch_contact",
    "pivotdesk.sla.tasks.sla_recheck_on_organization_event": "pivotdesk.sla.selectors.event_may_rematch_organization",
}


# Reactions that wait for another one: (event, task) → (the check saying the other will run, the setting holding
# how many seconds to wait at most). The task is queued with that countdown as a fallback (the other may fail or be
# slow), and another event runs it sooner: routing waits for triage, and `ticket.triaged` routes the ticket at
# once. Tasks are idempotent, so the late fallback finds the ticket routed and does nothing.
WAIT_FOR: dict[tuple[str, str], tuple[str, str]] = {
    ("ticket.created", "pivotdesk.routing.tasks.route_on_created"): (
        "pivotdesk.ai.selectors.event_needs_triage",
        "ROUTING_WAIT_FOR_TRIAGE_SECONDS",
    ),
}


@cache
def _task(path: str) -> Any:
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def subscribers_for(name: str) -> list[str]:
    """Task paths that react to an event name."""
    return [*SUBSCRIBERS.get(name, []), *SUBSCRIBERS.get("*", [])]


def dispatch(event: DomainEvent) -> None:
    """Queue one Celery task per subscriber of the event."""
    body = event.as_dict()
    for path in subscribers_for(event.name):
        if not _wanted(path, body):
            continue
        try:
            countdown = _wait(event.name, path, body)
            if countdown:
                _task(path).apply_async((body,), countdown=countdown)
            else:
                _task(path).delay(body)
        except Exception:  # one broken subscriber must not stop the others
            log.exception("could not queue %s for %s", path, event.name)


def _wait(name: str, path: str, body: dict[str, Any]) -> float:
    """Seconds to hold the task back for the reaction it waits for (0: queue it now)."""
    rule = WAIT_FOR.get((name, path))
    if rule is None:
        return 0.0
    check, setting = rule
    seconds = float(getattr(settings, setting, 0) or 0)
    if seconds <= 0:
        return 0.0
    try:
        return seconds if _task(check)(body) else 0.0
    except Exception:
        log.exception("wait check %s failed; queueing %s now", check, path)
        return 0.0


def _wanted(path: str, body: dict[str, Any]) -> bool:
    check = WHEN.get(path)
    if check is None:
        return True
    try:
        return bool(_task(check)(body))
    except Exception:
        log.exception("subscriber check %s failed; queueing %s anyway", check, path)
        return True


def install() -> None:
    """Install `dispatch` as the process-wide event dispatcher."""
    set_dispatcher(dispatch)
