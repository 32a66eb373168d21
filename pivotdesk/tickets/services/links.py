"""Links between tickets: related, duplicate-of, parent/child, and merging one ticket into another."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets import events
from pivotdesk.tickets.errors import TicketErrorCode
from pivotdesk.tickets.models import (
    Attachment,
    LinkKind,
    Message,
    MessageKind,
    Status,
    Ticket,
    TicketLink,
)
from pivotdesk.tickets.services.timeline import record


def _check_pair(a: Ticket, b: Ticket) -> None:
    if a.pk == b.pk:
        raise ValidationFailed(gettext("A ticket cannot be linked to itself."))
    if a.workspace_id != b.workspace_id:
        raise ValidationFailed(gettext("Tickets of different workspaces cannot be linked."))


def _require(actor: Actor, perm: Perm) -> None:
    authorize(actor, perm)


@transaction.atomic
def ticket_link(*, source: Ticket, target: Ticket, kind: str, actor: Actor) -> TicketLink:
    """Link two tickets (related is symmetric in display; duplicate-of points from the duplicate)."""
    _require(actor, Perm.TICKET_UPDATE)
    _check_pair(source, target)
    if kind not in LinkKind.values:
        raise ValidationFailed(
            gettext("Unknown link kind '%(kind)s'.") % {"kind": kind}, details={"kind": LinkKind.values}
        )
    if kind == LinkKind.RELATED and TicketLink.objects.filter(source=target, target=source, kind=kind).exists():
        return TicketLink.objects.get(source=target, target=source, kind=kind)
    link, created = TicketLink.objects.get_or_create(
        workspace_id=source.workspace_id, source=source, target=target, kind=kind
    )
    if created:
        record(ticket=source, actor=actor, verb="linked", field=kind, new={"id": target.pk, "number": target.number})
        record(
            ticket=target,
            actor=actor,
            verb="linked",
            field=f"{kind}_from",
            new={"id": source.pk, "number": source.number},
        )
        events.emit(
            events.TICKET_LINKED, workspace_id=source.workspace_id, ticket_id=source.pk, target_id=target.pk, kind=kind
        )
    return link


@transaction.atomic
def ticket_unlink(*, link: TicketLink, actor: Actor) -> None:
    """Remove a link, recording it on both tickets."""
    _require(actor, Perm.TICKET_UPDATE)
    for ticket, other in ((link.source, link.target), (link.target, link.source)):
        record(
            ticket=ticket, actor=actor, verb="unlinked", field=link.kind, old={"id": other.pk, "number": other.number}
        )
    link.delete()


@transaction.atomic
def ticket_set_parent(*, child: Ticket, parent: Ticket | None, actor: Actor) -> Ticket:
    """Make `child` a child of `parent` (None detaches). Cycles are refused."""
    _require(actor, Perm.TICKET_UPDATE)
    if parent is not None:
        _check_pair(child, parent)
        node: Ticket | None = parent
        depth = 0
        while node is not None and depth < 100:
            if node.pk == child.pk:
                raise ValidationFailed(gettext("That would make a ticket its own ancestor."))
            node = node.parent
            depth += 1
    old = child.parent
    if old == parent:
        return child
    child.parent = parent
    child.save(update_fields=["parent", "updated_at"])
    record(
        ticket=child,
        actor=actor,
        verb="field_changed",
        field="parent",
        old={"id": old.pk, "number": old.number} if old else None,
        new={"id": parent.pk, "number": parent.number} if parent else None,
    )
    for p, verb in ((old, "child_removed"), (parent, "child_added")):
        if p is not None:
            record(ticket=p, actor=actor, verb=verb, field="children", new={"id": child.pk, "number": child.number})
    return child


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: Actor) -> Ticket:
    """Merge `source` into `target`: messages and attachments move, tags and followers join, the source is closed
    and points to the survivor. Returns the survivor."""
    _require(actor, Perm.TICKET_MERGE)
    _check_pair(source, target)
    source = Ticket.objects.select_for_update().get(pk=source.pk)
    target = Ticket.objects.select_for_update().get(pk=target.pk)
    if source.merged_into_id is not None:
        raise Conflict(
            gettext("#%(number)s was already merged.") % {"number": source.number}, code=TicketErrorCode.ALREADY_MERGED
        )
    if target.merged_into_id is not None or target.status == Status.CLOSED:
        raise Conflict(
            gettext("#%(number)s is closed or merged; choose an open ticket to merge into.")
            % {"number": target.number},
            code=TicketErrorCode.TARGET_CLOSED,
        )
    moved = Message.objects.filter(ticket=source).update(ticket=target)
    Attachment.objects.filter(ticket=source).update(ticket=target)
    target.tags.add(*source.tags.all())
    target.followers.add(*source.followers.all())
    Ticket.objects.filter(parent=source).update(parent=target)
    current = now()
    Ticket.objects.filter(pk=target.pk).update(
        message_count=Message.objects.filter(ticket=target).count(), updated_at=current
    )
    old_status = source.status
    Ticket.objects.filter(pk=source.pk).update(
        merged_into=target,
        status=Status.CLOSED,
        closed_at=current,
        updated_at=current,
        message_count=0,
        custom_status=None,
    )
    Message.objects.create(
        workspace_id=source.workspace_id,
        ticket=source,
        kind=MessageKind.SYSTEM,
        author_type="system",
        author_label=actor.display,
        body_text=f"Merged into #{target.number}.",
        body_html=f"<p>Merged into #{target.number}.</p>",
    )
    record(
        ticket=source,
        actor=actor,
        verb="merged",
        field="merged_into",
        new={"id": target.pk, "number": target.number},
        data={"old_status": old_status},
    )
    record(
        ticket=target,
        actor=actor,
        verb="merged_from",
        new={"id": source.pk, "number": source.number},
        data={"messages_moved": moved},
    )
    events.emit(events.TICKET_MERGED, workspace_id=target.workspace_id, ticket_id=target.pk, source_id=source.pk)
    target.refresh_from_db()
    return target
