"""The knowledge screens' views, one module per purpose: `articles` (the list and search, the article page, the
version diff, restore), `editor` (new, edit, translate, preview), `categories` (the tree, add, rename, order),
`common` (permission, lookup)."""

from __future__ import annotations

from pivotdesk.web.knowledge.views.articles import article_diff, article_list, article_page, article_restore
from pivotdesk.web.knowledge.views.categories import category_edit, category_list, category_move
from pivotdesk.web.knowledge.views.editor import article_edit, article_new, article_preview, article_translate

__all__ = [
    "article_diff",
    "article_edit",
    "article_list",
    "article_new",
    "article_page",
    "article_preview",
    "article_restore",
    "article_translate",
    "category_edit",
    "category_list",
    "category_move",
]
