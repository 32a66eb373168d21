"""Exporting tickets as CSV or JSON, streamed in chunks; the output imports back as it is."""

from __future__ import annotations

import csv
import json
from typing import Any, Protocol

from django.db.models import Prefetch
from django.utils.translation import gettext

from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets.models import (
    CustomField,
    Message,
    Ticket,
)
from pivotdesk.tickets.services.transfer.formats import CSV_COLUMNS, CUSTOM_PREFIX, FORMATS, LIST_SEPARATOR, Progress


class TextSink(Protocol):
    """Anything text can be written to (a file, sys.stdout, a management command's stdout)."""

    def write(self, s: str, /) -> object: ...


def export_key(ticket: Ticket, workspace: Workspace) -> str:
    """The key a ticket is exported under: its own external id, else `pivotdesk:<slug>#<number>`."""
    return ticket.external_id or f"pivotdesk:{workspace.slug}#{ticket.number}"


def _export_queryset(workspace: Workspace) -> Any:
    messages = Message.objects.select_related("author_agent__user", "author_contact").order_by("created_at", "pk")
    return (
        Ticket.objects.filter(workspace=workspace)
        .select_related("requester", "organization", "assignee__user", "team", "category__parent", "custom_status")
        .prefetch_related("tags", Prefetch("messages", queryset=messages))
        .order_by("number")
    )


def _message_dict(message: Message) -> dict[str, Any]:
    email = ""
    if message.author_agent is not None:
        email = message.author_agent.user.email
    elif message.author_contact is not None:
        email = message.author_contact.email
    return {
        "author_type": message.author_type,
        "kind": message.kind,
        "author": message.author_name,
        "author_email": email,
        "body": message.body_text,
        "created_at": message.created_at.isoformat(),
    }


def export_row(ticket: Ticket, workspace: Workspace) -> dict[str, Any]:
    """One ticket as a JSON-ready dict (the first message is `body`, the rest `messages`)."""
    messages = list(ticket.messages.all())
    first = messages[0] if messages and messages[0].author_type == "contact" else None
    category = ticket.category
    return {
        "external_id": export_key(ticket, workspace),
        "number": ticket.number,
        "subject": ticket.subject,
        "body": first.body_text if first else "",
        "status": ticket.status,
        "status_label": ticket.custom_status.label if ticket.custom_status else "",
        "priority": ticket.priority,
        "type": ticket.ticket_type,
        "channel": ticket.channel,
        "requester_email": ticket.requester.email,
        "requester_name": ticket.requester.name,
        "requester_phone": ticket.requester.phone,
        "organization": ticket.organization.name if ticket.organization else "",
        "assignee": (ticket.assignee.user.email or ticket.assignee.user.username) if ticket.assignee else "",
        "team": ticket.team.name if ticket.team else "",
        "category": (f"{category.parent.name} > {category.name}" if category.parent else category.name)
        if category
        else "",
        "tags": sorted(t.name for t in ticket.tags.all()),
        "language": ticket.language,
        "created_at": ticket.created_at.isoformat(),
        "custom_fields": ticket.custom_fields,
        "messages": [_message_dict(m) for m in messages[1 if first else 0 :]],
    }


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return "" if value is None else str(value)


def tickets_export(
    *, workspace: Workspace, out: TextSink, fmt: str = "csv", progress: Progress | None = None, chunk_size: int = 200
) -> int:
    """Write the workspace's tickets to `out` as CSV or JSON, streaming in chunks; returns how many."""
    if fmt not in FORMATS:
        raise ValidationFailed(gettext("Unknown format '%(fmt)s'.") % {"fmt": fmt}, details={"format": list(FORMATS)})
    keys = list(CustomField.objects.filter(workspace=workspace).values_list("key", flat=True))
    writer = None
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow([*CSV_COLUMNS, *(CUSTOM_PREFIX + k for k in keys)])
    else:
        out.write("[")
    count = 0
    for ticket in _export_queryset(workspace).iterator(chunk_size=chunk_size):
        row = export_row(ticket, workspace)
        if writer is not None:
            cells = [_csv_cell(row[c]) if c != "tags" else ", ".join(row["tags"]) for c in CSV_COLUMNS]
            writer.writerow([*cells, *(_csv_cell(row["custom_fields"].get(k)) for k in keys)])
        else:
            out.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
        count += 1
        if progress is not None:
            progress(1)
    if writer is None:
        out.write("\n]\n")
    return count
