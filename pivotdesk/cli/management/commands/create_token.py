"""`manage.py create_token --workspace SLUG --username U --name N [--scope read|write|admin]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pivotdesk.accounts import services as accounts_services
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import TokenScope
from pivotdesk.cli.management.commands._common import agent_by_username, workspace_by_slug
from pivotdesk.common.errors import DomainError


class Command(BaseCommand):
    help = "Create a personal API token; the secret is printed once and never stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--username", required=True, help="The agent the token acts as.")
        parser.add_argument("--name", required=True, help="What the token is for (e.g. 'ERP sync').")
        parser.add_argument("--scope", default=TokenScope.WRITE, choices=TokenScope.values)
        parser.add_argument("--rate-limit", type=int, default=None, help="Requests per minute (default: global).")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = workspace_by_slug(options["workspace"])
        agent = agent_by_username(workspace, options["username"])
        try:
            token, secret = accounts_services.api_token_create(
                actor=Actor.system("cli"),
                agent=agent,
                name=options["name"],
                scope=options["scope"],
                rate_limit_per_minute=options["rate_limit"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Token '{token.name}' ({token.scope}) for {agent.user.username} in '{workspace.slug}'. "
            "Copy the secret now: it is not shown again."
        )
        self.stdout.write(secret)
