"""Reading the ticket sidebar's form into the `changes` a ticket_update call takes (only what really changed)."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

from pivotdesk.tickets.models import CustomField, FieldType, Ticket


def status_value(ticket: Ticket) -> str:
    """The sidebar's value of a ticket's status: a custom label (`def:<id>`) or a category (`cat:<status>`)."""
    return f"def:{ticket.custom_status_id}" if ticket.custom_status_id else f"cat:{ticket.status}"


def _id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _custom_value(field: CustomField, post: QueryDict) -> Any:
    name = f"cf_{field.key}"
    if field.field_type == FieldType.CHECKBOX:
        return post.get(name) == "on"
    if field.field_type == FieldType.MULTI_SELECT:
        return post.getlist(name)
    return post.get(name, "").strip()


def _same_custom(field: CustomField, old: Any, new: Any) -> bool:
    if field.field_type == FieldType.CHECKBOX:
        return bool(old) == bool(new)
    if field.field_type == FieldType.MULTI_SELECT:
        return sorted(old or []) == sorted(new or [])
    if field.field_type == FieldType.NUMBER and old not in (None, "") and new not in (None, ""):
        try:
            return float(old) == float(new)
        except (TypeError, ValueError):
            return False
    return ("" if old is None else str(old)) == ("" if new is None else str(new))


def property_changes(
    *,
    ticket: Ticket,
    post: QueryDict,
    custom_fields: list[CustomField],
    tag_names: list[str],
    follower_ids: list[int],
) -> dict[str, Any]:
    """The fields of the posted sidebar form that differ from the ticket (absent fields are left alone)."""
    changes: dict[str, Any] = {}
    if "status" in post:
        raw = post.get("status", "")
        if raw != status_value(ticket):
            kind, _, value = raw.partition(":")
            if kind == "def":
                changes["custom_status"] = value
            else:
                changes["status"] = value
    for name in ("priority", "ticket_type"):
        if name in post and post.get(name) != getattr(ticket, name):
            changes[name] = post.get(name)
    for name in ("category", "team", "assignee"):
        if name in post and _id(post.get(name)) != getattr(ticket, f"{name}_id"):
            changes[name] = post.get(name) or None
    if "tags" in post:
        wanted = sorted({t.strip() for t in post.get("tags", "").replace("，", ",").split(",") if t.strip()})
        if wanted != sorted(tag_names):
            changes["tags"] = wanted
    if "followers_present" in post:
        wanted_ids = sorted({i for i in (_id(v) for v in post.getlist("followers")) if i is not None})
        if wanted_ids != sorted(follower_ids):
            changes["followers"] = wanted_ids
    if "custom_fields_present" in post:
        values: dict[str, Any] = {}
        for field in custom_fields:
            new = _custom_value(field, post)
            old = ticket.custom_fields.get(field.key)
            if not _same_custom(field, old, new):
                values[field.key] = new
        if values:
            changes["custom_fields"] = values
    return changes
