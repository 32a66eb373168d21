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

Search: the per-agent model's LP bound is weak (34,600 against a true optimum near 35,500 on the 200-agent bench)
and CP-SAT's search from a heuristic roster stalls ~25 % above the optimum, so without a previous roster `solve`
works on a grouped model: agents alike in contract, skills, templates and absences become one group whose variables
are integer counts in [0, group size], every per-agent rule summed over the group (so the grouped model is a
relaxation: each roster maps to a grouped point of no greater cost; preferred days off that differ inside a group
are charged only for shifts beyond the members willing to work that day; fairness maxima are bounded by group
means). HiGHS (scipy's `milp`) solves it with its cuts and sub-MIP heuristics far better than CP-SAT does, and its
dual bound is the roster's proven lower bound (valid up to HiGHS's 1e-7 tolerances; rounded up because the objective
is integer). Each group's counts are then split into individual legal weeks by a small exact CP-SAT; if a split is
inexact, one-agent best responses repair it, and CP-SAT on the per-agent model polishes while time remains.
With a previous roster (changes are per agent) or when HiGHS finds nothing in time, the old path runs: a greedy roster
improved by exact one-agent best responses and an agent-group large-neighbourhood search, then CP-SAT, whose own
bound is reported.
"""

from __future__ import annotations

import math
import random
import threading
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
    check_roster,
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

    def __init__(  # noqa: PLR0917 - the group size is the one optional
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
            if by_day[day]:
                self._at_most_size(by_day[day])
            self.works[day] = sum(by_day[day])

    def _at_most_size(self, vars_: list[cp_model.IntVar]) -> None:
        if self.size == 1:
            self.model.add_at_most_one(vars_)
        else:
            self.model.add(sum(vars_) <= self.size)

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

    def __init__(  # noqa: PLR0917 - the groups are the one optional
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
        self.groups = groups
        self.group_of = {a.id: index for index, g in enumerate(groups) for a in g}
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
        for am, members in zip(self.agents, self.groups, strict=True):
            if weekend:  # for a group of identical agents the maximum is at least their mean
                self.model.add(am.size * max_weekend >= sum(am.works[d] for d in weekend))
            nights = [v for (_, tid, _), v in am.z.items() if tid in night_ids]
            if nights:
                self.model.add(am.size * max_nights >= sum(nights))
            for d in range(self.setup.days):
                keen = sum(d % 7 not in a.preferred_days_off for a in members)
                if keen == am.size:
                    continue
                if am.size == 1:
                    self.objective.append(w * am.works[d])
                    continue
                # a group may mix preferences: only shifts beyond its keen members must land on an unwilling one
                unwilling = self.model.new_int_var(0, am.size, f"unwilling:{am.agent.id}:{d}")
                self.model.add(unwilling >= am.works[d] - keen)
                self.objective.append(w * unwilling)
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
        on: dict[tuple[int, int, str, str], int] = defaultdict(int)
        for s in shifts:
            on[(self.group_of[s.agent], s.day, s.template, s.skill)] += 1
        for index, am in enumerate(self.agents):
            for key, var in am.z.items():
                self.model.add_hint(var, on.get((index, *key), 0))
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
    milp_share: float = 0.8,
) -> RosterResult:
    """Build and solve the roster; never raises on infeasibility (the result names the conflicts).

    Without a previous roster: the grouped model goes to HiGHS (its proven bound is the roster's bound), the groups'
    counts are split into individual weeks, and CP-SAT polishes the result if time and gap allow. With a previous
    roster (or when HiGHS finds nothing) CP-SAT runs on the per-agent model from a heuristic or the old roster.
    """
    started = time.perf_counter()
    validate(setup)
    locked_list = list(locked)
    previous_list = list(previous) if previous is not None else None
    deadline = started + time_limit_s
    milp_bound: float | None = None
    start_roster: list[Shift] | None = None
    if previous_list is None:
        start_roster, milp_bound, fallback, size = _grouped_start(
            setup, requirement, locked_list, weights, (time_limit_s * milp_share, relative_gap_limit / 2), deadline
        )
        if start_roster is not None and milp_bound is not None:
            objective_value = _objective(setup, requirement, start_roster, weights)
            gap = (objective_value - milp_bound) / max(1.0, abs(objective_value))
            if gap <= relative_gap_limit or deadline - time.perf_counter() < 0.3 * time_limit_s:
                return _result(
                    setup,
                    requirement,
                    start_roster,
                    (objective_value, milp_bound),
                    locked_list,
                    None,
                    explain,
                    started,
                    size,
                )
        if start_roster is None:
            lns_seconds = time_limit_s * lns_share - (time.perf_counter() - started)
            start_roster = fallback
            if lns_seconds > 1:
                start_roster = large_neighbourhood_search(
                    setup, requirement, fallback, locked_list, weights, seconds=lns_seconds, num_workers=num_workers
                )
    built = _Roster(setup, requirement, locked_list, previous_list, weights)
    proto = built.model.proto
    num_variables, num_constraints = len(proto.variables), len(proto.constraints)
    if start_roster is not None:
        built.hint(start_roster)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, num_workers)
    solver.parameters.relative_gap_limit = relative_gap_limit
    solver.parameters.random_seed = seed
    solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = max(0.1, deadline - time.perf_counter())
    status = solver.solve(built.model)

    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if start_roster is not None and not check_roster(
            setup, start_roster, locked=locked_list
        ):  # the start stands when CP-SAT ran out
            objective_value = _objective(setup, requirement, start_roster, weights)
            bound = max(milp_bound or -math.inf, solver.best_objective_bound)
            return _result(
                setup,
                requirement,
                start_roster,
                (objective_value, bound),
                locked_list,
                None,
                explain,
                started,
                (num_variables, num_constraints),
            )
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
    bound = solver.best_objective_bound if status != cp_model.OPTIMAL else solver.objective_value
    if milp_bound is not None:
        bound = max(bound, milp_bound)
    return _result(
        setup,
        requirement,
        shifts,
        (solver.objective_value, bound),
        locked_list,
        previous_list,
        explain,
        started,
        (num_variables, num_constraints),
    )


def _grouped_start(  # noqa: PLR0917 - internal
    setup: Workforce,
    requirement: Requirement,
    locked: Sequence[Shift],
    weights: Weights,
    milp_limits: tuple[float, float],
    deadline: float,
) -> tuple[list[Shift] | None, float | None, list[Shift], tuple[int, int]]:
    """The split grouped-MILP roster and its proven bound (None when HiGHS found nothing), a heuristic fallback
    roster built while HiGHS runs (it releases the GIL), and the grouped model's size."""
    grouped = _Roster(setup, requirement, locked, None, weights, groups=_groups(setup, locked))
    size = (len(grouped.model.proto.variables), len(grouped.model.proto.constraints))
    box: dict[str, tuple[list[int] | None, float | None]] = {}
    worker = threading.Thread(target=lambda: box.update(r=_solve_milp(grouped.model, *milp_limits)), daemon=True)
    worker.start()
    fallback = _heuristic_start(setup, requirement, locked, weights, milp_limits[0] / 8, 0.0, 1)
    worker.join()
    values, bound = box.get("r", (None, None))
    split = _split_groups(grouped, values, locked, deadline) if values is not None else None
    return split, bound, fallback, size


def _heuristic_start(  # noqa: PLR0917 - internal
    setup: Workforce,
    requirement: Requirement,
    locked: Sequence[Shift],
    weights: Weights,
    improve_seconds: float,
    lns_seconds: float,
    num_workers: int,
) -> list[Shift]:
    """Greedy, one-agent best responses, then group LNS: CP-SAT's start when HiGHS found no grouped roster."""
    roster = greedy_roster(setup, requirement, locked, weights)
    roster = improve_roster(setup, requirement, roster, locked=locked, weights=weights, seconds=improve_seconds)
    if lns_seconds > 1:
        roster = large_neighbourhood_search(
            setup, requirement, roster, locked, weights, seconds=lns_seconds, num_workers=num_workers
        )
    return roster


def _result(  # noqa: PLR0917 - internal, one call shape
    setup: Workforce,
    requirement: Requirement,
    shifts: Sequence[Shift],
    objective_and_bound: tuple[float, float],
    locked: Sequence[Shift],
    previous: Sequence[Shift] | None,
    explain: bool,
    started: float,
    size: tuple[int, int] = (0, 0),
) -> RosterResult:
    objective_value, bound = objective_and_bound
    bound = max(bound, 0.0)  # every objective term is a non-negative cost
    num_variables, num_constraints = size
    bound = min(bound, objective_value)
    cover = _cover(setup, shifts)
    coverage = [
        IntervalCoverage(ck[0], ck[1], int(requirement.get(ck, 0)), cover.get(ck, 0))
        for ck in sorted(set(cover) | {k for k, v in requirement.items() if v > 0})
    ]
    gap = (objective_value - bound) / max(1.0, abs(objective_value))
    unmet = explain_unmet(setup, shifts, coverage, locked) if explain else []
    return RosterResult(
        status=RosterStatus.OPTIMAL if gap <= 1e-9 else RosterStatus.FEASIBLE,
        shifts=tuple(shifts),
        objective=float(objective_value),
        bound=float(bound),
        gap=gap,
        coverage=tuple(coverage),
        under_staffed=sum(max(0, c.need - c.scheduled) for c in coverage),
        over_staffed=sum(max(0, c.scheduled - c.need) for c in coverage),
        changes=_count_changes(shifts, previous) if previous is not None else 0,
        unmet=tuple(unmet),
        wall_seconds=time.perf_counter() - started,
        num_variables=num_variables,
        num_constraints=num_constraints,
    )


def _groups(setup: Workforce, locked: Sequence[Shift]) -> list[list[Agent]]:
    """Agents alike in contract, skills, templates and absences (preferred days off may differ), nothing locked."""
    locked_ids = {s.agent for s in locked}
    by_key: dict[tuple[object, ...], list[Agent]] = defaultdict(list)
    for a in setup.agents:
        key: tuple[object, ...] = (a.id,)
        if a.id not in locked_ids:
            key = (a.contract, a.skills, a.templates, a.leave, a.unavailable, a.avoided_templates)
        by_key[key].append(a)
    return list(by_key.values())


def _objective(setup: Workforce, requirement: Requirement, shifts: Sequence[Shift], w: Weights) -> int:
    """The model's objective for a roster without a previous one: staffing, preferences and fairness."""
    weekend: dict[str, int] = defaultdict(int)
    nights: dict[str, int] = defaultdict(int)
    for s in shifts:
        weekend[s.agent] += s.day % 7 in WEEKEND
        nights[s.agent] += setup.template_by_id[s.template].is_night
    fairness = max(weekend.values(), default=0) + max(nights.values(), default=0)
    return _roster_cost(setup, requirement, shifts, w) + w.fairness * fairness


def _solve_milp(model: cp_model.CpModel, seconds: float, gap: float) -> tuple[list[int] | None, float | None]:
    """Solve a purely linear CP-SAT model as a MILP with HiGHS; the integer values and a proven lower bound.

    HiGHS's dual bound comes from its LP relaxations with cuts and branching, so it holds up to its feasibility
    tolerance (1e-7); as the objective is integer it is rounded up after subtracting that slack.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    proto = model.proto
    big = 1 << 62
    rows: list[int] = []
    cols: list[int] = []
    vals: list[int] = []
    lower: list[float] = []
    upper: list[float] = []
    for c in proto.constraints:
        if len(c.enforcement_literal):
            raise ValueError("enforced constraint in the MILP")
        if c.has_linear():
            terms, domain = list(zip(c.linear.vars, c.linear.coeffs, strict=True)), list(c.linear.domain)
        elif c.has_at_most_one():
            terms, domain = [(v, 1) for v in c.at_most_one.literals], [-big, 1]
        else:
            raise ValueError("non-linear constraint in the MILP")
        if any(v < 0 for v, _ in terms):
            raise ValueError("negated literal in the MILP")
        r = len(lower)
        rows.extend(r for _ in terms)
        cols.extend(v for v, _ in terms)
        vals.extend(k for _, k in terms)
        lower.append(-math.inf if domain[0] <= -big else domain[0])
        upper.append(math.inf if domain[len(domain) - 1] >= big else domain[len(domain) - 1])
    n = len(proto.variables)
    cost = [0.0] * n
    for v, k in zip(proto.objective.vars, proto.objective.coeffs, strict=True):
        cost[v] += k
    low = [v.domain[0] for v in proto.variables]
    high = [v.domain[len(v.domain) - 1] for v in proto.variables]
    matrix = csr_matrix((vals, (rows, cols)), shape=(len(lower), n))
    res = milp(
        cost,
        constraints=LinearConstraint(matrix, lower, upper),
        bounds=Bounds(low, high),
        integrality=[1] * n,
        options={"time_limit": max(0.5, seconds), "mip_rel_gap": gap, "presolve": True},
    )
    offset = proto.objective.offset
    dual = getattr(res, "mip_dual_bound", None)
    bound = None
    if dual is not None and math.isfinite(dual):
        bound = float(math.ceil(dual + offset - 1e-7 * max(1.0, abs(dual + offset))))
    values = None if res.x is None else [round(x) for x in res.x]
    return values, bound


def _split_groups(
    grouped: _Roster,
    values: Sequence[int],
    locked: Sequence[Shift],
    deadline: float,
) -> list[Shift] | None:
    """Turn each group's shift counts into one week per agent (a small exact CP-SAT per group).

    The grouped model only keeps the sums of the agents' rules, so an exact split may not exist; then the closest
    one is taken and one-agent best responses put the missing shifts back to use.
    """
    setup = grouped.setup
    chosen: dict[Key, list[str]] = defaultdict(list)
    exact = True
    for am, members in zip(grouped.agents, grouped.groups, strict=True):
        wanted = {key: values[var.index] for key, var in am.z.items() if values[var.index]}
        if len(members) == 1:
            for key in wanted:
                chosen[key].append(members[0].id)
            continue
        seconds = max(0.2, min(2.0, deadline - time.perf_counter()))
        split = _split_one(setup, am, members, wanted, locked, grouped.weights, seconds)
        if split is None:
            return None
        exact = exact and split[1]
        for key, ids in split[0].items():
            chosen[key].extend(ids)
    lunch_counts = {key: values[var.index] for key, var in grouped.lunch.items()}
    shifts = _hand_out_lunches(setup, chosen, lunch_counts, locked, [])
    if not exact:
        seconds = max(0.5, min(5.0, deadline - time.perf_counter()))
        shifts = improve_roster(
            setup, grouped.requirement, shifts, locked=locked, weights=grouped.weights, seconds=seconds
        )
    return shifts


def _split_one(  # noqa: PLR0917 - internal
    setup: Workforce,
    am: _AgentModel,
    members: Sequence[Agent],
    wanted: Mapping[Key, int],
    locked: Sequence[Shift],
    weights: Weights,
    seconds: float,
) -> tuple[dict[Key, list[str]], bool] | None:
    """One group's weeks closest to its counts (fewest misses, then the fairest weekends and nights); exact or not."""
    model = cp_model.CpModel()
    agents = [_AgentModel(model, setup, a, [s for s in locked if s.agent == a.id], diagnose=False) for a in members]
    misses = []
    for key in am.z:
        got = sum(m.z[key] for m in agents if key in m.z)
        miss = model.new_int_var(0, len(members), f"miss:{key}")
        model.add(got - wanted.get(key, 0) <= miss)
        model.add(wanted.get(key, 0) - got <= miss)
        misses.append(miss)
    weekend = [d for d in range(setup.days) if d % 7 in WEEKEND]
    night_ids = {t.id for t in setup.templates if t.is_night}
    top = model.new_int_var(0, 2 * setup.days, "top")
    for m in agents:
        model.add(top >= sum(m.works[d] for d in weekend))
        model.add(top >= sum(v for (_, tid, _), v in m.z.items() if tid in night_ids))
    terms: list[cp_model.LinearExprT] = [1000 * v for v in misses]
    terms += [
        weights.preference * m.works[d]
        for m in agents
        for d in range(setup.days)
        if d % 7 in m.agent.preferred_days_off
    ]
    terms.append(weights.fairness * top)
    model.minimize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = seconds
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    chosen: dict[Key, list[str]] = defaultdict(list)
    for m in agents:
        for key, var in m.z.items():
            if solver.boolean_value(var):
                chosen[key].append(m.agent.id)
    return chosen, all(solver.value(v) == 0 for v in misses)


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
        for i, a in enumerate(agent_ids):
            if a not in placed:  # counts short only after an inexact split: spread the rest over the window
                placed[a] = free.pop(0) if free else sorted(left)[i % len(left)]
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
