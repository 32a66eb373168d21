"""`{% message_body m ticket as body %}`: a message's stored HTML made safe to show in the agent workspace.

Remote images in a customer's message are held back until the agent clicks "Show images" (tracking pixels), and an
image that points at one of our own URLs is shown only when it is one of the ticket's attachments or media files
(inline `cid:` parts are rewritten to those when the mail is stored)."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from pivotdesk.channels.call_text import call_text
from pivotdesk.common.html import hold_back_images
from pivotdesk.tickets.models import AuthorType, Message, Ticket

register = template.Library()


class MessageBody:
    """What the message template shows: the HTML and how many remote images wait for the agent's consent."""

    def __init__(self, html: SafeString, blocked: int) -> None:
        self.html = html
        self.blocked = blocked


def _attachment_prefix(ticket: Ticket) -> str:
    url = reverse("web:attachment", args=[ticket.number, 0])
    return url[: url.rstrip("/").rfind("/") + 1]


@register.simple_tag
def message_body(message: Message, ticket: Ticket) -> MessageBody:
    if message.channel == "voice":
        # A call's events are facts in its metadata, shown in the reader's language (the stored text is English).
        text = call_text(
            message.metadata,
            agent_name=message.author_name if message.author_type == AuthorType.AGENT else "",
            has_recording="transcription" in message.metadata,  # queued, done or failed: a recording was stored
        )
        if text is not None:
            return MessageBody(format_html("<p>{}</p>", text), 0)
    shown = hold_back_images(
        message.body_html,
        block_remote=message.author_type == AuthorType.CONTACT,
        local_prefixes=[_attachment_prefix(ticket), settings.MEDIA_URL],
    )
    # The stored HTML was sanitised by nh3 when the message was written; only `data-blocked-src` was added here.
    return MessageBody(mark_safe(shown.html), shown.blocked)
