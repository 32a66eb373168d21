"""Channel adapters: each turns a raw payload into NormalizedInbound messages and sends replies back.

An adapter registers a parser (raw payload → list of NormalizedInbound) and optionally a sender (OutboundMessage →
provider message id). The registry is filled at import time by the adapter modules listed in `ADAPTER_MODULES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from pivotdesk.channels.domain.inbound import NormalizedInbound

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, InboundPayload, OutboundMessage

Parser = Callable[["InboundPayload"], list[NormalizedInbound]]
Sender = Callable[["OutboundMessage", "ChannelAccount | None"], str]

PARSERS: dict[str, Parser] = {}
SENDERS: dict[str, Sender] = {}

ADAPTER_MODULES = [
    f"pivotdesk.channels.adapters.{name}"
    for name in (
        "email", "email_send", "wechat", "wecom", "telegram", "whatsapp", "messenger", "line", "sms", "generic",
        "cti", "web_form", "chat",
    )
]  # fmt: skip
_loaded = False


def register_parser(channel: str) -> Callable[[Parser], Parser]:
    def wrap(fn: Parser) -> Parser:
        PARSERS[channel] = fn
        return fn

    return wrap


def register_sender(channel: str) -> Callable[[Sender], Sender]:
    def wrap(fn: Sender) -> Sender:
        SENDERS[channel] = fn
        return fn

    return wrap


def load() -> None:
    """Import every adapter module once (they register themselves)."""
    global _loaded  # noqa: PLW0603 - a process-wide registry filled once
    if _loaded:
        return
    for module in ADAPTER_MODULES:
        importlib.import_module(module)
    _loaded = True


def parser_for(channel: str) -> Parser | None:
    load()
    return PARSERS.get(channel)


def sender_for(channel: str) -> Sender | None:
    load()
    return SENDERS.get(channel)
