"""Email end to end against real servers: dovecot (IMAP) on a loopback port and aiosmtpd (SMTP) delivering into
dovecot's maildirs. A customer mail becomes a ticket; the agent's reply reaches the customer's mailbox threaded;
the customer's answer threads back; a bounce opens nothing; SMTP trouble is a visible, retried status."""

from __future__ import annotations

import email
import email.policy
import threading
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.utils import timezone

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels import mailboxes
from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.outbox import outbox_send
from pivotdesk.channels.tests.mailservers import PASSWORD, MailServers, find_dovecot, free_port
from pivotdesk.common.delivery_errors import describe
from pivotdesk.customers import services as customer_services
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket


@pytest.fixture(scope="module")
def servers():
    binary = find_dovecot()
    if binary is None:
        pytest.skip("dovecot not found (install Debian's dovecot-imapd; .ci/run does): real-IMAP tests skipped")
    started = MailServers(binary).start()
    yield started
    started.stop()


@pytest.fixture
def support(servers):
    return servers.mailbox("support")


@pytest.fixture
def customer(servers):
    return servers.mailbox("wangfang")


@pytest.fixture
def account(servers, workspace, support):
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name="Support mailbox",
        config=servers.account_config(support, from_name="Acme 客服"),
        secrets={"password": PASSWORD},
    )


def customer_mail(
    *, sender: str, to: str, subject: str, body: str, mid: str | None = None, **headers: str
) -> tuple[bytes, str]:
    msg = EmailMessage()
    msg["From"] = f"王芳 <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = mid or make_msgid(domain="customer.example")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, charset="utf-8")
    return msg.as_bytes(policy=email.policy.SMTP), msg["Message-ID"]


def poll(account: ChannelAccount) -> mailboxes.PollResult:
    account.refresh_from_db()
    result = mailboxes.mailbox_poll(account=account)
    assert not result.error, result.error
    return result


@pytest.fixture
def reply_as_agent(agent, django_capture_on_commit_callbacks):
    """An agent's public reply through the tickets service, with the after-commit work (message.created →
    outbox_enqueue → outbox_send over SMTP) run as it would be."""

    def reply(ticket: Ticket, body: str, **kwargs) -> Message:
        with django_capture_on_commit_callbacks(execute=True):
            message = ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body=body, **kwargs)
        message.refresh_from_db()
        return message

    return reply


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def open_ticket(servers, account, support, customer) -> tuple[Ticket, str]:
    raw, mid = customer_mail(sender=customer, to=support, subject="打印机卡纸", body="打印机卡纸了，急！")
    servers.dovecot.append(support, raw)
    poll(account)
    return Ticket.objects.get(workspace=account.workspace, requester__email=customer), mid


def test_customer_mail_becomes_a_ticket_once(servers, account, support, customer):
    raw, mid = customer_mail(sender=customer, to=support, subject="打印机卡纸", body="打印机卡纸了，急！")
    servers.dovecot.append(support, raw)

    first = poll(account)

    ticket = Ticket.objects.get(workspace=account.workspace)
    assert (ticket.channel, ticket.subject) == ("email", "打印机卡纸")
    assert ticket.requester.email == customer and ticket.requester.name == "王芳"
    message = ticket.messages.get()
    assert message.body_text == "打印机卡纸了，急！" and message.external_id == mid
    payload = InboundPayload.objects.get(pk=ticket.messages.get().pk and InboundPayload.objects.get().pk)
    assert payload.status == "processed" and payload.meta["source"] == "imap" and payload.dedupe_key == f"email:{mid}"
    assert (first.fetched, first.stored) == (1, 1)
    [(_, _, flags)] = servers.dovecot.messages(support)
    assert b"\\Seen" in flags
    account.refresh_from_db()
    assert account.last_polled_at is not None and account.last_error == "" and account.config["last_uid"] == 1

    again = poll(account)  # the cursor: nothing new
    assert (again.fetched, again.stored) == (0, 0)
    account.config = {**account.config, "last_uid": 0}  # a lost cursor: Message-IDs still prevent duplicates
    account.save()
    lost = poll(account)
    assert (lost.fetched, lost.stored, lost.duplicates) == (1, 0, 1)
    assert Ticket.objects.filter(workspace=account.workspace).count() == 1
    assert InboundPayload.objects.count() == 1 and Message.objects.count() == 1


def test_agent_reply_arrives_threaded_in_the_customers_mailbox(servers, account, support, customer, reply_as_agent):
    ticket, customer_mid = open_ticket(servers, account, support, customer)
    boss = servers.mailbox("boss")
    ticket_services.ticket_add_cc(
        ticket=ticket,
        contacts=[
            customer_services.contact_resolve(
                actor=Actor.system(), workspace=account.workspace, kind="email", value=boss
            )
        ],
        actor=Actor.system("test"),
    )

    reply = reply_as_agent(
        ticket,
        "您好，请重启打印机。\n\n祝好",
        attachments=[("说明.txt", "第一步：关机".encode(), "text/plain")],
    )

    assert reply.delivery_status == "sent" and describe(reply.delivery_error) == ""
    outbound = OutboundMessage.objects.get(message=reply)
    assert outbound.status == "sent" and outbound.provider_id == reply.external_id
    [(_, raw, _)] = servers.dovecot.messages(customer)
    mail = parsed(raw)
    assert mail["Subject"] == f"Re: 打印机卡纸 [#{ticket.number}]"
    assert mail["Message-ID"] == reply.external_id and reply.external_id.endswith(f"@{support.split('@')[1]}>")
    assert mail["In-Reply-To"] == customer_mid
    assert mail["References"].split() == [customer_mid]
    assert mail["From"].addresses[0].addr_spec == support
    assert mail["From"].addresses[0].display_name.endswith("(Acme 客服)")
    assert [a.addr_spec for a in mail["To"].addresses] == [customer]
    assert [a.addr_spec for a in mail["Cc"].addresses] == [boss]
    assert mail["Auto-Submitted"] is None  # a human reply must not look automatic (it would suppress replies)
    text, _sep, footer = mail.get_body(("plain",)).get_content().replace("\r\n", "\n").partition("\n-- \n")
    assert text.strip() == "您好，请重启打印机。\n\n祝好"
    assert "/portal/" in footer  # the customer's signed "follow your request" link (the portal's footer line)
    html = mail.get_body(("html",))
    assert html.get_content_charset() == "utf-8" and "请重启打印机" in html.get_content()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "说明.txt" and attachment.get_payload(decode=True) == "第一步：关机".encode()
    assert len(servers.dovecot.messages(boss)) == 1  # the CC got it too


def test_customer_answer_to_our_reply_threads_onto_the_same_ticket(servers, account, support, customer, reply_as_agent):
    ticket, customer_mid = open_ticket(servers, account, support, customer)
    reply = reply_as_agent(ticket, "请重启打印机。")
    [(_, raw, _)] = servers.dovecot.messages(customer)
    ours = parsed(raw)

    # A client that drops the token and rewrites the subject: only In-Reply-To/References can thread it.
    answer, answer_mid = customer_mail(
        sender=customer,
        to=support,
        subject="回复：新的问题描述",
        body=f"重启了还是不行。\n\n在 2026年3月1日 10:00，Acme 客服 <{support}> 写道：\n> 请重启打印机。",
        In_Reply_To=ours["Message-ID"],
        References=f"{ours['References']} {ours['Message-ID']}",
    )
    servers.dovecot.append(support, answer)
    poll(account)

    message = Message.objects.get(external_id=answer_mid)
    assert message.ticket_id == ticket.pk and message.body_text == "重启了还是不行。"
    assert Ticket.objects.filter(workspace=account.workspace).count() == 1
    assert [m.external_id for m in ticket.messages.order_by("pk")] == [customer_mid, reply.external_id, answer_mid]
    follow_up = reply_as_agent(ticket, "我们派工程师上门。")
    latest = parsed(servers.dovecot.messages(customer)[-1][1])
    assert latest["In-Reply-To"] == answer_mid  # the newest customer mail is the parent
    assert latest["References"].split() == [customer_mid, reply.external_id, answer_mid]
    assert latest["Message-ID"] == follow_up.external_id


def test_bounce_of_our_reply_opens_nothing(servers, account, support, customer, reply_as_agent):
    ticket, _ = open_ticket(servers, account, support, customer)
    reply = reply_as_agent(ticket, "请重启打印机。")
    bounce = (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\nTo: {support}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce.{uuid.uuid4().hex}@mx.customer.example>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe mail system could not deliver your message.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\n"
        f"Final-Recipient: rfc822; {customer}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {support}\r\nTo: {customer}\r\n"
        f"Subject: Re: 打印机卡纸 [#{ticket.number}]\r\nMessage-ID: {reply.external_id}\r\n\r\n--B--\r\n"
    ).encode()
    servers.dovecot.append(support, bounce)

    result = poll(account)

    assert result.stored == 1
    payload = InboundPayload.objects.order_by("-pk").first()
    assert payload is not None and (payload.status, payload.classification) == ("ignored", "bounce")
    assert payload.ticket_id is None
    assert Ticket.objects.filter(workspace=account.workspace).count() == 1 and ticket.messages.count() == 2
    assert len(servers.dovecot.messages(customer)) == 1  # and nothing was sent back to anyone


def test_smtp_down_is_retried_then_failed(servers, account, customer, reply_as_agent, settings):
    support = account.config["address"]
    ticket, _ = open_ticket(servers, account, support, customer)
    account.config = {**account.config, "smtp_port": free_port()}  # nothing listens there: connection refused
    account.save()
    settings.PIVOTDESK_OUTBOX_MAX_ATTEMPTS = 2

    reply = reply_as_agent(ticket, "请重启打印机。")

    assert reply.delivery_status == "queued"
    assert describe(reply.delivery_error).startswith("Retrying (attempt 1)") and "SMTP connection failed" in describe(
        reply.delivery_error
    )
    outbound = OutboundMessage.objects.get(message=reply)
    assert outbound.status == "queued" and outbound.next_attempt_at > timezone.now()
    OutboundMessage.objects.filter(pk=outbound.pk).update(next_attempt_at=timezone.now())  # the back-off is over
    outbound.refresh_from_db()
    outbox_send(
        actor=Actor.system(), outbound=outbound
    )  # the retry scan's second attempt, also refused: the last one allowed
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "SMTP connection failed" in describe(reply.delivery_error)
    assert OutboundMessage.objects.get(pk=outbound.pk).status == "failed"
    assert servers.dovecot.messages(customer) == []


def test_smtp_5xx_fails_at_once_with_the_reason(servers, account, support, reply_as_agent):
    raw, _ = customer_mail(sender="ghost@pivot.test", to=support, subject="发票", body="请开发票")  # no such mailbox
    servers.dovecot.append(support, raw)
    poll(account)
    ticket = Ticket.objects.get(workspace=account.workspace)

    reply = reply_as_agent(ticket, "已开具。")

    assert reply.delivery_status == "failed"
    assert "550" in describe(reply.delivery_error) and "No such user" in describe(reply.delivery_error)
    outbound = OutboundMessage.objects.get(message=reply)
    assert (outbound.status, outbound.attempts) == ("failed", 1)


def test_gbk_in_gb2312_and_html_only_mails_decode(servers, account, support, customer):
    gbk = (
        f"From: =?gb2312?B?{_b64('朱镕基'.encode('gb18030'))}?= <{customer}>\r\nTo: {support}\r\n"
        f"Subject: =?gb2312?B?{_b64('咨询：陶喆演唱会门票'.encode('gb18030'))}?=\r\n"
        "Message-ID: <gbk.1@customer.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64("镕和喆都是 GBK 才有的字。".encode("gb18030"))
        + "\r\n"
    ).encode()
    html_only = (
        f"From: Li Lei <{customer}>\r\nTo: {support}\r\nSubject: =?utf-8?B?{_b64('无法登录'.encode())}?=\r\n"
        "Message-ID: <html.1@customer.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=gbk\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + _qp("<html><body><p>登录时提示<b>密码错误</b></p><script>alert(1)</script></body></html>")
    for raw in (gbk, html_only):
        servers.dovecot.append(support, raw)

    poll(account)

    first = Message.objects.get(external_id="<gbk.1@customer.example>")
    assert first.ticket.subject == "咨询：陶喆演唱会门票" and first.body_text == "镕和喆都是 GBK 才有的字。"
    assert first.ticket.requester.name == "朱镕基"
    second = Message.objects.get(external_id="<html.1@customer.example>")
    assert second.ticket.subject == "无法登录" and second.body_text == "登录时提示密码错误"
    assert "密码错误" in second.body_html and "alert" not in second.body_html + second.body_text


def test_processed_folder_and_poll_errors(servers, workspace, support, customer):
    account = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name="Filed mailbox",
        config=servers.account_config(support, processed_folder="Processed"),
        secrets={"password": "wrong"},
    )
    servers.dovecot.append(support, customer_mail(sender=customer, to=support, subject="退款", body="请退款")[0])

    failed = mailboxes.mailbox_poll(account=account)

    assert failed.error and failed.stored == 0
    account.refresh_from_db()
    assert "LoginError" in account.last_error and account.last_polled_at is not None
    account.set_secrets({"password": PASSWORD})
    account.save()
    poll(account)
    account.refresh_from_db()
    assert account.last_error == "" and Ticket.objects.filter(workspace=workspace).count() == 1
    assert servers.dovecot.messages(support) == []
    [(_, _, flags)] = servers.dovecot.messages(support, folder="Processed")
    assert b"\\Seen" in flags


def test_idle_worker_processes_mail_as_it_arrives(servers, account, support, customer, monkeypatch):
    stop = threading.Event()
    processed = mailboxes.inbound_process

    def process_then_stop(*, actor, payload):
        result = processed(actor=actor, payload=payload)
        stop.set()
        return result

    monkeypatch.setattr(mailboxes, "inbound_process", process_then_stop)
    raw, mid = customer_mail(sender=customer, to=support, subject="推送", body="IDLE 收到了吗")
    threading.Timer(0.5, servers.dovecot.append, args=(support, raw)).start()  # arrives while we are idling
    guard = threading.Timer(20.0, stop.set)
    guard.start()

    mailboxes.mailbox_idle(account_id=account.pk, stop=stop, check_seconds=0.2, poll_every=60.0)

    guard.cancel()
    assert Message.objects.get(external_id=mid).ticket.subject == "推送"


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def _qp(text: str) -> bytes:
    import quopri

    return quopri.encodestring(text.encode("gbk"))
