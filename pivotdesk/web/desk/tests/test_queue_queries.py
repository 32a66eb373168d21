"""The queue page's query budget: a full page with its chrome (menus, saved views, workspace switcher) in ≤ 8.

Measured before: 15 queries, 10 of them page chrome (the menus' agent and team lists with their prefetches, the
profile's user read twice, the memberships read twice).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from pivotdesk.accounts.models import AgentProfile, AgentSkill, Skill, Workspace
from pivotdesk.customers.models import Contact
from pivotdesk.tickets.models import SavedView
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_agent, new_team

pytestmark = pytest.mark.django_db

QUEUE_PAGE_BUDGET = 9  # issue 18: + the agent's queue columns (tickets.QueueLayout)
# A search reads its matching ids and its ranking (search index) before the page, and on PostgreSQL the page's
# ids before its rows (tickets.selectors._PageIdsFirst).
SEARCH_READS = 2 + (1 if connection.vendor == "postgresql" else 0)


@pytest.fixture(autouse=True)
def _configuration_cached(settings: Any) -> None:
    """As in production: the workspace's configuration (its status vocabulary, which the filter, the bulk bar and
    the chips name) is read once per process and TTL (`common.config_cache`), not on every page (the suite's
    conftest turns the cache off)."""
    settings.PIVOTDESK_CONFIG_CACHE_SECONDS = 60


@pytest.fixture
def busy_desk(agent: AgentProfile, workspace: Workspace, other_workspace: Workspace, contact: Contact) -> None:
    """Given a workspace with more tickets than a page, tagged; agents with teams and skills; saved views; and an
    agent who is also a member of a second workspace (so the switcher shows)."""
    colleagues = [new_agent(workspace=workspace) for _ in range(4)]
    skill = Skill.objects.create(workspace=workspace, name="billing")
    for colleague in colleagues:
        AgentSkill.objects.create(agent=colleague, skill=skill, level=3)
    for n in range(3):
        team = new_team(workspace=workspace, name=f"Team {n}")
        team.members.add(agent, *colleagues[n:])
    SavedView.objects.create(workspace=workspace, owner=agent, name="Mine open", filters={"scope": "mine"})
    SavedView.objects.create(workspace=workspace, owner=None, name="Urgent", filters={"priority": "urgent"})
    new_agent(workspace=other_workspace, user=agent.user)
    for n in range(55):
        make_ticket(workspace=workspace, requester=contact, subject=f"Order {n} late", tags=["vip", "order"])


@pytest.mark.usefixtures("busy_desk")
@pytest.mark.parametrize(
    ("query", "budget"),
    [
        ("scope=all", QUEUE_PAGE_BUDGET),
        ("scope=open&sort=priority", QUEUE_PAGE_BUDGET),
        ("scope=all&q=order", QUEUE_PAGE_BUDGET + SEARCH_READS),
        ("scope=all&q=order&sort=-updated_at", QUEUE_PAGE_BUDGET + SEARCH_READS - 1),  # no ranking read
    ],
)
def test_given_a_busy_desk_when_the_queue_page_loads_then_it_costs_at_most_9_queries_plus_the_search_reads(
    agent: AgentProfile, django_assert_max_num_queries: Any, query: str, budget: int, client_as
) -> None:
    client = client_as(agent)
    client.get(f"/queue/?{query}")  # warm-up: the session's first touches

    with django_assert_max_num_queries(budget):
        response = client.get(f"/queue/?{query}")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="qrow') == 50
    assert "Team 2" in html and "Urgent" in html and "Mine open" in html  # the menus and saved views are there
    assert f'value="{agent.pk}"' in html  # the agent is in the assignee menu


@pytest.mark.usefixtures("busy_desk")
def test_the_assignee_menu_lists_active_agents_by_name_and_the_switcher_both_workspaces(
    agent: AgentProfile, workspace: Workspace, other_workspace: Workspace, client_as
) -> None:
    inactive = new_agent(workspace=workspace)
    inactive.is_active = False
    inactive.save()

    html = client_as(agent).get("/queue/?scope=all").content.decode()

    assert inactive.name not in html
    names = [a.name for a in AgentProfile.objects.filter(workspace=workspace, is_active=True).select_related("user")]
    positions = [html.index(f">{name}</option>") for name in sorted(names, key=str.casefold)]
    assert positions == sorted(positions)
    assert other_workspace.name in html and workspace.name in html
