"""`manage.py ai_triage_all`: run the triage pipeline over existing tickets (the demo data after seeding)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.ai import pipeline, selectors
from pivotdesk.ai.services import embeddings, topics
from pivotdesk.tickets.models import Ticket

EMBED_BATCH = 32  # tickets whose texts are embedded in one encoder call


class Command(BaseCommand):
    help = "Triage tickets that were never triaged (or all of them with --force), in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="Only this workspace (slug).")
        parser.add_argument("--force", action="store_true", help="Every ticket, repeating steps that succeeded.")
        parser.add_argument("--limit", type=int, default=0, help="At most this many tickets (0: no limit).")
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="After each ticket, leave the database to other writers this long (triaging next to a running desk).",
        )

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
        if options["pause"] < 0:
            raise CommandError("--pause must be 0 or more.")
        ids = self._ticket_ids(workspace, force=options["force"], limit=options["limit"])
        started = time.perf_counter()
        failed = 0
        for start in range(0, len(ids), EMBED_BATCH):
            chunk = ids[start : start + EMBED_BATCH]
            # The tickets' sentence embeddings in one encoder call (cached): batching is cheaper in wall time and
            # statements than one call per ticket; triage then finds them in the cache.
            embeddings.embed_tickets(ticket_ids=chunk)
            for ticket_id in chunk:
                # The pipeline computes outside any transaction and writes what it found in one (one commit).
                outcome = pipeline.triage_ticket(ticket_id=ticket_id, force=options["force"]) or {}
                failed += sum(1 for status in outcome.values() if status == "failed")
                if options["pause"]:
                    # Why: SQLite's busy handler polls; a loop that commits and at once begins its next write
                    # transaction can hold the write lock past another process's busy timeout ("database is
                    # locked" in the event relay while `make run` triaged the demo in the background).
                    time.sleep(options["pause"])
        seconds = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Triaged {len(ids)} tickets in {seconds:.1f} s ({failed} failed steps)."))
        self._refresh_topics(workspace)

    def _refresh_topics(self, workspace: Workspace | None) -> None:
        """Group the out-of-scope tickets into emerging topics now (the hourly job would, later): the demo's AI page
        shows its topic as soon as triage is done."""
        actor = Actor.system("ai")
        if workspace is not None:
            counts = {workspace.slug: len(topics.topics_refresh(actor=actor, workspace=workspace).topics)}
        else:
            counts = topics.topics_refresh_all(actor=actor)
        for slug, count in counts.items():
            self.stdout.write(f"Emerging topics in {slug}: {count}.")

    @staticmethod
    def _ticket_ids(workspace: Workspace | None, *, force: bool, limit: int) -> list[int]:
        """The tickets to triage: those never triaged, or (force) every unmerged one; at most `limit` (0: all)."""
        if force:
            qs = Ticket.objects.filter(merged_into__isnull=True)
            if workspace is not None:
                qs = qs.filter(workspace=workspace)
            ids = list(qs.order_by("pk").values_list("pk", flat=True))
        else:
            ids = selectors.untriaged_tickets(workspace=workspace)
        return ids[:limit] if limit else ids
