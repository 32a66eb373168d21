"""`manage.py demo_banner`: where PivotDesk answers and how to sign in (printed by `make run`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from pivotdesk.cli.management.commands._common import base_url, demo_login_lines


class Command(BaseCommand):
    help = "Print the URL and the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        url = base_url()
        lines = [
            "",
            "  PivotDesk 智能工单系统",
            f"  Web:       {url}",
            f"  API docs:  {url}api/docs",
            f"  Admin:     {url}admin/",
        ]
        logins = demo_login_lines()
        if logins:
            lines += ["", "  Demo logins (username / password):", *logins]
        lines += ["", "  Ctrl-C stops them all (web server, event relay, workers and scheduler).", ""]
        self.stdout.write("\n".join(lines))
