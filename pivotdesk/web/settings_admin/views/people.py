"""Agents (list, invite by e-mail, edit, deactivate), invitations, teams and the workspace's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.accounts import selectors as account_selectors
from pivotdesk.accounts import services as account_services
from pivotdesk.accounts.models import (
    AgentProfile,
    AgentStatus,
    Invitation,
    Role,
    Seniority,
    Team,
    TicketAccess,
)
from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.notifications import senders
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.settings_admin import forms
from pivotdesk.web.settings_admin.selectors import open_assigned_counts
from pivotdesk.web.settings_admin.views.common import absolute, page

# ---- agents -------------------------------------------------------------------------------------------------------


@require_GET
@agent_view
def agent_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Every agent of the workspace (deactivated ones last) with role, teams, skills, capacity, presence and last
    sign-in; the invitation form and the invitations sent."""
    require(desk.agent, Perm.AGENT_MANAGE)
    agents = sorted(
        account_selectors.agent_list(workspace=desk.workspace, active_only=False),
        key=lambda a: (not a.is_active, a.name.casefold()),
    )
    for agent in agents:
        agent.capacity_rows = [(label, n) for _key, label, n in forms.capacity_rows(agent.capacity)]  # type: ignore[attr-defined]
    at = now()
    invitations = [(inv, inv.state(at)) for inv in account_selectors.invitation_list(workspace=desk.workspace)[:100]]
    return page(
        request,
        desk,
        "agents.html",
        "agents",
        {
            "agents": agents,
            "open_counts": open_assigned_counts(workspace=desk.workspace),
            "invitations": invitations,
            "roles": Role.choices,
            "teams": list(account_selectors.team_list(workspace=desk.workspace)),
            "capacity_keys": forms.CAPACITY_KEYS,
            "statuses": dict(AgentStatus.choices),
            "admin_count": account_selectors.active_admin_count(workspace=desk.workspace),
        },
    )


def _send_invitation(request: HttpRequest, invitation: Invitation, token: str) -> None:
    """Queue the invitation's mail through the notifications' e-mail wire once the invitation is committed."""
    link = absolute(request, reverse("web:invitation_accept", args=[token]))
    invitation_id = invitation.pk
    transaction.on_commit(
        lambda: account_services.invitation_deliver(invitation_id=invitation_id, link=link, send=senders.send_email)
    )


@require_POST
@agent_view
def agent_invite(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Invite a person by e-mail with a role and teams; the mail goes out after the invitation is stored."""
    require(desk.agent, Perm.AGENT_MANAGE)
    email = forms.text(request.POST, "email", limit=254, required=True, label=_("E-mail address"))
    team_ids = forms.ids(request.POST, "teams")
    teams = list(Team.objects.filter(workspace=desk.workspace, pk__in=team_ids))
    if len(teams) != len(team_ids):
        raise ValidationFailed(_("Unknown team."))
    language = request.POST.get("language", "")
    with transaction.atomic():
        invitation, token = account_services.invitation_create(
            workspace=desk.workspace,
            actor=desk.actor,
            email=email,
            role=request.POST.get("role", Role.AGENT),
            teams=teams,
            language=language if language in ("en", "zh-hans") else "",
        )
        _send_invitation(request, invitation, token)
    invitation.refresh_from_db()
    if invitation.status == "failed":
        messages.error(
            request, _("The invitation to %(email)s is saved, but its mail could not be sent.") % {"email": email}
        )
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": email})
    return redirect("web:settings_agents")


@require_POST
@agent_view
def invitation_resend(request: HttpRequest, desk: Desk, invitation_id: int) -> HttpResponse:
    """Send an invitation again with a new link (the old one stops working)."""
    require(desk.agent, Perm.AGENT_MANAGE)
    invitation = account_selectors.access_invitation(workspace=desk.workspace, invitation_id=invitation_id)
    with transaction.atomic():
        invitation, token = account_services.invitation_resend(invitation=invitation, actor=desk.actor)
        _send_invitation(request, invitation, token)
    messages.success(request, _("Invitation sent to %(email)s again.") % {"email": invitation.email})
    return redirect("web:settings_agents")


@require_POST
@agent_view
def invitation_revoke(request: HttpRequest, desk: Desk, invitation_id: int) -> HttpResponse:
    """Withdraw an invitation: its link stops working."""
    require(desk.agent, Perm.AGENT_MANAGE)
    invitation = account_selectors.access_invitation(workspace=desk.workspace, invitation_id=invitation_id)
    account_services.invitation_revoke(invitation=invitation, actor=desk.actor)
    messages.success(request, _("Invitation to %(email)s withdrawn.") % {"email": invitation.email})
    return redirect("web:settings_agents")


def _agent_page(request: HttpRequest, desk: Desk, agent: AgentProfile, status: int = 200) -> HttpResponse:
    agent = account_selectors.agent_list(workspace=desk.workspace, active_only=False).get(pk=agent.pk)
    return page(
        request,
        desk,
        "agent.html",
        "agents",
        {
            "agent": agent,
            "roles": Role.choices,
            "accesses": TicketAccess.choices,
            "seniorities": Seniority.choices,
            "teams": list(account_selectors.team_list(workspace=desk.workspace)),
            "member_of": {t.pk for t in agent.teams.all()},
            "skill_rows": sorted(agent.skills.all(), key=lambda s: s.skill.name.casefold()),
            "known_skills": list(account_selectors.skill_list(workspace=desk.workspace)),
            "capacity": forms.capacity_rows(agent.capacity),
            "open_count": open_assigned_counts(workspace=desk.workspace).get(agent.pk, 0),
            "is_self": agent.pk == desk.agent.pk,
            "levels": range(1, 6),
        },
        status=status,
    )


@agent_view
def agent_edit(request: HttpRequest, desk: Desk, agent_id: int) -> HttpResponse:
    """An agent's role, ticket access, teams, skills (1–5), capacity per channel type, languages and seniority."""
    require(desk.agent, Perm.AGENT_MANAGE)
    agent = account_selectors.access_agent(workspace=desk.workspace, agent_id=agent_id)
    if request.method != "POST":
        return _agent_page(request, desk, agent)
    seniority = int_or_none(request.POST.get("seniority", agent.seniority))
    fields = {
        "role": request.POST.get("role", agent.role),
        "ticket_access": request.POST.get("ticket_access", agent.ticket_access),
        "languages": forms.languages(request.POST) if "languages" in request.POST else list(agent.languages or []),
        "capacity": forms.capacity(request.POST, dict(agent.capacity or {})),
        "seniority": seniority if seniority is not None else -1,
    }
    wanted_skills = forms.skills(request.POST)
    wanted_teams = set(forms.ids(request.POST, "teams"))
    with transaction.atomic():
        account_services.agent_update(agent=agent, actor=desk.actor, **fields)
        for team in account_selectors.team_list(workspace=desk.workspace) if "teams_form" in request.POST else []:
            members = list(team.members.all())
            inside = any(m.pk == agent.pk for m in members)
            if (team.pk in wanted_teams) != inside:
                members = [m for m in members if m.pk != agent.pk] + ([agent] if team.pk in wanted_teams else [])
                account_services.team_set_members(team=team, actor=desk.actor, members=members)
        current = {row.skill.name: row for row in agent.skills.select_related("skill")}
        if "skills_form" not in request.POST:
            wanted_skills, current = [], {}
        for name, level in wanted_skills:
            row = current.get(name)
            if row is None or row.level != level:
                skill = row.skill if row is not None else None
                if skill is None:
                    skill = account_services.skill_get_or_create(workspace=desk.workspace, actor=desk.actor, name=name)
                account_services.agent_skill_set(agent=agent, actor=desk.actor, skill=skill, level=level)
        for name, row in current.items():
            if name not in dict(wanted_skills):
                account_services.agent_skill_remove(agent=agent, actor=desk.actor, skill=row.skill)
    messages.success(request, _("%(name)s saved.") % {"name": agent.name})
    return redirect("web:settings_agent", agent.pk)


@require_POST
@agent_view
def agent_active(request: HttpRequest, desk: Desk, agent_id: int) -> HttpResponse:
    """Deactivate an agent (sign-in, tokens and assignment stop; their history stays) or reactivate them."""
    require(desk.agent, Perm.AGENT_MANAGE)
    agent = account_selectors.access_agent(workspace=desk.workspace, agent_id=agent_id)
    active = forms.flag(request.POST, "active")
    account_services.agent_update(agent=agent, actor=desk.actor, is_active=active)
    if active:
        messages.success(request, _("%(name)s is active again.") % {"name": agent.name})
    else:
        messages.success(request, _("%(name)s is deactivated. Their tickets and history stay.") % {"name": agent.name})
    return redirect("web:settings_agent", agent.pk)


# ---- teams --------------------------------------------------------------------------------------------------------


@agent_view
def team_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The workspace's teams with lead and members; a POST creates one."""
    require(desk.agent, Perm.TEAM_MANAGE)
    if request.method == "POST":
        name = forms.text(request.POST, "name", limit=120, required=True, label=_("Name"))
        description = forms.text(request.POST, "description", limit=2000)
        team = account_services.team_create(
            workspace=desk.workspace, actor=desk.actor, name=name, description=description
        )
        messages.success(request, _("Team %(name)s created: add its members.") % {"name": team.name})
        return redirect("web:settings_team", team.pk)
    teams = account_selectors.team_list(workspace=desk.workspace).select_related("lead__user")
    return page(request, desk, "teams.html", "teams", {"teams": list(teams)})


@agent_view
def team_edit(request: HttpRequest, desk: Desk, team_id: int) -> HttpResponse:
    """Rename a team, change its description, lead and members."""
    require(desk.agent, Perm.TEAM_MANAGE)
    team = account_selectors.access_team(workspace=desk.workspace, team_id=team_id)
    agents = list(account_selectors.agent_list(workspace=desk.workspace))
    if request.method == "POST":
        name = forms.text(request.POST, "name", limit=120, required=True, label=_("Name"))
        description = forms.text(request.POST, "description", limit=2000)
        by_id = {a.pk: a for a in agents}
        member_ids = forms.ids(request.POST, "members")
        if any(pk not in by_id for pk in member_ids):
            raise ValidationFailed(_("Every member must be an active agent of the workspace."))
        lead_id = int_or_none(request.POST.get("lead") or "")
        if lead_id is not None and lead_id not in by_id:
            raise ValidationFailed(_("The lead must be an active agent of the workspace."))
        members = [by_id[pk] for pk in member_ids]
        lead = by_id[lead_id] if lead_id is not None else None
        if lead is not None and lead not in members:
            members.append(lead)
        with transaction.atomic():
            account_services.team_update(
                team=team, actor=desk.actor, name=name, description=description, lead=lead, clear_lead=lead is None
            )
            inactive = [m for m in team.members.all() if m.pk not in by_id]  # deactivated members stay members
            account_services.team_set_members(team=team, actor=desk.actor, members=members + inactive)
        messages.success(request, _("Team %(name)s saved.") % {"name": team.name})
        return redirect("web:settings_team", team.pk)
    return page(
        request,
        desk,
        "team.html",
        "teams",
        {"team": team, "agents": agents, "member_ids": {m.pk for m in team.members.all()}},
    )


# ---- the workspace's API tokens -----------------------------------------------------------------------------------


@require_GET
@agent_view
def token_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Every API token of the workspace (who, scope, last use, state); tokens are created by their owner."""
    require(desk.agent, Perm.AGENT_MANAGE)
    tokens = list(account_selectors.workspace_tokens(workspace=desk.workspace)[:500])
    return page(request, desk, "tokens.html", "tokens", {"tokens": tokens, "at": now()})


@require_POST
@agent_view
def token_revoke(request: HttpRequest, desk: Desk, token_id: int) -> HttpResponse:
    """Revoke any token of the workspace at once."""
    require(desk.agent, Perm.AGENT_MANAGE)
    token = account_selectors.access_workspace_token(workspace=desk.workspace, token_id=token_id)
    account_services.api_token_admin_revoke(token=token, actor=desk.actor)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("web:settings_tokens")
