"""Demo delivery: a channel account with `config={"delivery": "demo"}` sends nothing.

Why: the demo workspace has tickets on about ten channels and no real mailboxes or bots, so without this every
reply in the demo showed "Failed". An account in demo delivery writes each outgoing message to a local sink,
`VAR_DIR/demo-outbox/<channel>/<outbound id>.json`, and the outbox marks it sent. Nothing leaves the machine; the
channel pages and the message's delivery status say so. A real account (no `delivery` key) is unaffected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from pivotdesk.common.time import now

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, OutboundMessage

DEMO = "demo"
PROVIDER_PREFIX = "demo:"


def is_demo_delivery(account: ChannelAccount | None) -> bool:
    """Whether the account delivers to the local demo sink instead of the platform."""
    return account is not None and isinstance(account.config, dict) and account.config.get("delivery") == DEMO


def sink_dir() -> Path:
    """Where demo deliveries are written (one folder per channel)."""
    return Path(settings.VAR_DIR) / "demo-outbox"


def demo_deliver(outbound: OutboundMessage) -> str:
    """Write the outgoing message to the local sink; returns its provider id (`demo:<channel>/<id>`)."""
    from pivotdesk.tickets.models import Message

    message = Message.objects.select_related("ticket").get(pk=outbound.message_id)
    folder = sink_dir() / outbound.channel
    folder.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "delivery": DEMO,
        "channel": outbound.channel,
        "account": outbound.account_id,
        "recipient": outbound.recipient,
        "ticket": message.ticket.number,
        "subject": message.ticket.subject,
        "body": message.body_text,
        "written_at": now().isoformat(),
    }
    path = folder / f"{outbound.pk}.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return f"{PROVIDER_PREFIX}{outbound.channel}/{outbound.pk}"


def is_demo_provider_id(provider_id: str) -> bool:
    """Whether an outbox row was delivered to the demo sink (for the delivery status tooltip)."""
    return provider_id.startswith(PROVIDER_PREFIX)
