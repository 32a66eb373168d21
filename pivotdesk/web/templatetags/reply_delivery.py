"""The reply box's delivery warning: a public reply on this ticket will not be delivered because its channel has no
active account (and, for admins, where to set one up)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext, gettext_lazy

from pivotdesk.channels import selectors as channel_selectors
from pivotdesk.tickets.models import Ticket

register = template.Library()

# Short channel names inside the warning sentence (the channel kinds' own labels are longer).
_NAMES = {
    "email": gettext_lazy("email"),
    "wechat": gettext_lazy("WeChat"),
    "wecom": gettext_lazy("WeCom"),
    "telegram": gettext_lazy("Telegram"),
    "whatsapp": gettext_lazy("WhatsApp"),
    "messenger": gettext_lazy("Messenger"),
    "line": gettext_lazy("LINE"),
    "sms": gettext_lazy("SMS"),
}


@register.simple_tag
def undelivered_reply_warning(ticket: Ticket) -> dict[str, str] | None:
    """{"kind", "text"} when a public reply on this ticket would not be delivered, else None."""
    kind = channel_selectors.undeliverable_reply_channel(ticket=ticket)
    if kind is None:
        return None
    text = gettext("No %(channel)s account is set up: this reply will not be delivered.") % {
        "channel": _NAMES.get(kind, kind)
    }
    return {"kind": kind, "text": text}
