"""Ticket full-text search: building a ticket's search document and asking the index which tickets match.

The words come from `tickets.domain.search_text` (jieba for Chinese, the same cut for documents and queries). The
index is the database's own: SQLite FTS5 (embedded default) or a PostgreSQL GIN index over a `simple` tsvector
(scale-out), both made by migration 0006. Another database falls back to substring matching over the documents.

Documents are rebuilt by a periodic sweep (`search_index_sweep`, every few seconds on beat) for every ticket whose
`updated_at` moved past its document's (a message, a merge, a field change, text read from an attachment). Nothing
is queued per ticket, so creating a ticket costs no extra broker message; until the sweep has run, a fresh ticket
is found by substring (`_fresh_ids`). `manage.py search_reindex` rebuilds them all.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, IntegerField, Max, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from pivotdesk.common.time import now
from pivotdesk.tickets.domain import search_text
from pivotdesk.tickets.models import Attachment, Message, Ticket, TicketSearchDocument, TicketSearchIndex

SWEEP_BATCH = 500
SWEEP_BUDGET_SECONDS = 4.0  # less than the beat interval (5 s); a backlog is worked off over several runs


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
    ticket = Ticket.objects.filter(pk=ticket_id).only("pk", "workspace_id", "subject", "updated_at").first()
    if ticket is None:
        return False
    body = search_text.document(document_parts(ticket))
    TicketSearchDocument.objects.update_or_create(
        ticket_id=ticket.pk,
        defaults={
            "workspace_id": ticket.workspace_id,
            "body": body,
            "indexed_at": now(),
            "source_updated_at": ticket.updated_at,
        },
    )
    return True


def search_index_sweep(*, batch: int = SWEEP_BATCH, budget_seconds: float = SWEEP_BUDGET_SECONDS) -> int:
    """Rebuild the documents of tickets changed since their document was built (or never indexed), oldest change
    first, until none is left or the time budget is spent; returns how many were built. Safe to run concurrently.

    Only tickets changed since the newest document's `source_updated_at`, less SEARCH_FRESH_MINUTES (for changes
    committed late by a long transaction), are looked at: an indexed range scan, not the whole table. A backlog
    (a worker that was down) is worked off from its oldest change, so the mark only moves past what was built."""
    started = time.monotonic()
    built = 0
    while True:  # at least one batch
        mark = TicketSearchDocument.objects.aggregate(m=Max("source_updated_at"))["m"]
        stale = Ticket.objects.filter(
            Q(search_document__isnull=True) | Q(search_document__source_updated_at__lt=F("updated_at"))
        )
        if mark is not None:
            stale = stale.filter(updated_at__gte=mark - dt.timedelta(minutes=settings.SEARCH_FRESH_MINUTES))
        ids = list(stale.order_by("updated_at", "pk").values_list("pk", flat=True)[:batch])
        for pk in ids:
            built += search_document_build(pk)
        if len(ids) < batch or time.monotonic() - started >= budget_seconds:
            break
    return built


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


def matching_ids(*, workspace_id: int, query: str) -> QuerySet[Any] | None:
    """The ids of the tickets whose document has every word of the query (each as a prefix), and — for tickets
    changed in the last SEARCH_FRESH_MINUTES, whose document may not be rebuilt yet — of those with the query in
    their subject, a message or an attachment's text as a substring. None when the query has no words.

    A query of ids (one column), for `pk__in` or a UNION: the database answers it from the index first, and the
    ticket list then fetches rows by id instead of testing every ticket of the workspace."""
    terms = search_text.query_terms(query)
    if not terms:
        return None
    return _indexed_ids(workspace_id, terms).union(_fresh_ids(workspace_id, query))


RANKED_LIMIT = 250  # the best matches (five pages of 50) ordered by rank; the rest follow by last update
RANK_CANDIDATES = 2_000  # PostgreSQL: how many matches ts_rank looks at


def ranked_ids(*, workspace_id: int, query: str, limit: int = RANKED_LIMIT) -> list[int]:
    """The ids of the tickets whose document matches the query, best match first (SQLite FTS5's bm25, PostgreSQL's
    ts_rank over the same words). At most `limit`."""
    terms = search_text.query_terms(query)
    if not terms:
        return []
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute(
                "SELECT rowid FROM tickets_search_fts WHERE tickets_search_fts MATCH %s "
                "ORDER BY bm25(tickets_search_fts) LIMIT %s",
                [search_text.fts5_match(terms), limit],
            )
        elif vendor == "postgresql":
            tsquery = search_text.tsquery(terms)
            # ts_rank re-parses each document: it ranks at most RANK_CANDIDATES matches (for a broad query, an
            # arbitrary subset of them), so a query matching half the desk does not parse half the desk.
            cursor.execute(
                "SELECT ticket_id FROM (SELECT ticket_id, body FROM tickets_ticketsearchdocument "
                "WHERE workspace_id = %s AND to_tsvector('simple'::regconfig, body) @@ to_tsquery('simple'::regconfig, %s) "
                "LIMIT %s) AS candidates "
                "ORDER BY ts_rank(to_tsvector('simple'::regconfig, body), to_tsquery('simple'::regconfig, %s)) DESC, "
                "ticket_id DESC LIMIT %s",
                [workspace_id, tsquery, RANK_CANDIDATES, tsquery, limit],
            )
        else:
            return []
        return [row[0] for row in cursor.fetchall()]


def rank_position(ranked: list[int]) -> RawSQL | None:
    """An expression on tickets: the ticket's position in `ranked` (1-based, in any unit that grows with the
    position), NULL for a ticket not in it. None when there is nothing to rank or no way to on this database."""
    if not ranked:
        return None
    vendor = connection.vendor
    if vendor == "sqlite":  # where ",id," first occurs in ",3,1,2,": grows with the rank
        ids = "," + ",".join(str(int(pk)) for pk in ranked) + ","
        sql = """NULLIF(instr(%s, ',' || "tickets_ticket"."id" || ','), 0)"""
        return RawSQL(sql, [ids], output_field=IntegerField())  # noqa: S611 - constant SQL, ids as a parameter
    if vendor == "postgresql":
        sql = """array_position(%s::bigint[], "tickets_ticket"."id")"""
        return RawSQL(sql, [[int(pk) for pk in ranked]], output_field=IntegerField())  # noqa: S611
    return None


def _indexed_ids(workspace_id: int, terms: list[str]) -> QuerySet[Any]:
    vendor = connection.vendor
    if vendor == "sqlite":
        return TicketSearchIndex.objects.filter(body__matches=search_text.fts5_match(terms)).values_list("rowid")
    docs = TicketSearchDocument.objects.filter(workspace_id=workspace_id)
    if vendor == "postgresql":
        return docs.filter(body__matches=search_text.tsquery(terms)).values_list("ticket_id")
    for term in terms:  # no full-text index on this database: every word somewhere in the document
        docs = docs.filter(body__icontains=term)
    return docs.values_list("ticket_id")


def _fresh_ids(workspace_id: int, query: str) -> QuerySet[Any]:
    since = now() - dt.timedelta(minutes=settings.SEARCH_FRESH_MINUTES)
    in_messages = Message.objects.filter(ticket=OuterRef("pk"), body_text__icontains=query)
    in_attachments = Attachment.objects.filter(ticket=OuterRef("pk"), extracted_text__icontains=query)
    fresh = Ticket.objects.filter(workspace_id=workspace_id, updated_at__gte=since)
    return fresh.filter(Q(subject__icontains=query) | Q(Exists(in_messages)) | Q(Exists(in_attachments))).values_list(
        "pk"
    )
