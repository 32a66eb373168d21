"""The night-duty screens through the views: who may see them, tenant isolation, a layer added through the form on
the timeline, a page acknowledged from the pages screen, my on-call shifts on My schedule and in the feed, and every
page in Chinese without English left over."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zoneinfo

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.common.time import now
from pivotdesk.oncall.models import (
    AfterHoursAnswer,
    EscalationPolicy,
    OnCallLayer,
    OnCallOverride,
    OnCallSchedule,
    Page,
    PageStatus,
    Partner,
)
from pivotdesk.oncall.services import paging, policies, schedules
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def colleague(workspace):
    return AgentFactory(workspace=workspace)


def _local_midnight() -> dt.datetime:
    return dt.datetime.combine(now().astimezone(SHANGHAI).date(), dt.time())


@pytest.fixture
def night(workspace, supervisor, agent, colleague):
    """A schedule rotating daily between me and a colleague from today's midnight, a policy paging it, a page."""
    boss = Actor.for_agent(supervisor)
    schedule = schedules.schedule_save(actor=boss, workspace=workspace, name="夜班值守")
    schedules.layer_save(
        actor=boss, schedule=schedule, participants=[agent.pk, colleague.pk], start=_local_midnight(), turn_kind="daily"
    )
    partner = Partner.objects.create(workspace=workspace, name="夜间维修服务商", emails=["night@example.com"])
    policy = policies.policy_save(
        actor=boss,
        workspace=workspace,
        name="设备停机",
        conditions={"priorities": ["urgent"], "keywords": ["停机"], "outside_hours": False},
    )
    policies.policy_steps_set(
        actor=boss,
        policy=policy,
        steps=[
            {"level": 0, "timeout_minutes": 10, "schedule": schedule.pk},
            {"level": 1, "timeout_minutes": 10, "partner": partner.pk},
        ],
    )
    answer = policies.answer_save(
        actor=boss, workspace=workspace, name="营业时间", keywords=["营业时间"], answer_zh="九点开门", answer_en="9am"
    )
    ticket = make_ticket(workspace=workspace, subject="3号产线停机", body="停机了", priority="urgent")
    page = paging.page_ticket(actor=paging.SYSTEM, ticket=ticket)
    assert page is not None
    return {"schedule": schedule, "policy": policy, "partner": partner, "answer": answer, "page": page}


def _pages(night) -> list[str]:
    return [
        reverse("web:oncall_schedules"),
        reverse("web:oncall_schedule", args=[night["schedule"].pk]),
        reverse("web:oncall_pages"),
        reverse("web:oncall_policies"),
        reverse("web:oncall_policy_new"),
        reverse("web:oncall_policy", args=[night["policy"].pk]),
        reverse("web:oncall_answers"),
        reverse("web:oncall_partners"),
    ]


def test_supervisors_see_every_page_and_agents_none(client_as, supervisor, agent, night):
    boss, me = client_as(supervisor), client_as(agent)
    for url in _pages(night):
        assert boss.get(url).status_code == 200, url
        assert me.get(url).status_code == 403, url
    assert me.post(reverse("web:oncall_schedule_save"), {"name": "x"}).status_code == 403
    assert me.post(reverse("web:oncall_answer_save"), {"name": "x"}).status_code == 403
    assert me.post(reverse("web:oncall_partner_save"), {"name": "x"}).status_code == 403
    layer_url = reverse("web:oncall_layer_save", args=[night["schedule"].pk])
    assert me.post(layer_url, {"participants": [agent.pk], "start": "2026-01-01T00:00"}).status_code == 403
    assert not OnCallSchedule.objects.filter(name="x").exists()
    link = f'href="{reverse("web:oncall_schedules")}"'
    assert boss.get(reverse("web:workforce_my_schedule")).content.decode().count(link) == 1  # the main menu
    assert link not in me.get(reverse("web:workforce_my_schedule")).content.decode()


def test_another_workspaces_ids_are_not_found(client_as, other_workspace, night, agent):
    outsider = client_as(AgentFactory(workspace=other_workspace, role="supervisor"))
    schedule, page = night["schedule"], night["page"]
    assert outsider.get(reverse("web:oncall_schedule", args=[schedule.pk])).status_code == 404
    assert outsider.get(reverse("web:oncall_policy", args=[night["policy"].pk])).status_code == 404
    form = {"participants": [agent.pk], "start": "2026-01-01T00:00"}
    assert outsider.post(reverse("web:oncall_layer_save", args=[schedule.pk]), form).status_code == 404
    override = {"agent": agent.pk, "start": "2026-01-01T00:00", "end": "2026-01-02T00:00"}
    assert outsider.post(reverse("web:oncall_override_add", args=[schedule.pk]), override).status_code == 404
    assert outsider.post(reverse("web:oncall_page_acknowledge", args=[page.pk])).status_code == 404
    assert outsider.post(reverse("web:oncall_page_resolve", args=[page.pk])).status_code == 404
    answer = {"id": night["answer"].pk, "name": "n", "keywords": "k", "answer_zh": "甲", "answer_en": "a"}
    assert outsider.post(reverse("web:oncall_answer_save"), answer).status_code == 404
    assert (
        outsider.post(reverse("web:oncall_partner_save"), {"id": night["partner"].pk, "name": "n"}).status_code == 404
    )
    page.refresh_from_db()
    assert page.status == PageStatus.TRIGGERED
    assert AfterHoursAnswer.objects.get(pk=night["answer"].pk).name == "营业时间"


def _final_row(html: str) -> str:
    return html.split('class="oc-row oc-final"', 1)[1].split("</svg>", 1)[0]


def test_a_layer_added_through_the_form_shows_in_the_timeline(client_as, workspace, supervisor, colleague):
    boss = client_as(supervisor)
    assert (
        boss.post(reverse("web:oncall_schedule_save"), {"name": "二线", "time_zone": "Asia/Shanghai"}).status_code
        == 302
    )
    schedule = OnCallSchedule.objects.get(workspace=workspace, name="二线")
    url = reverse("web:oncall_schedule", args=[schedule.pk])
    assert "<rect" not in _final_row(boss.get(url).content.decode())
    start = _local_midnight() - dt.timedelta(hours=5)  # yesterday 19:00: each 24-hour turn is one night
    form = {
        "participants": [supervisor.pk, colleague.pk],
        "order": colleague.name,  # the colleague first, then the rest in list order
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "turn_kind": "hours",
        "turn_hours": "24",
        "restriction_kind": "daily",
        "daily_from": "19:00",
        "daily_to": "07:00",
    }
    response = boss.post(reverse("web:oncall_layer_save", args=[schedule.pk]), form)
    assert response.status_code == 302
    layer = OnCallLayer.objects.get(schedule=schedule)
    assert layer.participants == [colleague.pk, supervisor.pk] and layer.restriction == {
        "windows": [["19:00", "07:00"]]
    }
    final = _final_row(boss.get(url).content.decode())
    # nights only (19:00–07:00): this morning's end of last night, then 14 nights, the last cut at the window's end
    rects = re.findall(r'<rect class="(oc-c\d)" x="([\d.]+)" y="1" width="([\d.]+)"', final)
    assert len(rects) == 15
    assert all(0 <= float(x) <= 1000 and 0 < float(w) <= 1000 * 12 / (14 * 24) + 0.01 for _c, x, w in rects)
    assert all(a[0] != b[0] for a, b in itertools.pairwise(rects))  # the two take turns, night by night
    assert supervisor.name in final and colleague.name in final
    # a refused layer re-renders the page with the service's message and a 4xx status
    bad = boss.post(
        reverse("web:oncall_layer_save", args=[schedule.pk]),
        {**form, "restriction_kind": "weekly", "weekly": "Someday 25:00 -> Mon 00:00"},
    )
    assert bad.status_code == 422 and "This rotation is not valid" in bad.content.decode()
    assert OnCallLayer.objects.filter(schedule=schedule).count() == 1


def test_a_page_acknowledged_from_the_pages_screen_is_assigned_to_the_acknowledger(client_as, supervisor, night):
    boss, page = client_as(supervisor), night["page"]
    listing = boss.get(reverse("web:oncall_pages")).content.decode()
    assert f"#{page.ticket.number}" in listing and reverse("web:oncall_page_acknowledge", args=[page.pk]) in listing
    assert boss.post(reverse("web:oncall_page_acknowledge", args=[page.pk])).status_code == 302
    page.refresh_from_db()
    page.ticket.refresh_from_db()
    assert page.status == PageStatus.ACKNOWLEDGED and page.acknowledged_by_id == supervisor.pk
    assert page.ticket.assignee_id == supervisor.pk
    assert boss.post(reverse("web:oncall_page_acknowledge", args=[page.pk])).status_code == 422  # no longer waiting
    assert boss.post(reverse("web:oncall_page_resolve", args=[page.pk])).status_code == 302
    page.refresh_from_db()
    assert page.status == PageStatus.RESOLVED


def test_the_policy_form_saves_conditions_and_levels(client_as, workspace, supervisor, agent, night):
    boss = client_as(supervisor)
    form = {
        "name": "VIP 夜间",
        "priorities": ["urgent", "high"],
        "channels": ["email"],
        "keywords": "宕机，down",
        "outside_hours": "1",
        "tiers": ["vip", "strategic", "bogus"],
        "sla_states": ["warning", "breached"],
        "repeat": "2",
        "active": "1",
        "level": ["1", "1", "2", "3"],
        "timeout": ["5", "5", "15", "10"],
        "target": [f"agent:{agent.pk}", f"schedule:{night['schedule'].pk}", f"partner:{night['partner'].pk}", ""],
    }
    assert boss.post(reverse("web:oncall_policy_new"), form).status_code == 302
    policy = EscalationPolicy.objects.get(workspace=workspace, name="VIP 夜间")
    assert policy.conditions == {
        "priorities": ["urgent", "high"],
        "channels": ["email"],
        "keywords": ["宕机", "down"],
        "outside_hours": True,
        "tiers": ["vip", "strategic"],
        "sla_states": ["warning", "breached"],
    }
    assert "Breached" in boss.get(reverse("web:oncall_policies")).content.decode()
    assert "超时" in client_as(supervisor, "zh-hans").get(reverse("web:oncall_policies")).content.decode()
    assert sorted((s.position, s.target_kind, s.timeout_minutes) for s in policy.steps.all()) == [
        (0, "agent", 5),
        (0, "schedule", 5),
        (1, "partner", 15),
    ]
    listing = boss.get(reverse("web:oncall_policies")).content.decode()
    assert "Outside business hours" in listing and "宕机, down" in listing
    # no level at all: refused, nothing half-saved
    refused = boss.post(reverse("web:oncall_policy_new"), {**form, "name": "空", "target": ["", "", "", ""]})
    assert refused.status_code == 422 and "at least one level" in refused.content.decode()
    assert 'value="空"' in refused.content.decode() and 'value="宕机，down"' in refused.content.decode()  # kept
    assert not EscalationPolicy.objects.filter(name="空").exists()


def test_answers_and_partners_are_saved_through_their_forms(client_as, workspace, supervisor):
    boss = client_as(supervisor)
    answer = {"name": "优惠券", "keywords": "优惠券, coupon", "answer_zh": "满100减10", "answer_en": "10 off 100"}
    assert boss.post(reverse("web:oncall_answer_save"), answer).status_code == 302
    assert AfterHoursAnswer.objects.get(workspace=workspace, name="优惠券").keywords == ["优惠券", "coupon"]
    assert boss.post(reverse("web:oncall_answer_save"), {**answer, "answer_en": ""}).status_code == 422
    partner = {"name": "备件库", "emails": "parts@example.com", "targets": "", "language": "en", "is_active": "1"}
    assert boss.post(reverse("web:oncall_partner_save"), partner).status_code == 302
    saved = Partner.objects.get(workspace=workspace, name="备件库")
    assert saved.emails == ["parts@example.com"] and saved.language == "en" and saved.is_active
    bad = boss.post(reverse("web:oncall_partner_save"), {**partner, "name": "另一个", "language": "fr"})
    assert bad.status_code == 422 and "zh-hans or en" in bad.content.decode()


def test_an_agent_adds_an_override_for_themselves_only(client_as, agent, colleague, night):
    me, schedule = client_as(agent), night["schedule"]
    start = _local_midnight() + dt.timedelta(days=2, hours=20)
    form = {
        "schedule": schedule.pk,
        "start": f"{start:%Y-%m-%dT%H:%M}",
        "end": f"{start + dt.timedelta(hours=10):%Y-%m-%dT%H:%M}",
    }
    assert me.post(reverse("web:oncall_my_override"), form).status_code == 302
    override = OnCallOverride.objects.get(schedule=schedule)
    assert override.agent_id == agent.pk and override.start == start.replace(tzinfo=SHANGHAI)
    theirs = {"agent": colleague.pk, "start": form["start"], "end": form["end"]}
    assert me.post(reverse("web:oncall_override_add", args=[schedule.pk]), theirs).status_code == 403
    assert OnCallOverride.objects.filter(schedule=schedule).count() == 1


def _feed_url(client) -> str:
    html = client.get(reverse("web:workforce_my_schedule")).content.decode()
    match = re.search(r'value="http://testserver(/workforce/calendar/[^"]+)"', html)
    assert match, "the page shows the feed address"
    return match.group(1).replace("&amp;", "&")


def test_my_schedule_and_the_feed_list_my_on_call_shifts(client, client_as, agent, colleague, night):
    """Daily turns from today's midnight, me first: every other day of the 14 from today's midnight is mine, whole
    (yesterday's turn, the colleague's, is not listed; today's starts at midnight, not when the page loaded)."""
    me = client_as(agent)
    start = _local_midnight().replace(tzinfo=SHANGHAI)
    final = schedules.timeline(night["schedule"], start, start + dt.timedelta(days=14)).final
    mine = [s for s in final if s.participant == agent.pk]
    assert len(mine) == 7 and mine[0].start == start
    html = me.get(reverse("web:workforce_my_schedule")).content.decode()
    section = html.split('id="on-call"', 1)[1].split("</ul>", 1)[0]
    assert section.count("夜班值守") == len(mine)
    body = client.get(_feed_url(me)).content.decode()
    assert body.count("UID:oncall-") == len(mine)
    for seg in mine:
        assert f"DTEND:{seg.end.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}" in body
    assert len(re.findall(r"SUMMARY:[^\r]*夜班值守", body)) == len(mine)
    theirs = client.get(_feed_url(client_as(colleague))).content.decode()
    assert theirs.count("UID:oncall-") == len([s for s in final if s.participant == colleague.pk])
    assert set(re.findall(r"DTSTART:\S+", theirs)).isdisjoint(re.findall(r"DTSTART:\S+", body))


def test_every_page_reads_in_chinese(client_as, supervisor, agent, colleague, night):
    phrases = [supervisor.workspace.name, *(a.name for a in (supervisor, agent, colleague))]
    boss = client_as(supervisor, "zh-hans")
    for url in [*_pages(night), reverse("web:workforce_my_schedule")]:
        response = boss.get(url)
        assert response.status_code == 200, url
        findings = english_words(url, visible_texts(response.content.decode()), phrases=phrases)
        assert not findings, [(f.page, f.word, f.context) for f in findings]
    Page.objects.filter(pk=night["page"].pk).update(status=PageStatus.ACKNOWLEDGED, acknowledged_by=agent)
    html = boss.get(reverse("web:oncall_pages")).content.decode()
    assert not english_words("pages", visible_texts(html), phrases=phrases)
