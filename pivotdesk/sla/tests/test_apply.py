"""sla_apply through the real ticket services: policy matching, clocks from the timeline, pauses, next reply,
reopen, priority re-match with old and new on the timeline, merge.

Time is controlled with the `clock` fixture (Monday 2026-03-02 09:00 Shanghai; hours 09–12, 13–18)."""

from __future__ import annotations

import datetime as dt

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.sla.models import ClockState, SLAOutcome, TicketSLA
from pivotdesk.sla.services import match_policy, sla_apply
from pivotdesk.sla.tests.conftest import SH
from pivotdesk.sla.tests.factories import CalendarFactory, PolicyFactory, add_targets
from pivotdesk.tickets.models import Ticket, TicketEvent
from pivotdesk.tickets.services import (
    category_create,
    message_create,
    ticket_merge,
    ticket_set_status,
    ticket_update,
)
from pivotdesk.tickets.tests.factories import make_ticket


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture
def calendar(workspace):
    return CalendarFactory(workspace=workspace, is_default=True)


@pytest.fixture
def standard(workspace, calendar):
    policy = PolicyFactory(workspace=workspace, name="Standard", position=10)
    for priority in ("low", "normal", "high", "urgent"):
        add_targets(policy, priority, first_reply=120, next_reply=240, resolution=960)
    return policy


def clocks(ticket: Ticket) -> dict[str, TicketSLA]:
    return {c.metric: c for c in TicketSLA.objects.filter(ticket=ticket)}


# --- policy matching -------------------------------------------------------------------------------------------


@pytest.fixture
def vip_factory(workspace, standard):
    def make(conditions):
        policy = PolicyFactory(workspace=workspace, name="VIP", position=0, conditions=conditions)
        add_targets(policy, "normal", first_reply=30)
        return policy

    return make


def test_policy_matches_by_priority(clock, workspace, vip_factory, standard):
    vip = vip_factory({"priorities": ["urgent"]})
    assert match_policy(make_ticket(workspace=workspace, priority="urgent")) == vip
    assert match_policy(make_ticket(workspace=workspace, priority="normal")) == standard


def test_policy_matches_by_tier_with_contact_override(clock, workspace, vip_factory, standard):
    vip = vip_factory({"tiers": ["vip"]})
    vip_org = OrganizationFactory(workspace=workspace, tier="vip")
    plain_org = OrganizationFactory(workspace=workspace, tier="standard")
    from_vip_org = ContactFactory(workspace=workspace, organization=vip_org)
    vip_person = ContactFactory(workspace=workspace, organization=plain_org, tier="vip")
    demoted = ContactFactory(workspace=workspace, organization=vip_org, tier="standard")
    assert match_policy(make_ticket(workspace=workspace, requester=from_vip_org)) == vip
    assert match_policy(make_ticket(workspace=workspace, requester=vip_person)) == vip
    assert match_policy(make_ticket(workspace=workspace, requester=demoted)) == standard


def test_policy_matches_by_organization(clock, workspace, vip_factory, standard):
    org = OrganizationFactory(workspace=workspace)
    vip = vip_factory({"organization_ids": [org.pk]})
    inside = ContactFactory(workspace=workspace, organization=org)
    assert match_policy(make_ticket(workspace=workspace, requester=inside)) == vip
    assert match_policy(make_ticket(workspace=workspace)) == standard


def test_policy_matches_by_channel(clock, workspace, vip_factory, standard):
    vip = vip_factory({"channels": ["email"]})
    assert match_policy(make_ticket(workspace=workspace, channel="email")) == vip
    assert match_policy(make_ticket(workspace=workspace, channel="web_form")) == standard


def test_policy_matches_by_category_and_its_subcategories(clock, workspace, vip_factory, standard):
    billing = category_create(actor=Actor.system(), workspace=workspace, name="Billing")
    refunds = category_create(actor=Actor.system(), workspace=workspace, name="Refunds", parent=billing)
    other = category_create(actor=Actor.system(), workspace=workspace, name="Shipping")
    vip = vip_factory({"category_ids": [billing.pk]})
    assert match_policy(make_ticket(workspace=workspace, category=billing)) == vip
    assert match_policy(make_ticket(workspace=workspace, category=refunds)) == vip
    assert match_policy(make_ticket(workspace=workspace, category=other)) == standard


def test_policy_matches_by_type(clock, workspace, vip_factory, standard):
    vip = vip_factory({"ticket_types": ["complaint"]})
    assert match_policy(make_ticket(workspace=workspace, ticket_type="complaint")) == vip
    assert match_policy(make_ticket(workspace=workspace, ticket_type="question")) == standard


@pytest.mark.parametrize(
    ("conditions", "tags", "expected"),
    [
        ({"tags_any": ["手术器械", "urgent-repair"]}, ["手术器械"], "VIP"),
        ({"tags_any": ["手术器械", "urgent-repair"]}, ["billing"], "Standard"),
        ({"tags_all": ["device", "hospital"]}, ["device", "hospital", "x"], "VIP"),
        ({"tags_all": ["device", "hospital"]}, ["device"], "Standard"),
        ({"tags_none": ["spam"]}, ["device"], "VIP"),
        ({"tags_none": ["spam"]}, ["spam"], "Standard"),
    ],
)
def test_policy_matches_by_tags(clock, workspace, vip_factory, conditions, tags, expected):  # noqa: PLR0917
    vip_factory(conditions)
    assert match_policy(make_ticket(workspace=workspace, tags=tags)).name == expected


def test_first_active_policy_by_position_wins_and_inactive_ones_are_skipped(clock, workspace, standard):
    first = PolicyFactory(workspace=workspace, name="First", position=0, conditions={"priorities": ["high"]})
    PolicyFactory(workspace=workspace, name="Second", position=1, conditions={"priorities": ["high"]})
    ticket = make_ticket(workspace=workspace, priority="high")
    assert match_policy(ticket) == first
    first.active = False
    first.save()
    assert match_policy(ticket).name == "Second"


def test_no_policy_no_clocks(clock, workspace):
    ticket = make_ticket(workspace=workspace)
    result = sla_apply(actor=Actor.system(), ticket=ticket)
    ticket.refresh_from_db()
    assert result.policy is None
    assert (ticket.sla_due_at, ticket.sla_state, ticket.sla_next_check_at) == (None, "", None)


# --- clocks -------------------------------------------------------------------------------------------------------


def test_new_ticket_gets_business_hour_deadlines_and_next_check(clock, workspace, standard):
    clock.set(at(2, 11, 0))  # Monday 11:00; lunch 12–13
    ticket = make_ticket(workspace=workspace)
    result = sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 11, 0))
    rows = clocks(ticket)
    assert rows["first_reply"].due_at == at(2, 14, 0)  # 1 h before lunch, 1 h after
    assert rows["first_reply"].state == ClockState.RUNNING
    assert rows["next_reply"].state == ClockState.IDLE
    ticket.refresh_from_db()
    assert ticket.sla_due_at == at(2, 14, 0)
    assert ticket.sla_state == "ok"
    # 75 % of 120 business minutes = 90 minutes: 11:00 + 60 (to lunch) + 30 → 13:30
    assert ticket.sla_next_check_at == at(2, 13, 30)
    assert result.due == []


def test_agent_reply_fulfils_first_reply_and_customer_message_starts_next_reply(clock, workspace, standard, agent):
    ticket = make_ticket(workspace=workspace)
    clock.set(at(2, 9, 30))
    message_create(ticket=ticket, actor=Actor.for_agent(agent), body="We are on it.")
    clock.set(at(2, 10, 0))
    message_create(ticket=ticket, actor=Actor.for_contact(ticket.requester_id), body="Any news?", as_customer=True)
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 10, 5))
    rows = clocks(ticket)
    assert rows["first_reply"].state == ClockState.FULFILLED
    assert rows["first_reply"].fulfilled_at == at(2, 9, 30)
    assert rows["next_reply"].state == ClockState.RUNNING
    assert rows["next_reply"].started_at == at(2, 10, 0)
    # 240 business minutes from 10:00: 2 h to lunch, 2 h after → 15:00
    assert rows["next_reply"].due_at == at(2, 15, 0)
    assert SLAOutcome.objects.get(ticket=ticket, metric="first_reply").achieved is True


def test_pending_pauses_and_open_resumes_without_reset(clock, workspace, standard, agent):
    actor = Actor.for_agent(agent)
    ticket = make_ticket(workspace=workspace)  # 09:00, resolution 960 business minutes
    clock.set(at(2, 10, 0))
    ticket_set_status(ticket=ticket, status="pending", actor=actor)
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 15, 0))
    row = clocks(ticket)["resolution"]
    ticket.refresh_from_db()
    assert row.state == ClockState.PAUSED
    assert row.elapsed_seconds == 3600  # one hour ran before the pause
    assert ticket.sla_state == "paused"
    assert ticket.sla_next_check_at is None or ticket.sla_next_check_at > at(2, 15, 0)
    clock.set(at(3, 9, 0))  # Tuesday 09:00: resumes
    ticket_set_status(ticket=ticket, status="open", actor=actor)
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(3, 9, 0))
    row = clocks(ticket)["resolution"]
    assert row.state == ClockState.RUNNING
    assert row.elapsed_seconds == 3600
    # 900 business minutes left from Tuesday 09:00: 480 on Tuesday, 420 on Wednesday → Wed 17:00
    assert row.due_at == at(4, 17, 0)


def test_on_hold_pauses_only_when_the_policy_says_so(clock, workspace, standard, agent):
    standard.paused_statuses = ["pending"]
    standard.save()
    ticket = make_ticket(workspace=workspace)
    clock.set(at(2, 10, 0))
    ticket_set_status(ticket=ticket, status="on_hold", actor=Actor.for_agent(agent))
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 11, 0))
    assert clocks(ticket)["resolution"].state == ClockState.RUNNING
    assert clocks(ticket)["resolution"].elapsed_seconds == 2 * 3600


def test_reopen_resumes_resolution(clock, workspace, standard, agent):
    actor = Actor.for_agent(agent)
    ticket = make_ticket(workspace=workspace)
    clock.set(at(2, 10, 0))
    message_create(ticket=ticket, actor=actor, body="Fixed, please check.")
    ticket_set_status(ticket=ticket, status="solved", actor=actor)
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 10, 0))
    assert clocks(ticket)["resolution"].state == ClockState.FULFILLED
    assert SLAOutcome.objects.get(ticket=ticket, metric="resolution").achieved is True
    clock.set(at(2, 16, 0))  # the customer writes back: the ticket reopens
    message_create(ticket=ticket, actor=Actor.for_contact(ticket.requester_id), body="Still broken", as_customer=True)
    ticket.refresh_from_db()
    assert ticket.status == "open"
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 17, 0))
    row = clocks(ticket)["resolution"]
    assert row.state == ClockState.RUNNING
    assert row.elapsed_seconds == 2 * 3600  # 1 h before solving + 1 h since reopening
    assert not SLAOutcome.objects.filter(ticket=ticket, metric="resolution").exists()


def test_breached_clock_sets_state_and_due_in_the_past(clock, workspace, standard):
    ticket = make_ticket(workspace=workspace)
    result = sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 14, 30))  # first reply was due 11:00
    ticket.refresh_from_db()
    assert ticket.sla_state == "breached"
    assert clocks(ticket)["first_reply"].breached_at == at(2, 11, 0)
    assert ticket.sla_next_check_at == at(2, 14, 30)  # something is due: the scanner must look now
    kinds = {(d.metric, d.kind) for d in result.due}
    assert ("first_reply", "breach") in kinds
    assert ("first_reply", "warning") not in kinds  # a breach supersedes its unfired warnings


def test_priority_change_rematches_policy_and_records_old_and_new(clock, workspace, standard, agent):
    urgent = PolicyFactory(workspace=workspace, name="VIP", position=0, conditions={"priorities": ["urgent"]})
    add_targets(urgent, "urgent", first_reply=30, resolution=240)
    ticket = make_ticket(workspace=workspace, priority="urgent")
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 0))
    assert clocks(ticket)["resolution"].due_at == at(2, 14, 0)
    clock.set(at(2, 9, 10))
    ticket_update(ticket=ticket, actor=Actor.for_agent(agent), changes={"priority": "normal"})
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 10))
    rows = clocks(ticket)
    assert rows["resolution"].policy == standard
    assert rows["resolution"].target_minutes == 960
    events = TicketEvent.objects.filter(ticket=ticket, verb__startswith="sla_")
    applied, policy_event = events.filter(verb="sla_policy_changed").order_by("pk")
    assert applied.old_value is None  # the first policy: one entry with its targets
    assert applied.new_value["name"] == "VIP"
    assert policy_event.old_value["name"] == "VIP"
    assert policy_event.new_value["name"] == "Standard"
    assert policy_event.data["text"] == "SLA policy VIP → Standard"
    resolution = events.get(verb="sla_target_changed", field="resolution")
    assert resolution.old_value["minutes"] == 240
    assert resolution.new_value["minutes"] == 960
    assert resolution.data["text"] == "resolution due 14:00 → 03-03 18:00"
    # a new metric (next reply) appears with its target
    assert events.filter(verb="sla_target_changed", field="next_reply").exists()


def test_rerunning_apply_writes_no_new_timeline_events(clock, workspace, standard, agent):
    ticket = make_ticket(workspace=workspace)
    clock.set(at(2, 10, 0))
    ticket_set_status(ticket=ticket, status="pending", actor=Actor.for_agent(agent))
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 10, 0))
    before = TicketEvent.objects.filter(ticket=ticket).count()
    ticket_set_status(ticket=ticket, status="open", actor=Actor.for_agent(agent))
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 11, 0))
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 11, 0))
    verbs = list(TicketEvent.objects.filter(ticket=ticket).values_list("verb", flat=True)[before:])
    assert verbs == ["status_changed"]  # a due time moved by a pause is not a change of promise


def test_merge_keeps_the_survivors_clocks_and_clears_the_merged_ticket(
    clock, workspace, standard, agent, django_capture_on_commit_callbacks
):
    survivor = make_ticket(workspace=workspace)
    clock.set(at(2, 10, 0))
    source = make_ticket(workspace=workspace)
    sla_apply(actor=Actor.system(), ticket=survivor, now=at(2, 10, 0))
    sla_apply(actor=Actor.system(), ticket=source, now=at(2, 10, 0))
    survivor_due = clocks(survivor)["first_reply"].due_at
    with django_capture_on_commit_callbacks(execute=True):
        ticket_merge(source=source, target=survivor, actor=Actor.for_agent(agent))
    source.refresh_from_db()
    assert TicketSLA.objects.filter(ticket=source).count() == 0
    assert (source.sla_due_at, source.sla_state, source.sla_next_check_at) == (None, "", None)
    assert clocks(survivor)["first_reply"].due_at == survivor_due


def test_events_recompute_clocks_through_the_subscriber(
    clock, workspace, standard, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(workspace=workspace)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == at(2, 11, 0)
    clock.set(at(2, 9, 30))
    with django_capture_on_commit_callbacks(execute=True):
        message_create(ticket=ticket, actor=Actor.for_agent(agent), body="Looking into it")
    assert clocks(ticket)["first_reply"].state == ClockState.FULFILLED
    ticket.refresh_from_db()
    assert ticket.sla_due_at == at(3, 18, 0)  # resolution: 960 min = two 8-hour working days


def test_subscriber_check_skips_events_that_cannot_move_clocks(workspace, other_workspace, standard):
    from pivotdesk.sla.selectors import event_needs_sla

    def event(name, ws=workspace, **payload):
        return {"name": name, "workspace_id": ws.pk, "payload": payload}

    assert event_needs_sla(event("ticket.created", ticket_id=1))
    assert event_needs_sla(event("ticket.updated", ticket_id=1, fields=["priority"]))
    assert not event_needs_sla(event("ticket.updated", ticket_id=1, fields=["subject", "assignee"]))
    assert not event_needs_sla(event("message.created", ticket_id=1, kind="note"))
    assert event_needs_sla(event("message.created", ticket_id=1, kind="public"))
    assert not event_needs_sla(event("ticket.created", ws=other_workspace, ticket_id=1))  # no policy there


def test_periodic_update_and_calendar_hour_targets(clock, workspace, calendar, agent):
    policy = PolicyFactory(workspace=workspace, name="Hospital")
    add_targets(
        policy,
        "normal",
        periodic_update={"minutes": 60},
        resolution={"minutes": 24 * 60, "business_hours": False, "warn_minutes_before": [120]},
    )
    clock.set(at(2, 17, 30))
    ticket = make_ticket(workspace=workspace)
    clock.set(at(2, 17, 45))
    message_create(ticket=ticket, actor=Actor.for_agent(agent), body="Engineer booked for tomorrow")
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 17, 50))
    rows = clocks(ticket)
    # periodic update: 60 business minutes from 17:45 → 15 today, 45 tomorrow from 09:00
    assert rows["periodic_update"].due_at == at(3, 9, 45)
    # resolution in calendar hours: 24 h round the clock
    assert rows["resolution"].due_at == at(3, 17, 30)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == at(3, 9, 45)


def test_minutes_before_warning_fires_with_its_label(clock, workspace, calendar, agent):
    from pivotdesk.sla.services import sla_scan_due

    policy = PolicyFactory(workspace=workspace, name="Short")
    add_targets(policy, "normal", first_reply={"minutes": 60, "warn_at_percent": [], "warn_minutes_before": [15]})
    ticket = make_ticket(workspace=workspace, assignee=agent)
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 0))
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at == at(2, 9, 45)
    clock.set(at(2, 9, 45))
    assert sla_scan_due(actor=Actor.system(), now=at(2, 9, 45)).fired == 1
    event = TicketEvent.objects.get(ticket=ticket, verb="sla_warning")
    assert (
        event.data["text"] == f"SLA warning (15 min before): first reply due 10:00 — notified {agent.name} (assignee)"
    )


def test_when_no_policy_matches_any_more_the_clocks_go_and_the_timeline_says_why(clock, workspace, standard):
    ticket = make_ticket(workspace=workspace)
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 0))
    standard.active = False
    standard.save()
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 5))
    ticket.refresh_from_db()
    assert not TicketSLA.objects.filter(ticket=ticket).exists()
    assert (ticket.sla_due_at, ticket.sla_state, ticket.sla_next_check_at) == (None, "", None)
    applied, event = TicketEvent.objects.filter(ticket=ticket, verb="sla_policy_changed").order_by("pk")
    assert applied.data["text"].startswith("SLA policy → Standard: ")
    assert event.data["text"] == "SLA policy Standard → none (no policy matches)"
