"""Linked ticket chains (pure): an order's life 下单 → 仓储拣货 → 运输配送 → 客户签收 as one ticket per stage.

A template (`ChainDef`) lists stages with the team that owns each and its expected duration. A running chain is one
`StageState` per stage, in the template's order:

- parallel: every stage opens at the start (a parent ticket with one child per stage);
- sequence: the first stage opens at the start and each completion opens the next waiting stage.

Choices made here, and why:

- Completing a stage that is already done changes nothing and opens nothing: business events and ticket events may
  arrive twice.
- In sequence mode, completing a stage that is still waiting is refused (`ChainError`, code `stage_not_open`): the
  order is the point of a sequence, and silently skipping would hide an event that arrived out of order. The
  service layer decides whether to log and drop it. Completing a cancelled stage is refused too.
- Delays count wall-clock minutes since a stage opened; opening side tickets for a late stage is the service
  layer's job (`delayed` says which).
- Messages are English templates with named placeholders; the service layer translates them
  (`gettext(error.template) % error.params`) because `*.domain` imports no Django. `gettext_noop` marks them for
  `makemessages`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

PARALLEL, SEQUENCE = "parallel", "sequence"
MODES = (PARALLEL, SEQUENCE)
WAITING, OPEN, DONE, CANCELLED = "waiting", "open", "done", "cancelled"
MAX_STAGES = 20


def gettext_noop(message: str) -> str:
    """Mark an English msgid for `makemessages` without importing Django; the service layer translates it."""
    return message


class ChainError(ValueError):
    """A rule of the chain was broken. `code` is stable; `template` (English, named placeholders) and `params` let
    the service layer translate it; `message` is the English text."""

    def __init__(self, code: str, template: str, **params: object) -> None:
        super().__init__(template % params)
        self.code = code
        self.template = template
        self.params = params

    @property
    def message(self) -> str:
        """The English message (translate `template` with `params` to show it to a person)."""
        return str(self.args[0])


@dataclass(frozen=True)
class ChainStageDef:
    """One stage: the team that owns its ticket (None: the chain's default queue) and how long it should take."""

    key: str
    name: str
    team_id: int | None
    expected_minutes: int


@dataclass(frozen=True)
class ChainDef:
    """A versioned chain template."""

    key: str
    name: str
    version: int
    mode: str
    stages: tuple[ChainStageDef, ...]


@dataclass(frozen=True)
class StageState:
    """Where one stage stands. `done_at` is when it ended (done or cancelled)."""

    key: str
    status: str
    opened_at: dt.datetime | None = None
    done_at: dt.datetime | None = None


@dataclass(frozen=True)
class ChainProgress:
    """The chain view: share of stages done, the open stage(s), the late ones, and when it should end if the
    remaining stages take their expected time (None once nothing is open)."""

    percent: int
    current: tuple[str, ...]
    delayed: tuple[str, ...]
    finished: bool
    expected_end: dt.datetime | None


def validate(chain: ChainDef) -> list[ChainError]:
    """Every problem of a chain template (empty when it is valid)."""
    problems: list[ChainError] = []
    if chain.mode not in MODES:
        problems.append(
            ChainError(
                "unknown_mode",
                gettext_noop("Unknown chain mode “%(mode)s”: use parallel or sequence."),
                mode=chain.mode,
            )
        )
    if not chain.stages:
        problems.append(ChainError("no_stages", gettext_noop("A chain needs at least one stage.")))
    if len(chain.stages) > MAX_STAGES:
        problems.append(
            ChainError("too_many_stages", gettext_noop("A chain has at most %(max)d stages."), max=MAX_STAGES)
        )
    seen: set[str] = set()
    for stage in chain.stages:
        problems.extend(_stage_problems(stage, seen))
        seen.add(stage.key)
    return problems


def _stage_problems(stage: ChainStageDef, seen: set[str]) -> list[ChainError]:
    problems: list[ChainError] = []
    if not stage.key.strip():
        problems.append(ChainError("empty_stage_key", gettext_noop("Every stage needs a key.")))
    if stage.key in seen:
        problems.append(
            ChainError("duplicate_stage", gettext_noop("Two stages share the key “%(stage)s”."), stage=stage.key)
        )
    if stage.expected_minutes < 1:
        problems.append(
            ChainError(
                "bad_duration",
                gettext_noop("Stage “%(stage)s” must be expected to take at least one minute."),
                stage=stage.key,
            )
        )
    return problems


def _check_aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ChainError("naive_datetime", gettext_noop("Times must carry a time zone."))


def _check_states(chain: ChainDef, states: Sequence[StageState]) -> None:
    if tuple(s.key for s in states) != tuple(d.key for d in chain.stages):
        raise ChainError("states_mismatch", gettext_noop("The chain's stages do not match its template."))


def start(chain: ChainDef, at: dt.datetime) -> tuple[StageState, ...]:
    """The stage states of a chain started at `at` (parallel: all open; sequence: the first open)."""
    _check_aware(at)
    problems = validate(chain)
    if problems:
        raise problems[0]
    if chain.mode == PARALLEL:
        return tuple(StageState(d.key, OPEN, at) for d in chain.stages)
    first, *rest = chain.stages
    return (StageState(first.key, OPEN, at), *(StageState(d.key, WAITING) for d in rest))


def _index_of(chain: ChainDef, key: str) -> int:
    for index, stage in enumerate(chain.stages):
        if stage.key == key:
            return index
    raise ChainError("unknown_stage", gettext_noop("The chain has no stage “%(stage)s”."), stage=key)


def on_stage_done(
    chain: ChainDef, states: Sequence[StageState], key: str, at: dt.datetime
) -> tuple[tuple[StageState, ...], tuple[str, ...]]:
    """Mark stage `key` done at `at`: the new states and the keys of the stages that opened (sequence: the next
    waiting one). A stage already done changes nothing; a waiting or cancelled one is refused."""
    _check_aware(at)
    _check_states(chain, states)
    index = _index_of(chain, key)
    current = states[index]
    if current.status == DONE:
        return tuple(states), ()
    if current.status != OPEN:
        raise ChainError(
            "stage_not_open",
            gettext_noop("Stage “%(stage)s” is %(status)s, not open: it cannot be completed."),
            stage=key,
            status=current.status,
        )
    if current.opened_at is not None and at < current.opened_at:
        raise ChainError("time_backwards", gettext_noop("A stage cannot end before it opened."))
    updated = list(states)
    updated[index] = replace(current, status=DONE, done_at=at)
    opened: tuple[str, ...] = ()
    following = next((i for i in range(index + 1, len(updated)) if updated[i].status == WAITING), None)
    if chain.mode == SEQUENCE and following is not None:
        updated[following] = replace(updated[following], status=OPEN, opened_at=at)
        opened = (updated[following].key,)
    return tuple(updated), opened


def cancel(chain: ChainDef, states: Sequence[StageState], at: dt.datetime) -> tuple[StageState, ...]:
    """Abandon the chain: every stage not done yet is cancelled at `at` (done stages keep their record)."""
    _check_aware(at)
    _check_states(chain, states)
    return tuple(s if s.status in (DONE, CANCELLED) else replace(s, status=CANCELLED, done_at=at) for s in states)


def _late(stage: ChainStageDef, state: StageState, at: dt.datetime) -> bool:
    if state.status != OPEN or state.opened_at is None:
        return False
    return at - state.opened_at > dt.timedelta(minutes=stage.expected_minutes)


def delayed(chain: ChainDef, states: Sequence[StageState], at: dt.datetime) -> list[str]:
    """The open stages past their expected duration at `at`."""
    _check_states(chain, states)
    return [s.key for d, s in zip(chain.stages, states, strict=True) if _late(d, s, at)]


def _expected_end(chain: ChainDef, states: Sequence[StageState], at: dt.datetime) -> dt.datetime | None:
    ends = [
        max(s.opened_at + dt.timedelta(minutes=d.expected_minutes), at)
        for d, s in zip(chain.stages, states, strict=True)
        if s.status == OPEN and s.opened_at is not None
    ]
    if not ends:
        return None
    end = max(ends)
    if chain.mode == SEQUENCE:
        minutes = sum(d.expected_minutes for d, s in zip(chain.stages, states, strict=True) if s.status == WAITING)
        end += dt.timedelta(minutes=minutes)
    return end


def progress(chain: ChainDef, states: Sequence[StageState], at: dt.datetime) -> ChainProgress:
    """The chain view at `at`."""
    _check_states(chain, states)
    done = sum(s.status == DONE for s in states)
    return ChainProgress(
        percent=done * 100 // len(states),
        current=tuple(s.key for s in states if s.status == OPEN),
        delayed=tuple(delayed(chain, states, at)),
        finished=all(s.status in (DONE, CANCELLED) for s in states),
        expected_end=_expected_end(chain, states, at),
    )


# --- JSON (the `snapshot` and `states` columns) ------------------------------------------------------------------


def chain_to_data(chain: ChainDef) -> dict[str, Any]:
    """The template as JSON-ready data."""
    stages = [
        {"key": d.key, "name": d.name, "team_id": d.team_id, "expected_minutes": d.expected_minutes}
        for d in chain.stages
    ]
    return {"key": chain.key, "name": chain.name, "version": chain.version, "mode": chain.mode, "stages": stages}


def chain_from_data(data: Mapping[str, Any]) -> ChainDef:
    """The template back from `chain_to_data`'s output."""
    stages = tuple(ChainStageDef(**s) for s in data["stages"])
    return ChainDef(data["key"], data["name"], data["version"], data["mode"], stages)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def states_to_data(states: Sequence[StageState]) -> list[dict[str, Any]]:
    """The stage states as JSON-ready data."""
    return [
        {"key": s.key, "status": s.status, "opened_at": _iso(s.opened_at), "done_at": _iso(s.done_at)} for s in states
    ]


def states_from_data(data: Sequence[Mapping[str, Any]]) -> tuple[StageState, ...]:
    """The stage states back from `states_to_data`'s output."""
    return tuple(StageState(s["key"], s["status"], _time(s["opened_at"]), _time(s["done_at"])) for s in data)
