"""Routing simulation: one service-desk day, the same arrivals routed by round-robin, least-loaded and weighted.

`python -m bench.routing_sim [--quick] [--seed N]`. A discrete-event simulation on the pure routing engine (no
database), seeded so every strategy sees exactly the same tickets, handle times and chance draws:

- **Arrivals**: a Poisson process whose rate follows a daily curve (08:00–19:00, peaks mid-morning and
  mid-afternoon); email, chat and messaging tickets; priorities (5 % urgent, 15 % high, 60 % normal, 20 % low),
  tiers (10 % VIP, 3 % strategic), languages (zh 75 %, en 22 %, ja 3 %), a required skill and minimum level for
  most tickets, returning customers (continuity).
- **Agents**: three shifts (early 08–16, mid 10–19, late 12–close); capacities per channel type (email 8, chat 3,
  messaging 4 open at once); skills 1–5, languages, seniority junior → expert, teams. The **billing team is
  short-staffed**: 3 of its 9 agents are on leave, so billing tickets (which carry the team) wait for the ladder's
  last step (overflow to any team) unless a billing agent frees up.
- **Handling**: a ticket holds one slot of its agent for its handle time (lognormal around the channel's mean;
  faster with skill above the minimum, seniority and continuity, slower below the minimum).
- **Re-routing**: the engine's ladder relaxes one requirement per 5 minutes of waiting (skill timeout); an agent
  without the ticket's language hands it back after 5 minutes, one two or more levels below the skill minimum (or
  without the skill) hands it back after 10 minutes with probability 0.6; the early shift's open tickets are
  re-routed at 16:00. Each hand-back or re-route is a reassignment; a ticket never returns to an agent who handed
  it back, and a hand-back restarts its relax clock (it waits for a fitting agent again before relaxing).

Per strategy it reports waiting time (all time spent in the queue, minutes) p50/p95 by priority and by tier, the
reassignment rate, load balance (max / mean over the agents at work of tickets handled per hour on shift, and the
same for slot-minutes held per hour),
and a verdict on the issue's target: weighted cuts the wait of urgent and VIP/strategic tickets (mean and p95)
against both baselines, while normal tickets' p95 stays within 20 % of least-loaded.

`run_sim(quick)` returns the report (for bench/__main__.py); `lines(report)` gives the printed table.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import statistics
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from bench import machine
from pivotdesk.routing.domain import AgentState, PolicySpec, TicketSpec, Weights, decide, exclusion_reason, queue_key
from pivotdesk.routing.domain.model import Strategy

STRATEGIES_COMPARED: tuple[Strategy, ...] = ("round_robin", "least_loaded", "weighted")
DAY_START = 8 * 60  # minutes since midnight
ARRIVALS_END = 19 * 60
SKILL_TIMEOUT_MIN = 5.0  # each ladder step after this many more minutes of waiting
FAIRNESS_WINDOW_MIN = 60.0
CHANNELS = {"email": (0.5, 120.0), "chat": (0.3, 20.0), "messaging": (0.2, 45.0)}  # share, mean open minutes
CAPACITY = {"email": 8, "chat": 3, "messaging": 4}
SKILLS = ["billing", "network", "hardware", "software", "account"]
BILLING_TEAM = 1
TEAMS = {1: "billing", 2: "technical", 3: "general"}
SLA_FIRST_RESPONSE = {"urgent": 15.0, "high": 60.0, "normal": 240.0, "low": 480.0}


@dataclass
class SimTicket:
    id: int
    arrival: float
    channel: str
    priority: str
    tier: str
    language: str
    skill: str | None
    level: int
    team_id: int | None
    customer: int
    affected_users: int
    base_minutes: float
    draws: list[float]  # uniform draws for hand-back chances, one per assignment (same for every strategy)
    # state
    waited: float = 0.0
    relax_from: float = 0.0  # part of `waited` before the relax clock last restarted (after a hand-back)
    queued_at: float | None = None
    assignments: int = 0
    declined_by: set[int] = field(default_factory=set)
    remaining: float | None = None
    done: bool = False


@dataclass
class SimAgent:
    id: int
    name: str
    skills: dict[str, int]
    languages: frozenset[str]
    seniority: int
    team_ids: frozenset[int]
    start: float
    end: float | None  # None: stays until the queue is empty
    on_leave: bool = False
    on_shift: bool = False
    load: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CAPACITY, 0))
    assigned_times: deque[float] = field(default_factory=deque)
    last_assigned_at: float = 0.0
    handled: int = 0
    busy_minutes: float = 0.0

    def state(self, now: float) -> AgentState:
        while self.assigned_times and self.assigned_times[0] < now - FAIRNESS_WINDOW_MIN:
            self.assigned_times.popleft()
        return AgentState(
            self.id,
            name=self.name,
            online=True,
            on_shift=self.on_shift,
            on_leave=self.on_leave,
            skills=self.skills,
            languages=self.languages,
            load=dict(self.load),
            capacity=CAPACITY,
            seniority=self.seniority,
            team_ids=self.team_ids,
            recent_assignments=len(self.assigned_times),
            last_assigned_at=self.last_assigned_at * 60.0,
        )


def _rate_per_minute(minute: float, daily: int) -> float:
    """The arrival curve: two bumps (10:30 and 15:00) on a base, scaled so the day brings about `daily` tickets."""
    h = minute / 60.0
    shape = 0.35 + math.exp(-(((h - 10.5) / 1.4) ** 2)) + 0.85 * math.exp(-(((h - 15.0) / 1.6) ** 2))
    # ∫ shape over 08:00–19:00 ≈ 0.35·11 + 1.4·√π·1 + 0.85·1.6·√π ≈ 8.76 hours
    return daily * shape / (8.76 * 60.0)


def make_day(seed: int, daily: int, n_agents: int) -> tuple[list[SimTicket], list[SimAgent]]:
    rng = random.Random(seed)
    peak = max(_rate_per_minute(m, daily) for m in range(DAY_START, ARRIVALS_END))
    tickets: list[SimTicket] = []
    t = float(DAY_START)
    while True:  # thinning: a homogeneous process at the peak rate, kept with probability rate(t) / peak
        t += rng.expovariate(peak)
        if t >= ARRIVALS_END:
            break
        if rng.random() > _rate_per_minute(t, daily) / peak:
            continue
        channel = rng.choices(list(CHANNELS), weights=[share for share, _ in CHANNELS.values()])[0]
        skill = rng.choice(SKILLS) if rng.random() < 0.85 else None
        tickets.append(
            SimTicket(
                id=len(tickets) + 1,
                arrival=t,
                channel=channel,
                priority=rng.choices(["urgent", "high", "normal", "low"], weights=[5, 15, 60, 20])[0],
                tier=rng.choices(["standard", "vip", "strategic"], weights=[87, 10, 3])[0],
                language=rng.choices(["zh", "en", "ja"], weights=[75, 22, 3])[0],
                skill=skill,
                level=rng.choices([1, 2, 3, 4], weights=[2, 4, 3, 1])[0] if skill else 0,
                team_id=BILLING_TEAM if skill == "billing" else None,
                customer=rng.randint(1, daily // 3),
                affected_users=1 if rng.random() < 0.95 else rng.randint(5, 400),
                base_minutes=CHANNELS[channel][1] * rng.lognormvariate(-0.125, 0.5),
                draws=[rng.random() for _ in range(8)],
            )
        )
    agents: list[SimAgent] = []
    shifts = [(8 * 60, 16 * 60), (10 * 60, 19 * 60), (12 * 60, None)]
    for i in range(1, n_agents + 1):
        team = BILLING_TEAM if i <= 9 else rng.choice([2, 2, 3])
        seniority = rng.choices([1, 2, 3, 4], weights=[30, 40, 20, 10])[0]
        # Everyone knows the general skills; the level follows seniority, with two specialities a level higher.
        specialities = set(rng.sample([s for s in SKILLS if s != "billing"], 2))
        skills = {
            s: max(1, min(5, seniority + rng.choice([-1, 0, 0, 1]) + (1 if s in specialities else 0)))
            for s in SKILLS
            if s != "billing"
        }
        if team == BILLING_TEAM:
            skills["billing"] = rng.randint(3, 5)
        elif rng.random() < 0.3:
            skills["billing"] = rng.randint(1, 3)
        languages = {"zh"} if rng.random() < 0.9 else {"en"}
        if rng.random() < 0.6:
            languages.add("en")
        if rng.random() < 0.05:
            languages.add("ja")
        start, end = shifts[(i - 1) % 3]
        agents.append(
            SimAgent(
                id=i,
                name=f"agent-{i}",
                skills=skills,
                languages=frozenset(languages),
                seniority=seniority,
                team_ids=frozenset({team}),
                start=float(start),
                end=None if end is None else float(end),
                on_leave=team == BILLING_TEAM and i in (1, 4, 7),  # one billing agent per shift is off today
            )
        )
    return tickets, agents


def _spec(ticket: SimTicket, now: float, last_agent: dict[int, int]) -> TicketSpec:
    waited = ticket.waited + (now - ticket.queued_at if ticket.queued_at is not None else 0.0)
    sla = SLA_FIRST_RESPONSE[ticket.priority] * (0.5 if ticket.tier != "standard" else 1.0)
    previous = last_agent.get(ticket.customer)
    return TicketSpec(
        ticket.id,
        channel_type=ticket.channel,
        priority=ticket.priority,
        tier=ticket.tier,
        language=ticket.language,
        required_skills={ticket.skill: ticket.level} if ticket.skill else {},
        team_id=ticket.team_id,
        sla_minutes_left=sla - waited,
        affected_users=ticket.affected_users,
        previous_agent_ids=(previous,) if previous else (),
        waiting_since=ticket.arrival * 60.0,
    )


def _relax_waited(ticket: SimTicket, now: float) -> float:
    return ticket.waited - ticket.relax_from + (now - ticket.queued_at if ticket.queued_at is not None else 0.0)


def _relax_level(ticket: SimTicket, now: float) -> int:
    return int(_relax_waited(ticket, now) // SKILL_TIMEOUT_MIN)


def simulate(strategy: Strategy, seed: int, daily: int, n_agents: int, weights: Weights) -> dict[str, Any]:
    """Run the day under one strategy; every random draw comes from the seeded day, so runs are comparable."""
    tickets, agents = make_day(seed, daily, n_agents)
    policy = PolicySpec(strategy=strategy, weights=weights)
    by_id = {a.id: a for a in agents}
    events: list[tuple[float, int, str, int, int]] = []  # (minute, seq, kind, ticket id or 0, agent id or 0)
    seq = 0

    def push(at: float, kind: str, ticket_id: int = 0, agent_id: int = 0) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, seq, kind, ticket_id, agent_id))

    for tk in tickets:
        push(tk.arrival, "arrive", tk.id)
    for a in agents:
        push(a.start, "shift_start", agent_id=a.id)
        if a.end is not None:
            push(a.end, "shift_end", agent_id=a.id)
    ticket_by_id = {tk.id: tk for tk in tickets}
    queue: dict[int, SimTicket] = {}
    holder: dict[int, int] = {}  # ticket id → agent id holding it
    started: dict[int, float] = {}  # ticket id → minute its current holding started
    token: dict[int, int] = {}  # ticket id → assignment number (stale completion events are ignored)
    last_agent: dict[int, int] = {}
    reassignments = 0
    decisions = 0
    relaxed_assignments = 0

    def states(now: float, exclude: set[int]) -> list[AgentState]:
        return [a.state(now) for a in agents if a.id not in exclude and a.on_shift]

    def assign(tk: SimTicket, agent: SimAgent, now: float, relax_level: int) -> None:
        nonlocal relaxed_assignments
        if tk.queued_at is not None:
            tk.waited += now - tk.queued_at
            tk.queued_at = None
        queue.pop(tk.id, None)
        agent.load[tk.channel] += 1
        agent.assigned_times.append(now)
        agent.last_assigned_at = now
        relaxed_assignments += relax_level > 0
        holder[tk.id] = agent.id
        started[tk.id] = now
        tk.assignments += 1
        token[tk.id] = tk.assignments
        draw = tk.draws[(tk.assignments - 1) % len(tk.draws)]
        level = agent.skills.get(tk.skill, 0) if tk.skill else 0
        shortfall = tk.level - level if tk.skill else 0
        if tk.language not in agent.languages:
            push(now + 5.0, "hand_back", tk.id, agent.id)
            return
        if tk.skill and (level == 0 or shortfall >= 2) and draw < 0.6:
            push(now + 10.0, "hand_back", tk.id, agent.id)
            return
        if tk.remaining is None:
            factor = 0.9 ** max(0, -shortfall) * (1.3 ** max(0, shortfall))
            factor *= {1: 1.1, 2: 1.0, 3: 0.92, 4: 0.85}[agent.seniority]
            if last_agent.get(tk.customer) == agent.id:
                factor *= 0.85
            tk.remaining = tk.base_minutes * factor
        push(now + tk.remaining, "done", tk.id, agent.id)

    def release(tk: SimTicket, agent: SimAgent, now: float) -> None:
        agent.load[tk.channel] -= 1
        agent.busy_minutes += now - started.pop(tk.id)
        holder.pop(tk.id, None)

    ladder = len(policy.relax_steps)

    def enqueue(tk: SimTicket, now: float) -> None:
        tk.queued_at = now
        queue[tk.id] = tk
        level = _relax_level(tk, now)
        if level < ladder:  # the next ladder step comes when the relax clock crosses the next boundary
            push(now + (level + 1) * SKILL_TIMEOUT_MIN - _relax_waited(tk, now), "relax", tk.id)

    def route(tk: SimTicket, now: float) -> bool:
        nonlocal decisions
        level = _relax_level(tk, now)
        decisions += 1
        decision = decide(_spec(tk, now, last_agent), states(now, tk.declined_by), policy, relax_level=level)
        if decision.agent_id is None:
            return False
        assign(tk, by_id[decision.agent_id], now, level)
        return True

    def offer(agent: SimAgent, now: float, channels: list[str]) -> None:
        """The agent gained room or came on shift: queued tickets it can take, in queue order, get routed."""
        waiting = sorted(
            (tk for tk in queue.values() if tk.channel in channels and agent.id not in tk.declined_by),
            key=lambda tk: queue_key(_spec(tk, now, last_agent)),
        )
        state = agent.state(now)
        for tk in waiting:
            if agent.load[tk.channel] >= CAPACITY[tk.channel]:
                continue
            spec = _spec(tk, now, last_agent)
            if exclusion_reason(state, spec, policy, relax_level=_relax_level(tk, now)):
                continue
            # Only this agent changed, so it is the only newly eligible one: the engine still decides (scores).
            route(tk, now)
            state = agent.state(now)

    now = float(DAY_START)
    while events:
        now, _, kind, ticket_id, agent_id = heapq.heappop(events)
        if kind == "arrive":
            tk = ticket_by_id[ticket_id]
            if not route(tk, now):
                enqueue(tk, now)
        elif kind == "relax":
            tk = ticket_by_id[ticket_id]
            if tk.id in queue and not route(tk, now) and _relax_level(tk, now) < ladder:
                push(now + SKILL_TIMEOUT_MIN, "relax", tk.id)
        elif kind == "done":
            tk = ticket_by_id[ticket_id]
            if holder.get(tk.id) != agent_id:
                continue
            agent = by_id[agent_id]
            release(tk, agent, now)
            tk.done = True
            agent.handled += 1
            last_agent[tk.customer] = agent.id
            if agent.on_shift:
                offer(agent, now, [tk.channel])
        elif kind == "hand_back":
            tk = ticket_by_id[ticket_id]
            if holder.get(tk.id) != agent_id:
                continue
            agent = by_id[agent_id]
            release(tk, agent, now)
            reassignments += 1
            tk.declined_by.add(agent.id)
            tk.relax_from = tk.waited  # a refusal restarts the skill timeout: wait for a fitting agent again
            if not route(tk, now):
                enqueue(tk, now)
            if agent.on_shift:
                offer(agent, now, [tk.channel])
        elif kind == "shift_start":
            agent = by_id[agent_id]
            if not agent.on_leave:
                agent.on_shift = True
                offer(agent, now, list(CAPACITY))
        elif kind == "shift_end":
            agent = by_id[agent_id]
            agent.on_shift = False
            for held_id in [t for t, a in holder.items() if a == agent.id]:
                tk = ticket_by_id[held_id]
                worked = now - started[held_id]
                release(tk, agent, now)
                if tk.remaining is not None:
                    tk.remaining = max(1.0, tk.remaining - worked)
                reassignments += 1
                if not route(tk, now):
                    enqueue(tk, now)
    for tk in queue.values():
        if tk.queued_at is not None:
            tk.waited += now - tk.queued_at
    return _summary(
        strategy,
        tickets=tickets,
        agents=agents,
        reassignments=reassignments,
        decisions=decisions,
        relaxed=relaxed_assignments,
        stranded=len(queue),
        end=now,
    )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "mean": round(statistics.fmean(values), 2) if values else 0.0,
        "p50": round(_pct(values, 0.5), 2),
        "p95": round(_pct(values, 0.95), 2),
    }


def _summary(
    strategy: str,
    *,
    tickets: list[SimTicket],
    agents: list[SimAgent],
    reassignments: int,
    decisions: int,
    relaxed: int,
    stranded: int,
    end: float,
) -> dict[str, Any]:
    by_priority: dict[str, list[float]] = defaultdict(list)
    by_tier: dict[str, list[float]] = defaultdict(list)
    for tk in tickets:
        by_priority[tk.priority].append(tk.waited)
        by_tier[tk.tier].append(tk.waited)
        if tk.tier != "standard":
            by_tier["vip+strategic"].append(tk.waited)
    # Per hour on shift, so the shifts' different lengths do not count as imbalance.
    worked = [a for a in agents if not a.on_leave]
    hours = [((a.end if a.end is not None else end) - a.start) / 60.0 for a in worked]
    handled = [a.handled / h for a, h in zip(worked, hours, strict=True)]
    busy = [a.busy_minutes / h for a, h in zip(worked, hours, strict=True)]
    return {
        "strategy": strategy,
        "tickets": len(tickets),
        "agents_worked": len(worked),
        "wait_by_priority": {p: _stats(by_priority[p]) for p in ("urgent", "high", "normal", "low")},
        "wait_by_tier": {t: _stats(by_tier[t]) for t in ("standard", "vip", "strategic", "vip+strategic")},
        "wait_all": _stats([tk.waited for tk in tickets]),
        "reassignments": reassignments,
        "reassignment_rate": round(reassignments / len(tickets), 4),
        "assignments_at_relaxed_level": relaxed,
        "decisions": decisions,
        "load_balance_tickets_max_over_mean": round(max(handled) / statistics.fmean(handled), 3) if handled else None,
        "load_balance_busy_max_over_mean": round(max(busy) / statistics.fmean(busy), 3) if busy else None,
        "stranded_at_close": stranded,
        "day_ended_at": f"{int(end // 60):02d}:{int(end % 60):02d}",
    }


# The weights the simulated day is run with for the weighted strategy (the PolicySpec defaults).
SIM_WEIGHTS = Weights()


def verdict(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The issue's target: weighted cuts urgent and VIP waits (mean and p95) against both baselines, and keeps the
    normal tickets' p95 within 20 % of least-loaded."""
    w = results["weighted"]
    checks: dict[str, bool] = {}
    for base in ("round_robin", "least_loaded"):
        b = results[base]
        for label, group in (("urgent", w["wait_by_priority"]["urgent"]), ("vip", w["wait_by_tier"]["vip+strategic"])):
            other = b["wait_by_priority"]["urgent"] if label == "urgent" else b["wait_by_tier"]["vip+strategic"]
            checks[f"{label} mean < {base}"] = group["mean"] < other["mean"]
            checks[f"{label} p95 ≤ {base}"] = group["p95"] <= other["p95"]
    normal_w = w["wait_by_priority"]["normal"]["p95"]
    normal_ll = results["least_loaded"]["wait_by_priority"]["normal"]["p95"]
    checks["normal p95 within 20 % of least_loaded"] = normal_w <= 1.2 * normal_ll + 0.05
    return {"holds": all(checks.values()), "checks": checks}


def run_sim(quick: bool = False, seed: int = 20260521) -> dict[str, Any]:
    daily, n_agents = (900, 30) if quick else (3000, 90)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {
        s: simulate(s, seed, daily, n_agents, SIM_WEIGHTS) for s in STRATEGIES_COMPARED
    }
    return {
        "seed": seed,
        "daily_tickets_target": daily,
        "agents": n_agents,
        "weights": SIM_WEIGHTS.as_dict(),
        "results": results,
        "verdict": verdict(results),
        "seconds": round(time.perf_counter() - started, 1),
    }


def lines(report: dict[str, Any]) -> list[str]:
    res = report["results"]
    names = list(res)
    first = res[names[0]]
    out = [
        f"simulated day (seed {report['seed']}): {first['tickets']:,} tickets, {report['agents']} agents "
        f"(billing team short-staffed), {report['seconds']} s",
        "waiting time in the queue, minutes: mean / p50 / p95",
    ]
    width = 24
    out.append(f"  {'':<{width}}" + "".join(f"{n:>26}" for n in names))

    def cell(s: dict[str, float]) -> str:
        return f"{s['mean']:.1f} / {s['p50']:.1f} / {s['p95']:.1f}"

    for p in ("urgent", "high", "normal", "low"):
        row = f"  {'priority ' + p + ' (' + str(first['wait_by_priority'][p]['n']) + ')':<{width}}"
        out.append(row + "".join(f"{cell(res[n]['wait_by_priority'][p]):>26}" for n in names))
    for t in ("standard", "vip", "strategic", "vip+strategic"):
        row = f"  {'tier ' + t + ' (' + str(first['wait_by_tier'][t]['n']) + ')':<{width}}"
        out.append(row + "".join(f"{cell(res[n]['wait_by_tier'][t]):>26}" for n in names))
    out.append(f"  {'all tickets':<{width}}" + "".join(f"{cell(res[n]['wait_all']):>26}" for n in names))
    for key, label in [
        ("reassignment_rate", "reassignment rate"),
        ("assignments_at_relaxed_level", "assigned after relaxing"),
        ("load_balance_tickets_max_over_mean", "load max/mean tickets/h"),
        ("load_balance_busy_max_over_mean", "load max/mean busy/h"),
        ("stranded_at_close", "left waiting at close"),
    ]:
        out.append(f"  {label:<{width}}" + "".join(f"{res[n][key]!s:>26}" for n in names))
    v = report["verdict"]
    failed = [k for k, ok in v["checks"].items() if not ok]
    out.append(
        "verdict: "
        + ("HOLDS — " if v["holds"] else "DOES NOT HOLD — ")
        + "weighted vs round_robin and least_loaded: "
        + ", ".join(f"{k} {'✓' if ok else '✗'}" for k, ok in v["checks"].items())
        + (f" (failed: {', '.join(failed)})" if failed else "")
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.routing_sim", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=20260521)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for key, value in machine.describe(None).items():
        print(f"  {key}: {value}")
    report = run_sim(args.quick, args.seed)
    print("\n".join(lines(report)))
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
