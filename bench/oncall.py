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

Then the same two figures with the real processes, as `make run` starts them (the project's `Procfile` under honcho:
web, worker, scheduled, beat, relay), once with the embedded SQLite broker and once with Redis
(`PIVOTDESK_TEST_REDIS_URL`, else redis://127.0.0.1:6379/15, flushed first: give it a database of its own; skipped
when Redis does not answer), each on a fresh var dir with the SQLite database (`migrate`, `seed_demo`, a policy
"urgent → engineer, then lead" and apprise json:// targets on a receiver in this process, set up in a subprocess):

- **create → first page delivery attempt, worker idle**: an urgent ticket POSTed to `/api/v1/tickets` with an API
  token, one at a time, 3 s apart (10; --quick 5, after one untimed cold ticket); the time from just before the POST
  to the moment the receiver gets the engineer's page (relay → triage, routing, SLA, paging → broker → worker →
  apprise). Target p99 ≤ 5 s.
- **escalation with the real beat**: K pages (6; --quick 3) have their level-1 timeout moved to due instants over
  about 40 s, their phases against the 10 s beat spread evenly; lateness = the receiver getting the lead's (level
  2) page − the due time, and the level-2 `PageNotice` row's creation − the due time (wall clock against the
  database's UTC timestamps). Target ≤ 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.intake import _wait_http
from bench.measure import latency_summary, percentile
from bench.process import ROOT, configure_django, run_worker_module

SIZES = {"full": 300, "quick": 60}
BEAT_SECONDS = 10.0
# Real processes: tickets timed one by one on an idle desk, and pages whose escalation is timed with the real beat.
PROCESS_SIZES = {"full": {"tickets": 10, "escalations": 6}, "quick": {"tickets": 5, "escalations": 3}}
TARGET_PAGE_P99_S = 5.0
TARGET_ESCALATION_S = 30.0


def run(*, size: str, processes: bool = True) -> dict[str, Any]:
    report = run_worker_module("bench.oncall", size=size, timeout_s=1800)
    if processes:
        report["processes"] = run_processes(size=size)
    return report


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
    var_dir = Path(tempfile.mkdtemp(prefix="pd-bench-oncall-"))
    configure_django(var_dir)
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
    from django.db import connections

    connections.close_all()
    shutil.rmtree(var_dir, ignore_errors=True)


# --- the real processes: the Procfile under honcho, with the embedded broker and with Redis ------------------------

PROCESS_SETUP = r"""
import django, json, sys
django.setup()
from django.core.management import call_command
from django.db.models import F
call_command("migrate", verbosity=0, interactive=False)
call_command("seed_demo", tickets=20, verbosity=0)
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.services import api_token_create
from pivotdesk.notifications.services import target_create
from pivotdesk.oncall.models import EscalationPolicy
from pivotdesk.oncall.services import policies
port = int(sys.argv[1])
system = Actor.system("bench")
ws = Workspace.objects.get(slug="demo")
people = AgentProfile.objects.filter(workspace=ws, is_active=True).order_by("pk")
engineer = people.filter(role="agent").first()
lead = people.filter(role="supervisor").first()
for agent, path in ((engineer, "engineer"), (lead, "lead")):
    target_create(
        agent=agent, actor=system, label="bench phone", url=f"json://127.0.0.1:{port}/{path}", kinds=["oncall.page"]
    )
# The demo's policies page for device tickets, or for keywords outside business hours only: this one comes first
# and pages for every urgent ticket at any hour (the engineer, then the lead after the level's timeout).
EscalationPolicy.objects.filter(workspace=ws).update(position=F("position") + 10)
policy = policies.policy_save(
    actor=system, workspace=ws, name="bench: urgent, any hour", conditions={"priorities": ["urgent"]}
)
policies.policy_steps_set(
    actor=system,
    policy=policy,
    steps=[
        {"level": 0, "timeout_minutes": 10, "agent": engineer.pk},
        {"level": 1, "timeout_minutes": 10, "agent": lead.pk},
    ],
)
token = api_token_create(agent=lead, actor=system, name="bench on-call", scope="write")[1]
print(json.dumps({"token": token, "engineer": engineer.pk, "lead": lead.pk}))
"""

# Moves the level-1 timeout of the given pages to due instants from `lead` s from now, over about `spread` s, their
# phases against the beat's period spread evenly (whole periods apart, plus i/K of a period): a step that is a
# multiple of the period would give every page the same wait for the next tick.
DUE_SETUP = r"""
import django, datetime as dt, json, sys
django.setup()
from pivotdesk.common.time import now
from pivotdesk.oncall.models import Page
ids = [int(x) for x in sys.argv[1].split(",")]
lead_s, spread_s, beat_s = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
start = now() + dt.timedelta(seconds=lead_s)
k = len(ids)
dues = {}
for i, pk in enumerate(ids):
    periods = int(spread_s / beat_s * i / max(k - 1, 1))
    due = start + dt.timedelta(seconds=beat_s * periods + beat_s * i / k)
    if Page.objects.filter(pk=pk, status="triggered", level=0).update(next_escalation_at=due):
        dues[pk] = due.timestamp()
print(json.dumps(dues))
"""

NUMBER = re.compile(r"#(\d+)")


class _Receiver:
    """The engineer's and the lead's phones: an apprise json:// endpoint that notes when each page arrived (wall
    clock and monotonic), by path (/engineer, /lead) and the ticket number in its title."""

    def __init__(self) -> None:
        self.hits: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                mono, wall = time.monotonic(), time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                try:
                    title = str(json.loads(body).get("title") or "")
                except (ValueError, AttributeError):
                    title = ""
                match = NUMBER.search(title)
                with receiver.lock:
                    receiver.hits.append(
                        {
                            "path": self.path.strip("/"),
                            "number": int(match.group(1)) if match else None,
                            "mono": mono,
                            "wall": wall,
                        }
                    )

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def first(self, path: str, number: int) -> dict[str, Any] | None:
        with self.lock:
            return next((h for h in self.hits if h["path"] == path and h["number"] == number), None)

    def wait(self, path: str, number: int, timeout_s: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            hit = self.first(path, number)
            if hit is not None:
                return hit
            time.sleep(0.005)
        return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post_ticket(port: int, token: str, i: int, tag: str) -> tuple[int, int]:
    """An urgent ticket through the REST API, as a monitoring system or an integration opens it: (id, number)."""
    payload = {
        "subject": f"3号线设备停机 line 3 machine down ({tag} {i})",
        "body": "3号线灌装机停了，报警灯一直亮。The filler on line 3 stopped; the alarm light stays on.",
        "priority": "urgent",
        "requester": {"name": f"Plant {tag} {i}", "email": f"plant-{tag}-{i}@oncall.example"},
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/tickets",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        data = json.loads(response.read())
    return int(data["id"]), int(data["number"])


def _utc(value: str | None) -> float | None:
    """A timestamp Django stored in SQLite (naive UTC text) as epoch seconds."""
    if not value:
        return None
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).timestamp()


def _why_not_paged(db: Path, ticket_id: int) -> str:
    """What the database says when the receiver heard nothing: the ticket's events, its page, the page's deliveries."""
    with sqlite3.connect(db, timeout=30) as conn:
        events = conn.execute(
            "SELECT name, state, done_subscribers, last_error FROM common_event "
            "WHERE json_extract(payload, '$.ticket_id') = ? ORDER BY id",
            [ticket_id],
        ).fetchall()
        pages = conn.execute("SELECT id, status, level FROM oncall_page WHERE ticket_id = ?", [ticket_id]).fetchall()
        deliveries = conn.execute(
            "SELECT d.channel, d.status, d.attempts, d.last_error FROM notifications_delivery d "
            "JOIN notifications_notification n ON n.id = d.notification_id "
            "WHERE n.ticket_id = ? AND n.kind = 'oncall.page'",
            [ticket_id],
        ).fetchall()
    return f"ticket {ticket_id}: events {events}, pages {pages}, deliveries {deliveries}"[:1500]


def _first_attempt_from_db(db: Path, ticket_id: int) -> float | None:
    """The claim time of the engineer's apprise delivery (its last attempt, the first when there was one)."""
    with sqlite3.connect(db, timeout=30) as conn:
        row = conn.execute(
            "SELECT MIN(d.last_attempt_at) FROM notifications_delivery d "
            "JOIN notifications_notification n ON n.id = d.notification_id "
            "WHERE n.ticket_id = ? AND n.kind = 'oncall.page' AND d.channel = 'apprise'",
            [ticket_id],
        ).fetchone()
    return _utc(row[0]) if row else None


def _create_to_page(port: int, token: str, db: Path, receiver: _Receiver, n: int) -> dict[str, Any]:
    """Urgent tickets one at a time on an idle desk: seconds from just before the POST to the engineer's page
    reaching the receiver (the database's claim time of the delivery when the receiver heard nothing)."""

    def one(i: int, tag: str) -> tuple[float | None, str]:
        started, started_wall = time.monotonic(), time.time()
        ticket_id, number = _post_ticket(port, token, i, tag)
        hit = receiver.wait("engineer", number, 60)
        if hit is not None:
            return hit["mono"] - started, "receiver"
        attempted = _first_attempt_from_db(db, ticket_id)
        if attempted is not None:
            return attempted - started_wall, "database"
        return None, _why_not_paged(db, ticket_id)

    cold, cold_source = one(0, "cold")  # the first ticket loads what every process loads lazily: not timed
    seconds: list[float] = []
    sources: list[str] = []
    missed: list[str] = []
    for i in range(n):
        time.sleep(3)
        value, source = one(i, "idle")
        if value is None:
            missed.append(source)
        else:
            seconds.append(value)
            sources.append(source)
    return {
        "n": n,
        "paged": len(seconds),
        "cold_first_s": round(cold, 3) if cold is not None else cold_source,
        "p50_s": round(percentile(seconds, 50), 3) if seconds else None,
        "p99_s": round(percentile(seconds, 99), 3) if seconds else None,
        "max_s": round(max(seconds), 3) if seconds else None,
        "all_s": [round(s, 3) for s in seconds],
        "from_database": sources.count("database"),
        "missed": missed,
    }


def _escalation_with_beat(
    port: int, token: str, db: Path, receiver: _Receiver, *, k: int, env: dict[str, str]
) -> dict[str, Any]:
    """K pages whose level-1 timeout falls due at instants spread over 40 s; the real beat (every 10 s) and the
    scheduled worker page the lead: how late, against the due time, the lead's phone hears it and the level-2
    notice is written."""
    tickets = dict(_post_ticket(port, token, i, "escalation") for i in range(k))  # id → number
    pages: dict[int, int] = {}  # ticket id → page id
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(pages) < k:
        with sqlite3.connect(db, timeout=30) as conn:
            ids = ",".join(str(t) for t in tickets)
            pages = dict(
                conn.execute(f"SELECT ticket_id, id FROM oncall_page WHERE ticket_id IN ({ids}) AND level = 0")
            )
        time.sleep(0.2)
    if len(pages) < k:
        return {"fatal": f"only {len(pages)} of {k} tickets were paged within 120 s"}
    setup = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"), "-c", DUE_SETUP, ",".join(str(p) for p in pages.values()),
            "12", "40", str(BEAT_SECONDS),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if setup.returncode != 0:
        return {"fatal": "moving the due times failed: " + (setup.stderr or setup.stdout)[-1500:]}
    dues = {int(pk): float(at) for pk, at in json.loads(setup.stdout.strip().splitlines()[-1]).items()}
    number_of_page = {page: tickets[ticket] for ticket, page in pages.items()}
    heard: dict[int, float] = {}
    deadline_wall = max(dues.values()) + 120
    while time.time() < deadline_wall and len(heard) < len(dues):
        for page in dues:
            hit = receiver.first("lead", number_of_page[page])
            if hit is not None:
                heard[page] = hit["wall"]
        time.sleep(0.1)
    with sqlite3.connect(db, timeout=30) as conn:
        ids = ",".join(str(p) for p in dues)
        notices = {
            page: _utc(created)
            for page, created in conn.execute(
                f"SELECT page_id, MIN(created_at) FROM oncall_pagenotice WHERE page_id IN ({ids}) AND level = 1 "
                "GROUP BY page_id"
            )
        }
    phone = [heard[p] - dues[p] for p in dues if p in heard]
    notice = [notices[p] - dues[p] for p in dues if notices.get(p) is not None]
    return {
        "pages": len(dues),
        "lead_paged": len(phone),
        "due_spread_s": round(max(dues.values()) - min(dues.values()), 1),
        "phone_late_s": [round(x, 2) for x in sorted(phone)],
        "phone_late_median_s": round(percentile(phone, 50), 2) if phone else None,
        "phone_late_max_s": round(max(phone), 2) if phone else None,
        "notice_late_median_s": round(percentile(notice, 50), 2) if notice else None,
        "notice_late_max_s": round(max(notice), 2) if notice else None,
        "not_paged": [
            _why_not_paged(db, ticket) for ticket, page in pages.items() if page in dues and page not in heard
        ],
    }


def _desk(size: str, broker_url: str | None, log: Any) -> dict[str, Any]:
    """One run of the Procfile on a fresh var dir (SQLite database; the embedded broker unless `broker_url`)."""
    sizes = PROCESS_SIZES[size]
    var_dir = Path(tempfile.mkdtemp(prefix="pd-bench-oncall-desk-"))
    db = var_dir / "db.sqlite3"
    port = _free_port()
    receiver = _Receiver()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")},
        "PIVOTDESK_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
        "PIVOTDESK_BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # The receiver on 127.0.0.1 stands in for the phones: the egress guard lets notifications reach it.
        "PIVOTDESK_EGRESS_ALLOW": "127.0.0.0/8",
    }
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    result: dict[str, Any] = {"broker": broker_url or "sqla+sqlite (embedded, in the var dir)"}
    try:
        setup = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "-c", PROCESS_SETUP, str(receiver.port)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        if setup.returncode != 0:
            return {**result, "fatal": "setup failed: " + (setup.stderr or setup.stdout)[-1500:]}
        info = json.loads(setup.stdout.strip().splitlines()[-1])
        procfile = (ROOT / "Procfile").read_text()
        result["processes"] = [line.split(":", 1)[0] for line in procfile.splitlines() if ":" in line]
        log_path = var_dir / "honcho.log"
        with open(log_path, "wb") as log_file:
            honcho = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "honcho"), "start", "-f", "Procfile"],
                cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            try:
                result["web_ready_s"] = round(_wait_http(port, 120), 1)
                time.sleep(8)  # let the workers, beat and relay settle: an idle desk
                result["create_to_page"] = _create_to_page(port, info["token"], db, receiver, sizes["tickets"])
                log(f"    create → first page delivery attempt: {result['create_to_page']}")
                result["escalation"] = _escalation_with_beat(
                    port, info["token"], db, receiver, k=sizes["escalations"], env=env
                )
                log(f"    escalation with the real beat: {result['escalation']}")
            except (OSError, RuntimeError, ValueError, KeyError, urllib.error.URLError) as exc:
                result["fatal"] = f"{type(exc).__name__}: {exc}"
            finally:
                os.killpg(honcho.pid, signal.SIGTERM)
                try:
                    honcho.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(honcho.pid, signal.SIGKILL)
                    honcho.wait(timeout=30)
        if "fatal" in result or result.get("create_to_page", {}).get("missed"):
            result["log_tail"] = log_path.read_text(errors="replace")[-3000:]
    finally:
        receiver.close()
        shutil.rmtree(var_dir, ignore_errors=True)
    return result


def _redis_url() -> tuple[str, str | None]:
    """The Redis broker URL and, when it does not answer a PING, why the Redis run is skipped."""
    url = os.environ.get("PIVOTDESK_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
        client.ping()
        client.flushdb()  # a database of its own (like bench/load.py): no task left over from another run
    except Exception as exc:  # any failure to reach it: skip, and say why
        return url, f"Redis at {url} did not answer a PING ({type(exc).__name__}: {exc})"
    return url, None


def run_processes(*, size: str, log: Any = print) -> dict[str, Any]:
    report: dict[str, Any] = {"size": size, **PROCESS_SIZES[size], "results": {}}
    log("  on-call, real processes, embedded broker …")
    report["results"]["embedded broker"] = _desk(size, None, log)
    url, problem = _redis_url()
    if problem:
        report["results"]["Redis"] = {"broker": url, "skipped": problem}
        log(f"  on-call, Redis: skipped: {problem}")
    else:
        log(f"  on-call, real processes, Redis ({url}) …")
        report["results"]["Redis"] = _desk(size, url, log)
    return report


def lines(report: dict[str, Any]) -> list[str]:
    if "fatal" in report:
        out = [f"on-call benchmark FAILED:\n{report['fatal']}"]
    else:
        c = report["create_to_first_delivery"]
        e = report["escalation"]
        late = e.get("lateness_s") or {}
        out = [
            f"\n== on-call ({report['size']}: {report['n']} urgent tickets, SQLite, one process) ==",
            f"create → first page delivery attempt (apprise json:// to a local receiver): p50 {c.get('p50_ms')} ms, "
            f"p99 {c.get('p99_ms')} ms, {report['statements_per_page']} statements (target p99 ≤ 5 s, without the "
            "relay and broker hops)",
            f"escalation: {e['escalated']}/{e['pages']} pages moved to level 2 with a {e['beat_seconds']:.0f} s beat; "
            f"lateness p50 {late.get('p50_ms')} ms, p99 {late.get('p99_ms')} ms, max {e['max_lateness_s']} s "
            f"(target ≤ 30 s); scan p99 {(e.get('scan_s') or {}).get('p99_ms')} ms",
        ]
    if report.get("processes"):
        out += process_lines(report["processes"])
    return out


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "meets" if value <= target else "MISSES"


def process_lines(report: dict[str, Any]) -> list[str]:
    out = [
        f"\n== on-call with the real processes ({report['size']}: Procfile under honcho, SQLite database; "
        f"{report['tickets']} urgent tickets 3 s apart through POST /api/v1/tickets, {report['escalations']} "
        "escalations with the real beat) =="
    ]
    for name, r in report["results"].items():
        out += [f"{name}: skipped: {r['skipped']}"] if "skipped" in r else _desk_lines(name, r)
    return out


def _desk_lines(name: str, r: dict[str, Any]) -> list[str]:
    out = [f"{name} ({r.get('broker')}), processes {','.join(r.get('processes', []))}:"]
    c, e = r.get("create_to_page"), r.get("escalation")
    if c:
        out.append(
            f"  create → first page delivery attempt, worker idle: p50 {c['p50_s']} s, p99 {c['p99_s']} s, "
            f"max {c['max_s']} s ({c['paged']}/{c['n']} paged; first, cold ticket {c['cold_first_s']} s, not "
            f"counted) — target p99 ≤ {TARGET_PAGE_P99_S:.0f} s: {_verdict(c['p99_s'], TARGET_PAGE_P99_S)}"
        )
        if c.get("from_database"):
            out.append(f"  ({c['from_database']} timed from the delivery's claim in the database)")
        for missed in c.get("missed", []):
            out.append(f"  NOT PAGED: {missed}")
    if e and "fatal" in e:
        out.append(f"  escalation FAILED: {e['fatal']}")
    elif e:
        out.append(
            f"  escalation with the real beat: {e['lead_paged']}/{e['pages']} level-2 pages (due instants over "
            f"{e['due_spread_s']} s, phases spread over the {BEAT_SECONDS:.0f} s beat); the lead's phone after the "
            f"due time: median {e['phone_late_median_s']} s, max {e['phone_late_max_s']} s; the level-2 notice "
            f"written: median {e['notice_late_median_s']} s, max {e['notice_late_max_s']} s — target ≤ "
            f"{TARGET_ESCALATION_S:.0f} s: {_verdict(e['phone_late_max_s'], TARGET_ESCALATION_S)}"
        )
        for missed in e.get("not_paged", []):
            out.append(f"  LEVEL 2 NOT PAGED: {missed}")
    if "fatal" in r:
        out.append(f"  FAILED: {r['fatal']}")
    if r.get("log_tail"):
        out.append("  end of the processes' log:\n" + r["log_tail"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.oncall", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-processes", action="store_true", help="only the in-process figures")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=sorted(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.size, args.out)
        return
    from bench import machine

    print("machine:", machine.describe(None), flush=True)
    report = run(size="quick" if args.quick else "full", processes=not args.no_processes)
    print("\n".join(lines(report)))


if __name__ == "__main__":
    main()
