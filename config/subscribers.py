"""The one subscriber table: which reactions run for which domain event, in which order.

Apps store typed events with their changes (`pivotdesk.common.events`); the relay (`pivotdesk.common.relay`) hands
each committed event to `dispatch`, which runs the subscribers listed here one after the other, in the relay's
process: one hop per event instead of a broker message per subscriber. Every reaction to `ticket.created` is listed
here, in one place. A subscriber is a task function that receives the event as a dict ({"id", "name",
"workspace_id", "payload"}) and must be idempotent: an event is delivered at least once, and a subscriber that
failed is run again (alone) after a back-off. `"*"` subscribes to every event.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from functools import cache
from typing import Any

from pivotdesk.common.events import DispatchResult, DomainEvent, autodiscover, set_batch_preparer, set_dispatcher

log = logging.getLogger(__name__)

_SLA_APPLY = "pivotdesk.sla.tasks.sla_apply_on_event"
_TRIGGERS = "pivotdesk.automation.tasks.triggers_on_event"
_APPEASED = "pivotdesk.automation.tasks.appeasement_outcome"
_PORTAL_PROGRESS = "pivotdesk.portal.tasks.progress_on_event"

SUBSCRIBERS: dict[str, list[str]] = {
    # Outgoing webhooks hear every event; each endpoint filters by the event types it registered.
    "*": ["pivotdesk.webhooks.tasks.webhook_fan_out"],
    # In this order, in one pass: triage reads the ticket first (category, language and priority decide who can
    # take it), then routing picks the agent (also when triage failed: it is retried alone later), then SLA.
    "ticket.created": [
        # AI triage: every new ticket (and, below, every later message from the customer).
        "pivotdesk.ai.tasks.triage_on_event",
        # Automation: triggers (after triage: they read its category, priority and sentiment; before routing: a
        # trigger may set the team or assign, which routing then respects).
        _TRIGGERS,
        # Routing: route the new ticket, now that triage has read it.
        "pivotdesk.routing.tasks.route_on_created",
        # SLA: match a policy and start the clocks (after triage: its priority and category choose the policy).
        _SLA_APPLY,
        # Night duty: an urgent ticket pages the on-call engineer (after triage: priority, category, keywords).
        "pivotdesk.oncall.tasks.page_on_event",
        # After hours: the auto-reply in the customer's language (after paging: it says the engineer was paged).
        "pivotdesk.oncall.tasks.after_hours_on_event",
    ],
    "ticket.updated": [
        # A person changing a field the AI set marks that prediction overridden (the training signal).
        "pivotdesk.ai.tasks.track_overrides",
        # Automation: triggers on "field changed from/to" (a rule's own change is skipped: loop protection).
        _TRIGGERS,
        # Routing: a waiting ticket whose category, language or priority changed is tried again.
        "pivotdesk.routing.tasks.on_waiting_ticket_changed",
        # SLA: priority, tags, category, organization… may change the policy or the targets.
        _SLA_APPLY,
        # Night duty: a ticket raised to urgent later pages then (one open page per ticket).
        "pivotdesk.oncall.tasks.page_on_event",
        # Portal: the requester hears that a team took the request (once per event; opt-out respected).
        _PORTAL_PROGRESS,
    ],
    "ticket.status_changed": [
        # Routing: a reopened ticket is routed again; a solved/closed one frees capacity (drain the queue).
        "pivotdesk.routing.tasks.on_status_changed",
        # Automation: a solved stage ticket finishes its chain stage and opens the next; an appeased ticket
        # solved records that the customer calmed down.
        "pivotdesk.automation.tasks.chain_on_status",
        _APPEASED,
        # SLA: pause, resume, fulfil resolution, resume it on reopen.
        _SLA_APPLY,
        # Knowledge: a solved ticket's resolution, graph entities and article proposal; a reopen marks it failed.
        "pivotdesk.knowledge.tasks.knowledge_on_status",
        # Surveys: a solved ticket invites its requester to rate it (once per solve; survey.invited sends it).
        "pivotdesk.surveys.tasks.csat_on_status",
        # Portal: the requester hears the change in plain language (waiting on you, solved, reopened…).
        _PORTAL_PROGRESS,
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
        # Automation: triggers on "customer replied" / "agent replied"; an approval sent back to the requester
        # is resubmitted by their reply.
        _TRIGGERS,
        "pivotdesk.automation.tasks.approval_on_reply",
        _APPEASED,
        # After hours: a customer answering the bot with "人工" / "human" is handed to a person.
        "pivotdesk.oncall.tasks.person_asked_on_event",
        # Notifications: an internal note's @mentions tell the colleagues it names.
        "pivotdesk.notifications.tasks.mentions_on_event",
    ],
    # Routing: re-route or drain on presence changes (offline/away with open tickets, an agent coming online).
    # Workforce: the presence spans that real-time adherence compares with the roster.
    "agent.status_changed": ["pivotdesk.routing.tasks.on_agent_status", "pivotdesk.workforce.tasks.presence_on_event"],
    # Routing: who is on shift changed (a shift started or ended, a roster published, a leave or swap approved).
    "workforce.availability_changed": ["pivotdesk.routing.tasks.on_availability_changed"],
    # SLA: a contact's tier or organization changed, or a merge gave its tickets another requester; an
    # organization's tier changed: re-match the unsolved tickets at the next scan.
    "contact.updated": ["pivotdesk.sla.tasks.sla_recheck_on_contact_event"],
    "contact.merged": ["pivotdesk.sla.tasks.sla_recheck_on_contact_event"],
    "organization.updated": ["pivotdesk.sla.tasks.sla_recheck_on_organization_event"],
    # Automation: rules on SLA warnings and breaches, approval decisions, chain stages and business events.
    "sla.warning": [_TRIGGERS],
    "sla.breached": [_TRIGGERS],
    # Portal: approval and linked-chain stages are progress the requester hears about.
    "automation.approval_decided": [_TRIGGERS, _PORTAL_PROGRESS],
    "automation.chain_stage_changed": [_TRIGGERS, _PORTAL_PROGRESS],
    # Portal: a survey's invitation goes to the customer through their channel, with one-click score links.
    "survey.invited": ["pivotdesk.portal.tasks.survey_invited_on_event"],
    "automation.business_event": [_TRIGGERS],
    # Knowledge: the graph reads a published article's entities.
    "knowledge.article_published": ["pivotdesk.knowledge.tasks.knowledge_index_article"],
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
    "pivotdesk.oncall.tasks.person_asked_on_event": "pivotdesk.oncall.selectors.event_may_ask_for_person",
    "pivotdesk.notifications.tasks.mentions_on_event": "pivotdesk.notifications.selectors.event_may_mention",
    _TRIGGERS: "pivotdesk.automation.selectors.event_may_trigger",
    "pivotdesk.automation.tasks.chain_on_status": "pivotdesk.automation.selectors.event_closes_stage",
    "pivotdesk.surveys.tasks.csat_on_status": "pivotdesk.surveys.selectors.event_may_invite",
    "pivotdesk.automation.tasks.approval_on_reply": "pivotdesk.automation.selectors.event_may_resubmit",
    _APPEASED: "pivotdesk.automation.selectors.event_may_settle_appeasement",
    _PORTAL_PROGRESS: "pivotdesk.portal.stages.event_may_notify",
}


# Run once per relay batch, with all its events, before they are dispatched: warm-ups that make the subscribers
# cheaper when events arrive together. Never required (a subscriber works without them); an error is logged and
# ignored, and the batch is delivered all the same.
BATCH_PREPARERS: list[str] = [
    # AI: embed the batch's new tickets (and customers' new messages) in one encoder call and one cache write, so
    # that each triage finds its ticket's sentence embedding cached.
    "pivotdesk.ai.services.embeddings.prepare_events",
]


@cache
def _task(path: str) -> Any:
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def subscribers_for(name: str) -> list[str]:
    """Task paths that react to an event name."""
    return [*SUBSCRIBERS.get(name, []), *SUBSCRIBERS.get("*", [])]


def dispatch(event: DomainEvent, done: frozenset[str] = frozenset()) -> DispatchResult:
    """Run every subscriber of the event in order, except those in `done`; one failure does not stop the others."""
    body = event.as_dict()
    result = DispatchResult()
    for path in subscribers_for(event.name):
        if path in done:
            continue
        try:
            if _wanted(path, body):
                _task(path)(body)
        except Exception as exc:  # recorded on the event row and retried alone after a back-off
            log.exception("subscriber %s failed for %s %s", path, event.name, event.id)
            result.failed[path] = f"{type(exc).__name__}: {exc}"[:500]
        else:
            result.done.append(path)
    return result


def _wanted(path: str, body: dict[str, Any]) -> bool:
    check = WHEN.get(path)
    if check is None:
        return True
    try:
        return bool(_task(check)(body))
    except Exception:
        log.exception("subscriber check %s failed; queueing %s anyway", check, path)
        return True


def prepare(batch: Sequence[DomainEvent]) -> None:
    """Run every batch preparer on a batch of events about to be dispatched; one failure does not stop the others."""
    for path in BATCH_PREPARERS:
        try:
            _task(path)(batch)
        except Exception:
            log.exception("batch preparer %s failed (ignored) for %d events", path, len(batch))


def install() -> None:
    """Install `dispatch` as the process-wide event dispatcher (and `prepare` as its batch preparer) and register
    every app's event types."""
    autodiscover()
    set_dispatcher(dispatch)
    set_batch_preparer(prepare)
    # The generic channel webhook (channels) hands business events to automation: neither app imports the other.
    from pivotdesk.automation.services.business_events import channel_sink
    from pivotdesk.channels.adapters.generic import register_business_event_sink

    register_business_event_sink(channel_sink)
    # Night duty's after-hours reply answers from the knowledge base (oncall and knowledge are sibling layers).
    from pivotdesk.knowledge.services.bot import afterhours_source
    from pivotdesk.oncall.services.afterhours import register_answer_source

    register_answer_source(afterhours_source)
