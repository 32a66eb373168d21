"""The ticket page: conversation, reply and note, properties, timeline, customer panel, links, merge, pulse."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_agent, new_contact, new_organization, new_team

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_ticket_page_shows_conversation_properties_customer_and_timeline(agent, workspace, client_as):
    org = new_organization(workspace=workspace, name="宏达科技", tier="vip")
    contact = new_contact(workspace=workspace, name="张伟", organization=org)
    ticket = make_ticket(workspace=workspace, requester=contact, subject="发票抬头错了", body="请帮我改一下发票抬头。")
    other = make_ticket(workspace=workspace, requester=contact, subject="Older chat", channel="chat")
    html = client_as(agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert "发票抬头错了" in html and "请帮我改一下发票抬头。" in html
    assert "张伟" in html and "宏达科技" in html and "tier-vip" in html
    assert f"#{other.number}" in html and "Older chat" in html  # customer's other tickets, any channel
    assert 'id="properties"' in html and 'id="timeline"' in html
    assert "created the ticket via Web form" in html
    assert contact.email in html  # identity listed


def test_reply_posts_a_public_message_that_shows_up(agent, ticket, client_as):
    client = client_as(agent)
    response = client.post(
        f"/tickets/{ticket.number}/reply/", {"body": "We are on it!", "kind": "public"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "We are on it!" in response.content.decode()
    assert "timeline-changed" in response["HX-Trigger"]
    message = Message.objects.get(ticket=ticket, body_text="We are on it!")
    assert message.kind == "public" and message.author_agent_id == agent.pk
    ticket.refresh_from_db()
    assert ticket.status == "open"  # an agent's first public reply opens a new ticket
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "We are on it!" in page and "added a public reply" in page


def test_internal_note_is_marked_and_distinct(agent, ticket, client_as):
    client = client_as(agent)
    client.post(f"/tickets/{ticket.number}/reply/", {"body": "Customer is a reseller", "kind": "note"})
    note = Message.objects.get(ticket=ticket, body_text="Customer is a reseller")
    assert note.kind == "note"
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'class="msg kind-note by-agent"' in html and "added an internal note" in html


def test_reply_can_solve_the_ticket(agent, ticket, client_as):
    client_as(agent).post(f"/tickets/{ticket.number}/reply/", {"body": "Fixed.", "status_after": "solved"})
    ticket.refresh_from_db()
    assert ticket.status == "solved"


def test_empty_reply_is_422_with_a_readable_message(agent, ticket, client_as):
    response = client_as(agent).post(f"/tickets/{ticket.number}/reply/", {"body": "  "}, headers=HTMX)
    assert response.status_code == 422
    assert "A message needs text or an attachment." in response.content.decode()
    assert 'class="toast error"' in response.content.decode()


def test_reply_with_attachment_lists_and_serves_it(agent, ticket, client_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_as(agent)
    upload = SimpleUploadedFile("log.txt", b"line 1\n", content_type="text/plain")
    client.post(f"/tickets/{ticket.number}/reply/", {"body": "See log", "files": [upload]})
    att = ticket.attachments.get()
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "log.txt" in html and f"/attachments/{att.pk}/" in html
    response = client.get(f"/tickets/{ticket.number}/attachments/{att.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"line 1\n"
    assert "attachment" in response["Content-Disposition"]


def test_status_change_in_sidebar_shows_on_timeline(agent, ticket, client_as):
    client = client_as(agent)
    response = client.post(f"/tickets/{ticket.number}/properties/", {"status": "cat:pending"}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "timeline-changed"
    assert 'hx-swap-oob="true"' in response.content.decode()  # the header chips follow
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    timeline = client.get(f"/tickets/{ticket.number}/timeline/", headers=HTMX).content.decode()
    assert "changed status New → Pending" in timeline


def test_status_change_timeline_in_chinese(agent, ticket, client_as):
    client = client_as(agent, language="zh-hans")
    client.post(f"/tickets/{ticket.number}/properties/", {"status": "cat:pending", "priority": "urgent"})
    timeline = client.get(f"/tickets/{ticket.number}/timeline/").content.decode()
    assert "将状态从 新建 改为 等待客户" in timeline
    assert "将优先级从 普通 改为 紧急" in timeline


def test_sidebar_changes_only_what_changed(agent, workspace, ticket, client_as):
    team = new_team(workspace=workspace, name="Billing")
    client = client_as(agent)
    form = {
        "status": "cat:new",
        "priority": "high",
        "ticket_type": "question",
        "category": "",
        "team": str(team.pk),
        "assignee": str(agent.pk),
        "tags": "refund, 发票",
        "followers_present": "1",
        "followers": [str(agent.pk)],
    }
    assert client.post(f"/tickets/{ticket.number}/properties/", form).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.team_id, ticket.assignee_id) == ("high", team.pk, agent.pk)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund", "发票"]
    assert list(ticket.followers.values_list("pk", flat=True)) == [agent.pk]
    events_before = ticket.events.count()
    client.post(f"/tickets/{ticket.number}/properties/", form)  # the same form again changes nothing
    assert ticket.events.count() == events_before


def test_custom_fields_rendered_by_type_and_saved(agent, workspace, ticket, client_as):
    ticket_services.custom_field_create(
        actor=Actor.system(), workspace=workspace, key="order_no", label="Order", field_type="text"
    )
    ticket_services.custom_field_create(
        actor=Actor.system(),
        workspace=workspace,
        key="plan",
        label="Plan",
        field_type="select",
        options=["basic", "pro"],
    )
    ticket_services.custom_field_create(
        actor=Actor.system(), workspace=workspace, key="urgent_ok", label="OK", field_type="checkbox"
    )
    ticket_services.custom_field_create(
        actor=Actor.system(), workspace=workspace, key="due", label="Due", field_type="date"
    )
    client = client_as(agent)
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert (
        'name="cf_order_no"' in html
        and 'type="date" name="cf_due"' in html
        and 'type="checkbox" name="cf_urgent_ok"' in html
    )
    client.post(
        f"/tickets/{ticket.number}/properties/",
        {"custom_fields_present": "1", "cf_order_no": "A-1", "cf_plan": "pro", "cf_urgent_ok": "on", "cf_due": ""},
    )
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"order_no": "A-1", "plan": "pro", "urgent_ok": True}
    bad = client.post(
        f"/tickets/{ticket.number}/properties/", {"custom_fields_present": "1", "cf_plan": "gold"}, headers=HTMX
    )
    assert bad.status_code == 422 and "Invalid custom fields" in bad.content.decode()


def test_invalid_transition_is_409_with_message(agent, ticket, client_as):
    response = client_as(agent).post(f"/tickets/{ticket.number}/properties/", {"status": "cat:closed"}, headers=HTMX)
    assert response.status_code == 409
    assert "cannot go from" in response.content.decode()


def test_custom_status_labels_are_offered(agent, workspace, ticket, client_as):
    label = ticket_services.status_definition_create(
        actor=Actor.system(), workspace=workspace, category="pending", label="Waiting for parts", label_zh="等待配件"
    )
    client = client_as(agent)
    assert "Waiting for parts" in client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "等待配件" in client_as(agent, "zh-hans").get(f"/tickets/{ticket.number}/").content.decode()
    client.post(f"/tickets/{ticket.number}/properties/", {"status": f"def:{label.pk}"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.custom_status_id) == ("pending", label.pk)


def test_assign_to_me(agent, ticket, client_as):
    response = client_as(agent).post(f"/tickets/{ticket.number}/assign-me/", headers=HTMX)
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk


def test_link_and_merge(agent, workspace, contact, client_as):
    a = make_ticket(workspace=workspace, requester=contact, subject="First")
    b = make_ticket(workspace=workspace, requester=contact, subject="Second")
    c = make_ticket(workspace=workspace, requester=contact, subject="Third")
    client = client_as(agent)
    client.post(f"/tickets/{a.number}/links/", {"kind": "related", "other": f"#{b.number}"})
    client.post(f"/tickets/{a.number}/links/", {"kind": "child", "other": str(c.number)})
    html = client.get(f"/tickets/{a.number}/").content.decode()
    assert "Second" in html and "Third" in html and "Children" in html and "Related" in html
    response = client.post(f"/tickets/{b.number}/merge/", {"into": str(a.number)})
    assert response["Location"] == f"/tickets/{a.number}/"
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
    html = client.get(f"/tickets/{b.number}/").content.decode()
    assert f'merged this ticket into <a href="/tickets/{a.number}/">#{a.number}</a>' in html


def test_link_to_unknown_ticket_is_404_message(agent, ticket, client_as):
    response = client_as(agent).post(f"/tickets/{ticket.number}/links/", {"kind": "related", "other": "999999"})
    assert response.status_code == 404
    assert "another workspace" in response.content.decode()


def test_link_without_number_is_422(agent, ticket, client_as):
    response = client_as(agent).post(f"/tickets/{ticket.number}/links/", {"kind": "related", "other": "abc"})
    assert response.status_code == 422


def test_pulse_warns_about_another_agent_replying(agent, workspace, ticket, client_as):
    other = new_agent(workspace=workspace, user__display_name="李伟")
    client_as(other).post(f"/tickets/{ticket.number}/pulse/", {"state": "replying"}, headers=HTMX)
    response = client_as(agent).post(f"/tickets/{ticket.number}/pulse/", {"state": "viewing"}, headers=HTMX)
    assert "李伟 is replying to this ticket" in response.content.decode()
    zh = client_as(agent, "zh-hans").post(f"/tickets/{ticket.number}/pulse/", {"state": "viewing"}, headers=HTMX)
    assert "李伟 正在回复此工单" in zh.content.decode()
    # the other agent sees the first one viewing
    back = client_as(other).post(f"/tickets/{ticket.number}/pulse/", {"state": "viewing"}, headers=HTMX)
    assert f"{agent.name} is viewing this ticket" in back.content.decode()
    client_as(other).post(f"/tickets/{ticket.number}/leave/")
    alone = client_as(agent).post(f"/tickets/{ticket.number}/pulse/", {"state": "viewing"}, headers=HTMX)
    assert "李伟" not in alone.content.decode()


def test_pulse_asks_for_refresh_when_the_ticket_changed(agent, ticket, actor, client_as):
    client = client_as(agent)
    version = Ticket.objects.get(pk=ticket.pk).updated_at.isoformat()
    quiet = client.post(f"/tickets/{ticket.number}/pulse/", {"version": version}, headers=HTMX)
    assert "HX-Trigger" not in quiet
    ticket_services.message_create(ticket=ticket, actor=actor, body="new from elsewhere", kind="note")
    changed = client.post(f"/tickets/{ticket.number}/pulse/", {"version": version}, headers=HTMX)
    assert "conversation-changed" in changed["HX-Trigger"]
    # The sidebar gets the "remote" event, which the page ignores while the agent is editing a property.
    assert "remote-props-changed" in changed["HX-Trigger"]


def test_new_ticket_on_behalf_of_a_new_customer(agent, workspace, client_as):
    client = client_as(agent)
    assert client.get("/tickets/new/").status_code == 200
    response = client.post(
        "/tickets/new/",
        {
            "email": "wang.fang@example.cn",
            "name": "王芳",
            "subject": "无法登录",
            "body": "密码重置邮件收不到",
            "assignee": "me",
            "priority": "high",
            "tags": "login",
        },
    )
    ticket = Ticket.objects.get(workspace=workspace, subject="无法登录")
    assert response["Location"] == f"/tickets/{ticket.number}/"
    assert ticket.requester.email == "wang.fang@example.cn" and ticket.requester.name == "王芳"
    assert ticket.assignee_id == agent.pk and ticket.priority == "high"
    assert ticket.channel == "agent"


def test_new_ticket_for_an_existing_contact_reuses_it(agent, workspace, contact, client_as):
    client_as(agent).post("/tickets/new/", {"email": contact.email.upper(), "subject": "Again"})
    assert Ticket.objects.get(subject="Again").requester_id == contact.pk


def test_new_ticket_without_email_is_422(agent, client_as):
    response = client_as(agent).post("/tickets/new/", {"subject": "x"})
    assert response.status_code == 422
    assert "email" in response.content.decode()


def test_contact_search_and_page(agent, workspace, contact, ticket, client_as):
    client = client_as(agent)
    options = client.get("/contacts/search/", {"email": contact.email[:6]}).content.decode()
    assert contact.email in options
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert contact.display_name in page and f"/tickets/{ticket.number}/" in page
