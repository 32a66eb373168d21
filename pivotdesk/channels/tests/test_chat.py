"""The chat widget's API: sessions, messages to tickets, agent replies in the poll, email when the visitor left,
CORS from other origins."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels import adapters
from pivotdesk.channels.models import InboundPayload, OutboundMessage
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.common.delivery_errors import describe
from pivotdesk.common.time import now
from pivotdesk.customers.models import ChannelIdentity, Contact
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db
ORIGIN = "https://shop.example.cn"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def chat(workspace):
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="chat",
        name="Website chat",
        config={"title": "Chat with us", "title_zh": "在线咨询", "allowed_origins": [ORIGIN], "away_after_minutes": 5},
    )


class Visitor:
    """A widget: a client with the visitor token header, posting from the shop's origin."""

    def __init__(self, account) -> None:
        self.key = account.webhook_key
        self.client = Client(headers={"origin": ORIGIN})
        data = self.client.post(reverse("channels:chat_session", args=[self.key])).json()
        self.token, self.visitor = data["token"], data["visitor"]
        self.client = Client(headers={"origin": ORIGIN, "x-pivotdesk-visitor": self.token})

    def say(self, text: str, **extra):
        body = {"text": text, "client_id": f"c-{text}", **extra}
        return self.client.post(
            reverse("channels:chat_messages", args=[self.key]), json.dumps(body), content_type="application/json"
        )

    def poll(self, since: int = 0):
        return self.client.get(reverse("channels:chat_messages", args=[self.key]), {"since": since})


def agent_reply(ticket: Ticket, agent, text: str, capture) -> Message:
    with capture(execute=True):
        return ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body=text)


def test_session_gives_a_signed_token_and_the_widget_settings(chat):
    client = Client(headers={"origin": ORIGIN, "accept-language": "zh-hans"})
    data = client.post(reverse("channels:chat_session", args=[chat.webhook_key])).json()
    assert data["token"] and data["visitor"].startswith("v-") and data["ticket"] is None
    assert data["config"]["title"] == "在线咨询"
    again = Client(headers={"x-pivotdesk-visitor": data["token"]}).post(
        reverse("channels:chat_session", args=[chat.webhook_key])
    )
    assert again.json()["visitor"] == data["visitor"]  # a stored token resumes the session


def test_first_message_opens_a_chat_ticket_and_later_ones_append(chat, workspace):
    v = Visitor(chat)
    first = v.say("你好，我的订单还没发货", name="李雷", email="lilei@example.cn")
    assert first.status_code == 201
    ticket = Ticket.objects.get(workspace=workspace)
    assert first.json()["ticket"] == ticket.number and ticket.channel == "chat"
    contact = Contact.objects.get(pk=ticket.requester_id)
    assert contact.email == "lilei@example.cn" and contact.name == "李雷"
    assert ChannelIdentity.objects.filter(contact=contact, kind="web", value=v.visitor).exists()
    second = v.say("订单号 88231")
    assert second.status_code == 201 and second.json()["ticket"] == ticket.number
    assert Ticket.objects.filter(workspace=workspace).count() == 1
    assert list(ticket.messages.order_by("pk").values_list("body_text", flat=True)) == [
        "你好，我的订单还没发货",
        "订单号 88231",
    ]
    assert InboundPayload.objects.filter(workspace=workspace, channel="chat", status="processed").count() == 2


def test_the_same_email_on_chat_is_the_same_contact(chat, workspace):
    from pivotdesk.customers.services import contact_resolve

    known = contact_resolve(actor=Actor.system(), workspace=workspace, kind="email", value="lilei@example.cn")
    Visitor(chat).say("hi", email="LiLei@example.cn")
    assert Ticket.objects.get(workspace=workspace).requester_id == known.pk


def test_anonymous_visitor_and_bad_input(chat, workspace):
    v = Visitor(chat)
    assert v.say("", email="").status_code == 400
    assert v.say("hello", email="nope").status_code == 400
    assert v.say("hello").status_code == 201
    assert Ticket.objects.get(workspace=workspace).requester.identities.get().kind == "web"
    chat.config = {**chat.config, "require_email": True}
    chat.save()
    assert v.say("again").json()["code"] == "email_required"


def test_agent_reply_is_delivered_to_the_widget_and_shows_in_the_poll(
    chat, workspace, agent, django_capture_on_commit_callbacks
):
    v = Visitor(chat)
    mine = v.say("Is anyone there?").json()["message"]
    assert v.poll().json()["messages"][0]["id"] == mine["id"]
    ticket = Ticket.objects.get(workspace=workspace)
    reply = agent_reply(ticket, agent, "Yes, Li Wei here. How can I help?", django_capture_on_commit_callbacks)
    outbound = OutboundMessage.objects.get(message=reply)
    assert outbound.status == "sent" and outbound.provider_id == f"chat:{v.visitor}:{reply.pk}"
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    got = v.poll(since=mine["id"]).json()["messages"]
    assert [(m["from"], m["text"], m["author"]) for m in got] == [("agent", reply.body_text, agent.name)]
    assert v.poll(since=reply.pk).json()["messages"] == []


def test_internal_notes_never_reach_the_widget(chat, workspace, agent, django_capture_on_commit_callbacks):
    v = Visitor(chat)
    v.say("hello")
    ticket = Ticket.objects.get(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="VIP!", kind="note")
    assert [m["from"] for m in v.poll().json()["messages"]] == ["visitor"]


def _leave(visitor: Visitor, minutes: int = 10) -> None:
    """The visitor closed the tab: their last poll and message are older than the away limit."""
    past = now() - dt.timedelta(minutes=minutes)
    Message.objects.filter(metadata__conversation_key=visitor.visitor).update(created_at=past)
    ChannelIdentity.objects.filter(kind="web", value=visitor.visitor).update(last_seen_at=past)


def test_reply_after_the_visitor_left_continues_by_email(
    chat, workspace, agent, django_capture_on_commit_callbacks, monkeypatch
):
    """The real SMTP sender is exercised in test_email_transport; here a recording sender stands in for "email"."""
    mailbox = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name="Support",
        config={"address": "support@pivot.test"},
    )
    sent = []

    def recording_email_sender(outbound, account):
        sent.append((outbound.recipient, account.pk, outbound.message_id))
        return "<reply-1@pivot.test>"

    adapters.load()
    monkeypatch.setitem(adapters.SENDERS, "email", recording_email_sender)
    v = Visitor(chat)
    v.say("Please call me back", email="lilei@example.cn")
    _leave(v)
    ticket = Ticket.objects.get(workspace=workspace)
    reply = agent_reply(ticket, agent, "We will call you tomorrow.", django_capture_on_commit_callbacks)
    outbound = OutboundMessage.objects.get(message=reply)
    assert outbound.status == "sent" and outbound.provider_id == "email:<reply-1@pivot.test>"
    assert sent == [("lilei@example.cn", mailbox.pk, reply.pk)]


def test_reply_after_an_anonymous_visitor_left_fails_with_the_reason(
    chat, workspace, agent, django_capture_on_commit_callbacks
):
    v = Visitor(chat)
    v.say("hello?")
    _leave(v)
    ticket = Ticket.objects.get(workspace=workspace)
    reply = agent_reply(ticket, agent, "Sorry for the wait", django_capture_on_commit_callbacks)
    outbound = OutboundMessage.objects.get(message=reply)
    assert outbound.status == "failed" and "gave no email address" in outbound.last_error
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "gave no email address" in describe(reply.delivery_error)


def test_reply_after_the_visitor_left_without_a_mailbox_fails_with_the_reason(
    chat, workspace, agent, django_capture_on_commit_callbacks
):
    v = Visitor(chat)
    v.say("hello?", email="lilei@example.cn")
    _leave(v)
    reply = agent_reply(Ticket.objects.get(workspace=workspace), agent, "Hi", django_capture_on_commit_callbacks)
    assert "needs an email mailbox" in OutboundMessage.objects.get(message=reply).last_error


def test_polling_keeps_the_visitor_present(chat, workspace, agent, django_capture_on_commit_callbacks):
    v = Visitor(chat)
    v.say("hello")
    _leave(v)
    cache.clear()
    v.poll()  # the widget is open again
    reply = agent_reply(Ticket.objects.get(workspace=workspace), agent, "Back?", django_capture_on_commit_callbacks)
    assert OutboundMessage.objects.get(message=reply).provider_id.startswith("chat:")


def test_cors_preflight_and_allowed_origins(chat):
    url = reverse("channels:chat_messages", args=[chat.webhook_key])
    pre = Client().options(
        url,
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-pivotdesk-visitor",
        },
    )
    assert pre.status_code == 204
    assert pre["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in pre["Access-Control-Allow-Methods"]
    assert "X-PivotDesk-Visitor" in pre["Access-Control-Allow-Headers"]
    evil = Client().options(url, headers={"origin": "https://evil.example"})
    assert evil.status_code == 403 and "Access-Control-Allow-Origin" not in evil
    session = Client(headers={"origin": ORIGIN}).post(reverse("channels:chat_session", args=[chat.webhook_key]))
    assert session["Access-Control-Allow-Origin"] == ORIGIN


def test_any_origin_when_none_is_configured(workspace):
    open_chat = channel_account_create(actor=Actor.system(), workspace=workspace, kind="chat", name="Open chat")
    response = Client(headers={"origin": "https://anything.example"}).post(
        reverse("channels:chat_session", args=[open_chat.webhook_key])
    )
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "https://anything.example"


def test_tokens_are_bound_to_their_chat_and_checked(chat, workspace):
    other = channel_account_create(actor=Actor.system(), workspace=workspace, kind="chat", name="Other chat")
    v = Visitor(chat)
    v.say("mine")
    stranger = Client(headers={"x-pivotdesk-visitor": v.token})
    assert stranger.get(reverse("channels:chat_messages", args=[other.webhook_key])).status_code == 401
    forged = Client(headers={"origin": ORIGIN, "x-pivotdesk-visitor": v.token + "x"})
    assert forged.get(reverse("channels:chat_messages", args=[chat.webhook_key])).status_code == 401
    assert Client().get(reverse("channels:chat_messages", args=["nope"])).status_code == 404


def test_another_visitor_sees_nothing_of_this_conversation(chat, workspace):
    first, second = Visitor(chat), Visitor(chat)
    first.say("secret order details")
    assert second.poll().json()["messages"] == []


def test_widget_script_is_served():
    from django.contrib.staticfiles import finders

    path = finders.find("channels/widget.js")
    assert path is not None
    source = Path(path).read_text(encoding="utf-8")
    assert "attachShadow" in source and "X-PivotDesk-Visitor" in source and "/channels/chat/" in source
