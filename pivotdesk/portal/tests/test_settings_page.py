"""The admins' portal settings page in the agent UI: theme, organization managers, the notice log with retry."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.customers.models import CustomerOrganization
from pivotdesk.portal.models import CustomerNotice, OrganizationManager, PortalTheme
from pivotdesk.portal.services import progress

pytestmark = pytest.mark.django_db
URL = "/settings/portal/"


def test_only_admins_open_the_portal_settings(client_as, agent, admin_agent):
    assert client_as(agent).get(URL).status_code == 403
    page = client_as(admin_agent).get(URL)
    assert page.status_code == 200 and "Customer portal" in page.content.decode()
    assert URL in client_as(admin_agent).get("/settings/").content.decode()  # linked from the settings menu


def test_the_admin_saves_the_theme_and_sees_a_readable_error(client_as, admin_agent, workspace):
    client = client_as(admin_agent, "zh-hans")
    bad = client.post(URL, {"action": "theme", "primary_color": "blue", "accent_color": "#000000"})
    assert bad.status_code == 422 and "六位十六进制" in bad.content.decode()
    ok = client.post(
        URL, {"action": "theme", "primary_color": "#123456", "accent_color": "#000000", "title_zh": "帮助"}
    )
    assert ok.status_code == 302 and PortalTheme.objects.get(workspace=workspace).primary_color == "#123456"


def test_managers_are_added_by_address_and_removed(client_as, admin_agent, workspace, contact, other_workspace):
    org = CustomerOrganization.objects.create(workspace=workspace, name="Acme")
    client = client_as(admin_agent)
    assert (
        client.post(URL, {"action": "manager_add", "organization": org.pk, "contact": contact.email}).status_code == 302
    )
    manager = OrganizationManager.objects.get(contact=contact, organization=org)
    foreign = CustomerOrganization.objects.create(workspace=other_workspace, name="Other")
    assert (
        client.post(URL, {"action": "manager_add", "organization": foreign.pk, "contact": contact.email}).status_code
        == 404
    )
    assert client.post(URL, {"action": "manager_remove", "manager": manager.pk}).status_code == 302
    assert not OrganizationManager.objects.exists()


def test_a_failed_notice_shows_its_reason_and_can_be_retried(client_as, admin_agent, workspace, ticket):
    ticket.requester.email = ""
    ticket.requester.save()
    ticket.requester.identities.all().delete()
    notice = progress.progress_notify(actor=Actor.system(), ticket=ticket, change="solved", event_id="e1")
    assert notice is not None and notice.status == "failed"
    page = client_as(admin_agent).get(URL).content.decode()
    assert "has no email address" in page or "no e" in page.lower()
    response = client_as(admin_agent).post(URL, {"action": "notice_retry", "notice": notice.pk})
    assert response.status_code == 302
    assert CustomerNotice.objects.get(pk=notice.pk).attempts >= 1
