"""Seeding the demo workspace's configuration and people, through the services."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password

from pivotdesk.accounts import services as accounts_services
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Team, User, Workspace
from pivotdesk.accounts.permissions import is_assignable
from pivotdesk.cli.demo import DEMO_NAME, DEMO_PASSWORD, DEMO_SLUG
from pivotdesk.cli.demo.people import (
    AGENTS,
    CATEGORIES,
    CITIES,
    CUSTOM_FIELDS,
    EN_FIRST,
    EN_LAST,
    ORGANIZATIONS,
    PERSONAL_DOMAINS_EN,
    PERSONAL_DOMAINS_ZH,
    SAVED_VIEWS,
    SKILLS,
    STATUS_LABELS,
    TEAMS,
    ZH_GIVEN,
    ZH_SURNAMES,
)
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import Contact, CustomerOrganization
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Category, StatusDefinition


@dataclass
class DemoWorld:
    """What the ticket generator needs to know of the seeded configuration."""

    workspace: Workspace
    agents: dict[str, AgentProfile] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    team_members: dict[str, list[AgentProfile]] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    status_labels: dict[str, StatusDefinition] = field(default_factory=dict)
    organizations: list[CustomerOrganization] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    # contact id -> identity kinds it has beyond email/phone (wechat, whatsapp, telegram)
    identity_kinds: dict[int, set[str]] = field(default_factory=dict)


def create_workspace_and_people(rng: random.Random) -> DemoWorld:
    """The workspace, its agents with skills, teams, and the ticket configuration."""
    workspace = accounts_services.workspace_create(
        actor=Actor.system("demo"), name=DEMO_NAME, slug=DEMO_SLUG, languages=["zh", "en"]
    )
    world = DemoWorld(workspace=workspace)
    skills = {
        name: accounts_services.skill_get_or_create(actor=Actor.system("demo"), workspace=workspace, name=name)
        for name in SKILLS
    }
    for spec in AGENTS:
        _, lat, lon = CITIES[spec.city]
        profile: dict[str, object] = {
            "latitude": lat,
            "longitude": lon,
            "seniority": spec.seniority,
            "signature": spec.display_name.split(" ")[0],
        }
        if spec.capacity:
            profile["capacity"] = spec.capacity
        agent = accounts_services.agent_create(
            actor=Actor.system("demo"),
            workspace=workspace,
            username=spec.username,
            email=spec.email,
            password=None,
            display_name=spec.display_name,
            role=spec.role,
            languages=list(spec.languages),
            **profile,
        )
        for skill_name, level in spec.skills:
            accounts_services.agent_skill_set(
                actor=Actor.system("demo"), agent=agent, skill=skills[skill_name], level=level
            )
        if rng.random() < 0.6:
            accounts_services.agent_set_status(
                actor=Actor.system("demo"), agent=agent, status=rng.choice(["online", "online", "away"])
            )
        world.agents[spec.username] = agent
    # Seed-data shortcuts without a service yet: one password hash shared by every demo login (hashing twelve
    # times costs ~20 s on a small machine), and the demo admin may open Django's admin.
    usernames = [a.username for a in AGENTS]
    User.objects.filter(username__in=usernames).update(password=make_password(DEMO_PASSWORD))
    User.objects.filter(username="admin").update(is_staff=True, is_superuser=True)
    leads = {"tech": "supervisor", "billing": "liu.yang", "field": "zhou.qiang"}
    for key, (name, description) in TEAMS.items():
        members = [world.agents[a.username] for a in AGENTS if a.team == key]
        world.teams[key] = accounts_services.team_create(
            actor=Actor.system("demo"),
            workspace=workspace,
            name=name,
            description=description,
            members=members,
            lead=world.agents[leads[key]],
        )
        world.team_members[key] = [m for m in members if is_assignable(m)]
    _configure_tickets(world)
    _configure_routing(world, skills)
    return world


# Skills the categories require (routing's "skills required by the category/product"), minimum level each.
CATEGORY_SKILLS = {
    "billing": ("退款与账单 Billing", 2),
    "invoices": ("发票 Invoicing", 2),
    "shipping": ("物流 Logistics", 2),
    "login": ("账号安全 Account security", 2),
    "device": ("设备维修 Device repair", 3),
    "api": ("API 集成 API integration", 3),
    "installation": ("现场安装 On-site installation", 2),
    "repair": ("设备维修 Device repair", 3),
}


def _configure_routing(world: DemoWorld, skills: dict[str, Any]) -> None:
    """Routing: skills on categories, a senior pool for VIP/strategic customers, field service by distance, and a
    weighted policy for everything else (the demo's tickets are seeded assigned; new ones get routed)."""
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.routing import services as routing_services

    actor = Actor.system("demo seed")
    for key, (skill_name, level) in CATEGORY_SKILLS.items():
        routing_services.category_skill_set(
            category=world.categories[key], skill=skills[skill_name], min_level=level, actor=actor
        )
    ws = world.workspace
    routing_services.policy_create(
        workspace=ws,
        actor=actor,
        fields={
            "name": "VIP 与战略客户 VIP & strategic",
            "conditions": {"tiers": ["vip", "strategic"]},
            "strategy": "weighted",
            "seniority_by_tier": {"vip": 3, "strategic": 4},
            "weights": {"value": 3.0, "impact": 2.0, "continuity": 2.0},
            "overflow_team": world.teams["tech"],
            "skill_timeout_seconds": 120,
        },
    )
    routing_services.policy_create(
        workspace=ws,
        actor=actor,
        fields={
            "name": "现场服务 Field service",
            "conditions": {"categories": [world.categories["field"].pk]},
            "strategy": "weighted",
            "team": world.teams["field"],
            "max_distance_km": 300,
            "weights": {"geography": 3.0},
        },
    )
    routing_services.policy_create(
        workspace=ws,
        actor=actor,
        fields={"name": "其他客户 Everyone else", "strategy": "weighted", "batch_threshold": 20},
    )


def _configure_tickets(world: DemoWorld) -> None:
    workspace = world.workspace
    for position, (key, label, label_zh, field_type, options) in enumerate(CUSTOM_FIELDS):
        ticket_services.custom_field_create(
            actor=Actor.system("demo"),
            workspace=workspace,
            key=key,
            label=label,
            label_zh=label_zh,
            field_type=field_type,
            options=list(options),
            position=position,
        )
    for key, (name, name_zh, parent) in CATEGORIES.items():  # parents come first in CATEGORIES
        world.categories[key] = ticket_services.category_create(
            actor=Actor.system("demo"),
            workspace=workspace,
            name=name,
            name_zh=name_zh,
            parent=world.categories.get(parent),
        )
    for position, (category, label, label_zh, is_default) in enumerate(STATUS_LABELS):
        world.status_labels[label] = ticket_services.status_definition_create(
            actor=Actor.system("demo"),
            workspace=workspace,
            category=category,
            label=label,
            label_zh=label_zh,
            is_default=is_default,
            position=position,
        )
    for name, filters in SAVED_VIEWS:
        ticket_services.saved_view_create(actor=Actor.system("demo"), workspace=workspace, name=name, filters=filters)


def _phone(rng: random.Random, region: str) -> str:
    if region == "HK":
        return f"+852{rng.choice('569')}{rng.randint(0, 9_999_999):07d}"
    if region == "SG":
        return f"+65{rng.choice('89')}{rng.randint(0, 9_999_999):07d}"
    return f"+861{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"


def create_customers(world: DemoWorld, rng: random.Random, count: int = 80) -> None:
    """Organizations (standard, VIP, strategic) and contacts with Chinese and English names and IM identities."""
    for name, tier, domain, account in ORGANIZATIONS:
        world.organizations.append(
            customer_services.organization_create(
                actor=Actor.system("demo"),
                workspace=world.workspace,
                name=name,
                tier=tier,
                domains=[domain],
                account=account,
            )
        )
    used: set[str] = set()
    for i in range(count):
        english = i % 3 == 0
        org = world.organizations[i % len(world.organizations)] if i < 50 else None
        if english:
            first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
            name = f"{first} {last}"
            local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
            domain = org.domains[0] if org else rng.choice(PERSONAL_DOMAINS_EN)
            region = rng.choice(["CN", "HK", "SG", "CN"])
        else:
            (surname, s_py), (given, g_py) = rng.choice(ZH_SURNAMES), rng.choice(ZH_GIVEN)
            name = surname + given
            local = f"{s_py}.{g_py}" if org else f"{s_py}{g_py}{rng.randint(1, 99)}"
            domain = org.domains[0] if org else rng.choice(PERSONAL_DOMAINS_ZH)
            region = "CN"
        email = f"{local}@{domain}"
        while email in used:
            email = f"{local}{rng.randint(2, 999)}@{domain}"
        used.add(email)
        phone = _phone(rng, region) if rng.random() < 0.85 else ""
        identities: list[tuple[str, str]] = []
        if not english and rng.random() < 0.45:
            openid = "o" + "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=27))
            identities.append(("wechat", openid))
        if english and phone and rng.random() < 0.5:
            identities.append(("whatsapp", phone.lstrip("+")))
        if english and rng.random() < 0.3:
            identities.append(("telegram", str(rng.randint(10**8, 10**10))))
        contact = customer_services.contact_create(
            actor=Actor.system("demo"),
            workspace=world.workspace,
            name=name,
            email=email,
            phone=phone,
            organization=org,
            language="en" if english else "zh",
            identities=identities,
        )
        world.contacts.append(contact)
        world.identity_kinds[contact.pk] = {kind for kind, _ in identities}
