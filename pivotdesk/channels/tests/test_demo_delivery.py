"""Demo delivery: an account with `config={"delivery": "demo"}` writes replies to a local sink and marks them sent;
a real account (and a workspace with none) is unaffected."""

from __future__ import annotations

import json
from typing import cast

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import ChannelAccount, OutboundMessage
from pivotdesk.common.outbox import OutboxStatus
from pivotdesk.customers.models import Contact
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def _reply(workspace, agent, *, channel: str, email: str = "buyer@example.com") -> Message:
    contact = cast(Contact, ContactFactory(workspace=workspace, email=email))
    ticket = ticket_services.ticket_create(
        workspace=workspace,
        actor=Actor.for_contact(contact.pk),
        subject="Scanner firmware update fails",
        body="Error SCN-12 after the update.",
        requester=contact,
        channel=channel,
    )
    return ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="Please hold the button.")


def _account(workspace, kind: str, config: dict[str, object]) -> ChannelAccount:
    return ChannelAccount.objects.create(workspace=workspace, kind=kind, name=f"{kind} {config}", config=config)


@pytest.mark.parametrize("channel", ["email", "web_form", "sms", "wechat", "whatsapp"])
def test_a_reply_through_a_demo_delivery_account_is_written_to_the_sink_and_shows_sent(
    workspace, agent, tmp_path, channel, django_capture_on_commit_callbacks
):
    kind = "email" if channel == "web_form" else channel
    account = _account(workspace, kind, {"delivery": "demo"})

    with django_capture_on_commit_callbacks(execute=True):
        reply = _reply(workspace, agent, channel=channel)

    reply.refresh_from_db()
    assert reply.delivery_status == "sent", reply.delivery_error
    outbound = OutboundMessage.objects.get(message=reply)
    assert outbound.status == OutboxStatus.SENT
    assert outbound.account == account
    assert outbound.provider_id == f"demo:{kind}/{outbound.pk}"
    written = json.loads((tmp_path / "demo-outbox" / kind / f"{outbound.pk}.json").read_text(encoding="utf-8"))
    assert written["body"] == "Please hold the button."
    assert written["delivery"] == "demo"
    assert written["ticket"] == reply.ticket.number


def test_a_real_account_is_not_delivered_to_the_sink(workspace, agent, tmp_path, django_capture_on_commit_callbacks):
    # an SMS account without demo delivery, a customer without a phone number: nothing to send to, as before
    _account(workspace, "sms", {})

    with django_capture_on_commit_callbacks(execute=True):
        reply = _reply(workspace, agent, channel="sms")

    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert not (tmp_path / "demo-outbox").exists()


def test_a_real_email_account_sends_through_its_real_sender(
    workspace, agent, tmp_path, settings, django_capture_on_commit_callbacks
):
    # a real mailbox whose SMTP server refuses connections: the real sender runs, the reply is not marked sent
    _account(workspace, "email", {"smtp_host": "127.0.0.1", "smtp_port": 9, "from_address": "help@example.com"})

    with django_capture_on_commit_callbacks(execute=True):
        reply = _reply(workspace, agent, channel="email")

    reply.refresh_from_db()
    assert reply.delivery_status in ("queued", "failed")
    assert reply.delivery_status != "sent"
    assert not (tmp_path / "demo-outbox").exists()
