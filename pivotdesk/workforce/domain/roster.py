"""Roster solver on OR-Tools CP-SAT.

Model choice: one Boolean z[agent, day, template, skill] per allowed combination (an agent covers one skill for a
whole shift), at most one per agent and day. Lunch placement is aggregated: for each (day, template, skill) integer
counts L[o] of shifts taking lunch at offset o, summing to the number of such shifts; individual lunches are handed
out after the solve. This is exact because agents sharing (day, template, skill) are interchangeable for coverage
and lunch windows belong to the template, and it keeps the model ~5x smaller than a per-agent lunch choice.
Coverage counts an agent in an interval when the whole interval lies in the shift and outside the lunch.

Labour rules are hard and per agent; coverage, preferences, fairness and changes against a previous roster are
soft. So an infeasible model always has an agent whose own rules conflict: each agent is then re-solved alone with
one assumption literal per rule group, and a deletion-minimised core names the conflicting rules.

Search: the LP bound of this model is tight on small teams, but CP-SAT alone finds poor rosters for hundreds of
agents in a minute, so `solve` starts it from a greedy roster improved by exact one-agent best responses and an
agent-group large-neighbourhood search, then spends the rest of the time limit in CP-SAT (which also gives the bound).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from ortools.sat.python import cp_model

from pivotdesk.workforce.domain.rules import (
    MINUTES_PER_DAY,
    WEEKEND,
    Agent,
    Rule,
    Shift,
    ShiftTemplate,
    Workforce,
    check_agent,
    shift_span,
)

Requirement = Mapping[tuple[int, str], int]
Key = tuple[int, str, str]  # day, template, skill


class RosterStatus(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION_IN_TIME = "no_solution_in_time"


class Reason(StrEnum):
    """Why an agent with or without the skill does not cover an under-staffed interval."""

    NO_SKILL = "no_skill"
    ON_LEAVE = "on_leave"
    UNAVAILABLE = "unavailable"
    NO_TEMPLATE_COVERS = "no_template_covers"
    ON_OTHER_SKILL = "on_other_skill"
    ON_LUNCH = "on_lunch"
    LOCKED_SHIFT = "locked_shift"
    OTHER_SHIFT_THAT_DAY = "other_shift_that_day"
    WEEKLY_HOURS_LIMIT = "weekly_hours_limit"
    WEEKLY_HOURS_MIN = "weekly_hours_min"
    REST_RULE = "rest_rule"
    CONSECUTIVE_DAYS_LIMIT = "consecutive_days_limit"
    NIGHT_SHIFT_LIMIT = "night_shift_limit"
    DAYS_OFF_RULE = "days_off_rule"
    FREE_NOT_SCHEDULED = "free_not_scheduled"


_RULE_REASON = {
    Rule.ON_LEAVE: Reason.ON_LEAVE,
    Rule.UNAVAILABLE: Reason.UNAVAILABLE,
    Rule.WEEKLY_HOURS_MAX: Reason.WEEKLY_HOURS_LIMIT,
    Rule.WEEKLY_HOURS_MIN: Reason.WEEKLY_HOURS_MIN,
    Rule.MIN_REST: Reason.REST_RULE,
    Rule.OVERLAP: Reason.REST_RULE,
    Rule.CONSECUTIVE_DAYS: Reason.CONSECUTIVE_DAYS_LIMIT,
    Rule.NIGHT_SHIFTS: Reason.NIGHT_SHIFT_LIMIT,
    Rule.DAYS_OFF: Reason.DAYS_OFF_RULE,
}


@dataclass(frozen=True, slots=True)
class Weights:
    """Integer objective weights per agent-interval (staffing), per shift (preferences, changes)."""

    under: int = 100
    over: int = 10
    preference: int = 3
    fairness: int = 5
    change: int = 30


@dataclass(frozen=True, slots=True)
class Conflict:
    agent: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class IntervalCoverage:
    interval: int
    skill: str
    need: int
    scheduled: int


@dataclass(frozen=True, slots=True)
class UnmetDemand:
    interval: int
    skill: str
    need: int
    scheduled: int
    reasons: tuple[tuple[Reason, int], ...]


@dataclass(frozen=True, slots=True)
class RosterResult:
    status: RosterStatus
    shifts: tuple[Shift, ...] = ()
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    coverage: tuple[IntervalCoverage, ...] = ()
    under_staffed: int = 0
    over_staffed: int = 0
    changes: int = 0
    conflicts: tuple[Conflict, ...] = ()
    unmet: tuple[UnmetDemand, ...] = ()
    num_variables: int = 0
    num_constraints: int = 0
    wall_seconds: float = 0.0


def validate(setup: Workforce) -> None:
    """Templates must sit on the interval grid so coverage is exact; raises ValueError."""
    im = setup.interval_minutes
    if MINUTES_PER_DAY % im:
        raise ValueError(f"interval of {im} minutes does not divide a day")
    for t in setup.templates:
        values = (t.start, t.length, t.lunch_length, t.lunch_earliest, t.lunch_latest)
        if any(v % im for v in values) or t.length <= 0 or not 0 <= t.start < MINUTES_PER_DAY:
            raise ValueError(f"template {t.id} is not on the {im}-minute grid")
        if t.lunch_length and not 0 <= t.lunch_earliest <= t.lunch_latest <= t.length - t.lunch_length:
            raise ValueError(f"template {t.id}: lunch window outside the shift")
    for a in setup.agents:
        if a.contract not in setup.contract_by_id:
            raise ValueError(f"agent {a.id}: unknown contract {a.contract}")


def _allowed(setup: Workforce, agent: Agent) -> list[ShiftTemplate]:
    return [t for t in setup.templates if agent.templates is None or t.id in agent.templates]


def _blocked(agent: Agent, span: tuple[int, int]) -> Rule | None:
    for rule, ranges in ((Rule.ON_LEAVE, agent.leave), (Rule.UNAVAILABLE, agent.unavailable)):
        if any(span[0] < end and start < span[1] for start, end in ranges):
            return rule
    return None


def _span(t: ShiftTemplate, day: int) -> tuple[int, int]:
    start = day * MINUTES_PER_DAY + t.start
    return start, start + t.length


class _AgentModel:
    """One agent's variables and hard rules; `lits` holds an assumption literal per rule group when diagnosing."""

    def __init__(
        self,
        model: cp_model.CpModel,
        setup: Workforce,
        agent: Agent,
        locked: Sequence[Shift],
        diagnose: bool,
        size: int = 1,
    ) -> None:
        self.model, self.setup, self.agent, self.diagnose, self.size = model, setup, agent, diagnose, size
        self.contract = setup.contract_by_id[agent.contract]
        self.templates = _allowed(setup, agent)
        self.z: dict[Key, cp_model.IntVar] = {}
        self.lits: dict[Rule, cp_model.IntVar] = {}
        self.by_shape: dict[tuple[int, str], list[cp_model.IntVar]] = defaultdict(list)
        self.works: dict[int, cp_model.LinearExprT] = {}
        self._make_vars(locked)
        self._add_rest()
        self._add_week_rules()

    def lit(self, rule: Rule) -> list[cp_model.IntVar]:
        if not self.diagnose:
            return []
        if rule not in self.lits:
            self.lits[rule] = self.model.new_bool_var(f"{self.agent.id}:{rule}")
        return [self.lits[rule]]

    def _make_vars(self, locked: Sequence[Shift]) -> None:
        allowed_ids = {t.id for t in self.templates}
        locked_keys = {(s.day, s.template, s.skill) for s in locked}
        bad = [s for s in locked if s.template not in allowed_ids or s.skill not in self.agent.skills]
        if bad or any(not 0 <= s.day < self.setup.days for s in locked):
            raise ValueError(f"locked shift of {self.agent.id}: template, skill or day not allowed")
        by_day: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for day in range(self.setup.days):
            for t in self.templates:
                blocked = _blocked(self.agent, _span(t, day))
                for skill in sorted(self.agent.skills):
                    key = (day, t.id, skill)
                    if blocked is not None and not self.diagnose and key not in locked_keys:
                        continue
                    name = f"z:{self.agent.id}:{day}:{t.id}:{skill}"
                    var = (
                        self.model.new_bool_var(name) if self.size == 1 else self.model.new_int_var(0, self.size, name)
                    )
                    self.z[key] = var
                    by_day[day].append(var)
                    self.by_shape[(day, t.id)].append(var)
                    if blocked is not None:
                        self.model.add(var == 0).only_enforce_if(self.lit(blocked))
        for key in sorted(locked_keys):
            self.model.add(self.z[key] == 1).only_enforce_if(self.lit(Rule.LOCKED_SHIFT))
        for day in range(self.setup.days):
            if by_day[day] and self.size == 1:
                self.model.add_at_most_one(by_day[day])
            elif by_day[day]:
                self.model.add(sum(by_day[day]) <= self.size)
            self.works[day] = sum(by_day[day])

    def _add_rest(self) -> None:
        """A shift excludes every shift on the following days that would start before the rest is over."""
        rest = self.contract.min_rest_minutes
        earliest = min((t.start for t in self.templates), default=0)
        for (day, tid), first in self.by_shape.items():
            end = _span(self.setup.template_by_id[tid], day)[1]
            later = day + 1
            while later < self.setup.days and later * MINUTES_PER_DAY + earliest - end < rest:
                clash = [
                    v
                    for t2 in self.templates
                    if _span(t2, later)[0] - end < rest
                    for v in self.by_shape.get((later, t2.id), [])
                ]
                if clash:
                    self.model.add(sum(first) + sum(clash) <= self.size).only_enforce_if(self.lit(Rule.MIN_REST))
                later += 1

    def _add_week_rules(self) -> None:
        model, contract, template_by_id, k = self.model, self.contract, self.setup.template_by_id, self.size
        mc = contract.max_consecutive_days
        for start in range(self.setup.days - mc):
            window = sum(self.works[d] for d in range(start, start + mc + 1))
            model.add(window <= mc * k).only_enforce_if(self.lit(Rule.CONSECUTIVE_DAYS))
        for week in self.setup.weeks():
            in_week = [(template_by_id[tid], v) for (d, tid, _), v in self.z.items() if d in week]
            paid = sum(t.paid_minutes * v for t, v in in_week)
            model.add(paid <= contract.max_week_minutes * k).only_enforce_if(self.lit(Rule.WEEKLY_HOURS_MAX))
            if len(week) == 7 and contract.min_week_minutes > 0:
                model.add(paid >= contract.min_week_minutes * k).only_enforce_if(self.lit(Rule.WEEKLY_HOURS_MIN))
            nights = [v for t, v in in_week if t.is_night]
            if len(nights) > contract.max_night_shifts:
                model.add(sum(nights) <= contract.max_night_shifts * k).only_enforce_if(self.lit(Rule.NIGHT_SHIFTS))
            needed = max(0, contract.min_days_off_per_week - (7 - len(week)))
            if needed:
                worked = sum(self.works[d] for d in week)
                model.add(worked <= (len(week) - needed) * k).only_enforce_if(self.lit(Rule.DAYS_OFF))


class _Roster:
    """The whole model: agents, per-shape counts, lunch counts, coverage and the objective terms."""

    def __init__(
        self,
        setup: Workforce,
        requirement: Requirement,
        locked: Sequence[Shift],
        previous: Sequence[Shift] | None,
        weights: Weights,
        groups: Sequence[Sequence[Agent]] | None = None,
    ) -> None:
        self.setup, self.requirement, self.weights = setup, requirement, weights
        self.model = cp_model.CpModel()
        locked_by_agent: dict[str, list[Shift]] = defaultdict(list)
        for s in locked:
            if s.agent not in setup.agent_by_id:
                raise ValueError(f"locked shift for unknown agent {s.agent}")
            locked_by_agent[s.agent].append(s)
        if groups is None:
            groups = [[a] for a in setup.agents]
        self.agents = [
            _AgentModel(self.model, setup, g[0], locked_by_agent[g[0].id], diagnose=False, size=len(g)) for g in groups
        ]
        self.lunch: dict[tuple[int, str, str, int], cp_model.IntVar] = {}
        self.count: dict[Key, cp_model.IntVar] = {}
        self.cov_expr: dict[tuple[int, str], cp_model.LinearExprT] = {}
        self.over: dict[tuple[int, str], cp_model.IntVar] = {}
        self.under: dict[tuple[int, str], cp_model.IntVar] = {}
        self.objective: list[cp_model.LinearExprT] = []
        self.constant = 0
        self._aggregate(locked)
        self._coverage()
        self._preferences_and_fairness()
        if previous is not None:
            self._changes(previous)
        self.model.minimize(sum(self.objective) + self.constant)

    def _aggregate(self, locked: Sequence[Shift]) -> None:
        im = self.setup.interval_minutes
        members: dict[Key, list[cp_model.IntVar]] = defaultdict(list)
        room: dict[Key, int] = defaultdict(int)
        for am in self.agents:
            for key, var in am.z.items():
                members[key].append(var)
                room[key] += am.size
        locked_lunch: dict[tuple[int, str, str, int], int] = defaultdict(int)
        for s in locked:
            t = self.setup.template_by_id[s.template]
            if t.lunch_length and s.lunch_start is not None:
                offset = s.lunch_start - _span(t, s.day)[0]
                if offset % im or not t.lunch_earliest <= offset <= t.lunch_latest:
                    raise ValueError(f"locked shift of {s.agent} on day {s.day}: lunch outside its window")
                locked_lunch[(s.day, s.template, s.skill, offset)] += 1
        for key, vars_ in members.items():
            n = self.model.new_int_var(0, room[key], f"n:{key}")
            self.model.add(n == sum(vars_))
            self.count[key] = n
            t = self.setup.template_by_id[key[1]]
            if t.lunch_length:
                offsets = range(t.lunch_earliest, t.lunch_latest + 1, im)
                for o in offsets:
                    low = locked_lunch.get((*key, o), 0)
                    self.lunch[(*key, o)] = self.model.new_int_var(low, room[key], f"l:{key}:{o}")
                self.model.add(sum(self.lunch[(*key, o)] for o in offsets) == n)

    def _coverage(self) -> None:
        im, n_intervals = self.setup.interval_minutes, self.setup.days * MINUTES_PER_DAY // self.setup.interval_minutes
        plus: dict[tuple[int, str], list[cp_model.IntVar]] = defaultdict(list)
        minus: dict[tuple[int, str], list[cp_model.IntVar]] = defaultdict(list)
        for (day, tid, skill), n in self.count.items():
            t = self.setup.template_by_id[tid]
            first = _span(t, day)[0] // im
            for i in range(first, min(first + t.length // im, n_intervals)):
                plus[(i, skill)].append(n)
        for (day, tid, skill, o), var in self.lunch.items():
            t = self.setup.template_by_id[tid]
            first = (_span(t, day)[0] + o) // im
            for i in range(first, min(first + t.lunch_length // im, n_intervals)):
                minus[(i, skill)].append(var)
        for ck in sorted(set(plus) | {k for k, v in self.requirement.items() if v > 0}):
            need = int(self.requirement.get(ck, 0))
            if ck not in plus:
                self.constant += self.weights.under * need
                continue
            cov = sum(plus[ck]) - sum(minus[ck])
            self.cov_expr[ck] = cov
            over = self.model.new_int_var(0, len(self.setup.agents) + max(0, -need), f"over:{ck}")
            self.over[ck] = over
            if need > 0:
                under = self.model.new_int_var(0, need, f"under:{ck}")
                self.under[ck] = under
                self.model.add(cov - need == over - under)
                self.objective.append(self.weights.under * under)
            else:  # a negative need is cover by agents outside a sub-problem
                self.model.add(cov - need == over)
            self.objective.append(self.weights.over * over)

    def _preferences_and_fairness(self) -> None:
        weekend = [d for d in range(self.setup.days) if d % 7 in WEEKEND]
        night_ids = {t.id for t in self.setup.templates if t.is_night}
        max_weekend = self.model.new_int_var(0, len(weekend), "max_weekend")
        max_nights = self.model.new_int_var(0, self.setup.days, "max_nights")
        self.fairness = (max_weekend, max_nights)
        w = self.weights.preference
        for am in self.agents:
            if weekend:  # for a group of identical agents the maximum is at least their mean
                self.model.add(am.size * max_weekend >= sum(am.works[d] for d in weekend))
            nights = [v for (_, tid, _), v in am.z.items() if tid in night_ids]
            if nights:
                self.model.add(am.size * max_nights >= sum(nights))
            self.objective.extend(
                w * am.works[d] for d in range(self.setup.days) if d % 7 in am.agent.preferred_days_off
            )
            self.objective.extend(w * v for (_, tid, _), v in am.z.items() if tid in am.agent.avoided_templates)
        self.objective.append(self.weights.fairness * (max_weekend + max_nights))

    def _changes(self, previous: Sequence[Shift]) -> None:
        """Each agent-day differing from the previous roster costs `weights.change`; the old roster is the hint."""
        prev: dict[str, dict[int, Key]] = defaultdict(dict)
        for s in previous:
            prev[s.agent][s.day] = (s.day, s.template, s.skill)
        for am in self.agents:
            mine = prev.get(am.agent.id, {})
            for key, var in am.z.items():
                self.model.add_hint(var, 1 if mine.get(key[0]) == key else 0)
            for d in range(self.setup.days):
                if d not in mine:
                    self.objective.append(self.weights.change * am.works[d])
                elif mine[d] in am.z:
                    self.objective.append(self.weights.change * (1 - am.z[mine[d]]))
                else:
                    self.constant += self.weights.change

    def hint(self, shifts: Sequence[Shift]) -> None:
        """Start the search from a full roster (variables, counts, lunches and staffing gaps)."""
        on = {(s.agent, s.day, s.template, s.skill) for s in shifts}
        for am in self.agents:
            for key, var in am.z.items():
                self.model.add_hint(var, 1 if (am.agent.id, *key) in on else 0)
        counts: dict[Key, int] = defaultdict(int)
        lunches: dict[tuple[int, str, str, int], int] = defaultdict(int)
        for s in shifts:
            counts[(s.day, s.template, s.skill)] += 1
            if s.lunch_start is not None:
                start = _span(self.setup.template_by_id[s.template], s.day)[0]
                lunches[(s.day, s.template, s.skill, s.lunch_start - start)] += 1
        for key, var in self.count.items():
            self.model.add_hint(var, counts.get(key, 0))
        for lkey, var in self.lunch.items():
            self.model.add_hint(var, lunches.get(lkey, 0))
        cover = _cover(self.setup, shifts)
        for ck in self.cov_expr:
            diff = cover.get(ck, 0) - int(self.requirement.get(ck, 0))
            self.model.add_hint(self.over[ck], max(0, diff))
            if ck in self.under:
                self.model.add_hint(self.under[ck], max(0, -diff))
        self._hint_fairness(shifts)

    def _hint_fairness(self, shifts: Sequence[Shift]) -> None:
        weekend = {d for d in range(self.setup.days) if d % 7 in WEEKEND}
        per_agent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for s in shifts:
            per_agent[s.agent][0] += s.day in weekend
            per_agent[s.agent][1] += self.setup.template_by_id[s.template].is_night
        for index, var in enumerate(self.fairness):
            self.model.add_hint(var, max((v[index] for v in per_agent.values()), default=0))


def _cover(setup: Workforce, shifts: Iterable[Shift]) -> dict[tuple[int, str], int]:
    """Agents on each (interval, skill): whole interval inside the shift and outside the lunch."""
    im = setup.interval_minutes
    n_intervals = setup.days * MINUTES_PER_DAY // im
    cover: dict[tuple[int, str], int] = defaultdict(int)
    for s in shifts:
        t = setup.template_by_id[s.template]
        first = _span(t, s.day)[0] // im
        lunch = range(0)
        if s.lunch_start is not None:
            lunch = range(s.lunch_start // im, (s.lunch_start + t.lunch_length) // im)
        for i in range(first, min(first + t.length // im, n_intervals)):
            if i not in lunch:
                cover[(i, s.skill)] += 1
    return cover


def greedy_roster(
    setup: Workforce, requirement: Requirement, locked: Sequence[Shift] = (), weights: Weights = Weights()
) -> list[Shift]:
    """A quick legal-as-possible roster: each agent in turn takes the shifts that cover most residual demand.

    Used as the solver's starting point (CP-SAT's own first solutions on 200 agents are far from good) and as the
    benchmark baseline. Maximum-type rules are respected; an agent who cannot reach the weekly minimum is left short.
    """
    residual = {k: int(v) for k, v in requirement.items() if v > 0}
    roster: list[Shift] = []
    locked_by_agent: dict[str, list[Shift]] = defaultdict(list)
    for s in locked:
        locked_by_agent[s.agent].append(s)
    for s in locked:
        _take(setup, residual, s)
    order = sorted(setup.agents, key=lambda a: (len(a.skills), a.id))
    for agent in order:
        mine = _greedy_agent(setup, agent, residual, locked_by_agent[agent.id], weights)
        roster.extend(mine)
    return roster


def _take(setup: Workforce, residual: dict[tuple[int, str], int], s: Shift) -> None:
    for ck, n in _cover(setup, [s]).items():
        residual[ck] = residual.get(ck, 0) - n


def _greedy_agent(
    setup: Workforce, agent: Agent, residual: dict[tuple[int, str], int], locked: Sequence[Shift], weights: Weights
) -> list[Shift]:
    contract = setup.contract_by_id[agent.contract]
    mine = list(locked)
    while True:
        paid = sum(setup.template_by_id[s.template].paid_minutes for s in mine)
        used = {s.day for s in mine}
        candidates = [
            _best_lunch(setup, residual, t, agent_id=agent.id, day=day, skill=skill, weights=weights)[::-1]
            for day in range(setup.days)
            if day not in used
            for t in _allowed(setup, agent)
            if _blocked(agent, _span(t, day)) is None
            for skill in sorted(agent.skills)
        ]
        candidates.sort(key=lambda c: -c[0])
        short = paid < contract.min_week_minutes * (setup.days // 7)
        chosen = None
        for gain, shift in candidates:
            if gain <= 0 and not short:
                break
            broken = {v.rule for v in check_agent(setup, agent.id, [*mine, shift])} - {Rule.WEEKLY_HOURS_MIN}
            if not broken:
                chosen = shift
                break
        if chosen is None:
            return [s for s in mine if s not in locked]
        mine.append(chosen)
        _take(setup, residual, chosen)


def improve_roster(
    setup: Workforce,
    requirement: Requirement,
    shifts: Sequence[Shift],
    *,
    locked: Sequence[Shift] = (),
    weights: Weights = Weights(),
    seconds: float = 10.0,
) -> list[Shift]:
    """Best response, agent by agent: re-plan one agent's week exactly (small CP-SAT) against everyone else's cover.

    The LP bound of the full model is tight but CP-SAT's search is slow to find good rosters for hundreds of agents;
    these exact one-agent moves close most of that distance in a few seconds before the full search starts.
    """
    deadline = time.perf_counter() + seconds
    residual = {k: int(v) for k, v in requirement.items() if v > 0}
    by_agent: dict[str, list[Shift]] = defaultdict(list)
    for s in shifts:
        by_agent[s.agent].append(s)
        _take(setup, residual, s)
    locked_by_agent: dict[str, list[Shift]] = defaultdict(list)
    for s in locked:
        locked_by_agent[s.agent].append(s)
    changed = True
    while changed and time.perf_counter() < deadline:
        changed = False
        for agent in setup.agents:
            if time.perf_counter() >= deadline:
                break
            for s in by_agent[agent.id]:
                _give_back(setup, residual, s)
            best = _best_week(setup, agent, residual, locked_by_agent[agent.id], weights)
            if best is not None and _week_value(setup, residual, best, weights) > _week_value(
                setup, residual, by_agent[agent.id], weights
            ):
                by_agent[agent.id] = best
                changed = True
            for s in by_agent[agent.id]:
                _take(setup, residual, s)
    return [s for a in setup.agents for s in by_agent[a.id]]


def _roster_cost(setup: Workforce, requirement: Requirement, shifts: Sequence[Shift], w: Weights) -> int:
    """Staffing and preference cost of a roster (fairness aside), as the model counts it."""
    cover = _cover(setup, shifts)
    total = 0
    for ck in set(cover) | set(requirement):
        need = int(requirement.get(ck, 0))
        diff = cover.get(ck, 0) - need
        total += w.over * max(0, diff) + (w.under * max(0, -diff) if need > 0 else 0)
    for s in shifts:
        agent = setup.agent_by_id[s.agent]
        total += w.preference * ((s.day % 7 in agent.preferred_days_off) + (s.template in agent.avoided_templates))
    return total


def large_neighbourhood_search(
    setup: Workforce,
    requirement: Requirement,
    shifts: Sequence[Shift],
    locked: Sequence[Shift] = (),
    weights: Weights = Weights(),
    *,
    seconds: float = 10.0,
    group: int = 16,
    num_workers: int = 2,
    seed: int = 0,
) -> list[Shift]:
    """Re-solve small groups of agents exactly against everyone else's cover, keeping only improvements.

    Groups are drawn around an under-staffed (interval, skill): agents with that skill plus a few at random, so a
    move can shift several people's skills and hours at once, which one-agent moves and CP-SAT's generic
    neighbourhoods on the whole model rarely find.
    """
    rng = random.Random(seed)  # noqa: S311 - neighbourhood choice, not security
    deadline = time.perf_counter() + seconds
    sub_weights = replace(weights, fairness=0)
    by_agent: dict[str, list[Shift]] = defaultdict(list)
    for s in shifts:
        by_agent[s.agent].append(s)
    while time.perf_counter() < deadline - 0.2:
        roster = [s for ss in by_agent.values() for s in ss]
        cover = _cover(setup, roster)
        short = sorted(ck for ck, need in requirement.items() if cover.get(ck, 0) < need)
        pool = list(setup.agents)
        if short:
            skill = rng.choice(short)[1]
            pool = [a for a in setup.agents if skill in a.skills]
        chosen = rng.sample(pool, min(len(pool), group * 3 // 4))
        rest = [a for a in setup.agents if a not in chosen]
        chosen += rng.sample(rest, min(len(rest), group - len(chosen)))
        ids = {a.id for a in chosen}
        residual: dict[tuple[int, str], int] = {ck: int(v) for ck, v in requirement.items()}
        for ck, n in _cover(setup, [s for s in roster if s.agent not in ids]).items():
            residual[ck] = residual.get(ck, 0) - n
        sub = replace(setup, agents=tuple(chosen))
        before = [s for s in roster if s.agent in ids]
        built = _Roster(sub, residual, [s for s in locked if s.agent in ids], None, sub_weights)
        built.hint(before)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.1, min(2.0, deadline - time.perf_counter()))
        solver.parameters.num_workers = num_workers
        solver.parameters.random_seed = rng.randrange(1 << 30)
        status = solver.solve(built.model)
        if status == cp_model.INFEASIBLE:  # hard rules are per agent: the whole roster is infeasible too
            break
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        after = _extract(sub, built, solver, locked=locked, previous=before)
        if _roster_cost(sub, residual, after, sub_weights) < _roster_cost(sub, residual, before, sub_weights):
            for a in chosen:
                by_agent[a.id] = [s for s in after if s.agent == a.id]
        if len(chosen) == len(setup.agents) and status == cp_model.OPTIMAL:
            break
    return [s for a in setup.agents for s in by_agent.get(a.id, [])]


def _extract(
    setup: Workforce, built: _Roster, solver: cp_model.CpSolver, *, locked: Sequence[Shift], previous: Sequence[Shift]
) -> list[Shift]:
    chosen: dict[Key, list[str]] = defaultdict(list)
    for am in built.agents:
        for key, var in am.z.items():
            if solver.boolean_value(var):
                chosen[key].append(am.agent.id)
    lunch_counts = {key: int(solver.value(var)) for key, var in built.lunch.items()}
    return _hand_out_lunches(setup, chosen, lunch_counts, locked, previous)


def _give_back(setup: Workforce, residual: dict[tuple[int, str], int], s: Shift) -> None:
    for ck, n in _cover(setup, [s]).items():
        residual[ck] = residual.get(ck, 0) + n


def _week_value(setup: Workforce, residual: Mapping[tuple[int, str], int], week: Sequence[Shift], w: Weights) -> int:
    """Objective saved by these shifts against the residual demand, less preference penalties."""
    total = 0
    for ck, n in _cover(setup, week).items():
        left = residual.get(ck, 0)
        total += w.under * min(n, max(0, left)) - w.over * max(0, n - max(0, left))
    agent = setup.agent_by_id[week[0].agent] if week else None
    if agent is not None:
        total -= w.preference * sum(
            (s.day % 7 in agent.preferred_days_off) + (s.template in agent.avoided_templates) for s in week
        )
    return total


def _best_week(
    setup: Workforce, agent: Agent, residual: Mapping[tuple[int, str], int], locked: Sequence[Shift], w: Weights
) -> list[Shift] | None:
    model = cp_model.CpModel()
    try:
        am = _AgentModel(model, setup, agent, locked, diagnose=False)
    except ValueError:
        return None
    shapes: dict[Key, Shift] = {}
    terms = []
    for key, var in am.z.items():
        day, tid, skill = key
        t = setup.template_by_id[tid]
        shift, gain = _best_lunch(setup, residual, t, agent_id=agent.id, day=day, skill=skill, weights=w)
        gain -= w.preference * ((day % 7 in agent.preferred_days_off) + (tid in agent.avoided_templates))
        shapes[key] = shift
        terms.append(gain * var)
    model.maximize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 1.0
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [shapes[key] for key, var in am.z.items() if solver.boolean_value(var)]


def _best_lunch(
    setup: Workforce,
    residual: Mapping[tuple[int, str], int],
    t: ShiftTemplate,
    *,
    agent_id: str,
    day: int,
    skill: str,
    weights: Weights,
) -> tuple[Shift, int]:
    """The shift with the lunch offset losing least; its gain in objective units."""
    im = setup.interval_minutes
    n_intervals = setup.days * MINUTES_PER_DAY // im
    start = _span(t, day)[0]
    first = start // im

    def value(i: int) -> int:
        return weights.under if residual.get((i, skill), 0) > 0 else -weights.over

    total = sum(value(i) for i in range(first, min(first + t.length // im, n_intervals)))
    if not t.lunch_length:
        return Shift(agent_id, day, t.id, skill), total
    best: tuple[int, int] | None = None
    for o in range(t.lunch_earliest, t.lunch_latest + 1, im):
        lo = (start + o) // im
        lost = sum(value(i) for i in range(lo, min(lo + t.lunch_length // im, n_intervals)))
        if best is None or lost < best[0]:
            best = (lost, o)
    assert best is not None  # noqa: S101 - the window always holds one offset (validated)
    return Shift(agent_id, day, t.id, skill, lunch_start=start + best[1]), total - best[0]


def solve(
    setup: Workforce,
    requirement: Requirement,
    *,
    locked: Iterable[Shift] = (),
    previous: Iterable[Shift] | None = None,
    weights: Weights = Weights(),
    time_limit_s: float = 30.0,
    num_workers: int = 2,
    relative_gap_limit: float = 0.0,
    explain: bool = True,
    seed: int = 0,
    lns_share: float = 0.5,
) -> RosterResult:
    """Build and solve the roster; never raises on infeasibility (the result names the conflicts)."""
    started = time.perf_counter()
    validate(setup)
    locked_list = list(locked)
    previous_list = list(previous) if previous is not None else None
    built = _Roster(setup, requirement, locked_list, previous_list, weights)
    proto = built.model.proto
    num_variables, num_constraints = len(proto.variables), len(proto.constraints)

    if previous_list is None:
        start_roster = greedy_roster(setup, requirement, locked_list, weights)
        start_roster = improve_roster(
            setup, requirement, start_roster, locked=locked_list, weights=weights, seconds=time_limit_s * 0.1
        )
        lns_seconds = time_limit_s * lns_share - (time.perf_counter() - started)
        if lns_seconds > 1:
            start_roster = large_neighbourhood_search(
                setup, requirement, start_roster, locked_list, weights, seconds=lns_seconds, num_workers=num_workers
            )
        built.hint(start_roster)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit_s)
    solver.parameters.num_workers = max(1, num_workers)
    solver.parameters.relative_gap_limit = relative_gap_limit
    solver.parameters.random_seed = seed
    solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = max(0.1, time_limit_s - (time.perf_counter() - started))
    status = solver.solve(built.model)

    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        conflicts = diagnose(setup, locked_list) if status in (cp_model.INFEASIBLE, cp_model.UNKNOWN) else []
        proven = bool(conflicts) or status == cp_model.INFEASIBLE
        return RosterResult(
            status=RosterStatus.INFEASIBLE if proven else RosterStatus.NO_SOLUTION_IN_TIME,
            conflicts=tuple(conflicts),
            wall_seconds=time.perf_counter() - started,
            num_variables=num_variables,
            num_constraints=num_constraints,
        )

    shifts = _extract(setup, built, solver, locked=locked_list, previous=previous_list or [])
    coverage = [
        IntervalCoverage(
            ck[0],
            ck[1],
            int(requirement.get(ck, 0)),
            int(solver.value(built.cov_expr[ck])) if ck in built.cov_expr else 0,
        )
        for ck in sorted(set(built.cov_expr) | {k for k, v in requirement.items() if v > 0})
    ]
    objective_value, bound = solver.objective_value, solver.best_objective_bound
    gap = 0.0 if status == cp_model.OPTIMAL else (objective_value - bound) / max(1.0, abs(objective_value))
    unmet = explain_unmet(setup, shifts, coverage, locked_list) if explain else []
    return RosterResult(
        status=RosterStatus.OPTIMAL if status == cp_model.OPTIMAL else RosterStatus.FEASIBLE,
        shifts=tuple(shifts),
        objective=objective_value,
        bound=bound,
        gap=gap,
        coverage=tuple(coverage),
        under_staffed=sum(max(0, c.need - c.scheduled) for c in coverage),
        over_staffed=sum(max(0, c.scheduled - c.need) for c in coverage),
        changes=_count_changes(shifts, previous_list) if previous_list is not None else 0,
        unmet=tuple(unmet),
        wall_seconds=time.perf_counter() - started,
        num_variables=num_variables,
        num_constraints=num_constraints,
    )


def _count_changes(shifts: Sequence[Shift], previous: Sequence[Shift]) -> int:
    """Agent-days whose shift (template, skill or presence) differs from the previous roster."""
    now = {(s.agent, s.day): (s.template, s.skill) for s in shifts}
    before = {(s.agent, s.day): (s.template, s.skill) for s in previous}
    return sum(1 for k in set(now) | set(before) if now.get(k) != before.get(k))


def _hand_out_lunches(
    setup: Workforce,
    chosen: Mapping[Key, list[str]],
    lunch_counts: Mapping[tuple[int, str, str, int], int],
    locked: Sequence[Shift],
    previous: Sequence[Shift],
) -> list[Shift]:
    """Give each shift a lunch offset so the per-offset counts match; locked, then previous offsets go first."""
    wanted: dict[tuple[str, int], int] = {}
    for s in previous:
        if s.lunch_start is not None:
            wanted[(s.agent, s.day)] = s.lunch_start
    locked_at = {(s.agent, s.day): s.lunch_start for s in locked if s.lunch_start is not None}
    shifts: list[Shift] = []
    for key, agent_ids in sorted(chosen.items()):
        day, tid, skill = key
        t = setup.template_by_id[tid]
        if not t.lunch_length:
            shifts.extend(Shift(a, day, tid, skill) for a in agent_ids)
            continue
        start = _span(t, day)[0]
        left = {
            o: lunch_counts.get((*key, o), 0)
            for o in range(t.lunch_earliest, t.lunch_latest + 1, setup.interval_minutes)
        }
        placed: dict[str, int] = {}
        for source in (locked_at, wanted):
            for a in agent_ids:
                at = source.get((a, day))
                if a not in placed and at is not None and left.get(at - start, 0) > 0:
                    placed[a] = at - start
                    left[at - start] -= 1
        free = [o for o, n in sorted(left.items()) for _ in range(n)]
        for a in agent_ids:
            if a not in placed:
                placed[a] = free.pop(0)
        shifts.extend(Shift(a, day, tid, skill, lunch_start=start + placed[a]) for a in agent_ids)
    return shifts


def diagnose(setup: Workforce, locked: Sequence[Shift] = (), time_limit_s: float = 5.0) -> list[Conflict]:
    """Agents whose own hard rules cannot all hold, each with a minimal set of conflicting rule groups."""
    locked_by_agent: dict[str, list[Shift]] = defaultdict(list)
    for s in locked:
        locked_by_agent[s.agent].append(s)
    conflicts = []
    for agent in setup.agents:
        core = _agent_core(setup, agent, locked_by_agent[agent.id], None, time_limit_s)
        if core is None:
            continue
        for rule in list(core):  # deletion pass: keep only rules the conflict needs
            trial = [r for r in core if r != rule]
            if _agent_core(setup, agent, locked_by_agent[agent.id], trial, time_limit_s) is not None:
                core = trial
        conflicts.append(Conflict(agent.id, tuple(sorted(core))))
    return conflicts


def _agent_core(
    setup: Workforce, agent: Agent, locked: Sequence[Shift], only: Sequence[Rule] | None, time_limit_s: float
) -> list[Rule] | None:
    """The rules in an infeasible core when the agent (with rule groups `only` active) is infeasible, else None."""
    model = cp_model.CpModel()
    am = _AgentModel(model, setup, agent, locked, diagnose=True)
    active = [rule for rule in am.lits if only is None or rule in only]
    for rule, lit in am.lits.items():
        if rule not in active:
            model.add(lit == 0)
    model.add_assumptions([am.lits[r] for r in active])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit_s
    if solver.solve(model) != cp_model.INFEASIBLE:
        return None
    by_index = {am.lits[r].index: r for r in active}
    core = [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]
    return core or active


def _covers(setup: Workforce, t: ShiftTemplate, day: int, interval: int) -> bool:
    start, end = _span(t, day)
    lo = interval * setup.interval_minutes
    return start <= lo and lo + setup.interval_minutes <= end


def explain_unmet(
    setup: Workforce,
    shifts: Sequence[Shift],
    coverage: Iterable[IntervalCoverage],
    locked: Sequence[Shift] = (),
) -> list[UnmetDemand]:
    """For each under-staffed (interval, skill), count agents by the reason they are not covering it."""
    explainer = _Explainer(setup, shifts, locked)
    out: list[UnmetDemand] = []
    for c in coverage:
        if c.scheduled >= c.need:
            continue
        reasons: dict[Reason, int] = defaultdict(int)
        for agent in setup.agents:
            for reason in explainer.reasons(agent, c):
                reasons[reason] += 1
        out.append(UnmetDemand(c.interval, c.skill, c.need, c.scheduled, tuple(sorted(reasons.items()))))
    return out


class _Explainer:
    """Why one agent is not on an (interval, skill).

    A free agent's reason is found by trying each allowed covering shift (replacing their shift of that day) with
    the independent checker; the rules broken by the least-bad try are the reasons.
    """

    def __init__(self, setup: Workforce, shifts: Sequence[Shift], locked: Sequence[Shift]) -> None:
        self.setup = setup
        self.by_agent: dict[str, list[Shift]] = defaultdict(list)
        for s in shifts:
            self.by_agent[s.agent].append(s)
        self.locked_days = {(s.agent, s.day) for s in locked}
        self.memo: dict[tuple[str, int, str], frozenset[Rule]] = {}

    def reasons(self, agent: Agent, c: IntervalCoverage) -> set[Reason]:
        setup = self.setup
        lo = c.interval * setup.interval_minutes
        hi = lo + setup.interval_minutes
        mine = self.by_agent.get(agent.id, [])
        on = [s for s in mine if _covers(setup, setup.template_by_id[s.template], s.day, c.interval)]
        if c.skill not in agent.skills:
            return {Reason.NO_SKILL}
        if any(lo < e and s < hi for s, e in agent.leave):
            return {Reason.ON_LEAVE}
        if any(lo < e and s < hi for s, e in agent.unavailable):
            return {Reason.UNAVAILABLE}
        if on:
            return {Reason.ON_OTHER_SKILL if on[0].skill != c.skill else Reason.ON_LUNCH}
        best = self._least_bad(agent, mine, c)
        if best is None:
            return {Reason.NO_TEMPLATE_COVERS}
        day, broken = best
        if (agent.id, day) in self.locked_days:
            return {Reason.LOCKED_SHIFT}
        if not broken:
            return {Reason.OTHER_SHIFT_THAT_DAY if any(s.day == day for s in mine) else Reason.FREE_NOT_SCHEDULED}
        return {_RULE_REASON.get(rule, Reason.NO_TEMPLATE_COVERS) for rule in broken}

    def _least_bad(
        self, agent: Agent, mine: Sequence[Shift], c: IntervalCoverage
    ) -> tuple[int, frozenset[Rule]] | None:
        setup = self.setup
        day_of = c.interval * setup.interval_minutes // MINUTES_PER_DAY
        best: tuple[int, frozenset[Rule]] | None = None
        tries = [
            (d, t)
            for d in (day_of - 1, day_of)
            if 0 <= d < setup.days
            for t in _allowed(setup, agent)
            if _covers(setup, t, d, c.interval)
        ]
        for d, t in tries:
            key = (agent.id, d, t.id)
            if key not in self.memo:
                trial = [s for s in mine if s.day != d]
                lunch = _span(t, d)[0] + t.lunch_earliest if t.lunch_length else None
                trial.append(Shift(agent.id, d, t.id, c.skill, lunch_start=lunch))
                self.memo[key] = frozenset(v.rule for v in check_agent(setup, agent.id, trial))
            if best is None or len(self.memo[key]) < len(best[1]):
                best = (d, self.memo[key])
        return best


def roster_span(setup: Workforce, shift: Shift) -> tuple[int, int]:
    """Start and end minute of a shift from the horizon start (for callers that draw the roster)."""
    return shift_span(setup.template_by_id[shift.template], shift)
