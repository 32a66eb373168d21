"""Intake as `make run` runs it: real processes, real HTTP, mail in → ticket triaged, routed and under SLA.

`python -m bench.intake [--quick] [--no-baseline]` runs, for the current code and for today's code path (a git
worktree of `PIVOTDESK_BENCH_BASELINE`, see bench/foundation.py), on a fresh var dir each:

1. `migrate`, `seed_demo --tickets 20` (the demo's SLA and routing policies, agents and calendars) and an e-mail
   channel account (raw RFC 822 webhook), in a subprocess of that checkout;
2. the checkout's own `Procfile` under honcho (web, worker, beat, and whatever else it lists), exactly as
   `make run` starts it, with the embedded SQLite database and broker;
3. **single mail on an idle desk**: one mail POSTed to `/channels/in/email/<key>/`, then the time until its ticket
   is done — the payload processed, AI triage's classify step finished, a routing decision taken (the demo has
   routing policies) and the SLA clocks started — read from the SQLite file every 20 ms; 5 mails, 3 s apart;
4. **a burst of N mails** (100; --quick 30) POSTed back to back: the rate at which they are done, and the
   end-to-end p50/p95 from POST to done.

Everything talks to 127.0.0.1 only and every wait is bounded. Figures are printed with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from bench import foundation
from bench.process import ROOT

SETUP = r"""
import django, json, sys
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
call_command("seed_demo", tickets=20, verbosity=0)
from pivotdesk.accounts.models import Workspace
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.accounts.actors import Actor
ws = Workspace.objects.get(slug="demo")
kwargs = dict(workspace=ws, kind="email", name="bench intake", config={"address": "intake@bench.example"})
try:
    from pivotdesk.accounts.actors import Actor
    account = channel_account_create(actor=Actor.system(), **kwargs)
except TypeError:
    account = channel_account_create(**kwargs)
print(json.dumps({"key": account.webhook_key, "workspace_id": ws.pk}))
"""

DONE_SQL = """
SELECT p.id FROM channels_inboundpayload p
WHERE p.id IN ({ids}) AND p.status = 'processed' AND p.ticket_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM sla_ticketsla s WHERE s.ticket_id = p.ticket_id)
  AND EXISTS (SELECT 1 FROM ai_triagerun r WHERE r.ticket_id = p.ticket_id AND r.step = 'classify'
              AND r.status NOT IN ('pending', 'running'))
  AND EXISTS (SELECT 1 FROM routing_routingdecision d WHERE d.ticket_id = p.ticket_id)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mail(i: int, tag: str) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"Customer {i} <customer{i}@intake.example>"
    msg["To"] = "intake@bench.example"
    msg["Subject"] = f"订单 {tag}-{i} 还没有发货" if i % 3 == 0 else f"Order {tag}-{i} has not arrived"
    msg["Message-ID"] = f"<{tag}-{i}@intake.example>"
    msg.set_content(
        "我上周下的订单到现在还没发货，请尽快处理。" if i % 3 == 0 else "I ordered last week and nothing came yet."
    )
    return msg.as_bytes()


def _post(port: int, key: str, body: bytes) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/channels/in/email/{key}/",
        data=body,
        headers={"Content-Type": "message/rfc822"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status not in (200, 202):
            raise RuntimeError(f"POST answered {response.status}")


def _payload_ids(db: Path, since_id: int) -> list[int]:
    with sqlite3.connect(db, timeout=30) as conn:
        return [
            r[0] for r in conn.execute("SELECT id FROM channels_inboundpayload WHERE id > ? ORDER BY id", [since_id])
        ]


def _max_payload(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as conn:
        return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM channels_inboundpayload").fetchone()[0])


def _done(db: Path, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    with sqlite3.connect(db, timeout=30) as conn:
        return {r[0] for r in conn.execute(DONE_SQL.format(ids=",".join(str(int(i)) for i in ids)))}


def _wait_http(port: int, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5):
                return time.monotonic() - started
        except urllib.error.HTTPError:  # an answer all the same
            return time.monotonic() - started
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"the web process did not answer within {timeout_s:.0f} s")


def _single_mails(port: int, key: str, db: Path, n: int = 5) -> dict[str, Any]:
    """Mails one at a time on an idle desk: seconds from POST to done."""
    singles = []
    for i in range(n):
        since = _max_payload(db)
        started = time.monotonic()
        _post(port, key, _mail(i, "single"))
        ids: list[int] = []
        while time.monotonic() - started < 120:
            ids = ids or _payload_ids(db, since)
            if ids and _done(db, ids):
                break
            time.sleep(0.02)
        else:
            raise RuntimeError("a single mail was not done within 120 s")
        singles.append(time.monotonic() - started)
        time.sleep(3)
    return {"p50": round(statistics.median(singles), 3), "all": [round(s, 3) for s in singles]}


def _burst(port: int, key: str, db: Path, n_burst: int) -> dict[str, Any]:
    """N mails POSTed back to back: the rate at which they are done, and each one's POST → done time."""
    since = _max_payload(db)
    started = time.monotonic()
    for i in range(n_burst):
        _post(port, key, _mail(i, "burst"))
    accept_s = time.monotonic() - started
    ids: list[int] = []
    posted_at: dict[int, float] = {}
    done_at: dict[int, float] = {}
    while time.monotonic() < started + 900 and len(done_at) < n_burst:
        if len(ids) < n_burst:
            ids = _payload_ids(db, since)
            for pid in ids:  # the POST time of each, spread over the accept window in arrival order
                posted_at.setdefault(pid, started + accept_s * (len(posted_at) / max(n_burst, 1)))
        for pid in _done(db, [p for p in ids if p not in done_at]):
            done_at[pid] = time.monotonic()
        time.sleep(0.2)
    total = max(done_at.values()) - started if done_at else None
    latencies = sorted(done_at[p] - posted_at[p] for p in done_at)
    return {
        "n": n_burst,
        "done": len(done_at),
        "accept_s": round(accept_s, 2),
        "per_s": round(len(done_at) / total, 2) if total else None,
        "p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 2) if latencies else None,
    }


def _rss_by_role(root: int) -> dict[str, float]:
    """MiB of resident memory per process role (web worker, celery worker, beat, relay) among the descendants of
    `root` (honcho): the largest process of each role, after the burst."""
    procs: dict[int, tuple[int, str, int]] = {}  # pid → (parent, command line, RSS KiB)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (proc / "status").read_text().splitlines()
            rss_kib = next((int(line.split()[1]) for line in status if line.startswith("VmRSS")), 0)
        except (OSError, ValueError, IndexError):
            continue
        procs[int(proc.name)] = (parent, cmd, rss_kib)
    family, frontier = set(), [root]
    while frontier:
        pid = frontier.pop()
        family.add(pid)
        frontier += [child for child, (parent, _, _) in procs.items() if parent == pid and child not in family]
    roles: dict[str, float] = {}
    for pid in family:
        if pid not in procs:
            continue
        _, cmd, rss_kib = procs[pid]
        role = (
            "web" if "gunicorn" in cmd else "relay" if "events_relay" in cmd else "beat" if " beat" in cmd
            else "scheduled worker" if "-Q scheduled" in cmd else "worker" if "worker" in cmd else ""
        )  # fmt: skip
        if role:
            roles[role] = max(roles.get(role, 0.0), round(rss_kib / 1024, 1))
    return roles


def _measure(repo: Path, n_burst: int, log: Any) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix="pd-bench-intake-"))
    db = var_dir / "db.sqlite3"
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")},
        "PIVOTDESK_VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # This checkout's code, not the one the shared virtualenv was installed from (an editable install).
        "PYTHONPATH": str(repo),
        "PIVOTDESK_BIND": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    setup = subprocess.run(
        [str(repo / ".venv" / "bin" / "python"), "-c", SETUP],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if setup.returncode != 0:
        return {"fatal": "setup failed: " + (setup.stderr or setup.stdout)[-1500:]}
    info = json.loads(setup.stdout.strip().splitlines()[-1])
    procfile = (repo / "Procfile").read_text()
    processes = [line.split(":", 1)[0] for line in procfile.splitlines() if ":" in line]
    log_file = open(var_dir / "honcho.log", "wb")  # noqa: SIM115 - open for the processes' life
    honcho = subprocess.Popen(
        [str(repo / ".venv" / "bin" / "honcho"), "start", "-f", "Procfile"],
        cwd=repo, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    result: dict[str, Any] = {"processes": processes, "logs": str(var_dir / "honcho.log")}
    try:
        result["web_ready_s"] = round(_wait_http(port, 120), 1)
        time.sleep(8)  # let the worker, beat and relay settle: an idle desk
        result["single_mail_s"] = _single_mails(port, info["key"], db)
        log(f"    single mail on an idle desk: p50 {result['single_mail_s']['p50']} s")
        result["burst"] = _burst(port, info["key"], db, n_burst)
        result["rss_mib"] = _rss_by_role(honcho.pid)
        log(f"    burst of {n_burst}: {result['burst']}")
    except Exception as exc:
        result["fatal"] = f"{type(exc).__name__}: {exc}"
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
    return result


def run(*, quick: bool = False, baseline: bool = True, log: Any = print) -> dict[str, Any]:
    n = 30 if quick else 100
    report: dict[str, Any] = {"n_burst": n, "results": {}}
    systems: list[tuple[str, Path]] = [("now", ROOT)]
    if baseline:
        checkout, problem = foundation.baseline_checkout()
        if checkout is not None:
            systems.append((f"today's code ({foundation.BASELINE_REV})", checkout))
        else:
            report["skipped"] = problem
    for name, repo in systems:
        log(f"  intake, {name} …")
        report["results"][name] = _measure(repo, n, log)
    return report


def print_report(report: dict[str, Any]) -> None:
    print(f"\n== intake as make run runs it (SQLite database + SQLite broker, burst of {report['n_burst']} mails) ==")
    if report.get("skipped"):
        print(f"today's code not measured: {report['skipped']}")
    rows = [["system", "processes", "single mail p50 s", "burst done/s", "burst p50 s", "burst p95 s"]]
    for name, r in report["results"].items():
        if "fatal" in r:
            rows.append([name, ",".join(r.get("processes", [])), "FAILED: " + r["fatal"][:80], "", "", ""])
            continue
        burst = r.get("burst", {})
        rows.append(
            [
                name,
                ",".join(r["processes"]),
                str(r["single_mail_s"]["p50"]),
                str(burst.get("per_s")),
                str(burst.get("p50_s")),
                str(burst.get("p95_s")),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
    for name, r in report["results"].items():
        if r.get("rss_mib"):
            print(f"  {name}, resident memory after the burst (MiB, largest process per role): {r['rss_mib']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    from bench.machine import describe

    print(json.dumps(describe(None), indent=2))
    report = run(quick=args.quick, baseline=not args.no_baseline)
    print_report(report)


if __name__ == "__main__":
    sys.exit(main())
