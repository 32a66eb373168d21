"""Celery tasks of the knowledge app: thin, take ids, call one service, safe to run twice."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pivotdesk.accounts.actors import Actor
from pivotdesk.knowledge import retrieval
from pivotdesk.knowledge.models import Article
from pivotdesk.knowledge.services import bot, graph, reactions, transfer


@shared_task(name="knowledge.import_run", ignore_result=True)
def import_run_task(job_id: int) -> None:
    """Run a queued knowledge-base import (a job already running is left alone; a rerun updates, never duplicates)."""
    transfer.import_run(job_id=job_id)


SYSTEM = Actor.system("knowledge")


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    payload = event.get("payload")
    return payload if isinstance(payload, dict) else {}


@shared_task(name="knowledge.on_status_changed", ignore_result=True)
def knowledge_on_status(event: dict[str, Any]) -> None:
    """ticket.status_changed: a solved ticket's resolution, graph and proposal; a reopened one's failed resolution."""
    payload, workspace_id = _payload(event), event.get("workspace_id")
    ticket_id, old, new = payload.get("ticket_id"), payload.get("old"), payload.get("new")
    if isinstance(workspace_id, int) and isinstance(ticket_id, int) and isinstance(old, str) and isinstance(new, str):
        reactions.on_status_changed(actor=SYSTEM, workspace_id=workspace_id, ticket_id=ticket_id, old=old, new=new)


@shared_task(name="knowledge.index_article", ignore_result=True)
def knowledge_index_article(event: dict[str, Any]) -> None:
    """knowledge.article_published: the graph reads the article's entities."""
    article_id = _payload(event).get("article_id")
    if isinstance(article_id, int):
        graph.index_article(actor=SYSTEM, article_id=article_id)


@shared_task(name="knowledge.nightly", ignore_result=True)
def knowledge_nightly() -> int:
    """Every night: rebuild each workspace's graph, calibrate its bot, queue the articles that need a review."""
    workspaces = list(Article.objects.values_list("workspace_id", flat=True).distinct())
    for workspace_id in workspaces:
        graph.rebuild(actor=SYSTEM, workspace_id=workspace_id)
        bot.calibrate(workspace_id)
    return reactions.review_all(actor=SYSTEM)


@shared_task(name="knowledge.warm", ignore_result=True)
def knowledge_warm() -> int:
    """Every few minutes: encode what changed in each workspace's articles and learned questions, so the vectors a
    search needs are already in the shared cache (a web process then builds its index from the cache, not the
    encoder)."""
    built = 0
    for workspace_id in Article.objects.values_list("workspace_id", flat=True).distinct():
        built += retrieval.article_index(workspace_id) is not None
    return built
