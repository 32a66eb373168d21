"""The workspace's status vocabulary, one for every screen: the queue's chips and filter, bulk actions, the ticket
page, the reply box's "Submit as", the customer panel and the timeline all name a status the same way.

A workspace may define its own labels (`StatusDefinition`, e.g. "In progress", "Waiting for customer") over the six
categories. A category with labels is offered by its labels; a category without any keeps its built-in name. Labels
are shown in the reader's language when the definition has both (`label_zh`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import get_language

from pivotdesk.common.config_cache import workspace_config
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Status, StatusDefinition

LABEL_PREFIX = (
    ticket_selectors.STATUS_LABEL_PREFIX
)  # a filter / bulk value naming one label; a bare value names a category


@dataclass(frozen=True)
class StatusChoice:
    """One status a person can pick: a workspace label or, for a category without labels, the category."""

    value: str  # "label:<id>" or the category
    category: str
    label: str
    definition_id: int | None = None


def definitions(*, workspace_id: int) -> list[StatusDefinition]:
    """Every status definition of the workspace, inactive ones too, in display order; read once per configuration
    change (`common.config_cache`: the status services invalidate it), so a page pays no query for its vocabulary."""

    def load() -> list[StatusDefinition]:
        return list(StatusDefinition.objects.filter(workspace_id=workspace_id).order_by("position", "pk"))

    return workspace_config(workspace_id, "status_definitions", load)


def label_text(definition: StatusDefinition) -> str:
    """A status definition's label in the reader's language."""
    if (get_language() or "").lower().startswith("zh") and definition.label_zh:
        return definition.label_zh
    return definition.label


def category_text(category: str) -> str:
    """A category's built-in name in the reader's language (the raw value for an unknown one)."""
    return str(Status(category).label) if category in Status.values else category


def status_choices(*, workspace_id: int, exclude: tuple[str, ...] = ()) -> list[StatusChoice]:
    """Every status the workspace offers, in category order then the workspace's own order."""
    rows = [d for d in definitions(workspace_id=workspace_id) if d.active]
    out: list[StatusChoice] = []
    for category in Status.values:
        if category in exclude:
            continue
        own = [d for d in rows if d.category == category]
        if own:
            out.extend(StatusChoice(f"{LABEL_PREFIX}{d.pk}", category, label_text(d), d.pk) for d in own)
        else:
            out.append(StatusChoice(category, category, category_text(category)))
    return out


def filter_choices(*, workspace_id: int) -> list[tuple[str, str, list[StatusChoice]]]:
    """The queue filter's options: each category (all its labels), then its labels one by one when it has more than
    one, as (category, category name, labels)."""
    choices = status_choices(workspace_id=workspace_id)
    out: list[tuple[str, str, list[StatusChoice]]] = []
    for category in Status.values:
        labels = [c for c in choices if c.category == category and c.definition_id is not None]
        name = labels[0].label if len(labels) == 1 else category_text(category)
        out.append((category, name, labels if len(labels) > 1 else []))
    return out


def default_choice(*, workspace_id: int, category: str) -> StatusChoice:
    """The status a ticket gets on entering a category: its default label, or the category itself."""
    rows = [d for d in definitions(workspace_id=workspace_id) if d.active and d.category == category]
    rows.sort(key=lambda d: (not d.is_default, d.position, d.pk))
    if rows:
        return StatusChoice(f"{LABEL_PREFIX}{rows[0].pk}", category, label_text(rows[0]), rows[0].pk)
    return StatusChoice(category, category, category_text(category))


def definitions_by_id(*, workspace_id: int) -> dict[int, StatusDefinition]:
    """Every status definition of the workspace by id, inactive ones too (a timeline names what was true then)."""
    return {d.pk: d for d in definitions(workspace_id=workspace_id)}
