"""The demo workspace's channel accounts: one per channel its tickets are answered on, each in demo delivery
(`config={"delivery": "demo"}`), so a reply shows "Sent" while nothing leaves the machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.demo_delivery import DEMO
from pivotdesk.channels.services.accounts import channel_account_create

if TYPE_CHECKING:
    from pivotdesk.cli.demo.setup import DemoWorld

# (kind, name): the channels the demo's tickets are answered on (web forms by email; voice and API tickets get no
# outbound reply).
DEMO_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("email", "演示邮箱 Demo mailbox"),
    ("chat", "演示在线客服 Demo chat"),
    ("wechat", "演示微信公众号 Demo WeChat"),
    ("whatsapp", "演示 WhatsApp Demo WhatsApp"),
    ("telegram", "演示 Telegram Demo Telegram"),
    ("sms", "演示短信 Demo SMS"),
)


def create_demo_channels(world: DemoWorld) -> None:
    """One active channel account in demo delivery per channel the demo answers on."""
    for kind, name in DEMO_ACCOUNTS:
        channel_account_create(
            workspace=world.workspace,
            actor=Actor.system("demo"),
            kind=kind,
            name=name,
            config={"delivery": DEMO},
        )
