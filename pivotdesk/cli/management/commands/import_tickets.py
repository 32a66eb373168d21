"""`manage.py import_tickets --workspace SLUG FILE.(csv|json) [--format csv|json]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from pivotdesk.accounts.actors import Actor
from pivotdesk.cli.management.commands._common import workspace_by_slug
from pivotdesk.common.errors import DomainError
from pivotdesk.tickets.services.transfer import FORMATS, tickets_import


class Command(BaseCommand):
    help = (
        "Import tickets from CSV or JSON (UTF-8 or GB18030). Each row becomes a ticket; bad rows are reported "
        "with their line and do not stop the others; re-importing the same file creates nothing new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv, .json or .jsonl file ('-' for standard input).")
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--format", choices=FORMATS, default=None, help="Default: from the file name or content.")

    def handle(self, *args: Any, **options: Any) -> None:
        import sys

        workspace = workspace_by_slug(options["workspace"])
        name = options["file"]
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"No such file: {name}")
            data = path.read_bytes()
        quiet = options["verbosity"] == 0
        try:
            with tqdm(desc="rows", unit="", disable=True if quiet else None, leave=False, file=sys.stderr) as bar:
                report = tickets_import(
                    actor=Actor.system("cli"),
                    workspace=workspace,
                    data=data,
                    fmt=options["format"],
                    filename=name,
                    progress=bar.update,
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for problem in report.warnings:
            self.stderr.write(f"warning: {problem}")
        for problem in report.errors:
            self.stderr.write(self.style.ERROR(f"error: {problem}"))
        summary = (
            f"{len(report.created)} tickets created, {len(report.duplicates)} already imported, "
            f"{len(report.errors)} rows failed."
        )
        self.stdout.write(self.style.WARNING(summary) if report.errors else self.style.SUCCESS(summary))
        if report.errors and not report.created and not report.duplicates:
            raise CommandError("No row could be imported.")
