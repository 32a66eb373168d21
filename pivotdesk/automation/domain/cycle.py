"""Running triggers for one event, Zendesk's way, with loop protection (pure).

Triggers are checked in order against the facts; when one matches it fires, its actions change the facts (through
the caller's `apply`, a pure simulation of the actions on the snapshot) and checking restarts from the top with the
changed facts. Each trigger fires at most once per event, so a rule's own change never fires it again and two
rules that undo each other (A: x=0 → x=1, B: x=1 → x=0) fire once each. The cycle ends when a full pass fires
nothing, hence after at most len(triggers) firings and len(triggers) + 1 passes.

A pass is one scan from the top; pass k fires the k-th trigger (every pass but the last fires exactly one).
The "what would happen" preview is `preview`, which is `run_cycle` itself, so it shows what the triggers do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pivotdesk.automation.domain.conditions import evaluate, fields_used

__all__ = ["Apply", "Fired", "Trigger", "preview", "run_cycle"]

Apply = Callable[[Mapping[str, Any], Sequence[Mapping[str, Any]]], Mapping[str, Any]]


@dataclass(frozen=True)
class Trigger:
    """A rule as the cycle sees it: its id, its condition tree (`conditions.validate`d) and its actions."""

    id: int
    conditions: Mapping[str, Any]
    actions: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Fired:
    """One trigger that fired, the actions it applied, and the pass (1-based) it fired in."""

    trigger_id: int
    actions: tuple[Mapping[str, Any], ...]
    pass_number: int


def _changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def run_cycle(
    triggers: Sequence[Trigger],
    facts: Mapping[str, Any],
    apply: Apply,
    *,
    max_passes: int | None = None,
) -> tuple[Mapping[str, Any], list[Fired]]:
    """The facts after every trigger that fires for this event has applied its actions, and what fired, in order.
    `max_passes` stops earlier (at most that many passes, so that many firings); the natural bound needs no cap.
    Triggers are told apart by id: two with the same id count as one that has fired once.

    Each trigger is evaluated once, then again only when a firing changed a fact it reads (`fields_used`): a rule
    whose inputs did not change cannot change its answer, so the result is the plain restart-from-the-top cycle's
    (checked against it by hypothesis) at a fraction of the evaluations."""
    fired_ids: set[int] = set()
    fired: list[Fired] = []
    reads = [fields_used(t.conditions) for t in triggers]
    matched = [evaluate(t.conditions, facts) for t in triggers]
    passes = len(triggers) + 1 if max_passes is None else max(0, max_passes)
    for pass_number in range(1, passes + 1):
        index = next((i for i, t in enumerate(triggers) if matched[i] and t.id not in fired_ids), None)
        if index is None:
            break
        trigger = triggers[index]
        fired_ids.add(trigger.id)
        fired.append(Fired(trigger.id, trigger.actions, pass_number))
        before, facts = facts, apply(facts, trigger.actions)
        changed = _changed_keys(before, facts)
        if changed:
            for i, t in enumerate(triggers):
                if t.id not in fired_ids and reads[i] & changed:
                    matched[i] = evaluate(t.conditions, facts)
    return facts, fired


def preview(
    triggers: Sequence[Trigger], facts: Mapping[str, Any], apply: Apply
) -> tuple[Mapping[str, Any], list[Fired]]:
    """What the triggers would do on these facts: `run_cycle` itself, so the preview is what then happens."""
    return run_cycle(triggers, facts, apply)
