"""The main workforce flow through the screens: settings, an imported history and its forecast, a small roster
planned by the solver, published; a swap asked, accepted by the colleague and approved by a supervisor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.time import now
from pivotdesk.web.workforce.tests.helpers import next_monday
from pivotdesk.workforce.models import (
    Contract,
    Forecast,
    RequestStatus,
    Roster,
    RosterStatus,
    Shift,
    ShiftRequest,
    ShiftTemplate,
    WorkQueue,
)
from pivotdesk.workforce.services.time import zone_of

pytestmark = pytest.mark.django_db


def history_csv(workspace, days: int = 21) -> bytes:
    """Half-hourly counts for the last `days` days: busy 09:00–18:00, quiet at night."""
    tz = zone_of(workspace)
    today = now().astimezone(tz).date()
    rows = ["timestamp,count"]
    for d in range(days, 0, -1):
        day = today - dt.timedelta(days=d)
        for slot in range(48):
            hour = slot // 2
            count = 6 + (slot % 3) if 9 <= hour < 18 else 1
            rows.append(f"{day.isoformat()} {hour:02d}:{(slot % 2) * 30:02d},{count}")
    return ("\n".join(rows) + "\n").encode()


def test_plan_publish_swap_accept_and_approve(client_as, workspace, supervisor, agent, settings):
    settings.PIVOTDESK_ROSTER_WORKERS = 2
    colleague = AgentFactory(workspace=workspace)
    boss = client_as(supervisor)
    ok = boss.post(
        reverse("web:workforce_template_save"),
        {"name": "Day", "kind": "day", "start_time": "09:00", "length_minutes": "480", "unpaid_break_minutes": "0",
         "break_earliest_minutes": "0", "break_latest_minutes": "0", "paid_break_minutes": "0", "is_active": "1"},
    )  # fmt: skip
    assert ok.status_code == 302, ok.content.decode()[:2000]
    bad = boss.post(reverse("web:workforce_template_save"), {"name": "Bad", "kind": "day", "start_time": "9h"})
    assert bad.status_code == 422 and "is not a time of day" in bad.content.decode()
    ok = boss.post(
        reverse("web:workforce_contract_save"),
        {"name": "Full time", "min_hours_week": "0", "max_hours_week": "40", "min_rest_hours": "11",
         "max_consecutive_days": "6", "max_night_shifts_week": "7", "min_days_off_week": "1"},
    )  # fmt: skip
    assert ok.status_code == 302
    refused = boss.post(
        reverse("web:workforce_contract_save"), {"name": "Odd", "min_hours_week": "50", "max_hours_week": "40"}
    )
    assert refused.status_code == 422 and "cannot be above the maximum" in refused.content.decode()
    ok = boss.post(
        reverse("web:workforce_queue_save"),
        {"name": "Support", "kind": "async", "interval_minutes": "30", "target_percent": "80", "target_seconds": "20",
         "shrinkage": "0.3", "max_occupancy": "0.85", "default_aht_seconds": "300", "reply_target_minutes": "60",
         "is_active": "1"},
    )  # fmt: skip
    assert ok.status_code == 302
    queue = WorkQueue.objects.get(workspace=workspace, name="Support")
    assert queue.reply_target_minutes == 60 and queue.asa_seconds is None
    contract = Contract.objects.get(workspace=workspace, name="Full time")
    for who in (supervisor, agent, colleague):
        url = reverse("web:workforce_agent_profile", args=[who.pk])
        assert boss.post(url, {"contract": contract.pk, "rosterable": "1"}).status_code == 302

    upload = SimpleUploadedFile("history.csv", history_csv(workspace), "text/csv")
    assert boss.post(reverse("web:workforce_history_import"), {"queue": queue.pk, "file": upload}).status_code == 302
    assert boss.post(reverse("web:workforce_forecast_refresh", args=[queue.pk])).status_code == 302
    assert Forecast.objects.filter(queue=queue, status="ready").exists()
    page = boss.get(reverse("web:workforce_forecast") + f"?queue={queue.pk}").content.decode()
    assert 'id="wf-forecast-data"' in page and "echarts.common.min.js" in page

    start = next_monday(workspace)
    planned = boss.post(
        reverse("web:workforce_rosters"), {"start_date": start.isoformat(), "days": "2", "seconds": "5"}
    )
    assert planned.status_code == 302, planned.content.decode()[:3000]
    roster = Roster.objects.get(workspace=workspace, start_date=start)
    assert roster.status == RosterStatus.DRAFT
    assert boss.get(planned["Location"]).status_code == 200
    assert boss.get(reverse("web:workforce_roster_coverage", args=[roster.pk])).status_code == 200
    assert boss.post(reverse("web:workforce_roster_publish", args=[roster.pk])).status_code == 302
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PUBLISHED

    # make sure the two agents have a shift each, on different days (through the cell form, rules forced)
    template = ShiftTemplate.objects.get(workspace=workspace, name="Day")
    save = reverse("web:workforce_shift_save", args=[roster.pk])
    for who, day in ((agent, start), (colleague, start + dt.timedelta(days=1))):
        if not roster.shifts.filter(agent=who).exists():
            form = {"agent": who.pk, "day": day.isoformat(), "template": template.pk, "kind": "day", "force": "1"}
            assert boss.post(save, form).status_code == 302
    mine = Shift.objects.filter(roster=roster, agent=agent).first()
    theirs = Shift.objects.filter(roster=roster, agent=colleague).first()
    assert mine is not None and theirs is not None

    me = client_as(agent)
    form = {"kind": "swap", "shift": mine.pk, "peer_shift": theirs.pk}
    checked = me.post(reverse("web:workforce_requests"), {**form, "check": "1"})
    assert checked.status_code == 200
    html = checked.content.decode()
    assert "No rule would be broken." in html or "This request would break rules:" in html
    assert me.post(reverse("web:workforce_requests"), form).status_code == 302
    request = ShiftRequest.objects.get(requester=agent)
    assert request.status == RequestStatus.AWAITING_PEER

    peer = client_as(colleague)
    assert "Accept the swap" in peer.get(reverse("web:workforce_requests")).content.decode()
    answer = reverse("web:workforce_request_answer", args=[request.pk])
    assert me.post(answer, {"answer": "accept"}).status_code == 422  # only the colleague answers
    assert peer.post(answer, {"answer": "accept"}).status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING

    inbox = boss.get(reverse("web:workforce_requests")).content.decode()
    assert "Waiting for your approval" in inbox and f'id="request-{request.pk}"' in inbox
    decide = reverse("web:workforce_request_decide", args=[request.pk])
    refused = boss.post(decide, {"decision": "reject", "reason": ""})
    assert refused.status_code == 422 and "Say why the request is rejected." in refused.content.decode()
    assert boss.post(decide, {"decision": "approve"}).status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert Shift.objects.get(pk=mine.pk).agent_id == colleague.pk
    assert Shift.objects.get(pk=theirs.pk).agent_id == agent.pk
    history = me.get(reverse("web:workforce_requests")).content.decode()
    assert "accepted the swap" in history and "approved" in history

    # re-plan makes a new draft version; deleting it leaves the published one
    replanned = boss.post(reverse("web:workforce_roster_replan", args=[roster.pk]))
    assert replanned.status_code == 302, replanned.content.decode()[:3000]
    draft = Roster.objects.get(workspace=workspace, start_date=start, version=2)
    assert draft.status == RosterStatus.DRAFT
    assert boss.post(reverse("web:workforce_roster_delete", args=[draft.pk])).status_code == 302
    assert boss.post(reverse("web:workforce_roster_delete", args=[roster.pk])).status_code == 422


def test_planning_without_templates_is_a_readable_error(client_as, workspace, supervisor):
    response = client_as(supervisor).post(
        reverse("web:workforce_rosters"), {"start_date": next_monday(workspace).isoformat(), "days": "2"}
    )
    assert response.status_code == 422
    assert "Add at least one shift template before planning a roster." in response.content.decode()


def test_the_coverage_page_simulates_a_day(supervisor_client, supervisor):
    import datetime as dt
    import zoneinfo

    from pivotdesk.accounts.models import AgentSkill, Skill
    from pivotdesk.accounts.tests.factories import AgentFactory
    from pivotdesk.workforce.models import Forecast, QueueKind, Roster, Shift, WorkQueue

    ws = supervisor.workspace
    tz = zoneinfo.ZoneInfo(ws.time_zone)
    day = dt.date(2030, 1, 8)
    skill = Skill.objects.create(workspace=ws, name="热线")
    queue = WorkQueue.objects.create(
        workspace=ws, name="热线电话", kind=QueueKind.REALTIME, skill=skill, interval_minutes=60
    )
    Forecast.objects.create(
        workspace=ws,
        queue=queue,
        interval_minutes=60,
        start=dt.datetime.combine(day, dt.time(9), tz),
        end=dt.datetime.combine(day, dt.time(10), tz),
        points=[[dt.datetime.combine(day, dt.time(9), tz).isoformat(), 30.0, 20.0, 40.0, 180.0]],
    )
    roster = Roster.objects.create(workspace=ws, start_date=day, end_date=day, status="published")
    agent = AgentFactory(workspace=ws)
    AgentSkill.objects.create(agent=agent, skill=skill, level=3)
    start = dt.datetime.combine(day, dt.time(9), tz)
    Shift.objects.create(workspace=ws, roster=roster, agent=agent, start=start, end=start + dt.timedelta(hours=8))
    page = supervisor_client.get(f"/workforce/rosters/{roster.pk}/coverage/?simulate=2030-01-08")
    assert page.status_code == 200
    assert "09:00" in page.content.decode() and "%" in page.content.decode()
    assert supervisor_client.get(f"/workforce/rosters/{roster.pk}/coverage/?simulate=bad").status_code == 200
