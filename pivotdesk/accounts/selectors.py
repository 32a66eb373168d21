"""Reads for agents, teams, skills, tokens: always scoped to a workspace."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from pivotdesk.accounts.models import AgentProfile, ApiToken, Invitation, Role, Skill, Team, User, Workspace
from pivotdesk.common.errors import NotFound


def agent_list(*, workspace: Workspace, active_only: bool = True) -> QuerySet[AgentProfile]:
    """The workspace's agents with user, teams and skills loaded."""
    qs = (
        AgentProfile.objects.filter(workspace=workspace)
        .select_related("user")
        .prefetch_related("teams", "skills__skill")
        .order_by("user__display_name", "user__username")
    )
    return qs.filter(is_active=True) if active_only else qs


def mention_candidates(*, workspace: Workspace, q: str, exclude: AgentProfile | None = None) -> list[AgentProfile]:
    """Up to 8 active colleagues a note could @mention, for the composer's autocomplete: a username starting with
    `q`, or a name containing it (赵 finds 赵磊)."""
    q = (q or "").strip()[:150]
    qs = AgentProfile.objects.filter(workspace=workspace, is_active=True, user__is_active=True).select_related("user")
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    if q:
        qs = qs.filter(
            Q(user__username__istartswith=q)
            | Q(user__display_name__icontains=q)
            | Q(user__first_name__istartswith=q)
            | Q(user__last_name__istartswith=q)
        )
    return list(qs.order_by("user__username")[:8])


def access_agent(*, workspace: Workspace, agent_id: int) -> AgentProfile:
    """An agent of this workspace by id, else NotFound."""
    agent = AgentProfile.objects.select_related("user").filter(workspace=workspace, pk=agent_id).first()
    if agent is None:
        raise NotFound(gettext("Agent not found."))
    return agent


def team_list(*, workspace: Workspace) -> QuerySet[Team]:
    """The workspace's teams with members loaded."""
    return Team.objects.filter(workspace=workspace).prefetch_related("members__user").order_by("name")


def access_team(*, workspace: Workspace, team_id: int) -> Team:
    """A team of this workspace by id, else NotFound."""
    team = Team.objects.filter(workspace=workspace, pk=team_id).first()
    if team is None:
        raise NotFound(gettext("Team not found."))
    return team


def skill_list(*, workspace: Workspace) -> QuerySet[Skill]:
    return Skill.objects.filter(workspace=workspace).order_by("name")


def memberships_for_user(*, user: User) -> QuerySet[AgentProfile]:
    """The active agent profiles of a user across workspaces."""
    return AgentProfile.objects.filter(user=user, is_active=True).select_related("workspace").order_by("pk")


def agent_for_user(*, user: User, workspace: Workspace) -> AgentProfile | None:
    """The user's profile in this workspace, if a member."""
    return AgentProfile.objects.filter(user=user, workspace=workspace, is_active=True).first()


def token_list(*, agent: AgentProfile) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(workspace_id=agent.workspace_id, agent=agent).order_by("-created_at")


def workspace_tokens(*, workspace: Workspace) -> QuerySet[ApiToken]:
    """Every API token of the workspace's agents, newest first (for its admins: who can reach the API, revoke)."""
    return ApiToken.objects.filter(workspace=workspace).select_related("agent__user").order_by("-created_at", "-pk")


def access_workspace_token(*, workspace: Workspace, token_id: int) -> ApiToken:
    """A token of this workspace by id, else NotFound."""
    token = ApiToken.objects.select_related("agent__user").filter(workspace=workspace, pk=token_id).first()
    if token is None:
        raise NotFound(gettext("Token not found."))
    return token


def invitation_list(*, workspace: Workspace) -> QuerySet[Invitation]:
    """The workspace's invitations, newest first, with their inviter and teams."""
    return (
        Invitation.objects.filter(workspace=workspace)
        .select_related("invited_by__user", "accepted_by")
        .prefetch_related("teams")
        .order_by("-created_at", "-pk")
    )


def access_invitation(*, workspace: Workspace, invitation_id: int) -> Invitation:
    """An invitation of this workspace by id, else NotFound."""
    invitation = Invitation.objects.filter(workspace=workspace, pk=invitation_id).first()
    if invitation is None:
        raise NotFound(gettext("Invitation not found."))
    return invitation


def active_admin_count(*, workspace: Workspace) -> int:
    """How many active admins the workspace has (the last one cannot be demoted or deactivated)."""
    return AgentProfile.objects.filter(
        workspace=workspace, role=Role.ADMIN, is_active=True, user__is_active=True
    ).count()


def access_skill(*, workspace: Workspace, skill_id: int) -> Skill:
    """A skill of this workspace by id, else NotFound."""
    skill = Skill.objects.filter(workspace=workspace, pk=skill_id).first()
    if skill is None:
        raise NotFound(gettext("Skill not found."))
    return skill
