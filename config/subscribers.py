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

from pivotdesk.common.events import DomainEvent, set_dispatcher

log = logging.getLogger(__name__)

SUBSCRIBERS: dict[str, list[str]] = {
    # Outgoing webhooks hear every event; each endpoint filters by the event types it registered.
    "*": ["pivotdesk.webhooks.tasks.webhook_fan_out"],
    # A public agent reply goes back through the channel the customer used (outbox with retries).
    "message.created": ["pivotdesk.channels.tasks.outbox_enqueue_task", "pivotdesk.ai.tasks.triage_on_event"],
    # AI triage: every new ticket, and every later message from the customer (steps are recorded per message).
    "ticket.created": ["pivotdesk.ai.tasks.triage_on_event"],
    # A person changing a field the AI set marks that prediction overridden (the training signal).
    "ticket.updated": ["pivotdesk.ai.tasks.track_overrides"],
    # Later issues hook in here: sla (ticket.created, ticket.updated, message.created), automation (…).
}
# Routing: route new tickets (after AI triage set category/language), re-route reopened ones, drain the waiting
# queue when capacity frees up, re-route or drain on agent presence changes.
SUBSCRIBERS["ticket.created"].append("pivotdesk.routing.tasks.route_on_created")
SUBSCRIBERS.setdefault("ticket.status_changed", []).append("pivotdesk.routing.tasks.on_status_changed")
SUBSCRIBERS.setdefault("ticket.assigned", []).append("pivotdesk.routing.tasks.on_unassigned")
SUBSCRIBERS.setdefault("agent.status_changed", []).append("pivotdesk.routing.tasks.on_agent_status")
SUBSCRIBERS.setdefault("ticket.updated", []).append("pivotdesk.routing.tasks.on_waiting_ticket_changed")
# SLA: recompute the ticket's clocks when something that moves them happens (a merge clears the merged ticket's).
for _name in ("ticket.created", "ticket.updated", "ticket.status_changed", "message.created", "ticket.merged"):
    SUBSCRIBERS.setdefault(_name, []).append("pivotdesk.sla.tasks.sla_apply_on_event")
# SLA: a contact's tier or organization changed, or a merge gave its tickets another requester: re-match its
# unsolved tickets at the next scan (an organization's own tier change publishes no event yet).
for _name in ("contact.updated", "contact.merged"):
    SUBSCRIBERS.setdefault(_name, []).append("pivotdesk.sla.tasks.sla_recheck_on_contact_event")
SUBSCRIBERS.setdefault("organization.updated", []).append("pivotdesk.sla.tasks.sla_recheck_on_organization_event")


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
            _task(path).delay(body)
        except Exception:  # one broken subscriber must not stop the others
            log.exception("could not queue %s for %s", path, event.name)


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
