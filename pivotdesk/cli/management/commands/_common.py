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


def delivery_lines(url: str) -> list[str]:
    """What the banner says about outbound delivery: workspaces where nothing is set up (replies will not be
    delivered) and accounts in demo delivery (nothing leaves the machine). Bilingual, as the banner's title."""
    from django.conf import settings

    from pivotdesk.channels import selectors as channel_selectors

    lines: list[str] = []
    for workspace in channel_selectors.workspaces_without_channels()[:10]:
        lines.append(
            f"  ! {workspace.slug}: no active channel account — replies will not be delivered; "
            f"set one up: {url}settings/channels/"
        )
        lines.append(f"    {workspace.slug}：没有启用的渠道账号——回复不会送达客户；请在此设置：{url}settings/channels/")
    demo_slugs = sorted({a.workspace.slug for a in channel_selectors.demo_delivery_accounts()})
    if demo_slugs:
        sink = settings.VAR_DIR / "demo-outbox"
        lines.append(f"  Demo delivery ({', '.join(demo_slugs)}): nothing is sent; replies are written to {sink}")
        lines.append("  演示投递——不会真正发出，回复写入上述本地目录")
    return lines
