"""`manage.py events_relay`: deliver committed domain events to their subscribers (a process of `make run`)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pivotdesk.ai.services import warmup
from pivotdesk.common import relay


class Command(BaseCommand):
    help = (
        "Deliver committed domain events to their subscribers (triage, routing, SLA, webhooks…), polling every "
        "0.1 s when idle. Several relays (threads, processes, machines) share the work through leases."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--threads", type=int, default=2, help="relay threads in this process (default 2)")
        parser.add_argument("--poll", type=float, default=0.1, help="seconds between polls when idle (default 0.1)")
        parser.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
        parser.add_argument(
            "--retry-failed", action="store_true", help="put failed events back in line (after a fix), then exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["retry_failed"]:
            self.stdout.write(f"{relay.retry_failed()} failed events put back in line")
            return
        if options["once"]:
            self.stdout.write(f"{relay.relay_for(seconds=3600.0)} events delivered")
            return
        # The relay runs the subscribers, triage among them: its models load now, beside the relay threads.
        warmup.start_in_background()
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        workers = [
            threading.Thread(
                target=relay.relay_forever,
                kwargs={"stop": stop, "poll_seconds": options["poll"]},
                name=f"events-relay-{i}",
                daemon=True,
            )
            for i in range(max(1, options["threads"]))
        ]
        for worker in workers:
            worker.start()
        self.stdout.write(f"events relay: {len(workers)} threads, polling every {options['poll']} s")
        while not stop.wait(1.0):
            pass
        for worker in workers:
            worker.join(timeout=30)
