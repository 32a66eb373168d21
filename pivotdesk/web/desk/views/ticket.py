"""The ticket page: conversation, reply box, properties sidebar, timeline, customer panel, presence pulse."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from pivotdesk.accounts.permissions import Perm, can, may_assign
from pivotdesk.accounts.selectors import agent_list, mention_candidates, team_list
from pivotdesk.common.errors import NotFound
from pivotdesk.common.user_files import user_file_response
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import MessageKind, Priority, Status, Ticket, TicketType
from pivotdesk.web import selectors as web_selectors
from pivotdesk.web.automation.views.ticket import ticket_automation_context
from pivotdesk.web.base import Desk, agent_view
from pivotdesk.web.desk import presence, statuses
from pivotdesk.web.desk.forms import property_changes, status_value
from pivotdesk.web.oncall.views import ticket_oncall_context

REPLY_STATUSES = (Status.OPEN, Status.PENDING, Status.SOLVED)


def _ticket(desk: Desk, number: int) -> Ticket:
    return ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)


def _version(ticket: Ticket) -> str:
    return ticket.updated_at.isoformat()


def _conversation_context(ticket: Ticket) -> dict[str, Any]:
    items = list(ticket_selectors.message_list(ticket=ticket))
    return {"ticket": ticket, "thread": items, "message_total": len(items)}  # not "messages": Django's flash


def _status_options(desk: Desk, ticket: Ticket) -> list[dict[str, Any]]:
    """Status choices for the sidebar: each category, or the workspace's labels for it when it has any."""
    labels = [d for d in statuses.definitions(workspace_id=desk.workspace.pk) if d.active]
    out: list[dict[str, Any]] = []
    for value, label in Status.choices:
        own = [d for d in labels if d.category == value]
        if own:
            out.extend({"value": f"def:{d.pk}", "definition": d, "category": value} for d in own)
        else:
            out.append({"value": f"cat:{value}", "label": label, "category": value})
    current = status_value(ticket)
    if not any(o["value"] == current for o in out):  # an inactive label still shows what the ticket has
        out.append({"value": f"cat:{ticket.status}", "label": ticket.get_status_display(), "category": ticket.status})
    return out


def _abilities(desk: Desk) -> dict[str, bool]:
    """What this agent's role lets it do here, asked of the one gate: the page shows only those controls (the
    services still refuse the rest)."""
    return {
        "may_update": can(desk.agent, Perm.TICKET_UPDATE),
        "may_reply_public": can(desk.agent, Perm.TICKET_REPLY_PUBLIC),
        "may_note": can(desk.agent, Perm.TICKET_NOTE),
        "may_take": may_assign(desk.actor, desk.agent),
        "may_merge": can(desk.agent, Perm.TICKET_MERGE),
    }


def _reply_statuses(desk: Desk) -> list[tuple[str, str]]:
    """ "Submit as" choices: each category a reply may move to, named by the label the ticket will get there."""
    return [(s, statuses.default_choice(workspace_id=desk.workspace.pk, category=s).label) for s in REPLY_STATUSES]


def _timeline_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    return {
        "events": list(ticket_selectors.timeline(ticket=ticket)),
        "status_definitions": statuses.definitions_by_id(workspace_id=desk.workspace.pk),
    }


def _sidebar_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    custom_fields = list(ticket_selectors.custom_field_list(workspace=desk.workspace))
    tags = sorted(t.name for t in ticket.tags.all())
    follower_rows = list(web_selectors.followers(ticket=ticket))
    return {
        **_abilities(desk),
        "ticket": ticket,
        "version": _version(ticket),
        "status_value": status_value(ticket),
        "status_options": _status_options(desk, ticket),
        "priorities": Priority.choices,
        "ticket_types": TicketType.choices,
        "categories": web_selectors.categories(workspace_id=desk.workspace.pk),
        "teams": list(team_list(workspace=desk.workspace)),
        "agents": list(agent_list(workspace=desk.workspace)),
        "tags_text": ", ".join(tags),
        "tag_names": tags,
        "follower_ids": [f.pk for f in follower_rows],
        "custom_fields": [
            {"field": f, "value": ticket.custom_fields.get(f.key), "name": f"cf_{f.key}"} for f in custom_fields
        ],
    }


def _customer_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    contact = ticket.requester
    return {
        "contact": contact,
        "organization": contact.organization,
        "identities": web_selectors.identities(contact=contact),
        "other_tickets": ticket_selectors.customer_tickets(
            workspace=desk.workspace, agent=desk.agent, contact_id=contact.pk, exclude_id=ticket.pk, limit=15
        ),
    }


@agent_view
def ticket_page(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The ticket page."""
    ticket = _ticket(desk, number)
    watchers = presence.watchers(workspace_id=desk.workspace.pk, ticket_id=ticket.pk, exclude=desk.agent.pk)
    context: dict[str, Any] = {
        "reply_statuses": _reply_statuses(desk),
        "links": ticket_selectors.ticket_links(ticket=ticket),
        "watchers": watchers,
        **_timeline_context(desk, ticket),
        "link_kinds": _link_kinds(),
        "all_tags": web_selectors.tag_names(workspace_id=desk.workspace.pk),
        "oncall": ticket_oncall_context(desk, ticket),
        "automation": ticket_automation_context(desk, ticket),
        "drafting": ticket_selectors.colleagues_drafting(
            ticket=ticket, agent=desk.agent, besides=[w.agent_id for w in watchers]
        ),
        **_draft_context(desk, ticket),
    }
    context.update(_conversation_context(ticket))
    context.update(_sidebar_context(desk, ticket))
    context.update(_customer_context(desk, ticket))
    return render(request, "web/ticket/page.html", context)


def _draft_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    """The reply box as the agent left it: their draft's text and mode (a note mode for a role without public
    replies)."""
    from pivotdesk.web.desk.views.composer import composer_context

    draft = ticket_selectors.draft_of(ticket=ticket, agent=desk.agent)
    public = can(desk.agent, Perm.TICKET_REPLY_PUBLIC) and (draft is None or draft.kind == MessageKind.PUBLIC)
    return {"draft": draft, "reply_mode": "public" if public else "note", **composer_context(desk, ticket)}


@require_POST
@agent_view
def draft(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """Keep the reply box's text on the server while the agent types (empty text drops the draft)."""
    ticket = _ticket(desk, number)
    kind = MessageKind.NOTE if request.POST.get("kind") == "note" else MessageKind.PUBLIC
    saved = ticket_services.draft_save(
        actor=desk.actor, ticket=ticket, agent=desk.agent, body=request.POST.get("body", ""), kind=kind
    )
    return HttpResponse(status=204, headers={"X-Draft": "saved" if saved else "empty"})


@agent_view
def mentionable(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The colleagues an internal note on this ticket could @mention, for the composer's autocomplete."""
    _ticket(desk, number)
    people = mention_candidates(workspace=desk.workspace, q=request.GET.get("q", ""), exclude=desk.agent)
    return render(request, "web/ticket/_mentionable.html", {"people": people})


def _link_kinds() -> list[tuple[str, str]]:
    from django.utils.translation import gettext as _

    return [
        ("related", _("Related to")),
        ("duplicate_of", _("Duplicate of")),
        ("parent", _("Child of (set parent)")),
        ("child", _("Parent of (add child)")),
    ]


@agent_view
def conversation(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The conversation list alone (refreshed when the ticket changes)."""
    ticket = _ticket(desk, number)
    return render(request, "web/ticket/_conversation.html", _conversation_context(ticket))


@agent_view
def sidebar(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The properties form alone."""
    return _props(request, desk, number)


@agent_view
def timeline(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The timeline alone."""
    ticket = _ticket(desk, number)
    return render(request, "web/ticket/_timeline.html", {"ticket": ticket, **_timeline_context(desk, ticket)})


def _changed(response: HttpResponse, *events: str) -> HttpResponse:
    """Tell the page which parts to refresh (htmx listens for these events on the body)."""
    response["HX-Trigger"] = ", ".join(events or ("conversation-changed", "props-changed", "timeline-changed"))
    return response


def _props(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    ticket = _ticket(desk, number)
    context = _sidebar_context(desk, ticket)
    context["oob"] = True
    return render(request, "web/ticket/_properties.html", context)


@require_POST
@agent_view
def reply(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """Post a public reply or an internal note, optionally moving the ticket to open / pending / solved. The
    composer sends its HTML (`body_html`, sanitised by the service, which writes the text version), the files
    pasted into it (`uploads`) and, on a public e-mail reply, Cc / Bcc; a plain `body` still works without it."""
    ticket = _ticket(desk, number)
    kind = MessageKind.NOTE if request.POST.get("kind") == "note" else MessageKind.PUBLIC
    status_after = request.POST.get("status_after") or None
    if status_after is not None and status_after not in REPLY_STATUSES:
        status_after = None
    files = [(f.name or "attachment", f.read(), f.content_type or "") for f in request.FILES.getlist("files")]
    public = kind == MessageKind.PUBLIC
    ticket_services.message_create(
        ticket=ticket,
        actor=desk.actor,
        body="" if request.POST.get("body_html", "").strip() else request.POST.get("body", ""),
        body_html=request.POST.get("body_html", ""),
        kind=kind,
        attachments=files,
        status_after=status_after,
        cc=request.POST.getlist("cc") if public else None,
        bcc=request.POST.getlist("bcc") if public else None,
        uploads=[int(pk) for pk in request.POST.getlist("uploads") if pk.isdigit()],
    )
    ticket_services.draft_discard(actor=desk.actor, ticket=ticket, agent=desk.agent)
    presence.heartbeat(
        workspace_id=desk.workspace.pk,
        ticket_id=ticket.pk,
        agent_id=desk.agent.pk,
        name=desk.agent.name,
        state=presence.VIEWING,
    )
    if not getattr(request, "htmx", False):
        return HttpResponseRedirect(reverse("web:ticket", args=[number]))
    ticket = _ticket(desk, number)
    response = render(request, "web/ticket/_conversation.html", _conversation_context(ticket))
    return _changed(response, "props-changed", "timeline-changed")


@require_POST
@agent_view
def update_properties(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """Save the sidebar: only the fields that changed go to ticket_update (one timeline event each)."""
    ticket = _ticket(desk, number)
    context = _sidebar_context(desk, ticket)
    changes = property_changes(
        ticket=ticket,
        post=request.POST,
        custom_fields=[c["field"] for c in context["custom_fields"]],
        tag_names=context["tag_names"],
        follower_ids=context["follower_ids"],
    )
    if changes:
        ticket_services.ticket_update(ticket=ticket, actor=desk.actor, changes=changes)
    if not getattr(request, "htmx", False):
        return HttpResponseRedirect(reverse("web:ticket", args=[number]))
    response = _props(request, desk, number)
    return _changed(response, "timeline-changed") if changes else response


@require_POST
@agent_view
def assign_to_me(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """Assign the ticket to the current agent (keyboard: a)."""
    ticket = _ticket(desk, number)
    ticket_services.ticket_assign(ticket=ticket, assignee=desk.agent, actor=desk.actor)
    if not getattr(request, "htmx", False):
        return HttpResponseRedirect(reverse("web:ticket", args=[number]))
    return _changed(_props(request, desk, number), "timeline-changed")


@require_POST
@agent_view
def pulse(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """Heartbeat from an open ticket page: records presence, returns who else is here, and tells the page to
    refresh when the ticket changed since it was drawn. Kept cheap: two small queries and a cache round trip."""
    ticket = ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)
    state = request.POST.get("state", presence.VIEWING)
    others = presence.heartbeat(
        workspace_id=desk.workspace.pk, ticket_id=ticket.pk, agent_id=desk.agent.pk, name=desk.agent.name, state=state
    )
    drafting = ticket_selectors.colleagues_drafting(
        ticket=ticket, agent=desk.agent, besides=[w.agent_id for w in others]
    )
    response = render(
        request, "web/ticket/_presence.html", {"watchers": others, "ticket": ticket, "drafting": drafting}
    )
    if request.POST.get("version") and request.POST.get("version") != _version(ticket):
        # A change made elsewhere: the sidebar refreshes only when the agent is not in the middle of editing it
        # (a refresh would close their open select and swallow the change they are making).
        _changed(response, "conversation-changed", "remote-props-changed", "timeline-changed")
    return response


@require_POST
@agent_view
def leave(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The page was closed: forget this agent's presence at once."""
    ticket = _ticket(desk, number)
    presence.leave(workspace_id=desk.workspace.pk, ticket_id=ticket.pk, agent_id=desk.agent.pk)
    return HttpResponse(status=204)


@agent_view
def attachment(request: HttpRequest, desk: Desk, number: int, attachment_id: int) -> HttpResponseBase:
    """Download an attachment of a ticket the agent may see (raster images, by their bytes, inline; the rest as a
    download: see `common.user_files`)."""
    ticket = _ticket(desk, number)
    att = web_selectors.access_attachment(ticket=ticket, attachment_id=attachment_id)
    try:
        handle = att.file.open("rb")
    except OSError as exc:
        raise NotFound(gettext("The file of this attachment is missing.")) from exc
    return user_file_response(handle=handle, filename=att.filename, inline=True)
