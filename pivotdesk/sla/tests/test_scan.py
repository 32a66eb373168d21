"""The due-scan: warnings, breaches and the escalation ladder fire once, in order, with notifications and
timeline entries; failures are recorded; two concurrent scanners fire each key once (PostgreSQL).

Calendar: Mon–Fri 09–12, 13–18 Shanghai. Ticket created Monday 2026-03-02 09:00; first reply 120 business
minutes (warnings at 75 % = 10:30 and 90 % = 10:48; due 11:00)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.notifications.models import Notification
from pivotdesk.sla.models import SLAFiring
from pivotdesk.sla.services import sla_apply, sla_scan_due
from pivotdesk.sla.tests.conftest import SH
from pivotdesk.sla.tests.factories import CalendarFactory, PolicyFactory, add_level, add_targets
from pivotdesk.tickets.models import Ticket, TicketEvent
from pivotdesk.tickets.services import message_create, ticket_set_status
from pivotdesk.tickets.tests.factories import make_ticket


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture
def people(workspace):
    lead = AgentFactory(workspace=workspace, role=Role.AGENT, user__display_name="李伟")
    assignee = AgentFactory(workspace=workspace, role=Role.AGENT, user__display_name="王芳")
    senior = AgentFactory(workspace=workspace, role=Role.AGENT, user__display_name="张敏")
    boss = AgentFactory(workspace=workspace, role=Role.SUPERVISOR, user__display_name="陈主管")
    team = TeamFactory(workspace=workspace, name="一线支持", lead=lead)
    team.members.add(lead, assignee, senior)
    return {"lead": lead, "assignee": assignee, "senior": senior, "boss": boss, "team": team}


@pytest.fixture
def policy(workspace, people):
    CalendarFactory(workspace=workspace, is_default=True)
    policy = PolicyFactory(workspace=workspace, name="Standard")
    for priority in ("low", "normal", "high", "urgent"):
        add_targets(policy, priority, first_reply=120, resolution=960)
    add_level(policy, 1, [{"type": "notify", "to": "team_lead"}, {"type": "raise_priority"}])
    add_level(
        policy,
        2,
        [
            {"type": "notify", "to": "supervisors"},
            {"type": "reassign", "agent": people["senior"].pk},
            {"type": "add_follower", "agent": people["lead"].pk},
            {"type": "add_tag", "tag": "sla-escalated"},
        ],
        minutes=30,
    )
    return policy


@pytest.fixture
def assigned_ticket(clock, workspace, people, policy):
    ticket = make_ticket(workspace=workspace, assignee=people["assignee"], team=people["team"])
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 0))
    return ticket


def keys(ticket: Ticket) -> list[tuple[str, str, str]]:
    return list(SLAFiring.objects.filter(ticket=ticket).order_by("pk").values_list("metric", "kind", "label"))


def notes(agent) -> list[str]:
    return list(Notification.objects.filter(recipient=agent).order_by("pk").values_list("kind", flat=True))


def scan(clock, when: dt.datetime):
    clock.set(when)
    return sla_scan_due(actor=Actor.system(), now=when)


def test_warning_breach_and_ladder_fire_once_each_in_order(clock, assigned_ticket, people):
    ticket = assigned_ticket
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at == at(2, 10, 30)
    assert scan(clock, at(2, 10, 29)).fired == 0

    assert scan(clock, at(2, 10, 30)).fired == 1
    assert keys(ticket) == [("first_reply", "warning", "75%")]
    assert notes(people["assignee"]) == ["sla.warning"]
    ticket.refresh_from_db()
    assert ticket.sla_state == "warning"
    assert ticket.sla_next_check_at == at(2, 10, 48)
    assert scan(clock, at(2, 10, 30)).fired == 0  # the same scan again: nothing new
    assert scan(clock, at(2, 10, 40)).fired == 0

    assert scan(clock, at(2, 10, 48)).fired == 1
    assert scan(clock, at(2, 11, 0)).fired == 2  # breach + level 1 (0 minutes after the breach)
    assert keys(ticket)[2:] == [("first_reply", "breach", "breach"), ("first_reply", "escalation", "1")]
    assert notes(people["assignee"]) == ["sla.warning", "sla.warning", "sla.breach"]
    assert notes(people["lead"]) == ["sla.escalation"]
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert ticket.sla_state == "breached"
    assert ticket.sla_next_check_at == at(2, 11, 30)  # level 2

    assert scan(clock, at(2, 11, 29)).fired == 0
    assert scan(clock, at(2, 11, 30)).fired == 1
    ticket.refresh_from_db()
    assert notes(people["boss"]) == ["sla.escalation"]
    assert ticket.assignee == people["senior"]
    assert set(ticket.tags.values_list("name", flat=True)) == {"sla-escalated"}
    assert people["lead"] in ticket.followers.all()
    # Nothing more for first reply; the next check is resolution's 75 % warning (720 of 960 min → Tue 14:00).
    assert ticket.sla_next_check_at == at(3, 14, 0)
    assert scan(clock, at(2, 17, 0)).fired == 0
    assert SLAFiring.objects.filter(ticket=ticket).count() == 5


def test_firings_are_on_the_timeline_with_what_was_done(clock, assigned_ticket, people):
    ticket = assigned_ticket
    scan(clock, at(2, 11, 0))
    events = {e.verb: e for e in TicketEvent.objects.filter(ticket=ticket, verb__startswith="sla_")}
    assert events["sla_breached"].actor_label == "SLA"
    assert events["sla_breached"].data["text"] == "SLA breached: first reply (due 11:00) — notified 王芳 (assignee)"
    assert events["sla_escalated"].data["text"] == (
        "SLA escalated to level 1: first reply (due 11:00) — notified 李伟 (team lead), priority normal → high"
    )
    # the priority change itself is an ordinary field change by the SLA actor
    change = TicketEvent.objects.get(ticket=ticket, verb="field_changed", field="priority")
    assert (change.old_value, change.new_value, change.actor_label) == ("normal", "high", "SLA")
    assert "75%" not in str(keys(ticket))  # the scan came late: the breach superseded the warnings


def test_a_reply_before_the_due_time_prevents_the_breach(clock, assigned_ticket, people):
    clock.set(at(2, 10, 50))
    message_create(ticket=assigned_ticket, actor=Actor.for_agent(people["assignee"]), body="On it")
    sla_apply(actor=Actor.system(), ticket=assigned_ticket, now=at(2, 10, 50))
    scan(clock, at(2, 12, 0))
    assert [k for k in keys(assigned_ticket) if k[1] != "warning"] == []


def test_a_paused_ticket_does_not_breach_while_pending(clock, assigned_ticket, people):
    clock.set(at(2, 9, 30))
    ticket_set_status(ticket=assigned_ticket, status="pending", actor=Actor.for_agent(people["assignee"]))
    sla_apply(actor=Actor.system(), ticket=assigned_ticket, now=at(2, 9, 30))
    assert scan(clock, at(2, 17, 0)).fired == 0
    assigned_ticket.refresh_from_db()
    assert assigned_ticket.sla_state == "paused"


def test_nobody_to_notify_is_recorded_on_the_firing(clock, workspace, policy):
    ticket = make_ticket(workspace=workspace)  # no assignee, no team
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 0))
    scan(clock, at(2, 11, 0))
    breach = SLAFiring.objects.get(ticket=ticket, kind="breach")
    assert breach.data["errors"] == ["nobody to notify: the ticket has no assignee and its team no lead"]


def test_unassigned_ticket_warns_the_team_lead(clock, workspace, people, policy):
    ticket = make_ticket(workspace=workspace, team=people["team"])
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 0))
    scan(clock, at(2, 10, 30))
    assert notes(people["lead"]) == ["sla.warning"]


def test_a_refused_action_is_recorded_and_the_others_still_run(clock, workspace, people, policy):
    light = AgentFactory(workspace=workspace, role=Role.LIGHT_AGENT)
    policy.escalations.filter(level=1).update(
        actions=[{"type": "reassign", "agent": light.pk}, {"type": "add_tag", "tag": "late"}]
    )
    ticket = make_ticket(workspace=workspace, assignee=people["assignee"])
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 0))
    scan(clock, at(2, 11, 0))
    level1 = SLAFiring.objects.get(ticket=ticket, kind="escalation", label="1")
    assert level1.data["errors"] == [f"{light.name} cannot be assigned tickets."]  # the one assignment rule
    assert level1.data["done"] == ["tagged late"]
    assert level1.data["steps"] == [{"do": "tagged", "tag": "late"}]
    ticket.refresh_from_db()
    assert ticket.assignee == people["assignee"]


def test_a_failing_ticket_does_not_stop_the_scan(clock, workspace, policy, monkeypatch):
    broken = make_ticket(workspace=workspace)
    fine = make_ticket(workspace=workspace)
    for t in (broken, fine):
        sla_apply(actor=Actor.system(), ticket=t, now=at(2, 9, 0))
    from pivotdesk.sla.services import scan as scan_module

    real = scan_module.apply_in_transaction

    def flaky(*, ticket, now=None, **kwargs):
        if ticket.pk == broken.pk:
            raise RuntimeError("boom")
        return real(ticket=ticket, now=now, **kwargs)

    monkeypatch.setattr(scan_module, "apply_in_transaction", flaky)
    report = scan(clock, at(2, 11, 0))
    assert report.failed == 1
    assert keys(fine) and not keys(broken)
    broken.refresh_from_db()
    assert broken.sla_next_check_at == at(2, 11, 5)  # retried later, not in a loop


def test_scan_pages_through_batches(clock, workspace, policy):
    tickets = [make_ticket(workspace=workspace) for _ in range(5)]
    for t in tickets:
        sla_apply(actor=Actor.system(), ticket=t, now=at(2, 9, 0))
    report = sla_scan_due(actor=Actor.system(), now=at(2, 10, 30), batch_size=2)
    assert report.checked == 5
    assert SLAFiring.objects.filter(kind="warning").count() == 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: row locks and racing inserts")
def test_two_concurrent_scanners_fire_each_key_once(clock, workspace, people, policy):
    tickets = [make_ticket(workspace=workspace, assignee=people["assignee"], team=people["team"]) for _ in range(12)]
    for t in tickets:
        sla_apply(actor=Actor.system(), ticket=t, now=at(2, 9, 0))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    reports = []

    def scanner() -> None:
        from django.db import connection as conn

        try:
            barrier.wait()
            reports.append(sla_scan_due(actor=Actor.system(), now=at(2, 11, 0), batch_size=4))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=scanner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert sum(r.fired for r in reports) == 24  # breach + level 1 per ticket, whoever fired them
    assert SLAFiring.objects.filter(ticket__in=tickets).count() == 24
    assert Notification.objects.filter(recipient=people["assignee"], kind="sla.breach").count() == 12
    assert Notification.objects.filter(recipient=people["lead"], kind="sla.escalation").count() == 12
    assert TicketEvent.objects.filter(ticket__in=tickets, verb="sla_breached").count() == 12
