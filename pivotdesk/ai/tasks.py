"""Celery tasks of AI triage: thin, take ids (or the event dict), call the pipeline or one service, safe to rerun."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import pipeline
from pivotdesk.ai.services import overrides
from pivotdesk.common.events import publish


@shared_task(name="ai.triage_ticket", ignore_result=True)
def triage_ticket(ticket_id: int, message_id: int | None = None, force: bool = False) -> None:
    """Run the triage pipeline on a ticket (steps that succeeded before are not repeated unless forced)."""
    pipeline.triage_ticket(ticket_id=ticket_id, message_id=message_id, force=force)


@shared_task(name="ai.triage_on_event", ignore_result=True)
def triage_on_event(event: dict[str, Any]) -> None:
    """ticket.created, or message.created from a customer → triage that ticket. A new ticket's triage ends with
    `ticket.triaged` (routing waits for it: category, language and priority decide who can take the ticket)."""
    result = pipeline.triage_for_event(event)
    ticket_id = (event.get("payload") or {}).get("ticket_id")
    workspace_id = event.get("workspace_id")
    if event.get("name") == "ticket.created" and isinstance(ticket_id, int) and isinstance(workspace_id, int):
        publish("ticket.triaged", workspace_id=workspace_id, ticket_id=ticket_id, ran=result is not None)


@shared_task(name="ai.track_overrides", ignore_result=True)
def track_overrides(event: dict[str, Any]) -> None:
    """ticket.updated → a person's change of an AI-set field marks that prediction overridden (training signal)."""
    payload = event.get("payload") or {}
    ticket_id = payload.get("ticket_id")
    if isinstance(ticket_id, int):
        overrides.predictions_track_overrides(
            actor=Actor.system("ai"), ticket_id=ticket_id, fields=list(payload.get("fields") or ())
        )


@shared_task(name="ai.retrain_models", ignore_result=True)
def retrain_models() -> None:
    """Nightly: retrain every workspace's classification and sentiment models from resolved tickets (a new version
    replaces the active one only if it is better on the held-out split)."""
    from pivotdesk.ai.services import training

    training.retrain_all(actor=Actor.system("ai"))


@shared_task(name="ai.refresh_topics", ignore_result=True)
def refresh_topics() -> None:
    """Hourly: regroup every workspace's recent out-of-scope tickets into emerging topics (open ones rebuilt,
    promoted and dismissed ones kept)."""
    from pivotdesk.ai.services import topics

    topics.topics_refresh_all(actor=Actor.system("ai"))


@shared_task(name="ai.embeddings_prune", ignore_result=True)
def embeddings_prune() -> None:
    """Daily: drop cached sentence embeddings of another encoder (a model change) or computed over 90 days ago."""
    from pivotdesk.ai.services import embeddings

    embeddings.prune()
