"""`manage.py search_reindex [--workspace SLUG] [--missing]`: rebuild the tickets' full-text search documents."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pivotdesk.cli.management.commands._common import workspace_by_slug
from pivotdesk.tickets.search import search_reindex


class Command(BaseCommand):
    help = (
        "Rebuild the full-text search documents of all tickets (or one workspace's) at once. Documents are kept "
        "current by a periodic sweep, which also fills an empty index over a few minutes; run this after an "
        "upgrade or a bulk load below the service layer, or with --missing to fill gaps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="Workspace slug (default: every workspace).")
        parser.add_argument("--missing", action="store_true", help="Only tickets that have no document yet.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace_id = workspace_by_slug(options["workspace"]).pk if options["workspace"] else None
        started = time.perf_counter()
        built = search_reindex(workspace_id=workspace_id, missing_only=options["missing"])
        self.stdout.write(f"Indexed {built} tickets for search in {time.perf_counter() - started:.1f} s.")
