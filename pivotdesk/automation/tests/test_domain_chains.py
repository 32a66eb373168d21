"""Linked ticket chains (pure): sequences open one stage per completion, parallel chains open all at once,
completions are idempotent, and the chain view reports progress and delays."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.automation.domain import chains as ch
from pivotdesk.automation.domain.chains import ChainDef, ChainError, ChainStageDef

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def minutes(n: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


ORDER = ChainDef(
    key="order",
    name="订单履约",
    version=1,
    mode=ch.SEQUENCE,
    stages=(
        ChainStageDef("order", "下单", 1, 10),
        ChainStageDef("pick", "仓储拣货", 2, 60),
        ChainStageDef("ship", "运输配送", 3, 1440),
        ChainStageDef("sign", "客户签收", None, 60),
    ),
)
KEYS = [s.key for s in ORDER.stages]
PARALLEL = replace(ORDER, mode=ch.PARALLEL)


def code_of(call, /, *args, **kwargs) -> str:
    """The code of the ChainError that `call(*args, **kwargs)` raises."""
    with pytest.raises(ChainError) as info:
        call(*args, **kwargs)
    return info.value.code


def test_a_sequence_opens_exactly_the_next_stage_on_each_completion():
    states = ch.start(ORDER, T0)
    assert [s.status for s in states] == [ch.OPEN, ch.WAITING, ch.WAITING, ch.WAITING]
    assert states[0].opened_at == T0
    for step, key in enumerate(KEYS, start=1):
        states, opened = ch.on_stage_done(ORDER, states, key, minutes(step))
        assert states[step - 1].status == ch.DONE
        assert states[step - 1].done_at == minutes(step)
        assert opened == tuple(KEYS[step : step + 1])
        assert [s.status for s in states].count(ch.OPEN) == (1 if step < len(KEYS) else 0)
        if opened:
            assert states[step].opened_at == minutes(step)
    assert ch.progress(ORDER, states, minutes(9)) == ch.ChainProgress(100, (), (), True, None)


def test_completing_a_done_stage_again_changes_nothing_and_opens_nothing():
    states, _ = ch.on_stage_done(ORDER, ch.start(ORDER, T0), "order", minutes(5))
    again, opened = ch.on_stage_done(ORDER, states, "order", minutes(9))
    assert (again, opened) == (states, ())


def test_in_a_sequence_a_waiting_or_cancelled_stage_cannot_be_completed():
    states = ch.start(ORDER, T0)
    assert code_of(ch.on_stage_done, ORDER, states, "ship", minutes(1)) == "stage_not_open"
    cancelled = ch.cancel(ORDER, states, minutes(2))
    assert code_of(ch.on_stage_done, ORDER, cancelled, "order", minutes(3)) == "stage_not_open"
    assert code_of(ch.on_stage_done, ORDER, states, "refund", minutes(1)) == "unknown_stage"
    assert code_of(ch.on_stage_done, ORDER, states[:2], "order", minutes(1)) == "states_mismatch"
    assert code_of(ch.on_stage_done, ORDER, ch.start(ORDER, minutes(5)), "order", T0) == "time_backwards"
    assert code_of(ch.start, ORDER, dt.datetime(2026, 1, 1)) == "naive_datetime"


def test_a_parallel_chain_opens_every_stage_at_the_start_and_opens_nothing_later():
    states = ch.start(PARALLEL, T0)
    assert all(s.status == ch.OPEN and s.opened_at == T0 for s in states)
    states, opened = ch.on_stage_done(PARALLEL, states, "ship", minutes(30))
    assert opened == ()
    view = ch.progress(PARALLEL, states, minutes(30))
    assert (view.percent, view.current, view.finished) == (25, ("order", "pick", "sign"), False)


@settings(max_examples=200, deadline=None)
@given(st.permutations(KEYS), st.lists(st.sampled_from(KEYS), max_size=6))
def test_in_parallel_any_order_of_completions_ends_with_every_stage_done(order, repeats):
    states = ch.start(PARALLEL, T0)
    for step, key in enumerate([*order[:2], *repeats, *order[2:]], start=1):
        states, opened = ch.on_stage_done(PARALLEL, states, key, minutes(step))
        assert opened == ()
    assert all(s.status == ch.DONE for s in states)
    assert ch.progress(PARALLEL, states, minutes(99)).finished


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(KEYS), max_size=12))
def test_in_a_sequence_completions_follow_a_cursor(attempts):
    """Reference: a cursor on the open stage; before it a no-op, at it a step forward, after it a refusal."""
    states, cursor = ch.start(ORDER, T0), 0
    for step, key in enumerate(attempts, start=1):
        index = KEYS.index(key)
        if index > cursor:
            assert code_of(ch.on_stage_done, ORDER, states, key, minutes(step)) == "stage_not_open"
            continue
        before = states
        states, opened = ch.on_stage_done(ORDER, states, key, minutes(step))
        if index < cursor:
            assert (states, opened) == (before, ())
            continue
        cursor += 1
        assert opened == tuple(KEYS[cursor : cursor + 1])
    assert [s.status for s in states] == [
        ch.DONE if i < cursor else ch.OPEN if i == cursor else ch.WAITING for i in range(len(KEYS))
    ]


def test_a_stage_past_its_expected_duration_is_delayed_and_pushes_the_expected_end():
    states, _ = ch.on_stage_done(ORDER, ch.start(ORDER, T0), "order", minutes(10))
    states, _ = ch.on_stage_done(ORDER, states, "pick", minutes(70))
    assert ch.delayed(ORDER, states, minutes(70 + 1440)) == []
    assert ch.delayed(ORDER, states, minutes(70 + 1441)) == ["ship"]
    on_time = ch.progress(ORDER, states, minutes(100))
    assert on_time.expected_end == minutes(70 + 1440 + 60)
    late = ch.progress(ORDER, states, minutes(3000))
    assert (late.percent, late.current, late.delayed, late.finished) == (50, ("ship",), ("ship",), False)
    assert late.expected_end == minutes(3000 + 60)


def test_parallel_delays_and_expected_end_use_each_open_stage():
    states = ch.start(PARALLEL, T0)
    assert ch.delayed(PARALLEL, states, minutes(61)) == ["order", "pick", "sign"]
    assert ch.progress(PARALLEL, states, minutes(61)).expected_end == minutes(1440)


def test_cancelling_a_chain_keeps_done_stages_and_finishes_it():
    states, _ = ch.on_stage_done(ORDER, ch.start(ORDER, T0), "order", minutes(5))
    cancelled = ch.cancel(ORDER, states, minutes(8))
    assert [(s.status, s.done_at) for s in cancelled] == [
        (ch.DONE, minutes(5)),
        (ch.CANCELLED, minutes(8)),
        (ch.CANCELLED, minutes(8)),
        (ch.CANCELLED, minutes(8)),
    ]
    view = ch.progress(ORDER, cancelled, minutes(9))
    assert (view.finished, view.current, view.expected_end, view.percent) == (True, (), None, 25)


@pytest.mark.parametrize(
    ("chain", "code"),
    [
        (replace(ORDER, mode="loop"), "unknown_mode"),
        (replace(ORDER, stages=()), "no_stages"),
        (replace(ORDER, stages=tuple(ChainStageDef(f"s{i}", "S", None, 5) for i in range(21))), "too_many_stages"),
        (replace(ORDER, stages=(ORDER.stages[0], ORDER.stages[0])), "duplicate_stage"),
        (replace(ORDER, stages=(ChainStageDef("", "S", None, 5),)), "empty_stage_key"),
        (replace(ORDER, stages=(ChainStageDef("s", "S", None, 0),)), "bad_duration"),
    ],
)
def test_invalid_templates_are_named_and_cannot_start(chain, code):
    assert [p.code for p in ch.validate(chain)] == [code]
    assert code_of(ch.start, chain, T0) == code


def test_a_chain_and_its_states_survive_a_json_round_trip():
    states, _ = ch.on_stage_done(ORDER, ch.start(ORDER, T0), "order", minutes(5))
    assert ch.states_from_data(json.loads(json.dumps(ch.states_to_data(states)))) == states
    assert ch.chain_from_data(json.loads(json.dumps(ch.chain_to_data(ORDER)))) == ORDER
