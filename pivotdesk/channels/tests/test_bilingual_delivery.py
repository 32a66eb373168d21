"""Bilingual at display time for the channels (issue 12): a reply's delivery error is stored as a code with its
parameters and the raw detail, and shown in the reader's language; a chat ticket's subject stores no English
"Chat:" — the queue and the ticket page show the channel's label in the reader's language."""

from __future__ import annotations

import html
import json
import re
import socket
from email.message import EmailMessage

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters.email_send import smtp_deliver
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.outbox import SendError, _retrying, send_error_of
from pivotdesk.common.delivery_errors import code_of, describe
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db
ORIGIN = "https://shop.example.cn"


def _english_words(text: str, *allowed: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", text)) - set(allowed)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_reply_with_nobody_to_send_to_stores_a_code_and_reads_in_both_languages(
    workspace, agent, client_as, django_capture_on_commit_callbacks
):
    contact = ContactFactory(workspace=workspace)  # no chat identity: nowhere to send the reply
    ticket = ticket_services.ticket_create(
        workspace=workspace,
        actor=Actor.for_contact(contact.pk),
        subject="订单还没发货",
        body="订单号 88231",
        requester=contact,
        channel="chat",
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="马上查一下。")
    reply = Message.objects.get(ticket=ticket, author_type="agent")
    assert reply.delivery_status == "failed"
    assert json.loads(reply.delivery_error) == {"code": "no_identity", "params": {"channel": "chat"}}
    with translation.override("zh-hans"):
        assert describe(reply.delivery_error) == "客户没有可回复的在线聊天地址"
    with translation.override("en"):
        assert describe(reply.delivery_error) == "The customer has no Chat address to reply to"

    zh = html.unescape(client_as(agent, "zh-hans").get(reverse("web:ticket", args=[ticket.number])).content.decode())
    assert "客户没有可回复的在线聊天地址" in zh and '{"code"' not in zh
    en = html.unescape(client_as(agent, "en").get(reverse("web:ticket", args=[ticket.number])).content.decode())
    assert "The customer has no Chat address to reply to" in en


def test_a_mail_server_that_refuses_connections_reads_as_such_with_the_raw_detail(workspace):
    account = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name="Support",
        config={
            "address": "support@example.com",
            "smtp_host": "127.0.0.1",
            "smtp_port": _closed_port(),
            "smtp_security": "none",
        },
    )
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = "Re: 订单", "support@example.com", "li@example.cn"
    msg.set_content("马上查一下。")
    with pytest.raises(SendError) as caught:
        smtp_deliver(account=account, msg=msg, sender="support@example.com", recipients=["li@example.cn"])

    stored = send_error_of(caught.value, channel="email")

    assert code_of(stored) == "mail_connect"
    with translation.override("zh-hans"):
        zh = describe(stored)
    with translation.override("en"):
        en = describe(stored)
    assert zh.startswith("无法连接邮件服务器：SMTP connection failed")  # the server's own words kept as detail
    assert en.startswith("Could not connect to the mail server: SMTP connection failed")
    assert not _english_words(zh.split("：", 1)[0])


def test_a_retry_is_announced_in_the_readers_language():
    error = SendError("HTTP 500 from the platform")
    stored = send_error_of(error)
    retrying = _retrying(stored, 2)
    with translation.override("zh-hans"):
        assert describe(retrying) == "重试中（第 2 次尝试）：发送失败：HTTP 500 from the platform"
    with translation.override("en"):
        assert describe(retrying) == "Retrying (attempt 2): Sending failed: HTTP 500 from the platform"


@pytest.fixture
def chat(workspace):
    cache.clear()
    yield channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="chat",
        name="Website chat",
        config={"allowed_origins": [ORIGIN]},
    )
    cache.clear()


def _say(account, text: str) -> None:
    client = Client(headers={"origin": ORIGIN})
    token = client.post(reverse("channels:chat_session", args=[account.webhook_key])).json()["token"]
    client = Client(headers={"origin": ORIGIN, "x-pivotdesk-visitor": token})
    body = json.dumps({"text": text, "client_id": "c-1"})
    r = client.post(
        reverse("channels:chat_messages", args=[account.webhook_key]), body, content_type="application/json"
    )
    assert r.status_code == 201


def test_a_chat_ticket_stores_no_english_prefix_and_shows_the_channel_in_the_readers_language(
    chat, workspace, agent, client_as
):
    _say(chat, "你好，我的订单还没发货\n订单号 88231")
    ticket = Ticket.objects.get(workspace=workspace)
    assert ticket.subject == "你好，我的订单还没发货"

    for url in (reverse("web:queue"), reverse("web:ticket", args=[ticket.number])):
        zh = html.unescape(client_as(agent, "zh-hans").get(url).content.decode())
        assert "你好，我的订单还没发货" in zh and "在线聊天" in zh and "Chat:" not in zh
        en = html.unescape(client_as(agent, "en").get(url).content.decode())
        assert "Chat" in en


def test_a_prefix_the_admin_configured_is_kept(workspace):
    account = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="chat",
        name="Shop chat",
        config={"allowed_origins": [ORIGIN], "subject_prefix": "商城"},
    )
    cache.clear()
    _say(account, "退货")
    assert Ticket.objects.get(workspace=workspace).subject == "商城: 退货"


def test_a_web_form_without_subject_or_description_stores_facts_not_an_english_subject(workspace):
    form = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="web_form",
        name="Support form",
        config={"fields": ["email", "description"], "required": ["email"], "attachments": {"max_files": 1}},
    )
    body = {
        "email": "li@example.cn",
        "attachments": [{"filename": "发票.txt", "content_type": "text/plain", "content_base64": "aGVsbG8="}],
    }
    response = Client().post(
        reverse("channels:form", args=[form.webhook_key]), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert Ticket.objects.get(workspace=workspace).subject == "发票.txt"


def test_a_reply_on_a_channel_without_an_account_says_so_in_the_readers_language(
    workspace, agent, django_capture_on_commit_callbacks
):
    contact = ContactFactory(workspace=workspace)
    ChannelIdentity.objects.create(workspace=workspace, contact=contact, kind="wechat", value="o-openid-1")
    ticket = ticket_services.ticket_create(
        workspace=workspace,
        actor=Actor.for_contact(contact.pk),
        subject="退款",
        body="什么时候退款？",
        requester=contact,
        channel="wechat",
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="今天处理。")
    reply = Message.objects.get(ticket=ticket, author_type="agent")
    assert reply.delivery_status == "failed" and code_of(reply.delivery_error) == "no_account"
    with translation.override("zh-hans"):
        assert describe(reply.delivery_error) == "没有可用于发送的已启用微信渠道账号"
    with translation.override("en"):
        assert describe(reply.delivery_error) == "No active WeChat channel account to send through"
