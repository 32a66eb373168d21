"""Configuring service levels through the services: validation gives readable 4xx errors, admins only, and a change
asks the scanner to recheck open tickets."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import TeamFactory
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.sla.models import BusinessCalendar, SLATarget
from pivotdesk.sla.services import (
    calendar_create,
    calendar_update,
    escalation_level_set,
    policy_create,
    policy_reorder,
    policy_update,
    team_calendar_set,
)
from pivotdesk.sla.services.matching import calendar_row_for
from pivotdesk.sla.tests.factories import PolicyFactory
from pivotdesk.tickets.tests.factories import make_ticket


@pytest.fixture
def admin(admin_agent):
    return Actor.for_agent(admin_agent)


def test_calendar_validation_messages(workspace, admin):
    cases = [
        ({"weekly_hours": {"0": [["18:00", "09:00"]]}}, "weekly_hours.0[0]"),
        ({"weekly_hours": {"8": []}}, "weekly_hours.8"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"closed_dates": ["2026-13-01"]}, "closed_dates[0]"),
        ({"working_dates": {"2026-02-14": [["09:00"]]}}, "working_dates.2026-02-14[0]"),
        ({"country": "XX"}, "country"),
    ]
    for fields, key in cases:
        with pytest.raises(ValidationFailed) as exc:
            calendar_create(workspace=workspace, actor=admin, name="Bad", **fields)
        assert key in exc.value.details, (fields, exc.value.details)
    with pytest.raises(ValidationFailed):
        calendar_create(workspace=workspace, actor=admin, name="Bad", colour="red")


def test_one_default_calendar_per_workspace(workspace, admin):
    a = calendar_create(workspace=workspace, actor=admin, name="Beijing", is_default=True)
    b = calendar_create(workspace=workspace, actor=admin, name="Shanghai", is_default=True)
    a.refresh_from_db()
    assert (a.is_default, b.is_default) == (False, True)
    with pytest.raises(Conflict):
        calendar_create(workspace=workspace, actor=admin, name="Beijing")


def test_agents_cannot_configure(workspace, actor):
    with pytest.raises(PermissionDenied):
        calendar_create(workspace=workspace, actor=actor, name="Mine")
    with pytest.raises(PermissionDenied):
        policy_create(workspace=workspace, actor=actor, name="Mine")


def test_calendar_precedence_policy_then_team_then_default(workspace, admin):
    default = calendar_create(workspace=workspace, actor=admin, name="Default", is_default=True)
    team_cal = calendar_create(workspace=workspace, actor=admin, name="Team", country="")
    policy_cal = calendar_create(workspace=workspace, actor=admin, name="Policy")
    team = TeamFactory(workspace=workspace)
    team_calendar_set(team=team, calendar=team_cal, actor=admin)
    policy = policy_create(workspace=workspace, actor=admin, name="P")
    ticket = make_ticket(workspace=workspace, team=team)
    plain = make_ticket(workspace=workspace)
    assert calendar_row_for(ticket=plain, policy=policy) == default
    assert calendar_row_for(ticket=ticket, policy=policy) == team_cal
    policy = policy_update(policy=policy, actor=admin, changes={"calendar": policy_cal.pk})
    assert calendar_row_for(ticket=ticket, policy=policy) == policy_cal
    team_calendar_set(team=team, calendar=None, actor=admin)
    assert (
        calendar_row_for(ticket=ticket, policy=policy_update(policy=policy, actor=admin, changes={"calendar": None}))
        == default
    )


def test_policy_with_targets_and_conditions(workspace, admin):
    policy = policy_create(
        workspace=workspace,
        actor=admin,
        name="VIP 投诉",
        conditions={"tiers": ["vip"], "ticket_types": ["complaint"]},
        targets=[
            {"priority": "urgent", "metric": "resolution", "minutes": 30, "warn_minutes_before": [10]},
            {"priority": "urgent", "metric": "first_reply", "minutes": 10, "business_hours": False},
        ],
    )
    assert policy.conditions == {"tiers": ["vip"], "ticket_types": ["complaint"]}
    assert SLATarget.objects.filter(policy=policy).count() == 2
    assert not SLATarget.objects.get(policy=policy, metric="first_reply").business_hours


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"conditions": {"priorities": ["asap"]}}, "unknown value(s) asap"),
        ({"conditions": {"organization_ids": [999999]}}, "unknown organization(s) 999999"),
        ({"conditions": {"shoe_size": [42]}}, "unknown condition"),
        ({"targets": [{"priority": "urgent", "metric": "lunch", "minutes": 5}]}, "metric must be one of"),
        ({"targets": [{"priority": "urgent", "metric": "resolution", "minutes": 0}]}, "minutes must be"),
        (
            {"targets": [{"priority": "urgent", "metric": "resolution", "minutes": 30, "warn_minutes_before": [30]}]},
            "warn_minutes_before",
        ),
        ({"targets": [{"priority": "urgent", "metric": "resolution", "minutes": 30}] * 2}, "given twice"),
        ({"paused_statuses": ["solved"]}, "Solved and closed"),
        ({"calendar": 999999}, "Unknown calendar"),
    ],
)
def test_policy_validation_is_readable(workspace, admin, fields, needle):
    with pytest.raises(ValidationFailed) as exc:
        policy_create(workspace=workspace, actor=admin, name="Bad", **fields)
    assert needle in exc.value.message


def test_reorder_and_recheck(clock, workspace, admin):
    a = PolicyFactory(workspace=workspace, name="A", position=0)
    b = PolicyFactory(workspace=workspace, name="B", position=1)
    c = PolicyFactory(workspace=workspace, name="C", position=2)
    ticket = make_ticket(workspace=workspace)
    assert [p.name for p in policy_reorder(workspace=workspace, actor=admin, policy_ids=[c.pk, a.pk])] == [
        "C",
        "A",
        "B",
    ]
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at == clock()  # the scanner will recompute it
    with pytest.raises(ValidationFailed):
        policy_reorder(workspace=workspace, actor=admin, policy_ids=[b.pk, 999999])


def test_escalation_level_validation(workspace, admin, other_workspace):
    from pivotdesk.accounts.tests.factories import AgentFactory

    policy = PolicyFactory(workspace=workspace)
    stranger = AgentFactory(workspace=other_workspace)
    bad = [
        [{"type": "teleport"}],
        [{"type": "notify", "to": "everyone"}],
        [{"type": "notify", "to": "agents", "agents": [stranger.pk]}],
        [{"type": "reassign"}],
        [{"type": "raise_priority", "to": "critical"}],
        [{"type": "add_tag", "tag": ""}],
        [],
    ]
    for actions in bad:
        with pytest.raises(ValidationFailed):
            escalation_level_set(policy=policy, actor=admin, level=1, actions=actions)
    with pytest.raises(ValidationFailed):
        escalation_level_set(policy=policy, actor=admin, level=0, actions=[{"type": "add_tag", "tag": "x"}])
    level = escalation_level_set(
        policy=policy, actor=admin, level=2, minutes_after_breach=30, actions=[{"type": "add_tag", "tag": " Late "}]
    )
    assert level.actions == [{"type": "add_tag", "tag": "late"}]


def test_calendar_update_rechecks(clock, workspace, admin):
    cal = calendar_create(workspace=workspace, actor=admin, name="Default", is_default=True)
    ticket = make_ticket(workspace=workspace)
    calendar_update(calendar=cal, actor=admin, changes={"closed_dates": ["2026-03-03"]})
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at == clock()
    assert BusinessCalendar.objects.get(pk=cal.pk).closed_dates == ["2026-03-03"]


def test_labels_are_translated_to_chinese():
    from django.utils import translation

    from pivotdesk.sla.models import ClockState, FiringKind, Metric

    with translation.override("zh-hans"):
        assert str(Metric.FIRST_REPLY.label) == "首次响应"
        assert str(ClockState.FULFILLED.label) == "已达成"
        assert str(FiringKind.ESCALATION.label) == "升级"
