"""Helpers shared by PivotDesk's management commands."""

from __future__ import annotations

import os

from django.core.management.base import CommandError

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.cli.demo import DEMO_LOGINS, DEMO_PASSWORD, DEMO_SLUG


def workspace_by_slug(slug: str) -> Workspace:
    """The workspace with this slug, or a CommandError naming the ones that exist."""
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        known = ", ".join(Workspace.objects.order_by("slug").values_list("slug", flat=True)[:20]) or "none yet"
        raise CommandError(f"No workspace with slug '{slug}' (known: {known}).")
    return workspace


def agent_by_username(workspace: Workspace, username: str) -> AgentProfile:
    """The workspace member with this username, or a CommandError."""
    agent = AgentProfile.objects.select_related("user").filter(workspace=workspace, user__username=username).first()
    if agent is None:
        raise CommandError(f"'{username}' is not a member of workspace '{workspace.slug}'.")
    return agent


def base_url() -> str:
    """Where `make run` serves the web UI (PIVOTDESK_BIND, default 127.0.0.1:8000)."""
    bind = os.environ.get("PIVOTDESK_BIND", "") or "127.0.0.1:8000"
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - reading a bind address, not binding
        host = "127.0.0.1"
    return f"http://{host}:{port}/"


def demo_login_lines() -> list[str]:
    """The demo logins that exist in this database, one line each."""
    workspace = Workspace.objects.filter(slug=DEMO_SLUG).first()
    if workspace is None:
        return []
    present = set(AgentProfile.objects.filter(workspace=workspace).values_list("user__username", flat=True))
    return [f"  {role:<12} {username:<12} / {DEMO_PASSWORD}" for role, username in DEMO_LOGINS if username in present]
