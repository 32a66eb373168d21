"""`manage.py search_reindex [--kind KIND] [--workspace SLUG] [--missing]`: rebuild full-text search documents."""

from __future__ import annotations

import time
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pivotdesk.search.registry import registered_kinds
from pivotdesk.search.services import reindex


class Command(BaseCommand):
    help = (
        "Rebuild the full-text search documents of every registered kind (tickets, …) or one, for all workspaces or "
        "one, at once. Documents are kept current by a periodic sweep, which also fills an empty index over a few "
        "minutes; run this after an upgrade or a bulk load below the service layer, or with --missing to fill gaps."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", help="One kind of document, e.g. 'ticket' (default: every registered kind).")
        parser.add_argument("--workspace", help="Workspace slug (default: every workspace).")
        parser.add_argument("--missing", action="store_true", help="Only objects that have no document yet.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace_id = None
        if options["workspace"]:
            # By label, not by import: the search app sits below accounts.
            workspace = apps.get_model("accounts", "Workspace")._default_manager.filter(slug=options["workspace"])
            workspace_id = workspace.values_list("pk", flat=True).first()
            if workspace_id is None:
                raise CommandError(f"No workspace with slug '{options['workspace']}'.")
        kinds = [k.name for k in registered_kinds()]
        if options["kind"]:
            if options["kind"] not in kinds:
                raise CommandError(f"Unknown kind '{options['kind']}' (registered: {', '.join(kinds)}).")
            kinds = [options["kind"]]
        for kind in kinds:
            started = time.perf_counter()
            built = reindex(kind=kind, workspace_id=workspace_id, missing_only=options["missing"])
            self.stdout.write(f"Indexed {built} {kind} documents for search in {time.perf_counter() - started:.1f} s.")
