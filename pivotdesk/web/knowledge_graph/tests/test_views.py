"""The knowledge graph screens through the views: the list and an entity's page speak the reader's language, show
the neighbours with "N of M", the diagram and the evidence tickets (linked to the ticket page), search and the kind
filter narrow the list, an agent without knowledge.manage is refused, and another workspace's entity is a 404."""

from __future__ import annotations

import html as entities
import re

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.time import now
from pivotdesk.knowledge.models import GraphEntity, Resolution
from pivotdesk.knowledge.services import graph
from pivotdesk.tickets.tests.factories import make_ticket

SYSTEM = Actor.system("knowledge graph")

pytestmark = [pytest.mark.django_db, pytest.mark.urls("pivotdesk.web.knowledge_graph.tests.urls")]


def _text(page: str) -> str:
    return " ".join(entities.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _graph(workspace, manager):
    boss = Actor.for_agent(manager)
    graph.catalogue_save(actor=boss, workspace=workspace, kind="model", label="PD-X300")
    graph.catalogue_save(actor=boss, workspace=workspace, kind="solution", label="重置控制器", aliases=["reset"])
    tickets = []
    for ok in (True, True, False):
        ticket = make_ticket(workspace=workspace, subject="PD-X300 报错 E-2047", body="固件 2.2")
        Resolution.objects.create(
            workspace=workspace, ticket=ticket, solution="重置控制器", succeeded=ok, resolved_at=now()
        )
        graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk)
        tickets.append(ticket)
    graph.rebuild(actor=SYSTEM, workspace_id=workspace.pk)
    return tickets


@pytest.fixture
def tickets(workspace, supervisor):
    return _graph(workspace, supervisor)


def _model(workspace):
    return GraphEntity.objects.get(workspace=workspace, kind="model", key="pd-x300")


@pytest.mark.parametrize("case", [("en", ("Knowledge graph", "Fault code")), ("zh-hans", ("PD-X300",))])
def test_the_list_renders_and_filters(client_as, supervisor, tickets, case):
    language, words = case
    client = client_as(supervisor, language)
    page = client.get(reverse("web:knowledge_graph"))
    assert page.status_code == 200
    text = _text(page.content.decode())
    assert all(w in text for w in words) and "E-2047" in text and "重置控制器" in text
    only_codes = _text(client.get(reverse("web:knowledge_graph"), {"kind": "fault_code"}).content.decode())
    assert "E-2047" in only_codes and "重置控制器" not in only_codes
    searched = _text(client.get(reverse("web:knowledge_graph"), {"q": "reset"}).content.decode())
    assert "重置控制器" in searched and "E-2047" not in searched


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_entity_page_shows_neighbours_with_n_of_m_the_diagram_and_the_tickets(
    client_as, supervisor, workspace, tickets, language
):
    page = client_as(supervisor, language).get(reverse("web:knowledge_graph_entity", args=[_model(workspace).pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and body.count("<circle") >= 3  # the model, its fault code, firmware and solution
    assert "2 of 3 (67%)" in _text(body) if language == "en" else "67%" in _text(body)
    for ticket in tickets:
        assert f'href="/tickets/{ticket.number}/"' in body


def test_an_agent_without_knowledge_manage_is_refused(client_as, agent, workspace, tickets):
    client = client_as(agent)
    assert client.get(reverse("web:knowledge_graph")).status_code in (403, 404)
    assert client.get(reverse("web:knowledge_graph_entity", args=[_model(workspace).pk])).status_code in (403, 404)


def test_another_workspaces_entity_is_not_found(client_as, supervisor, other_workspace):
    _graph(other_workspace, AgentFactory(workspace=other_workspace, role=Role.SUPERVISOR))
    theirs = _model(other_workspace)
    client = client_as(supervisor)
    assert client.get(reverse("web:knowledge_graph_entity", args=[theirs.pk])).status_code == 404
    assert "PD-X300" not in _text(client.get(reverse("web:knowledge_graph")).content.decode())
