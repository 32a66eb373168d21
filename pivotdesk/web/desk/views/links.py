"""Linking tickets (related, duplicate, parent/child) and merging one ticket into another."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Ticket
from pivotdesk.web.base import Desk, agent_view, int_or_none


def _other(desk: Desk, raw: str | None) -> Ticket:
    number = int_or_none((raw or "").strip().lstrip("#"))
    if number is None:
        raise ValidationFailed(_("Type the number of the other ticket, e.g. 10234."))
    return ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)


@require_POST
@agent_view
def add_link(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """Link this ticket to another one."""
    ticket = ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)
    other = _other(desk, request.POST.get("other"))
    kind = request.POST.get("kind", "related")
    if kind == "parent":
        ticket_services.ticket_set_parent(child=ticket, parent=other, actor=desk.actor)
    elif kind == "child":
        ticket_services.ticket_set_parent(child=other, parent=ticket, actor=desk.actor)
    else:
        ticket_services.ticket_link(source=ticket, target=other, kind=kind, actor=desk.actor)
    messages.success(request, _("Linked to #%(number)s.") % {"number": other.number})
    return HttpResponseRedirect(reverse("web:ticket", args=[number]) + "#links")


@require_POST
@agent_view
def merge(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """Merge this ticket into another; the survivor's page opens."""
    ticket = ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)
    target = _other(desk, request.POST.get("into"))
    survivor = ticket_services.ticket_merge(source=ticket, target=target, actor=desk.actor)
    messages.success(
        request, _("#%(source)s was merged into #%(target)s.") % {"source": number, "target": survivor.number}
    )
    return HttpResponseRedirect(reverse("web:ticket", args=[survivor.number]))
