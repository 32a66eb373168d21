"""The demo workspace's service levels: a China business calendar (lunch break, statutory holidays and make-up
days) and three policies in matching order — VIP customers, device faults, everyone else — with a two-level
escalation ladder. Clocks are computed for the seeded tickets at the end of seeding."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pivotdesk.accounts.actors import Actor
from pivotdesk.sla import services as sla_services

if TYPE_CHECKING:
    from pivotdesk.cli.demo.setup import DemoWorld
    from pivotdesk.tickets.models import Ticket

# (first reply, next reply, resolution) in business minutes per priority.
VIP = {"urgent": (15, 30, 240), "high": (30, 60, 480), "normal": (60, 120, 960), "low": (120, 240, 1920)}
DEVICE = {"urgent": (60, 120, 480), "high": (60, 120, 960), "normal": (120, 240, 1440), "low": (240, 480, 2880)}
STANDARD = {"urgent": (60, 120, 960), "high": (120, 240, 1440), "normal": (240, 480, 2400), "low": (480, 960, 4800)}


def _targets(table: dict[str, tuple[int, int, int]]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for priority, (first, following, resolution) in table.items():
        out += [
            {"priority": priority, "metric": "first_reply", "minutes": first, "warn_at_percent": [75]},
            {"priority": priority, "metric": "next_reply", "minutes": following},
            {"priority": priority, "metric": "resolution", "minutes": resolution, "warn_minutes_before": [60]},
        ]
    return out


def configure_sla(world: DemoWorld) -> None:
    """Calendar, policies and escalation levels of the demo workspace."""
    workspace, actor = world.workspace, Actor.system("demo")
    sla_services.calendar_create(
        workspace=workspace,
        actor=actor,
        name="中国大陆工作日 China business hours",
        time_zone="Asia/Shanghai",
        weekly_hours={str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)},
        country="CN",
        is_default=True,
    )
    policies = [
        sla_services.policy_create(
            workspace=workspace,
            actor=actor,
            name="VIP 客户 VIP customers",
            description="VIP 与战略客户：30 分钟内响应高优先级问题。",
            conditions={"tiers": ["vip", "strategic"]},
            targets=_targets(VIP),
        ),
        sla_services.policy_create(
            workspace=workspace,
            actor=actor,
            name="设备故障 Device faults",
            description="设备故障 1 小时内联系客户。",
            conditions={"category_ids": [world.categories["device"].pk, world.categories["repair"].pk]},
            targets=_targets(DEVICE),
        ),
        sla_services.policy_create(
            workspace=workspace,
            actor=actor,
            name="标准 Standard",
            description="普通咨询 2 小时响应（高优先级）。",
            targets=_targets(STANDARD),
        ),
    ]
    for policy in policies:
        sla_services.escalation_level_set(
            policy=policy, actor=actor, level=1, actions=[{"type": "notify", "to": "team_lead"}]
        )
        sla_services.escalation_level_set(
            policy=policy,
            actor=actor,
            level=2,
            minutes_after_breach=60,
            actions=[{"type": "notify", "to": "supervisors"}, {"type": "raise_priority"}],
        )


def apply_sla(tickets: list[Ticket], now: dt.datetime) -> None:
    """Compute the seeded tickets' clocks at `now` (what fell due is fired by the scanner once the worker runs)."""
    for ticket in tickets:
        if ticket.merged_into_id is None:
            sla_services.sla_apply(actor=Actor.system("demo"), ticket=ticket, now=now)


def targets_for(*, tier: str, category: str, priority: str) -> tuple[int, int, int]:
    """(first reply, next reply, resolution) in business minutes for a demo ticket: the policy that would match it
    (VIP customers first, then device faults, then everyone else)."""
    if tier in ("vip", "strategic"):
        table = VIP
    elif category in ("device", "repair"):
        table = DEVICE
    else:
        table = STANDARD
    return table.get(priority, table["normal"])
