"""Roster data types and the independent labour-rule checker.

The checker is deliberately plain Python that re-derives every hard rule from the shifts themselves: it shares no
constraint code with the CP-SAT model in `roster.py`, so a modelling mistake there shows up here as a violation.
Times are minutes from the horizon start, which is a Monday 00:00 local; day `d` is weekday `d % 7`; week `w` is
days `[7w, 7w + 7)` cut to the horizon. Week rules on a partial week (horizon shorter than a multiple of 7 days):
the minimum hours are not enforced (the rest of the week lies outside the horizon) and the days off needed are
reduced by the days outside the horizon; maximum hours and night shifts apply as they are.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

MINUTES_PER_DAY = 1440
WEEKEND = frozenset({5, 6})


class Rule(StrEnum):
    """Codes for broken rules; shared by the checker, the solver's conflict reports and the change check."""

    UNKNOWN_AGENT = "unknown_agent"
    UNKNOWN_TEMPLATE = "unknown_template"
    OUTSIDE_HORIZON = "outside_horizon"
    TEMPLATE_NOT_ALLOWED = "template_not_allowed"
    TWO_SHIFTS_SAME_DAY = "two_shifts_same_day"
    OVERLAP = "overlap"
    MIN_REST = "min_rest"
    WEEKLY_HOURS_MAX = "weekly_hours_max"
    WEEKLY_HOURS_MIN = "weekly_hours_min"
    CONSECUTIVE_DAYS = "consecutive_days"
    NIGHT_SHIFTS = "night_shifts"
    DAYS_OFF = "days_off"
    ON_LEAVE = "on_leave"
    UNAVAILABLE = "unavailable"
    SKILL = "skill"
    LUNCH_WINDOW = "lunch_window"
    LUNCH_OUTSIDE_SHIFT = "lunch_outside_shift"
    LOCKED_SHIFT = "locked_shift"


@dataclass(frozen=True, slots=True)
class ShiftTemplate:
    """A shift shape. `length` includes the unpaid lunch; lunch offsets are from the shift start."""

    id: str
    start: int
    length: int
    lunch_length: int = 0
    lunch_earliest: int = 0
    lunch_latest: int = 0
    paid_break_minutes: int = 0
    is_night: bool = False

    @property
    def paid_minutes(self) -> int:
        return self.length - self.lunch_length


@dataclass(frozen=True, slots=True)
class Contract:
    id: str
    min_week_minutes: int = 0
    max_week_minutes: int = 40 * 60
    min_rest_minutes: int = 11 * 60
    max_consecutive_days: int = 6
    max_night_shifts: int = 7
    min_days_off_per_week: int = 1


@dataclass(frozen=True, slots=True)
class Agent:
    """`templates` None means every template; leave/unavailable are half-open minute ranges."""

    id: str
    contract: str
    skills: frozenset[str]
    templates: frozenset[str] | None = None
    leave: tuple[tuple[int, int], ...] = ()
    unavailable: tuple[tuple[int, int], ...] = ()
    preferred_days_off: frozenset[int] = frozenset()
    avoided_templates: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Shift:
    """One worked shift; `lunch_start` is absolute (minutes from horizon start), overtime extends the end."""

    agent: str
    day: int
    template: str
    skill: str
    lunch_start: int | None = None
    overtime_minutes: int = 0


@dataclass(frozen=True, slots=True)
class Workforce:
    """The fixed facts a roster is checked against."""

    days: int
    templates: tuple[ShiftTemplate, ...]
    contracts: tuple[Contract, ...]
    agents: tuple[Agent, ...]
    interval_minutes: int = 30
    template_by_id: Mapping[str, ShiftTemplate] = field(init=False, repr=False, compare=False)
    contract_by_id: Mapping[str, Contract] = field(init=False, repr=False, compare=False)
    agent_by_id: Mapping[str, Agent] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "template_by_id", {t.id: t for t in self.templates})
        object.__setattr__(self, "contract_by_id", {c.id: c for c in self.contracts})
        object.__setattr__(self, "agent_by_id", {a.id: a for a in self.agents})

    def weeks(self) -> list[range]:
        return [range(w, min(w + 7, self.days)) for w in range(0, self.days, 7)]


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    agent: str
    day: int | None = None
    detail: tuple[tuple[str, int | str], ...] = ()


def shift_span(template: ShiftTemplate, shift: Shift) -> tuple[int, int]:
    start = shift.day * MINUTES_PER_DAY + template.start
    return start, start + template.length + shift.overtime_minutes


def _overlaps(a: tuple[int, int], ranges: Iterable[tuple[int, int]]) -> bool:
    return any(a[0] < end and start < a[1] for start, end in ranges)


def check_agent(setup: Workforce, agent_id: str, shifts: Sequence[Shift]) -> list[Violation]:
    """Every hard rule for one agent's shifts (the shifts' own `agent` field is not consulted)."""
    agent = setup.agent_by_id.get(agent_id)
    if agent is None:
        return [Violation(Rule.UNKNOWN_AGENT, agent_id)]
    contract = setup.contract_by_id.get(agent.contract)
    if contract is None:
        return [Violation(Rule.UNKNOWN_AGENT, agent_id, None, (("contract", agent.contract),))]
    out: list[Violation] = []
    spans: list[tuple[int, int, Shift, ShiftTemplate]] = []
    for s in shifts:
        template = setup.template_by_id.get(s.template)
        if template is None:
            out.append(Violation(Rule.UNKNOWN_TEMPLATE, agent_id, s.day, (("template", s.template),)))
        elif not 0 <= s.day < setup.days:
            out.append(Violation(Rule.OUTSIDE_HORIZON, agent_id, s.day))
        else:
            out.extend(_check_shift(agent, template, s))
            spans.append((*shift_span(template, s), s, template))
    spans.sort(key=lambda item: item[0])
    out.extend(_check_sequence(setup, agent, contract, spans))
    out.extend(_check_weeks(setup, agent, contract, spans))
    return out


def _check_shift(agent: Agent, template: ShiftTemplate, s: Shift) -> list[Violation]:
    out = []
    if agent.templates is not None and s.template not in agent.templates:
        out.append(Violation(Rule.TEMPLATE_NOT_ALLOWED, agent.id, s.day, (("template", s.template),)))
    if s.skill not in agent.skills:
        out.append(Violation(Rule.SKILL, agent.id, s.day, (("skill", s.skill),)))
    span = shift_span(template, s)
    if _overlaps(span, agent.leave):
        out.append(Violation(Rule.ON_LEAVE, agent.id, s.day))
    if _overlaps(span, agent.unavailable):
        out.append(Violation(Rule.UNAVAILABLE, agent.id, s.day))
    out.extend(_check_lunch(agent.id, template, s, span))
    return out


Spans = Sequence[tuple[int, int, Shift, ShiftTemplate]]


def _check_sequence(setup: Workforce, agent: Agent, contract: Contract, spans: Spans) -> list[Violation]:
    """One shift a day, no overlap, rest between consecutive shifts, consecutive working days."""
    out = []
    per_day: dict[int, int] = defaultdict(int)
    for _, _, s, _ in spans:
        per_day[s.day] += 1
    for day, count in sorted(per_day.items()):
        if count > 1:
            out.append(Violation(Rule.TWO_SHIFTS_SAME_DAY, agent.id, day, (("shifts", count),)))
    for (_, prev_end, _, _), (start, _, shift, _) in itertools.pairwise(spans):
        if start < prev_end:
            out.append(Violation(Rule.OVERLAP, agent.id, shift.day))
        elif start - prev_end < contract.min_rest_minutes:
            out.append(Violation(Rule.MIN_REST, agent.id, shift.day, (("rest_minutes", start - prev_end),)))
    run = 0
    for day in range(setup.days):
        run = run + 1 if day in per_day else 0
        if run == contract.max_consecutive_days + 1:
            out.append(Violation(Rule.CONSECUTIVE_DAYS, agent.id, day, (("limit", contract.max_consecutive_days),)))
    return out


def _check_weeks(setup: Workforce, agent: Agent, contract: Contract, spans: Spans) -> list[Violation]:
    """Paid hours, night shifts and days off per week (partial weeks as the module docstring says)."""
    out = []
    worked = {s.day for _, _, s, _ in spans}
    for index, week in enumerate(setup.weeks()):
        in_week = [(s, t) for _, _, s, t in spans if s.day in week]
        paid = sum(t.paid_minutes + s.overtime_minutes for s, t in in_week)
        if paid > contract.max_week_minutes:
            out.append(Violation(Rule.WEEKLY_HOURS_MAX, agent.id, None, (("week", index), ("minutes", paid))))
        if len(week) == 7 and paid < contract.min_week_minutes:
            out.append(Violation(Rule.WEEKLY_HOURS_MIN, agent.id, None, (("week", index), ("minutes", paid))))
        nights = sum(1 for _, t in in_week if t.is_night)
        if nights > contract.max_night_shifts:
            out.append(Violation(Rule.NIGHT_SHIFTS, agent.id, None, (("week", index), ("nights", nights))))
        days_off = sum(1 for d in week if d not in worked)
        if days_off < max(0, contract.min_days_off_per_week - (7 - len(week))):
            out.append(Violation(Rule.DAYS_OFF, agent.id, None, (("week", index), ("days_off", days_off))))
    return out


def _check_lunch(agent_id: str, template: ShiftTemplate, s: Shift, span: tuple[int, int]) -> list[Violation]:
    if template.lunch_length == 0:
        if s.lunch_start is not None:
            return [Violation(Rule.LUNCH_WINDOW, agent_id, s.day, (("reason", "template_has_no_lunch"),))]
        return []
    if s.lunch_start is None:
        return [Violation(Rule.LUNCH_WINDOW, agent_id, s.day, (("reason", "missing"),))]
    out = []
    offset = s.lunch_start - span[0]
    if not template.lunch_earliest <= offset <= template.lunch_latest:
        out.append(Violation(Rule.LUNCH_WINDOW, agent_id, s.day, (("offset", offset),)))
    if s.lunch_start < span[0] or s.lunch_start + template.lunch_length > span[1]:
        out.append(Violation(Rule.LUNCH_OUTSIDE_SHIFT, agent_id, s.day, (("offset", offset),)))
    return out


def check_roster(setup: Workforce, shifts: Iterable[Shift], *, locked: Iterable[Shift] = ()) -> list[Violation]:
    """All violations of a roster; `locked` shifts must appear in it (lunch placement aside)."""
    by_agent: dict[str, list[Shift]] = defaultdict(list)
    for s in shifts:
        by_agent[s.agent].append(s)
    out: list[Violation] = []
    for agent_id, agent_shifts in by_agent.items():
        out.extend(check_agent(setup, agent_id, agent_shifts))
    present = {(s.agent, s.day, s.template, s.skill) for ss in by_agent.values() for s in ss}
    for s in locked:
        if (s.agent, s.day, s.template, s.skill) not in present:
            out.append(Violation(Rule.LOCKED_SHIFT, s.agent, s.day, (("template", s.template),)))
    return out


@dataclass(frozen=True, slots=True)
class Swap:
    """Agent A's shift on `day_a` goes to B and B's shift on `day_b` goes to A (either may be absent: a give-away)."""

    agent_a: str
    day_a: int
    agent_b: str
    day_b: int


@dataclass(frozen=True, slots=True)
class PickUp:
    """An open shift taken by `agent` (the shift's own `agent` field is ignored)."""

    agent: str
    shift: Shift


@dataclass(frozen=True, slots=True)
class Overtime:
    """Extend the agent's shift on `day` by `minutes`, or add `shift` as extra work when given."""

    agent: str
    day: int
    minutes: int = 0
    shift: Shift | None = None


@dataclass(frozen=True, slots=True)
class TakeLeave:
    """Leave on `[start, end)`; the agent's shifts touching it are given up."""

    agent: str
    start: int
    end: int


Change = Swap | PickUp | Overtime | TakeLeave


def apply_change(setup: Workforce, shifts: Sequence[Shift], change: Change) -> tuple[Workforce, list[Shift]]:
    """The roster (and the facts, for leave) after the change."""
    rest = list(shifts)
    if isinstance(change, Swap):
        a = [s for s in rest if s.agent == change.agent_a and s.day == change.day_a]
        b = [s for s in rest if s.agent == change.agent_b and s.day == change.day_b]
        moved = {id(s) for s in a + b}
        rest = [s for s in rest if id(s) not in moved]
        rest += [replace(s, agent=change.agent_b) for s in a] + [replace(s, agent=change.agent_a) for s in b]
        return setup, rest
    if isinstance(change, PickUp):
        return setup, [*rest, replace(change.shift, agent=change.agent)]
    if isinstance(change, Overtime):
        if change.shift is not None:
            return setup, [*rest, replace(change.shift, agent=change.agent)]
        return setup, [
            replace(s, overtime_minutes=s.overtime_minutes + change.minutes)
            if s.agent == change.agent and s.day == change.day
            else s
            for s in rest
        ]
    agent = setup.agent_by_id.get(change.agent)
    if agent is None:
        return setup, rest
    leave = (change.start, change.end)
    kept = []
    for s in rest:
        template = setup.template_by_id.get(s.template)
        if s.agent == change.agent and template is not None and _overlaps(shift_span(template, s), [leave]):
            continue
        kept.append(s)
    agents = tuple(replace(a, leave=(*a.leave, leave)) if a.id == change.agent else a for a in setup.agents)
    return replace(setup, agents=agents), kept


def _affected(change: Change) -> set[str]:
    if isinstance(change, Swap):
        return {change.agent_a, change.agent_b}
    return {change.agent}


def check_change(setup: Workforce, shifts: Sequence[Shift], change: Change) -> list[Violation]:
    """Violations the change would introduce for the agents it affects (ones already there are not repeated)."""
    after_setup, after = apply_change(setup, shifts, change)
    out: list[Violation] = []
    for agent_id in sorted(_affected(change)):
        before_v = set(check_agent(setup, agent_id, [s for s in shifts if s.agent == agent_id]))
        after_v = check_agent(after_setup, agent_id, [s for s in after if s.agent == agent_id])
        out.extend(v for v in after_v if v not in before_v)
    return out
