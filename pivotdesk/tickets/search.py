"""Tickets as the first kind of search document: what a ticket is found by, and the ticket list's questions to the
generic index (`pivotdesk.search`), plus the substring fallback for tickets changed since the last sweep.

The kind is registered in `TicketsConfig.ready()`; building, the sweep (`search.sweep`), `manage.py
search_reindex`, matching and ranking are the search app's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Exists, Func, OuterRef, Q, QuerySet

from pivotdesk.common.time import now
from pivotdesk.search import selectors as search_selectors
from pivotdesk.search.registry import DocumentKind
from pivotdesk.tickets.models import Attachment, Message, Ticket

KIND = "ticket"
RANKED_LIMIT = search_selectors.RANKED_LIMIT


def document_parts(ticket: Ticket) -> Iterable[str]:
    """What a ticket is found by: subject, every message (notes too: agents search them), attachment names and the
    text read from attachments (OCR, transcripts). A message, a merge or an attachment's text bumps the ticket's
    `updated_at`, which is how the sweep knows the document is stale."""
    yield ticket.subject
    yield from Message.objects.filter(ticket=ticket).order_by("pk").values_list("body_text", flat=True)
    for name, text in Attachment.objects.filter(ticket=ticket).order_by("pk").values_list("filename", "extracted_text"):
        yield name
        yield text


TICKET_DOCUMENTS = DocumentKind(name=KIND, model_label="tickets.Ticket", parts=document_parts, only=("subject",))


def matching_ids(*, workspace_id: int, query: str) -> QuerySet[Any] | None:
    """The ids of the tickets whose document has every word of the query (each as a prefix), and — for tickets
    changed in the last SEARCH_FRESH_MINUTES, whose document may not be rebuilt yet — of those with the query in
    their subject, a message or an attachment's text as a substring. None when the query has no words.

    A query of ids (one column), for `pk__in` or a UNION: the database answers it from the index first, and the
    ticket list then fetches rows by id instead of testing every ticket of the workspace."""
    indexed = search_selectors.matching_ids(kind=KIND, workspace_id=workspace_id, query=query)
    if indexed is None:
        return None
    return indexed.union(_fresh_ids(workspace_id, query))


def ranked_ids(*, workspace_id: int, query: str, limit: int = RANKED_LIMIT) -> list[int]:
    """The ids of the tickets whose document matches the query, best match first. At most `limit`."""
    return search_selectors.ranked_ids(kind=KIND, workspace_id=workspace_id, query=query, limit=limit)


def rank_position(ranked: list[int]) -> Func | None:
    """An expression on tickets: the ticket's position in `ranked`, NULL for a ticket not in it (see
    `search.selectors.rank_position`)."""
    return search_selectors.rank_position(ranked)


def _fresh_ids(workspace_id: int, query: str) -> QuerySet[Any]:
    since = now() - dt.timedelta(minutes=settings.SEARCH_FRESH_MINUTES)
    in_messages = Message.objects.filter(ticket=OuterRef("pk"), body_text__icontains=query)
    in_attachments = Attachment.objects.filter(ticket=OuterRef("pk"), extracted_text__icontains=query)
    fresh = Ticket.objects.filter(workspace_id=workspace_id, updated_at__gte=since)
    return fresh.filter(Q(subject__icontains=query) | Q(Exists(in_messages)) | Q(Exists(in_attachments))).values_list(
        "pk"
    )
