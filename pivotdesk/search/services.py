"""Writing search documents: build one, the periodic sweep over every registered kind, and the full reindex.

Documents are rebuilt by a periodic sweep (`search.sweep`, every few seconds on beat) for every object whose
`updated_field` moved past its document's `source_updated_at`. Nothing is queued per change, so creating a ticket
costs no extra broker message; until the sweep has run, an app may find fresh objects another way (tickets match
fresh ones by substring). `manage.py search_reindex` rebuilds them all at once.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, QuerySet

from pivotdesk.common.time import now
from pivotdesk.search.domain import text
from pivotdesk.search.models import SearchDocument
from pivotdesk.search.registry import DocumentKind, get_kind, registered_kinds

SWEEP_BATCH = 500
SWEEP_BUDGET_SECONDS = 4.0  # less than the beat interval (5 s); a backlog is worked off over several runs


def document_build(*, kind: str, object_id: int) -> bool:
    """Rebuild one object's search document; False (and no document left) when the object is gone. Idempotent."""
    k = get_kind(kind)
    fields = {"pk", k.workspace_field, k.updated_field, *k.only}
    obj = k.objects().filter(pk=object_id).only(*fields).first()
    if obj is None:
        SearchDocument.objects.filter(kind=k.name, object_id=object_id).delete()
        return False
    SearchDocument.objects.update_or_create(
        kind=k.name,
        object_id=obj.pk,
        defaults={
            "workspace_id": getattr(obj, k.workspace_field),
            "body": text.document(k.parts(obj)),
            "indexed_at": now(),
            "source_updated_at": getattr(obj, k.updated_field),
        },
    )
    return True


def _stale(k: DocumentKind) -> QuerySet[Any]:
    """Objects of the kind with no document, or one built before their last change (NOT EXISTS over the unique
    (kind, object_id) index: one lookup per object)."""
    current = SearchDocument.objects.filter(
        kind=k.name, object_id=OuterRef("pk"), source_updated_at__gte=OuterRef(k.updated_field)
    )
    return k.objects().filter(~Exists(current))


def _sweep_batch(k: DocumentKind, batch: int) -> tuple[int, int]:
    """One batch of one kind: (looked at, built)."""
    mark = SearchDocument.objects.filter(kind=k.name).aggregate(m=Max("source_updated_at"))["m"]
    stale = _stale(k)
    if mark is not None:
        since = mark - dt.timedelta(minutes=settings.SEARCH_FRESH_MINUTES)
        stale = stale.filter(**{f"{k.updated_field}__gte": since})
    ids = list(stale.order_by(k.updated_field, "pk").values_list("pk", flat=True)[:batch])
    return len(ids), sum(document_build(kind=k.name, object_id=pk) for pk in ids)


def sweep(
    *, kinds: list[str] | None = None, batch: int = SWEEP_BATCH, budget_seconds: float = SWEEP_BUDGET_SECONDS
) -> int:
    """Rebuild the documents of objects changed since their document was built (or never indexed), oldest change
    first, kind by kind, until none is left or the time budget is spent; returns how many were built. Safe to run
    concurrently. Every kind gets at least one batch per run, so one kind's backlog cannot starve another.

    Only objects changed since the kind's newest `source_updated_at`, less SEARCH_FRESH_MINUTES (for changes
    committed late by a long transaction), are looked at: an indexed range scan, not the whole table. A backlog
    (a worker that was down) is worked off from its oldest change, so the mark only moves past what was built.
    An empty index (an upgrade) is filled from the oldest object on, one batch after another."""
    started = time.monotonic()
    pending = [get_kind(name) for name in kinds] if kinds is not None else registered_kinds()
    built = 0
    first = True
    while pending:
        still: list[DocumentKind] = []
        for k in pending:
            if not first and time.monotonic() - started >= budget_seconds:
                return built
            looked, done = _sweep_batch(k, batch)
            built += done
            if looked == batch:
                still.append(k)
        first = False
        if time.monotonic() - started >= budget_seconds:
            break
        pending = still
    return built


def reindex(*, kind: str, workspace_id: int | None = None, missing_only: bool = False) -> int:
    """Rebuild the search documents of every object of a kind (of one workspace); returns how many were built.
    A full run (not `missing_only`) also deletes the documents of objects that are gone."""
    k = get_kind(kind)
    objects = k.objects()
    documents = SearchDocument.objects.filter(kind=k.name)
    if workspace_id is not None:
        objects = objects.filter(**{k.workspace_field: workspace_id})
        documents = documents.filter(workspace_id=workspace_id)
    if missing_only:
        objects = objects.exclude(pk__in=documents.values("object_id"))
    else:
        documents.exclude(object_id__in=k.objects().values("pk")).delete()
    built = 0
    for pk in objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=500):
        built += document_build(kind=k.name, object_id=pk)
    return built
