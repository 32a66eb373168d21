"""Factories for the sla app."""

from __future__ import annotations

from typing import Any

import factory

from pivotdesk.accounts.tests.factories import WorkspaceFactory
from pivotdesk.sla.models import BusinessCalendar, EscalationLevel, SLAPolicy, SLATarget


class CalendarFactory(factory.django.DjangoModelFactory[BusinessCalendar]):
    class Meta:
        model = BusinessCalendar

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Calendar {n}")
    time_zone = "Asia/Shanghai"
    weekly_hours = factory.LazyFunction(lambda: {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)})
    country = "CN"


class PolicyFactory(factory.django.DjangoModelFactory[SLAPolicy]):
    class Meta:
        model = SLAPolicy

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Policy {n}")
    position = factory.Sequence(lambda n: n)
    conditions = factory.LazyFunction(dict)


def add_targets(policy: SLAPolicy, priority: str = "normal", **minutes: int | dict[str, Any]) -> list[SLATarget]:
    """add_targets(policy, "high", first_reply=60, resolution={"minutes": 480, "business_hours": False})."""
    out = []
    for metric, value in minutes.items():
        spec = value if isinstance(value, dict) else {"minutes": value}
        out.append(SLATarget.objects.create(policy=policy, priority=priority, metric=metric, **spec))
    return out


def add_level(policy: SLAPolicy, level: int, actions: list[dict[str, Any]], minutes: int = 0, metric: str = ""):
    return EscalationLevel.objects.create(
        policy=policy, level=level, actions=actions, minutes_after_breach=minutes, metric=metric
    )
