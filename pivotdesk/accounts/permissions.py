"""Roles and what they may do: the one place permissions are decided.

Every write service calls `authorize(actor, Perm.X)` before it writes anything; API endpoints and views never
decide on their own: they call the service and show its `PermissionDenied`, and to show or hide an affordance they
ask the same functions (`can`, `actor_can`, `may_assign`). The role × service matrix test
(`config/tests/test_permission_matrix.py`) checks every public write service against `SERVICE_PERMISSIONS`
there.

Who passes the gate:

- an agent (UI session) or an API client: what its role holds in `ROLE_PERMISSIONS` (an inactive agent: nothing);
- the system (tasks, channels, imports, the CLI): everything, as the system does today;
- a rule or the AI: the ticket-level work automation does (update fields, assign, notes and replies);
- a historic author replayed by an authorized import (`Actor.replayed`): what automation may do;
- a contact: only the customer's side (open a ticket, reply on it, its own form fields, cc and follow-up links).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext

from pivotdesk.accounts.errors import AccountErrorCode
from pivotdesk.common.errors import PermissionDenied, ValidationFailed

if TYPE_CHECKING:
    from pivotdesk.accounts.actors import Actor
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
    SELF_MANAGE = "self.manage"  # one's own presence, notification preferences and targets, personal views
    TOKEN_CREATE = "token.create"  # noqa: S105 - one's own read/write tokens at or below the default rate limit
    TOKEN_ADMIN_SCOPE = "token.admin_scope"  # noqa: S105 - a token with the admin scope
    TOKEN_RATE_LIMIT_RAISE = "token.rate_limit_raise"  # noqa: S105 - a token allowed more than the default rate limit
    SAVED_VIEW_SHARE = "saved_view.share"  # create or delete a view shared with the whole workspace
    SLA_CONFIGURE = "sla.configure"  # calendars, SLA policies, targets, escalation levels
    CHANNEL_CONFIGURE = "channel.configure"  # mailboxes, bots, forms; re-processing inbound payloads
    NOTIFICATION_MANAGE = "notification.manage"  # shared targets, the delivery log and its retries
    AI_CONFIGURE = "ai.configure"  # enrichment connectors, training
    CATEGORY_MANAGE = "category.manage"  # add categories; turn an emerging topic into one (or dismiss it)
    WORKFORCE_MANAGE = "workforce.manage"  # queues, forecasts, contracts, shift templates, rosters, approvals
    AUTOMATION_MANAGE = "automation.manage"  # triggers, time rules, shared macros, approval flows, chain templates
    KNOWLEDGE_MANAGE = "knowledge.manage"  # knowledge articles (write, publish, restore a version) and categories
    SURVEYS_MANAGE = "surveys.manage"  # NPS campaigns, the workspace's CSAT settings
    SURVEY_ANSWER = "survey.answer"  # answer a CSAT / NPS survey (the customer, through the survey link)


_LIGHT = {Perm.TICKET_VIEW, Perm.TICKET_NOTE, Perm.SELF_MANAGE, Perm.TOKEN_CREATE}
_AGENT = _LIGHT | {
    Perm.TICKET_CREATE,
    Perm.TICKET_UPDATE,
    Perm.TICKET_REPLY_PUBLIC,
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
    Perm.SAVED_VIEW_SHARE,
    Perm.NOTIFICATION_MANAGE,
    Perm.CATEGORY_MANAGE,
    Perm.WORKFORCE_MANAGE,
    Perm.AUTOMATION_MANAGE,
    Perm.KNOWLEDGE_MANAGE,
    Perm.SURVEYS_MANAGE,
}
ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    "admin": frozenset(Perm),
    "supervisor": frozenset(_SUPERVISOR),
    "agent": frozenset(_AGENT),
    "light_agent": frozenset(_LIGHT),
}

# Actors that are not a person in the workspace. The system keeps what it did before the gate (everything).
AGENT_KINDS = frozenset({"agent", "api"})
AUTOMATION_PERMISSIONS = frozenset(
    {
        Perm.TICKET_VIEW,
        Perm.TICKET_CREATE,
        Perm.TICKET_UPDATE,
        Perm.TICKET_REPLY_PUBLIC,
        Perm.TICKET_NOTE,
        Perm.TICKET_ASSIGN_OTHERS,
        Perm.CONTACT_MANAGE,
    }
)
# A contact acts through the channels on its own requests: opening one, replying, and at intake the form's fields,
# cc'd people and the link to the request it follows up (ticket_update / ticket_add_cc / ticket_link); and answers
# its own satisfaction surveys.
CONTACT_PERMISSIONS = frozenset({Perm.TICKET_CREATE, Perm.TICKET_REPLY_PUBLIC, Perm.TICKET_UPDATE, Perm.SURVEY_ANSWER})
KIND_PERMISSIONS: dict[str, frozenset[Perm]] = {
    "system": frozenset(Perm),
    "rule": AUTOMATION_PERMISSIONS,
    "ai": AUTOMATION_PERMISSIONS,
    "contact": CONTACT_PERMISSIONS,
}

# Who may hold tickets: active agents of these roles (light agents only read and leave notes).
ASSIGNABLE_ROLES = frozenset({"admin", "supervisor", "agent"})


def can(agent: AgentProfile | None, perm: Perm) -> bool:
    """Whether this agent (None: nobody) holds the permission in its workspace."""
    if agent is None or not agent.is_active:
        return False
    return perm in ROLE_PERMISSIONS.get(agent.role, frozenset())


def _denied(perm: Perm) -> PermissionDenied:
    return PermissionDenied(
        gettext("Your role may not do this."), code="permission_denied", details={"permission": perm.value}
    )


def require(agent: AgentProfile | None, perm: Perm) -> None:
    """Raise PermissionDenied unless the agent holds the permission."""
    if not can(agent, perm):
        raise _denied(perm)


def actor_can(actor: Actor, perm: Perm) -> bool:
    """Whether this actor passes the gate for the permission (see the module docstring for who passes)."""
    if actor.replayed:
        return perm in AUTOMATION_PERMISSIONS
    if actor.kind in AGENT_KINDS:
        return can(actor.agent, perm)
    return perm in KIND_PERMISSIONS.get(actor.kind, frozenset())


def authorize(actor: Actor, perm: Perm, *, workspace_id: int | None = None) -> None:
    """The gate every write service passes first: raise PermissionDenied unless the actor may do this (and, given
    the workspace of the object, unless an agent acting belongs to that workspace)."""
    if not actor_can(actor, perm):
        raise _denied(perm)
    if workspace_id is not None and actor.agent is not None and actor.agent.workspace_id != workspace_id:
        raise _denied(perm)


def authorize_system(actor: Actor) -> None:
    """The gate of the services only the system runs (tasks, public intake, scans, indexing, the CLI): no member
    of a workspace may call them, whatever its role; the system (and the admin site, which acts as it) passes."""
    if actor.kind != "system":
        raise PermissionDenied(gettext("Only the system may do this."), code=AccountErrorCode.SYSTEM_ONLY)


def is_assignable(agent: AgentProfile) -> bool:
    """Whether this agent may hold tickets (the one rule; `assignable_q` is the same rule for a query)."""
    return agent.is_active and agent.role in ASSIGNABLE_ROLES


def assignable_q(prefix: str = "") -> Q:
    """`is_assignable` as a filter on AgentProfile rows (prefix e.g. "assignee__" from another model)."""
    return Q(**{f"{prefix}is_active": True, f"{prefix}role__in": sorted(ASSIGNABLE_ROLES)})


def may_assign(actor: Actor, assignee: AgentProfile | None) -> bool:
    """Whether the actor may give a ticket to this assignee (None: unassign) — for showing the affordance."""
    try:
        check_assign(actor, assignee)
    except (PermissionDenied, ValidationFailed):
        return False
    return True


def check_assign(actor: Actor, assignee: AgentProfile | None) -> None:
    """Raise unless the actor may give a ticket to this assignee: the assignee must be able to hold tickets
    (ValidationFailed), and assigning anyone but oneself needs TICKET_ASSIGN_OTHERS (PermissionDenied)."""
    if assignee is not None and not is_assignable(assignee):
        raise ValidationFailed(
            gettext("%(name)s cannot be assigned tickets.") % {"name": assignee.name},
            code=AccountErrorCode.NOT_ASSIGNABLE,
            details={"assignee": "not_assignable"},
        )
    if actor.kind in AGENT_KINDS and assignee is not None and assignee == actor.agent:
        authorize(actor, Perm.TICKET_UPDATE)
        return
    authorize(actor, Perm.TICKET_ASSIGN_OTHERS)
