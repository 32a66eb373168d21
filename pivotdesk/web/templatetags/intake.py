"""Template helpers for the intake screens: probable duplicates of a contact, a message's outbound delivery."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.channels import intake_selectors
from pivotdesk.channels.models import OutboundMessage
from pivotdesk.common.errors import NotFound
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.customers.models import Contact
from pivotdesk.customers.selectors import DuplicateSuggestion

register = template.Library()

REASONS = {
    "name_and_organization": lambda: _("same name and organization"),
    "email_local_part": lambda: _("same email name on another domain"),
    "similar_email": lambda: _("similar email address"),
    "phone": lambda: _("same phone number"),
}


@register.simple_tag
def probable_duplicates(workspace: Workspace | None, contact: Contact) -> list[DuplicateSuggestion]:
    """The contact's probable duplicates (empty outside a workspace)."""
    if workspace is None or contact is None:
        return []
    return customer_selectors.probable_duplicates(workspace=workspace, contact=contact, limit=5)


@register.filter
def duplicate_reasons(reasons: tuple[str, ...]) -> str:
    """Reason codes in words, in the UI language."""
    return "; ".join(str(REASONS[r]()) if r in REASONS else r for r in reasons)


@register.simple_tag
def outbound_of(workspace: Workspace | None, message_id: int) -> OutboundMessage | None:
    """The outbox row of a message, when it went through the outbox."""
    if workspace is None:
        return None
    try:
        return intake_selectors.outbound_for_message(workspace=workspace, message_id=message_id)
    except NotFound:
        return None


@register.filter
def may_retry_delivery(agent: AgentProfile | None) -> bool:
    """Whether to show "Retry" on an undelivered reply: the service (outbox_retry) decides, this only asks."""
    return can(agent, Perm.TICKET_REPLY_PUBLIC)
