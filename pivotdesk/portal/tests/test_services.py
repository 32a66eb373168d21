"""The portal's write rules: a customer acts only as themselves; the theme's colours, logo and domain are checked;
organization managers are an agent's decision."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.customers.models import CustomerOrganization
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.portal.models import CustomerPreference, OrganizationManager, PortalTheme
from pivotdesk.portal.services import admin, customer
from pivotdesk.tickets.models import Message

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_customer_acts_only_as_themselves(workspace, contact, ticket, agent):
    other = ContactFactory(workspace=workspace)
    as_other = Actor.for_contact(other.pk)
    with pytest.raises(PermissionDenied):
        customer.portal_reply(actor=as_other, ticket=ticket, body="not mine")
    with pytest.raises(PermissionDenied):
        customer.portal_reply(actor=Actor.for_agent(agent), ticket=ticket, body="an agent is not the customer")
    with pytest.raises(PermissionDenied):
        customer.preference_save(actor=as_other, contact=contact, progress_notices=False)
    with pytest.raises(PermissionDenied):
        customer.portal_request_create(actor=as_other, workspace=workspace, contact=contact, subject="s", body="b")
    assert Message.objects.filter(ticket=ticket).count() == 1 and not CustomerPreference.objects.exists()
    me = Actor.for_contact(contact.pk)
    assert customer.portal_reply(actor=me, ticket=ticket, body="mine").author_type == "contact"
    assert customer.preference_save(actor=me, contact=contact, language="en").language == "en"


def test_preference_values_are_checked(contact):
    me = Actor.for_contact(contact.pk)
    with pytest.raises(ValidationFailed):
        customer.preference_save(actor=me, contact=contact, channel="pigeon")
    with pytest.raises(ValidationFailed):
        customer.preference_save(actor=me, contact=contact, language="fr")


def test_the_theme_is_checked_and_one_domain_belongs_to_one_workspace(workspace, other_workspace, admin_agent):
    actor = Actor.for_agent(admin_agent)
    with pytest.raises(ValidationFailed):
        admin.theme_save(actor=actor, workspace=workspace, primary_color="red")
    with pytest.raises(ValidationFailed):
        admin.theme_save(actor=actor, workspace=workspace, custom_domain="https://support.acme.test/x")
    with pytest.raises(ValidationFailed):
        admin.theme_save(actor=actor, workspace=workspace, logo=("logo.svg", b"<svg onload=alert(1)>"))
    theme = admin.theme_save(
        actor=actor,
        workspace=workspace,
        primary_color="#AA0011",
        custom_domain="Support.Acme.test",
        logo=("l.png", PNG),
    )
    assert (theme.primary_color, theme.custom_domain) == ("#aa0011", "support.acme.test") and theme.logo
    with pytest.raises(Conflict):
        admin.theme_save(actor=Actor.system(), workspace=other_workspace, custom_domain="support.acme.test")
    assert PortalTheme.objects.count() == 1


def test_organization_managers_are_set_by_agents(workspace, contact, agent, light_agent):
    org = CustomerOrganization.objects.create(workspace=workspace, name="Acme")
    with pytest.raises(PermissionDenied):
        admin.organization_manager_add(actor=Actor.for_agent(light_agent), contact=contact, organization=org)
    with pytest.raises(PermissionDenied):
        admin.organization_manager_add(actor=Actor.for_contact(contact.pk), contact=contact, organization=org)
    manager = admin.organization_manager_add(actor=Actor.for_agent(agent), contact=contact, organization=org)
    assert admin.organization_manager_add(actor=Actor.for_agent(agent), contact=contact, organization=org) == manager
    admin.organization_manager_remove(actor=Actor.for_agent(agent), manager=manager)
    assert not OrganizationManager.objects.exists()


def test_only_those_who_manage_notifications_retry_a_notice(workspace, contact, ticket, agent, supervisor):
    from pivotdesk.portal.services import notices, progress

    contact.email = ""
    contact.save()
    contact.identities.all().delete()
    notice = progress.progress_notify(actor=Actor.system(), ticket=ticket, change="solved", event_id="e9")
    assert notice is not None and notice.status == "failed"
    with pytest.raises(PermissionDenied):
        notices.notice_retry(actor=Actor.for_agent(agent), notice=notice)
    assert notices.notice_retry(actor=Actor.for_agent(supervisor), notice=notice).attempts == 1
