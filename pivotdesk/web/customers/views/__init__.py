"""The contact picker, the contact page, and merging probable duplicate contacts (confirm page →
customers.services.contact_merge)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.customers import services as customer_services
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.web import selectors as web_selectors
from pivotdesk.web.base import Desk, agent_view


@agent_view
def contact_search(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Contacts matching the typed text (name, email, phone, identity), as <option>s for the picker: their email, or
    their phone number when the agent types in the phone field."""
    field = next((k for k in ("email", "phone", "q") if request.GET.get(k, "").strip()), "q")
    q = request.GET.get(field, "").strip()
    if field == "phone":  # typed with spaces or dashes, stored in E.164: search by the last digits
        q = "".join(ch for ch in q if ch.isdigit())[-8:]
    found = list(customer_selectors.contact_list(workspace=desk.workspace, q=q)[:10]) if len(q) >= 2 else []
    return render(request, "web/contacts/_options.html", {"contacts": found, "field": field})


@agent_view
def contact_page(request: HttpRequest, desk: Desk, contact_id: int) -> HttpResponse:
    """A customer: contact details, organization, identities and all their tickets from every channel."""
    contact = customer_selectors.access_contact(workspace=desk.workspace, contact_id=contact_id)
    tickets = ticket_selectors.customer_tickets(
        workspace=desk.workspace, agent=desk.agent, contact_id=contact.pk, limit=100
    )
    context = {
        "contact": contact,
        "organization": contact.organization,
        "identities": web_selectors.identities(contact=contact),
        "tickets": tickets,
        "can_edit": can(desk.agent, Perm.CONTACT_MANAGE),
    }
    return render(request, "web/contact.html", context)


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
