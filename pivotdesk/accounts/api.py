"""REST endpoints of the accounts app: agents, presence, teams, skills and the caller's API tokens."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Router, Status

from pivotdesk.accounts import selectors, services
from pivotdesk.accounts.api_auth import context, require_admin_scope
from pivotdesk.accounts.errors import AccountErrorCode
from pivotdesk.accounts.models import AgentProfile, ApiToken, Team
from pivotdesk.accounts.schemas import (
    AgentOut,
    AgentPatchIn,
    AgentStatusIn,
    ErrorOut,
    Id,
    SkillOut,
    TeamIn,
    TeamOut,
    TeamPatchIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)
from pivotdesk.common.errors import NotFound, ValidationFailed

router = Router(tags=["accounts"])

ERRORS: dict[int, type[ErrorOut]] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def agent_out(agent: AgentProfile) -> dict[str, object]:
    """The API shape of an agent (teams and skills come from the selector's prefetch when present)."""
    return {
        "id": agent.pk,
        "user_id": agent.user_id,
        "username": agent.user.username,
        "name": agent.name,
        "email": agent.user.email,
        "role": agent.role,
        "ticket_access": agent.ticket_access,
        "is_active": agent.is_active,
        "languages": list(agent.languages or []),
        "capacity": dict(agent.capacity or {}),
        "time_zone": agent.time_zone,
        "status": agent.status,
        "status_changed_at": agent.status_changed_at,
        "seniority": agent.seniority,
        "latitude": agent.latitude,
        "longitude": agent.longitude,
        "signature": agent.signature,
        "teams": [{"id": t.pk, "name": t.name} for t in agent.teams.all()],
        "skills": [{"id": s.skill.pk, "name": s.skill.name, "level": s.level} for s in agent.skills.all()],
    }


def _agent(request: HttpRequest, agent_id: int) -> AgentProfile:
    """An agent of the caller's workspace with teams and skills loaded, else 404."""
    ctx = context(request)
    agent = selectors.agent_list(workspace=ctx.workspace, active_only=False).filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(gettext("Agent not found."))
    return agent


def team_out(team: Team) -> dict[str, object]:
    """The API shape of a team."""
    lead = team.lead
    return {
        "id": team.pk,
        "name": team.name,
        "description": team.description,
        "lead": {"id": lead.pk, "name": lead.name} if lead else None,
        "members": [{"id": m.pk, "name": m.name} for m in team.members.all()],
        "created_at": team.created_at,
    }


def _team(request: HttpRequest, team_id: int) -> Team:
    ctx = context(request)
    selectors.access_team(workspace=ctx.workspace, team_id=team_id)
    team = selectors.team_list(workspace=ctx.workspace).select_related("lead__user").filter(pk=team_id).first()
    if team is None:
        raise NotFound(gettext("Team not found."))
    return team


def _agents_by_id(request: HttpRequest, ids: list[int], field: str) -> list[AgentProfile]:
    ctx = context(request)
    wanted = set(ids)
    found = (
        list(selectors.agent_list(workspace=ctx.workspace, active_only=False).filter(pk__in=wanted)) if wanted else []
    )
    missing = wanted - {a.pk for a in found}
    if missing:
        raise ValidationFailed(
            gettext("Unknown %(field)s: %(names)s.")
            % {"field": field, "names": ", ".join(str(i) for i in sorted(missing))},
            code=AccountErrorCode.UNKNOWN_REFERENCE,
            details={field: sorted(missing)},
        )
    return found


# ---- agents -------------------------------------------------------------------------------------------------------


@router.get("/agents", response=list[AgentOut], operation_id="list_agents")
def list_agents(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, object]]:
    """List the workspace's agents (active ones unless include_inactive)."""
    ctx = context(request)
    return [agent_out(a) for a in selectors.agent_list(workspace=ctx.workspace, active_only=not include_inactive)]


@router.get("/agents/me", response=AgentOut, operation_id="get_my_agent")
def get_my_agent(request: HttpRequest) -> dict[str, object]:
    """The calling agent's own profile."""
    return agent_out(_agent(request, context(request).agent.pk))


@router.put("/agents/me/status", response={200: AgentOut, **ERRORS}, operation_id="set_my_status")
def set_my_status(request: HttpRequest, payload: AgentStatusIn) -> dict[str, object]:
    """Set the caller's presence: online, away or offline."""
    ctx = context(request)
    services.agent_set_status(actor=ctx.actor, agent=ctx.agent, status=payload.status)
    return agent_out(_agent(request, ctx.agent.pk))


@router.get("/agents/{agent_id}", response={200: AgentOut, 404: ErrorOut}, operation_id="get_agent")
def get_agent(request: HttpRequest, agent_id: Id) -> dict[str, object]:
    """One agent of the workspace."""
    return agent_out(_agent(request, agent_id))


@router.patch("/agents/{agent_id}", response={200: AgentOut, **ERRORS}, operation_id="update_agent")
def update_agent(request: HttpRequest, agent_id: Id, payload: AgentPatchIn) -> dict[str, object]:
    """Change an agent's role, access, languages, capacity, location, seniority or skills (admins)."""
    ctx = context(request)
    agent = _agent(request, agent_id)
    require_admin_scope(ctx)
    fields = payload.model_dump(exclude_unset=True)
    skills = fields.pop("skills", None)
    for key in ("role", "ticket_access", "is_active", "languages", "capacity", "time_zone", "seniority", "signature"):
        if key in fields and fields[key] is None:
            raise ValidationFailed(gettext("'%(key)s' cannot be null.") % {"key": key})
    if agent.pk == ctx.agent.pk and (fields.get("is_active") is False or fields.get("role", "admin") != "admin"):
        raise ValidationFailed(gettext("You cannot deactivate yourself or drop your own admin role."))
    with transaction.atomic():
        services.agent_update(actor=ctx.actor, agent=agent, **fields)
        for item in skills or []:
            skill = services.skill_get_or_create(actor=ctx.actor, workspace=ctx.workspace, name=item["name"])
            services.agent_skill_set(actor=ctx.actor, agent=agent, skill=skill, level=item["level"])
    return agent_out(_agent(request, agent_id))


# ---- teams and skills ---------------------------------------------------------------------------------------------


@router.get("/teams", response=list[TeamOut], operation_id="list_teams")
def list_teams(request: HttpRequest) -> list[dict[str, object]]:
    """List the workspace's teams with their members."""
    ctx = context(request)
    return [team_out(t) for t in selectors.team_list(workspace=ctx.workspace).select_related("lead__user")]


@router.post("/teams", response={201: TeamOut, **ERRORS}, operation_id="create_team")
def create_team(request: HttpRequest, payload: TeamIn) -> Status[dict[str, object]]:
    """Create a team, optionally with a lead and members (supervisors and admins)."""
    ctx = context(request)
    members = _agents_by_id(request, payload.member_ids, "member_ids")
    lead = _agents_by_id(request, [payload.lead_id], "lead_id")[0] if payload.lead_id else None
    with transaction.atomic():
        team = services.team_create(
            actor=ctx.actor,
            workspace=ctx.workspace,
            name=payload.name,
            description=payload.description,
            members=members,
            lead=lead,
        )
    return Status(201, team_out(_team(request, team.pk)))


@router.get("/teams/{team_id}", response={200: TeamOut, 404: ErrorOut}, operation_id="get_team")
def get_team(request: HttpRequest, team_id: Id) -> dict[str, object]:
    """One team with its members."""
    return team_out(_team(request, team_id))


@router.patch("/teams/{team_id}", response={200: TeamOut, **ERRORS}, operation_id="update_team")
def update_team(request: HttpRequest, team_id: Id, payload: TeamPatchIn) -> dict[str, object]:
    """Rename a team, change its description or lead, or replace its members (member_ids)."""
    ctx = context(request)
    team = _team(request, team_id)
    fields = payload.model_dump(exclude_unset=True)
    if "member_ids" in fields and fields["member_ids"] is None:
        raise ValidationFailed(gettext("member_ids cannot be null; send [] to remove every member."))
    lead = _agents_by_id(request, [fields["lead_id"]], "lead_id")[0] if fields.get("lead_id") else None
    members = _agents_by_id(request, fields["member_ids"], "member_ids") if "member_ids" in fields else None
    with transaction.atomic():
        services.team_update(
            actor=ctx.actor,
            team=team,
            name=fields.get("name"),
            description=fields.get("description"),
            lead=lead,
            clear_lead="lead_id" in fields and fields["lead_id"] is None,
        )
        if members is not None:
            services.team_set_members(actor=ctx.actor, team=team, members=members)
    return team_out(_team(request, team_id))


@router.get("/skills", response=list[SkillOut], operation_id="list_skills")
def list_skills(request: HttpRequest) -> list[dict[str, object]]:
    """List the workspace's skills."""
    ctx = context(request)
    return [
        {"id": s.pk, "name": s.name, "description": s.description}
        for s in selectors.skill_list(workspace=ctx.workspace)
    ]


# ---- API tokens of the caller -------------------------------------------------------------------------------------


def _token(request: HttpRequest, token_id: int) -> ApiToken:
    ctx = context(request)
    token = selectors.token_list(agent=ctx.agent).filter(pk=token_id).first()
    if token is None:
        raise NotFound(gettext("Token not found."))
    return token


@router.get("/tokens", response=list[TokenOut], operation_id="list_tokens")
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    """List the caller's own API tokens (secrets are never shown again)."""
    return list(selectors.token_list(agent=context(request).agent))


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS}, operation_id="create_token")
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, object]]:
    """Create an API token for the caller; the response holds the secret, shown this once."""
    ctx = context(request)
    require_admin_scope(ctx)
    token, secret = services.api_token_create(
        actor=ctx.actor,
        agent=ctx.agent,
        name=payload.name,
        scope=payload.scope,
        rate_limit_per_minute=payload.rate_limit_per_minute,
    )
    body = TokenOut.model_validate(token, from_attributes=True).model_dump()
    return Status(201, {**body, "secret": secret})


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS}, operation_id="revoke_token")
def revoke_token(request: HttpRequest, token_id: Id) -> Status[None]:
    """Revoke one of the caller's tokens; requests with it get 401 from now on."""
    token = _token(request, token_id)
    services.api_token_revoke(actor=context(request).actor, token=token)
    return Status(204, None)
