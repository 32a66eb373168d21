"""Ticket full-text search: building a ticket's search document and asking the index which tickets match.

The words come from `tickets.domain.search_text` (jieba for Chinese, the same cut for documents and queries). The
index is the database's own: SQLite FTS5 (embedded default) or a PostgreSQL GIN index over a `simple` tsvector
(scale-out), both made by migration 0006. Another database falls back to substring matching over the documents.

Documents are rebuilt by the task `tickets.search_index_on_event` after a ticket or message event (and by the AI
after it reads an attachment), so a ticket is findable a moment after it changes, not inside the same request;
`manage.py search_reindex` rebuilds them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q
from django.db.models.expressions import RawSQL

from pivotdesk.common.time import now
from pivotdesk.tickets.domain import search_text
from pivotdesk.tickets.models import Attachment, Message, Ticket, TicketSearchDocument

# Conditions on the ticket table ("tickets_ticket"); the query's words are always a bound parameter.
SQLITE_MATCH = '"tickets_ticket"."id" IN (SELECT rowid FROM tickets_search_fts WHERE tickets_search_fts MATCH %s)'
POSTGRESQL_MATCH = (
    '"tickets_ticket"."id" IN (SELECT ticket_id FROM tickets_ticketsearchdocument '
    "WHERE workspace_id = %s AND to_tsvector('simple', body) @@ to_tsquery('simple', %s))"
)


def document_parts(ticket: Ticket) -> Iterable[str]:
    """What a ticket is found by: subject, every message (notes too: agents search them), attachment names and the
    text read from attachments (OCR, transcripts)."""
    yield ticket.subject
    yield from Message.objects.filter(ticket=ticket).order_by("pk").values_list("body_text", flat=True)
    for name, text in Attachment.objects.filter(ticket=ticket).order_by("pk").values_list("filename", "extracted_text"):
        yield name
        yield text


def search_document_build(ticket_id: int) -> bool:
    """Rebuild one ticket's search document; False when the ticket is gone. Idempotent."""
    ticket = Ticket.objects.filter(pk=ticket_id).only("pk", "workspace_id", "subject").first()
    if ticket is None:
        return False
    body = search_text.document(document_parts(ticket))
    TicketSearchDocument.objects.update_or_create(
        ticket_id=ticket.pk, defaults={"workspace_id": ticket.workspace_id, "body": body, "indexed_at": now()}
    )
    return True


def search_reindex(*, workspace_id: int | None = None, missing_only: bool = False) -> int:
    """Rebuild the search documents of every ticket (of one workspace); returns how many were built."""
    tickets = Ticket.objects.all()
    if workspace_id is not None:
        tickets = tickets.filter(workspace_id=workspace_id)
    if missing_only:
        tickets = tickets.filter(search_document__isnull=True)
    built = 0
    for pk in tickets.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=500):
        built += search_document_build(pk)
    return built


def event_needs_index(event: dict[str, Any]) -> bool:
    """Whether an event changes what a ticket is found by (checked before queueing the index task): a new ticket, a
    later message, a merge, a changed subject. A new ticket's first message is indexed with the ticket."""
    name = event.get("name")
    payload = event.get("payload") or {}
    if name == "message.created":
        return not payload.get("initial")
    if name == "ticket.updated":
        return "subject" in (payload.get("fields") or ())
    return True


def matching(*, workspace_id: int, query: str) -> Q | None:
    """A condition on tickets: the ticket's document has every word of the query (each as a prefix), or — for a
    ticket changed in the last SEARCH_FRESH_MINUTES, whose document may not be rebuilt yet — the query is in its
    subject, a message or an attachment's text as a substring. None when the query has no words."""
    terms = search_text.query_terms(query)
    if not terms:
        return None
    return _indexed(workspace_id, terms) | _fresh(query)


def _indexed(workspace_id: int, terms: list[str]) -> Q:
    vendor = connection.vendor
    # Constant SQL; the query's words are bound parameters.
    if vendor == "sqlite":
        words = RawSQL(SQLITE_MATCH, [search_text.fts5_match(terms)], output_field=BooleanField())  # noqa: S611
        return Q(words)
    if vendor == "postgresql":
        params = [workspace_id, search_text.tsquery(terms)]
        return Q(RawSQL(POSTGRESQL_MATCH, params, output_field=BooleanField()))  # noqa: S611
    cond = Q()
    for term in terms:  # no full-text index on this database: every word somewhere in the document
        cond &= Q(search_document__body__icontains=term)
    return cond


def _fresh(query: str) -> Q:
    since = now() - dt.timedelta(minutes=settings.SEARCH_FRESH_MINUTES)
    in_messages = Message.objects.filter(ticket=OuterRef("pk"), body_text__icontains=query)
    in_attachments = Attachment.objects.filter(ticket=OuterRef("pk"), extracted_text__icontains=query)
    return Q(updated_at__gte=since) & (Q(subject__icontains=query) | Q(Exists(in_messages)) | Q(Exists(in_attachments)))
