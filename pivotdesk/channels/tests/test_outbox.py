"""The channels outbox is the one outbox: a reply whose worker died mid-send is not stranded in `sending`.

The worker's death is injected by a sender wrapper that lets a `BaseException` escape mid-send (what a killed
process looks like to the row: claimed, never finished). The real chat sender delivers the retry. A real SIGKILLed
process is tested on webhooks (`webhooks/tests/test_killed_worker.py`) against the same `common.outbox` functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels import adapters
from pivotdesk.channels.models import OutboundMessage
from pivotdesk.channels.tasks import outbox_retry_due_task
from pivotdesk.common.delivery_errors import describe
from pivotdesk.common.outbox import OutboxStatus
from pivotdesk.common.time import now
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """Stands for SIGKILL: not an Exception, so no `except Exception` in the send path records a failure."""


@pytest.fixture
def dying_chat_sender() -> Iterator[list[int]]:
    """The first chat send dies mid-send; later sends go through the real chat sender. Yields the calls."""
    adapters.load()
    real = adapters.SENDERS["chat"]
    calls: list[int] = []

    def sender(outbound, account):
        calls.append(outbound.pk)
        if len(calls) == 1:
            raise WorkerDied
        return real(outbound, account)

    adapters.SENDERS["chat"] = sender
    yield calls
    adapters.SENDERS["chat"] = real


def _chat_ticket(workspace, agent):
    # no chat account configured: the chat sender treats the visitor as present and answers in the widget
    contact = ContactFactory(workspace=workspace)
    ChannelIdentity.objects.create(workspace=workspace, contact=contact, kind="web", value="v-visitor")
    return ticket_services.ticket_create(
        workspace=workspace,
        actor=Actor.for_contact(contact.pk),
        subject="Where is my order?",
        body="Order 1234",
        requester=contact,
        channel="chat",
    )


def test_a_reply_whose_worker_died_mid_send_is_sent_by_the_retry_scan_after_its_lease(
    workspace, agent, settings, dying_chat_sender, django_capture_on_commit_callbacks
):
    settings.PIVOTDESK_OUTBOX_LEASE_SECONDS = 120
    ticket = _chat_ticket(workspace, agent)

    # given an agent reply whose send dies mid-way
    with pytest.raises(WorkerDied), django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="On its way!")
    reply = Message.objects.get(ticket=ticket, author_type="agent")
    outbound = OutboundMessage.objects.get(message=reply)
    assert (outbound.status, outbound.attempts) == (OutboxStatus.SENDING, 1)
    assert outbound.lease_until is not None and outbound.lease_until > now() + dt.timedelta(seconds=100)

    # when the retry scan runs within the lease, it leaves the send alone
    assert outbox_retry_due_task() == 0
    assert dying_chat_sender == [outbound.pk]

    # and when the lease has run out, the scan claims it again and the reply is delivered
    past = now() - dt.timedelta(seconds=1)
    OutboundMessage.objects.filter(pk=outbound.pk).update(lease_until=past, next_attempt_at=past)
    assert outbox_retry_due_task() == 1

    outbound.refresh_from_db()
    reply.refresh_from_db()
    assert (outbound.status, outbound.attempts, outbound.lease_until) == (OutboxStatus.SENT, 2, None)
    assert outbound.provider_id == f"chat:v-visitor:{reply.pk}"
    assert reply.delivery_status == "sent"
    assert dying_chat_sender == [outbound.pk, outbound.pk]
    assert outbox_retry_due_task() == 0


def test_a_reply_claimed_more_often_than_its_budget_fails_with_a_reason_instead_of_sending(
    workspace, agent, settings, dying_chat_sender, django_capture_on_commit_callbacks
):
    settings.PIVOTDESK_OUTBOX_MAX_ATTEMPTS = 1
    ticket = _chat_ticket(workspace, agent)
    with pytest.raises(WorkerDied), django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="On its way!")
    outbound = OutboundMessage.objects.get(message__ticket=ticket)
    past = now() - dt.timedelta(seconds=1)
    OutboundMessage.objects.filter(pk=outbound.pk).update(lease_until=past, next_attempt_at=past)

    assert outbox_retry_due_task() == 1

    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts, outbound.next_attempt_at) == (OutboxStatus.FAILED, 2, None)
    assert "never finished" in describe(outbound.last_error)
    assert Message.objects.get(pk=outbound.message_id).delivery_status == "failed"
    assert dying_chat_sender == [outbound.pk]  # not sent a second time
