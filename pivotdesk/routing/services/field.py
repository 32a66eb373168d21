"""Field service: linking a ticket to the device it is about (on-site work), recording the parts used."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.routing.errors import RoutingErrorCode
from pivotdesk.routing.models import Device, DevicePartUsage, Part, TicketDevice
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services.timeline import record


@transaction.atomic
def device_link(*, ticket: Ticket, device: Device, onsite: bool = True, actor: Actor) -> TicketDevice:
    """Say which device a ticket is about and whether it needs an engineer on site (routed by distance)."""
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=ticket.workspace_id)
    if device.workspace_id != ticket.workspace_id:
        raise ValidationFailed(
            gettext("Unknown device."), code=RoutingErrorCode.UNKNOWN_REFERENCE, details={"device": "not found"}
        )
    link, _ = TicketDevice.objects.update_or_create(
        ticket=ticket, defaults={"device": device, "onsite": onsite, "workspace_id": ticket.workspace_id}
    )
    record(
        ticket=ticket,
        actor=actor,
        verb="field_changed",
        field="device",
        new={"id": device.pk, "name": str(device)},
        data={"onsite": onsite},
    )
    return link


@transaction.atomic
def part_usage_record(
    *, ticket: Ticket, device: Device, part: Part, actor: Actor, quantity: int = 1
) -> DevicePartUsage:
    """Parts used on a device for a ticket: kept in the device's history and taken out of stock."""
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=ticket.workspace_id)
    if not (ticket.workspace_id == device.workspace_id == part.workspace_id):
        raise ValidationFailed(gettext("Unknown device or part."), code=RoutingErrorCode.UNKNOWN_REFERENCE)
    if quantity < 1:
        raise ValidationFailed(
            gettext("A quantity is at least 1."), code=RoutingErrorCode.INVALID_QUANTITY, details={"quantity": "≥ 1"}
        )
    usage = DevicePartUsage.objects.create(
        workspace_id=ticket.workspace_id, device=device, part=part, ticket=ticket, quantity=quantity
    )
    Part.objects.filter(pk=part.pk).update(stock=F("stock") - quantity)
    return usage
