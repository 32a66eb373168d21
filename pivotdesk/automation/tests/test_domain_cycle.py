"""The trigger cycle (pure): termination, at most one firing per trigger, a fixpoint, agreement with a plain
recursive reference, and the order of firing when actions change nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.automation.domain.cycle import Fired, Trigger, preview, run_cycle

FAST = settings(max_examples=200, deadline=None)
FIELDS = {
    "status": ["new", "open", "solved"],
    "priority": ["low", "high"],
    "type": ["question", "incident"],
    "channel": ["email", "chat"],
}


def apply(facts, actions):
    """The actions of these tests set fields; the input is never changed."""
    out = dict(facts)
    for action in actions:
        out[action["field"]] = action["value"]
    return out


def unchanged(facts, actions):
    return facts


# --- a plain reference: conditions read by hand, the cycle as a recursion ---------------------------------------


def ref_matches(conditions, facts):
    for cond in conditions["all"]:
        fact, value = facts.get(cond["field"]), cond["value"]
        if cond["op"] == "is" and fact != value:
            return False
        if cond["op"] == "is_not" and fact == value:
            return False
        if cond["op"] == "in" and fact not in value:
            return False
    return True


def ref_cycle(triggers, facts, fired=()):
    """Find the first trigger that has not fired and matches; fire it and start again; stop when none does."""
    done = [f[0] for f in fired]
    candidates = [t for t in triggers if t.id not in done and ref_matches(t.conditions, facts)]
    if not candidates:
        return facts, list(fired)
    first = candidates[0]
    return ref_cycle(triggers, apply(facts, first.actions), (*fired, (first.id, len(fired) + 1)))


# --- strategies ------------------------------------------------------------------------------------------------


@st.composite
def condition(draw):
    field = draw(st.sampled_from(sorted(FIELDS)))
    op = draw(st.sampled_from(["is", "is_not", "in"]))
    if op == "in":
        value = draw(st.lists(st.sampled_from(FIELDS[field]), min_size=1, max_size=2, unique=True))
    else:
        value = draw(st.sampled_from(FIELDS[field]))
    return {"field": field, "op": op, "value": value}


@st.composite
def action(draw):
    field = draw(st.sampled_from(sorted(FIELDS)))
    return {"field": field, "value": draw(st.sampled_from(FIELDS[field]))}


@st.composite
def triggers_st(draw):
    count = draw(st.integers(0, 8))
    ids = draw(st.lists(st.integers(1, 1000), min_size=count, max_size=count, unique=True))
    return [
        Trigger(
            id=i,
            conditions={"all": draw(st.lists(condition(), max_size=3))},
            actions=tuple(draw(st.lists(action(), min_size=1, max_size=2))),
        )
        for i in ids
    ]


facts_st = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in FIELDS.items()})

# --- properties ------------------------------------------------------------------------------------------------


@FAST
@given(triggers_st(), facts_st)
def test_the_cycle_terminates_fires_each_trigger_once_and_reaches_a_fixpoint(triggers, facts):
    final, fired = run_cycle(triggers, facts, apply)
    ids = [f.trigger_id for f in fired]
    assert len(fired) <= len(triggers)
    assert len(ids) == len(set(ids))
    assert [f.pass_number for f in fired] == list(range(1, len(fired) + 1))
    assert not [t.id for t in triggers if t.id not in ids and ref_matches(t.conditions, final)]


@FAST
@given(triggers_st(), facts_st)
def test_the_cycle_equals_the_reference(triggers, facts):
    final, fired = run_cycle(triggers, facts, apply)
    ref_final, ref_fired = ref_cycle(triggers, facts)
    assert final == ref_final
    assert [(f.trigger_id, f.pass_number) for f in fired] == ref_fired
    by_id = {t.id: t.actions for t in triggers}
    assert all(f.actions == by_id[f.trigger_id] for f in fired)
    assert preview(triggers, facts, apply) == (final, fired)


@FAST
@given(triggers_st(), facts_st)
def test_with_actions_that_change_nothing_exactly_the_initial_matches_fire_in_order(triggers, facts):
    final, fired = run_cycle(triggers, facts, unchanged)
    assert final == facts
    assert [f.trigger_id for f in fired] == [t.id for t in triggers if ref_matches(t.conditions, facts)]


@FAST
@given(triggers_st(), facts_st, st.integers(0, 4))
def test_max_passes_cuts_the_cycle_short_as_a_prefix(triggers, facts, cap):
    _final, fired = run_cycle(triggers, facts, apply, max_passes=cap)
    _full, all_fired = run_cycle(triggers, facts, apply)
    assert fired == all_fired[:cap]


def test_rules_that_undo_each_other_fire_once_each():
    a = Trigger(
        1, {"all": [{"field": "priority", "op": "is", "value": "low"}]}, ({"field": "priority", "value": "high"},)
    )
    b = Trigger(
        2, {"all": [{"field": "priority", "op": "is", "value": "high"}]}, ({"field": "priority", "value": "low"},)
    )
    final, fired = run_cycle([a, b], {"priority": "low"}, apply)
    assert fired == [Fired(1, a.actions, 1), Fired(2, b.actions, 2)]
    assert final == {"priority": "low"}


def test_a_later_change_gives_an_earlier_rule_its_turn_before_the_rest():
    """Checking restarts from the top: trigger 1, made true by trigger 2, fires before trigger 3."""
    t1 = Trigger(
        1, {"all": [{"field": "status", "op": "is", "value": "open"}]}, ({"field": "type", "value": "incident"},)
    )
    t2 = Trigger(2, {"all": []}, ({"field": "status", "value": "open"},))
    t3 = Trigger(3, {"all": []}, ({"field": "channel", "value": "chat"},))
    final, fired = run_cycle([t1, t2, t3], {"status": "new"}, apply)
    assert [f.trigger_id for f in fired] == [2, 1, 3]
    assert final == {"status": "open", "type": "incident", "channel": "chat"}


def test_the_input_facts_are_not_changed():
    facts = {"status": "new"}
    run_cycle([Trigger(1, {"all": []}, ({"field": "status", "value": "open"},))], facts, apply)
    assert facts == {"status": "new"}
