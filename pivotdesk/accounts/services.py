"""Writes for workspaces, agents, teams, skills and API tokens."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.errors import AccountErrorCode
from pivotdesk.accounts.models import (
    AgentProfile,
    AgentSkill,
    AgentStatus,
    ApiToken,
    Role,
    Skill,
    Team,
    TokenScope,
    User,
    Workspace,
)
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.crypto import secret_digest
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.time import now

TOKEN_PREFIX = "pd_"  # noqa: S105 - a public prefix, not a secret
MAX_TOKEN_RATE_LIMIT = 100_000  # per minute: the ceiling even an admin cannot pass


def workspace_create(
    *,
    actor: Actor,
    name: str,
    slug: str | None = None,
    time_zone: str = "Asia/Shanghai",
    languages: list[str] | None = None,
) -> Workspace:
    """Create a workspace (tenant): the system's job (CLI, seeding), not a workspace member's."""
    _system_only(actor)
    slug = slug or slugify(name) or f"ws-{secrets.token_hex(3)}"
    if Workspace.objects.filter(slug=slug).exists():
        raise Conflict(
            gettext("A workspace with slug '%(slug)s' already exists.") % {"slug": slug},
            code=AccountErrorCode.WORKSPACE_EXISTS,
        )
    return Workspace.objects.create(name=name, slug=slug, time_zone=time_zone, languages=languages or ["zh", "en"])


def _system_only(actor: Actor) -> None:
    """Users and workspaces span workspaces: no member of one may create them, whatever its role."""
    authorize_system(actor)


def user_get_or_create(
    *, actor: Actor, username: str, email: str = "", password: str | None = None, display_name: str = ""
) -> User:
    """Find a user by username or create one (a password of None leaves an unusable password)."""
    _system_only(actor)
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, email=email, display_name=display_name)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    return user


@transaction.atomic
def agent_create(
    *,
    workspace: Workspace,
    actor: Actor,
    username: str,
    email: str = "",
    password: str | None = None,
    display_name: str = "",
    role: str = Role.AGENT,
    languages: list[str] | None = None,
    **profile: Any,
) -> AgentProfile:
    """Add a user (created if new) to a workspace with a role and profile."""
    authorize(actor, Perm.AGENT_MANAGE, workspace_id=workspace.pk)
    if role not in Role.values:
        raise ValidationFailed(gettext("Unknown role '%(role)s'.") % {"role": role}, details={"role": Role.values})
    user = user_get_or_create(
        actor=Actor.system(), username=username, email=email, password=password, display_name=display_name
    )
    if AgentProfile.objects.filter(workspace=workspace, user=user).exists():
        raise Conflict(
            gettext("'%(username)s' is already a member of this workspace.") % {"username": username},
            code=AccountErrorCode.AGENT_EXISTS,
        )
    return AgentProfile.objects.create(workspace=workspace, user=user, role=role, languages=languages or [], **profile)


def agent_update(*, agent: AgentProfile, actor: Actor, **fields: Any) -> AgentProfile:
    """Update an agent's profile fields (role, languages, capacity, location, seniority, …)."""
    authorize(actor, Perm.AGENT_MANAGE, workspace_id=agent.workspace_id)
    allowed = {
        "role",
        "ticket_access",
        "is_active",
        "languages",
        "capacity",
        "latitude",
        "longitude",
        "time_zone",
        "seniority",
        "signature",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(gettext("Cannot update: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    if "role" in fields and fields["role"] not in Role.values:
        raise ValidationFailed(gettext("Unknown role '%(role)s'.") % {"role": fields["role"]})
    for key, value in fields.items():
        setattr(agent, key, value)
    agent.save()
    return agent


def agent_set_status(*, agent: AgentProfile, actor: Actor, status: str) -> AgentProfile:
    """Set an agent's presence (online / away / offline) and publish `agent.status_changed`: one's own, or a
    team member's for a supervisor."""
    own = actor.kind in ("agent", "api") and actor.agent == agent
    authorize(actor, Perm.SELF_MANAGE if own else Perm.TEAM_MANAGE, workspace_id=agent.workspace_id)
    if status not in AgentStatus.values:
        raise ValidationFailed(
            gettext("Unknown status '%(status)s'.") % {"status": status}, details={"allowed": AgentStatus.values}
        )
    old = agent.status
    if old == status:
        return agent
    agent.status = status
    agent.status_changed_at = now()
    agent.save(update_fields=["status", "status_changed_at", "updated_at"])
    publish("agent.status_changed", workspace_id=agent.workspace_id, agent_id=agent.pk, old=old, new=status)
    return agent


def team_create(
    *,
    workspace: Workspace,
    actor: Actor,
    name: str,
    description: str = "",
    members: list[AgentProfile] | None = None,
    lead: AgentProfile | None = None,
) -> Team:
    """Create a team, optionally with members and a lead (all from the same workspace)."""
    authorize(actor, Perm.TEAM_MANAGE, workspace_id=workspace.pk)
    if Team.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(
            gettext("A team named '%(name)s' already exists.") % {"name": name}, code=AccountErrorCode.TEAM_EXISTS
        )
    team = Team.objects.create(workspace=workspace, name=name, description=description, lead=lead)
    if members:
        team_set_members(team=team, actor=actor, members=members)
    return team


def team_set_members(*, team: Team, actor: Actor, members: list[AgentProfile]) -> Team:
    """Replace a team's members (agents of other workspaces are refused)."""
    authorize(actor, Perm.TEAM_MANAGE, workspace_id=team.workspace_id)
    if any(m.workspace_id != team.workspace_id for m in members):
        raise ValidationFailed(gettext("Every member must belong to the team's workspace."))
    team.members.set(members)
    return team


def team_update(
    *,
    team: Team,
    actor: Actor,
    name: str | None = None,
    description: str | None = None,
    lead: AgentProfile | None = None,
    clear_lead: bool = False,
) -> Team:
    """Rename a team, change its description or lead (None leaves a field as it is; clear_lead removes the lead)."""
    authorize(actor, Perm.TEAM_MANAGE, workspace_id=team.workspace_id)
    if name is not None:
        name = name.strip()
        clash = Team.objects.filter(workspace_id=team.workspace_id, name=name).exclude(pk=team.pk)
        if not name:
            raise ValidationFailed(gettext("A team needs a name."))
        if clash.exists():
            raise Conflict(
                gettext("A team named '%(name)s' already exists.") % {"name": name}, code=AccountErrorCode.TEAM_EXISTS
            )
        team.name = name
    if description is not None:
        team.description = description
    if lead is not None:
        if lead.workspace_id != team.workspace_id:
            raise ValidationFailed(gettext("The lead must belong to the team's workspace."))
        team.lead = lead
    elif clear_lead:
        team.lead = None
    team.save()
    return team


def skill_get_or_create(*, workspace: Workspace, actor: Actor, name: str) -> Skill:
    """A skill by name in the workspace (created if new)."""
    authorize(actor, Perm.TEAM_MANAGE, workspace_id=workspace.pk)
    skill, _ = Skill.objects.get_or_create(workspace=workspace, name=name.strip())
    return skill


def agent_skill_set(*, agent: AgentProfile, actor: Actor, skill: Skill, level: int) -> AgentSkill:
    """Set an agent's level (1–5) in a skill."""
    authorize(actor, Perm.TEAM_MANAGE, workspace_id=agent.workspace_id)
    if not 1 <= level <= 5:
        raise ValidationFailed(gettext("A skill level is between 1 and 5."))
    if skill.workspace_id != agent.workspace_id:
        raise ValidationFailed(gettext("The skill belongs to another workspace."))
    obj, _ = AgentSkill.objects.update_or_create(agent=agent, skill=skill, defaults={"level": level})
    return obj


_hash_secret = secret_digest


def api_token_create(
    *,
    agent: AgentProfile,
    actor: Actor,
    name: str,
    scope: str = TokenScope.WRITE,
    rate_limit_per_minute: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for an agent (one's own; the system may create any); returns the row and the plain secret,
    which is never stored or shown again. The admin scope and a rate limit above the default need an admin; no
    token passes MAX_TOKEN_RATE_LIMIT."""
    if actor.kind != "system" and actor.agent != agent:
        raise PermissionDenied(
            gettext("You may only create tokens for yourself."), code=AccountErrorCode.PERMISSION_DENIED
        )
    authorize(actor, Perm.TOKEN_CREATE, workspace_id=agent.workspace_id)
    if scope not in TokenScope.values:
        raise ValidationFailed(
            gettext("Unknown scope “%(scope)s”.") % {"scope": scope}, details={"allowed": TokenScope.values}
        )
    if scope == TokenScope.ADMIN:
        authorize(actor, Perm.TOKEN_ADMIN_SCOPE)
    if rate_limit_per_minute is not None:
        if not 1 <= rate_limit_per_minute <= MAX_TOKEN_RATE_LIMIT:
            raise ValidationFailed(
                gettext("A rate limit is between 1 and %(max)d requests a minute.") % {"max": MAX_TOKEN_RATE_LIMIT},
                details={"rate_limit_per_minute": "out_of_range"},
            )
        if rate_limit_per_minute > settings.PIVOTDESK_API_RATE_LIMIT_PER_MINUTE:
            authorize(actor, Perm.TOKEN_RATE_LIMIT_RAISE)
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    workspace_id=agent.workspace_id,
                    agent=agent,
                    name=name,
                    prefix=prefix,
                    secret_hash=_hash_secret(secret),
                    scope=scope,
                    rate_limit_per_minute=rate_limit_per_minute,
                )
        except IntegrityError:
            continue
        return token, f"{TOKEN_PREFIX}{prefix}_{secret}"
    raise Conflict(gettext("Could not allocate a unique token prefix; try again."))


def api_token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    """Revoke a token at once (one's own; an agent manager any in the workspace); later requests get 401."""
    own = actor.kind in ("agent", "api") and actor.agent is not None and actor.agent.pk == token.agent_id
    authorize(actor, Perm.TOKEN_CREATE if own else Perm.AGENT_MANAGE, workspace_id=token.workspace_id)
    if token.revoked_at is None:
        token.revoked_at = now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The live token a raw `pd_<prefix>_<secret>` string stands for, or None (unknown, revoked, expired)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    try:
        prefix, secret = raw[len(TOKEN_PREFIX) :].split("_", 1)
    except ValueError:
        return None
    token = ApiToken.objects.select_related("agent", "agent__user", "workspace").filter(prefix=prefix).first()
    if token is None or not secrets.compare_digest(token.secret_hash, _hash_secret(secret)):
        return None
    current = now()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= current):
        return None
    if not token.agent.is_active or not token.agent.user.is_active:
        return None
    if token.last_used_at is None or (current - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=current)
    return token
