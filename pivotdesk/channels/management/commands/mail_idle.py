"""`manage.py mail_idle`: a long-running worker that keeps every IMAP mailbox open with IDLE (push delivery).

The periodic `channels.poll_mailboxes` task keeps running beside it; a per-mailbox lock and Message-ID dedupe
make the two harmless together. SIGTERM/SIGINT stop it cleanly.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pivotdesk.channels.mailboxes import mailbox_idle, pollable_account_ids


class Command(BaseCommand):
    help = "Watch IMAP mailboxes with IDLE and process new mail as it arrives."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, action="append", help="channel account id (repeatable)")
        parser.add_argument("--rescan", type=float, default=300.0, help="full poll at least every N seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        ids: list[int] = options["account"] or pollable_account_ids()
        threads = [
            threading.Thread(
                target=mailbox_idle,
                kwargs={"account_id": account_id, "stop": stop, "poll_every": options["rescan"]},
                name=f"mail-idle-{account_id}",
                daemon=True,
            )
            for account_id in ids
        ]
        for thread in threads:
            thread.start()
        self.stdout.write(f"Watching {len(threads)} mailbox(es); Ctrl-C stops.")
        while not stop.is_set() and any(t.is_alive() for t in threads):
            stop.wait(1.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
