"""The escalation ladder end to end: the scan fires, the notifications app delivers to real servers on loopback —
an apprise json:// webhook receiver (as a DingTalk/WeCom/Slack hook would be) and an aiosmtpd SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.notifications.models import Delivery, DeliveryStatus
from pivotdesk.notifications.tests.conftest import receiver, smtp_server  # noqa: F401 - fixtures
from pivotdesk.notifications.tests.factories import make_target, set_channels
from pivotdesk.sla.services import sla_apply, sla_scan_due
from pivotdesk.sla.tests.conftest import SH
from pivotdesk.sla.tests.factories import CalendarFactory, PolicyFactory, add_level, add_targets
from pivotdesk.tickets.tests.factories import make_ticket


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture
def ladder(workspace):
    CalendarFactory(workspace=workspace, is_default=True)
    lead = AgentFactory(workspace=workspace, role=Role.AGENT, user__display_name="李伟")
    assignee = AgentFactory(workspace=workspace, role=Role.AGENT, user__display_name="王芳")
    manager = AgentFactory(workspace=workspace, role=Role.SUPERVISOR, user__display_name="陈经理")
    team = TeamFactory(workspace=workspace, name="手术器械", lead=lead)
    policy = PolicyFactory(workspace=workspace, name="手术器械故障", conditions={"tags_any": ["手术器械"]})
    add_targets(policy, "high", first_reply=60)
    add_level(policy, 1, [{"type": "notify", "to": "team_lead"}])
    add_level(policy, 2, [{"type": "notify", "to": "agents", "agents": [manager.pk]}], minutes=30)
    return {"lead": lead, "assignee": assignee, "manager": manager, "team": team}


def test_ladder_delivers_to_webhook_and_smtp_once(  # noqa: PLR0917
    clock,
    workspace,
    ladder,
    receiver,  # noqa: F811
    smtp_server,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.PIVOTDESK_BASE_URL = "http://desk.local"
    # Messages go out in each recipient's language (their preference, else the workspace's: Chinese): these read English.
    for person in ("lead", "manager", "assignee"):
        ladder[person].user.preferred_language = "en"
        ladder[person].user.save(update_fields=["preferred_language"])
    # The lead hears of escalations in the team's IM group (apprise json://); the manager by email.
    set_channels(ladder["lead"], {"sla.*": ["apprise"]})
    make_target(ladder["lead"], receiver.url("/hooks/dingtalk"), label="一线群")
    set_channels(ladder["manager"], {"sla.escalation": ["email"]})
    ticket = make_ticket(
        workspace=workspace, priority="high", tags=["手术器械"], assignee=ladder["assignee"], team=ladder["team"]
    )
    sla_apply(actor=Actor.system(), ticket=ticket, now=at(2, 9, 0))

    for when in (at(2, 10, 0), at(2, 10, 0), at(2, 10, 29)):  # breach + level 1 at 10:00; rerun; nothing yet
        clock.set(when)
        with django_capture_on_commit_callbacks(execute=True):
            sla_scan_due(actor=Actor.system(), now=when)
    assert len(receiver.requests) == 1
    path, payload = receiver.requests[0]
    assert path == "/hooks/dingtalk"
    assert payload["title"] == f"SLA escalation level 1: first reply of #{ticket.number} breached (due 10:00)"
    # the breach itself reaches the assignee by email (the default channel for sla.breach), once
    assert [(r, str(m["Subject"])) for r, m in smtp_server.messages] == [
        ([ladder["assignee"].user.email], f"SLA breached: first reply of #{ticket.number} (due 10:00)")
    ]

    for when in (at(2, 10, 30), at(2, 10, 31)):  # level 2 thirty minutes after the breach; rerun
        clock.set(when)
        with django_capture_on_commit_callbacks(execute=True):
            sla_scan_due(actor=Actor.system(), now=when)
    assert len(smtp_server.messages) == 2
    rcpts, msg = smtp_server.messages[1]
    assert rcpts == [ladder["manager"].user.email]
    assert "SLA escalation level 2" in str(msg["Subject"])
    assert len(receiver.requests) == 1  # nothing new for the lead
    sent = Delivery.objects.filter(notification__ticket=ticket, status=DeliveryStatus.SENT)
    assert sent.count() == 3
