"""Roles and what they may do: the one place permissions are decided."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pivotdesk.common.errors import PermissionDenied

if TYPE_CHECKING:
    from pivotdesk.accounts.models import AgentProfile


class Perm(StrEnum):
    TICKET_VIEW = "ticket.view"
    TICKET_CREATE = "ticket.create"
    TICKET_UPDATE = "ticket.update"
    TICKET_REPLY_PUBLIC = "ticket.reply_public"
    TICKET_NOTE = "ticket.note"
    TICKET_ASSIGN_OTHERS = "ticket.assign_others"
    TICKET_MERGE = "ticket.merge"
    TICKET_BULK = "ticket.bulk"
    TICKET_IMPORT_EXPORT = "ticket.import_export"
    CONTACT_MANAGE = "contact.manage"
    CONTACT_MERGE = "contact.merge"
    TEAM_MANAGE = "team.manage"
    AGENT_MANAGE = "agent.manage"
    WORKSPACE_CONFIGURE = "workspace.configure"
    REPORTS_VIEW = "reports.view"
    WEBHOOK_MANAGE = "webhook.manage"
    ROUTING_MANAGE = "routing.manage"  # routing policies, supervisor override, the dispatch board


_AGENT = {
    Perm.TICKET_VIEW,
    Perm.TICKET_CREATE,
    Perm.TICKET_UPDATE,
    Perm.TICKET_REPLY_PUBLIC,
    Perm.TICKET_NOTE,
    Perm.TICKET_ASSIGN_OTHERS,
    Perm.TICKET_MERGE,
    Perm.TICKET_BULK,
    Perm.CONTACT_MANAGE,
}
_SUPERVISOR = _AGENT | {
    Perm.CONTACT_MERGE,
    Perm.TEAM_MANAGE,
    Perm.REPORTS_VIEW,
    Perm.TICKET_IMPORT_EXPORT,
    Perm.ROUTING_MANAGE,
}
ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    "admin": frozenset(Perm),
    "supervisor": frozenset(_SUPERVISOR),
    "agent": frozenset(_AGENT),
    "light_agent": frozenset({Perm.TICKET_VIEW, Perm.TICKET_NOTE}),
}


def can(agent: AgentProfile | None, perm: Perm) -> bool:
    """Whether this agent (None: nobody) holds the permission in its workspace."""
    if agent is None or not agent.is_active:
        return False
    return perm in ROLE_PERMISSIONS.get(agent.role, frozenset())


def require(agent: AgentProfile | None, perm: Perm) -> None:
    """Raise PermissionDenied unless the agent holds the permission."""
    if not can(agent, perm):
        raise PermissionDenied(f"Your role may not do this ({perm.value}).", code="permission_denied")
