"""One search box over tickets, articles and customers: the grouped results page (`search/?q=`) and the dropdown the
top bar shows while the agent types (`search/suggest/?q=`). Each group is read by its own selector, so the rules of
each hold: the tickets this agent may see (queue search: number, words, customer), articles through hybrid
retrieval (drafts included for agents, internal ones too), customers by name, e-mail, phone or identity."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.knowledge import retrieval
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.web.base import Desk, agent_view

MAX_QUERY = 200


def grouped(desk: Desk, query: str, *, per_group: int) -> dict[str, Any]:
    """The three groups for a query (empty groups for a query shorter than two characters)."""
    query = query.strip()[:MAX_QUERY]
    if len(query) < 2 and not query.isdigit():
        return {"q": query, "tickets": [], "articles": [], "contacts": []}
    filters = ticket_selectors.TicketFilters(q=query)
    tickets = list(
        ticket_selectors.ticket_list(workspace=desk.workspace, agent=desk.agent, filters=filters)[:per_group]
    )
    articles = retrieval.search_articles(
        workspace_id=desk.workspace.pk, query=query, published_only=False, limit=per_group
    )
    contacts = list(customer_selectors.contact_list(workspace=desk.workspace, q=query)[:per_group])
    return {"q": query, "tickets": tickets, "articles": articles, "contacts": contacts}


@require_GET
@agent_view
def search_page(request: HttpRequest, desk: Desk) -> HttpResponse:
    context = grouped(desk, request.GET.get("q") or "", per_group=20)
    return render(request, "web/search.html", context)


@require_GET
@agent_view
def search_suggest(request: HttpRequest, desk: Desk) -> HttpResponse:
    context = grouped(desk, request.GET.get("q") or "", per_group=5)
    return render(request, "web/partials/search_groups.html", context)
