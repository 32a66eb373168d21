"""Signed links into the portal that customer-facing messages carry.

`ticket_link(ticket)` is "Follow your request": a `django.core.signing` value with its own salt, bound to the
workspace, the contact and the ticket, valid `PIVOTDESK_PORTAL_LINK_DAYS` (default 60). Following it opens that one
request (not the customer's other requests: a forwarded mail shows no more than the mail did). `opt_out_link`
turns progress notices off in one click. Nothing is stored: the signature is the proof, SECRET_KEY rotation ends
every link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

if TYPE_CHECKING:
    from pivotdesk.accounts.models import Workspace
    from pivotdesk.tickets.models import Ticket

TICKET_SALT = "pivotdesk.portal.ticket-link"
OPT_OUT_SALT = "pivotdesk.portal.opt-out"
OPT_OUT_DAYS = 365


def link_days() -> int:
    return max(1, int(getattr(settings, "PIVOTDESK_PORTAL_LINK_DAYS", 60)))


def base_url(workspace: Workspace) -> str:
    """Where the portal of a workspace answers: `https://<custom domain>` when one is set, else the site's base."""
    from pivotdesk.portal.models import PortalTheme

    domain = (
        PortalTheme.objects.filter(workspace=workspace)
        .exclude(custom_domain="")
        .values_list("custom_domain", flat=True)
        .first()
    )
    if domain:
        return f"https://{domain}"
    return str(getattr(settings, "PIVOTDESK_BASE_URL", "") or "").rstrip("/")


def absolute(workspace: Workspace, path: str) -> str:
    """A portal path as a link a customer can follow from a mail or an SMS."""
    return f"{base_url(workspace)}{path}"


def ticket_token(ticket: Ticket, contact_id: int | None = None) -> str:
    """The signed value of a "follow your request" link (for the requester unless another contact is named)."""
    contact = ticket.requester_id if contact_id is None else contact_id
    return signing.dumps({"w": ticket.workspace_id, "c": contact, "t": ticket.pk}, salt=TICKET_SALT, compress=True)


def ticket_path(ticket: Ticket, contact_id: int | None = None) -> str:
    return reverse("portal:follow", args=[ticket.workspace.slug, ticket_token(ticket, contact_id)])


def ticket_link(ticket: Ticket, contact_id: int | None = None) -> str:
    """The absolute "follow your request" link of a ticket, for its requester."""
    return absolute(ticket.workspace, ticket_path(ticket, contact_id))


@dataclass(frozen=True)
class TicketGrant:
    """What a valid ticket link proves: this contact may read this ticket of this workspace."""

    workspace_id: int
    contact_id: int
    ticket_id: int


def read_ticket_token(value: str) -> TicketGrant | None:
    """The grant of a ticket link, or None when it is forged, altered or expired."""
    data = _loads(value, salt=TICKET_SALT, days=link_days())
    try:
        return TicketGrant(int(data["w"]), int(data["c"]), int(data["t"])) if data else None
    except (KeyError, TypeError, ValueError):
        return None


def opt_out_token(*, workspace_id: int, contact_id: int) -> str:
    return signing.dumps({"w": workspace_id, "c": contact_id}, salt=OPT_OUT_SALT, compress=True)


def opt_out_link(*, workspace: Workspace, contact_id: int) -> str:
    """The one-click "stop these notices" link every progress notice carries."""
    token = opt_out_token(workspace_id=workspace.pk, contact_id=contact_id)
    return absolute(workspace, reverse("portal:opt_out", args=[workspace.slug, token]))


def read_opt_out_token(value: str) -> tuple[int, int] | None:
    """(workspace id, contact id) of an opt-out link, or None."""
    data = _loads(value, salt=OPT_OUT_SALT, days=OPT_OUT_DAYS)
    try:
        return (int(data["w"]), int(data["c"])) if data else None
    except (KeyError, TypeError, ValueError):
        return None


def _loads(value: str, *, salt: str, days: int) -> dict[str, Any] | None:
    if not value or len(value) > 500:
        return None
    try:
        data = signing.loads(value, salt=salt, max_age=days * 86400)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return data if isinstance(data, dict) else None
