"""The workforce screens through the views: who may see which page, tenant isolation, the iCalendar feed, the
requests inbox, and every page in Chinese without English left over."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.web.workforce.tests.helpers import published_roster
from pivotdesk.web.workforce.views.planning import unmet_lines
from pivotdesk.workforce.models import ForecastEvent, RequestStatus, ShiftRequest, WorkforceProfile

pytestmark = pytest.mark.django_db

SUPERVISOR_PAGES = ("workforce_rosters", "workforce_forecast", "workforce_adherence", "workforce_settings")
EVERYONE_PAGES = ("workforce_my_schedule", "workforce_requests")


@pytest.fixture
def colleague(workspace):
    return AgentFactory(workspace=workspace)


@pytest.fixture
def planned(workspace, agent, colleague):
    return published_roster(workspace, agent, colleague)


def test_agents_see_their_pages_and_not_the_planning_ones(client_as, agent, planned):
    client = client_as(agent)
    for name in EVERYONE_PAGES:
        assert client.get(reverse(f"web:{name}")).status_code == 200, name
    for name in SUPERVISOR_PAGES:
        assert client.get(reverse(f"web:{name}")).status_code == 403, name
    assert client.get(reverse("web:workforce_roster", args=[planned.roster.pk])).status_code == 403
    assert client.get(reverse("web:workforce_roster_coverage", args=[planned.roster.pk])).status_code == 403
    assert client.get(reverse("web:workforce_home"))["Location"] == reverse("web:workforce_my_schedule")
    assert client.post(reverse("web:workforce_roster_publish", args=[planned.roster.pk])).status_code == 403


def test_supervisors_see_every_page(client_as, supervisor, planned):
    client = client_as(supervisor)
    for name in (*SUPERVISOR_PAGES, *EVERYONE_PAGES):
        assert client.get(reverse(f"web:{name}")).status_code == 200, name
    grid = client.get(reverse("web:workforce_roster", args=[planned.roster.pk])).content.decode()
    assert "Open shifts" in grid and "09:00–17:00" in grid and "Re-plan" in grid
    coverage = client.get(reverse("web:workforce_roster_coverage", args=[planned.roster.pk])).content.decode()
    assert "need 3 any skill, 1 scheduled: 2 agents at the weekly-hours limit" in coverage
    assert client.get(reverse("web:workforce_home"))["Location"] == reverse("web:workforce_rosters")
    board = client.get(reverse("web:workforce_adherence"), headers={"hx-request": "true"})
    assert board.status_code == 200 and b"<html" not in board.content and b"wf-adherence" in board.content


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("web:workforce_my_schedule"))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_another_workspaces_objects_are_not_found(client_as, other_workspace, planned, agent):
    outsider = AgentFactory(workspace=other_workspace, role="supervisor")
    client = client_as(outsider)
    roster = planned.roster
    assert client.get(reverse("web:workforce_roster", args=[roster.pk])).status_code == 404
    assert client.get(reverse("web:workforce_roster_coverage", args=[roster.pk])).status_code == 404
    assert client.post(reverse("web:workforce_roster_publish", args=[roster.pk])).status_code == 404
    assert client.post(reverse("web:workforce_roster_delete", args=[roster.pk])).status_code == 404
    url = reverse("web:workforce_shift_delete", args=[roster.pk, planned.mine.pk])
    assert client.post(url).status_code == 404
    assert client.get(reverse("web:workforce_forecast") + f"?queue={planned.queue.pk}").status_code == 404
    assert client.post(reverse("web:workforce_forecast_refresh", args=[planned.queue.pk])).status_code == 404
    assert client.post(reverse("web:workforce_queue_delete", args=[planned.queue.pk])).status_code == 404
    assert client.post(reverse("web:workforce_template_delete", args=[planned.template.pk])).status_code == 404
    assert client.post(reverse("web:workforce_agent_profile", args=[agent.pk]), {"contract": ""}).status_code == 404
    request = ShiftRequest.objects.create(
        workspace=roster.workspace, kind="leave", requester=agent, status=RequestStatus.PENDING
    )
    decide = reverse("web:workforce_request_decide", args=[request.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 404
    assert ShiftRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING
    # the outsider's own pages list nothing of the first workspace
    html = client.get(reverse("web:workforce_rosters")).content.decode()
    assert f"/workforce/rosters/{roster.pk}/" not in html


def _feed_url(client) -> str:
    html = client.get(reverse("web:workforce_my_schedule")).content.decode()
    match = re.search(r'value="(http://testserver/workforce/calendar/[^"]+)"', html)
    assert match, "the page shows the feed address"
    return match.group(1).replace("http://testserver", "").replace("&amp;", "&")


def test_the_calendar_feed_lists_my_shifts_only_and_is_revoked_by_a_new_link(client, client_as, agent, planned):
    me = client_as(agent)
    url = _feed_url(me)
    response = client.get(url)  # no login
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert body.count("BEGIN:VEVENT") == 1
    assert f"UID:shift-{planned.mine.pk}@" in body and f"shift-{planned.theirs.pk}@" not in body
    start = planned.mine.start.astimezone(__import__("datetime").UTC).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start}" in body
    assert client.get(url).content.decode().count(f"UID:shift-{planned.mine.pk}@") == 1  # stable
    assert client.get(url[:-12] + "x" + url[-11:]).status_code == 404  # tampered signature
    assert client.get("/workforce/calendar/garbage/shifts.ics").status_code == 404
    assert me.post(reverse("web:workforce_calendar_regenerate")).status_code == 302
    assert client.get(url).status_code == 404
    assert client.get(_feed_url(me)).status_code == 200


def test_my_unavailability_is_saved_from_weekday_rows(client_as, agent):
    client = client_as(agent)
    form = {"un_day": ["2", ""], "un_from": ["18:00", ""], "un_to": ["00:00", ""], "pref_day_off": ["6"]}
    assert client.post(reverse("web:workforce_my_availability"), form).status_code == 302
    profile = WorkforceProfile.objects.get(agent=agent)
    assert profile.unavailable == {"2": [[1080, 1440]]} and profile.preferences["days_off"] == [6]
    bad = client.post(
        reverse("web:workforce_my_availability"), {**form, "un_from": ["19:00", ""], "un_to": ["18:00", ""]}
    )
    assert (
        bad.status_code == 422
        and "A time span must lie within the day and end after it starts." in bad.content.decode()
    )


def test_a_supervisor_rejects_only_with_a_reason(client_as, agent, supervisor, planned):
    client = client_as(agent)
    form = {"kind": "leave", "leave_type": "annual", "start_date": planned.roster.start_date.isoformat()}
    checked = client.post(reverse("web:workforce_requests"), {**form, "check": "1"})
    assert checked.status_code == 200
    assert "Check rules" in checked.content.decode()
    assert client.post(reverse("web:workforce_requests"), form).status_code == 302
    request = ShiftRequest.objects.get(requester=agent)
    boss = client_as(supervisor, "zh-hans")
    decide = reverse("web:workforce_request_decide", args=[request.pk])
    refused = boss.post(decide, {"decision": "reject", "reason": " "})
    assert refused.status_code == 422 and "请说明拒绝该申请的原因。" in refused.content.decode()
    assert ShiftRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING
    assert boss.post(decide, {"decision": "reject", "reason": "旺季"}).status_code == 302
    assert ShiftRequest.objects.get(pk=request.pk).status == RequestStatus.REJECTED


def test_a_rejected_history_file_lists_its_errors_by_line(client_as, supervisor, planned):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("h.csv", b"timestamp,count\n2026-01-05 09:00,3\nnot a time,4\n", "text/csv")
    response = client_as(supervisor).post(
        reverse("web:workforce_history_import"), {"queue": planned.queue.pk, "file": upload}
    )
    assert response.status_code == 422
    assert "line 3: “not a time” is not a date and time" in response.content.decode()


def test_an_event_multiplier_is_added_and_deleted(client_as, supervisor, planned):
    client = client_as(supervisor)
    form = {"queue": planned.queue.pk, "name": "双十一", "start": "2026-11-11T00:00", "end": "2026-11-12T00:00"}
    assert client.post(reverse("web:workforce_event_add"), {**form, "multiplier": "5"}).status_code == 302
    event = ForecastEvent.objects.get(name="双十一")
    assert event.multiplier == 5 and event.queue == planned.queue
    wrong = client.post(reverse("web:workforce_event_add"), {**form, "multiplier": "500"})
    assert wrong.status_code == 422 and "The multiplier must be between 0 and 100." in wrong.content.decode()
    assert client.post(reverse("web:workforce_event_delete", args=[event.pk])).status_code == 302
    assert not ForecastEvent.objects.exists()


def test_unmet_intervals_with_the_same_figures_are_merged():
    import datetime as dt

    unmet = [
        {"interval": 48 + 40, "skill": "billing", "need": 6, "scheduled": 4, "reasons": [["weekly_hours_limit", 2]]},
        {"interval": 48 + 41, "skill": "billing", "need": 6, "scheduled": 4, "reasons": [["weekly_hours_limit", 2]]},
        {"interval": 48 + 42, "skill": "billing", "need": 5, "scheduled": 4, "reasons": [["on_leave", 1]]},
    ]
    lines = unmet_lines(dt.date(2026, 12, 7), unmet)  # a Monday
    assert lines == [
        "Tue 12-08 20:00–21:00: need 6 billing, 4 scheduled: 2 agents at the weekly-hours limit",
        "Tue 12-08 21:00–21:30: need 5 billing, 4 scheduled: 1 agent on leave",
    ]


def test_the_chinese_pages_have_no_english_left(client_as, supervisor, agent, colleague, planned):
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.workforce.services import requests as wf_requests

    workspace = planned.roster.workspace

    wf_requests.request_swap(
        actor=Actor.for_agent(agent), shift_id=planned.mine.pk, peer_shift_id=planned.theirs.pk, note="换一下"
    )
    ForecastEvent.objects.create(
        workspace=workspace, queue=planned.queue, name="双十一", start=planned.mine.start, end=planned.mine.end,
        multiplier=3,
    )  # fmt: skip
    phrases = [workspace.name, *(a.name for a in (supervisor, agent, colleague))]
    pages = [reverse(f"web:{name}") for name in (*SUPERVISOR_PAGES, *EVERYONE_PAGES)]
    pages += [
        reverse("web:workforce_roster", args=[planned.roster.pk]) + f"?shift={planned.mine.pk}",
        reverse("web:workforce_roster_coverage", args=[planned.roster.pk]),
    ]
    for who in (supervisor, colleague):
        client = client_as(who, "zh-hans")
        for url in pages if who == supervisor else pages[-4:-2]:
            response = client.get(url)
            assert response.status_code == 200, url
            findings = english_words(url, visible_texts(response.content.decode()), phrases=phrases)
            assert not findings, [(f.page, f.word, f.context) for f in findings]
