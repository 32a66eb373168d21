"""Running triggers for one event, Zendesk's way, with loop protection (pure).

Triggers are checked in order against the facts; when one matches it fires, its actions change the facts (through
the caller's `apply`, a pure simulation of the actions on the snapshot) and checking restarts from the top with the
changed facts. Each trigger fires at most once per event, so a rule's own change never fires it again and two
rules that undo each other (A: x=0 → x=1, B: x=1 → x=0) fire once each. The cycle ends when a full pass fires
nothing, hence after at most len(triggers) firings and len(triggers) + 1 passes.

A pass is one scan from the top; pass k fires the k-th trigger (every pass but the last fires exactly one).
The "what would happen" preview is `preview`, which is `run_cycle` itself, so it shows what the triggers do.

Cost: each trigger's conditions are compiled once (`compiled`, when the `Trigger` is made) and evaluated once per
event; after a firing only the triggers whose answer depends on a fact that changed are evaluated again (an index
from fact to the triggers watching it), and the first matching trigger is kept in a heap, so a pass costs what
changed, not the number of triggers. Hypothesis checks the result against the plain restart-from-the-top cycle.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pivotdesk.automation.domain.compiled import Memo, Program, changed_names, compile_conditions

__all__ = ["Apply", "Fired", "Trigger", "preview", "run_cycle"]

Apply = Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], Mapping[str, Any]]


@dataclass(frozen=True)
class Trigger:
    """A rule as the cycle sees it: its id, its condition tree (`conditions.validate`d) and its actions."""

    id: int
    conditions: Mapping[str, Any]
    actions: tuple[Mapping[str, Any], ...]
    program: Program = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.program is None:
            object.__setattr__(self, "program", compile_conditions(self.conditions))


@dataclass(frozen=True)
class Fired:
    """One trigger that fired, the actions it applied, and the pass (1-based) it fired in."""

    trigger_id: int
    actions: tuple[Mapping[str, Any], ...]
    pass_number: int


class _Watch:
    """The triggers' last answers' dependencies: which to evaluate again after a firing. The triggers are kept by
    dependency set (one interned object per distinct set, `compiled._intern`; an entry whose trigger has moved on
    to another set is skipped), and the sets by name."""

    def __init__(self, triggers: Sequence[Trigger]) -> None:
        self.runs = [t.program.run for t in triggers]
        self.depends: list[frozenset[str] | None] = [None] * len(triggers)
        self.buckets: dict[frozenset[str], list[int]] = {}
        self.by_name: dict[str, list[frozenset[str]]] = {}
        self.memo: Memo = {}
        self.evaluations = 0

    def evaluate(self, i: int, facts: Mapping[str, Any]) -> bool:
        self.evaluations += 1
        ok, deps = self.runs[i](facts, self.memo)
        self.depends[i] = deps
        bucket = self.buckets.get(deps)
        if bucket is None:
            self.buckets[deps] = [i]
            for name in deps:
                self.by_name.setdefault(name, []).append(deps)
        else:
            bucket.append(i)
        return ok

    def stale(self, changed: set[str]) -> set[int]:
        """The triggers whose last answer depends on something that changed."""
        out: set[int] = set()
        depends = self.depends
        for name in changed:
            for deps in self.by_name.get(name, ()):
                out.update(i for i in self.buckets[deps] if depends[i] is deps)
        return out


def run_cycle(
    triggers: Sequence[Trigger],
    facts: Mapping[str, Any],
    apply: Apply,
    *,
    max_passes: int | None = None,
    stats: dict[str, int] | None = None,
) -> tuple[Mapping[str, Any], list[Fired]]:
    """The facts after every trigger that fires for this event has applied its actions, and what fired, in order.
    `max_passes` stops earlier (at most that many passes, so that many firings); the natural bound needs no cap.
    Triggers are told apart by id: two with the same id count as one that has fired once. `stats`, when given,
    receives the number of evaluations (`evaluations`).

    A trigger is evaluated again only when a firing changed a fact its last answer depended on (`Program.run`'s
    second value): an answer whose inputs did not change cannot change, so the result is the plain
    restart-from-the-top cycle's at a fraction of the evaluations."""
    fired_ids: set[int] = set()
    fired: list[Fired] = []
    ids = [t.id for t in triggers]
    watch = _Watch(triggers)
    matched = [watch.evaluate(i, facts) for i in range(len(triggers))]
    ready = [i for i, ok in enumerate(matched) if ok]  # a heap of indexes that matched when last evaluated
    passes = len(triggers) + 1 if max_passes is None else max(0, max_passes)
    for pass_number in range(1, passes + 1):
        while ready and (not matched[ready[0]] or ids[ready[0]] in fired_ids):
            heapq.heappop(ready)  # stale: no longer matching, or its id has fired
        if not ready:
            break
        trigger = triggers[heapq.heappop(ready)]
        fired_ids.add(trigger.id)
        fired.append(Fired(trigger.id, trigger.actions, pass_number))
        before, facts = facts, apply(facts, trigger.actions)
        for i in watch.stale(changed_names(before, facts)):
            if ids[i] not in fired_ids:
                ok = watch.evaluate(i, facts)
                if ok and not matched[i]:
                    heapq.heappush(ready, i)
                matched[i] = ok
    if stats is not None:
        stats["evaluations"] = stats.get("evaluations", 0) + watch.evaluations
    return facts, fired


def preview(
    triggers: Sequence[Trigger], facts: Mapping[str, Any], apply: Apply
) -> tuple[Mapping[str, Any], list[Fired]]:
    """What the triggers would do on these facts: `run_cycle` itself, so the preview is what then happens."""
    return run_cycle(triggers, facts, apply)
