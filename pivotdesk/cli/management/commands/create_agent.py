"""`manage.py create_agent --workspace SLUG --username U --email E --role R [--password P]`."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pivotdesk.accounts import services as accounts_services
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role, User
from pivotdesk.cli.management.commands._common import workspace_by_slug
from pivotdesk.common.errors import DomainError


class Command(BaseCommand):
    help = "Add a user (created if new) to a workspace as admin, supervisor, agent or light agent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--role", default=Role.AGENT, choices=Role.values)
        parser.add_argument("--name", default="", help="Display name.")
        parser.add_argument("--language", action="append", dest="languages", help="Repeatable: zh, en, …")
        parser.add_argument(
            "--password", default=None, help="Password for a new user (asked for when omitted on a terminal)."
        )
        parser.add_argument("--no-password", action="store_true", help="Leave a new user without a password.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = workspace_by_slug(options["workspace"])
        password = options["password"]
        is_new = not User.objects.filter(username=options["username"]).exists()
        if is_new and password is None and not options["no_password"] and sys.stdin.isatty():
            password = getpass.getpass("Password: ")
        if is_new and password:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        try:
            agent = accounts_services.agent_create(
                actor=Actor.system("cli"),
                workspace=workspace,
                username=options["username"],
                email=options["email"],
                password=password or None,
                display_name=options["name"],
                role=options["role"],
                languages=options["languages"] or ["zh", "en"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        note = "" if is_new else " (existing user)"
        self.stdout.write(
            self.style.SUCCESS(f"Added '{agent.user.username}'{note} to '{workspace.slug}' as {agent.role}.")
        )
