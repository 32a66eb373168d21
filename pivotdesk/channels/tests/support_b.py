"""Helpers shared by the Messenger, LINE, SMS, generic and CTI adapter tests."""

from __future__ import annotations

from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import ChannelAccount, InboundPayload
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OGG = b"OggS" + b"\x01" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x02" * 64


def make_account(workspace: Any, kind: str, *, config: dict[str, Any], secrets: dict[str, Any]) -> ChannelAccount:
    return channel_account_create(
        actor=Actor.system(), workspace=workspace, kind=kind, name=f"{kind} test", config=config, secrets=secrets
    )


def inbound_url(account: ChannelAccount) -> str:
    return f"/channels/in/{account.kind}/{account.webhook_key}/"


def latest_payload(account: ChannelAccount) -> InboundPayload:
    payload = InboundPayload.objects.filter(account=account).order_by("-pk").first()
    assert payload is not None
    return payload


def agent_reply(ticket: Ticket, agent: Any, body: str, capture: Any) -> Message:
    """An agent's public reply, with the after-commit reactions (outbox enqueue and send) run."""
    with capture(execute=True):
        message = ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body=body)
    message.refresh_from_db()
    return message


class Hook:
    """One channel's webhook as a platform calls it: POSTs through the test client with after-commit work run."""

    def __init__(self, client: Any, account: ChannelAccount, capture: Any) -> None:
        self.client, self.account, self.capture = client, account, capture

    @property
    def url(self) -> str:
        return inbound_url(self.account)

    def post(self, body: bytes, *, content_type: str = "application/json", **headers: str) -> Any:
        with self.capture(execute=True):
            return self.client.post(self.url, body, content_type=content_type, **headers)

    def reply(self, ticket: Ticket, agent: Any, body: str) -> Message:
        return agent_reply(ticket, agent, body, self.capture)
