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
    text). `workspace_field` is the object's workspace id."""

    name: str
    model_label: str
    parts: Callable[[Any], Iterable[str]]
    only: tuple[str, ...] = ()
    updated_field: str = "updated_at"
    workspace_field: str = "workspace_id"

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


def registered_kinds() -> list[DocumentKind]:
    """Every registered kind, in registration order."""
    return list(_KINDS.values())
