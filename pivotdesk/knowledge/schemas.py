"""Input and output schemas of the knowledge API: categories, articles, versions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import Field

from pivotdesk.accounts.schemas import Day, Id, Limit, LongText, Offset, ShortText, Text255

LanguageName = Literal["zh-hans", "en"]
VisibilityName = Literal["internal", "public"]
StatusName = Literal["draft", "published", "archived"]


class CategoryIn(Schema):
    name_zh: ShortText
    name_en: ShortText = ""
    parent_id: Id | None = None
    position: int = 0


class CategoryOut(Schema):
    id: int
    name_zh: str
    name_en: str
    parent_id: int | None
    position: int


class ArticleIn(Schema):
    title: Text255
    body: LongText = ""
    language: LanguageName = "zh-hans"
    category_id: Id | None = None
    visibility: VisibilityName = "internal"
    status: StatusName = "draft"
    owner_id: Id | None = None
    reviewer_id: Id | None = None
    review_due: Day | None = None
    translation_of: Id | None = None
    note: Text255 = ""


class TranslationOut(Schema):
    id: int
    language: str
    title: str
    status: str


class ArticleOut(Schema):
    id: int
    title: str
    body: str
    language: str
    category_id: int | None
    visibility: str
    status: str
    owner_id: int | None
    reviewer_id: int | None
    review_due: dt.date | None
    version: int
    published_at: dt.datetime | None
    updated_at: dt.datetime
    translations: list[TranslationOut]


class ArticleSummaryOut(Schema):
    id: int
    title: str
    language: str
    category_id: int | None
    visibility: str
    status: str
    version: int
    updated_at: dt.datetime


class ArticlePage(Schema):
    items: list[ArticleSummaryOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class ArticleListQuery(Schema):
    q: ShortText = ""
    language: LanguageName | None = None
    visibility: VisibilityName | None = None
    status: StatusName | None = None
    category_id: Id | None = None
    limit: Limit = 50
    offset: Offset = 0


class RestoreIn(Schema):
    version: Id


class VersionOut(Schema):
    version: int
    title: str
    saved_by_id: int | None
    note: str
    created_at: dt.datetime
    lines_added: int
    lines_removed: int


class SearchQuery(Schema):
    q: ShortText = ""  # nothing to look for: no hits
    language: LanguageName | None = None
    visibility: VisibilityName | None = None
    category_id: Id | None = None
    limit: int = Field(10, ge=1, le=50)


class SearchHitOut(Schema):
    id: int
    title: str
    language: str
    visibility: str
    score: float
    similarity: float
    snippet: str
    highlights: list[str]
