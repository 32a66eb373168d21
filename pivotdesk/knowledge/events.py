"""The knowledge domain's events: typed, stored with the change. Outgoing webhooks hear them."""

from __future__ import annotations

from dataclasses import dataclass

from pivotdesk.common.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class ArticlePublished(Event):
    name = "knowledge.article_published"
    description = "A knowledge article was published, or a published article got a new version."
    article_id: int
    version: int
    visibility: str
