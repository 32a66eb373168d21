"""`manage.py seed_demo`: the demo workspace "Pivot Demo 示例公司" with a month of realistic tickets."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from pivotdesk.accounts.models import Workspace
from pivotdesk.cli.demo import DEMO_SLUG
from pivotdesk.cli.demo.seed import seed_demo
from pivotdesk.cli.management.commands._common import base_url, demo_login_lines


class Command(BaseCommand):
    help = "Seed the demo workspace (slug 'demo'): teams, agents, customers and tickets with conversations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any workspace exists.")
        parser.add_argument("--tickets", type=int, default=300, help="How many tickets (default 300).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed: the same seed gives the same data.")
        parser.add_argument(
            "--dispatch-events",
            action="store_true",
            help="Queue the domain events of the seeded history to Celery (off by default).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Workspace.objects.exists():
            self.stdout.write("A workspace exists already: nothing seeded.")
            return
        if Workspace.objects.filter(slug=DEMO_SLUG).exists():
            raise CommandError(f"The demo workspace '{DEMO_SLUG}' exists already.")
        if options["tickets"] < 0:
            raise CommandError("--tickets must be 0 or more.")
        quiet = options["verbosity"] == 0
        with tqdm(
            total=options["tickets"], desc="tickets", unit="", disable=True if quiet else None, leave=False
        ) as bar:
            result = seed_demo(
                tickets=options["tickets"],
                seed=options["seed"],
                dispatch_events=options["dispatch_events"],
                progress=bar.update,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded '{result.workspace.name}' ({result.workspace.slug}): {result.agents} agents, "
                f"{result.contacts} contacts, {result.tickets} tickets in {result.seconds:.1f} s."
            )
        )
        self.stdout.write(f"Sign in at {base_url()} with:")
        for line in demo_login_lines():
            self.stdout.write(line)
