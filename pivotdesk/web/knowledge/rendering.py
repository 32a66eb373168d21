"""Articles as a reader sees them: Markdown rendered to HTML and sanitised (`pivotdesk.common.html.sanitize_html`),
and category names in the reader's language. Shared by the agent screens and the public help centre."""

from __future__ import annotations

from collections.abc import Iterable

import markdown  # type: ignore[import-untyped]
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from pivotdesk.common.html import sanitize_html
from pivotdesk.knowledge.models import KnowledgeCategory

_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]


def render_markdown(text: str) -> SafeString:
    """The article body as safe HTML: Markdown (raw HTML in it included) rendered, then sanitised, so a `<script>`,
    an event handler or a `javascript:` link never reaches the page."""
    html = markdown.markdown(text or "", extensions=_EXTENSIONS, output_format="html")
    return mark_safe(sanitize_html(html))  # sanitised by nh3 just above


def reader_is_chinese(language: str | None = None) -> bool:
    return (language or get_language() or "").lower().startswith("zh")


def category_name(category: KnowledgeCategory, language: str | None = None) -> str:
    """The category's name in the reader's language (its Chinese name when it has no English one)."""
    if reader_is_chinese(language):
        return category.name_zh
    return category.name_en or category.name_zh


def category_path(category: KnowledgeCategory, by_id: dict[int, KnowledgeCategory], language: str | None = None) -> str:
    """ "Category › Section" in the reader's language."""
    names = [category_name(category, language)]
    parent = by_id.get(category.parent_id or 0)
    seen = {category.pk}
    while parent is not None and parent.pk not in seen:
        seen.add(parent.pk)
        names.insert(0, category_name(parent, language))
        parent = by_id.get(parent.parent_id or 0)
    return " › ".join(names)


def category_choices(categories: Iterable[KnowledgeCategory], language: str | None = None) -> list[tuple[int, str]]:
    """(id, "Category › Section") for a select, in tree order."""
    items = list(categories)
    by_id = {c.pk: c for c in items}
    children: dict[int | None, list[KnowledgeCategory]] = {}
    for c in items:
        children.setdefault(c.parent_id if c.parent_id in by_id else None, []).append(c)
    out: list[tuple[int, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in sorted(children.get(parent, []), key=lambda x: (x.position, x.pk)):
            out.append((c.pk, category_path(c, by_id, language)))
            if depth < 8:
                walk(c.pk, depth + 1)

    walk(None, 0)
    return out
