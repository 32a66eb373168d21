"""Exports of other help centres as drafts: Zendesk Guide (the Help Center API's JSON) and Zammad's knowledge base
(the assets of `/api/v1/knowledge_bases/init`).

Zendesk: `{"articles": [...], "sections": [...], "categories": [...]}`; an article is one translation (`locale`),
and the same `id` in several locales is one article in several languages (an article may also carry its
`translations` inline). `draft` → a draft; a `user_segment_id` (a restricted audience) → internal, none → public.
The category path is the category, then the sections from the outermost (`parent_section_id`).

Zammad: tables keyed by id (`KnowledgeBaseAnswer`, `KnowledgeBaseAnswerTranslation`,
`KnowledgeBaseAnswerTranslationContent`, `KnowledgeBaseCategory`, `KnowledgeBaseCategoryTranslation`,
`KnowledgeBaseLocale`, and `Locale` when present), at the top or under `assets`; a table may also be a list. An answer
with `published_at` is public, with `internal_at` internal (both published); neither is a draft; an archived answer
becomes an internal draft. A translation's language comes from its knowledge-base locale (→ system locale), else
from its text.

Categories get one path per article, in the names of the first language the help centre has of zh-hans, en, any:
translations of an article land in the same category.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

from .drafts import (
    ArticleDraft,
    DraftRejected,
    ErrorCode,
    Problem,
    ProblemCode,
    TransferError,
    clean_line,
    language_of,
    make_draft,
)
from .markup import html_to_markdown

Json = dict[str, Any]
ZAMMAD_TABLES = (
    "KnowledgeBaseAnswer",
    "KnowledgeBaseAnswerTranslation",
    "KnowledgeBaseAnswerTranslationContent",
    "KnowledgeBaseCategory",
    "KnowledgeBaseCategoryTranslation",
    "KnowledgeBaseLocale",
)
_MAX_DEPTH = 20  # categories nested deeper than this (or in a cycle) are cut


def _objects(value: object) -> Iterator[Json]:
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _preferred_name(names: Mapping[str, str]) -> str:
    """The name in zh-hans, else en, else any language."""
    for language in ("zh-hans", "en"):
        if names.get(language):
            return names[language]
    return next((name for name in names.values() if name), "")


def _path(start: object, parents: Mapping[str, str | None], names: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Names from the outermost ancestor down to `start` (ids as strings); a cycle or a missing id ends the walk."""
    path: list[str] = []
    seen: set[str] = set()
    node = None if start is None else str(start)
    while node is not None and node not in seen and len(path) < _MAX_DEPTH:
        seen.add(node)
        name = _preferred_name(names.get(node, {}))
        if name:
            path.append(name)
        node = parents.get(node)
    return path[::-1]


# ---------------------------------------------------------------------------------------------------- Zendesk


def _zendesk_names(items: object) -> tuple[dict[str, dict[str, str]], dict[str, Json]]:
    """id → {language: name}, and id → the object (the last one seen), over a list of sections or categories."""
    names: dict[str, dict[str, str]] = {}
    rows: dict[str, Json] = {}
    for item in _objects(items):
        key = str(item.get("id"))
        language = language_of(item.get("locale")) or language_of(item.get("source_locale")) or "other"
        names.setdefault(key, {})[language] = clean_line(item.get("name") or item.get("title"))
        rows[key] = item
    return names, rows


def _zendesk_paths(data: Json) -> dict[str, tuple[str, ...]]:
    """section id → its category path (the category, then the sections from the outermost)."""
    section_names, sections = _zendesk_names(data.get("sections"))
    category_names, _ = _zendesk_names(data.get("categories"))
    parents = {key: _id(row.get("parent_section_id")) for key, row in sections.items()}
    out: dict[str, tuple[str, ...]] = {}
    for key in sections:
        path = _path(key, parents, section_names)
        top = _id(sections[_outermost(key, parents)].get("category_id"))
        category = _preferred_name(category_names.get(top, {})) if top else ""
        out[key] = tuple([category, *path] if category else path)
    return out


def _outermost(key: str, parents: Mapping[str, str | None]) -> str:
    seen = {key}
    while (parent := parents.get(key)) is not None and parent in parents and parent not in seen:
        seen.add(parent)
        key = parent
    return key


def _id(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _zendesk_translations(article: Json) -> Iterator[Json]:
    """The article's own locale, then each inline translation (as article-shaped dicts)."""
    yield article
    for translation in _objects(article.get("translations")):
        yield {**article, **translation, "translations": None}


def parse_zendesk(data: Json) -> tuple[list[tuple[str, ArticleDraft]], list[Problem]]:
    """Drafts (with their item refs) and problems of a Zendesk Guide export."""
    if not isinstance(data.get("articles"), list):
        raise TransferError(ErrorCode.BAD_JSON, detail="articles")
    drafts: list[tuple[str, ArticleDraft]] = []
    problems: list[Problem] = []
    paths = _zendesk_paths(data)
    for index, article in enumerate(data["articles"], start=1):
        if not isinstance(article, dict):
            problems.append(Problem(f"articles[{index}]", ProblemCode.NOT_AN_OBJECT))
            continue
        for item in _zendesk_translations(article):
            ref = f"zendesk {item.get('id')} {item.get('locale') or ''}".strip()
            try:
                drafts.append((ref, _zendesk_draft(item, paths.get(str(item.get("section_id")), ()))))
            except DraftRejected as exc:
                problems.append(Problem(ref, exc.code, exc.params))
    return drafts, problems


def _zendesk_draft(item: Json, category: tuple[str, ...]) -> ArticleDraft:
    locale = clean_line(item.get("locale"))
    if locale and language_of(locale) is None:
        raise DraftRejected(ProblemCode.BAD_LANGUAGE, value=locale[:80])
    key = _id(item.get("id"))
    return make_draft(
        title=item.get("title") or item.get("name"),
        body=html_to_markdown(str(item.get("body") or "")),
        language=locale,
        category=category,
        visibility="internal" if item.get("user_segment_id") not in (None, "") else "public",
        status="draft" if item.get("draft") else "published",
        translation_key=f"zendesk:{key}" if key else None,
        external_id=f"zendesk:{key}:{locale}" if key else None,
    )


# ----------------------------------------------------------------------------------------------------- Zammad


def zammad_tables(data: Json) -> Json | None:
    """The asset tables of a Zammad export (at the top or under `assets`), or None when it is not one."""
    for candidate in (data, data.get("assets")):
        if isinstance(candidate, dict) and any(name in candidate for name in ZAMMAD_TABLES[:2]):
            return candidate
    return None


def _table(tables: Json, name: str) -> dict[str, Json]:
    out: dict[str, Json] = {}
    raw = tables.get(name)
    items = raw.items() if isinstance(raw, Mapping) else enumerate(raw if isinstance(raw, list) else [])
    for key, item in items:
        if isinstance(item, dict):
            out[str(item.get("id", key))] = item
    return out


def _zammad_locales(tables: Json) -> dict[str, str | None]:
    """knowledge-base locale id → language code (None: not one of ours, or unknown)."""
    system = {key: row.get("locale") or row.get("alias") for key, row in _table(tables, "Locale").items()}
    out: dict[str, str | None] = {}
    for key, row in _table(tables, "KnowledgeBaseLocale").items():
        spelled = row.get("locale") or row.get("system_locale") or system.get(str(row.get("system_locale_id")))
        if isinstance(spelled, dict):
            spelled = spelled.get("locale")
        out[key] = language_of(spelled) if spelled else None
    return out


def _zammad_categories(tables: Json, locales: Mapping[str, str | None]) -> dict[str, tuple[str, ...]]:
    """category id → its path of names."""
    names: dict[str, dict[str, str]] = {}
    for row in _table(tables, "KnowledgeBaseCategoryTranslation").values():
        language = locales.get(str(row.get("kb_locale_id"))) or "other"
        names.setdefault(str(row.get("category_id")), {})[language] = clean_line(row.get("title"))
    categories = _table(tables, "KnowledgeBaseCategory")
    parents = {key: _id(row.get("parent_id")) for key, row in categories.items()}
    return {key: tuple(_path(key, parents, names)) for key in set(categories) | set(names)}


def _zammad_state(answer: Json) -> tuple[str, str]:
    """(visibility, status) of an answer from its timestamps."""
    if answer.get("archived_at"):
        return "internal", "draft"
    if answer.get("published_at"):
        return "public", "published"
    if answer.get("internal_at"):
        return "internal", "published"
    return "internal", "draft"


def parse_zammad(tables: Json) -> tuple[list[tuple[str, ArticleDraft]], list[Problem]]:
    """Drafts (with their item refs) and problems of a Zammad knowledge-base export."""
    locales = _zammad_locales(tables)
    categories = _zammad_categories(tables, locales)
    answers = _table(tables, "KnowledgeBaseAnswer")
    contents = _table(tables, "KnowledgeBaseAnswerTranslationContent")
    drafts: list[tuple[str, ArticleDraft]] = []
    problems: list[Problem] = []
    translations = sorted(_table(tables, "KnowledgeBaseAnswerTranslation").items(), key=lambda kv: _sort_key(kv[0]))
    for key, row in translations:
        answer_id = _id(row.get("answer_id") or row.get("kb_answer_id"))
        ref = f"zammad answer {answer_id} translation {key}"
        content = contents.get(str(row.get("content_id")))
        if content is None and isinstance(row.get("content"), dict):
            content = row["content"]
        if content is None:
            problems.append(Problem(ref, ProblemCode.NO_BODY, {"title": clean_line(row.get("title"))[:120]}))
            continue
        answer = answers.get(str(answer_id), {})
        visibility, status = _zammad_state(answer)
        try:
            drafts.append(
                (
                    ref,
                    make_draft(
                        title=row.get("title"),
                        body=html_to_markdown(str(content.get("body") or "")),
                        language=locales.get(str(row.get("kb_locale_id"))),
                        category=categories.get(str(answer.get("category_id")), ()),
                        visibility=visibility,
                        status=status,
                        translation_key=f"zammad:{answer_id}" if answer_id else None,
                        external_id=f"zammad:{answer_id}:{key}",
                    ),
                )
            )
        except DraftRejected as exc:
            problems.append(Problem(ref, exc.code, exc.params))
    return drafts, problems


def _sort_key(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (1 << 62, key)


def is_zendesk(data: object) -> TypeGuard[Json]:
    """Whether a JSON document looks like a Zendesk Guide export."""
    return isinstance(data, dict) and isinstance(data.get("articles"), list)
