"""Factories for routing tests: policies, skills on categories, devices and parts."""

from __future__ import annotations

from typing import Any, cast

import factory

from pivotdesk.accounts.models import AgentProfile, AgentSkill, Skill, Workspace
from pivotdesk.accounts.tests.factories import AgentFactory, WorkspaceFactory
from pivotdesk.routing.models import CategorySkill, Device, Part, RoutingPolicy
from pivotdesk.tickets.models import Category


class PolicyFactory(factory.django.DjangoModelFactory[RoutingPolicy]):
    class Meta:
        model = RoutingPolicy

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Policy {n}")
    strategy = "weighted"
    seniority_by_tier: dict[str, int] = {}


class DeviceFactory(factory.django.DjangoModelFactory[Device]):
    class Meta:
        model = Device

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Chiller {n}")
    serial = factory.Sequence(lambda n: f"SN-{n:05d}")
    latitude = 31.23
    longitude = 121.47


class PartFactory(factory.django.DjangoModelFactory[Part]):
    class Meta:
        model = Part

    workspace = factory.SubFactory(WorkspaceFactory)
    sku = factory.Sequence(lambda n: f"P-{n:04d}")
    name = factory.Sequence(lambda n: f"Part {n}")
    stock = 5


def policy(workspace: Workspace, **kwargs: Any) -> RoutingPolicy:
    return cast(RoutingPolicy, PolicyFactory(workspace=workspace, **kwargs))


def agent(workspace: Workspace, *, skills: dict[str, int] | None = None, **kwargs: Any) -> AgentProfile:
    """An online agent with the given skills (name → level)."""
    profile = cast(AgentProfile, AgentFactory(workspace=workspace, **kwargs))
    for name, level in (skills or {}).items():
        skill, _ = Skill.objects.get_or_create(workspace=workspace, name=name)
        AgentSkill.objects.create(agent=profile, skill=skill, level=level)
    return profile


def category_needing(
    workspace: Workspace, name: str, skills: dict[str, int], parent: Category | None = None
) -> Category:
    """A category whose tickets require these skills (name → minimum level)."""
    category = Category.objects.create(workspace=workspace, name=name, parent=parent)
    for skill_name, level in skills.items():
        skill, _ = Skill.objects.get_or_create(workspace=workspace, name=skill_name)
        CategorySkill.objects.create(workspace=workspace, category=category, skill=skill, min_level=level)
    return category
