"""`manage.py ai_triage_all`: run the triage pipeline over existing tickets (the demo data after seeding)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from pivotdesk.accounts.models import Workspace
from pivotdesk.ai import pipeline, selectors
from pivotdesk.tickets.models import Ticket


class Command(BaseCommand):
    help = "Triage tickets that were never triaged (or all of them with --force), in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="Only this workspace (slug).")
        parser.add_argument("--force", action="store_true", help="Every ticket, repeating steps that succeeded.")
        parser.add_argument("--limit", type=int, default=0, help="At most this many tickets (0: no limit).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not selectors.ai_enabled():
            self.stdout.write("AI triage is off (PIVOTDESK_AI_ENABLED): nothing done.")
            return
        workspace = None
        if options["workspace"]:
            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                self.stdout.write(f"No workspace '{options['workspace']}': nothing done.")
                return
        if options["limit"] < 0:
            raise CommandError("--limit must be 0 or more.")
        if options["force"]:
            qs = Ticket.objects.filter(merged_into__isnull=True)
            if workspace is not None:
                qs = qs.filter(workspace=workspace)
            ids = list(qs.order_by("pk").values_list("pk", flat=True))
        else:
            ids = selectors.untriaged_tickets(workspace=workspace)
        if options["limit"]:
            ids = ids[: options["limit"]]
        started = time.perf_counter()
        failed = 0
        for ticket_id in ids:
            # One transaction per ticket: its ~20 small writes commit once (on SQLite each commit is a sync).
            with transaction.atomic():
                outcome = pipeline.triage_ticket(ticket_id=ticket_id, force=options["force"]) or {}
            failed += sum(1 for status in outcome.values() if status == "failed")
        seconds = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Triaged {len(ids)} tickets in {seconds:.1f} s ({failed} failed steps)."))
