"""Agent assist on the ticket page: the panel (articles, similar resolved tickets, the suggested root cause with its
template, the graph's tips, a suggested reply — each inserted with one click), the feedback buttons, and the
resolution form (root cause and solution, recorded when the agent solves the ticket).

The panel loads after the page (HTMX `load`), so a slow search never delays the ticket. Inserting goes through
`web/ticket_automation.js` (`data-insert-text`); the same click posts `used` feedback.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.common.errors import NotFound
from pivotdesk.knowledge.models import Article, AssistKind, Resolution, RootCause
from pivotdesk.knowledge.services import assist, rootcause
from pivotdesk.knowledge.services.rootcause import cause_name
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services.tickets import ticket_update
from pivotdesk.web.base import Desk, agent_view, int_or_none


def _ticket(desk: Desk, number: int) -> Ticket:
    return ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)


def _causes(desk: Desk) -> list[dict[str, Any]]:
    rows = RootCause.objects.filter(workspace=desk.workspace, is_active=True).select_related("parent")
    out = [
        {"id": c.pk, "name": f"{cause_name(c.parent)} › {cause_name(c)}" if c.parent else cause_name(c)} for c in rows
    ]
    return sorted(out, key=lambda r: r["name"])


def _article_texts(ticket: Ticket, ids: list[int]) -> dict[int, str]:
    return {a.pk: assist.article_insert_text(ticket, a) for a in Article.objects.filter(pk__in=ids)}


def panel_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    shown = assist.assist_for(actor=desk.actor, ticket=ticket)
    texts = _article_texts(ticket, [h.object_id for h in shown.articles])
    suggestion = shown.root_cause
    resolution = Resolution.objects.filter(ticket=ticket).select_related("root_cause").first()
    return {
        "ticket": ticket,
        "assist": shown,
        "article_rows": [{"hit": h, "text": texts.get(h.object_id, "")} for h in shown.articles],
        "suggested_cause": cause_name(suggestion.root_cause) if getattr(suggestion, "root_cause", None) else "",
        "causes": _causes(desk),
        "resolution": resolution,
        "selected_cause": (resolution.root_cause_id if resolution else None)
        or (
            getattr(getattr(suggestion, "root_cause", None), "pk", None)
            if suggestion and not suggestion.abstained
            else None
        ),
        "may_manage": can(desk.agent, Perm.KNOWLEDGE_MANAGE),
        "kinds": {k: k for k in AssistKind.values},
    }


@require_GET
@agent_view
def assist_panel(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    ticket = _ticket(desk, number)
    return render(request, "web/ticket/_assist.html", panel_context(desk, ticket))


@require_POST
@agent_view
def assist_feedback(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """One suggestion inserted (`used=1`) or judged (`useful=1|0`): a small acknowledgement replaces the buttons."""
    ticket = _ticket(desk, number)
    object_id = int_or_none(request.POST.get("object_id"))
    kind = request.POST.get("kind") or ""
    if object_id is None or object_id < 0 or kind not in AssistKind.values:
        raise NotFound(gettext("No such suggestion."))
    useful_raw = request.POST.get("useful")
    useful = None if useful_raw not in ("0", "1") else useful_raw == "1"
    assist.feedback_record(
        actor=desk.actor, ticket=ticket, kind=kind, object_id=object_id, useful=useful,
        used=request.POST.get("used") == "1", query=ticket.subject,
    )  # fmt: skip
    message = gettext("Thanks — noted.") if useful is not None else ""
    return HttpResponse(f'<span class="muted">{message}</span>' if message else "", status=200)


@require_POST
@agent_view
def resolution_save(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """Record the root cause and the solution; "solve" also sets the ticket solved."""
    ticket = _ticket(desk, number)
    cause_id = int_or_none(request.POST.get("root_cause"))
    cause = RootCause.objects.filter(workspace=desk.workspace, pk=cause_id).first() if cause_id else None
    if cause_id and cause is None:
        raise NotFound(gettext("No such root cause."))
    article_id = int_or_none(request.POST.get("article"))
    article = Article.objects.filter(workspace=desk.workspace, pk=article_id).first() if article_id else None
    solution = (request.POST.get("solution") or "").strip()[:5000]
    rootcause.resolution_record(actor=desk.actor, ticket=ticket, root_cause=cause, article=article, solution=solution)
    response: HttpResponse
    if request.POST.get("solve") == "1":
        ticket_update(ticket=ticket, actor=desk.actor, changes={"status": "solved"})
        ticket.refresh_from_db()
    response = render(request, "web/ticket/_assist.html", panel_context(desk, ticket))
    response["HX-Trigger"] = "props-changed, timeline-changed"
    return response
