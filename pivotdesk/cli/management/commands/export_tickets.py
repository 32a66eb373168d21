"""`manage.py export_tickets --workspace SLUG [--format csv|json] [--output FILE]`."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from pivotdesk.cli.management.commands._common import workspace_by_slug
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services.transfer import FORMATS, tickets_export


class Command(BaseCommand):
    help = "Export a workspace's tickets as CSV or JSON (streamed; re-importable with import_tickets)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--format", choices=FORMATS, default=None, help="Default: from --output, else csv.")
        parser.add_argument("--output", "-o", default="-", help="File to write ('-' or omitted: standard output).")
        parser.add_argument("--excel", action="store_true", help="Start a CSV with a UTF-8 BOM so Excel reads it.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = workspace_by_slug(options["workspace"])
        output = options["output"]
        fmt = options["format"] or ("json" if output.lower().endswith((".json", ".jsonl")) else "csv")
        total = Ticket.objects.filter(workspace=workspace).count()
        quiet = options["verbosity"] == 0 or output == "-"
        with tqdm(
            total=total, desc="tickets", unit="", disable=True if quiet else None, leave=False, file=sys.stderr
        ) as bar:
            if output == "-":
                self.stdout.ending = ""  # rows carry their own line ends
                count = tickets_export(workspace=workspace, out=self.stdout, fmt=fmt, progress=bar.update)
            else:
                encoding = "utf-8-sig" if options["excel"] and fmt == "csv" else "utf-8"
                with open(output, "w", encoding=encoding, newline="") as out:
                    count = tickets_export(workspace=workspace, out=out, fmt=fmt, progress=bar.update)
        if output != "-":
            self.stderr.write(self.style.SUCCESS(f"Exported {count} tickets to {output}."))
