"""SLA events on the ticket timeline read as sentences in the agent's language, not as raw verbs."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.sla.services.scan import NOBODY_TO_NOTIFY
from pivotdesk.tickets.services.timeline import record

pytestmark = pytest.mark.django_db

SLA = Actor.system("SLA")


def _timeline(client_as, agent, ticket, language: str) -> str:
    response = client_as(agent, language).get(f"/tickets/{ticket.number}/timeline/")
    assert response.status_code == 200
    return response.content.decode()


def test_sla_events_in_english_and_chinese(agent, ticket, client_as):
    due = "2026-02-14T02:00:00+00:00"  # 10:00 in Asia/Shanghai
    record(ticket=ticket, actor=SLA, verb="sla_policy_changed", field="sla_policy", old=None, new={"name": "VIP"})
    record(
        ticket=ticket,
        actor=SLA,
        verb="sla_target_changed",
        field="first_reply",
        old={"minutes": 120, "due_at": due},
        new={"minutes": 30, "due_at": due},
    )
    record(ticket=ticket, actor=SLA, verb="sla_warning", field="first_reply", new={"label": "75%", "due_at": due})
    record(
        ticket=ticket,
        actor=SLA,
        verb="sla_breached",
        field="resolution",
        new={"label": "", "due_at": due},
        data={"done": ["notified 李伟"], "errors": []},
    )
    record(
        ticket=ticket,
        actor=SLA,
        verb="sla_escalated",
        field="resolution",
        new={"due_at": due},
        data={"level": 2, "done": [], "errors": ["nobody to notify"]},
    )
    record(
        ticket=ticket,
        actor=SLA,
        verb="sla_escalated",
        field="first_reply",
        new={"due_at": due},
        data={
            "level": 1,
            "done": ["notified 李伟 (team lead)", "priority high → urgent"],
            "steps": [
                {"do": "notified", "agent": "李伟", "role": "team lead"},
                {"do": "priority", "old": "high", "new": "urgent"},
            ],
            "errors": [NOBODY_TO_NOTIFY],
        },
    )
    en = _timeline(client_as, agent, ticket, "en")
    assert "SLA: SLA policy — → VIP" in en
    assert "SLA: First reply target 2 h → 30 m, due 02-14 10:00 → 02-14 10:00" in en
    assert "SLA: warning (75%), First reply due 02-14 10:00" in en
    assert "SLA: Resolution breached (due 02-14 10:00) — notified 李伟" in en
    assert "SLA: escalated to level 2, Resolution breached (due 02-14 10:00) — (nobody to notify)" in en
    assert "SLA: sla_breached" not in en  # not the raw fallback
    assert "— notified 李伟 (team lead), priority High → Urgent (nobody to notify: the ticket has no" in en
    zh = _timeline(client_as, agent, ticket, "zh-hans")
    assert "已违约（到期 02-14 10:00）" in zh
    assert "已升级到第 2 级" in zh
    # What an escalation did follows the reader's language too (events written before steps keep their English).
    assert "已通知李伟（组长），优先级 高 → 紧急 (无人可通知：工单没有处理人，其团队也没有组长)" in zh
    assert "notified 李伟" in zh  # the older event


def test_a_tickets_first_policy_is_one_sentence_with_its_targets(agent, ticket, client_as):
    record(
        ticket=ticket,
        actor=SLA,
        verb="sla_policy_changed",
        field="sla_policy",
        old=None,
        new={
            "id": 1,
            "name": "VIP",
            "targets": [
                {"metric": "first_reply", "minutes": 30, "business_hours": True, "due_at": "2026-02-14T02:00:00+00:00"},
                {
                    "metric": "resolution",
                    "minutes": 240,
                    "business_hours": False,
                    "due_at": "2026-02-14T05:30:00+00:00",
                },
            ],
        },
    )
    en = _timeline(client_as, agent, ticket, "en")
    assert (
        "SLA: SLA policy → VIP: First reply 30 m (due 02-14 10:00), "
        "Resolution 4 h (calendar hours, due 02-14 13:30)" in en
    )
    zh = _timeline(client_as, agent, ticket, "zh-hans")
    assert "SLA 策略 → VIP：首次响应 30 分（02-14 10:00 到期）" in zh
    assert "解决 4 小时（自然时间，02-14 13:30 到期）" in zh


def test_the_first_policy_from_the_service_reads_as_one_sentence(agent, workspace, client_as):
    from pivotdesk.sla.services import sla_apply
    from pivotdesk.sla.tests.factories import PolicyFactory, add_targets
    from pivotdesk.tickets.models import TicketEvent
    from pivotdesk.tickets.tests.factories import make_ticket

    policy = PolicyFactory(workspace=workspace, name="Standard")
    add_targets(policy, "normal", first_reply=120, resolution=960)
    ticket = make_ticket(workspace=workspace)
    sla_apply(actor=Actor.system(), ticket=ticket)
    assert TicketEvent.objects.filter(ticket=ticket, verb__startswith="sla_").count() == 1
    en = _timeline(client_as, agent, ticket, "en")
    assert "SLA: SLA policy → Standard: First reply 2 h (due " in en and ", Resolution 16 h (due " in en
