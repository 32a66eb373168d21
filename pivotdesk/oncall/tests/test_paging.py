"""Paging: an urgent ticket pages level 1; nobody acknowledges → level 2 at the timeout; an acknowledgement stops
the escalation and assigns the ticket; two scanners page once; links are single use and expire; quiet hours never
hold a page back; every step is on the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.notifications.models import Delivery, Notification, NotificationPreference
from pivotdesk.oncall.models import OnCallSchedule, Page, PageNotice, PageStatus
from pivotdesk.oncall.services import paging, policies, schedules
from pivotdesk.tickets.models import TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ladder(workspace, supervisor):
    boss = Actor.for_agent(supervisor)
    first, second = AgentFactory(workspace=workspace), AgentFactory(workspace=workspace)
    policy = policies.policy_save(
        actor=boss,
        workspace=workspace,
        name="设备停机 Device down",
        conditions={"priorities": ["urgent"], "keywords": ["停机", "down"]},
        repeat=1,
    )
    policies.policy_steps_set(
        actor=boss,
        policy=policy,
        steps=[
            {"level": 0, "timeout_minutes": 10, "agent": first.pk},
            {"level": 1, "timeout_minutes": 5, "agent": second.pk},
        ],
    )
    return {"policy": policy, "first": first, "second": second}


def _urgent(workspace, subject="3号产线设备停机 machine down"):
    return make_ticket(workspace=workspace, subject=subject, body="停机了", priority="urgent")


def _token(page: Page, agent) -> str:
    """The raw link token as it went out (the URL of the agent's notification)."""
    n = Notification.objects.filter(recipient=agent, kind="oncall.page", ticket=page.ticket).latest("pk")
    return n.url.rstrip("/").rsplit("/", 1)[1]


def test_page_no_ack_level_two_then_ack_stops_and_assigns(workspace, ladder):
    ticket = _urgent(workspace)
    start = now()
    page = paging.page_ticket(actor=paging.SYSTEM, ticket=ticket, at=start)
    assert page is not None and page.level == 0
    assert Notification.objects.filter(recipient=ladder["first"], kind="oncall.page").exists()
    assert not Notification.objects.filter(recipient=ladder["second"]).exists()
    # before the timeout nothing moves
    assert paging.escalate_due(actor=paging.SYSTEM, at=start + dt.timedelta(minutes=9)) == 0
    assert paging.escalate_due(actor=paging.SYSTEM, at=start + dt.timedelta(minutes=10, seconds=1)) == 1
    page.refresh_from_db()
    assert page.level == 1 and page.status == PageStatus.TRIGGERED
    assert Notification.objects.filter(recipient=ladder["second"], kind="oncall.page").exists()
    # the second engineer acknowledges from the link: escalation stops, the ticket is theirs
    page = paging.acknowledge_link(token=_token(page, ladder["second"]))
    assert page.status == PageStatus.ACKNOWLEDGED and page.acknowledged_by == ladder["second"]
    ticket.refresh_from_db()
    assert ticket.assignee_id == ladder["second"].pk
    assert paging.escalate_due(actor=paging.SYSTEM, at=start + dt.timedelta(hours=2)) == 0
    verbs = list(TicketEvent.objects.filter(ticket=ticket, verb__startswith="oncall_").values_list("verb", flat=True))
    assert verbs.count("oncall_paged") == 2 and "oncall_acknowledged" in verbs


def test_the_ladder_repeats_then_the_fallback_hears(workspace, supervisor, ladder):
    page = paging.page_ticket(actor=paging.SYSTEM, ticket=_urgent(workspace), at=now())
    assert page is not None
    at = now()
    steps = 0
    while page.status == PageStatus.TRIGGERED and steps < 10:
        at += dt.timedelta(minutes=11)
        paging.escalate_due(actor=paging.SYSTEM, at=at)
        page.refresh_from_db()
        steps += 1
    assert page.status == PageStatus.EXHAUSTED
    assert steps == 4  # level 2, then level 1 and 2 again (repeat=1), then nobody: exhausted
    assert Notification.objects.filter(recipient=supervisor, kind="oncall.page", data__exhausted=True).exists()


def test_two_scanners_page_once(workspace, ladder):
    page = paging.page_ticket(actor=paging.SYSTEM, ticket=_urgent(workspace), at=now())
    assert page is not None
    due = page.next_escalation_at + dt.timedelta(seconds=1)
    stale_a, stale_b = Page.objects.get(pk=page.pk), Page.objects.get(pk=page.pk)
    assert paging.escalate_page(stale_a, due) is True
    assert paging.escalate_page(stale_b, due) is False  # the other scanner read the same row: it pages nobody
    assert Notification.objects.filter(recipient=ladder["second"], kind="oncall.page").count() == 1


def test_links_are_single_use_expire_and_work_without_signing_in(workspace, ladder):
    page = paging.page_ticket(actor=paging.SYSTEM, ticket=_urgent(workspace), at=now())
    assert page is not None
    token = _token(page, ladder["first"])
    anonymous = Client()
    shown = anonymous.get(f"/oncall/a/{token}/")
    assert shown.status_code == 200 and b"#" in shown.content  # GET only shows the button: scanners change nothing
    page.refresh_from_db()
    assert page.status == PageStatus.TRIGGERED
    anonymous.get(f"/oncall/a/{token}/")
    done = anonymous.post(f"/oncall/a/{token}/")
    assert done.status_code == 200
    page.refresh_from_db()
    assert page.status == PageStatus.ACKNOWLEDGED
    again = anonymous.post(f"/oncall/a/{token}/")
    assert again.status_code == 422
    with pytest.raises(ValidationFailed):
        paging.acknowledge_link(token=token)
    assert Client().get("/oncall/a/not-a-token/").status_code == 404
    # an expired link
    other = paging.page_ticket(actor=paging.SYSTEM, ticket=_urgent(workspace, "另一台停机 down again"), at=now())
    assert other is not None
    expired = _token(other, ladder["first"])
    PageNotice.objects.filter(page=other).update(expires_at=now() - dt.timedelta(seconds=1))
    with pytest.raises(ValidationFailed) as err:
        paging.acknowledge_link(token=expired)
    assert err.value.code == "link_expired"


def test_quiet_hours_never_hold_a_page_back(workspace, ladder):
    engineer = ladder["first"]
    NotificationPreference.objects.update_or_create(
        agent=engineer,
        defaults={
            "workspace": workspace,
            "quiet_hours_enabled": True,
            "quiet_start": dt.time(0, 0),
            "quiet_end": dt.time(23, 59),
            "urgent_overrides_quiet": False,
            "channels": {"*": []},
        },
    )
    engineer.user.email = "oncall@example.com"
    engineer.user.save()
    paging.page_ticket(actor=paging.SYSTEM, ticket=_urgent(workspace), at=now())
    delivery = Delivery.objects.get(notification__recipient=engineer, channel="email")
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at <= now() + dt.timedelta(seconds=5)


def test_non_matching_tickets_do_not_page_and_one_open_page_per_ticket(workspace, ladder):
    calm = make_ticket(workspace=workspace, subject="发票抬头 invoice title", priority="normal")
    assert paging.page_ticket(actor=paging.SYSTEM, ticket=calm, at=now()) is None
    ticket = _urgent(workspace)
    assert paging.page_ticket(actor=paging.SYSTEM, ticket=ticket, at=now()) is not None
    assert paging.page_ticket(actor=paging.SYSTEM, ticket=ticket, at=now()) is None


def test_schedule_target_pages_whoever_is_on_call(workspace, supervisor):
    boss = Actor.for_agent(supervisor)
    night = [AgentFactory(workspace=workspace) for _ in range(2)]
    schedule = schedules.schedule_save(actor=boss, workspace=workspace, name="Field night", time_zone="Asia/Shanghai")
    schedules.layer_save(
        actor=boss,
        schedule=schedule,
        participants=[a.pk for a in night],
        start=dt.datetime(2026, 1, 5, 19, 0),
        turn_kind="daily",
        restriction_kind="daily",
        restriction={"windows": [["19:00", "08:00"]]},
    )
    policy = policies.policy_save(actor=boss, workspace=workspace, name="Night", conditions={"priorities": ["urgent"]})
    policies.policy_steps_set(actor=boss, policy=policy, steps=[{"level": 0, "schedule": schedule.pk}])
    at = dt.datetime(2026, 1, 6, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # 02:00 on the night of the 5th
    expected = schedules.on_call_agent(OnCallSchedule.objects.get(pk=schedule.pk), at)
    assert expected == night[0].pk
    paging.page_ticket(actor=paging.SYSTEM, ticket=_urgent(workspace), at=at)
    assert Notification.objects.filter(recipient=night[0], kind="oncall.page").exists()
    assert not Notification.objects.filter(recipient=night[1]).exists()


def test_configuration_is_for_supervisors_and_says_what_is_wrong(workspace, agent, supervisor):
    with pytest.raises(PermissionDenied):
        policies.policy_save(actor=Actor.for_agent(agent), workspace=workspace, name="x")
    boss = Actor.for_agent(supervisor)
    with pytest.raises(ValidationFailed):
        policies.policy_save(actor=boss, workspace=workspace, name="x", conditions={"weather": ["rain"]})
    policy = policies.policy_save(actor=boss, workspace=workspace, name="ok")
    with pytest.raises(ValidationFailed):
        policies.policy_steps_set(actor=boss, policy=policy, steps=[{"level": 0, "agent": 999999}])
    with pytest.raises(ValidationFailed):
        schedules.schedule_save(actor=boss, workspace=workspace, name="tz", time_zone="Mars/Olympus")


def test_the_page_renders_in_the_readers_language(workspace, ladder):
    page = paging.page_ticket(actor=paging.SYSTEM, ticket=_urgent(workspace), at=now())
    assert page is not None
    n = Notification.objects.get(recipient=ladder["first"], kind="oncall.page")
    with translation.override("zh-hans"):
        zh = n.display_title
    with translation.override("en"):
        en = n.display_title
    assert "On-call page" in en and zh != en and str(page.ticket.number) in zh


def test_a_partner_level_gets_a_link_and_its_acknowledgement_stops_the_page(workspace, supervisor):
    from pivotdesk.oncall.models import Partner, PartnerAccess
    from pivotdesk.oncall.services import partners

    boss = Actor.for_agent(supervisor)
    partner = Partner.objects.create(workspace=workspace, name="NightHawk", emails=[], targets=[])
    policy = policies.policy_save(
        actor=boss, workspace=workspace, name="Partner", conditions={"priorities": ["urgent"]}
    )
    policies.policy_steps_set(actor=boss, policy=policy, steps=[{"level": 0, "partner": partner.pk}])
    page = paging.page_ticket(actor=paging.SYSTEM, ticket=_urgent(workspace), at=now())
    assert page is not None
    access = PartnerAccess.objects.get(partner=partner, ticket=page.ticket)
    assert access.share_all
    token = "known-for-the-test"
    PartnerAccess.objects.filter(pk=access.pk).update(token_hash=partners._hash(token))
    partners.partner_acknowledge(token)
    page.refresh_from_db()
    assert page.status == PageStatus.ACKNOWLEDGED and page.acknowledged_partner == partner
