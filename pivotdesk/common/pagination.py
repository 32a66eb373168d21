"""Offset pagination shared by the API and the UI: a page of rows plus the total and the next offset."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Model, QuerySet

MAX_LIMIT = 200


@dataclass(frozen=True)
class Page[T]:
    """One page of results."""

    items: list[T]
    count: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        nxt = self.offset + self.limit
        return nxt if nxt < self.count else None

    def body(self, items: Iterable[object] | None = None) -> dict[str, object]:
        """The API's page: the rows (or `items`, the rows as the endpoint shows them), the total, the window and
        where the next page starts."""
        return {
            "items": self.items if items is None else list(items),
            "count": self.count,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": self.next_offset,
        }


def paginate[T: Model](qs: QuerySet[T], *, limit: int = 50, offset: int = 0) -> Page[T]:
    """Slice a queryset into a page; limit is clamped to 1..MAX_LIMIT, offset to >= 0."""
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    items = list(qs[offset : offset + limit])
    count = qs.count() if (offset or len(items) == limit) else offset + len(items)
    return Page(items=items, count=count, limit=limit, offset=offset)
