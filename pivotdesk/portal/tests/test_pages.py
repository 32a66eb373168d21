"""The customer's pages: my requests (open / solved, my organization's for its managers), a request with its
plain-language timeline and public conversation only, replies with files, a new request, the language switch."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import TeamFactory
from pivotdesk.customers.models import CustomerOrganization
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.portal.models import CustomerPreference
from pivotdesk.portal.services import admin as portal_admin
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import AuthorType, Message, MessageKind, StatusDefinition, Ticket
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_signed_out_visitors_are_sent_to_sign_in(workspace):
    response = Client().get(f"/portal/{workspace.slug}/requests/")
    assert response.status_code == 302 and f"/portal/{workspace.slug}/signin/" in response["Location"]
    assert Client().get("/portal/no-such-workspace/signin/").status_code == 404


def test_the_request_page_shows_the_timeline_and_the_public_conversation_only(workspace, contact, agent, portal_client):
    # given a request taken by a team, with an agent's reply, an internal note, and waiting on the customer
    agent.user.email = "agent.private@acme.test"
    agent.user.save()
    team = TeamFactory(workspace=workspace, name="Billing")
    ticket = make_ticket(workspace=workspace, requester=contact, subject="Invoice wrong")
    actor = Actor.for_agent(agent)
    ticket_services.ticket_update(ticket=ticket, actor=actor, changes={"team": team})
    ticket_services.message_create(ticket=ticket, actor=actor, body="SECRET-NOTE do not tell", kind=MessageKind.NOTE)
    ticket_services.message_create(ticket=ticket, actor=actor, body="Which invoice number?", status_after="pending")
    # when the customer opens it
    html = portal_client(contact).get(f"/portal/{workspace.slug}/requests/{ticket.number}/").content.decode()
    # then the timeline says it in plain language, and the conversation holds the public messages only
    assert "We received your request." in html
    assert "Your request was assigned to the Billing team." in html
    assert "We are waiting for your answer." in html
    assert "Which invoice number?" in html and "It is on fire" in html
    assert "SECRET-NOTE" not in html and "agent.private@acme.test" not in html


def test_the_status_is_named_as_the_workspace_names_it_in_the_readers_language(workspace, contact, portal_client):
    label = StatusDefinition.objects.create(
        workspace=workspace, category="open", label="Being fixed", label_zh="正在修复", position=1
    )
    ticket = make_ticket(workspace=workspace, requester=contact)
    Ticket.objects.filter(pk=ticket.pk).update(status="open", custom_status=label)
    assert "Being fixed" in portal_client(contact, "en").get(f"/portal/{workspace.slug}/requests/").content.decode()
    zh = portal_client(contact, "zh-hans").get(f"/portal/{workspace.slug}/requests/{ticket.number}/")
    assert "正在修复" in zh.content.decode()


def test_a_reply_with_a_file_is_the_customers_message_and_the_file_downloads(workspace, contact, agent, portal_client):
    ticket = make_ticket(workspace=workspace, requester=contact)
    ticket_services.ticket_set_status(ticket=ticket, status="pending", actor=Actor.for_agent(agent))
    client = portal_client(contact)
    response = client.post(
        f"/portal/{workspace.slug}/requests/{ticket.number}/",
        {"body": "Here is the screenshot", "files": [SimpleUploadedFile("shot.png", PNG, "image/png")]},
    )
    assert response.status_code == 302
    message = Message.objects.filter(ticket=ticket).order_by("-pk").first()
    assert message.author_type == AuthorType.CONTACT and message.kind == MessageKind.PUBLIC
    assert message.body_text == "Here is the screenshot"
    ticket.refresh_from_db()
    assert ticket.status == "open"  # a customer's reply wakes a waiting request
    attachment = message.attachments.get()
    file_response = client.get(f"/portal/{workspace.slug}/requests/{ticket.number}/files/{attachment.pk}/")
    assert file_response.status_code == 200 and file_response["X-Content-Type-Options"] == "nosniff"
    # an empty reply is a readable 422, not a 500
    assert client.post(f"/portal/{workspace.slug}/requests/{ticket.number}/", {"body": " "}).status_code == 422


def test_a_new_request_from_the_portal(workspace, contact, portal_client):
    client = portal_client(contact)
    assert client.post(f"/portal/{workspace.slug}/requests/new/", {"subject": "", "body": "x"}).status_code == 422
    response = client.post(
        f"/portal/{workspace.slug}/requests/new/",
        {"subject": "Cannot log in", "body": "Since this morning", "files": [SimpleUploadedFile("a.txt", b"log")]},
    )
    ticket = Ticket.objects.get(workspace=workspace, subject="Cannot log in")
    assert response.status_code == 302 and response["Location"].endswith(f"/requests/{ticket.number}/")
    assert ticket.requester_id == contact.pk and ticket.messages.get().attachments.count() == 1


def test_open_and_solved_filters_and_the_organization_managers_view(workspace, contact, portal_client):
    org = CustomerOrganization.objects.create(workspace=workspace, name="Acme Corp")
    colleague = ContactFactory(workspace=workspace, organization=org)
    contact.organization = org
    contact.save()
    mine = make_ticket(workspace=workspace, requester=contact, subject="My open one")
    solved = make_ticket(workspace=workspace, requester=contact, subject="My solved one")
    ticket_services.ticket_set_status(ticket=solved, status="solved", actor=SYSTEM)
    theirs = make_ticket(workspace=workspace, requester=colleague, subject="Colleague's one")
    assert theirs.organization_id == org.pk  # a ticket takes its requester's organization
    client = portal_client(contact)
    url = f"/portal/{workspace.slug}/requests/"
    open_page = client.get(url).content.decode()
    assert "My open one" in open_page and "My solved one" not in open_page and "Colleague" not in open_page
    assert "My solved one" in client.get(url + "?state=solved").content.decode()
    # a plain customer cannot open a colleague's request, nor see the organization tab
    assert client.get(f"{url}{theirs.number}/").status_code == 404
    assert "Colleague" not in client.get(url + "?scope=organization").content.decode()
    # once an agent makes them the organization's manager, they see it (read-only: no reply box)
    portal_admin.organization_manager_add(actor=SYSTEM, contact=contact, organization=org)
    assert "Colleague" in client.get(url + "?scope=organization").content.decode()
    page = client.get(f"{url}{theirs.number}/")
    assert page.status_code == 200 and 'name="body"' not in page.content.decode()
    assert client.post(f"{url}{theirs.number}/", {"body": "hi"}).status_code == 403
    assert mine.pk


def test_the_language_switch_is_remembered_for_the_customer(workspace, contact, portal_client):
    client = portal_client(contact, "en")
    response = client.post(
        f"/portal/{workspace.slug}/language/", {"language": "zh-hans", "next": f"/portal/{workspace.slug}/requests/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/portal/{workspace.slug}/requests/"
    assert CustomerPreference.objects.get(contact=contact).language == "zh-hans"
    assert "我的请求" in client.get(f"/portal/{workspace.slug}/requests/").content.decode()
    # an outside `next` is not followed
    away = client.post(f"/portal/{workspace.slug}/language/", {"language": "en", "next": "https://evil.test/"})
    assert away["Location"] == f"/portal/{workspace.slug}/"


def test_the_page_fits_a_phone_and_carries_the_theme(workspace, contact, portal_client, admin_agent):
    portal_admin.theme_save(actor=Actor.for_agent(admin_agent), workspace=workspace, primary_color="#aa0011")
    html = portal_client(contact).get(f"/portal/{workspace.slug}/requests/").content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert f"/portal/{workspace.slug}/theme.css" in html
    css = Client().get(f"/portal/{workspace.slug}/theme.css")
    assert css.status_code == 200 and b"--pd-primary:#aa0011" in css.content


def test_the_help_centre_uses_the_portal_look(workspace, supervisor, admin_agent):
    from pivotdesk.knowledge import services as knowledge_services

    knowledge_services.article_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        title="Reset your password",
        body="Choose Forgot password.",
        language="en",
        visibility="public",
        status="published",
    )
    portal_admin.theme_save(actor=Actor.for_agent(admin_agent), workspace=workspace, title="Acme Care")
    html = Client().get(f"/help/{workspace.slug}/?lang=en").content.decode()
    assert "portal/portal.css" in html and f"/portal/{workspace.slug}/theme.css" in html
    assert "Acme Care" in html and "portal-top" in html
