"""Reads the screens need that the domain apps do not offer yet; every one is scoped to the workspace.

Candidates to move into tickets.selectors / accounts.selectors when their owners want them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import CharField, QuerySet, Value

from pivotdesk.accounts.models import AgentProfile, ApiToken, Team, User
from pivotdesk.accounts.selectors import token_list
from pivotdesk.common.errors import NotFound
from pivotdesk.customers.models import ChannelIdentity, Contact
from pivotdesk.tickets.models import Attachment, Category, StatusDefinition, Tag, Ticket


def status_definitions(*, workspace_id: int) -> list[StatusDefinition]:
    """The workspace's active custom status labels in display order."""
    return list(StatusDefinition.objects.filter(workspace_id=workspace_id, active=True).order_by("position", "pk"))


def categories(*, workspace_id: int) -> list[Category]:
    """The workspace's active categories, parents loaded."""
    return list(Category.objects.filter(workspace_id=workspace_id, active=True).select_related("parent"))


def tag_names(*, workspace_id: int, limit: int = 200) -> list[str]:
    """Tag names for autocompletion."""
    return list(Tag.objects.filter(workspace_id=workspace_id).order_by("name").values_list("name", flat=True)[:limit])


def identities(*, contact: Contact) -> list[ChannelIdentity]:
    """A contact's channel identities."""
    return list(ChannelIdentity.objects.filter(workspace_id=contact.workspace_id, contact=contact).order_by("kind"))


def access_attachment(*, ticket: Ticket, attachment_id: int) -> Attachment:
    """An attachment of a ticket the caller already may see, else NotFound."""
    found = Attachment.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket, pk=attachment_id).first()
    if found is None:
        raise NotFound("Attachment not found.")
    return found


def access_own_token(*, agent: AgentProfile, token_id: int) -> ApiToken:
    """One of the agent's own API tokens, else NotFound."""
    token = token_list(agent=agent).filter(pk=token_id).first()
    if token is None:
        raise NotFound("Token not found.")
    return token


def followers(*, ticket: Ticket) -> QuerySet[AgentProfile]:
    return ticket.followers.select_related("user").order_by("pk")


@dataclass(frozen=True)
class Choice:
    """One option of a filter menu: an agent (with its role) or a team."""

    pk: int
    name: str
    role: str = ""


def queue_filter_choices(*, workspace_id: int) -> tuple[list[Choice], list[Choice]]:
    """The queue's assignee and team menus: the workspace's active agents and its teams, in one query (a UNION),
    each sorted by name. (The full `agent_list`/`team_list` cost five queries with their prefetches.)"""

    def text(value: str) -> Value:
        return Value(value, output_field=CharField())

    # order_by(): no model ordering inside the UNION's parts (SQLite refuses it); sorted below.
    agents = (
        AgentProfile.objects.filter(workspace_id=workspace_id, is_active=True)
        .order_by()
        .values_list(
            text("agent"), "pk", "role", "user__display_name", "user__first_name", "user__last_name", "user__username"
        )
    )
    teams = (
        Team.objects.filter(workspace_id=workspace_id)
        .order_by()
        .values_list(text("team"), "pk", text(""), "name", text(""), text(""), text(""))
    )
    agent_choices: list[Choice] = []
    team_choices: list[Choice] = []
    for kind, pk, role, name, first_name, last_name, username in agents.union(teams, all=True):
        if kind == "team":
            team_choices.append(Choice(pk=pk, name=name))
        else:
            # The label rule is User.label's (display name, else full name, else username).
            user = User(display_name=name, first_name=first_name, last_name=last_name, username=username)
            agent_choices.append(Choice(pk=pk, name=user.label, role=role))
    return sorted(agent_choices, key=lambda c: c.name.casefold()), sorted(team_choices, key=lambda c: c.name.casefold())
