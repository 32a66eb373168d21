"""Importing ticket rows through the ticket services, one transaction per row."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import Conflict, DomainError, ValidationFailed
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import Contact, CustomerOrganization
from pivotdesk.tickets.models import (
    Category,
    CustomField,
    FieldType,
    MessageKind,
    Status,
    StatusDefinition,
    Ticket,
)
from pivotdesk.tickets.services.messages import message_create
from pivotdesk.tickets.services.tickets import ticket_create, ticket_update
from pivotdesk.tickets.services.transfer.formats import (
    CUSTOM_PREFIX,
    EXPORT_KEY,
    HEADER_ALIASES,
    LIST_SEPARATOR,
    VALUE_ALIASES,
    Progress,
    decode_text,
    detect_format,
    read_rows,
)


@dataclass(frozen=True)
class RowProblem:
    """A row that failed (or imported with a caveat): its line in the file and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did: tickets created, rows skipped as already imported, rows that failed."""

    created: list[int] = field(default_factory=list)  # ticket ids
    duplicates: list[int] = field(default_factory=list)  # line numbers
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.created) + len(self.duplicates) + len(self.errors)


def _text(row: dict[str, Any], *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(r"[,;|，、]", str(value)) if v.strip()]


def _when(value: Any, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed(
            gettext("'%(value)s' is not a date-time (ISO 8601, e.g. 2026-03-01T09:30:00+08:00).") % {"value": value}
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def row_key(row: dict[str, Any]) -> str:
    """The ticket's stable import key: the row's external_id or id, else a hash of the whole row."""
    given = _text(row, "external_id", "id")
    if given:
        return given[:255]
    canonical = json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)
    return "import:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


class _Importer:
    """Turns rows into tickets for one workspace; lookups are cached across rows."""

    def __init__(self, workspace: Workspace, actor: Actor) -> None:
        self.workspace = workspace
        self.actor = actor
        self.tz = zoneinfo.ZoneInfo(workspace.time_zone or "UTC")
        self.fields = {f.key: f for f in CustomField.objects.filter(workspace=workspace, active=True)}
        self.labels = {
            name.lower(): s
            for s in StatusDefinition.objects.filter(workspace=workspace, active=True)
            for name in (s.label, s.label_zh)
            if name
        }
        self.agents: dict[str, AgentProfile | None] = {}
        self.teams = {t.name.lower(): t for t in Team.objects.filter(workspace=workspace)}
        self.categories: dict[str, Category] = {}
        for c in Category.objects.filter(workspace=workspace).select_related("parent"):
            for name in {c.name, c.name_zh} - {""}:
                self.categories.setdefault(name.lower(), c)
                if c.parent is not None:
                    self.categories[f"{c.parent.name} > {name}".lower()] = c

    def is_duplicate(self, key: str) -> bool:
        match = EXPORT_KEY.match(key)
        if match and match["slug"] == self.workspace.slug:
            return Ticket.objects.filter(workspace=self.workspace, number=int(match["number"])).exists()
        return Ticket.objects.filter(workspace=self.workspace, external_id=key).exists()

    def agent(self, ref: str) -> AgentProfile | None:
        if ref.lower() not in self.agents:
            match = Q(user__email__iexact=ref) if "@" in ref else Q(user__username=ref)
            self.agents[ref.lower()] = (
                AgentProfile.objects.select_related("user").filter(match, workspace=self.workspace).first()
            )
        return self.agents[ref.lower()]

    def custom_fields(self, row: dict[str, Any], warn: Callable[[str], None]) -> dict[str, Any]:
        values: dict[str, Any] = dict(row.get("custom_fields") or {})
        for column, value in row.items():
            if column.startswith(CUSTOM_PREFIX) and value not in (None, ""):
                values[column[len(CUSTOM_PREFIX) :]] = value
        result: dict[str, Any] = {}
        for key, value in values.items():
            spec = self.fields.get(key)
            if spec is None:
                warn(f"custom field '{key}' does not exist here; value dropped")
            elif spec.field_type == FieldType.MULTI_SELECT and isinstance(value, str):
                result[key] = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]
            else:
                result[key] = value
        return result

    def requester(self, row: dict[str, Any], warn: Callable[[str], None]) -> Contact:
        email = _text(row, "requester_email", "email", "requester")
        phone = _text(row, "requester_phone", "phone")
        name = _text(row, "requester_name", "name")
        if not (email or phone):
            raise ValidationFailed(gettext("no requester email or phone"))
        kind, value = ("email", email) if email else ("phone", phone)
        contact = customer_services.contact_resolve(
            actor=self.actor, workspace=self.workspace, kind=kind, value=value, name=name
        )
        if email and phone and not contact.phone:
            try:
                customer_services.identity_attach(actor=self.actor, contact=contact, kind="phone", value=phone)
            except (Conflict, ValidationFailed) as exc:
                warn(f"phone not attached: {exc.message}")
        org_name = _text(row, "organization")
        if org_name and contact.organization_id is None:
            org = CustomerOrganization.objects.filter(workspace=self.workspace, name=org_name).first()
            if org is not None:
                contact = customer_services.contact_update(actor=self.actor, contact=contact, organization=org)
        return contact

    def status(self, row: dict[str, Any], warn: Callable[[str], None]) -> tuple[str, StatusDefinition | None]:
        """The status category and the workspace's label; `status` may be a category or a label."""
        raw = _text(row, "status") or Status.NEW
        label_name = _text(row, "status_label")
        label = self.labels.get(label_name.lower()) if label_name else None
        if label_name and label is None:
            warn(f"status label '{label_name}' does not exist here")
        if raw.lower() in Status.values:
            status = raw.lower()
        else:
            by_label = self.labels.get(raw.lower())
            if by_label is None:
                raise ValidationFailed(
                    gettext("unknown status '%(raw)s' (use %(names)s or a status label)")
                    % {"raw": raw, "names": ", ".join(Status.values)}
                )
            status, label = by_label.category, label or by_label
        if label is not None and label.category != status:
            warn(f"status label '{label.label}' belongs to '{label.category}', not '{status}'")
            label = None
        return status, label

    def canonical(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row with Chinese column names, custom field labels and Chinese choice values translated."""
        labels = {name: CUSTOM_PREFIX + f.key for f in self.fields.values() for name in (f.label, f.label_zh) if name}
        result: dict[str, Any] = {}
        for column, value in row.items():
            name = str(column).strip()
            result[HEADER_ALIASES.get(name) or labels.get(name) or name] = value
        for column, aliases in VALUE_ALIASES.items():
            value = result.get(column)
            if isinstance(value, str) and value.strip() in aliases:
                result[column] = aliases[value.strip()]
        return result

    def import_row(self, raw: dict[str, Any], key: str, warn: Callable[[str], None]) -> Ticket:
        row = self.canonical(raw)
        status, label = self.status(row, warn)
        requester = self.requester(row, warn)
        created_at = _when(row.get("created_at"), self.tz)
        assignee = team = category = None
        if ref := _text(row, "assignee", "assignee_email"):
            assignee = self.agent(ref)
            if assignee is None:
                warn(f"assignee '{ref}' is not an agent here; left unassigned")
        if ref := _text(row, "team"):
            team = self.teams.get(ref.lower())
            if team is None:
                warn(f"team '{ref}' does not exist here")
        if ref := _text(row, "category"):
            category = self.categories.get(ref.lower())
            if category is None:
                warn(f"category '{ref}' does not exist here")
        messages = row.get("messages") or []
        if not isinstance(messages, list):
            raise ValidationFailed(gettext("'messages' must be a list"))
        if created_at is None:  # a ticket is as old as its oldest message
            times = [_when(m.get("created_at"), self.tz) for m in messages if isinstance(m, dict)]
            created_at = min((t for t in times if t is not None), default=None)
        # Start new or open, replay the conversation, then walk to the final status the way an agent would.
        initial = status if status in (Status.NEW, Status.OPEN) else Status.OPEN
        ticket = ticket_create(
            workspace=self.workspace,
            requester=requester,
            actor=self.actor,
            subject=_text(row, "subject", "title"),
            body=_text(row, "body", "description", "message"),
            channel=_text(row, "channel").lower() or Channel.IMPORT,
            priority=_text(row, "priority").lower() or "normal",
            ticket_type=_text(row, "type", "ticket_type").lower() or "question",
            category=category,
            team=team,
            assignee=assignee,
            tags=_list(row.get("tags")),
            custom_fields=self.custom_fields(row, warn),
            language=_text(row, "language"),
            status=initial,
            external_id=key,
            created_at=created_at,
        )
        for position, message in enumerate(messages, start=1):
            self.import_message(ticket, message, position, keep=initial if status == Status.NEW else None)
        if status not in (Status.NEW, Status.OPEN) or label is not None:
            target = Status.SOLVED if status == Status.CLOSED else status
            changes: dict[str, Any] = {"status": target}
            if label is not None and status != Status.CLOSED:
                changes["custom_status"] = label
            ticket = ticket_update(ticket=ticket, actor=self.actor, changes=changes)
            if status == Status.CLOSED:
                ticket = ticket_update(ticket=ticket, actor=self.actor, changes={"status": Status.CLOSED})
        return ticket

    def import_message(self, ticket: Ticket, message: Any, position: int, keep: str | None) -> None:
        if not isinstance(message, dict):
            raise ValidationFailed(gettext("message %(position)s is not an object") % {"position": position})
        author_type = _text(message, "author_type") or "contact"
        kind = _text(message, "kind") or MessageKind.PUBLIC
        author = _text(message, "author", "author_name")
        email = _text(message, "author_email")
        as_customer = author_type == "contact"
        actor: Actor
        if as_customer:
            actor = Actor.for_contact(ticket.requester_id, author)
        elif author_type == "agent":
            agent = self.agent(email) if email else None
            label = agent.name if agent is not None else author or "import"
            actor = Actor(kind="agent" if agent else "api", agent=agent, label=label, replayed=True)
        else:
            actor = Actor.system(author or "import")
        message_create(
            ticket=ticket,
            actor=actor,
            body=_text(message, "body", "text"),
            body_html=_text(message, "body_html", "html"),
            kind=kind,
            as_customer=as_customer,
            created_at=_when(message.get("created_at"), self.tz),
            metadata={"imported_author": author} if author else None,
            status_after=keep,
        )


def tickets_import(
    *,
    workspace: Workspace,
    data: bytes,
    fmt: str | None = None,
    filename: str = "",
    actor: Actor,
    progress: Progress | None = None,
) -> ImportReport:
    """Import tickets from CSV or JSON bytes. Every row is its own transaction; see the module docstring."""
    authorize(actor, Perm.TICKET_IMPORT_EXPORT, workspace_id=workspace.pk)
    text = decode_text(data)
    fmt = fmt or detect_format(text, filename)
    importer = _Importer(workspace, actor)
    report = ImportReport()
    for line, row in read_rows(text, fmt):
        if progress is not None:
            progress(1)
        if isinstance(row, str):
            report.errors.append(RowProblem(line, row))
            continue
        key = row_key(importer.canonical(row))
        if importer.is_duplicate(key):
            report.duplicates.append(line)
            continue
        warnings: list[str] = []
        try:
            with transaction.atomic():
                ticket = importer.import_row(row, key, warnings.append)
        except DomainError as exc:
            reason = exc.message
            if exc.details:
                reason += " " + "; ".join(f"{k}: {v}" for k, v in exc.details.items())
            report.errors.append(RowProblem(line, reason))
            continue
        report.created.append(ticket.pk)
        report.warnings += [RowProblem(line, w) for w in warnings]
    return report
