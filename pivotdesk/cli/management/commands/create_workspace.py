"""`manage.py create_workspace NAME [--slug SLUG]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pivotdesk.accounts import services as accounts_services
from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import DomainError


class Command(BaseCommand):
    help = "Create a workspace (a tenant)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--slug", default=None, help="URL name (default: derived from the name).")
        parser.add_argument("--time-zone", default="Asia/Shanghai")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            workspace = accounts_services.workspace_create(
                actor=Actor.system("cli"), name=options["name"], slug=options["slug"], time_zone=options["time_zone"]
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Created workspace '{workspace.name}' (slug: {workspace.slug})."))
