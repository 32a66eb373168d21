"""Merging probable duplicate contacts (confirm page → customers.services.contact_merge), and retrying a failed
outbound reply from the conversation."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.channels import intake_selectors
from pivotdesk.channels.services.outbox import outbox_retry
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.customers import services as customer_services
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.web import selectors as web_selectors
from pivotdesk.web.views.base import Desk, agent_view


@agent_view
def contact_merge(request: HttpRequest, desk: Desk, contact_id: int, other_id: int) -> HttpResponse:
    """Merge `other` into `contact`: GET shows both and what moves; POST (supervisors, admins) merges."""
    target = customer_selectors.access_contact(workspace=desk.workspace, contact_id=contact_id)
    source = customer_selectors.access_contact(workspace=desk.workspace, contact_id=other_id)
    if source.pk == target.pk:
        raise ValidationFailed(_("A contact cannot be merged into itself."))
    if request.method == "POST":  # the service checks CONTACT_MERGE
        customer_services.contact_merge(source=source, target=target, actor=desk.actor)
        flash.success(
            request,
            _("%(source)s was merged into %(target)s.")
            % {"source": source.display_name, "target": target.display_name},
        )
        return HttpResponseRedirect(reverse("web:contact", args=[target.pk]))

    def side(contact_id: int) -> list[object]:
        return list(
            ticket_selectors.customer_tickets(
                workspace=desk.workspace, agent=desk.agent, contact_id=contact_id, limit=50
            )
        )

    reasons = next(
        (
            s.reasons
            for s in customer_selectors.probable_duplicates(workspace=desk.workspace, contact=target, limit=50)
            if s.contact.pk == source.pk
        ),
        (),
    )
    context = {
        "target": target,
        "source": source,
        "target_identities": web_selectors.identities(contact=target),
        "source_identities": web_selectors.identities(contact=source),
        "target_tickets": side(target.pk),
        "source_tickets": side(source.pk),
        "reasons": reasons,
        "can_merge": can(desk.agent, Perm.CONTACT_MERGE),
    }
    return render(request, "web/contacts/merge.html", context)


@require_POST
@agent_view
def delivery_retry(request: HttpRequest, desk: Desk, number: int, message_id: int) -> HttpResponse:
    """Send a failed reply again now; the message shows its new delivery status."""
    ticket = ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)
    outbound = intake_selectors.outbound_for_message(workspace=desk.workspace, message_id=message_id)
    if outbound.message.ticket_id != ticket.pk:
        raise NotFound("No outbound delivery for this message.")
    outbound = outbox_retry(actor=desk.actor, outbound=outbound)
    if getattr(request, "htmx", False):
        message = next(m for m in ticket_selectors.message_list(ticket=ticket) if m.pk == message_id)
        return render(request, "web/ticket/_message.html", {"m": message, "ticket": ticket})
    if outbound.status == "failed":
        flash.error(request, _("Still not delivered: %(reason)s") % {"reason": outbound.last_error})
    else:
        flash.success(request, _("Delivery retried: %(status)s.") % {"status": outbound.get_status_display()})
    return HttpResponseRedirect(reverse("web:ticket", args=[number]) + f"#m{message_id}")
