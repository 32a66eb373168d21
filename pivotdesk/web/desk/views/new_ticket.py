"""A new ticket on behalf of a customer: picked, or typed as an email address, a phone number (a customer who only
ever calls) or a WeChat / WhatsApp id (one who only writes there). No email is required; a number or id that is
already known finds its contact (numbers in E.164 form, so "138 0013 8000" finds "+8613800138000")."""

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

NEW_TICKET_CHANNELS = (Channel.AGENT, Channel.EMAIL, Channel.VOICE, Channel.CHAT, Channel.WECHAT, Channel.WHATSAPP)
# The messaging ids a customer may be given by, and the channel a ticket opened for them is recorded under when the
# agent does not pick one.
IM_KINDS = {"wechat": Channel.WECHAT, "whatsapp": Channel.WHATSAPP}


def _form_context(desk: Desk, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "values": values,
        "priorities": Priority.choices,
        "ticket_types": TicketType.choices,
        "channels": [(c.value, c.label) for c in NEW_TICKET_CHANNELS],
        "im_kinds": [(kind, Channel(channel).label) for kind, channel in IM_KINDS.items()],
        "teams": list(team_list(workspace=desk.workspace)),
        "agents": [a for a in agent_list(workspace=desk.workspace) if may_assign(desk.actor, a)],
        "can_assign_self": may_assign(desk.actor, desk.agent),
        "tag_names": web_selectors.tag_names(workspace_id=desk.workspace.pk),
    }


@agent_view
def new_ticket(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Create a ticket on behalf of a customer picked, or typed as an email, a phone number or a messaging id."""
    if request.method != "POST":
        initial: dict[str, Any] = {"priority": Priority.NORMAL, "ticket_type": TicketType.QUESTION, "im_kind": "wechat"}
        contact_id = int_or_none(request.GET.get("contact"))
        if contact_id is not None:
            contact = customer_selectors.access_contact(workspace=desk.workspace, contact_id=contact_id)
            initial.update(contact=contact, email=contact.email, name=contact.name, phone=contact.phone)
        return render(request, "web/new_ticket.html", _form_context(desk, initial))
    post = request.POST
    customer = _customer_identity(post)
    if not (post.get("subject", "").strip() or post.get("body", "").strip()):
        raise ValidationFailed(_("Enter a subject or a description."))
    channel = post.get("channel") or _channel_for(customer)
    team_id = int_or_none(post.get("team"))
    assignee_id = int_or_none(post.get("assignee")) if post.get("assignee") != "me" else desk.agent.pk
    team = access_team(workspace=desk.workspace, team_id=team_id) if team_id else None
    assignee = access_agent(workspace=desk.workspace, agent_id=assignee_id) if assignee_id else None
    tags = [t.strip() for t in post.get("tags", "").replace("，", ",").split(",") if t.strip()]
    with transaction.atomic():  # a refused ticket leaves no new contact behind
        ticket = _create(
            desk=desk, post=post, customer=customer, channel=channel, team=team, assignee=assignee, tags=tags
        )
    return HttpResponseRedirect(reverse("web:ticket", args=[ticket.number]))


def _customer_identity(post: Any) -> list[tuple[str, str]]:
    """The (kind, value) pairs the agent typed, the one that finds or creates the requester first: email, then
    phone, then the messaging id. Empty when a known contact was picked (`contact`)."""
    pairs: list[tuple[str, str]] = []
    email, phone = post.get("email", "").strip(), post.get("phone", "").strip()
    im_kind, im_id = post.get("im_kind", "wechat"), post.get("im_id", "").strip()
    if email:
        pairs.append(("email", email))
    if phone:
        pairs.append(("phone", phone))
    if im_id:
        if im_kind not in IM_KINDS:
            raise ValidationFailed(_("Choose WeChat or WhatsApp for the messaging id."))
        pairs.append((im_kind, im_id))
    if not pairs and not int_or_none(post.get("contact")):
        raise ValidationFailed(_("Enter the customer's email address, phone number, or WeChat / WhatsApp id."))
    return pairs


def _channel_for(customer: list[tuple[str, str]]) -> str:
    """The channel a ticket is recorded under when the agent picked none: a customer given by email only is served
    in the desk (as before); one given by phone called; one given by a messaging id wrote there."""
    kinds = [kind for kind, _value in customer]
    if not kinds or "email" in kinds:
        return Channel.AGENT
    if "phone" in kinds:
        return Channel.VOICE
    return IM_KINDS[kinds[0]]


def _create(
    *,
    desk: Desk,
    post: Any,
    customer: list[tuple[str, str]],
    channel: str,
    team: Team | None,
    assignee: AgentProfile | None,
    tags: list[str],
) -> Ticket:
    """The requester (picked, or found / created from the first identity typed, the others attached to it), then
    the ticket (one transaction, the caller's)."""
    contact_id = int_or_none(post.get("contact"))
    name = post.get("name", "").strip()
    if contact_id and not customer:
        requester = customer_selectors.access_contact(workspace=desk.workspace, contact_id=contact_id)
        if requester.merged_into_id is not None:
            requester = customer_selectors.access_contact(workspace=desk.workspace, contact_id=requester.merged_into_id)
    else:
        kind, value = customer[0]
        requester = customer_services.contact_resolve(
            actor=desk.actor, workspace=desk.workspace, kind=kind, value=value, name=name
        )
        for other_kind, other_value in customer[1:]:
            customer_services.identity_attach(contact=requester, actor=desk.actor, kind=other_kind, value=other_value)
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
