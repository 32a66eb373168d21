"""Customer organizations: the list (search, tier filter), the organization page (contacts, open and recent
tickets, SLA, notes, account data) and the create / edit form (customers.services)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.accounts.selectors import agent_list
from pivotdesk.common.pagination import paginate
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import CustomerOrganization, Tier
from pivotdesk.web.base import PAGE_SIZE, Desk, agent_view, int_or_none
from pivotdesk.web.customers import forms
from pivotdesk.web.customers.organization_tickets import OPEN_STATUSES, organization_sla, organization_tickets

RECENT_TICKETS = 20


@agent_view
def organization_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Every organization of the workspace: search by name, domain or tag; filter by tier."""
    q = request.GET.get("q", "").strip()[:100]
    tier = request.GET.get("tier", "")
    tier = tier if tier in Tier.values else ""
    page_number = max(1, int_or_none(request.GET.get("page")) or 1)
    open_tickets = Count("tickets", filter=Q(tickets__status__in=OPEN_STATUSES), distinct=True)
    qs = customer_selectors.organization_directory(workspace=desk.workspace, q=q, tier=tier).annotate(
        open_count=open_tickets
    )
    page = paginate(qs, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    context = {
        "page": page,
        "organizations": page.items,
        "q": q,
        "tier": tier,
        "tiers": Tier.choices,
        "page_number": page_number,
        "has_next": page.next_offset is not None,
        "can_manage": can(desk.agent, Perm.CONTACT_MANAGE),
    }
    return render(request, "web/organizations/list.html", context)


@agent_view
def contact_directory(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Every contact of the workspace (not merged away): search by name, email, phone or any identity."""
    q = request.GET.get("q", "").strip()[:100]
    page_number = max(1, int_or_none(request.GET.get("page")) or 1)
    qs = customer_selectors.contact_list(workspace=desk.workspace, q=q)
    page = paginate(qs, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    for contact in page.items:
        forms.label_identities(contact.identities.all())
    context = {
        "contacts": page.items,
        "page": page,
        "q": q,
        "page_number": page_number,
        "has_next": page.next_offset is not None,
    }
    return render(request, "web/contacts/list.html", context)


@agent_view
def organization_page(request: HttpRequest, desk: Desk, organization_id: int) -> HttpResponse:
    """One organization: tier, tags, notes, account data, contacts, open and recent tickets, SLA of 30 days."""
    org = customer_selectors.access_organization(workspace=desk.workspace, organization_id=organization_id)
    tickets = organization_tickets(workspace=desk.workspace, agent=desk.agent, organization=org).select_related(
        "requester", "assignee__user", "custom_status"
    )
    open_tickets = list(tickets.filter(status__in=OPEN_STATUSES).order_by("-updated_at")[:100])
    recent = list(tickets.exclude(status__in=OPEN_STATUSES).order_by("-updated_at")[:RECENT_TICKETS])
    contacts = customer_selectors.organization_contacts(organization=org)
    for contact in contacts:
        forms.label_identities(contact.identities.all())
    context = {
        "organization": org,
        "contacts": contacts,
        "open_tickets": open_tickets,
        "recent_tickets": recent,
        "sla": organization_sla(workspace=desk.workspace, agent=desk.agent, organization=org),
        "account_rows": forms.account_rows(org.account, blank=0),
        "can_manage": can(desk.agent, Perm.CONTACT_MANAGE),
    }
    return render(request, "web/organizations/page.html", context)


def _form_context(desk: Desk, org: CustomerOrganization | None, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "organization": org,
        "values": values,
        "tiers": Tier.choices,
        "agents": list(agent_list(workspace=desk.workspace)),
        "account_rows": forms.account_rows(values.get("account") or {}),
    }


@agent_view
def organization_new(request: HttpRequest, desk: Desk) -> HttpResponse:
    """A new organization (GET: the form; POST: customers.services.organization_create)."""
    if request.method == "POST":
        fields = forms.organization_fields(request.POST, workspace=desk.workspace)
        org = customer_services.organization_create(
            workspace=desk.workspace, actor=desk.actor, name=fields.pop("name", ""), **fields
        )
        return HttpResponseRedirect(reverse("web:organization", args=[org.pk]))
    values = {"tier": Tier.STANDARD, "tags": "", "domains": "", "account": {}}
    return render(request, "web/organizations/edit.html", _form_context(desk, None, values))


@agent_view
def organization_edit(request: HttpRequest, desk: Desk, organization_id: int) -> HttpResponse:
    """Edit an organization (POST: customers.services.organization_update, only the fields that changed)."""
    org = customer_selectors.access_organization(workspace=desk.workspace, organization_id=organization_id)
    if request.method == "POST":
        fields = forms.organization_fields(request.POST, workspace=desk.workspace)
        customer_services.organization_update(organization=org, actor=desk.actor, **fields)
        return HttpResponseRedirect(reverse("web:organization", args=[org.pk]))
    values = {
        "name": org.name,
        "tier": org.tier,
        "tags": ", ".join(org.tags or []),
        "domains": " ".join(org.domains or []),
        "notes": org.notes,
        "external_id": org.external_id,
        "account": org.account,
        "account_manager": org.account_manager_id,
    }
    return render(request, "web/organizations/edit.html", _form_context(desk, org, values))
