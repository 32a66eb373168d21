"""The line the portal adds under every e-mail reply to a customer: "Follow your request: <signed link>"."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from pivotdesk.portal import links, selectors
from pivotdesk.tickets.models import Message


def follow_line(message: Message) -> str:
    """The footer line for a reply, in the requester's language (nothing for a merged-away ticket)."""
    ticket = message.ticket
    if ticket.merged_into_id is not None:
        return ""
    with translation.override(selectors.contact_language(ticket.requester, ticket.workspace)):
        return _("Follow your request: %(link)s") % {"link": links.ticket_link(ticket)}
