"""Notifications benchmark: what `notify()` costs the caller, and how fast the worker sends.

`python -m bench.notifications [--quick]` (2,000 notifications; --quick: 300). In its own process on a fresh SQLite
database in a temp dir (the embedded default), it measures:

- **notify, in-app only**: `notify()` for a kind with no external channel (one INSERT, plus the dedupe EXISTS);
- **notify, de-duplicated**: the same call with a dedupe key that already exists (returns None; one EXISTS);
- **notify, in-app + email + apprise**: an agent whose preferences send everything to email and to two apprise
  targets (three Delivery rows; queueing to the broker is switched off so only the caller's cost is measured);
- **send apprise json://**: `deliver()` of those apprise deliveries to a local HTTP receiver (http.server thread on
  127.0.0.1): claim, decrypt the target, apprise POST, record;
- **send email**: `deliver()` of the email deliveries to a local aiosmtpd server over SMTP (one connection each).

Each figure is per second (sequential, one thread) with p50/p99 latency in ms. `run(size=...)` returns the report
for bench/__main__.py; `lines(report)` formats it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.measure import latency_summary
from bench.process import configure_django, run_worker_module
from pivotdesk.accounts.actors import Actor

SIZES = {"full": 2000, "quick": 300}


def run(*, size: str, log: Any = print) -> dict[str, Any]:
    log(f"  notifications ({SIZES[size]:,} per measurement) …")
    return run_worker_module("bench.notifications", size=size, timeout_s=3600)


def _timed(n: int, fn: Callable[[int], object]) -> dict[str, Any]:
    seconds = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        seconds.append(time.perf_counter() - t0)
    return {**latency_summary(seconds), "per_s": round(n / (time.perf_counter() - started), 1)}


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
    return server, f"json://127.0.0.1:{server.server_address[1]}/bench"


def _worker(size: str, out: Path) -> None:
    n = SIZES[size]
    var_dir = Path(tempfile.mkdtemp(prefix="pd-bench-notif-var-"))
    configure_django(var_dir)
    import django

    django.setup()
    from aiosmtpd.controller import Controller
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from pivotdesk.accounts.services import workspace_create
    from pivotdesk.accounts.tests.factories import AgentFactory
    from pivotdesk.notifications import services
    from pivotdesk.notifications.models import Delivery, DeliveryChannel

    services._queue_after_commit = lambda ids: None  # measure the caller's cost, not the broker's

    class Sink:
        count = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Sink.count += 1
            return "250 OK"

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        smtp_port = sock.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_port
    server, hook_url = _receiver()

    report: dict[str, Any] = {"size": size, "n": n, "database": "sqlite", "errors": []}
    workspace = workspace_create(actor=Actor.system("bench"), name="Bench notifications", slug="bench-notifications")
    plain = AgentFactory(workspace=workspace)
    loud = AgentFactory(workspace=workspace)
    services.preference_save(
        actor=Actor.system("bench"),
        agent=loud,
        channels={"*": ["email", "apprise"]},
        quiet_hours_enabled=False,
        quiet_start=None,
        quiet_end=None,
    )
    services.target_create(actor=Actor.system("bench"), agent=loud, label="hook 1", url=hook_url)
    services.target_create(actor=Actor.system("bench"), agent=loud, label="hook 2", url=hook_url + "2")

    def notify(agent: Any, kind: str, key: str = "") -> Callable[[int], object]:
        def call(i: int) -> object:
            return services.notify(
                actor=Actor.system(),
                workspace=workspace,
                recipient=agent,
                kind=kind,
                title=f"Ticket #{i} assigned",
                body="Bench",
                url=f"/tickets/{i}/",
                dedupe_key=key or f"{kind}:{i}",
            )

        return call

    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("notify_in_app", lambda: _timed(n, notify(plain, "routing.assigned"))),
        ("notify_deduped", lambda: _timed(n, notify(plain, "routing.assigned", key="routing.assigned:0"))),
        ("notify_all_channels", lambda: _timed(n, notify(loud, "sla.warning"))),
    ]
    for name, fn in steps:
        try:
            report[name] = fn()
        except Exception:
            report[name] = {"problem": traceback.format_exc()[-2000:]}
        print(f"  {name}: {report[name]}", flush=True)

    for name, channel in (("send_apprise_json", DeliveryChannel.APPRISE), ("send_email_smtp", DeliveryChannel.EMAIL)):
        ids = list(Delivery.objects.filter(channel=channel).order_by("pk").values_list("pk", flat=True)[:n])
        try:
            report[name] = _timed(len(ids), lambda i, ids=ids: services.deliver(delivery_id=ids[i]))
            report[name]["sent"] = Delivery.objects.filter(pk__in=ids, status="sent").count()
        except Exception:
            report[name] = {"problem": traceback.format_exc()[-2000:]}
        print(f"  {name}: {report[name]}", flush=True)
    report["smtp_received"] = Sink.count
    controller.stop()
    server.shutdown()
    out.write_text(json.dumps(report, indent=2))


LABELS = {
    "notify_in_app": "notify(): in-app only",
    "notify_deduped": "notify(): duplicate key (returns None)",
    "notify_all_channels": "notify(): in-app + email + 2 apprise targets",
    "send_apprise_json": "deliver(): apprise json:// to local receiver",
    "send_email_smtp": "deliver(): email over SMTP to local aiosmtpd",
}


def lines(report: dict[str, Any]) -> list[str]:
    if "fatal" in report:
        return [f"notifications benchmark FAILED:\n{report['fatal']}"]
    out = [f"\n== notifications ({report['size']}, SQLite, one thread) =="]
    width = max(len(v) for v in LABELS.values())
    out.append(f"{'operation':<{width}}  {'n':>6}  {'per s':>8}  {'p50 ms':>7}  {'p99 ms':>7}")
    for key, label in LABELS.items():
        r = report.get(key) or {}
        if "problem" in r:
            out.append(f"{label:<{width}}  not measured: {r['problem'].strip().splitlines()[-1][:80]}")
            continue
        out.append(
            f"{label:<{width}}  {r.get('n', 0):>6}  {r.get('per_s'):>8}  {r.get('p50_ms'):>7}  {r.get('p99_ms'):>7}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.notifications", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="300 per measurement instead of 2,000")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=sorted(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.size, args.out)
        return
    from bench import machine

    for key, value in machine.describe(None).items():
        print(f"  {key}: {value}")
    report = run(size="quick" if args.quick else "full")
    print("\n".join(lines(report)))
    if "fatal" in report:
        sys.exit(1)


if __name__ == "__main__":
    main()
