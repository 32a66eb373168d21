"""Writes for workspaces, agents, teams, skills and API tokens."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.errors import AccountErrorCode, InvitationGone
from pivotdesk.accounts.models import (
    AgentProfile,
    AgentSkill,
    AgentStatus,
    ApiToken,
    Invitation,
    Role,
    Seniority,
    Skill,
    Team,
    TicketAccess,
    TokenScope,
    User,
    Workspace,
)
from pivotdesk.accounts.permissions import AGENT_KINDS, Perm, authorize, authorize_system
from pivotdesk.common import outbox
from pivotdesk.common.crypto import secret_digest
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
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
    if "ticket_access" in fields and fields["ticket_access"] not in TicketAccess.values:
        raise ValidationFailed(
            gettext("Unknown ticket access “%(value)s”.") % {"value": str(fields["ticket_access"])[:40]}
        )
    if "seniority" in fields and fields["seniority"] not in Seniority.values:
        raise ValidationFailed(gettext("Unknown seniority “%(value)s”.") % {"value": str(fields["seniority"])[:40]})
    if "capacity" in fields:
        fields["capacity"] = _clean_capacity(fields["capacity"])
    if "languages" in fields:
        fields["languages"] = _clean_languages(fields["languages"])
    _guard_admins(agent=agent, actor=actor, fields=fields)
    for key, value in fields.items():
        setattr(agent, key, value)
    agent.save()
    return agent


MAX_CAPACITY = 1000
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


def _clean_capacity(value: Any) -> dict[str, int]:
    """Open tickets at most per channel type: whole numbers from 0 (takes none of that type) to MAX_CAPACITY."""
    if not isinstance(value, dict):
        raise ValidationFailed(gettext("Capacity is a number per channel type."), details={"capacity": "not_a_mapping"})
    cleaned: dict[str, int] = {}
    for key, number in value.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 32:
            raise ValidationFailed(gettext("Capacity is a number per channel type."), details={"capacity": "bad_key"})
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= MAX_CAPACITY:
            raise ValidationFailed(
                gettext("A capacity is a whole number from 0 to %(max)d.") % {"max": MAX_CAPACITY},
                details={"capacity": key},
            )
        cleaned[key.strip()] = number
    return cleaned


def _clean_languages(value: Any) -> list[str]:
    """Language codes such as zh, en, zh-hant (lower-case, each once, in the order given)."""
    if not isinstance(value, list | tuple):
        raise ValidationFailed(gettext("Languages are a list of language codes."), details={"languages": "not_a_list"})
    cleaned: list[str] = []
    for code in value:
        text = str(code).strip().lower() if isinstance(code, str) else ""
        if not _LANGUAGE_CODE.match(text):
            raise ValidationFailed(
                gettext("“%(code)s” is not a language code (such as zh or en).") % {"code": str(code)[:40]},
                details={"languages": "bad_code"},
            )
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def _guard_admins(*, agent: AgentProfile, actor: Actor, fields: dict[str, Any]) -> None:
    """A person cannot lock the workspace out: no one deactivates themselves or drops their own admin role, and the
    last active admin stays an active admin. (The installation's operators, acting as the system from the Django
    admin, may still repair a workspace.)"""
    if actor.kind not in AGENT_KINDS:
        return
    demoted = ("role" in fields and fields["role"] != Role.ADMIN) or fields.get("is_active") is False
    own = actor.is_agent(agent.pk)
    if own and (demoted or fields.get("is_active") is False):
        raise ValidationFailed(
            gettext("You cannot deactivate yourself or drop your own admin role."), code=AccountErrorCode.SELF_LOCKOUT
        )
    if not demoted or agent.role != Role.ADMIN or not agent.is_active:
        return
    others = AgentProfile.objects.filter(
        workspace_id=agent.workspace_id, role=Role.ADMIN, is_active=True, user__is_active=True
    ).exclude(pk=agent.pk)
    if not others.exists():
        raise Conflict(
            gettext("%(name)s is the workspace's last admin: make someone else an admin first.") % {"name": agent.name},
            code=AccountErrorCode.LAST_ADMIN,
        )


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


def agent_skill_remove(*, agent: AgentProfile, actor: Actor, skill: Skill) -> bool:
    """Remove a skill from an agent (the skill itself stays for others); True when the agent had it."""
    authorize(actor, Perm.TEAM_MANAGE, workspace_id=agent.workspace_id)
    deleted, _ = AgentSkill.objects.filter(agent=agent, skill=skill).delete()
    return bool(deleted)


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
    own = actor.kind in ("agent", "api") and actor.is_agent(token.agent_id)
    authorize(actor, Perm.TOKEN_CREATE if own else Perm.AGENT_MANAGE, workspace_id=token.workspace_id)
    if token.revoked_at is None:
        token.revoked_at = now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_token_admin_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    """An admin revokes any token of the workspace (the settings area's list of every agent's tokens)."""
    authorize(actor, Perm.AGENT_MANAGE, workspace_id=token.workspace_id)
    return api_token_revoke(token=token, actor=actor)


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


# ---- invitations --------------------------------------------------------------------------------------------------

INVITATION_DAYS = 7
INVITATION_LEASE_SECONDS = 120.0
Sender = Callable[..., tuple[bool, str]]  # send(to=, subject=, body=) -> (ok, reason): notifications.senders.send_email


def _clean_email(value: str) -> str:
    email = (value or "").strip()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            gettext("“%(email)s” is not an e-mail address.") % {"email": email[:254]}, details={"email": "invalid"}
        ) from exc
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def _new_link_secret() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, secret_digest(token)


def invitation_create(
    *,
    workspace: Workspace,
    actor: Actor,
    email: str,
    role: str = Role.AGENT,
    teams: list[Team] | None = None,
    language: str = "",
) -> tuple[Invitation, str]:
    """Invite a person by e-mail to join the workspace with a role (and teams). Returns the invitation, queued as a
    mail of the one outbox, and the link's secret (stored only as a hash: the caller puts it in the mail once)."""
    authorize(actor, Perm.AGENT_MANAGE, workspace_id=workspace.pk)
    email = _clean_email(email)
    if role not in Role.values:
        raise ValidationFailed(gettext("Unknown role '%(role)s'.") % {"role": role}, details={"role": Role.values})
    teams = list(teams or [])
    if any(t.workspace_id != workspace.pk for t in teams):
        raise ValidationFailed(gettext("Every team must belong to the workspace."))
    member = AgentProfile.objects.filter(workspace=workspace, user__email__iexact=email).first()
    if member is not None and member.is_active:
        raise Conflict(
            gettext("%(email)s is already a member of this workspace.") % {"email": email},
            code=AccountErrorCode.AGENT_EXISTS,
        )
    if member is not None:
        raise Conflict(
            gettext("%(name)s was a member and is deactivated: reactivate them on their page instead.")
            % {"name": member.name},
            code=AccountErrorCode.AGENT_DEACTIVATED,
        )
    pending = Invitation.objects.filter(
        workspace=workspace,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now(),
    )
    if pending.exists():
        raise Conflict(
            gettext("%(email)s is already invited: resend that invitation instead.") % {"email": email},
            code=AccountErrorCode.ALREADY_INVITED,
        )
    token, digest = _new_link_secret()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            workspace=workspace,
            email=email,
            role=role,
            language=(language or "")[:16],
            invited_by=actor.agent,
            token_hash=digest,
            expires_at=now() + dt.timedelta(days=INVITATION_DAYS),
        )
        if teams:
            invitation.teams.set(teams)
    return invitation, token


def invitation_resend(*, invitation: Invitation, actor: Actor) -> tuple[Invitation, str]:
    """Send a pending invitation again with a new link (the old link stops working) valid for INVITATION_DAYS."""
    authorize(actor, Perm.AGENT_MANAGE, workspace_id=invitation.workspace_id)
    if invitation.accepted_at is not None:
        raise Conflict(gettext("This invitation has already been accepted."), code=AccountErrorCode.INVITATION_ACCEPTED)
    if invitation.revoked_at is not None:
        raise Conflict(gettext("This invitation was withdrawn."), code=AccountErrorCode.INVITATION_REVOKED)
    token, digest = _new_link_secret()
    at = now()
    Invitation.objects.filter(pk=invitation.pk).update(
        token_hash=digest,
        expires_at=at + dt.timedelta(days=INVITATION_DAYS),
        status=outbox.OutboxStatus.QUEUED,
        attempts=0,
        next_attempt_at=at,
        lease_until=None,
        last_error="",
        sent_at=None,
        failed_at=None,
        updated_at=at,
    )
    invitation.refresh_from_db()
    return invitation, token


def invitation_revoke(*, invitation: Invitation, actor: Actor) -> Invitation:
    """Withdraw a pending invitation: its link stops working at once."""
    authorize(actor, Perm.AGENT_MANAGE, workspace_id=invitation.workspace_id)
    if invitation.accepted_at is not None:
        raise Conflict(gettext("This invitation has already been accepted."), code=AccountErrorCode.INVITATION_ACCEPTED)
    if invitation.revoked_at is None:
        invitation.revoked_at = now()
        invitation.next_attempt_at = None
        invitation.save(update_fields=["revoked_at", "next_attempt_at", "updated_at"])
    return invitation


def invitation_for_token(token: str) -> Invitation:
    """The pending invitation a link's secret stands for; a clear error for an unknown, used, withdrawn or expired
    link (NotFound for unknown, InvitationGone otherwise)."""
    token = (token or "").strip()
    invitation = None
    if 20 <= len(token) <= 100:
        invitation = (
            Invitation.objects.select_related("workspace", "invited_by__user")
            .filter(token_hash=secret_digest(token))
            .first()
        )
    if invitation is None:
        raise NotFound(
            gettext("This invitation link is not valid. Ask your administrator for a new invitation."),
            code=AccountErrorCode.INVITATION_INVALID,
        )
    if invitation.accepted_at is not None:
        raise InvitationGone(
            gettext("This invitation has already been used. Sign in instead."),
            code=AccountErrorCode.INVITATION_ACCEPTED,
        )
    if invitation.revoked_at is not None:
        raise InvitationGone(
            gettext("This invitation was withdrawn. Ask your administrator for a new one."),
            code=AccountErrorCode.INVITATION_REVOKED,
        )
    if invitation.expires_at <= now():
        raise InvitationGone(
            gettext("This invitation expired. Ask your administrator to send it again."),
            code=AccountErrorCode.INVITATION_EXPIRED,
        )
    return invitation


def _password_problems(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            gettext("Choose another password: %(reasons)s") % {"reasons": " ".join(str(m) for m in exc.messages)},
            code=AccountErrorCode.WEAK_PASSWORD,
            details={"password": "weak"},
        ) from exc


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    user: User | None = None,
    username: str = "",
    password: str = "",
    display_name: str = "",
    language: str = "",
) -> AgentProfile:
    """Accept an invitation by its link (the link's secret is the authority, once). A signed-in `user` whose
    e-mail address is the invited one gets the membership; otherwise a new user is made with `username` and
    `password` (the password validators apply). Joins the invitation's teams; the link is used up."""
    invitation = invitation_for_token(token)
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise Conflict(
                gettext("An account with this e-mail address exists already: sign in to accept the invitation."),
                code=AccountErrorCode.EMAIL_TAKEN,
            )
        username = (username or "").strip()
        if not username or len(username) > 150 or not re.fullmatch(r"[\w.@+-]+", username):
            raise ValidationFailed(
                gettext("A username has up to 150 letters, digits and @ . + - _ characters."),
                details={"username": "invalid"},
            )
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict(
                gettext("The username “%(username)s” is taken: choose another one.") % {"username": username},
                code=AccountErrorCode.USERNAME_TAKEN,
            )
        user = User(
            username=username,
            email=invitation.email,
            display_name=(display_name or "").strip()[:150],
            preferred_language=(language or "")[:16],
        )
        _password_problems(password or "", user)
        user.set_password(password)
        user.save()
    elif (user.email or "").strip().lower() != invitation.email.lower():
        raise PermissionDenied(
            gettext("This invitation is for %(email)s: sign in with that account.") % {"email": invitation.email},
            code=AccountErrorCode.INVITATION_WRONG_USER,
        )
    used = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        accepted_at=now(), accepted_by=user
    )
    if not used:
        raise Conflict(gettext("This invitation has already been used. Sign in instead."))
    profile = AgentProfile.objects.filter(workspace_id=invitation.workspace_id, user=user).first()
    if profile is not None and profile.is_active:
        raise Conflict(gettext("You are already a member of this workspace."), code=AccountErrorCode.AGENT_EXISTS)
    if profile is not None:
        profile.is_active = True
        profile.role = invitation.role
        profile.save(update_fields=["is_active", "role", "updated_at"])
    else:
        languages = [code for code in (invitation.workspace.languages or []) if isinstance(code, str)]
        profile = AgentProfile.objects.create(
            workspace_id=invitation.workspace_id,
            user=user,
            role=invitation.role,
            languages=languages,
            time_zone=invitation.workspace.time_zone,
        )
    for team in invitation.teams.all():
        team.members.add(profile)
    return profile


def invitation_deliver(*, invitation_id: int, link: str, send: Sender) -> Invitation | None:
    """Send one attempt of an invitation's mail (a row of the one outbox, claimed with a lease) through `send`
    (the notifications' e-mail wire, passed in by the layer above), in the invitation's language. None: nothing to
    send (already sent, withdrawn, accepted, or another worker has it). A failure is recorded with its reason and
    ends the row (the admin resends, which issues a new link: the secret is not stored to retry with)."""
    queryset = Invitation.objects.select_related("workspace", "invited_by__user").filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    )
    invitation = outbox.claim(queryset, pk=invitation_id, lease_seconds=INVITATION_LEASE_SECONDS)
    if invitation is None:
        return None
    workspace = invitation.workspace
    language = invitation.language or workspace.default_language or "zh-hans"
    with translation.override(language):
        inviter = invitation.invited_by.name if invitation.invited_by is not None else workspace.name
        subject = gettext("%(inviter)s invited you to %(workspace)s on PivotDesk") % {
            "inviter": inviter,
            "workspace": workspace.name,
        }
        body = "\n\n".join(
            [
                gettext("%(inviter)s invited you to join %(workspace)s as %(role)s.")
                % {"inviter": inviter, "workspace": workspace.name, "role": Role(invitation.role).label},
                gettext("Accept the invitation: %(link)s") % {"link": link},
                gettext("The link works once, until %(until)s (UTC). If you did not expect this, ignore this mail.")
                % {"until": invitation.expires_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")},
            ]
        )
    ok, error = send(to=invitation.email, subject=subject, body=body)
    if ok:
        outbox.mark_sent(invitation)
    else:
        outbox.mark_failed(invitation, reason=error, max_attempts=1, permanent=True)
    invitation.refresh_from_db()
    return invitation
