"""Assigning a backlog jointly: one assignment problem over the score matrix with capacities.

Each agent is expanded into one slot per free place (capacity − load) for each channel type; slot j of an agent
is scored as if the agent already had j more tickets (its score minus j times the strategy's load slope; for round
robin, its score × 0.4^j, so everyone gets one before anyone gets two), so the optimum spreads work the way the
single-ticket engine would. Each ticket's row is multiplied by (1 + impact): when
slots are short, urgent tickets and those close to their SLA win them. Channel types never share slots, so each is
solved on its own with `scipy.optimize.linear_sum_assignment` (maximising). Tickets without an eligible slot stay
unassigned (their decision says why). `greedy_assign` is the one-by-one baseline on the same scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pivotdesk.routing.domain.engine import (
    Evaluation,
    decision_from,
    evaluate,
    is_available,
    queue_key,
    ticket_impact,
)
from pivotdesk.routing.domain.model import AgentState, Decision, PolicySpec, TicketSpec
from pivotdesk.routing.domain.table import AgentTable

FORBIDDEN = -1e9  # a ticket/slot pair that breaks a hard filter
# Added to every real pair in the objective, so each assignment is clearly worth more than leaving a ticket waiting
# (slot scores are positive already: a slot past the capacity is never created).
_SHIFT = 1.0 + 1e-6


@dataclass
class _Problem:
    tickets: list[TicketSpec]
    evaluations: list[Evaluation]
    slot_agent: dict[str, list[int]]  # channel type → agent index per slot (into the agents sequence)
    slot_rank: dict[str, list[int]]  # channel type → j (how many tickets the agent got before this slot)


def _slots(agents: Sequence[AgentState], channel: str, limit: int) -> tuple[list[int], list[int]]:
    owner: list[int] = []
    rank: list[int] = []
    for index, agent in enumerate(agents):
        if not is_available(agent):
            continue
        free = agent.capacity.get(channel, 0) - agent.load.get(channel, 0)
        # No agent can take more tickets of a channel type than there are tickets of it in the batch.
        for j in range(max(0, min(free, limit))):
            owner.append(index)
            rank.append(j)
    return owner, rank


def _matrix(
    rows: list[int], problem: _Problem, agents: Sequence[AgentState], channel: str
) -> tuple[np.ndarray, np.ndarray]:
    """Slot scores (rows × slots, FORBIDDEN where ineligible) and the raw per-ticket weights (1 + impact)."""
    owner = np.array(problem.slot_agent[channel], dtype=np.intp)
    rank = np.array(problem.slot_rank[channel], dtype=np.float64)
    matrix = np.full((len(rows), len(owner)), FORBIDDEN)
    weights = np.ones(len(rows))
    for r, t in enumerate(rows):
        ev = problem.evaluations[t]
        weights[r] = 1.0 + ev.impact
        if not ev.agents:
            continue
        # Agent index (in the full list) → its eligible index in this evaluation.
        lookup = np.full(len(agents), -1, dtype=np.intp)
        lookup[ev.indices] = np.arange(len(ev.agents))
        eligible_index = lookup[owner]
        ok = eligible_index >= 0
        k = eligible_index[ok]
        matrix[r, ok] = ev.scores[k] * ev.slot_decay ** rank[ok] - rank[ok] * ev.slope[k]
    return matrix, weights


def _prepare(
    tickets: Sequence[TicketSpec], agents: Sequence[AgentState], policy: PolicySpec, relax_level: int
) -> _Problem:
    ordered = sorted(tickets, key=queue_key)
    table = AgentTable(agents)
    evaluations = [evaluate(t, table, policy, relax_level=relax_level) for t in ordered]
    per_channel: dict[str, int] = defaultdict(int)
    for t in ordered:
        per_channel[t.channel_type] += 1
    slot_agent: dict[str, list[int]] = {}
    slot_rank: dict[str, list[int]] = {}
    for channel, count in per_channel.items():
        slot_agent[channel], slot_rank[channel] = _slots(agents, channel, count)
    return _Problem(list(ordered), evaluations, slot_agent, slot_rank)


def _decisions(
    problem: _Problem, agents: Sequence[AgentState], chosen: dict[int, tuple[int, float]], mode: str
) -> dict[int, Decision]:
    out: dict[int, Decision] = {}
    for t, ev in enumerate(problem.evaluations):
        if t in chosen:
            agent_index, score = chosen[t]
            local = int(np.flatnonzero(ev.indices == agent_index)[0])
            out[t] = decision_from(ev, winner=local, score=score, mode=mode)
        else:
            decision = decision_from(ev, mode=mode)
            if decision.agent_id is not None:
                # Eligible agents exist but their slots went to other tickets of the batch: it waits.
                decision = decision_from(_without_agents(ev), mode=mode)
            out[t] = decision
    return out


def _without_agents(ev: Evaluation) -> Evaluation:
    """The evaluation as seen once the batch took every slot the ticket could use."""
    empty = np.zeros(0)
    counts = dict(ev.excluded_counts)
    counts["no_room"] = counts.get("no_room", 0) + len(ev.agents)
    return Evaluation(
        ticket=ev.ticket,
        policy=ev.policy,
        relax_level=ev.relax_level,
        relaxed=ev.relaxed,
        impact=ev.impact,
        agents=[],
        indices=np.zeros(0, dtype=np.intp),
        load=empty,
        capacity=empty,
        factors=dict.fromkeys(ev.factors, empty),
        scores=empty,
        slope=empty,
        order=np.zeros(0, dtype=np.intp),
        distance_km=[],
        excluded_counts=counts,
        excluded_sample=ev.excluded_sample,
    )


def _in_input_order(tickets: Sequence[TicketSpec], problem: _Problem, by_row: dict[int, Decision]) -> list[Decision]:
    row_of = {id(t): r for r, t in enumerate(problem.tickets)}
    return [by_row[row_of[id(t)]] for t in tickets]


def batch_assign(
    tickets: Sequence[TicketSpec], agents: Sequence[AgentState], policy: PolicySpec, *, relax_level: int = 0
) -> list[Decision]:
    """Assign many waiting tickets at once, maximising the total (impact-weighted) score within capacities.

    Returns one decision per ticket, in the input order; a ticket is assigned at most once and no agent gets more
    tickets of a channel type than its free capacity.
    """
    # Imported here, not at module level: scipy.optimize costs every web and worker process ~50 MiB and ~1.4 s at
    # start-up, and only a batch drain needs it.
    from scipy.optimize import linear_sum_assignment

    problem = _prepare(tickets, agents, policy, relax_level)
    chosen: dict[int, tuple[int, float]] = {}
    rows_by_channel: dict[str, list[int]] = defaultdict(list)
    for t, ticket in enumerate(problem.tickets):
        rows_by_channel[ticket.channel_type].append(t)
    for channel, rows in rows_by_channel.items():
        if not problem.slot_agent[channel]:
            continue
        matrix, weights = _matrix(rows, problem, agents, channel)
        # Forbidden pairs contribute 0 to the objective (never chosen over a real pair with a positive score).
        objective = np.where(matrix > FORBIDDEN / 2, (matrix + _SHIFT) * weights[:, None], 0.0)
        row_ind, col_ind = linear_sum_assignment(objective, maximize=True)
        owner = problem.slot_agent[channel]
        for r, c in zip(row_ind.tolist(), col_ind.tolist(), strict=True):
            if matrix[r, c] > FORBIDDEN / 2:
                chosen[rows[r]] = (owner[c], float(matrix[r, c]))
    return _in_input_order(tickets, problem, _decisions(problem, agents, chosen, "batch"))


def greedy_assign(
    tickets: Sequence[TicketSpec], agents: Sequence[AgentState], policy: PolicySpec, *, relax_level: int = 0
) -> list[Decision]:
    """The baseline: tickets one by one in queue order, each taking the best free slot (same scores as batch)."""
    problem = _prepare(tickets, agents, policy, relax_level)
    chosen: dict[int, tuple[int, float]] = {}
    rows_by_channel: dict[str, list[int]] = defaultdict(list)
    for t, ticket in enumerate(problem.tickets):
        rows_by_channel[ticket.channel_type].append(t)
    for channel, rows in rows_by_channel.items():
        if not problem.slot_agent[channel]:
            continue
        matrix, _ = _matrix(rows, problem, agents, channel)
        taken = np.zeros(matrix.shape[1], dtype=bool)
        owner = problem.slot_agent[channel]
        for r in range(len(rows)):
            scores = np.where(taken, FORBIDDEN, matrix[r])
            c = int(np.argmax(scores))
            if scores[c] > FORBIDDEN / 2:
                taken[c] = True
                chosen[rows[r]] = (owner[c], float(matrix[r, c]))
    return _in_input_order(tickets, problem, _decisions(problem, agents, chosen, "greedy"))


def assignment_value(tickets: Sequence[TicketSpec], decisions: Sequence[Decision]) -> float:
    """The batch objective of a set of decisions: Σ (1 + impact) × (slot score + shift) over assigned tickets."""
    total = 0.0
    for ticket, decision in zip(tickets, decisions, strict=True):
        if decision.agent_id is not None and decision.score is not None:
            total += (1.0 + ticket_impact(ticket)) * (decision.score + _SHIFT)
    return total
