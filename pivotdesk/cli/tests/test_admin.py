"""Django admin: every registered PivotDesk model lists for a superuser; admin writes go through services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from pivotdesk.accounts import services as accounts_services
from pivotdesk.accounts.actors import Actor
from pivotdesk.customers import services as customer_services
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import CustomField, Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

APPS = ("accounts", "customers", "tickets")


@pytest.fixture
def populated(workspace, agent):
    """One row of every registered model, so changelists render real rows."""
    skill = accounts_services.skill_get_or_create(actor=Actor.system(), workspace=workspace, name="设备维修")
    accounts_services.agent_skill_set(actor=Actor.system(), agent=agent, skill=skill, level=4)
    accounts_services.team_create(actor=Actor.system(), workspace=workspace, name="技术支持", members=[agent])
    accounts_services.api_token_create(actor=Actor.system(), agent=agent, name="ERP")
    org = customer_services.organization_create(actor=Actor.system(), workspace=workspace, name="星河科技", tier="vip")
    contact = customer_services.contact_create(
        actor=Actor.system(),
        workspace=workspace,
        name="王伟",
        email="wang.wei@example.cn",
        organization=org,
        identities=[("wechat", "oAbc")],
    )
    ticket_services.custom_field_create(
        actor=Actor.system(), workspace=workspace, key="device_model", label="Device", field_type="text"
    )
    ticket_services.status_definition_create(
        actor=Actor.system(), workspace=workspace, category="on_hold", label="Waiting for parts"
    )
    ticket_services.category_create(actor=Actor.system(), workspace=workspace, name="Billing", name_zh="账务")
    ticket_services.tag_get_or_create(actor=Actor.system(), workspace=workspace, name="vip")
    ticket_services.saved_view_create(
        actor=Actor.system(), workspace=workspace, name="Unassigned", filters={"unassigned": True}
    )
    ticket = make_ticket(workspace=workspace, requester=contact, subject="打印机坏了")
    ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="我们来看看")
    return ticket


def registered_models():
    return [m for m in admin.site._registry if m._meta.app_label in APPS]


def test_every_pivotdesk_model_of_the_foundation_is_registered():
    names = {m.__name__ for m in registered_models()}
    assert names >= {
        "Workspace",
        "User",
        "AgentProfile",
        "Team",
        "Skill",
        "ApiToken",
        "CustomerOrganization",
        "Contact",
        "CustomField",
        "StatusDefinition",
        "Category",
        "Tag",
        "SavedView",
        "Ticket",
    }


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m.__name__)
def test_changelist_answers_for_a_superuser(admin_client, populated, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    obj = model._default_manager.first()
    if obj is not None:
        change = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
        assert admin_client.get(change).status_code == 200


def test_ticket_page_shows_messages_and_timeline(admin_client, populated):
    page = admin_client.get(reverse("admin:tickets_ticket_change", args=[populated.pk]))
    assert "我们来看看" in page.content.decode()
    assert admin_client.get(reverse("admin:tickets_ticket_add")).status_code == 403


def test_revoke_action_revokes_through_the_service(admin_client, agent):
    token, _ = accounts_services.api_token_create(actor=Actor.system(), agent=agent, name="CI")
    admin_client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_mark_solved_action_records_the_timeline(admin_client, populated):
    admin_client.post(
        reverse("admin:tickets_ticket_changelist"), {"action": "mark_solved", "_selected_action": [populated.pk]}
    )
    ticket = Ticket.objects.get(pk=populated.pk)
    assert ticket.status == "solved"
    assert TicketEvent.objects.filter(ticket=ticket, verb="status_changed", new_value="solved").exists()


def test_adding_a_custom_field_goes_through_the_service(admin_client, workspace):
    response = admin_client.post(
        reverse("admin:tickets_customfield_add"),
        {
            "workspace": workspace.pk,
            "key": "model",
            "label": "Model",
            "label_zh": "型号",
            "field_type": "select",
            "options": '["A", "B"]',
            "position": 0,
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert CustomField.objects.get(workspace=workspace, key="model").options == ["A", "B"]
