"""Routing decision latency with 2,000 online agents and 100,000 open tickets, on SQLite and PostgreSQL.
Target: decision p99 ≤ 5 ms.

Each measured ticket is created unassigned and routed by `route_ticket`, the full service call, one at a time. Two
figures come out of each call:
- **the decision**: the ticket spec, the pool (the cached agent table) and `decide`. It is reported as wall time
  and as the CPU time of the routing thread, which leaves out waiting for a core on a shared machine;
- **the whole call**: the decision plus the row locks and recount, the assignment through the ticket service, the
  decision row and timeline, and the notification after commit.
The time is also split by stage, to show what dominates.

`python -m bench.routing_latency [--quick]` runs it (quick: 200 agents, 10,000 open tickets, 200 decisions).
- Each database runs in its own process on a fresh database: SQLite in a temp dir; on PostgreSQL, a dedicated
  `pivotdesk_bench_routing` database created and dropped on the server named by PIVOTDESK_BENCH_DATABASE_URL or
  PIVOTDESK_TEST_DATABASE_URL. PostgreSQL is skipped with a message when neither is set.
- Agents, skills, teams, customers and tickets are bulk-inserted, not created through the services.
- Events go to the embedded broker; no worker runs.

`run_latency(quick)` returns the report (for bench/__main__.py); `rows(report)` gives the table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.process import configure_django

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "pivotdesk_bench_routing"
SIZES = {
    "full": {"agents": 2_000, "open_tickets": 100_000, "decisions": 1_000, "customers": 20_000},
    "quick": {"agents": 200, "open_tickets": 10_000, "decisions": 200, "customers": 2_000},
}
SKILLS = 30
TEAMS = 20
CATEGORIES = 40
DECISION_STAGES = ("pool (cached table)", "ticket spec", "decide (numpy)")


def run_latency(quick: bool, log: Any = print) -> dict[str, Any]:
    """Run the benchmark on SQLite and (when configured) PostgreSQL, each in a fresh process."""
    from bench.foundation import _admin, _with_db, postgres_base_url

    def _fresh_postgres(url: str) -> str:
        _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        _admin(url, f'CREATE DATABASE "{BENCH_DB}"')
        return _with_db(url, BENCH_DB)

    size = "quick" if quick else "full"
    report: dict[str, Any] = {"size": size, "params": SIZES[size], "results": [], "skipped": []}
    pg = postgres_base_url()
    targets: list[tuple[str, str | None]] = [("sqlite", None)]
    if pg:
        targets.append(("postgresql", pg))
    else:
        report["skipped"].append("PostgreSQL: set PIVOTDESK_BENCH_DATABASE_URL (or PIVOTDESK_TEST_DATABASE_URL)")
    for database, url in targets:
        log(
            f"  routing latency on {database} ({SIZES[size]['agents']:,} agents, {SIZES[size]['open_tickets']:,} open tickets) …"
        )
        with tempfile.TemporaryDirectory(prefix="pd-bench-routing-") as tmp:
            out = Path(tmp) / "report.json"
            config = {"database": database, "size": size, "var_dir": tmp, "url": _fresh_postgres(url) if url else None}
            cmd = [sys.executable, "-m", "bench.routing_latency", "--worker", json.dumps(config), str(out)]
            proc = subprocess.run(cmd, cwd=ROOT, check=False, capture_output=True, text=True, timeout=3 * 3600)
            if url:
                _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
            if proc.returncode != 0 or not out.exists():
                report["results"].append({"database": database, "fatal": (proc.stderr or proc.stdout)[-4000:]})
                continue
            report["results"].append(json.loads(out.read_text()))
    return report


def rows(report: dict[str, Any]) -> list[list[str]]:
    body = []
    for r in report["results"]:
        if "fatal" in r:
            body.append([r["database"], "FAILED", "", "", "", "", ""])
            continue
        lat = r["latency"]
        choice = r.get("decision_latency") or lat
        cpu = r.get("decision_cpu") or choice
        body.append(
            [
                r["database"],
                f"{choice['p50_ms']:.2f} / {choice['p99_ms']:.2f}",
                f"{cpu['p50_ms']:.2f} / {cpu['p99_ms']:.2f} (load {r.get('load_average', 0):.1f})",
                f"{lat['p50_ms']:.2f} / {lat['p99_ms']:.2f}",
                f"{lat['mean_ms']:.2f}",
                "yes" if choice["p99_ms"] <= 5.0 else "no",
                ", ".join(f"{k} {v:.2f}" for k, v in r["stages_mean_ms"].items()),
            ]
        )
    return body


# ---- the worker (its own process: Django settings are process-global) ---------------------------------------


def _configure(config: dict[str, Any]) -> None:
    url = None if config["database"] == "sqlite" else config["url"]
    configure_django(config["var_dir"], database_url=url, PIVOTDESK_AI_ENABLED="false")


def _load(params: dict[str, int], rng: random.Random) -> dict[str, Any]:
    """Bulk-insert the workspace: agents (online, skills, teams, locations), customers and open tickets."""
    from django.db import connection

    from pivotdesk.accounts.models import AgentProfile, AgentSkill, Skill, Team, User, Workspace
    from pivotdesk.customers.models import Contact, CustomerOrganization
    from pivotdesk.routing.models import CategorySkill, RoutingPolicy
    from pivotdesk.tickets.models import Category, Ticket, TicketSequence

    started = time.perf_counter()
    ws = Workspace.objects.create(slug="bench", name="Bench", languages=["zh", "en"])
    users = User.objects.bulk_create(
        [User(username=f"agent{i}", display_name=f"Agent {i}", password="!") for i in range(params["agents"])],
        batch_size=1000,
    )
    agents = AgentProfile.objects.bulk_create(
        [
            AgentProfile(
                workspace=ws,
                user=u,
                status="online",
                languages=["zh", "en"] if i % 3 else ["zh"],
                capacity={"email": 80, "chat": 4, "messaging": 6, "voice": 1},
                seniority=1 + i % 4,
                latitude=22 + rng.random() * 18,
                longitude=100 + rng.random() * 22,
            )
            for i, u in enumerate(users)
        ],
        batch_size=1000,
    )
    skills = Skill.objects.bulk_create([Skill(workspace=ws, name=f"skill-{i}") for i in range(SKILLS)])
    AgentSkill.objects.bulk_create(
        [AgentSkill(agent=a, skill=s, level=rng.randint(1, 5)) for a in agents for s in rng.sample(skills, 4)],
        batch_size=5000,
    )
    teams = Team.objects.bulk_create([Team(workspace=ws, name=f"Team {i}") for i in range(TEAMS)])
    Team.members.through.objects.bulk_create(
        [Team.members.through(team_id=teams[i % TEAMS].pk, agentprofile_id=a.pk) for i, a in enumerate(agents)],
        batch_size=5000,
    )
    categories = Category.objects.bulk_create([Category(workspace=ws, name=f"Category {i}") for i in range(CATEGORIES)])
    CategorySkill.objects.bulk_create(
        [
            CategorySkill(workspace=ws, category=c, skill=skills[i % SKILLS], min_level=2)
            for i, c in enumerate(categories)
        ]
    )
    orgs = CustomerOrganization.objects.bulk_create(
        [
            CustomerOrganization(workspace=ws, name=f"Org {i}", tier=("vip" if i % 10 == 0 else "standard"))
            for i in range(200)
        ]
    )
    contacts = Contact.objects.bulk_create(
        [
            Contact(workspace=ws, name=f"Customer {i}", email=f"c{i}@example.org", organization=orgs[i % len(orgs)])
            for i in range(params["customers"])
        ],
        batch_size=5000,
    )
    channels = ["email"] * 6 + ["web_form"] * 2 + ["chat", "wechat"]
    number = 10000
    batch: list[Ticket] = []
    for i in range(params["open_tickets"]):
        number += 1
        contact = contacts[rng.randrange(len(contacts))]
        batch.append(
            Ticket(
                workspace=ws,
                number=number,
                subject=f"Open ticket {i}",
                status="open" if i % 4 else "new",
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                channel=rng.choice(channels),
                requester=contact,
                organization_id=contact.organization_id,
                assignee=agents[rng.randrange(len(agents))],
                category=categories[rng.randrange(len(categories))],
                language="zh",
            )
        )
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
    if batch:
        Ticket.objects.bulk_create(batch)
    TicketSequence.objects.create(workspace=ws, last_number=number)
    RoutingPolicy.objects.create(workspace=ws, name="Weighted", strategy="weighted", seniority_by_tier={"vip": 3})
    # Statistics (and on PostgreSQL the visibility map index-only scans need), as autovacuum keeps them on a live
    # database after a bulk load.
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "workspace": ws,
        "contacts": contacts,
        "categories": categories,
        "seconds": round(time.perf_counter() - started, 1),
    }


class _Stages:
    """Wall time spent in the named functions during one decision (wrapped around the module attributes)."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = defaultdict(list)
        self.current: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)  # CPU time of this thread (waiting for a core excluded)
        self.main = threading.get_ident()

    def wrap(self, module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != self.main:  # the background recount is not part of any decision
                return original(*args, **kwargs)
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.current[label] += time.perf_counter() - t0
                self.cpu[label] += time.thread_time() - c0

        setattr(module, name, timed)

    def close(self) -> None:
        for label, seconds in self.current.items():
            self.totals[label].append(seconds)
        self.current = defaultdict(float)
        self.cpu = defaultdict(float)

    def mean_ms(self, n: int) -> dict[str, float]:
        return {label: round(sum(v) * 1000 / max(1, n), 3) for label, v in self.totals.items()}


def _version(connection: Any) -> str:
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as c:
        c.execute("show server_version")
        return f"PostgreSQL {c.fetchone()[0]}"


def _worker(config: dict[str, Any], out: Path) -> None:
    _configure(config)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.measure import latency_summary
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.routing.services import dispatch, pool
    from pivotdesk.tickets.models import Ticket

    call_command("migrate", verbosity=0)
    params = SIZES[config["size"]]
    rng = random.Random(20261121)
    loaded = _load(params, rng)
    ws = loaded["workspace"]
    stages = _Stages()
    stages.wrap(pool, "profiles", "profiles (cached)")
    stages.wrap(pool, "loads", "load GROUP BY")
    stages.wrap(pool, "_recent", "fairness window")
    stages.wrap(dispatch, "agent_table", "pool (cached table)")
    stages.wrap(dispatch, "ticket_spec", "ticket spec")
    stages.wrap(dispatch, "decide", "decide (numpy)")
    stages.wrap(dispatch, "_claim", "lock + recount")
    stages.wrap(dispatch, "ticket_assign", "assign (ticket service)")
    stages.wrap(dispatch, "_store", "decision + timeline")
    try:
        from pivotdesk.notifications import services as notifications

        stages.wrap(notifications, "notify", "notification (after commit)")
    except ImportError:  # routing works without the notifications app
        pass
    # The measured tickets: created unassigned by bulk insert (the ticket service would publish events).
    start_number = Ticket.objects.filter(workspace=ws).order_by("-number").values_list("number", flat=True)[0]
    fresh = Ticket.objects.bulk_create(
        [
            Ticket(
                workspace=ws,
                number=start_number + 1 + i,
                subject=f"New ticket {i}",
                status="new",
                priority=rng.choice(["low", "normal", "high", "urgent"]),
                channel=rng.choice(["email", "email", "chat", "wechat", "web_form"]),
                requester=loaded["contacts"][rng.randrange(len(loaded["contacts"]))],
                category=loaded["categories"][rng.randrange(len(loaded["categories"]))],
                language=rng.choice(["zh", "zh", "en"]),
            )
            for i in range(params["decisions"] + 20)
        ]
    )
    tickets = list(Ticket.objects.filter(pk__in=[t.pk for t in fresh]).order_by("pk"))
    Actor.system("Routing")
    for t in tickets[:20]:  # warm-up: imports, the pool cache, prepared statements
        dispatch.route_ticket(actor=Actor.system("bench"), ticket=t, trigger="new")
    stages.totals.clear()
    stages.current.clear()
    seconds: list[float] = []
    deciding: list[float] = []  # the choice alone: ticket spec + agent states + decide (no lock, no write)
    deciding_cpu: list[float] = []  # the same, CPU time of the routing thread (machine load mostly excluded)
    outcomes: dict[str, int] = defaultdict(int)
    for t in tickets[20:]:
        t0 = time.perf_counter()
        outcome = dispatch.route_ticket(actor=Actor.system("bench"), ticket=t, trigger="new")
        seconds.append(time.perf_counter() - t0)
        deciding.append(sum(stages.current[k] for k in DECISION_STAGES))
        deciding_cpu.append(sum(stages.cpu[k] for k in DECISION_STAGES))
        stages.close()
        outcomes["assigned" if outcome.assigned_to else ("queued" if outcome.queued else "skipped")] += 1
    # the cold path: the pool cache emptied before every decision (a presence change just happened)
    cold: list[float] = []
    extra = Ticket.objects.bulk_create(
        [
            Ticket(
                workspace=ws,
                number=start_number + 100_000 + i,
                subject=f"Cold ticket {i}",
                status="new",
                channel="email",
                requester=loaded["contacts"][i],
                language="zh",
            )
            for i in range(20)
        ]
    )
    for t in extra:
        pool.bump_pool_version(ws.pk)
        t0 = time.perf_counter()
        dispatch.route_ticket(actor=Actor.system("bench"), ticket=t, trigger="new")
        cold.append(time.perf_counter() - t0)
    report = {
        "database": config["database"],
        "database_version": _version(connection),
        "bulk_load_s": loaded["seconds"],
        "latency": latency_summary(seconds),
        "decision_latency": latency_summary(deciding),
        "decision_cpu": latency_summary(deciding_cpu),
        "load_average": os.getloadavg()[0],
        "cold_cache_latency": latency_summary(cold),
        "stages_mean_ms": dict(sorted(stages.mean_ms(len(seconds)).items(), key=lambda kv: -kv[1])),
        "outcomes": dict(outcomes),
    }
    out.write_text(json.dumps(report, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.routing_latency", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("CONFIG", "OUT"))
    args = parser.parse_args()
    if args.worker:
        try:
            _worker(json.loads(args.worker[0]), Path(args.worker[1]))
        except Exception:
            traceback.print_exc()
            sys.exit(1)
        return
    from bench import machine
    from bench.foundation import postgres_base_url, postgres_version

    pg = postgres_base_url()
    for key, value in machine.describe(postgres_version(pg) if pg else None).items():
        print(f"  {key}: {value}")
    report = run_latency(args.quick)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
