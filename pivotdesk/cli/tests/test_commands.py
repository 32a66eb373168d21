"""create_workspace, create_agent, create_token, and the `pivotdesk` console script."""

from __future__ import annotations

import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, User, Workspace
from pivotdesk.accounts.services import api_token_authenticate
from pivotdesk.cli import main as cli_main

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_workspace_with_and_without_slug():
    run("create_workspace", "Acme 客服", "--slug", "acme")
    out, _ = run("create_workspace", "Globex Support")
    assert Workspace.objects.get(slug="acme").name == "Acme 客服"
    assert Workspace.objects.filter(slug="globex-support").exists()
    assert "globex-support" in out


def test_create_workspace_refuses_a_taken_slug():
    run("create_workspace", "Acme", "--slug", "acme")
    with pytest.raises(CommandError, match="already exists"):
        run("create_workspace", "Other", "--slug", "acme")


def test_create_agent_with_password_and_role(workspace):
    run(
        "create_agent",
        "--workspace",
        workspace.slug,
        "--username",
        "li.na",
        "--email",
        "li.na@example.com",
        "--role",
        "supervisor",
        "--password",
        "a-long-password-1",
    )
    agent = AgentProfile.objects.get(workspace=workspace, user__username="li.na")
    assert agent.role == "supervisor"
    assert agent.user.check_password("a-long-password-1")


def test_create_agent_errors_are_command_errors(workspace):
    with pytest.raises(CommandError, match="No workspace"):
        run("create_agent", "--workspace", "nope", "--username", "x", "--role", "agent")
    with pytest.raises(CommandError):
        run("create_agent", "--workspace", workspace.slug, "--username", "x", "--password", "short")
    run("create_agent", "--workspace", workspace.slug, "--username", "x", "--no-password")
    assert not User.objects.get(username="x").has_usable_password()
    with pytest.raises(CommandError, match="already a member"):
        run("create_agent", "--workspace", workspace.slug, "--username", "x", "--no-password")


def test_create_token_prints_a_working_secret_once(agent):
    out, err = run(
        "create_token",
        "--workspace",
        agent.workspace.slug,
        "--username",
        agent.user.username,
        "--name",
        "ERP sync",
        "--scope",
        "read",
    )
    secret = out.strip()
    token = api_token_authenticate(raw=secret)
    assert token is not None and token.scope == "read" and token.name == "ERP sync"
    assert "not shown again" in err
    assert token.secret_hash not in secret


def test_create_token_for_a_non_member(workspace, other_workspace):
    from pivotdesk.accounts.services import agent_create

    agent_create(actor=Actor.system(), workspace=other_workspace, username="stranger")
    with pytest.raises(CommandError, match="not a member"):
        run("create_token", "--workspace", workspace.slug, "--username", "stranger", "--name", "x")


@pytest.mark.django_db(transaction=True)  # run_from_argv closes every connection at the end, as in production
def test_console_script_runs_the_commands(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pivotdesk", "create_workspace", "Via Console", "--slug", "console"])
    cli_main.main()
    assert Workspace.objects.filter(slug="console").exists()
    assert "console" in capsys.readouterr().out
