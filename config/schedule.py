"""The one list of periodic jobs (Celery beat). Each entry names a task and how often it runs."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Events: deliver committed events no relay process has taken (the relay process normally does, within 0.1 s).
    "events-relay-due": {"task": "events.relay_due", "schedule": 10.0, "options": {"expires": 9.0}},
    # Knowledge: encode new articles and learned questions ahead of the searches that need them.
    "knowledge-warm": {"task": "knowledge.warm", "schedule": 300.0, "options": {"expires": 290.0}},
    # Knowledge: rebuild the graph, calibrate the bot and queue articles for review, every night.
    "knowledge-nightly": {
        "task": "knowledge.nightly",
        "schedule": crontab(hour=3, minute=41),
        "options": {"expires": 3600.0},
    },
    # Events: delete delivered events after PIVOTDESK_EVENTS_KEEP_DAYS.
    "events-prune": {"task": "events.prune", "schedule": crontab(hour=4, minute=7), "options": {"expires": 3600.0}},
    # Outgoing webhooks: send the deliveries whose back-off has passed (and sends whose worker died).
    "webhooks-retry-due": {"task": "webhooks.retry_due", "schedule": 30.0, "options": {"expires": 25.0}},
    # Notifications: send external deliveries whose back-off or the agent's quiet hours are over.
    "notifications-retry-due": {"task": "notifications.retry_due", "schedule": 30.0, "options": {"expires": 25.0}},
    # Channels: re-send queued replies whose back-off has passed (SMTP down, platform 5xx/429).
    "channels-outbox-retry-due": {"task": "channels.outbox_retry_due", "schedule": 30.0, "options": {"expires": 25.0}},
    # Portal: re-send customer notices (sign-in links, codes, progress, survey invitations) whose back-off passed.
    "portal-retry-due": {"task": "portal.retry_due", "schedule": 30.0, "options": {"expires": 25.0}},
    # Channels: process again the inbound payloads that found the database locked, or that nobody finished.
    "channels-inbound-retry-due": {
        "task": "channels.inbound_retry_due",
        "schedule": 60.0,
        "options": {"expires": 55.0},
    },
    # Email: fetch new mail from every IMAP mailbox (one task per mailbox; `manage.py mail_idle` is the push option).
    "channels-poll-mailboxes": {"task": "channels.poll_mailboxes", "schedule": 60.0, "options": {"expires": 55.0}},
    # Routing: retry waiting tickets (relax one ladder step per skill timeout, then overflow).
    "routing-drain-queues": {"task": "routing.drain_queues", "schedule": 30.0, "options": {"expires": 25.0}},
    # Workforce: a shift started or ended → routing refreshes its pool and routes waiting tickets to who came on.
    "workforce-shift-boundaries": {
        "task": "workforce.shift_boundaries",
        "schedule": 60.0,
        "options": {"expires": 55.0},
    },
    # Workforce: recount each queue's history and fit its forecast again, nightly.
    "workforce-refresh-forecasts": {
        "task": "workforce.refresh_forecasts",
        "schedule": crontab(hour=2, minute=53),
        "options": {"expires": 3600.0},
    },
    # Night duty: pages nobody acknowledged in time climb one level (exactly once, whichever scheduler runs it).
    "oncall-escalate-due": {"task": "oncall.escalate_due", "schedule": 10.0, "options": {"expires": 9.0}},
    # Surveys: delayed CSAT invitations, expiries, and the NPS campaigns whose time has come.
    "surveys-run-due": {"task": "surveys.run_due", "schedule": 300.0, "options": {"expires": 290.0}},
    # Automation: time rules ("pending 72 h without a reply → remind"), each firing once per ticket and period.
    "automation-time-rules": {
        "task": "automation.time_rules",
        "schedule": crontab(minute=17),
        "options": {"expires": 3000.0},
    },
    # Automation: chain stages open longer than expected are announced once (a rule opens the side tickets).
    "automation-chain-delays": {"task": "automation.chain_delays", "schedule": 300.0, "options": {"expires": 290.0}},
    # SLA: recompute tickets whose next warning, deadline or escalation has come, and fire each once.
    "sla-scan-due": {"task": "sla.scan_due", "schedule": 30.0, "options": {"expires": 25.0}},
    # Search: rebuild the full-text documents (every registered kind: tickets, …) of objects changed since they were
    # indexed (no task per change).
    "search-sweep": {"task": "search.sweep", "schedule": 5.0, "options": {"expires": 5.0}},
    # Channels: delete rejected webhook calls (bad signatures) after PIVOTDESK_REJECTED_INBOUND_KEEP_DAYS.
    "channels-prune-rejected": {
        "task": "channels.prune_rejected",
        "schedule": crontab(hour=4, minute=23),
        "options": {"expires": 3600.0},
    },
    # AI: retrain each workspace's triage models from resolved tickets, nightly (activated only when better).
    "ai-retrain-models": {
        "task": "ai.retrain_models",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 3600.0},
    },
    # AI: drop cached sentence embeddings of another encoder (a model change) or unused for 90 days, nightly.
    "ai-embeddings-prune": {
        "task": "ai.embeddings_prune",
        "schedule": crontab(hour=4, minute=41),
        "options": {"expires": 3600.0},
    },
    # AI: regroup recent out-of-scope tickets into emerging topics (the AI insights page), hourly.
    "ai-refresh-topics": {
        "task": "ai.refresh_topics",
        "schedule": crontab(minute=41),
        "options": {"expires": 3600.0},
    },
}

#: Every periodic job goes to its own queue, served by its own worker process (Procfile `scheduled`), so a backlog
#: of event work never delays an SLA scan past its `expires` (under load, every scheduled job once expired behind
#: the event backlog: no SLA scan for 7 minutes). Each `expires` is at most the job's interval: a copy that waited
#: that long is superseded by the next one.
SCHEDULED_QUEUE = "scheduled"
for _entry in BEAT_SCHEDULE.values():
    _entry["options"]["queue"] = SCHEDULED_QUEUE
