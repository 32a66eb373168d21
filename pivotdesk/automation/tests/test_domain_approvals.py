"""Approval flows as a pure state machine: quorum rules against a brute-force reference, send-back and resume,
delegation, history and the progress bar."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.automation.domain import approvals as ap
from pivotdesk.automation.domain.approvals import ApprovalError, FlowDef, StageDef

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def minutes(n: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


RISK, LEGAL, FINANCE = 1, 2, 3
LOAN = FlowDef(
    key="loan",
    name="贷款审批",
    version=1,
    stages=(
        StageDef("risk", "风控审核", frozenset({RISK, 11}), ap.ANY, sla_minutes=60),
        StageDef("legal", "法务合规", frozenset({LEGAL}), ap.ALL, required_items=("抵押物证明", "收入证明")),
        StageDef("finance", "财务确认", frozenset({FINANCE, 31, 32}), ap.N_OF_M, n=2),
    ),
)


def code_of(call, /, *args, **kwargs) -> str:
    """The code of the ApprovalError that `call(*args, **kwargs)` raises."""
    with pytest.raises(ApprovalError) as info:
        call(*args, **kwargs)
    return info.value.code


# --- quorum rules against a brute-force reference ------------------------------------------------------------------


def reference_complete(rule: str, n: int, approvers: frozenset[int], approved: set[int]) -> bool:
    """The rule read literally from the issue, over the set of approvers who approved."""
    if rule == ap.ANY:
        return len(approved) >= 1
    if rule == ap.ALL:
        return approved == set(approvers)
    return len(approved) >= n


@st.composite
def stage_and_actors(draw):
    approvers = draw(st.frozensets(st.integers(1, 8), min_size=1, max_size=6))
    rule = draw(st.sampled_from(ap.RULES))
    n = draw(st.integers(1, len(approvers)))
    actors = draw(st.lists(st.integers(0, 9), max_size=15))
    return StageDef("s", "S", approvers, rule, n), actors


@settings(max_examples=200, deadline=None)
@given(stage_and_actors())
def test_a_stage_completes_exactly_when_the_reference_says(case):
    stage, actors = case
    flow = FlowDef("f", "F", 1, (stage, StageDef("next", "Next", frozenset({100}))))
    state = ap.start(flow, T0)
    approved: set[int] = set()
    for step, actor in enumerate(actors, start=1):
        if actor not in stage.approvers:
            assert code_of(ap.decide, state, actor=actor, verdict=ap.APPROVE, at=minutes(step)) == "not_an_approver"
            continue
        if actor in approved:
            assert code_of(ap.decide, state, actor=actor, verdict=ap.APPROVE, at=minutes(step)) == "already_decided"
            continue
        state = ap.decide(state, actor=actor, verdict=ap.APPROVE, at=minutes(step))
        approved.add(actor)
        if reference_complete(stage.rule, stage.n, stage.approvers, approved):
            assert state.stage_index == 1
            assert state.history[0].outcome == ap.APPROVED
            assert set(state.history[0].decided_by) == approved
            assert ap.expected_approvers(state) == {100}
            return
        assert state.stage_index == 0
        assert ap.expected_approvers(state) == stage.approvers - approved
    assert state.stage_index == 0
    assert not reference_complete(stage.rule, stage.n, stage.approvers, approved)


# --- the loan example: reject, resubmit, resume --------------------------------------------------------------------


def test_a_rejection_returns_to_the_requester_and_resubmission_resumes_at_that_stage():
    state = ap.start(LOAN, T0)
    state = ap.decide(state, actor=RISK, verdict=ap.APPROVE, comment="风险可控", at=minutes(30))
    state = ap.decide(
        state,
        actor=LEGAL,
        verdict=ap.REJECT,
        reason="需补充抵押物证明",
        missing_items=["抵押物证明"],
        at=minutes(100),
    )
    assert state.status == ap.REJECTED
    assert state.stage.key == "legal"
    assert ap.expected_approvers(state) == frozenset()
    sent_back = state.history[-1]
    assert (sent_back.outcome, sent_back.reason, sent_back.missing_items) == (
        ap.REJECTED,
        "需补充抵押物证明",
        ("抵押物证明",),
    )
    assert sent_back.decided_by == (LEGAL,)

    state = ap.resubmit(state, at=minutes(200), provided_items=["抵押物证明"])
    assert (state.status, state.stage.key, state.round) == (ap.PENDING, "legal", 2)
    assert ap.expected_approvers(state) == {LEGAL}
    assert [(r.stage_key, r.round, r.outcome) for r in state.history] == [
        ("risk", 1, ap.APPROVED),
        ("legal", 1, ap.REJECTED),
        ("legal", 2, ""),
    ]
    assert state.history[-1].provided_items == ("抵押物证明",)

    state = ap.decide(state, actor=LEGAL, verdict=ap.APPROVE, at=minutes(230))
    state = ap.decide(state, actor=31, verdict=ap.APPROVE, at=minutes(240))
    assert state.status == ap.PENDING
    state = ap.decide(state, actor=FINANCE, verdict=ap.APPROVE, at=minutes(260))
    assert state.status == ap.APPROVED
    assert [r.duration for r in state.history] == [
        dt.timedelta(minutes=30),
        dt.timedelta(minutes=70),
        dt.timedelta(minutes=30),
        dt.timedelta(minutes=30),
    ]
    assert state.history[-1].decided_by == (31, FINANCE)
    assert state.history[0].decisions[0].comment == "风险可控"


def test_a_request_for_changes_waits_for_the_requester_and_resumes_at_the_same_stage():
    state = ap.start(LOAN, T0)
    state = ap.decide(state, actor=11, verdict=ap.CHANGES, reason="补充流水", at=minutes(5))
    assert state.status == ap.CHANGES_REQUESTED
    state = ap.resubmit(state, at=minutes(50))
    assert (state.status, state.stage.key, state.round, state.decisions) == (ap.PENDING, "risk", 2, ())
    assert ap.expected_approvers(state) == {RISK, 11}


@pytest.mark.parametrize("verdict", [ap.REJECT, ap.CHANGES])
@pytest.mark.parametrize("reason", ["", "   "])
def test_sending_back_needs_a_reason(verdict, reason):
    state = ap.start(LOAN, T0)
    assert code_of(lambda: ap.decide(state, actor=RISK, verdict=verdict, reason=reason, at=T0)) == "reason_required"


def test_missing_items_must_be_required_by_the_stage_when_it_lists_any():
    state = ap.start(LOAN, T0)
    state = ap.decide(state, actor=RISK, verdict=ap.APPROVE, at=minutes(1))

    def reject(items):
        return ap.decide(state, actor=LEGAL, verdict=ap.REJECT, reason="缺材料", missing_items=items, at=minutes(2))

    assert code_of(lambda: reject(["营业执照"])) == "unknown_items"
    assert reject([" 收入证明 ", "收入证明"]).history[-1].missing_items == ("收入证明",)


def test_a_stage_without_required_items_accepts_free_text_and_an_approval_names_none():
    state = ap.start(LOAN, T0)
    changed = ap.decide(state, actor=RISK, verdict=ap.CHANGES, reason="r", missing_items=["近三个月流水"], at=T0)
    assert changed.history[-1].missing_items == ("近三个月流水",)
    assert code_of(lambda: ap.decide(state, actor=RISK, verdict=ap.APPROVE, missing_items=["x"], at=T0)) == (
        "items_on_approve"
    )


def test_outsiders_double_decisions_and_finished_flows_are_refused():
    state = ap.start(LOAN, T0)
    assert code_of(lambda: ap.decide(state, actor=LEGAL, verdict=ap.APPROVE, at=T0)) == "not_an_approver"
    assert code_of(lambda: ap.decide(state, actor=RISK, verdict="maybe", at=T0)) == "unknown_verdict"
    both = FlowDef("f", "F", 1, (StageDef("s", "S", frozenset({1, 2}), ap.ALL),))
    once = ap.decide(ap.start(both, T0), actor=1, verdict=ap.APPROVE, at=T0)
    assert code_of(lambda: ap.decide(once, actor=1, verdict=ap.APPROVE, at=T0)) == "already_decided"
    done = ap.decide(once, actor=2, verdict=ap.APPROVE, at=T0)
    assert done.status == ap.APPROVED
    assert code_of(lambda: ap.decide(done, actor=2, verdict=ap.APPROVE, at=T0)) == "not_pending"
    assert code_of(lambda: ap.resubmit(done, at=T0)) == "not_sent_back"
    assert code_of(lambda: ap.resubmit(once, at=T0)) == "not_sent_back"


def test_times_must_be_aware_and_move_forward():
    state = ap.start(LOAN, minutes(10))
    assert code_of(lambda: ap.start(LOAN, dt.datetime(2026, 1, 1))) == "naive_datetime"
    assert code_of(lambda: ap.decide(state, actor=RISK, verdict=ap.APPROVE, at=T0)) == "time_backwards"


def test_cancelling_closes_the_open_stage_and_is_final():
    state = ap.decide(ap.start(LOAN, T0), actor=RISK, verdict=ap.APPROVE, at=minutes(1))
    cancelled = ap.cancel(state, at=minutes(9), reason="客户撤回")
    assert cancelled.status == ap.CANCELLED
    assert (cancelled.history[-1].outcome, cancelled.history[-1].reason) == (ap.CANCELLED, "客户撤回")
    assert cancelled.history[-1].duration == dt.timedelta(minutes=8)
    assert code_of(lambda: ap.cancel(cancelled, at=minutes(10))) == "finished"
    assert ap.progress(cancelled, minutes(10)).stages[1].status == ap.STAGE_CANCELLED


# --- delegation ----------------------------------------------------------------------------------------------------

BOTH = FlowDef("f", "F", 1, (StageDef("s", "S", frozenset({1, 2}), ap.ALL),))


def test_a_delegate_acts_for_the_approver_on_leave():
    state = ap.with_delegation(ap.start(BOTH, T0), approver=1, delegate=5)
    assert ap.expected_approvers(state) == {2, 5}
    assert code_of(lambda: ap.decide(state, actor=1, verdict=ap.APPROVE, at=T0)) == "on_leave"
    state = ap.decide(state, actor=5, verdict=ap.APPROVE, at=minutes(1))
    assert state.decisions[0].acting_for == 1
    assert ap.expected_approvers(state) == {2}
    assert code_of(lambda: ap.decide(state, actor=5, verdict=ap.APPROVE, at=minutes(2))) == "already_decided"
    state = ap.decide(state, actor=2, verdict=ap.APPROVE, at=minutes(2))
    assert state.status == ap.APPROVED
    assert [(d.approver, d.acting_for) for d in state.history[0].decisions] == [(5, 1), (2, None)]


def test_delegation_passes_on_through_a_delegate_on_leave_and_can_be_cleared():
    state = ap.start(BOTH, T0, delegations={1: 5, 5: 6})
    assert ap.expected_approvers(state) == {2, 6}
    assert ap.expected_approvers(ap.with_delegation(state, approver=1, delegate=None)) == {1, 2}


def test_an_approver_holding_a_colleagues_delegation_decides_for_both():
    state = ap.start(BOTH, T0, delegations={1: 2})
    assert ap.expected_approvers(state) == {2}
    state = ap.decide(state, actor=2, verdict=ap.APPROVE, at=T0)
    assert state.decisions[0].acting_for is None
    state = ap.decide(state, actor=2, verdict=ap.APPROVE, at=T0)
    assert state.status == ap.APPROVED
    assert [d.acting_for for d in state.history[0].decisions] == [None, 1]


def reference_has_cycle(delegations: dict[int, int]) -> bool:
    for start in delegations:
        agent = start
        for _ in range(len(delegations) + 1):
            agent = delegations.get(agent, agent)
        if agent in delegations:
            return True
    return False


def reference_acting(approver: int, delegations: dict[int, int]) -> int:
    agent = approver
    for _ in range(len(delegations) + 1):
        agent = delegations.get(agent, agent)
    return agent


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6)), max_size=6))
def test_delegations_resolve_like_a_walk_and_cycles_are_refused(pairs):
    state = ap.start(FlowDef("f", "F", 1, (StageDef("s", "S", frozenset({1, 2, 3}), ap.ALL),)), T0)
    applied: dict[int, int] = {}
    for approver, delegate in pairs:
        candidate = {**applied, approver: delegate}
        if reference_has_cycle(candidate):
            assert code_of(ap.with_delegation, state, approver=approver, delegate=delegate) == "delegation_cycle"
            continue
        state = ap.with_delegation(state, approver=approver, delegate=delegate)
        applied = candidate
    expected = ap.expected_approvers(state)
    assert expected == {reference_acting(a, applied) for a in (1, 2, 3)}
    assert not expected & applied.keys()


# --- progress bar, snapshot, definitions, JSON ----------------------------------------------------------------------


def test_the_progress_bar_shows_the_current_stage_who_acts_the_wait_and_the_sla():
    state = ap.start(LOAN, T0)
    bar = ap.progress(state, minutes(90))
    assert [s.status for s in bar.stages] == [ap.CURRENT, ap.WAITING, ap.WAITING]
    assert (bar.current_key, bar.waiting_on, bar.expected) == ("risk", "approvers", {RISK, 11})
    assert (bar.waiting, bar.due_at, bar.overdue, bar.percent) == (dt.timedelta(minutes=90), minutes(60), True, 0)
    assert not ap.progress(state, minutes(60)).overdue

    state = ap.decide(state, actor=11, verdict=ap.APPROVE, at=minutes(90))
    state = ap.decide(state, actor=LEGAL, verdict=ap.CHANGES, reason="r", at=minutes(100))
    bar = ap.progress(state, minutes(130))
    assert [s.status for s in bar.stages] == [ap.DONE, ap.STAGE_SENT_BACK, ap.WAITING]
    assert (bar.current_key, bar.waiting_on, bar.expected, bar.waiting) == (
        "legal",
        "requester",
        frozenset(),
        dt.timedelta(minutes=30),
    )
    assert (bar.due_at, bar.overdue, bar.percent) == (None, False, 33)

    state = ap.decide(ap.resubmit(state, at=minutes(140)), actor=LEGAL, verdict=ap.APPROVE, at=minutes(150))
    state = ap.decide(state, actor=31, verdict=ap.APPROVE, at=minutes(151))
    assert [(s.approvals, s.required) for s in ap.progress(state, minutes(152)).stages] == [(1, 1), (1, 1), (1, 2)]
    state = ap.decide(state, actor=32, verdict=ap.APPROVE, at=minutes(152))
    bar = ap.progress(state, minutes(153))
    assert [s.status for s in bar.stages] == [ap.DONE] * 3
    assert (bar.percent, bar.current_key, bar.waiting, bar.waiting_on) == (100, None, None, "")


def test_a_running_approval_keeps_the_flow_it_started_with():
    state = ap.start(LOAN, T0)
    v2 = replace(LOAN, version=2, stages=(StageDef("risk", "风控审核", frozenset({99})),))
    assert ap.validate(v2) == []
    state = ap.decide(state, actor=RISK, verdict=ap.APPROVE, at=minutes(1))
    assert state.flow.version == 1
    assert [s.key for s in state.flow.stages] == ["risk", "legal", "finance"]
    assert code_of(lambda: ap.decide(state, actor=99, verdict=ap.APPROVE, at=minutes(2))) == "not_an_approver"


@pytest.mark.parametrize(
    ("stages", "code"),
    [
        ((), "no_stages"),
        (tuple(StageDef(f"s{i}", "S", frozenset({1})) for i in range(21)), "too_many_stages"),
        ((StageDef("a", "A", frozenset({1})), StageDef("a", "B", frozenset({2}))), "duplicate_stage"),
        ((StageDef(" ", "A", frozenset({1})),), "empty_stage_key"),
        ((StageDef("a", "A", frozenset()),), "no_approvers"),
        ((StageDef("a", "A", frozenset({1}), "most"),), "unknown_rule"),
        ((StageDef("a", "A", frozenset({1, 2}), ap.N_OF_M, n=3),), "bad_quorum"),
        ((StageDef("a", "A", frozenset({1, 2}), ap.N_OF_M, n=0),), "bad_quorum"),
        ((StageDef("a", "A", frozenset({1}), sla_minutes=0),), "bad_sla"),
    ],
)
def test_invalid_definitions_are_named_and_cannot_start(stages, code):
    flow = FlowDef("f", "F", 1, stages)
    assert [p.code for p in ap.validate(flow)] == [code]
    assert code_of(lambda: ap.start(flow, T0)) == code


def test_validation_messages_are_english_templates_for_the_service_to_translate():
    (problem,) = ap.validate(FlowDef("f", "F", 1, (StageDef("a", "A", frozenset({1, 2}), ap.N_OF_M, n=3),)))
    assert problem.template == "Stage “%(stage)s” needs between 1 and %(count)d approvals, not %(n)d."
    assert problem.message == str(problem) == "Stage “a” needs between 1 and 2 approvals, not 3."


def test_a_state_survives_a_json_round_trip():
    state = ap.start(LOAN, T0, delegations={LEGAL: 7})
    state = ap.decide(state, actor=RISK, verdict=ap.APPROVE, comment="ok", at=minutes(1))
    state = ap.decide(
        state, actor=7, verdict=ap.REJECT, reason="需补充抵押物证明", missing_items=["抵押物证明"], at=minutes(2)
    )
    state = ap.resubmit(state, at=minutes(3), provided_items=["抵押物证明"])
    data = json.loads(json.dumps(ap.state_to_data(state)))
    assert ap.state_from_data(data) == state
    assert ap.flow_from_data(json.loads(json.dumps(ap.flow_to_data(LOAN)))) == LOAN
