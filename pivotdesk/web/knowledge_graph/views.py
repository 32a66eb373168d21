"""The knowledge graph screens: the list of entities (search in names and other spellings, filter by kind, how many
tickets and articles mention each) and an entity's page (its neighbours with the edge's weight and, for a solution
and its context, "worked in N of M"; a diagram of the neighbourhood drawn on the server; the evidence tickets).

Reading the graph is for those who keep the knowledge base (KNOWLEDGE_MANAGE): it shows every ticket's entities.
Another workspace's entity is a 404, told apart from none by nothing."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.knowledge.graph_tips import display_label
from pivotdesk.knowledge.models import EntityKind, GraphEdge
from pivotdesk.knowledge.services import graph
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.knowledge_graph import diagram

LIST_LIMIT = 200


def _reads(desk: Desk) -> None:
    """The graph screens show only to those the knowledge services accept (supervisors and admins)."""
    require(desk.agent, Perm.KNOWLEDGE_MANAGE)


def _rate(edge: GraphEdge) -> dict[str, Any] | None:
    if not edge.trials:
        return None
    return {"n": edge.successes, "m": edge.trials, "percent": round(100 * edge.successes / edge.trials)}


@agent_view
def entity_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """GET ?q=…&kind=…: the workspace's entities, catalogue first within a kind."""
    _reads(desk)
    query = request.GET.get("q", "")
    kind = request.GET.get("kind", "")
    rows = (
        graph.entities(workspace_id=desk.workspace.pk, query=query, kind=kind)
        .annotate(mentioned=Count("mentions"))
        .order_by("kind", "-catalogued", "-mentioned", "key")
    )
    shown = list(rows[: LIST_LIMIT + 1])
    context = {
        "rows": [{"entity": e, "label": display_label(e), "mentioned": e.mentioned} for e in shown[:LIST_LIMIT]],
        "more": len(shown) > LIST_LIMIT,
        "query": query,
        "kind": kind if kind in EntityKind.values else "",
        "kinds": EntityKind.choices,
    }
    return render(request, "web/knowledge/graph.html", context)


@agent_view
def entity_page(request: HttpRequest, desk: Desk, entity_id: int) -> HttpResponse:
    """One entity: its neighbours (weight, success N of M), the neighbourhood diagram, the evidence tickets."""
    _reads(desk)
    entity = graph.access_entity(workspace_id=desk.workspace.pk, entity_id=int_or_none(entity_id))
    found = graph.neighbours(entity)
    neighbours = [
        {"entity": other, "label": display_label(other), "edge": edge, "rate": _rate(edge)} for other, edge in found
    ]
    centre, nodes = diagram.layout(
        (entity.pk, entity.kind, display_label(entity)),
        [(other.pk, other.kind, display_label(other), edge.weight) for other, edge in found],
    )
    context = {
        "entity": entity,
        "label": display_label(entity),
        "neighbours": neighbours,
        "centre": centre,
        "nodes": nodes,
        "width": diagram.WIDTH,
        "height": diagram.HEIGHT,
        "tickets": list(graph.evidence(entity)),
    }
    return render(request, "web/knowledge/graph_entity.html", context)
