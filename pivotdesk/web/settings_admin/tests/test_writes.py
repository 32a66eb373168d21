"""Writes of the settings area go through the services: agents (with the last-admin guard), teams, categories,
statuses, custom fields (the option rows editor, no JSON), tags and tokens; bad input is a readable 4xx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, ApiToken, Role, Team
from pivotdesk.accounts.services import agent_update
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import Conflict
from pivotdesk.tickets.models import Category, CustomField, StatusDefinition, Tag

pytestmark = pytest.mark.django_db


# ---- custom fields: the option editor -----------------------------------------------------------------------------


def test_a_select_field_is_made_and_edited_with_option_rows(admin_agent_client):
    # given a new select field typed as rows (an empty row, spaces around a value)
    response = admin_agent_client.post(
        reverse("web:settings_field_new"),
        {
            "key": "Plan",
            "label": "Plan",
            "label_zh": "套餐",
            "field_type": "select",
            "option": ["Basic", " Pro ", "", "Enterprise"],
            "required": "1",
        },
    )
    field = CustomField.objects.get(key="plan")
    assert response.status_code == 302 and response["Location"] == reverse("web:settings_field", args=[field.pk])
    assert field.options == ["Basic", "Pro", "Enterprise"] and field.required and field.label_zh == "套餐"
    # when the page is opened, each option is its own input row (no JSON anywhere)
    page = admin_agent_client.get(reverse("web:settings_field", args=[field.pk])).content.decode()
    assert page.count('name="option"') >= 3 and 'value="Enterprise"' in page and "[&quot;" not in page
    assert "<textarea" not in page
    # and the rows come back reordered, one removed, one added
    admin_agent_client.post(
        reverse("web:settings_field", args=[field.pk]),
        {"label": "Plan", "label_zh": "套餐", "option": ["Enterprise", "Basic", "Team"], "active": "1"},
    )
    field.refresh_from_db()
    assert field.options == ["Enterprise", "Basic", "Team"] and not field.required and field.active


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["Basic", "basic"], "listed twice"),
        (["", " "], "at least one option"),
        (["x" * 121], "at most 120 characters"),
    ],
)
def test_bad_option_rows_are_a_readable_422(admin_agent_client, options, words):
    response = admin_agent_client.post(
        reverse("web:settings_field_new"),
        {"key": "tier", "label": "Tier", "field_type": "multiselect", "option": options},
    )
    assert response.status_code == 422 and words in response.content.decode()
    assert not CustomField.objects.filter(key="tier").exists()


def test_a_text_field_has_no_options_and_its_key_is_unique(admin_agent_client, configured):
    admin_agent_client.post(
        reverse("web:settings_field_new"), {"key": "order", "label": "Order", "field_type": "text", "option": ["x"]}
    )
    assert CustomField.objects.get(key="order").options == []
    again = admin_agent_client.post(
        reverse("web:settings_field_new"), {"key": "plan", "label": "Plan 2", "field_type": "text"}
    )
    assert again.status_code == 409 and "already exists" in again.content.decode()
    unknown = admin_agent_client.post(
        reverse("web:settings_field_new"), {"key": "k", "label": "K", "field_type": "json"}
    )
    assert unknown.status_code == 422


def test_fields_move_up_and_down(admin_agent_client, configured, workspace):
    second = CustomField.objects.create(workspace=workspace, key="b", label="B", field_type="text", position=5)
    admin_agent_client.post(reverse("web:settings_field_move", args=[second.pk]), {"direction": "up"})
    assert list(CustomField.objects.filter(workspace=workspace).values_list("key", flat=True)) == ["b", "plan"]


# ---- agents and the admin guards ----------------------------------------------------------------------------------


def test_an_agent_is_edited_role_teams_skills_capacity_languages(admin_agent_client, agent, configured):
    team = configured["team"]
    response = admin_agent_client.post(
        reverse("web:settings_agent", args=[agent.pk]),
        {
            "role": "supervisor",
            "ticket_access": "teams",
            "teams_form": "1",
            "skills_form": "1",
            "skill_name": ["printers", "refunds", ""],
            "skill_level": ["5", "2", "3"],
            "capacity_email": "12",
            "capacity_chat": "0",
            "capacity_messaging": "4",
            "capacity_voice": "1",
            "languages": "zh, EN",
            "seniority": "3",
        },
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.role == "supervisor" and agent.ticket_access == "teams" and agent.seniority == 3
    assert agent.capacity == {"email": 12, "chat": 0, "messaging": 4, "voice": 1}
    assert agent.languages == ["zh", "en"]
    assert not agent.teams.filter(pk=team.pk).exists()  # unticked
    assert {(s.skill.name, s.level) for s in agent.skills.select_related("skill")} == {("printers", 5), ("refunds", 2)}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"capacity_email": "lots"}, "whole number"),
        ({"capacity_chat": "-1"}, "whole number"),
        ({"languages": "中文"}, "not a language code"),
        ({"role": "root"}, "Unknown role"),
        ({"skills_form": "1", "skill_name": ["printers"], "skill_level": ["9"]}, "between 1 and 5"),
        ({"seniority": "x"}, "Unknown seniority"),
    ],
)
def test_bad_agent_input_is_a_readable_422(admin_agent_client, agent, data, words):
    response = admin_agent_client.post(reverse("web:settings_agent", args=[agent.pk]), data)
    assert response.status_code == 422 and words in response.content.decode()


def test_an_admin_cannot_demote_or_deactivate_themselves(admin_agent_client, admin_agent):
    demote = admin_agent_client.post(reverse("web:settings_agent", args=[admin_agent.pk]), {"role": "agent"})
    assert demote.status_code == 422 and "your own admin role" in demote.content.decode()
    off = admin_agent_client.post(reverse("web:settings_agent_active", args=[admin_agent.pk]), {"active": "0"})
    assert off.status_code == 422
    admin_agent.refresh_from_db()
    assert admin_agent.role == Role.ADMIN and admin_agent.is_active


def test_the_last_admin_stays_when_two_admins_demote_each_other(workspace):
    # given two admins, each with the page open (their profiles read before either change)
    first = AgentFactory(workspace=workspace, role=Role.ADMIN)
    second = AgentFactory(workspace=workspace, role=Role.ADMIN)
    as_first, as_second = Actor.for_agent(AgentProfile.objects.get(pk=first.pk)), Actor.for_agent(second)
    # when the first demotes the second, and the second (still an admin on their page) demotes the first
    agent_update(agent=AgentProfile.objects.get(pk=second.pk), actor=as_first, role=Role.AGENT)
    with pytest.raises(Conflict, match="last admin"):
        agent_update(agent=AgentProfile.objects.get(pk=first.pk), actor=as_second, role=Role.AGENT)
    # then the workspace keeps one admin
    assert AgentProfile.objects.filter(workspace=workspace, role=Role.ADMIN, is_active=True).count() == 1


def test_deactivating_keeps_history_and_can_be_undone(admin_agent_client, agent, configured):
    ticket = configured["ticket"]
    ticket.assignee = agent
    ticket.save()
    admin_agent_client.post(reverse("web:settings_agent_active", args=[agent.pk]), {"active": "0"})
    agent.refresh_from_db()
    assert not agent.is_active and AgentProfile.objects.filter(pk=agent.pk).exists()
    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk
    admin_agent_client.post(reverse("web:settings_agent_active", args=[agent.pk]), {"active": "1"})
    agent.refresh_from_db()
    assert agent.is_active


# ---- teams, categories, statuses, tags, tokens --------------------------------------------------------------------


def test_a_team_is_created_renamed_and_given_members_and_a_lead(admin_agent_client, admin_agent, agent):
    created = admin_agent_client.post(reverse("web:settings_teams"), {"name": "VIP desk"})
    team = Team.objects.get(workspace=admin_agent.workspace, name="VIP desk")
    assert created.status_code == 302
    admin_agent_client.post(
        reverse("web:settings_team", args=[team.pk]), {"name": "VIP", "members": [admin_agent.pk], "lead": agent.pk}
    )
    team.refresh_from_db()
    assert team.name == "VIP" and team.lead_id == agent.pk
    assert set(team.members.values_list("pk", flat=True)) == {admin_agent.pk, agent.pk}
    bad = admin_agent_client.post(reverse("web:settings_team", args=[team.pk]), {"name": ""})
    assert bad.status_code == 422 and "required" in bad.content.decode()


def test_categories_are_added_renamed_moved_and_archived(admin_agent_client, configured, workspace):
    top, child = configured["category"], configured["child"]
    admin_agent_client.post(reverse("web:settings_categories"), {"name": "Shipping", "name_zh": "物流"})
    shipping = Category.objects.get(workspace=workspace, name="Shipping")
    assert shipping.name_zh == "物流" and shipping.parent is None
    admin_agent_client.post(
        reverse("web:settings_category", args=[child.pk]), {"name": "Returns", "name_zh": "退货", "parent": shipping.pk}
    )
    child.refresh_from_db()
    assert (child.name, child.name_zh, child.parent_id) == ("Returns", "退货", shipping.pk)
    loop = admin_agent_client.post(
        reverse("web:settings_category", args=[shipping.pk]), {"name": "Shipping", "parent": child.pk}
    )
    assert loop.status_code == 422 and "under itself" in loop.content.decode()
    admin_agent_client.post(reverse("web:settings_category", args=[top.pk]), {"action": "archive"})
    top.refresh_from_db()
    assert not top.active


def test_statuses_are_added_renamed_ordered_and_made_default(admin_agent_client, configured, workspace):
    first = configured["status"]
    admin_agent_client.post(
        reverse("web:settings_statuses"), {"category": "pending", "label": "Waiting for customer", "is_default": "1"}
    )
    second = StatusDefinition.objects.get(workspace=workspace, label="Waiting for customer")
    assert second.is_default
    admin_agent_client.post(reverse("web:settings_status", args=[first.pk]), {"action": "default"})
    second.refresh_from_db()
    first.refresh_from_db()
    assert first.is_default and not second.is_default
    admin_agent_client.post(reverse("web:settings_status_move", args=[second.pk]), {"direction": "up"})
    order = list(StatusDefinition.objects.filter(workspace=workspace).values_list("label", flat=True))
    assert order == ["Waiting for customer", "Waiting for parts"]
    clash = admin_agent_client.post(
        reverse("web:settings_status", args=[second.pk]), {"label": "Waiting for parts", "label_zh": ""}
    )
    assert clash.status_code == 409
    bad = admin_agent_client.post(reverse("web:settings_statuses"), {"category": "limbo", "label": "X"})
    assert bad.status_code == 422 and "Unknown status category" in bad.content.decode()


def test_tags_are_renamed_merged_and_deleted(admin_agent_client, configured, workspace):
    ticket, vip = configured["ticket"], configured["tag"]
    gold = Tag.objects.create(workspace=workspace, name="gold")
    admin_agent_client.post(reverse("web:settings_tag", args=[vip.pk]), {"action": "rename", "name": "Key Account"})
    vip.refresh_from_db()
    assert vip.name == "key_account"
    taken = admin_agent_client.post(reverse("web:settings_tag", args=[vip.pk]), {"action": "rename", "name": "gold"})
    assert taken.status_code == 409 and "merge into it" in taken.content.decode()
    admin_agent_client.post(reverse("web:settings_tag", args=[vip.pk]), {"action": "merge", "into": "gold"})
    assert list(ticket.tags.values_list("name", flat=True)) == ["gold"]
    assert not Tag.objects.filter(pk=vip.pk).exists()
    admin_agent_client.post(reverse("web:settings_tag", args=[gold.pk]), {"action": "delete"})
    assert ticket.tags.count() == 0
    unknown = admin_agent_client.post(reverse("web:settings_tag", args=[gold.pk]), {"action": "delete"})
    assert unknown.status_code == 404


def test_an_admin_revokes_any_token_of_the_workspace(admin_agent_client, configured, client_as, agent):
    token = configured["token"]
    assert client_as(agent).post(reverse("web:settings_token_revoke", args=[token.pk])).status_code == 403
    assert admin_agent_client.post(reverse("web:settings_token_revoke", args=[token.pk])).status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_another_workspaces_objects_are_not_found(admin_agent_client, other_workspace):
    from pivotdesk.tickets.services.configuration import category_create, tag_get_or_create

    theirs = category_create(workspace=other_workspace, actor=Actor.system(), name="Theirs")
    tag = tag_get_or_create(workspace=other_workspace, actor=Actor.system(), name="theirs")
    other_agent = AgentFactory(workspace=other_workspace)
    assert (
        admin_agent_client.post(reverse("web:settings_category", args=[theirs.pk]), {"action": "archive"}).status_code
        == 404
    )
    assert admin_agent_client.post(reverse("web:settings_tag", args=[tag.pk]), {"action": "delete"}).status_code == 404
    assert admin_agent_client.get(reverse("web:settings_agent", args=[other_agent.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.active and Tag.objects.filter(pk=tag.pk).exists()
