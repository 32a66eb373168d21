"""Compiled condition programs (pure): the same answer as `conditions.evaluate`, a dependency set that is sound
(facts outside it cannot change the answer), and a trigger cycle over arbitrary trees that equals the plain
restart-from-the-top reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.automation.domain.compiled import (
    CHANGES_PREFIX,
    NOT_A_LIST,
    VALUE_SEP,
    changed_names,
    compile_conditions,
)
from pivotdesk.automation.domain.conditions import evaluate, fields_used
from pivotdesk.automation.domain.cycle import Trigger, run_cycle
from pivotdesk.automation.tests.test_domain_conditions import facts_st, spec_st

FAST = settings(max_examples=300, deadline=None)


@FAST
@given(spec_st, facts_st)
def test_a_program_answers_as_evaluate_does(spec, facts):
    program = compile_conditions(spec)
    assert program.matches(facts) == evaluate(spec, facts)
    assert {"changes" if k.startswith(CHANGES_PREFIX) else k for k in program.reads} == fields_used(spec)
    _matched, deps = program.run(facts, {})
    assert {fact_of(k) for k in deps} <= fields_used(spec)


def fact_of(key):
    return "changes" if key.startswith(CHANGES_PREFIX) else key.split(VALUE_SEP)[0].split(NOT_A_LIST)[0]


def mix(deps, kept, other):
    """`other`'s facts, but those in `deps` (and the `changes` entries named there) from `kept`."""
    out = {k: v for k, v in other.items() if k not in deps}
    out.update({k: v for k, v in kept.items() if k in deps})
    entries = {k.removeprefix(CHANGES_PREFIX) for k in deps if k.startswith(CHANGES_PREFIX)}
    if entries and "changes" not in deps:
        changes = {k: v for k, v in (other.get("changes") or {}).items() if k not in entries}
        changes.update({k: v for k, v in (kept.get("changes") or {}).items() if k in entries})
        out["changes"] = changes
    return out


@FAST
@given(spec_st, facts_st, facts_st)
def test_facts_outside_the_dependencies_do_not_change_the_answer(spec, facts, other):
    """Swap every fact the answer did not depend on for another draw's (or remove it): the answer stays."""
    program = compile_conditions(spec)
    matched, deps = program.run(facts, {})
    mixed = mix(
        {fact_of(k) for k in deps if not k.startswith(CHANGES_PREFIX)}
        | {k for k in deps if k.startswith(CHANGES_PREFIX)},
        facts,
        other,
    )
    if not changed_names(facts, mixed) & deps:  # nothing it depends on changed: the same answer
        assert evaluate(spec, mixed) == matched


@FAST
@given(spec_st, facts_st, facts_st)
def test_an_answer_changes_only_when_something_it_depends_on_changed(spec, facts, other):
    matched, deps = compile_conditions(spec).run(facts, {})
    if evaluate(spec, other) != matched:
        assert changed_names(facts, other) & deps


def test_changed_names_name_each_changed_entry_of_changes():
    before = {"priority": "low", "changes": {"tags": [[], ["a"]]}}
    after = {"priority": "high", "changes": {"tags": [[], ["a"]], "priority": ["low", "high"]}}
    assert changed_names(before, after) == {
        "priority",
        f"priority{VALUE_SEP}high",
        f"priority{NOT_A_LIST}",
        "changes",
        f"changes{NOT_A_LIST}",
        "changes.priority",
        f"changes.priority{VALUE_SEP}high",
    }
    assert changed_names({"assignee": 1, "path": [1]}, {"assignee": True, "path": [True]}) >= {"assignee", "path"}
    grown = changed_names({"tags": ["VIP"]}, {"tags": ["vip", "Refund"]})
    assert grown == {"tags", f"tags{VALUE_SEP}refund"}
    assert changed_names({"tags": ["a"]}, {"tags": "a b"}) == {"tags", f"tags{VALUE_SEP}a b", f"tags{NOT_A_LIST}"}
    assert changed_names(after, after) == set()


@FAST
@given(spec_st, facts_st)
def test_one_memo_shared_by_many_programs_and_facts_changes_no_answer(spec, facts):
    memo: dict = {}
    program = compile_conditions(spec)
    for variant in (facts, {**facts, "subject": "我要投诉 complaint"}, facts, {**facts, "subject": None}):
        assert program.matches(variant, memo) == evaluate(spec, variant)


# --- the cycle over arbitrary trees ------------------------------------------------------------------------------

ACTIONS = [
    {"set": "priority", "value": "high"},
    {"set": "priority", "value": "low"},
    {"set": "assignee", "value": 2},
    {"set": "tags", "value": ["vip"]},
    {"set": "tags", "value": []},
    {"set": "subject", "value": "refund request"},
]


def apply(facts, actions):
    """Set fields and record [old, new] in `changes`, as `effects.simulate` does."""
    out = dict(facts)
    changes = {k: list(v) for k, v in (facts.get("changes") or {}).items()}
    for action in actions:
        name, value = action["set"], action["value"]
        if out.get(name) != value:
            changes[name] = [changes.get(name, [out.get(name), None])[0], value]
            out[name] = value
    out["changes"] = changes
    return out


def ref_cycle(triggers, facts):
    """Scan from the top with `evaluate`, fire the first that matches and has not fired, start again."""
    fired = []
    while True:
        done = {i for i, _ in fired}
        first = next((t for t in triggers if t.id not in done and evaluate(t.conditions, facts)), None)
        if first is None:
            return facts, fired
        fired.append((first.id, len(fired) + 1))
        facts = apply(facts, first.actions)


@st.composite
def triggers_st(draw):
    count = draw(st.integers(0, 8))
    ids = draw(st.lists(st.integers(1, 30), min_size=count, max_size=count))  # repeated ids count as one
    return [
        Trigger(id=i, conditions=draw(spec_st), actions=tuple(draw(st.lists(st.sampled_from(ACTIONS), min_size=1))))
        for i in ids
    ]


@FAST
@given(triggers_st(), facts_st)
def test_the_cycle_on_arbitrary_trees_equals_the_reference(triggers, facts):
    stats: dict[str, int] = {}
    final, fired = run_cycle(triggers, facts, apply, stats=stats)
    ref_final, ref_fired = ref_cycle(triggers, facts)
    assert [(f.trigger_id, f.pass_number) for f in fired] == ref_fired
    assert final == ref_final
    assert stats["evaluations"] <= len(triggers) * (len(fired) + 1)


def test_a_rule_stopped_by_a_fact_that_does_not_change_is_not_evaluated_again():
    tagging = [Trigger(i, {"all": []}, ({"set": "tags", "value": [f"t{i}"]},)) for i in range(1, 6)]
    urgent_only = Trigger(
        99,
        {"all": [{"field": "tags", "op": "contains", "value": "t1"}, {"field": "priority", "op": "is", "value": "x"}]},
        (),
    )
    stats: dict[str, int] = {}
    _final, fired = run_cycle([*tagging, urgent_only], {"priority": "low", "tags": []}, apply, stats=stats)
    assert [f.trigger_id for f in fired] == [1, 2, 3, 4, 5]
    assert stats["evaluations"] == 6  # each once: 99 failed on priority (cheap first), which no rule changes
