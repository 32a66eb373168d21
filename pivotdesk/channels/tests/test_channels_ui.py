"""Agent UI for the intake: channel admin (secrets never echoed), failed payloads and re-processing, identities and
probable duplicates with the merge flow, delivery status with retry; workspace isolation for every new URL."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.channels import adapters
from pivotdesk.channels.models import ChannelAccount, OutboundMessage
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.customers.models import Contact
from pivotdesk.customers.services import contact_create, identity_attach
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket


def new_agent(**kwargs):
    return AgentFactory(**kwargs)


pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(workspace, client_as):
    return client_as(new_agent(workspace=workspace, role=Role.ADMIN))


@pytest.fixture
def mailbox(workspace):
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name="Support mailbox",
        config={"address": "support@pivot.test", "imap_host": "imap.pivot.test"},
        secrets={"password": "hunter2-imap", "smtp_password": "hunter2-smtp"},
    )


def test_channel_list_shows_kind_status_errors_and_public_urls(admin, workspace, mailbox):
    wechat = channel_account_create(
        actor=Actor.system(), workspace=workspace, kind="wechat", name="公众号", config={"app_id": "wx1"}
    )
    ChannelAccount.objects.filter(pk=mailbox.pk).update(last_error="IMAP login failed: bad credentials")
    chat = channel_account_create(actor=Actor.system(), workspace=workspace, kind="chat", name="Site chat")
    html = admin.get(reverse("web:channels")).content.decode()
    assert "Support mailbox" in html and "公众号" in html and "IMAP login failed" in html
    assert f"/channels/in/wechat/{wechat.webhook_key}/" in html
    assert f"data-channel=&quot;{chat.webhook_key}&quot;" in html  # the widget's embed code, shown as text
    assert "hunter2" not in html


def test_add_a_mailbox_stores_the_password_encrypted_and_never_shows_it(admin, workspace):
    response = admin.post(
        reverse("web:channel_add"),
        {
            "kind": "email",
            "name": "Billing",
            "active": "1",
            "f_address": "billing@pivot.test",
            "f_imap_host": "imap.pivot.test",
            "f_imap_port": "993",
            "f_imap_ssl": "1",
            "f_password": "s3cret-pass",
            "f_smtp_security": "starttls",
            "config_json": '{"poll_limit": 50}',
        },
    )
    assert response.status_code == 302
    account = ChannelAccount.objects.get(workspace=workspace, name="Billing")
    assert account.config["imap_port"] == 993 and account.config["imap_ssl"] is True
    assert account.config["poll_limit"] == 50
    assert account.secrets == {"password": "s3cret-pass"}
    assert "s3cret-pass" not in account.secret_config
    page = admin.get(response["Location"]).content.decode()
    assert "s3cret-pass" not in page and "••• set" in page


def test_edit_keeps_secrets_unless_typed_or_cleared(admin, mailbox):
    url = reverse("web:channel_edit", args=[mailbox.pk])
    base = {"name": "Support mailbox", "active": "1", "f_address": "support@pivot.test", "config_json": "{}"}
    assert admin.post(url, {**base, "f_password": ""}).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.secrets == {"password": "hunter2-imap", "smtp_password": "hunter2-smtp"}
    admin.post(url, {**base, "f_password": "new-one", "clear_smtp_password": "1"})
    mailbox.refresh_from_db()
    assert mailbox.secrets == {"password": "new-one"}
    assert admin.post(url, {**base, "config_json": "[1, 2"}).status_code == 400


def test_add_a_messaging_channel(admin, workspace):
    response = admin.post(
        reverse("web:channel_add"),
        {"kind": "telegram", "name": "TG bot", "active": "1", "f_bot_token": "123:abc", "config_json": ""},
    )
    assert response.status_code == 302
    account = ChannelAccount.objects.get(workspace=workspace, kind="telegram")
    assert account.secrets["bot_token"] == "123:abc"
    assert "123:abc" not in admin.get(reverse("web:channel_edit", args=[account.pk])).content.decode()


def test_channel_screens_are_for_admins_only(workspace, mailbox, agent, client_as):
    client = client_as(agent)
    assert client.get(reverse("web:channels")).status_code == 403
    assert client.get(reverse("web:channel_edit", args=[mailbox.pk])).status_code == 403
    assert client.get(reverse("web:inbound_failed")).status_code == 403


def _failed_chat_payload(workspace, account=None):
    payload = inbound_store(
        actor=Actor.system(),
        workspace=workspace,
        channel="web_form",
        raw=b'{"email": "not-an-address"}',
        account=account,
    )
    return inbound_process(actor=Actor.system(), payload=payload)


def test_failed_payloads_list_view_download_and_reprocess(admin, workspace):
    form = channel_account_create(actor=Actor.system(), workspace=workspace, kind="web_form", name="Form")
    payload = _failed_chat_payload(workspace, form)
    assert payload.status == "failed"
    html = admin.get(reverse("web:inbound_failed")).content.decode()
    assert "not-an-address" in html and "Re-process" in html
    detail = admin.get(reverse("web:inbound_payload", args=[payload.pk])).content.decode()
    assert "{&quot;email&quot;: &quot;not-an-address&quot;}" in detail
    raw = admin.get(reverse("web:inbound_payload_raw", args=[payload.pk]))
    assert raw.content == b'{"email": "not-an-address"}' and "attachment" in raw["Content-Disposition"]
    still = admin.post(reverse("web:inbound_reprocess", args=[payload.pk]))
    assert still.status_code == 302
    payload.refresh_from_db()
    assert payload.status == "failed" and payload.attempts == 2
    # the fix: the raw JSON was fine all along, the parser lacked something; here we simulate it by a parser swap
    good = inbound_store(
        actor=Actor.system(),
        workspace=workspace,
        channel="web_form",
        raw=b'{"email": "ok@example.cn", "description": "hello"}',
        account=form,
    )
    good.status = "failed"
    good.save()
    admin.post(reverse("web:inbound_reprocess", args=[good.pk]))
    good.refresh_from_db()
    assert good.status == "processed" and Ticket.objects.filter(pk=good.ticket_id).exists()


def test_contact_page_and_ticket_panel_show_identities_and_possible_duplicates(admin, workspace):
    wang = contact_create(actor=Actor.system(), workspace=workspace, name="Wang Fang", email="wangfang@hongda.cn")
    identity_attach(actor=Actor.system(), contact=wang, kind="wechat", value="o6_bmjrPTlm6_wang")
    twin = contact_create(actor=Actor.system(), workspace=workspace, name="王芳", email="wangfang@qq.com")
    html = admin.get(reverse("web:contact", args=[wang.pk])).content.decode()
    assert "o6_bmjrPTlm6_wang" in html and "WeChat openid" in html
    assert "Possible duplicates" in html and "wangfang@qq.com" in html
    assert reverse("web:contact_merge", args=[wang.pk, twin.pk]) in html
    ticket = make_ticket(workspace=workspace, requester=wang, channel="wechat")
    page = admin.get(reverse("web:ticket", args=[ticket.number])).content.decode()
    assert "o6_bmjrPTlm6_wang" in page and "Possible duplicates" in page


def test_merge_flow_for_a_supervisor(workspace, supervisor, client_as):
    keep = contact_create(actor=Actor.system(), workspace=workspace, name="Li Lei", email="lilei@org.cn")
    away = contact_create(
        actor=Actor.system(), workspace=workspace, name="Li Lei", email="lilei@gmail.com", phone="+8613800138000"
    )
    make_ticket(workspace=workspace, requester=away, subject="Old order", channel="chat")
    client = client_as(supervisor)
    url = reverse("web:contact_merge", args=[keep.pk, away.pk])
    page = client.get(url).content.decode()
    assert "Old order" in page and "+8613800138000" in page and "same email name on another domain" in page
    assert client.post(url).status_code == 302
    away.refresh_from_db()
    assert away.merged_into_id == keep.pk
    assert Ticket.objects.get(subject="Old order").requester_id == keep.pk
    assert set(keep.identities.values_list("value", flat=True)) >= {"lilei@gmail.com", "+8613800138000"}


def test_agents_see_the_suggestion_but_need_a_supervisor_to_merge(workspace, agent, client_as):
    keep = contact_create(actor=Actor.system(), workspace=workspace, email="lilei@org.cn")
    away = contact_create(actor=Actor.system(), workspace=workspace, email="lilei@gmail.com")
    client = client_as(agent)
    url = reverse("web:contact_merge", args=[keep.pk, away.pk])
    page = client.get(url).content.decode()
    assert "needs a supervisor or an admin" in page and "Keep the other one instead" not in page
    assert client.post(url).status_code == 403
    assert Contact.objects.get(pk=away.pk).merged_into_id is None


@pytest.fixture
def failing_chat(workspace, monkeypatch):
    """A chat ticket whose replies fail to send, then succeed after a retry."""
    attempts = []

    def sender(outbound, account):
        attempts.append(outbound.pk)
        if len(attempts) == 1:
            raise SendError("Widget gateway unreachable", permanent=True)
        return "chat:ok"

    adapters.load()
    monkeypatch.setitem(adapters.SENDERS, "chat", sender)
    contact = contact_create(actor=Actor.system(), workspace=workspace, name="Visitor", identities=[("web", "v-123")])
    return make_ticket(workspace=workspace, requester=contact, channel="chat")


def test_failed_delivery_shows_the_reason_and_retry_sends_again(
    workspace, agent, failing_chat, django_capture_on_commit_callbacks, client_as
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_services.message_create(ticket=failing_chat, actor=Actor.for_agent(agent), body="Hello!")
    outbound = OutboundMessage.objects.get(message=reply)
    assert outbound.status == "failed"
    client = client_as(agent)
    page = client.get(reverse("web:ticket", args=[failing_chat.number])).content.decode()
    assert "Widget gateway unreachable" in page and "Retry" in page
    retry = reverse("web:delivery_retry", args=[failing_chat.number, reply.pk])
    response = client.post(retry, headers={"hx-request": "true"})
    assert response.status_code == 200 and "Sent" in response.content.decode()
    outbound.refresh_from_db()
    assert outbound.status == "sent"


def test_a_light_agent_sees_the_failure_but_the_outbox_refuses_its_retry(
    workspace, agent, failing_chat, django_capture_on_commit_callbacks, light_client
):
    # given a reply the channel could not deliver
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_services.message_create(ticket=failing_chat, actor=Actor.for_agent(agent), body="Hello!")
    client = light_client
    # when a light agent (who may not send public replies) opens the ticket and posts a retry anyway
    page = client.get(reverse("web:ticket", args=[failing_chat.number])).content.decode()
    response = client.post(
        reverse("web:delivery_retry", args=[failing_chat.number, reply.pk]), headers={"hx-request": "true"}
    )
    # then the reason shows without a Retry button, and the service refuses in words, naming no permission code
    assert "Widget gateway unreachable" in page and ">Retry<" not in page
    assert response.status_code == 403
    assert "ticket.reply_public" not in response.content.decode()
    assert OutboundMessage.objects.get(message=reply).status == "failed"


def test_every_message_shows_its_channel(workspace, agent, client_as):
    ticket = make_ticket(workspace=workspace, channel="wechat")
    page = client_as(agent).get(reverse("web:ticket", args=[ticket.number])).content.decode()
    assert 'title="Channel">WeChat<' in page


def test_new_object_urls_are_404_across_workspaces(workspace, other_workspace, admin, supervisor, client_as):
    theirs = channel_account_create(actor=Actor.system(), workspace=other_workspace, kind="email", name="Theirs")
    their_payload = _failed_chat_payload(other_workspace)
    mine = contact_create(actor=Actor.system(), workspace=workspace, email="a@mine.cn")
    their_contact = contact_create(actor=Actor.system(), workspace=other_workspace, email="a@theirs.cn")
    their_ticket = make_ticket(workspace=other_workspace)
    their_message = their_ticket.messages.first()
    for url in (
        reverse("web:channel_edit", args=[theirs.pk]),
        reverse("web:inbound_payload", args=[their_payload.pk]),
        reverse("web:inbound_payload_raw", args=[their_payload.pk]),
        reverse("web:contact_merge", args=[mine.pk, their_contact.pk]),
        reverse("web:contact_merge", args=[their_contact.pk, mine.pk]),
    ):
        assert admin.get(url).status_code == 404, url
    assert admin.post(reverse("web:inbound_reprocess", args=[their_payload.pk])).status_code == 404
    assert client_as(supervisor).post(reverse("web:contact_merge", args=[mine.pk, their_contact.pk])).status_code == 404
    assert admin.post(reverse("web:delivery_retry", args=[their_ticket.number, their_message.pk])).status_code == 404
    assert Contact.objects.get(pk=their_contact.pk).merged_into_id is None
