"""What the knowledge base does when a ticket is solved or reopened (run by `tasks.knowledge_on_status`, a subscriber
of `ticket.status_changed` in `config.subscribers`), and the daily review sweep.

Solved: the ticket gets its `Resolution` row if the agent did not record one (the solution is the agent's last
public reply; the model's suggestion is kept beside it), the graph learns its entities and outcome, and a solution
no article covers becomes a proposal. Reopened: the resolution did not hold (`succeeded = False`), which the graph's
"worked in N of M" and the review sweep read. Every step is idempotent: an event delivered twice changes nothing
more.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Status, Ticket

from ..models import Article, Resolution
from . import evolution

log = logging.getLogger(__name__)
RESOLVED = (Status.SOLVED, Status.CLOSED)
OPEN_AGAIN = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


def _suggested(ticket: Ticket) -> tuple[Any, float | None]:
    from . import rootcause

    suggestion = rootcause.suggest(ticket)
    if suggestion is None or suggestion.abstained:
        return None, None
    return suggestion.root_cause, float(suggestion.confidence)


def _ensure_resolution(ticket: Ticket) -> Resolution:
    """The ticket's resolution, created from its conversation when the agent recorded none."""
    found = Resolution.objects.filter(ticket=ticket).first()
    if found is not None:
        if found.resolved_at is None or not found.succeeded:
            found.resolved_at, found.succeeded = now(), True  # solved (again): the latest solve is what counts
            found.save(update_fields=["resolved_at", "succeeded", "updated_at"])
        return found
    suggested, confidence = _suggested(ticket)
    try:
        with transaction.atomic():
            return Resolution.objects.create(
                workspace_id=ticket.workspace_id, ticket=ticket, solution=evolution.solution_of(ticket),
                resolved_by_id=ticket.assignee_id, resolved_at=now(), suggested=suggested,
                suggested_confidence=confidence,
            )  # fmt: skip
    except IntegrityError:
        return Resolution.objects.get(ticket=ticket)


def on_status_changed(*, actor: Actor, workspace_id: int, ticket_id: int, old: str, new: str) -> None:
    """`ticket.status_changed`: solved → resolution, graph, proposal; reopened → the resolution did not hold."""
    from . import graph, rootcause

    authorize_system(actor)
    ticket = Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id, merged_into__isnull=True).first()
    if ticket is None:
        return
    if new in RESOLVED and old not in RESOLVED:
        _ensure_resolution(ticket)
        graph.index_ticket(actor=actor, ticket_id=ticket.pk)
        evolution.propose_from_resolution(actor=actor, ticket=ticket)
    elif old in RESOLVED and new in OPEN_AGAIN:
        rootcause.mark_reopened(actor=actor, ticket=ticket)


def review_all(*, actor: Actor) -> int:
    """The daily review sweep over every workspace with articles."""
    authorize_system(actor)
    queued = 0
    for workspace_id in Article.objects.values_list("workspace_id", flat=True).distinct():
        queued += evolution.review_sweep(actor=actor, workspace_id=workspace_id)
    return queued
