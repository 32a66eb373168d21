"""Batch assignment by example: jointly on the score matrix, within capacities, urgent first when slots are short."""

from __future__ import annotations

from collections import Counter

from pivotdesk.routing.domain import (
    AgentState,
    PolicySpec,
    TicketSpec,
    assignment_value,
    batch_assign,
    greedy_assign,
)


def test_joint_assignment_places_tickets_that_greedy_strands():
    # The urgent ticket comes first in the queue and greedily takes the only billing agent (fewer recent
    # assignments); the billing ticket then has nobody. Jointly, both are placed.
    agents = [
        AgentState(1, skills={"billing": 3}, capacity={"email": 1}),
        AgentState(2, capacity={"email": 1}, recent_assignments=5),
    ]
    tickets = [TicketSpec(10, required_skills={"billing": 3}), TicketSpec(11, priority="urgent")]
    policy = PolicySpec()
    greedy = greedy_assign(tickets, agents, policy)
    batch = batch_assign(tickets, agents, policy)
    assert [d.agent_id for d in greedy] == [None, 1]
    assert [d.agent_id for d in batch] == [1, 2]
    assert assignment_value(tickets, batch) > assignment_value(tickets, greedy)
    assert batch[0].reason.startswith("Batch assignment: agent #1")
    assert greedy[0].reason_data["excluded"] == {"skill_missing": 1, "no_room": 1}


def test_the_last_slot_goes_to_the_urgent_ticket():
    agents = [AgentState(1, capacity={"chat": 1}, languages=frozenset({"zh"}))]
    tickets = [
        TicketSpec(1, channel_type="chat", priority="low", language="zh", previous_agent_ids=(1,)),
        TicketSpec(2, channel_type="chat", priority="urgent"),
    ]
    decisions = batch_assign(tickets, agents, PolicySpec())
    assert [d.agent_id for d in decisions] == [None, 1]
    assert decisions[0].reason_data["outcome"] == "waiting"


def test_batch_spreads_the_load_and_never_exceeds_capacity():
    agents = [AgentState(i, capacity={"email": 3}, load={"email": i - 1}) for i in (1, 2, 3)]
    tickets = [TicketSpec(t) for t in range(1, 8)]
    decisions = batch_assign(tickets, agents, PolicySpec(strategy="least_loaded"))
    per_agent = Counter(d.agent_id for d in decisions)
    assert per_agent == {1: 3, 2: 2, 3: 1, None: 1}  # free slots: 3 + 2 + 1 = 6 for 7 tickets
    assert [d.ticket_id for d in decisions] == list(range(1, 8))  # input order kept


def test_round_robin_batch_gives_everyone_one_before_anyone_two():
    agents = [AgentState(i, capacity={"email": 5}, last_assigned_at=float(i)) for i in (1, 2, 3)]
    decisions = batch_assign([TicketSpec(t) for t in (1, 2, 3)], agents, PolicySpec(strategy="round_robin"))
    assert sorted(d.agent_id for d in decisions) == [1, 2, 3]


def test_an_empty_backlog_or_no_agents_is_fine():
    assert batch_assign([], [AgentState(1, capacity={"email": 1})], PolicySpec()) == []
    decisions = batch_assign([TicketSpec(1)], [], PolicySpec())
    assert decisions[0].agent_id is None
    assert decisions[0].reason.startswith("No agent can take this ticket now (no agents)")
