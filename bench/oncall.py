"""Night-duty benchmark (issue 15): from an urgent ticket's creation to the first page delivery attempt, and how
late the next level is paged.

`python -m bench.oncall [--quick]` runs in its own process on a fresh SQLite database (the embedded default):

- **create → first delivery attempt**: `ticket_create` of an urgent ticket (committed), the subscriber's work
  (`page_ticket`: policy match, page, notice, notification with e-mail + apprise deliveries), then the first
  delivery task (`deliver()` of the apprise delivery to a local json:// receiver). This is the work on the path;
  it leaves out the hops between processes (the events relay polls every 0.1 s when idle, the broker hands the
  delivery task to a worker: see the intake benchmark for those). Baseline: the issue's target p99 ≤ 5 s.
- **escalation timing**: pages fall due at random instants; the beat task runs `escalate_due` every 10 s (its
  schedule), simulated on a clock, with the real scan time added: lateness = the first tick after the due time +
  the scan's duration − the due time. Baseline: the issue's target, level 2 paged within 30 s of its due time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import socket
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.measure import latency_summary
from bench.process import configure_django, run_worker_module

SIZES = {"full": 300, "quick": 60}
BEAT_SECONDS = 10.0


def run(*, size: str) -> dict[str, Any]:
    return run_worker_module("bench.oncall", size=size, timeout_s=1800)


def _receiver() -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"json://127.0.0.1:{server.server_address[1]}/page"


def _worker(size: str, out: Path) -> None:
    n = SIZES[size]
    configure_django(Path(tempfile.mkdtemp(prefix="pd-bench-oncall-")))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0, interactive=False)
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.accounts.services import workspace_create
    from pivotdesk.accounts.tests.factories import AgentFactory
    from pivotdesk.customers.tests.factories import ContactFactory
    from pivotdesk.notifications import services as notifications
    from pivotdesk.notifications.models import Delivery
    from pivotdesk.oncall.models import Page
    from pivotdesk.oncall.services import paging, policies
    from pivotdesk.tickets.services import ticket_create

    notifications._queue_after_commit = lambda ids: None  # the delivery task is run below, by hand
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PIVOTDESK_EGRESS_ALLOW = ["127.0.0.0/8"]  # the local receiver stands in for the engineer's phone
    settings.EMAIL_PORT = port
    server, hook = _receiver()
    system = Actor.system("bench")
    workspace = workspace_create(actor=system, name="Bench on-call", slug="bench-oncall")
    engineer = AgentFactory(workspace=workspace)
    notifications.target_create(actor=system, agent=engineer, label="phone", url=hook)
    policy = policies.policy_save(
        actor=system, workspace=workspace, name="Urgent", conditions={"priorities": ["urgent"]}
    )
    policies.policy_steps_set(
        actor=system,
        policy=policy,
        steps=[{"level": 0, "timeout_minutes": 10, "agent": engineer.pk}, {"level": 1, "agent": engineer.pk}],
    )
    contact = ContactFactory(workspace=workspace)

    seconds: list[float] = []
    statements: list[int] = []
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(n):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            with transaction.atomic():  # committed; no relay runs here, so the page is made below
                ticket = ticket_create(
                    workspace=workspace,
                    requester=contact,
                    subject=f"设备停机 machine down {i}",
                    body="3号线停了",
                    priority="urgent",
                    actor=system,
                )
            page = paging.page_ticket(actor=paging.SYSTEM, ticket=ticket)
            assert page is not None
            first = Delivery.objects.filter(notification__ticket=ticket, channel="apprise").order_by("pk").first()
            assert first is not None
            notifications.deliver(delivery_id=first.pk)
        seconds.append(time.perf_counter() - started)
        statements.append(len(queries.captured_queries))
    report: dict[str, Any] = {
        "size": size,
        "n": n,
        "create_to_first_delivery": latency_summary(seconds),
        "statements_per_page": sorted(statements)[len(statements) // 2],
        "sent": Delivery.objects.filter(status="sent", channel="apprise").count(),
    }

    # escalation timing: every open page falls due at a random instant within 2 minutes; the beat ticks every 10 s
    rng = random.Random(15)
    base = dt.datetime(2030, 1, 7, 2, 0, tzinfo=dt.UTC)
    dues = {}
    for page in Page.objects.filter(status="triggered"):
        due = base + dt.timedelta(seconds=rng.uniform(0, 120))
        Page.objects.filter(pk=page.pk).update(next_escalation_at=due)
        dues[page.pk] = due
    lateness: list[float] = []
    scans: list[float] = []
    tick = base
    remaining = set(dues)
    while remaining and tick < base + dt.timedelta(minutes=10):
        tick += dt.timedelta(seconds=BEAT_SECONDS)
        t0 = time.perf_counter()
        paging.escalate_due(actor=paging.SYSTEM, at=tick)
        scan = time.perf_counter() - t0
        scans.append(scan)
        moved = set(Page.objects.filter(pk__in=remaining, level=1).values_list("pk", flat=True))
        for pk in moved:
            lateness.append((tick - dues[pk]).total_seconds() + scan)
        remaining -= moved
    report["escalation"] = {
        "pages": len(dues),
        "escalated": len(lateness),
        "beat_seconds": BEAT_SECONDS,
        "lateness_s": latency_summary(lateness) if lateness else {},
        "max_lateness_s": round(max(lateness), 2) if lateness else None,
        "scan_s": latency_summary(scans) if scans else {},
    }
    server.shutdown()
    out.write_text(json.dumps(report, indent=2))


def lines(report: dict[str, Any]) -> list[str]:
    if "fatal" in report:
        return [f"on-call benchmark FAILED:\n{report['fatal']}"]
    c = report["create_to_first_delivery"]
    e = report["escalation"]
    late = e.get("lateness_s") or {}
    return [
        f"\n== on-call ({report['size']}: {report['n']} urgent tickets, SQLite, one process) ==",
        f"create → first page delivery attempt (apprise json:// to a local receiver): p50 {c.get('p50_ms')} ms, "
        f"p99 {c.get('p99_ms')} ms, {report['statements_per_page']} statements (target p99 ≤ 5 s, without the "
        "relay and broker hops)",
        f"escalation: {e['escalated']}/{e['pages']} pages moved to level 2 with a {e['beat_seconds']:.0f} s beat; "
        f"lateness p50 {late.get('p50_ms')} ms, p99 {late.get('p99_ms')} ms, max {e['max_lateness_s']} s "
        f"(target ≤ 30 s); scan p99 {(e.get('scan_s') or {}).get('p99_ms')} ms",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.oncall", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=sorted(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.size, args.out)
        return
    from bench import machine

    report = run(size="quick" if args.quick else "full")
    print("machine:", machine.describe(None))
    print("\n".join(lines(report)))


if __name__ == "__main__":
    main()
