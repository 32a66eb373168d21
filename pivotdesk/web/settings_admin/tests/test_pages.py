"""Every settings page renders for an admin in both languages, is refused to a plain agent, and shows a supervisor
only what the gate gives them; the menu links every admin page of the product."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from pivotdesk.accounts.models import AgentProfile

pytestmark = pytest.mark.django_db


def pages(configured: dict[str, Any], agent: AgentProfile) -> list[str]:
    return [
        reverse("web:settings_home"),
        reverse("web:settings_agents"),
        reverse("web:settings_agent", args=[agent.pk]),
        reverse("web:settings_teams"),
        reverse("web:settings_team", args=[configured["team"].pk]),
        reverse("web:settings_tokens"),
        reverse("web:settings_categories"),
        reverse("web:settings_statuses"),
        reverse("web:settings_fields"),
        reverse("web:settings_field_new"),
        reverse("web:settings_field", args=[configured["field"].pk]),
        reverse("web:settings_tags"),
    ]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_renders_for_an_admin(client_as, admin_agent, agent, configured, language):
    client = client_as(admin_agent, language)
    for url in pages(configured, agent):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'class="sa-menu"' in html, url
        # the page speaks the reader's language: the menu's heading
        assert ("设置" if language == "zh-hans" else ">Settings<") in html, url


def test_pages_show_the_workspaces_own_rows(admin_agent_client, agent, configured):
    agents = admin_agent_client.get(reverse("web:settings_agents")).content.decode()
    assert "Billing desk" in agents and "printers" in agents and "new.person@example.com" in agents
    assert admin_agent_client.get(reverse("web:settings_categories")).content.decode().count("Refunds") >= 1
    statuses = admin_agent_client.get(reverse("web:settings_statuses")).content.decode()
    assert "Waiting for parts" in statuses and "等待配件" in statuses
    tags = admin_agent_client.get(reverse("web:settings_tags")).content.decode()
    assert 'data-tag="vip"' in tags
    tokens = admin_agent_client.get(reverse("web:settings_tokens")).content.decode()
    assert f"pd_{configured['token'].prefix}" in tokens and agent.name in tokens


def test_a_plain_agent_is_refused_every_page(client_as, agent, configured):
    client = client_as(agent)
    for url in pages(configured, agent):
        assert client.get(url).status_code == 403, url
    # and the user menu offers no settings link
    assert 'id="settings-link"' not in client.get(reverse("web:queue")).content.decode()


def test_a_supervisor_sees_the_pages_of_their_permissions_only(supervisor_client, agent, configured):
    home = supervisor_client.get(reverse("web:settings_home")).content.decode()
    assert reverse("web:settings_teams") in home and reverse("web:settings_categories") in home
    assert reverse("web:settings_agents") not in home and reverse("web:settings_fields") not in home
    assert supervisor_client.get(reverse("web:settings_teams")).status_code == 200
    assert supervisor_client.get(reverse("web:settings_agents")).status_code == 403
    assert supervisor_client.get(reverse("web:settings_fields")).status_code == 403


def test_the_menu_links_every_admin_page_of_the_product(admin_agent_client):
    # given the settings home, and the user menu of every page
    home = admin_agent_client.get(reverse("web:settings_home")).content.decode()
    assert 'id="settings-link"' in admin_agent_client.get(reverse("web:queue")).content.decode()
    # then every admin page elsewhere in the product is one click away
    for name in (
        "web:channels",
        "web:inbound_failed",
        "web:webhooks",
        "web:sla_policies",
        "web:sla_calendars",
        "web:routing_policies",
        "web:oncall_schedules",
        "web:oncall_policies",
        "web:automation_rules",
        "web:knowledge_categories",
        "web:knowledge_root_causes",
        "web:workforce_settings",
        "web:notification_deliveries",
    ):
        assert f'href="{reverse(name)}"' in home, name


def test_the_portal_theme_page_is_linked_when_it_exists(admin_agent_client):
    from django.urls import NoReverseMatch

    home = admin_agent_client.get(reverse("web:settings_home")).content.decode()
    try:
        url = reverse("web:portal_settings")
    except NoReverseMatch:
        assert "portal" not in home.lower() or "Customer portal" not in home
        return
    assert f'href="{url}"' in home


def test_django_admin_stays_for_superusers(admin_agent_client, admin_client):
    # a workspace admin is sent to the admin's login; the installation's superuser gets in
    assert admin_agent_client.get("/admin/").status_code == 302
    assert admin_client.get("/admin/").status_code == 200
