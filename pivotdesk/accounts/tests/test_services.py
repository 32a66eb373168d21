"""Accounts: agents, roles and permissions, API tokens (hashed, scoped, revocable)."""

from __future__ import annotations

import datetime as dt

import pytest

from pivotdesk.accounts import services
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import ApiToken
from pivotdesk.accounts.permissions import ROLE_PERMISSIONS, Perm, can
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.time import now


def test_token_secret_is_only_stored_hashed_and_authenticates(agent):
    token, secret = services.api_token_create(actor=Actor.system(), agent=agent, name="ci")
    assert secret.startswith("pd_") and secret not in token.secret_hash
    assert services.api_token_authenticate(raw=secret).pk == token.pk
    assert services.api_token_authenticate(raw=secret + "x") is None
    assert services.api_token_authenticate(raw="garbage") is None


def test_revoked_and_expired_tokens_fail(agent):
    token, secret = services.api_token_create(actor=Actor.system(), agent=agent, name="ci")
    services.api_token_revoke(actor=Actor.system(), token=token)
    assert services.api_token_authenticate(raw=secret) is None
    token2, secret2 = services.api_token_create(actor=Actor.system(), agent=agent, name="exp")
    ApiToken.objects.filter(pk=token2.pk).update(expires_at=now() - dt.timedelta(seconds=1))
    assert services.api_token_authenticate(raw=secret2) is None


def test_inactive_agent_token_fails(agent):
    _, secret = services.api_token_create(actor=Actor.system(), agent=agent, name="ci")
    services.agent_update(actor=Actor.system(), agent=agent, is_active=False)
    assert services.api_token_authenticate(raw=secret) is None


def test_roles_are_nested_sensibly():
    assert ROLE_PERMISSIONS["light_agent"] < ROLE_PERMISSIONS["agent"] < ROLE_PERMISSIONS["supervisor"]
    assert ROLE_PERMISSIONS["supervisor"] < ROLE_PERMISSIONS["admin"] == frozenset(Perm)


def test_can_checks_role_and_active(agent, light_agent, admin_agent):
    assert can(agent, Perm.TICKET_REPLY_PUBLIC)
    assert not can(light_agent, Perm.TICKET_REPLY_PUBLIC)
    assert not can(agent, Perm.WORKSPACE_CONFIGURE)
    assert can(admin_agent, Perm.WORKSPACE_CONFIGURE)
    assert not can(None, Perm.TICKET_VIEW)


def test_agent_in_two_workspaces(workspace, other_workspace):
    a = services.agent_create(
        actor=Actor.system(), workspace=workspace, username="li", password="pivotdesk-demo", role="agent"
    )
    b = services.agent_create(actor=Actor.system(), workspace=other_workspace, username="li", role="supervisor")
    assert a.user_id == b.user_id and a.role != b.role
    with pytest.raises(Conflict):
        services.agent_create(actor=Actor.system(), workspace=workspace, username="li")


def test_skill_levels_bounded_and_status(agent):
    skill = services.skill_get_or_create(actor=Actor.system(), workspace=agent.workspace, name="Printers")
    services.agent_skill_set(actor=Actor.system(), agent=agent, skill=skill, level=5)
    with pytest.raises(ValidationFailed):
        services.agent_skill_set(actor=Actor.system(), agent=agent, skill=skill, level=6)
    services.agent_set_status(actor=Actor.system(), agent=agent, status="away")
    assert agent.status == "away" and agent.status_changed_at is not None
    with pytest.raises(ValidationFailed):
        services.agent_set_status(actor=Actor.system(), agent=agent, status="sleeping")


def test_team_members_must_share_workspace(agent, other_workspace):
    from pivotdesk.accounts.tests.factories import AgentFactory

    stranger = AgentFactory(workspace=other_workspace)
    with pytest.raises(ValidationFailed):
        services.team_create(actor=Actor.system(), workspace=agent.workspace, name="T", members=[agent, stranger])
