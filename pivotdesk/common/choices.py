"""Enumerations shared by several apps (channels), kept low so every layer may use them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Where a ticket or message came from / goes to."""

    EMAIL = "email", _("Email")
    WEB_FORM = "web_form", _("Web form")
    CHAT = "chat", _("Chat")
    WECHAT = "wechat", _("WeChat")
    WECOM = "wecom", _("WeCom")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    MESSENGER = "messenger", _("Messenger")
    LINE = "line", _("LINE")
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice")
    VIDEO = "video", _("Video")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    AGENT = "agent", _("Agent (created in the UI)")


class IdentityKind(models.TextChoices):
    """The kind of external id a channel identity carries."""

    EMAIL = "email", _("Email address")
    PHONE = "phone", _("Phone (E.164)")
    WECHAT = "wechat", _("WeChat openid")
    WECOM = "wecom", _("WeCom external userid")
    WHATSAPP = "whatsapp", _("WhatsApp id")
    TELEGRAM = "telegram", _("Telegram id")
    MESSENGER = "messenger", _("Messenger PSID")
    LINE = "line", _("LINE user id")
    WEB = "web", _("Web user")
    EXTERNAL = "external", _("External system id")


# Capacity is counted per channel type: chat-like channels are synchronous, the rest asynchronous.
CHANNEL_TYPE = {
    Channel.CHAT: "chat",
    Channel.WECHAT: "messaging",
    Channel.WECOM: "messaging",
    Channel.WHATSAPP: "messaging",
    Channel.TELEGRAM: "messaging",
    Channel.MESSENGER: "messaging",
    Channel.LINE: "messaging",
    Channel.SMS: "messaging",
    Channel.VOICE: "voice",
    Channel.VIDEO: "voice",
}


def channel_type(channel: str) -> str:
    """The capacity bucket of a channel: chat, messaging, voice or email (everything asynchronous)."""
    return CHANNEL_TYPE.get(Channel(channel), "email") if channel in Channel.values else "email"
