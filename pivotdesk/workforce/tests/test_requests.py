"""Swap, pick-up, leave and overtime requests: rules shown before sending, the colleague's answer, approval that
changes the roster at once, rejection that needs a reason, history, and notifications in the reader's language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.common.models import EventRecord
from pivotdesk.notifications.models import Notification
from pivotdesk.workforce.models import Leave, RequestStatus, Shift, ShiftSource
from pivotdesk.workforce.selectors import availability
from pivotdesk.workforce.services import requests as wr
from pivotdesk.workforce.services.checks import describe
from pivotdesk.workforce.services.config import profile_update
from pivotdesk.workforce.tests.helpers import contract, local, roster, shift

pytestmark = pytest.mark.django_db
MONDAY = dt.date(2026, 12, 7)


@pytest.fixture
def plan(workspace, agent, supervisor):
    colleague = AgentFactory(workspace=workspace)
    r = roster(workspace, MONDAY)
    mine = shift(r, agent, local(workspace, MONDAY, 9))
    theirs = shift(r, colleague, local(workspace, MONDAY + dt.timedelta(days=1), 14))
    return {"roster": r, "mine": mine, "theirs": theirs, "colleague": colleague}


def test_swap_flow_changes_the_roster_at_once(workspace, agent, supervisor, plan):
    colleague, mine, theirs = plan["colleague"], plan["mine"], plan["theirs"]
    request = wr.request_swap(actor=Actor.for_agent(agent), shift_id=mine.pk, peer_shift_id=theirs.pk, note="dentist")
    assert request.status == RequestStatus.AWAITING_PEER
    assert Notification.objects.filter(recipient=colleague, kind="workforce.request").exists()
    with pytest.raises(ValidationFailed):  # only the named colleague answers
        wr.request_peer_answer(actor=Actor.for_agent(supervisor), request_id=request.pk, accept=True)
    request = wr.request_peer_answer(actor=Actor.for_agent(colleague), request_id=request.pk, accept=True)
    assert request.status == RequestStatus.PENDING
    assert Notification.objects.filter(recipient=supervisor, kind="workforce.request").exists()
    with pytest.raises(PermissionDenied):  # an agent cannot approve
        wr.request_decide(
            actor=Actor.for_agent(colleague), workspace_id=workspace.pk, request_id=request.pk, approve=True
        )
    request = wr.request_decide(
        actor=Actor.for_agent(supervisor), workspace_id=workspace.pk, request_id=request.pk, approve=True
    )
    assert request.status == RequestStatus.APPROVED and request.decided_by == supervisor
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.agent_id, theirs.agent_id) == (colleague.pk, agent.pk)
    assert mine.source == theirs.source == ShiftSource.SWAP
    assert [step["action"] for step in request.history] == ["created", "accepted", "approved"]
    assert EventRecord.objects.filter(name="workforce.availability_changed").exists()
    # routing's answer changes with it
    assert availability(workspace.pk, local(workspace, MONDAY, 10)).is_on_shift(colleague.pk)


def test_rejection_needs_a_reason_and_is_told_in_the_requesters_language(workspace, agent, supervisor, plan):
    agent.user.preferred_language = "zh-hans"
    agent.user.save()
    request = wr.request_pickup(
        actor=Actor.for_agent(agent), shift_id=shift(plan["roster"], None, local(workspace, MONDAY, 18)).pk
    )
    with pytest.raises(ValidationFailed) as err:
        wr.request_decide(
            actor=Actor.for_agent(supervisor), workspace_id=workspace.pk, request_id=request.pk, approve=False
        )
    assert err.value.code == "reason_required"
    request = wr.request_decide(
        actor=Actor.for_agent(supervisor),
        workspace_id=workspace.pk,
        request_id=request.pk,
        approve=False,
        reason="已满员",
    )
    assert request.status == RequestStatus.REJECTED and request.decision_reason == "已满员"
    note = Notification.objects.filter(recipient=agent, kind="workforce.request").latest("pk")
    with translation.override("zh-hans"):
        assert "已满员" in note.display_body
        zh = note.display_title
    with translation.override("en"):
        assert "rejected" in note.display_title
    assert zh != note.title  # rendered from the facts, not the stored fallback


def test_pickup_of_an_open_shift(workspace, agent, supervisor, plan):
    open_shift = shift(plan["roster"], None, local(workspace, MONDAY + dt.timedelta(days=2), 9))
    request = wr.request_pickup(actor=Actor.for_agent(agent), shift_id=open_shift.pk)
    wr.request_decide(actor=Actor.for_agent(supervisor), workspace_id=workspace.pk, request_id=request.pk, approve=True)
    open_shift.refresh_from_db()
    assert open_shift.agent_id == agent.pk and open_shift.source == ShiftSource.PICKUP


def test_leave_opens_the_shifts_inside_it(workspace, agent, supervisor, plan):
    request = wr.request_leave(
        actor=Actor.for_agent(agent),
        start=local(workspace, MONDAY, 0),
        end=local(workspace, MONDAY + dt.timedelta(days=1), 0),
        leave_type="sick",
    )
    wr.request_decide(actor=Actor.for_agent(supervisor), workspace_id=workspace.pk, request_id=request.pk, approve=True)
    assert Leave.objects.filter(agent=agent, leave_type="sick").exists()
    plan["mine"].refresh_from_db()
    assert plan["mine"].agent_id is None  # an open shift a colleague may pick up
    assert not availability(workspace.pk, local(workspace, MONDAY, 10)).is_on_shift(agent.pk)


def test_overtime_shows_the_broken_rule_before_sending(workspace, agent, supervisor, plan):
    tight = contract(workspace, name="Part time", max_hours_week=10, min_rest_hours=11)
    profile_update(actor=Actor.for_agent(supervisor), agent=agent, contract=tight.pk)
    start = local(workspace, MONDAY, 18)
    found = wr.request_check(
        actor=Actor.for_agent(agent), kind="overtime", start=start, end=start + dt.timedelta(hours=4)
    )
    rules = {v["rule"] for v in found}
    assert ("weekly_hours_max" in rules and "min_rest" not in rules) or "weekly_hours_max" in rules
    with translation.override("en"):
        assert any("maximum" in describe(v, {agent.pk: agent.name}) for v in found)
    request = wr.request_overtime(actor=Actor.for_agent(agent), start=start, end=start + dt.timedelta(hours=4))
    assert request.violations == found  # the approver sees the same rules
    wr.request_decide(actor=Actor.for_agent(supervisor), workspace_id=workspace.pk, request_id=request.pk, approve=True)
    assert Shift.objects.filter(agent=agent, source=ShiftSource.OVERTIME, start=start).exists()


def test_a_swap_that_breaks_rest_is_flagged(workspace, agent, supervisor, plan):
    """Taking a colleague's early shift right after my late one breaks the 11 h rest rule: shown before sending."""
    colleague = plan["colleague"]
    r = plan["roster"]
    shift(r, agent, local(workspace, MONDAY + dt.timedelta(days=3), 16))  # Thu 16:00–24:00
    early = shift(r, colleague, local(workspace, MONDAY + dt.timedelta(days=4), 6))  # Fri 06:00
    mine = shift(r, agent, local(workspace, MONDAY + dt.timedelta(days=5), 9))  # Sat
    found = wr.request_check(actor=Actor.for_agent(agent), kind="swap", shift_id=mine.pk, peer_shift_id=early.pk)
    assert any(v["rule"] == "min_rest" and v["agent_id"] == agent.pk for v in found), found


def test_cancel_and_wrong_state(workspace, agent, supervisor, plan):
    request = wr.request_swap(actor=Actor.for_agent(agent), shift_id=plan["mine"].pk, peer_shift_id=plan["theirs"].pk)
    with pytest.raises(ValidationFailed):  # not yet accepted by the colleague
        wr.request_decide(
            actor=Actor.for_agent(supervisor), workspace_id=workspace.pk, request_id=request.pk, approve=True
        )
    wr.request_cancel(actor=Actor.for_agent(agent), request_id=request.pk)
    with pytest.raises(ValidationFailed):
        wr.request_cancel(actor=Actor.for_agent(agent), request_id=request.pk)


def test_bad_input_is_a_readable_error(workspace, agent, plan, other_workspace):
    with pytest.raises(ValidationFailed):
        wr.request_leave(
            actor=Actor.for_agent(agent), start=local(workspace, MONDAY, 9), end=local(workspace, MONDAY, 8)
        )
    with pytest.raises(ValidationFailed):
        wr.request_leave(
            actor=Actor.for_agent(agent),
            start=local(workspace, MONDAY, 9),
            end=local(workspace, MONDAY, 18),
            leave_type="party",
        )
    with pytest.raises(ValidationFailed):  # someone else's shift is not mine to swap
        wr.request_swap(actor=Actor.for_agent(agent), shift_id=plan["theirs"].pk, peer_shift_id=plan["mine"].pk)
    stranger = AgentFactory(workspace=other_workspace)
    foreign = shift(roster(other_workspace, MONDAY), stranger, local(other_workspace, MONDAY, 9))
    with pytest.raises(Exception) as err:  # another workspace's shift does not exist here
        wr.request_pickup(actor=Actor.for_agent(agent), shift_id=foreign.pk)
    assert getattr(err.value, "status_code", 500) == 404
