"""The scale-out load run: PostgreSQL + Redis, 2 web processes, 2 workers, 2 event relays, one scheduled-jobs
worker and one beat, offered 6 tickets/s through the API + 1 mail/s + 20 agents listing and replying.

`python -m bench.load [--minutes 10] [--kill]` (loopback only; every loop bounded in count and time). Needs
`PIVOTDESK_BENCH_DATABASE_URL` (or `PIVOTDESK_TEST_DATABASE_URL`): a fresh database `pivotdesk_load` is created
and dropped on that server; and `PIVOTDESK_BENCH_REDIS_URL` (or `PIVOTDESK_TEST_REDIS_URL`): its database number
is flushed first, so give it one of its own. `--kill` SIGKILLs one worker and one relay half-way through and
restarts them 15 s later.

It reports: requests and errors; tickets offered, stored and done (triaged, routed, SLA clocks started) — a
ticket not done 120 s after the offer stops counts as lost; pipeline lag (ticket created → done) p50/p95/p99;
and the SLA scans the scheduled worker ran, with the longest gap between two (a scan every 30 s is expected).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from bench import foundation
from bench.process import ROOT

LOAD_DB = "pivotdesk_load"
VENV = ROOT / ".venv" / "bin"

SETUP = r"""
import django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
call_command("seed_demo", tickets=20, verbosity=0)
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.services import api_token_create
from pivotdesk.channels.services.accounts import channel_account_create
ws = Workspace.objects.get(slug="demo")
def call(fn, **kw):
    try:
        return fn(actor=Actor.system(), **kw)
    except TypeError:
        return fn(**kw)
account = call(channel_account_create, workspace=ws, kind="email", name="load", config={"address": "load@bench.example"})
agents = list(AgentProfile.objects.filter(workspace=ws, role__in=["agent", "supervisor", "admin"]).order_by("pk"))
tokens = [call(api_token_create, agent=agents[i % len(agents)], name=f"load {i}", scope="write")[1] for i in range(21)]
print(json.dumps({"key": account.webhook_key, "tokens": tokens}))
"""

DONE_SQL = """
SELECT t.id, EXTRACT(EPOCH FROM t.created_at) FROM tickets_ticket t
WHERE t.workspace_id = (SELECT id FROM accounts_workspace WHERE slug = 'demo') AND t.id > %s
  AND EXISTS (SELECT 1 FROM sla_ticketsla s WHERE s.ticket_id = t.id)
  AND EXISTS (SELECT 1 FROM ai_triagerun r WHERE r.ticket_id = t.id AND r.step = 'classify'
              AND r.status NOT IN ('pending', 'running'))
  AND EXISTS (SELECT 1 FROM routing_routingdecision d WHERE d.ticket_id = t.id)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Desk:
    """The process set, each process started on its own (so one can be killed and restarted)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.web_ports = [_free_port(), _free_port()]
        self.commands: dict[str, list[str]] = {
            **{
                f"web{i}": [
                    str(VENV / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                    "--workers", "2", "--threads", "4", "--log-level", "warning",
                ]
                for i, port in enumerate(self.web_ports)
            },
            **{
                f"worker{i}": [
                    str(VENV / "celery"), "-A", "config", "worker", "-Q", "celery", "-n", f"w{i}@%h",
                    "--loglevel", "INFO", "--pool", "threads", "--concurrency", "4", "--without-gossip",
                    "--without-mingle",
                ]
                for i in range(2)
            },
            "scheduled": [
                str(VENV / "celery"), "-A", "config", "worker", "-Q", "scheduled", "-n", "scheduled@%h",
                "--loglevel", "INFO", "--pool", "threads", "--concurrency", "2", "--without-gossip", "--without-mingle",
            ],
            "beat": [str(VENV / "celery"), "-A", "config", "beat", "--loglevel", "INFO"],
            **{
                f"relay{i}": [str(VENV / "python"), "manage.py", "events_relay", "--threads", "2"]
                for i in range(2)
            },
        }  # fmt: skip
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the process's life
        self.procs[name] = subprocess.Popen(
            self.commands[name], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self, name: str) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)


class Load:
    """The offered load: paced ticket creations, mails, and 20 agents; counts requests and errors."""

    def __init__(self, ports: list[int], key: str, tokens: list[str]) -> None:
        self.ports, self.key, self.tokens = ports, key, tokens
        self.lock = threading.Lock()
        self.requests = 0
        self.errors: list[str] = []
        self.created_ids: list[int] = []
        self.mails = 0
        self.stop = threading.Event()

    def _call(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
        port = random.choice(self.ports)
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers, method=method)
        with self.lock:
            self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return (
                    json.loads(response.read() or b"null")
                    if "json" in response.headers.get("Content-Type", "")
                    else None
                )
        except urllib.error.HTTPError as exc:
            with self.lock:
                self.errors.append(f"{method} {path.split('?', maxsplit=1)[0]} → {exc.code}")
        except Exception as exc:
            with self.lock:
                self.errors.append(f"{method} {path.split('?', maxsplit=1)[0]} → {type(exc).__name__}: {exc}")
        return None

    def _api(self, method: str, path: str, token: str, data: Any = None) -> Any:
        body = json.dumps(data).encode() if data is not None else None
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return self._call(method, path, body, headers)

    def _paced(self, per_s: float, seconds: float, action: Any) -> None:
        started = time.monotonic()
        i = 0
        while not self.stop.is_set() and time.monotonic() - started < seconds:
            action(i)
            i += 1
            delay = started + i / per_s - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)

    def create(self, i: int) -> None:
        ticket = self._api(
            "POST", "/api/v1/tickets", self.tokens[0],
            {"subject": f"负载测试 {i}: 打印机无法连接", "body": "Since this morning the printer is offline.",
             "requester": {"email": f"load{i % 500}@customer.example"}},
        )  # fmt: skip
        if isinstance(ticket, dict) and "id" in ticket:
            with self.lock:
                self.created_ids.append(int(ticket["id"]))

    def mail(self, i: int) -> None:
        msg = EmailMessage(policy=SMTP)
        msg["From"], msg["To"] = f"mailer{i % 300}@customer.example", "load@bench.example"
        msg["Subject"], msg["Message-ID"] = f"Order {i} not delivered", f"<load-{i}-{time.time()}@customer.example>"
        msg.set_content("My parcel has not arrived yet, please check.")
        self._call("POST", f"/channels/in/email/{self.key}/", msg.as_bytes(), {"Content-Type": "message/rfc822"})
        with self.lock:
            self.mails += 1

    def agent(self, n: int, seconds: float) -> None:
        token = self.tokens[1 + n % (len(self.tokens) - 1)]
        started = time.monotonic()
        while not self.stop.is_set() and time.monotonic() - started < seconds:
            page = self._api("GET", "/api/v1/tickets?status=open&limit=25", token)
            items = (page or {}).get("items") or []
            if items and random.random() < 0.3:
                ticket = random.choice(items)
                self._api(
                    "POST", f"/api/v1/tickets/{ticket['id']}/messages", token,
                    {"body": "我们正在处理，请稍候。", "kind": "note"},
                )  # fmt: skip
            self.stop.wait(random.uniform(3, 7))

    def run(self, seconds: float, tickets_per_s: float, mails_per_s: float, agents: int) -> None:
        threads = [
            threading.Thread(target=self._paced, args=(tickets_per_s / 2, seconds, self.create)) for _ in range(2)
        ] + [threading.Thread(target=self._paced, args=(mails_per_s, seconds, self.mail))]
        threads += [threading.Thread(target=self.agent, args=(n, seconds)) for n in range(agents)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 120)


def _scan_gaps(log: Path) -> dict[str, Any]:
    """When the scheduled worker finished `sla.scan_due`, from its log: how many, and the longest gap."""
    stamps = []
    pattern = re.compile(
        r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+: INFO/[^\]]+\] Task sla\.scan_due\[[^\]]+\] succeeded"
    )
    for line in log.read_text(errors="replace").splitlines():
        m = pattern.search(line)
        if m:
            stamps.append(dt.datetime.fromisoformat(m.group(1)))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    return {"scans": len(stamps), "longest_gap_s": max(gaps) if gaps else None}


def run(*, minutes: float, kill: bool, log: Any = print) -> dict[str, Any]:
    pg = foundation.postgres_base_url()
    redis_url = os.environ.get("PIVOTDESK_BENCH_REDIS_URL") or os.environ.get("PIVOTDESK_TEST_REDIS_URL")
    if not pg or not redis_url:
        return {"skipped": "needs PIVOTDESK_BENCH_DATABASE_URL and PIVOTDESK_BENCH_REDIS_URL (or the TEST ones)"}
    import psycopg
    import redis

    foundation._admin(pg, f'DROP DATABASE IF EXISTS "{LOAD_DB}" WITH (FORCE)')
    foundation._admin(pg, f'CREATE DATABASE "{LOAD_DB}"')
    redis.Redis.from_url(redis_url).flushdb()
    var_dir = Path(tempfile.mkdtemp(prefix="pd-bench-load-"))
    db_url = foundation._with_db(pg, LOAD_DB)
    env = {
        **os.environ,
        "PIVOTDESK_VAR_DIR": str(var_dir),
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": redis_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # This checkout's code, not the one the shared virtualenv was installed from (an editable install).
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    setup = subprocess.run(
        [str(VENV / "python"), "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
        check=False,
    )  # fmt: skip
    if setup.returncode != 0:
        return {"fatal": "setup failed: " + (setup.stderr or setup.stdout)[-1500:]}
    info = json.loads(setup.stdout.strip().splitlines()[-1])
    with psycopg.connect(db_url) as conn:
        first_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM tickets_ticket").fetchone()[0])
    desk = Desk(env, var_dir)
    for name in desk.commands:
        desk.start(name)
    report: dict[str, Any] = {"minutes": minutes, "kill": kill, "processes": list(desk.commands)}
    load = Load(desk.web_ports, info["key"], info["tokens"])
    done: dict[int, float] = {}
    lags: list[float] = []
    try:
        time.sleep(15)  # boot
        seconds = minutes * 60
        runner = threading.Thread(target=load.run, args=(seconds, 6.0, 1.0, 20))
        runner.start()
        started = time.monotonic()
        killed = False
        with psycopg.connect(db_url, autocommit=True) as conn:
            while runner.is_alive() or time.monotonic() - started < seconds + 120:
                if kill and not killed and time.monotonic() - started > seconds / 2:
                    log("    killing worker1 and relay1 (SIGKILL), restarting them in 15 s")
                    desk.kill("worker1")
                    desk.kill("relay1")
                    time.sleep(15)
                    desk.start("worker1")
                    desk.start("relay1")
                    killed = True
                seen_at = time.time()
                for ticket_id, created in conn.execute(DONE_SQL, [first_id]).fetchall():
                    if ticket_id not in done:
                        done[ticket_id] = seen_at
                        lags.append(seen_at - float(created))
                if not runner.is_alive():
                    total = conn.execute("SELECT COUNT(*) FROM tickets_ticket WHERE id > %s", [first_id]).fetchone()[0]
                    if len(done) >= total:
                        break
                time.sleep(1.0)
            stored = int(conn.execute("SELECT COUNT(*) FROM tickets_ticket WHERE id > %s", [first_id]).fetchone()[0])
    finally:
        load.stop.set()
        desk.stop()
    lags.sort()
    pct = (lambda q: round(lags[min(len(lags) - 1, int(q * (len(lags) - 1)))], 2)) if lags else (lambda q: None)
    report.update(
        requests=load.requests,
        errors=len(load.errors),
        error_samples=sorted(set(load.errors))[:10],
        api_tickets=len(load.created_ids),
        mails=load.mails,
        tickets_stored=stored,
        tickets_done=len(done),
        lost=len(set(load.created_ids) - set(done)),
        not_done=stored - len(done),
        lag_s={"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99)},
        sla_scans=_scan_gaps(var_dir / "scheduled.log"),
        logs=str(var_dir),
    )
    with contextlib.suppress(Exception):
        foundation._admin(pg, f'DROP DATABASE IF EXISTS "{LOAD_DB}" WITH (FORCE)')
    return report


def lines(report: dict[str, Any]) -> list[str]:
    if "skipped" in report or "fatal" in report:
        return [f"load: {report.get('skipped') or report.get('fatal')}"]
    return [
        f"load ({report['minutes']} min, PostgreSQL + Redis, {', '.join(report['processes'])}"
        f"{', one worker and one relay SIGKILLed half-way and restarted' if report['kill'] else ''}):",
        f"  offered: {report['api_tickets']} API tickets + {report['mails']} mails; {report['requests']} requests, "
        f"{report['errors']} errors {report['error_samples'] or ''}",
        f"  tickets stored {report['tickets_stored']}, done {report['tickets_done']} (triaged, routed, SLA), "
        f"not done {report['not_done']}; API tickets lost {report['lost']}",
        f"  pipeline lag (created → done) s: p50 {report['lag_s']['p50']}, p95 {report['lag_s']['p95']}, "
        f"p99 {report['lag_s']['p99']} (target p99 ≤ 10)",
        f"  SLA scans: {report['sla_scans']['scans']}, longest gap {report['sla_scans']['longest_gap_s']} s "
        f"(every 30 s expected)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--kill", action="store_true", help="SIGKILL one worker and one relay half-way")
    args = parser.parse_args()
    from bench.machine import describe

    print(json.dumps(describe(None), indent=2))
    report = run(minutes=args.minutes, kill=args.kill)
    print("\n".join(lines(report)))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    out = ROOT / "bench" / "results" / f"load-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
