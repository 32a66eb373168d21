"""`manage.py demo_banner`: where PivotDesk answers and how to sign in (printed by `make run`).

With `--wait SECONDS` it first waits until the web server answers at that address, so the banner appears when the
link works (`make run` starts it in the background next to the Procfile's processes)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pivotdesk.cli.management.commands._common import base_url, delivery_lines, demo_login_lines


def server_answers(url: str, *, timeout: float = 2.0) -> bool:
    """Whether an HTTP server answers at `url` with anything but a 5xx (our own server on loopback: no egress
    guard needed)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own http:// URL
            return int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


class Command(BaseCommand):
    help = "Print the URL and the demo logins (with --wait: once the web server answers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wait", type=float, default=0.0, metavar="SECONDS", help="Wait up to this long for the server first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url, waited = base_url(), 0.0
        if options["wait"] > 0:
            started = time.monotonic()
            deadline = started + options["wait"]
            while not server_answers(f"{url}login/"):
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"The web server did not answer at {url} within {options['wait']:.0f} s; "
                        "see the 'web' lines above."
                    )
                time.sleep(0.5)
            waited = time.monotonic() - started
        lines = [
            "",
            "  PivotDesk 智能工单系统" + (f"  (answering after {waited:.0f} s)" if options["wait"] > 0 else ""),
            f"  Web:       {url}",
            f"  API docs:  {url}api/docs",
            f"  Admin:     {url}admin/",
        ]
        logins = demo_login_lines()
        if logins:
            lines += ["", "  Demo logins (username / password):", *logins]
        delivery = delivery_lines(url)
        if delivery:
            lines += ["", *delivery]
        lines += ["", "  Ctrl-C stops them all (web server, event relay, workers and scheduler).", ""]
        self.stdout.write("\n".join(lines))
