"""The demo's night duty: a night rotation for the field-service team (19:00–08:00, weekly turns, weekends all day),
an escalation policy for urgent device-down tickets (the night engineer, then the team lead, then the partner),
one partner provider, and the after-hours answers."""

from __future__ import annotations

import datetime as dt

from pivotdesk.accounts.actors import Actor
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.common.time import now
from pivotdesk.oncall.models import OnCallSchedule, Partner
from pivotdesk.oncall.services import policies, schedules
from pivotdesk.sla.models import BusinessCalendar

SYSTEM = Actor.system("demo")


def configure_oncall(world: DemoWorld) -> None:
    workspace = world.workspace
    field = world.team_members.get("field") or list(world.agents.values())[:3]
    schedule = schedules.schedule_save(
        actor=SYSTEM, workspace=workspace, name="现场服务夜班 Field service nights", time_zone="Asia/Shanghai"
    )
    OnCallSchedule.objects.filter(pk=schedule.pk).update(
        team=world.teams.get("field"),
        calendar=BusinessCalendar.objects.filter(workspace=workspace, is_default=True).first(),
    )
    schedule.refresh_from_db()
    monday = now().date() - dt.timedelta(days=now().date().weekday())
    start = dt.datetime.combine(monday, dt.time(19, 0))
    schedules.layer_save(
        actor=SYSTEM,
        schedule=schedule,
        name="工作日夜间 Weeknights",
        participants=[a.pk for a in field],
        start=start,
        turn_kind="weekly",
        restriction_kind="daily",
        restriction={"windows": [["19:00", "08:00"]]},
    )
    schedules.layer_save(
        actor=SYSTEM,
        schedule=schedule,
        name="休息日全天 Days off",
        participants=[a.pk for a in reversed(field)],
        start=dt.datetime.combine(monday, dt.time(8, 0)),
        turn_kind="weekly",
        restriction_kind="non_working",
    )
    partner = Partner.objects.create(
        workspace=workspace,
        name="夜鹰技术服务 NightHawk Field Services",
        emails=["dispatch@nighthawk.example.com"],
        language="zh-hans",
    )
    lead = world.agents.get("zhou.qiang") or field[0]
    policy = policies.policy_save(
        actor=SYSTEM,
        workspace=workspace,
        name="紧急设备停机 Urgent device down",
        conditions={
            "priorities": ["urgent"],
            "categories": [world.categories["device"].pk, world.categories["repair"].pk],
        },
        repeat=1,
        fallback_team=world.teams.get("field"),
    )
    policies.policy_steps_set(
        actor=SYSTEM,
        policy=policy,
        steps=[
            {"level": 0, "timeout_minutes": 10, "schedule": schedule.pk},
            {"level": 1, "timeout_minutes": 10, "agent": lead.pk},
            {"level": 2, "timeout_minutes": 15, "partner": partner.pk},
        ],
    )
    keyword_policy = policies.policy_save(
        actor=SYSTEM,
        workspace=workspace,
        name="停机关键词 Keyword: machine down",
        position=1,
        conditions={
            "priorities": ["urgent", "high"],
            "keywords": ["停机", "machine down", "宕机"],
            "outside_hours": True,
        },
    )
    policies.policy_steps_set(
        actor=SYSTEM, policy=keyword_policy, steps=[{"level": 0, "timeout_minutes": 10, "schedule": schedule.pk}]
    )
    for name, keywords, zh, en in (
        (
            "营业时间 Opening hours",
            ["营业时间", "几点上班", "opening hours", "open"],
            "我们的人工服务时间是工作日 9:00–12:00、13:00–18:00（法定节假日除外，调休上班日照常）。",
            "People answer on working days 9:00–12:00 and 13:00–18:00 (China's public holidays excepted).",
        ),
        (
            "订单状态 Order status",
            ["订单", "物流", "order", "delivery"],
            "订单状态可在“我的订单”页面随时查看；物流单号会在发货后通过短信发送给您。",
            "You can follow your order any time under “My orders”; the tracking number is sent by SMS once shipped.",
        ),
        (
            "优惠券 Coupons",
            ["优惠券", "券", "coupon"],
            "优惠券在有效期内下单即可使用，每单限用一张，特价商品除外。",
            "A coupon works on any order within its validity, one per order, except on special offers.",
        ),
    ):
        policies.answer_save(
            actor=SYSTEM, workspace=workspace, name=name, keywords=keywords, answer_zh=zh, answer_en=en
        )
