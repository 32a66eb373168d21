"""Creating and changing tickets: fields, status, assignment, tags, custom fields, bulk updates."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.signals import pre_save
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize, check_assign
from pivotdesk.common.choices import Channel
from pivotdesk.common.config_cache import workspace_config
from pivotdesk.common.errors import Conflict, NotFound, ValidationFailed
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import events
from pivotdesk.tickets.attachment_files import StoredFile
from pivotdesk.tickets.domain.custom_fields import FieldSpec, FieldValueError, missing_required, validate_values
from pivotdesk.tickets.domain.status import SOLVED, TransitionError, check_transition
from pivotdesk.tickets.domain.text import normalize_tag, subject_from_body
from pivotdesk.tickets.errors import TicketErrorCode
from pivotdesk.tickets.models import (
    Category,
    CustomField,
    MessageKind,
    Priority,
    Status,
    StatusDefinition,
    Tag,
    Ticket,
    TicketEvent,
    TicketSequence,
    TicketType,
)
from pivotdesk.tickets.services.timeline import build, record, ref

UPDATABLE = frozenset(
    {
        "subject",
        "status",
        "custom_status",
        "priority",
        "ticket_type",
        "category",
        "team",
        "assignee",
        "tags",
        "add_tags",
        "remove_tags",
        "custom_fields",
        "language",
        "followers",
    }
)


def _require(actor: Actor, perm: Perm, workspace_id: int | None = None) -> None:
    authorize(actor, perm, workspace_id=workspace_id)


def _next_number(workspace_id: int) -> int:
    """The workspace's next ticket number: one `UPDATE … RETURNING` (SQLite ≥ 3.35, PostgreSQL), which also locks
    the sequence row until commit; the row is created on a workspace's first ticket."""
    table = TicketSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_number = last_number + 1 WHERE workspace_id = %s RETURNING last_number",  # noqa: S608 - the table name is ours
            [workspace_id],
        )
        row = cursor.fetchone()
    if row is not None:
        return int(row[0])
    seq, _ = TicketSequence.objects.select_for_update().get_or_create(workspace_id=workspace_id)
    seq.last_number += 1
    seq.save(update_fields=["last_number"])
    return seq.last_number


def _same_workspace(workspace_id: int, **objs: Any) -> None:
    for name, obj in objs.items():
        if obj is not None and obj.workspace_id != workspace_id:
            raise NotFound(gettext("Not found: %(name)s.") % {"name": name})


def field_specs(workspace_id: int) -> dict[str, FieldSpec]:
    """The workspace's active custom fields as validation specs (cached per workspace: `common.config_cache`)."""

    def load() -> dict[str, FieldSpec]:
        return {
            f.key: FieldSpec(key=f.key, field_type=f.field_type, options=tuple(f.options or ()), required=f.required)
            for f in CustomField.objects.filter(workspace_id=workspace_id, active=True)
        }

    return workspace_config(workspace_id, "custom_field_specs", load)


def _validated_custom_fields(workspace_id: int, current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise ValidationFailed(gettext("custom_fields must be an object of key → value."))
    try:
        return validate_values(field_specs(workspace_id), current, changes)
    except FieldValueError as exc:
        raise ValidationFailed(
            gettext("Invalid custom fields: %(exc)s") % {"exc": exc}, details={"custom_fields": exc.errors}
        ) from exc


def _tags(workspace_id: int, names: list[str]) -> list[Tag]:
    cleaned = sorted({t for t in (normalize_tag(n) for n in names) if t})
    existing = {t.name: t for t in Tag.objects.filter(workspace_id=workspace_id, name__in=cleaned)}
    missing = [Tag(workspace_id=workspace_id, name=n) for n in cleaned if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(workspace_id=workspace_id, name__in=cleaned)}
    return [existing[n] for n in cleaned]


def _default_status_label(workspace_id: int, category: str) -> StatusDefinition | None:
    """The label a ticket gets on entering a status category (cached per workspace: `common.config_cache`)."""

    def load() -> dict[str, StatusDefinition]:
        labels: dict[str, StatusDefinition] = {}
        rows = StatusDefinition.objects.filter(workspace_id=workspace_id, active=True)
        for label in rows.order_by("-is_default", "position", "pk"):
            labels.setdefault(label.category, label)
        return labels

    return workspace_config(workspace_id, "default_status_labels", load).get(category)


@transaction.atomic
def ticket_create(
    *,
    workspace: Workspace,
    requester: Contact,
    subject: str = "",
    body: str = "",
    body_html: str = "",
    actor: Actor,
    channel: str = Channel.WEB_FORM,
    priority: str = Priority.NORMAL,
    ticket_type: str = TicketType.QUESTION,
    category: Category | None = None,
    team: Team | None = None,
    assignee: AgentProfile | None = None,
    tags: list[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
    language: str = "",
    status: str = Status.NEW,
    external_id: str = "",
    message_external_id: str = "",
    message_metadata: dict[str, Any] | None = None,
    message_files: list[StoredFile] | None = None,
    public: bool = True,
    created_at: Any = None,
) -> Ticket:
    """Open a ticket for a requester, with its first message (from the requester unless `public` is False or an
    agent creates it on the customer's behalf), and publish `ticket.created`. `message_files` are files already in
    storage for the first message (`tickets.attachment_files`)."""
    from pivotdesk.tickets.services.messages import message_create

    _require(actor, Perm.TICKET_CREATE, workspace.pk)
    _same_workspace(workspace.pk, requester=requester, category=category, team=team, assignee=assignee)
    if assignee is not None:
        check_assign(actor, assignee)
    if requester.merged_into_id is not None:
        requester = Contact.objects.get(pk=requester.merged_into_id)
    subject, body, external_id = without_nul(subject or ""), without_nul(body or ""), without_nul(external_id)
    subject = subject.strip() or subject_from_body(body)
    if len(subject) > 255:
        subject = subject[:254] + "…"
    for value, choices, name in (
        (priority, Priority.values, "priority"),
        (ticket_type, TicketType.values, "ticket_type"),
        (channel, Channel.values, "channel"),
        (status, Status.values, "status"),
    ):
        if value not in choices:
            raise ValidationFailed(
                gettext("Unknown %(name)s '%(value)s'.") % {"name": name, "value": value},
                details={name: f"one of {', '.join(choices)}"},
            )
    if status in (Status.SOLVED, Status.CLOSED) and not (actor.kind in ("system", "api") and created_at):
        raise ValidationFailed(gettext("A new ticket cannot start solved or closed (imports may)."))
    values = _validated_custom_fields(workspace.pk, {}, custom_fields or {})
    if external_id and Ticket.objects.filter(workspace=workspace, external_id=external_id).exists():
        raise _duplicate_external_id(external_id)
    ticket = Ticket(
        workspace=workspace,
        number=_next_number(workspace.pk),
        subject=subject,
        status=status,
        priority=priority,
        ticket_type=ticket_type,
        category=category,
        channel=channel,
        requester=requester,
        organization_id=requester.organization_id,
        assignee=assignee,
        team=team,
        custom_fields=values,
        language=language,
        external_id=external_id,
        custom_status=_default_status_label(workspace.pk, status),
        assigned_at=now() if assignee else None,
    )
    first_message = bool(body or body_html)
    if first_message:  # counted in the INSERT: the first message then needs no UPDATE of the ticket
        ticket.message_count = 1
        if public:
            ticket.last_customer_message_at = created_at or now()
    if created_at is not None:
        ticket.created_at = created_at
    try:
        ticket.save()
    except IntegrityError as exc:
        # A concurrent call with the same key committed first (the unique constraint decided the race); no query
        # may run in this broken transaction, so the caller looks the winner up after the rollback.
        reason = str(exc)  # SQLite names the columns, PostgreSQL the constraint
        if external_id and ("tickets_ticket.external_id" in reason or "ticket_unique_external_id" in reason):
            raise _duplicate_external_id(external_id) from exc
        raise
    if created_at is not None:  # auto_now_add ignores a given value; imports keep their original time
        Ticket.objects.filter(pk=ticket.pk).update(created_at=created_at, updated_at=created_at)
        ticket.created_at = ticket.updated_at = created_at
    if tags:
        ticket.tags.set(_tags(workspace.pk, tags))
    record(ticket=ticket, actor=actor, verb="created", data={"channel": channel, "subject": subject})
    # ticket.created is published before the first message.created, so subscribers see the ticket first.
    events.emit(events.TICKET_CREATED, workspace_id=workspace.pk, ticket_id=ticket.pk, channel=channel)
    if first_message:
        message_create(
            ticket=ticket,
            actor=actor,
            body=body,
            body_html=body_html,
            kind=MessageKind.PUBLIC if public else MessageKind.NOTE,
            as_customer=public,
            channel=channel,
            external_id=message_external_id,
            metadata=message_metadata,
            files=message_files,
            created_at=created_at,
            _initial=True,
        )
    if assignee is not None:
        events.emit(events.TICKET_ASSIGNED, workspace_id=workspace.pk, ticket_id=ticket.pk, assignee_id=assignee.pk)
    return ticket


def _duplicate_external_id(external_id: str) -> Conflict:
    return Conflict(
        gettext("A ticket with the external id '%(key)s' already exists.") % {"key": external_id[:80]},
        code=TicketErrorCode.DUPLICATE_EXTERNAL_ID,
        details={"external_id": "duplicate"},
    )


def _note(
    timeline: list[TicketEvent] | None,
    *,
    ticket: Ticket,
    actor: Actor,
    verb: str,
    field: str = "",
    old: Any = None,
    new: Any = None,
    data: dict[str, Any] | None = None,
) -> None:
    """One timeline entry: recorded at once, or (given the change's `timeline`) built and kept for one INSERT of
    them all at the end. `bulk_create` sends no `pre_save`, so the length guard (`common.length_guard`) is given
    the entry here, when it is made, as `record()`'s save would: an over-long value stays a translated 4xx."""
    if timeline is None:
        record(ticket=ticket, actor=actor, verb=verb, field=field, old=old, new=new, data=data)
        return
    event = build(ticket=ticket, actor=actor, verb=verb, field=field, old=old, new=new, data=data)
    pre_save.send(sender=TicketEvent, instance=event, raw=False, using=TicketEvent.objects.db, update_fields=None)
    timeline.append(event)


def _apply_status(
    ticket: Ticket,
    new: str,
    actor: Actor,
    custom_status: StatusDefinition | None = None,
    *,
    timeline: list[TicketEvent] | None = None,
) -> bool:
    """Move the ticket (not saved) to a status and label, checking the transition; False when nothing changes.
    Its timeline entry is recorded at once, or added to `timeline` (`_note`)."""
    old = ticket.status
    try:
        check_transition(old, new)
    except TransitionError as exc:
        raise Conflict(gettext(exc.template) % exc.params, code=TicketErrorCode.INVALID_TRANSITION) from exc
    if new == SOLVED and old != SOLVED:
        open_children = ticket.children.exclude(status__in=[Status.SOLVED, Status.CLOSED])
        if open_children.exists():
            numbers = ", ".join(f"#{n}" for n in open_children.values_list("number", flat=True)[:10])
            raise Conflict(
                gettext("Solve the child tickets first: %(numbers)s still open.") % {"numbers": numbers},
                code=TicketErrorCode.OPEN_CHILDREN,
            )
        missing = missing_required(field_specs(ticket.workspace_id), ticket.custom_fields)
        if missing:
            raise ValidationFailed(
                gettext("Fill in the required fields before solving: %(names)s.") % {"names": ", ".join(missing)},
                code=TicketErrorCode.REQUIRED_FIELDS_MISSING,
                details={"custom_fields": dict.fromkeys(missing, "required")},
            )
    label = custom_status or _default_status_label(ticket.workspace_id, new)
    if old == new and label == ticket.custom_status:
        return False
    old_label = ticket.custom_status
    ticket.status = new
    ticket.custom_status = label
    current = now()
    if new == Status.SOLVED and old != Status.SOLVED:
        ticket.solved_at = current
    elif new == Status.CLOSED:
        ticket.closed_at = current
    elif old in (Status.SOLVED, Status.CLOSED) and new not in (Status.SOLVED, Status.CLOSED):
        ticket.solved_at = None
    if old != new:
        _note(
            timeline,
            ticket=ticket,
            actor=actor,
            verb="status_changed",
            field="status",
            old=old,
            new=new,
            # The labels by id: the timeline names them in the reader's language, as the workspace calls them then.
            data={
                "label": label.label if label else "",
                "label_id": label.pk if label else None,
                "old_label_id": old_label.pk if old_label else None,
            },
        )
        events.emit(
            events.TICKET_STATUS_CHANGED, workspace_id=ticket.workspace_id, ticket_id=ticket.pk, old=old, new=new
        )
    elif label is not None:
        _note(
            timeline,
            ticket=ticket,
            actor=actor,
            verb="field_changed",
            field="custom_status",
            old=_label_ref(old_label),
            new=_label_ref(label),
        )
    return True


def _label_ref(label: StatusDefinition | None) -> dict[str, Any] | None:
    """A status label on the timeline: its id (named at display) with its category and label as they were."""
    if label is None:
        return None
    return {"id": label.pk, "label": label.label, "category": label.category}


def _resolve(model: type[Any], workspace_id: int, value: Any, name: str) -> Any:
    """Accept an instance, an id or None for a related field, checking the workspace."""
    if value is None or value == "":
        return None
    if isinstance(value, model):
        obj = value
    else:
        try:
            obj = model.objects.filter(pk=int(value)).first()
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(gettext("%(name)s must be an id.") % {"name": name}) from exc
    if obj is None or obj.workspace_id != workspace_id:
        raise ValidationFailed(
            gettext("Unknown %(name)s '%(value)s'.") % {"name": name, "value": value},
            code=TicketErrorCode.UNKNOWN_REFERENCE,
            details={name: "not found"},
        )
    return obj


@transaction.atomic
def ticket_update(*, ticket: Ticket, actor: Actor, changes: dict[str, Any]) -> Ticket:
    """Apply field changes to a ticket; each change is one timeline event; publishes `ticket.updated` (with the
    actor's kind, so a subscriber tells a person's change from the AI's or the system's without a query).

    What it costs is pinned (`tests/test_update_cost.py`): the ticket is read locked once and saved once (the save
    stamps `updated_at`, tags and followers included), the timeline entries are built as the changes are made and
    inserted together in one statement at the end, in the same order, and tags cost one read, one upsert of the
    new names, one insert and one delete at most."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValidationFailed(
            gettext("Cannot update: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            details=dict.fromkeys(unknown, "unknown"),
        )
    _require(actor, Perm.TICKET_UPDATE, ticket.workspace_id)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.merged_into_id is not None:
        raise Conflict(
            gettext("This ticket was merged into another; update that one instead."), code=TicketErrorCode.TICKET_MERGED
        )
    if ticket.status == Status.CLOSED and set(changes) - {"add_tags", "remove_tags", "tags", "followers"}:
        raise Conflict(
            gettext("Closed tickets cannot change (tags and followers excepted)."), code=TicketErrorCode.TICKET_CLOSED
        )
    ws = ticket.workspace_id
    changed: list[str] = []
    timeline: list[TicketEvent] = []
    for field in ("subject", "priority", "ticket_type", "language"):
        if field not in changes:
            continue
        value = changes[field]
        if field == "subject":
            value = str(value or "").strip()
            if not value or len(value) > 255:
                raise ValidationFailed(gettext("A subject is 1–255 characters."))
        choices = {"priority": Priority.values, "ticket_type": TicketType.values}.get(field)
        if choices is not None and value not in choices:
            raise ValidationFailed(
                gettext("Unknown %(field)s '%(value)s'.") % {"field": field, "value": value},
                details={field: f"one of {', '.join(choices)}"},
            )
        old = getattr(ticket, field)
        if old != value:
            setattr(ticket, field, value)
            _note(timeline, ticket=ticket, actor=actor, verb="field_changed", field=field, old=old, new=value)
            changed.append(field)
    if "category" in changes:
        category = _resolve(Category, ws, changes["category"], "category")
        if category != ticket.category:
            _note(
                timeline,
                ticket=ticket,
                actor=actor,
                verb="field_changed",
                field="category",
                old=ref(ticket.category),
                new=ref(category),
            )
            ticket.category = category
            changed.append("category")
    if "team" in changes:
        team = _resolve(Team, ws, changes["team"], "team")
        if team != ticket.team:
            _note(
                timeline,
                ticket=ticket,
                actor=actor,
                verb="field_changed",
                field="team",
                old=ref(ticket.team),
                new=ref(team),
            )
            ticket.team = team
            changed.append("team")
    if "assignee" in changes:
        assignee = _resolve(AgentProfile, ws, changes["assignee"], "assignee")
        if _set_assignee(ticket, assignee, actor, timeline):
            changed.append("assignee")
    if "custom_fields" in changes:
        values = _validated_custom_fields(ws, ticket.custom_fields, changes["custom_fields"])
        for key in sorted(set(values) | set(ticket.custom_fields)):
            if values.get(key) != ticket.custom_fields.get(key):
                _note(
                    timeline,
                    ticket=ticket,
                    actor=actor,
                    verb="field_changed",
                    field=f"custom_fields.{key}",
                    old=ticket.custom_fields.get(key),
                    new=values.get(key),
                )
        if values != ticket.custom_fields:
            ticket.custom_fields = values
            changed.append("custom_fields")
    if "status" in changes or "custom_status" in changes:
        custom_status = _resolve(StatusDefinition, ws, changes.get("custom_status"), "custom_status")
        new_status = changes.get("status") or (custom_status.category if custom_status else ticket.status)
        if custom_status is not None and custom_status.category != new_status:
            raise ValidationFailed(
                gettext("Status label '%(label)s' belongs to '%(category)s'.")
                % {"label": custom_status.label, "category": custom_status.category}
            )
        if _apply_status(ticket, new_status, actor, custom_status, timeline=timeline):
            changed.append("status")
    saved_fields = bool(changed)
    if {"tags", "add_tags", "remove_tags"} & set(changes) and _update_tags(ticket, actor, changes, timeline):
        changed.append("tags")
    if "followers" in changes:
        followers = [_resolve(AgentProfile, ws, f, "follower") for f in changes["followers"] or []]
        old_ids = set(ticket.followers.values_list("pk", flat=True))
        if {f.pk for f in followers} != old_ids:
            ticket.followers.set(followers)
            _note(
                timeline,
                ticket=ticket,
                actor=actor,
                verb="field_changed",
                field="followers",
                old=sorted(old_ids),
                new=sorted(f.pk for f in followers),
            )
            changed.append("followers")
    if saved_fields:
        ticket.save()  # auto_now stamps updated_at: the tags' and followers' change too
    elif changed:  # only tags or followers: the ticket's row says it changed (queue order, the search sweep)
        ticket.save(update_fields=["updated_at"])
    if timeline:
        TicketEvent.objects.bulk_create(timeline)
    if changed:
        events.emit(events.TICKET_UPDATED, workspace_id=ws, ticket_id=ticket.pk, fields=changed, actor_type=actor.kind)
    return ticket


def _update_tags(ticket: Ticket, actor: Actor, changes: dict[str, Any], timeline: list[TicketEvent]) -> bool:
    """Apply `tags` (the whole set), `add_tags` and `remove_tags`; False when the set stays the same.

    One SELECT reads the ticket's tags and the workspace's tags of the names that may be added; missing names are
    created in one upsert that returns their ids (a concurrent creation of the same name is no error); the links
    are added in one INSERT and removed in one DELETE."""
    replace = {normalize_tag(t) for t in changes["tags"] or []} if "tags" in changes else None
    added = {normalize_tag(t) for t in changes.get("add_tags") or []}
    removed = {normalize_tag(t) for t in changes.get("remove_tags") or []}
    candidates = sorted(((replace or set()) | added) - removed - {""})
    through = Ticket.tags.through
    linked = through.objects.filter(ticket_id=ticket.pk, tag_id=OuterRef("pk"))
    rows = (
        Tag.objects.filter(Exists(linked) | Q(workspace_id=ticket.workspace_id, name__in=candidates))
        .annotate(linked=Exists(linked))
        .values_list("pk", "name", "linked")
    )
    current: dict[str, int] = {}
    known: dict[str, int] = {}
    for pk, name, is_linked in rows:
        (current if is_linked else known)[name] = pk
    old = sorted(current)
    names = set(old) if replace is None else replace
    names = (names | added) - removed - {""}
    new = sorted(names)
    if new == old:
        return False
    to_link = [n for n in new if n not in current]
    missing = [Tag(workspace_id=ticket.workspace_id, name=n) for n in to_link if n not in known]
    if missing:
        # ON CONFLICT … DO UPDATE (not DO NOTHING) so that every row, also one a concurrent call created, returns
        # its id in this one statement.
        Tag.objects.bulk_create(
            missing, update_conflicts=True, unique_fields=["workspace", "name"], update_fields=["name"]
        )
        known.update((t.name, t.pk) for t in missing)
    if to_link:
        links = [through(ticket_id=ticket.pk, tag_id=known[n]) for n in to_link]
        through.objects.bulk_create(links, ignore_conflicts=True)
    unlinked = [pk for name, pk in current.items() if name not in names]
    if unlinked:
        through.objects.filter(ticket_id=ticket.pk, tag_id__in=unlinked).delete()
    _note(timeline, ticket=ticket, actor=actor, verb="field_changed", field="tags", old=old, new=new)
    return True


def _set_assignee(
    ticket: Ticket, assignee: AgentProfile | None, actor: Actor, timeline: list[TicketEvent] | None = None
) -> bool:
    if assignee == ticket.assignee:
        return False
    check_assign(actor, assignee)
    _note(
        timeline,
        ticket=ticket,
        actor=actor,
        verb="assigned",
        field="assignee",
        old=ref(ticket.assignee),
        new=ref(assignee),
    )
    ticket.assignee = assignee
    ticket.assigned_at = now() if assignee else None
    if assignee is not None and ticket.team_id is not None and not assignee.teams.filter(pk=ticket.team_id).exists():
        ticket.team = assignee.teams.order_by("pk").first() or ticket.team
    events.emit(
        events.TICKET_ASSIGNED,
        workspace_id=ticket.workspace_id,
        ticket_id=ticket.pk,
        assignee_id=assignee.pk if assignee else None,
    )
    return True


def ticket_assign(*, ticket: Ticket, assignee: AgentProfile | None, actor: Actor, team: Team | None = None) -> Ticket:
    """Assign (or unassign with None) a ticket, optionally to a team too."""
    changes: dict[str, Any] = {"assignee": assignee}
    if team is not None:
        changes["team"] = team
    return ticket_update(ticket=ticket, actor=actor, changes=changes)


def ticket_set_status(*, ticket: Ticket, status: str, actor: Actor) -> Ticket:
    """Move a ticket to another status category (invalid transitions raise Conflict)."""
    return ticket_update(ticket=ticket, actor=actor, changes={"status": status})


def tickets_bulk_update(
    *, workspace: Workspace, ticket_ids: list[int], actor: Actor, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply the same changes to many tickets; each succeeds or fails on its own. Returns per-ticket results."""
    _require(actor, Perm.TICKET_BULK, workspace.pk)
    if len(ticket_ids) > 500:
        raise ValidationFailed(gettext("At most 500 tickets per bulk update."))
    allowed = {
        "status",
        "custom_status",
        "priority",
        "assignee",
        "team",
        "add_tags",
        "remove_tags",
        "ticket_type",
        "category",
    }
    if set(changes) - allowed:
        raise ValidationFailed(
            gettext("Bulk updates cannot change: %(names)s.") % {"names": ", ".join(sorted(set(changes) - allowed))}
        )
    tickets = {t.pk: t for t in Ticket.objects.filter(workspace=workspace, pk__in=ticket_ids)}
    updated: list[int] = []
    failed: dict[int, str] = {}
    for tid in ticket_ids:
        t = tickets.get(tid)
        if t is None:
            failed[tid] = "not found"
            continue
        try:
            ticket_update(ticket=t, actor=actor, changes=changes)
            updated.append(tid)
        except (ValidationFailed, Conflict, NotFound) as exc:
            failed[tid] = exc.message
    return {"updated": updated, "failed": failed}
