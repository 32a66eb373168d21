"""Cc and Bcc of an agent's e-mail reply (issue 18) against a real SMTP server on loopback (aiosmtpd): every Cc and
Bcc address is an envelope recipient and receives the mail; Cc is a header, Bcc never is."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import OutboundMessage
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.tests.mailservers import free_port
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.tests.factories import make_ticket


@dataclass
class Sink:
    """What the SMTP server accepted: (envelope recipients, raw message) per mail."""

    mails: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content.encode() if isinstance(content, str) else bytes(content)
        self.mails.append(([str(r) for r in envelope.rcpt_tos], raw))
        return "250 OK"


@pytest.fixture
def smtp() -> Any:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def test_cc_and_bcc_receive_the_reply_and_bcc_is_no_header(smtp, workspace, agent, django_capture_on_commit_callbacks):
    sink, port = smtp
    channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name="Support mailbox",
        config={"address": "support@shop.example", "smtp_host": "127.0.0.1", "smtp_port": port,
                "smtp_security": "none", "smtp_timeout": 10, "username": "support@shop.example"},
        secrets={"password": "x"},
    )  # fmt: skip
    ticket = make_ticket(workspace=workspace, channel="email", subject="Invoice 2041")
    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_services.message_create(
            ticket=ticket,
            actor=Actor.for_agent(agent),
            body_html="<div>Here is the <strong>corrected</strong> invoice.</div>",
            cc=["Finance@Customer.example, boss@customer.example"],
            bcc=["audit@shop.example"],
        )
    message.refresh_from_db()
    assert message.cc == ["finance@customer.example", "boss@customer.example"]
    assert message.bcc == ["audit@shop.example"]
    assert OutboundMessage.objects.get(message=message).status == "sent"
    assert len(sink.mails) == 1
    recipients, raw = sink.mails[0]
    assert sorted(recipients) == sorted(
        [ticket.requester.email, "finance@customer.example", "boss@customer.example", "audit@shop.example"]
    )
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert "finance@customer.example" in mail["Cc"] and "boss@customer.example" in mail["Cc"]
    assert mail["Bcc"] is None
    assert b"audit@shop.example" not in raw  # nowhere in the headers or the body
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Here is the corrected invoice." in text
