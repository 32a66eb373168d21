"""Editing a contact: details (name, organization, tier, language, time zone, notes, tags) and the identities it
is reached by (add / remove), each through customers.services."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import Tier
from pivotdesk.web import selectors as web_selectors
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.customers import forms


@agent_view
def contact_edit(request: HttpRequest, desk: Desk, contact_id: int) -> HttpResponse:
    """GET: the contact form with its identities; POST: customers.services.contact_update."""
    contact = customer_selectors.access_contact(workspace=desk.workspace, contact_id=contact_id)
    if request.method == "POST":
        fields = forms.contact_fields(request.POST, workspace=desk.workspace)
        customer_services.contact_update(contact=contact, actor=desk.actor, **fields)
        flash.success(request, _("The contact was saved."))
        return HttpResponseRedirect(reverse("web:contact", args=[contact.pk]))
    context = {
        "contact": contact,
        "identities": forms.label_identities(web_selectors.identities(contact=contact)),
        "organizations": list(customer_selectors.organization_list(workspace=desk.workspace)[:500]),
        "tiers": Tier.choices,
        "kinds": [(k.value, forms.kind_label(k.value)) for k in forms.EDITABLE_KINDS],
        "languages": forms.language_choices(contact.language),
        "time_zones": forms.TIME_ZONES,
        "tags": ", ".join(contact.tags or []),
    }
    return render(request, "web/contacts/edit.html", context)


@agent_view
def identity_add(request: HttpRequest, desk: Desk, contact_id: int) -> HttpResponse:
    """POST: attach an identity (email, phone, WeChat, …), normalised and checked by customers.services."""
    contact = customer_selectors.access_contact(workspace=desk.workspace, contact_id=contact_id)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("web:contact_edit", args=[contact.pk]))
    identity = customer_services.identity_attach(
        contact=contact, actor=desk.actor, kind=request.POST.get("kind", ""), value=request.POST.get("value", "")
    )
    flash.success(request, _("%(value)s was added.") % {"value": identity.value})
    return HttpResponseRedirect(reverse("web:contact_edit", args=[contact.pk]))


@agent_view
def identity_remove(request: HttpRequest, desk: Desk, contact_id: int) -> HttpResponse:
    """POST: remove one of the contact's identities (customers.services.identity_detach)."""
    contact = customer_selectors.access_contact(workspace=desk.workspace, contact_id=contact_id)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("web:contact_edit", args=[contact.pk]))
    customer_services.identity_detach(
        contact=contact, actor=desk.actor, identity_id=int_or_none(request.POST.get("identity")) or 0
    )
    flash.success(request, _("The identity was removed."))
    return HttpResponseRedirect(reverse("web:contact_edit", args=[contact.pk]))
