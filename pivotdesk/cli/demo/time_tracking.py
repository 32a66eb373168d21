"""Demo: organizations get account managers, tags and notes; a few dozen tickets get time logged by hand and
tracked automatically (issue 18), through the real services on the simulated clock."""

from __future__ import annotations

import datetime as dt
import random

from pivotdesk.accounts.actors import Actor
from pivotdesk.cli.demo.clock import SimulatedClock
from pivotdesk.cli.demo.people import ORGANIZATIONS
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.customers import services as customer_services
from pivotdesk.tickets.models import Ticket
from pivotdesk.workforce.services import time_tracking

DEMO = Actor.system("demo")

# (tags, notes) by tier: what an account team writes about its customers.
ORGANIZATION_NOTES = {
    "strategic": (
        ["战略客户", "年度复盘", "24x7"],
        "战略合作客户：重大故障 30 分钟内电话通知客户 IT 负责人，并抄送客户经理。每季度做一次服务复盘。",
    ),
    "vip": (
        ["VIP", "续约关注"],
        "VIP 客户：优先处理，涉及退款或赔偿的工单请先与客户经理确认。",
    ),
    "standard": (
        ["标准服务"],
        "标准服务客户：工作日 9:00–18:00 响应。",
    ),
}
MANUAL_NOTES = ("电话沟通", "远程排查", "查询订单记录", "写解决方案", "与物流确认", "Call with the customer", "")


def configure_time_tracking(world: DemoWorld, clock: SimulatedClock, real_now: dt.datetime, *, seed: int = 18) -> None:
    """Account managers, tags and notes on the organizations; time entries on up to 40 assigned tickets."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    managers = {agent.name.split(" ")[0]: agent for agent in world.agents.values()}
    managers |= {agent.name.split(" ", 1)[-1]: agent for agent in world.agents.values()}
    for org, (_name, tier, _domain, account) in zip(world.organizations, ORGANIZATIONS, strict=False):
        tags, notes = ORGANIZATION_NOTES.get(tier, ORGANIZATION_NOTES["standard"])
        manager = managers.get(str(account.get("account_manager", "")))
        customer_services.organization_update(
            organization=org, actor=DEMO, tags=tags, notes=notes, account_manager=manager
        )
    tickets = list(
        Ticket.objects.filter(workspace=world.workspace, assignee__isnull=False)
        .select_related("assignee", "workspace")
        .order_by("-created_at")[:40]
    )
    for i, ticket in enumerate(tickets):
        start = max(ticket.created_at, real_now - dt.timedelta(days=29)) + dt.timedelta(minutes=rng.randint(5, 240))
        if ticket.assignee is None or start >= real_now - dt.timedelta(hours=1):
            continue
        clock.set(start + dt.timedelta(hours=2))
        time_tracking.time_entry_add(
            ticket=ticket,
            actor=DEMO,
            agent=ticket.assignee,
            duration=rng.choice(("10m", "15m", "20m", "30m", "45m", "1h", "1h 30m")),
            note=rng.choice(MANUAL_NOTES),
            started_at=start,
        )
        if i % 2 == 0:
            _track(clock, ticket, start + dt.timedelta(hours=1), minutes=rng.randint(3, 25))
    clock.set(real_now)


def _track(clock: SimulatedClock, ticket: Ticket, opened: dt.datetime, *, minutes: int) -> None:
    """An agent working on the ticket page for `minutes`: the page's reports, the first after a minute, then every
    five (the server credits what the wall clock allows)."""
    page = f"demo-{ticket.pk}"
    active = 60
    clock.set(opened + dt.timedelta(seconds=active))
    time_tracking.time_entry_track(ticket=ticket, actor=DEMO, agent=ticket.assignee, page=page, active_seconds=active)
    while active < minutes * 60:
        active += 300
        clock.set(opened + dt.timedelta(seconds=active))
        time_tracking.time_entry_track(
            ticket=ticket, actor=DEMO, agent=ticket.assignee, page=page, active_seconds=active
        )
