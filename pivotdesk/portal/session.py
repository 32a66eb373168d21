"""The customer's session, separate from the agents' sign-in: one session key (`SESSION_KEY`) holding, per
workspace, the contact and — for a visitor who only followed a ticket link — the tickets they may read. Django's
auth (`request.user`) is never touched, so an agent signed in in the same browser stays who they were, and signing
out of the portal leaves the agent signed in."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from pivotdesk.portal.selectors import Viewer

SESSION_KEY = "pd_portal"
PENDING_KEY = "pd_portal_pending"  # the phone number a code was asked for, per workspace
LANGUAGE_KEY = "pd_portal_lang"
MAX_LINKED_TICKETS = 20


def _store(request: HttpRequest) -> dict[str, Any]:
    value = request.session.get(SESSION_KEY)
    return dict(value) if isinstance(value, dict) else {}


def viewer(request: HttpRequest, workspace_id: int) -> Viewer | None:
    """Who reads this workspace's portal in this session, or None."""
    entry = _store(request).get(str(workspace_id))
    if not isinstance(entry, dict) or not isinstance(entry.get("c"), int):
        return None
    tickets = entry.get("t")
    ticket_ids = tuple(int(t) for t in tickets if isinstance(t, int)) if isinstance(tickets, list) else None
    return Viewer(workspace_id=workspace_id, contact_id=entry["c"], ticket_ids=ticket_ids)


def sign_in(request: HttpRequest, *, workspace_id: int, contact_id: int) -> None:
    """A customer proved who they are (magic link or code): a fresh session key (no fixation), full access."""
    request.session.cycle_key()
    store = _store(request)
    store[str(workspace_id)] = {"c": contact_id, "t": None}
    request.session[SESSION_KEY] = store
    pending = request.session.get(PENDING_KEY)
    if isinstance(pending, dict):
        pending.pop(str(workspace_id), None)
        request.session[PENDING_KEY] = pending


def grant_ticket(request: HttpRequest, *, workspace_id: int, contact_id: int, ticket_id: int) -> None:
    """A signed ticket link was followed: that ticket becomes readable (added to a link visitor's list; a customer
    already signed in as this contact keeps full access; another contact's session is replaced)."""
    store = _store(request)
    entry = store.get(str(workspace_id))
    if isinstance(entry, dict) and entry.get("c") == contact_id:
        tickets = entry.get("t")
        if tickets is None:
            return
        tickets = [t for t in tickets if isinstance(t, int) and t != ticket_id][-(MAX_LINKED_TICKETS - 1) :]
        entry = {"c": contact_id, "t": [*tickets, ticket_id]}
    else:
        request.session.cycle_key()
        entry = {"c": contact_id, "t": [ticket_id]}
    store[str(workspace_id)] = entry
    request.session[SESSION_KEY] = store


def sign_out(request: HttpRequest, *, workspace_id: int) -> None:
    store = _store(request)
    store.pop(str(workspace_id), None)
    request.session[SESSION_KEY] = store


def remember_pending(request: HttpRequest, *, workspace_id: int, address: str) -> None:
    pending = request.session.get(PENDING_KEY)
    pending = dict(pending) if isinstance(pending, dict) else {}
    pending[str(workspace_id)] = address[:64]
    request.session[PENDING_KEY] = pending


def pending_address(request: HttpRequest, workspace_id: int) -> str:
    pending = request.session.get(PENDING_KEY)
    value = pending.get(str(workspace_id), "") if isinstance(pending, dict) else ""
    return value if isinstance(value, str) else ""
