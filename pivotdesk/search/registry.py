"""The kinds of search documents: each app that wants its objects found registers one in its AppConfig.ready().

The search app knows no other app: a kind names its model by label ("tickets.Ticket") and brings the function that
gives an object's text. Everything else — building, the sweep, reindexing, matching, ranking — is generic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models


@dataclass(frozen=True)
class DocumentKind:
    """How objects of one model become search documents.

    `parts(obj)` yields the texts the object is found by (cut into words by `search.domain.text`); `only` lists the
    fields `parts` reads from the object itself (other rows it may query). An object has changed since its document
    was built when its `updated_field` moved past the document's `source_updated_at`: the model must bump that
    field whenever anything `parts` reads changes (a ticket's `updated_at` moves with a message or an attachment's
    text). `workspace_field` is the object's workspace id.

    `own_index`: on PostgreSQL the kind's app keeps a partial GIN index of its own over the documents of this kind
    (`own_index_sql`, created by one of its migrations). A ranked search of the kind then matches through that
    index: the shared one would read the posting lists of every kind (a million tickets' worth of "card" for a
    search among ten thousand articles), and the planner cannot tell the two apart by cost."""

    name: str
    model_label: str
    parts: Callable[[Any], Iterable[str]]
    only: tuple[str, ...] = ()
    updated_field: str = "updated_at"
    workspace_field: str = "workspace_id"
    own_index: bool = False

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def objects(self) -> models.QuerySet[Any]:
        """Every object of the kind (the model's default manager)."""
        return self.model._default_manager.all()


_KINDS: dict[str, DocumentKind] = {}


def register_kind(kind: DocumentKind) -> None:
    """Register (or, on a second call with the same name, replace) a kind of document. Call from AppConfig.ready()."""
    _KINDS[kind.name] = kind


def unregister_kind(name: str) -> None:
    """Forget a kind (tests that register their own)."""
    _KINDS.pop(name, None)


def get_kind(name: str) -> DocumentKind:
    """The registered kind called `name`; LookupError when no app registered it."""
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No search document kind '{name}' is registered (known: {sorted(_KINDS)}).") from None


def has_own_index(name: str) -> bool:
    """Whether the kind called `name` keeps its own full-text index on PostgreSQL (False for an unknown kind)."""
    kind = _KINDS.get(name)
    return kind is not None and kind.own_index


# The expression a kind's own index is built over. Not the stored `tsv` column the shared index covers: a query
# written with this expression can only use an index over the same expression, which is how it finds the kind's own.
OWN_INDEX_EXPRESSION = "to_tsvector('simple'::regconfig, body)"


def own_index_sql(name: str) -> tuple[str, str]:
    """(create, drop) SQL of the PostgreSQL index a kind with `own_index` keeps, for its app's migration."""
    if not name.isidentifier():
        raise ValueError(f"A kind's name is an identifier, not {name!r}.")
    index = f"search_tsv_{name}"
    return (
        f"CREATE INDEX IF NOT EXISTS {index} ON search_searchdocument USING gin ({OWN_INDEX_EXPRESSION}) "
        f"WHERE kind = '{name}'",
        f"DROP INDEX IF EXISTS {index}",
    )


def registered_kinds() -> list[DocumentKind]:
    """Every registered kind, in registration order."""
    return list(_KINDS.values())
