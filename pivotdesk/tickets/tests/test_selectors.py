"""Ticket selectors: filters, sorts, ticket access by role setting, workspace isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.tickets import selectors, services
from pivotdesk.tickets.selectors import TicketFilters
from pivotdesk.tickets.tests.factories import make_ticket


def _numbers(qs):
    return [t.number for t in qs]


def test_filters_and_sorts(workspace, agent):
    actor = Actor.for_agent(agent)
    low = make_ticket(workspace=workspace, subject="打印机卡纸", priority="low", tags=["hardware"])
    urgent = make_ticket(workspace=workspace, subject="Refund please", priority="urgent", channel="email")
    services.ticket_assign(ticket=urgent, assignee=agent, actor=actor)
    f = TicketFilters.from_dict({"priority": "urgent,high"})
    assert _numbers(selectors.ticket_list(workspace=workspace, agent=agent, filters=f)) == [urgent.number]
    mine = TicketFilters(scope="mine")
    assert _numbers(selectors.ticket_list(workspace=workspace, agent=agent, filters=mine)) == [urgent.number]
    assert _numbers(selectors.ticket_list(workspace=workspace, agent=agent, filters=TicketFilters(tag="HARDWARE"))) == [
        low.number
    ]
    assert _numbers(selectors.ticket_list(workspace=workspace, agent=agent, filters=TicketFilters(q="卡纸"))) == [
        low.number
    ]
    assert _numbers(
        selectors.ticket_list(workspace=workspace, agent=agent, filters=TicketFilters(q=f"#{urgent.number}"))
    )
    by_prio = _numbers(selectors.ticket_list(workspace=workspace, agent=agent, sort="-priority"))
    assert by_prio == [urgent.number, low.number]
    unassigned = TicketFilters(assignee="none")
    assert _numbers(selectors.ticket_list(workspace=workspace, agent=agent, filters=unassigned)) == [low.number]
    future = TicketFilters(created_after=dt.datetime.now(tz=dt.UTC) + dt.timedelta(days=1))
    assert not selectors.ticket_list(workspace=workspace, agent=agent, filters=future).exists()


def test_search_finds_words_in_messages(workspace, agent):
    t = make_ticket(workspace=workspace, subject="hello", body="错误代码 E-1234 on my router")
    assert _numbers(selectors.ticket_list(workspace=workspace, agent=agent, filters=TicketFilters(q="E-1234"))) == [
        t.number
    ]


def test_bad_filters_are_validation_errors(workspace, agent):
    with pytest.raises(ValidationFailed):
        selectors.ticket_list(workspace=workspace, agent=agent, filters=TicketFilters(status=["archived"]))
    with pytest.raises(ValidationFailed):
        selectors.ticket_list(workspace=workspace, agent=agent, sort="-password")
    with pytest.raises(ValidationFailed):
        TicketFilters.from_dict({"team": "abc"})
    with pytest.raises(ValidationFailed):
        TicketFilters.from_dict({"created_after": "yesterday"})


def test_other_workspace_ticket_is_not_found(workspace, other_workspace, agent):
    theirs = make_ticket(workspace=other_workspace)
    with pytest.raises(NotFound):
        selectors.access_ticket(workspace=workspace, agent=agent, ticket_id=theirs.pk)
    assert not selectors.ticket_list(workspace=workspace, agent=agent).filter(pk=theirs.pk).exists()
    # an agent of B asking with B's workspace but A's agent profile sees nothing
    assert not selectors.visible_tickets(workspace=other_workspace, agent=agent).exists()


def test_ticket_access_teams_and_assigned(workspace):
    team = TeamFactory(workspace=workspace)
    restricted = AgentFactory(workspace=workspace, ticket_access="teams")
    team.members.add(restricted)
    only_mine = AgentFactory(workspace=workspace, ticket_access="assigned")
    system = Actor.system()
    in_team = make_ticket(workspace=workspace, team=team)
    elsewhere = make_ticket(workspace=workspace)
    services.ticket_assign(ticket=elsewhere, assignee=only_mine, actor=system)
    assert set(_numbers(selectors.visible_tickets(workspace=workspace, agent=restricted))) == {in_team.number}
    assert set(_numbers(selectors.visible_tickets(workspace=workspace, agent=only_mine))) == {elsewhere.number}
    with pytest.raises(NotFound):
        selectors.access_ticket(workspace=workspace, agent=only_mine, ticket_id=in_team.pk)


def test_list_query_count_is_constant(workspace, agent):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            rows = list(selectors.ticket_list(workspace=workspace, agent=agent)[:50])
            for t in rows:
                _ = (t.requester.display_name, t.assignee and t.assignee.name, t.team, [x.name for x in t.tags.all()])
        return len(ctx.captured_queries)

    team = TeamFactory(workspace=workspace)
    for i in range(3):
        make_ticket(workspace=workspace, team=team, assignee=agent, tags=[f"t{i}"])
    few = count_queries()
    for i in range(20):
        make_ticket(workspace=workspace, team=team, assignee=agent, tags=[f"t{i}", "x"])
    assert count_queries() == few


def test_links_grouped(workspace, actor):
    a, b, c = (make_ticket(workspace=workspace) for _ in range(3))
    services.ticket_link(source=a, target=b, kind="related", actor=actor)
    services.ticket_link(source=c, target=a, kind="duplicate_of", actor=actor)
    services.ticket_set_parent(child=b, parent=a, actor=actor)
    links = selectors.ticket_links(ticket=a)
    assert [t.pk for t in links["related"]] == [b.pk]
    assert [t.pk for t in links["duplicates"]] == [c.pk]
    assert [t.pk for t in links["children"]] == [b.pk]
    # linking twice, or the reverse of a related link, is a no-op
    services.ticket_link(source=b, target=a, kind="related", actor=actor)
    assert len(selectors.ticket_links(ticket=a)["related"]) == 1
