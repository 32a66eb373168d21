"""The settings area's test world: a workspace with one of each thing the settings pages list."""

from __future__ import annotations

from typing import Any

import pytest

from pivotdesk.accounts import services as account_services
from pivotdesk.accounts.actors import Actor
from pivotdesk.tickets.services import configuration
from pivotdesk.tickets.tests.factories import make_ticket

SYSTEM = Actor.system("settings-test")


@pytest.fixture
def configured(workspace: Any, admin_agent: Any, agent: Any, contact: Any) -> dict[str, Any]:
    """A team, a skill, a category tree, a status label, a select field, a used tag, a token and an invitation."""
    team = account_services.team_create(workspace=workspace, actor=SYSTEM, name="Billing desk", members=[agent])
    skill = account_services.skill_get_or_create(workspace=workspace, actor=SYSTEM, name="printers")
    account_services.agent_skill_set(agent=agent, actor=SYSTEM, skill=skill, level=4)
    top = configuration.category_create(workspace=workspace, actor=SYSTEM, name="Billing", name_zh="账单")
    child = configuration.category_create(workspace=workspace, actor=SYSTEM, name="Refunds", parent=top)
    status = configuration.status_definition_create(
        workspace=workspace, actor=SYSTEM, category="pending", label="Waiting for parts", label_zh="等待配件"
    )
    field = configuration.custom_field_create(
        workspace=workspace,
        actor=SYSTEM,
        key="plan",
        label="Plan",
        label_zh="套餐",
        field_type="select",
        options=["basic", "pro"],
    )
    tag = configuration.tag_get_or_create(workspace=workspace, actor=SYSTEM, name="vip")
    ticket = make_ticket(workspace=workspace, requester=contact)
    ticket.tags.add(tag)
    token, _secret = account_services.api_token_create(agent=agent, actor=SYSTEM, name="ci")
    invitation, _link = account_services.invitation_create(
        workspace=workspace, actor=Actor.for_agent(admin_agent), email="new.person@example.com"
    )
    return {
        "team": team,
        "skill": skill,
        "category": top,
        "child": child,
        "status": status,
        "field": field,
        "tag": tag,
        "ticket": ticket,
        "token": token,
        "invitation": invitation,
    }
