"""A new ticket on behalf of a customer picked by (or typed as) an email address."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import AgentProfile, Team
from pivotdesk.accounts.permissions import may_assign
from pivotdesk.accounts.selectors import access_agent, access_team, agent_list, team_list
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.customers import services as customer_services
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Priority, Ticket, TicketType
from pivotdesk.web import selectors as web_selectors
from pivotdesk.web.base import Desk, agent_view, int_or_none

NEW_TICKET_CHANNELS = (Channel.AGENT, Channel.EMAIL, Channel.VOICE, Channel.CHAT, Channel.WECHAT)


def _form_context(desk: Desk, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "values": values,
        "priorities": Priority.choices,
        "ticket_types": TicketType.choices,
        "channels": [(c.value, c.label) for c in NEW_TICKET_CHANNELS],
        "teams": list(team_list(workspace=desk.workspace)),
        "agents": [a for a in agent_list(workspace=desk.workspace) if may_assign(desk.actor, a)],
        "can_assign_self": may_assign(desk.actor, desk.agent),
        "tag_names": web_selectors.tag_names(workspace_id=desk.workspace.pk),
    }


@agent_view
def new_ticket(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Create a ticket on behalf of a customer picked by (or typed as) an email address."""
    if request.method != "POST":
        initial: dict[str, Any] = {"priority": Priority.NORMAL, "ticket_type": TicketType.QUESTION}
        contact_id = int_or_none(request.GET.get("contact"))
        if contact_id is not None:
            contact = customer_selectors.access_contact(workspace=desk.workspace, contact_id=contact_id)
            initial.update(email=contact.email, name=contact.name)
        return render(request, "web/new_ticket.html", _form_context(desk, initial))
    post = request.POST
    email = post.get("email", "").strip()
    if not email:
        raise ValidationFailed(_("Enter the customer's email address."))
    if not (post.get("subject", "").strip() or post.get("body", "").strip()):
        raise ValidationFailed(_("Enter a subject or a description."))
    channel = post.get("channel") or Channel.AGENT
    team_id = int_or_none(post.get("team"))
    assignee_id = int_or_none(post.get("assignee")) if post.get("assignee") != "me" else desk.agent.pk
    team = access_team(workspace=desk.workspace, team_id=team_id) if team_id else None
    assignee = access_agent(workspace=desk.workspace, agent_id=assignee_id) if assignee_id else None
    tags = [t.strip() for t in post.get("tags", "").replace("，", ",").split(",") if t.strip()]
    with transaction.atomic():  # a refused ticket leaves no new contact behind
        ticket = _create(desk=desk, post=post, email=email, channel=channel, team=team, assignee=assignee, tags=tags)
    return HttpResponseRedirect(reverse("web:ticket", args=[ticket.number]))


def _create(
    *,
    desk: Desk,
    post: Any,
    email: str,
    channel: str,
    team: Team | None,
    assignee: AgentProfile | None,
    tags: list[str],
) -> Ticket:
    """The requester found or created from the typed email, then the ticket (one transaction, the caller's)."""
    requester = customer_services.contact_resolve(
        actor=desk.actor, workspace=desk.workspace, kind="email", value=email, name=post.get("name", "").strip()
    )
    return ticket_services.ticket_create(
        workspace=desk.workspace,
        requester=requester,
        subject=post.get("subject", ""),
        body=post.get("body", ""),
        actor=desk.actor,
        channel=channel,
        priority=post.get("priority") or Priority.NORMAL,
        ticket_type=post.get("ticket_type") or TicketType.QUESTION,
        team=team,
        assignee=assignee,
        tags=tags,
    )
