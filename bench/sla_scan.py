"""SLA due-scan benchmark on PostgreSQL: 1,000,000 open tickets (100,000 with --quick), the due-scan's indexed range
query for one batch, and the full scan + fire rate for one batch.

Data: one workspace, tickets bulk-inserted with one INSERT … SELECT generate_series (not through the services:
this measures the scan, not ticket creation). Their next SLA checks are spread over the coming three days, 20 % have
none (paused, solved or without a policy), and 0.5 % are due now — what a scanner running every 30 s finds on a
busy desk after an outage of a few minutes. The batch query is the one `sla.selectors.due_tickets` runs
(`sla_next_check_at <= now ORDER BY sla_next_check_at, id LIMIT 500`); its time is the median of 25 runs, and its
EXPLAIN (ANALYZE, BUFFERS) is printed to show the index on sla_next_check_at is used. The fire rate runs
`sla_scan_due` for one batch of due tickets whose first reply breached (the configuration read once per batch; per
ticket: policy match, clocks recomputed from the timeline, SLAFiring rows inserted, the assignee notified,
escalation level 1 notifies the team lead, timeline entries), and counts its statements per ticket.

Needs PIVOTDESK_BENCH_DATABASE_URL or PIVOTDESK_TEST_DATABASE_URL (skipped with a message otherwise); works in a
fresh database `pivotdesk_bench_sla` that it drops afterwards. `python -m bench --only sla` runs it after the pure
module's benchmark; `python -m bench.sla_scan [--quick]` runs it alone.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.process import configure_django
from pivotdesk.accounts.actors import Actor

TARGET_MS = 100.0
BATCH = 500
RUNS = 25
DB_NAME = "pivotdesk_bench_sla"
REPO = Path(__file__).resolve().parent.parent


def run_scan(quick: bool) -> dict[str, Any]:
    """Run the scan benchmark in its own process (Django settings are process-global) and print its figures."""
    from bench import foundation

    url = foundation.postgres_base_url()
    if not url:
        message = "skipped: set PIVOTDESK_BENCH_DATABASE_URL (or PIVOTDESK_TEST_DATABASE_URL) to a PostgreSQL server"
        print(f"sla due-scan {message}")
        return {"skipped": message}
    foundation._admin(url, f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    foundation._admin(url, f'CREATE DATABASE "{DB_NAME}"')
    config = {
        "database_url": foundation._with_db(url, DB_NAME),
        "tickets": 100_000 if quick else 1_000_000,
        "var_dir": tempfile.mkdtemp(prefix="pd-sla-bench-"),
    }
    try:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            proc = subprocess.run(
                [sys.executable, "-m", "bench.sla_scan", "--worker", json.dumps(config), out.name],
                cwd=REPO,
                text=True,
                timeout=3600,
                check=False,
            )
            if proc.returncode != 0:
                return {"fatal": f"worker exited {proc.returncode}"}
            report: dict[str, Any] = json.loads(Path(out.name).read_text())
    finally:
        foundation._admin(url, f'DROP DATABASE IF EXISTS "{DB_NAME}"')
    return report


# --- the worker (own process) ----------------------------------------------------------------------------------


def _setup(config: dict[str, Any]) -> None:
    # Firing queues the notification deliveries (and event reactions) for the workers, as in production; an
    # in-memory broker keeps the broker's own cost out of the figure.
    configure_django(
        config["var_dir"], database_url=config["database_url"], log_level="WARNING", broker_url="memory://"
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)


def _load(n: int) -> dict[str, Any]:
    """Workspace, agents, a team with a lead, one policy with an escalation level, contacts, and n tickets."""
    import datetime as dt

    from django.db import connection

    from pivotdesk.accounts.services import agent_create, team_create, workspace_create
    from pivotdesk.customers.models import Contact
    from pivotdesk.sla.models import BusinessCalendar, EscalationLevel, SLAPolicy, SLATarget
    from pivotdesk.tickets.models import Ticket

    workspace = workspace_create(actor=Actor.system("bench"), name="SLA Bench", slug="sla-bench")
    agents = [
        agent_create(
            actor=Actor.system("bench"), workspace=workspace, username=f"sla-agent{i}", email=f"a{i}@desk.example"
        )
        for i in range(20)
    ]
    team = team_create(actor=Actor.system("bench"), workspace=workspace, name="Support", members=agents, lead=agents[0])
    BusinessCalendar.objects.create(workspace=workspace, name="China", is_default=True)
    policy = SLAPolicy.objects.create(workspace=workspace, name="Standard")
    for priority in ("low", "normal", "high", "urgent"):
        SLATarget.objects.create(policy=policy, priority=priority, metric="first_reply", minutes=120)
        SLATarget.objects.create(policy=policy, priority=priority, metric="resolution", minutes=960)
    EscalationLevel.objects.create(policy=policy, level=1, actions=[{"type": "notify", "to": "team_lead"}])
    Contact.objects.bulk_create([Contact(workspace=workspace, name=f"C{i}") for i in range(1000)])
    contact_ids = list(Contact.objects.filter(workspace=workspace).values_list("pk", flat=True))
    agent_ids = [a.pk for a in agents]
    now = dt.datetime.now(dt.UTC)
    # Created three working days ago (first reply long breached): every due ticket fires breach + level 1.
    created = now - dt.timedelta(days=5)
    fields = {f.column for f in Ticket._meta.concrete_fields if f.column}
    expected = {
        "id", "workspace_id", "number", "subject", "status", "priority", "ticket_type", "channel", "requester_id",
        "organization_id", "assignee_id", "team_id", "custom_fields", "language", "external_id", "message_count",
        "sla_state", "sla_due_at", "sla_next_check_at", "created_at", "updated_at", "custom_status_id", "category_id",
        "parent_id", "merged_into_id", "first_response_at", "last_customer_message_at", "last_agent_reply_at",
        "assigned_at", "solved_at", "closed_at",
    }  # fmt: skip
    if fields - expected:
        raise SystemExit(f"Ticket has columns this loader does not fill: {sorted(fields - expected)}")
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO tickets_ticket (workspace_id, number, subject, status, priority, ticket_type, channel,
                requester_id, assignee_id, team_id, custom_fields, language, external_id, message_count, sla_state,
                sla_due_at, sla_next_check_at, created_at, updated_at)
            SELECT %(ws)s, 100000 + g, 'Ticket ' || g, 'open', 'normal', 'question', 'email',
                (%(contacts)s::bigint[])[1 + g %% %(n_contacts)s], (%(agents)s::bigint[])[1 + g %% %(n_agents)s],
                %(team)s, '{}'::jsonb, 'zh', '', 1, 'ok',
                %(now)s + (g %% 259200) * interval '1 second',
                CASE
                    WHEN g %% 1000 < 5 THEN %(now)s - (g %% 600) * interval '1 second'   -- 0.5 %% due now
                    WHEN g %% 1000 < 205 THEN NULL                                      -- 20 %% nothing to check
                    ELSE %(now)s + (g %% 259200) * interval '1 second'                  -- the next three days
                END,
                %(created)s, %(created)s
            FROM generate_series(1, %(n)s) AS g
            """,
            {
                "ws": workspace.pk,
                "contacts": contact_ids,
                "n_contacts": len(contact_ids),
                "agents": agent_ids,
                "n_agents": len(agent_ids),
                "team": team.pk,
                "now": now,
                "created": created,
                "n": n,
            },
        )
        cur.execute("ANALYZE tickets_ticket")
    load_s = time.perf_counter() - started
    return {"workspace": workspace, "now": now, "load_s": load_s}


class _QueryCounter:
    """An execute wrapper that counts the statements sent to the database (cheaper than CaptureQueriesContext,
    which also keeps every SQL string; the count is the same)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def _explain(sql: str, params: Any) -> list[str]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [row[0] for row in cur.fetchall()]


def _work(config: dict[str, Any]) -> dict[str, Any]:
    _setup(config)
    from django.db import connection, reset_queries

    from pivotdesk.sla import selectors
    from pivotdesk.sla.models import SLAFiring
    from pivotdesk.sla.services import sla_scan_due
    from pivotdesk.tickets.models import Ticket

    n = int(config["tickets"])
    print(f"  loading {n:,} open tickets into PostgreSQL …", flush=True)
    loaded = _load(n)
    now = loaded["now"]
    due_total = Ticket.objects.filter(sla_next_check_at__lte=now).count()

    timings = []
    batch: list[tuple[int, Any]] = []
    for _ in range(RUNS):
        reset_queries()
        started = time.perf_counter()
        batch = selectors.due_tickets(at=now, limit=BATCH)
        timings.append((time.perf_counter() - started) * 1000)
    qs = (
        Ticket.objects.filter(sla_next_check_at__lte=now)
        .order_by("sla_next_check_at", "pk")
        .values_list("pk", "sla_next_check_at")[:BATCH]
    )
    sql, params = qs.query.sql_with_params()
    plan = _explain(sql, params)

    ids = [pk for pk, _ in batch]
    queries = _QueryCounter()
    cpu_started = time.process_time()
    started = time.perf_counter()
    with connection.execute_wrapper(queries):
        scan = sla_scan_due(actor=Actor.system("bench"), now=now, batch_size=BATCH, max_batches=1)
    fired = scan.fired
    if scan.checked != len(ids) or scan.failed:
        raise SystemExit(f"the scan checked {scan.checked} of {len(ids)} tickets, {scan.failed} failed")
    fire_s = time.perf_counter() - started
    fire_cpu_s = time.process_time() - cpu_started
    firings = SLAFiring.objects.count()
    return {
        "tickets": n,
        "due_now": due_total,
        "load_s": round(loaded["load_s"], 1),
        "batch": BATCH,
        "batch_rows": len(batch),
        "select_ms_median": round(statistics.median(timings), 2),
        "select_ms_p90": round(sorted(timings)[int(len(timings) * 0.9) - 1], 2),
        "select_target_ms": TARGET_MS,
        "explain": plan,
        "fire_batch_s": round(fire_s, 2),
        "fire_tickets_per_s": round(len(ids) / fire_s, 1) if fire_s else None,
        "fire_cpu_s": round(fire_cpu_s, 2),
        "fire_queries": queries.count,
        "fire_queries_per_ticket": round(queries.count / len(ids), 1) if ids else None,
        "firings": fired,
        "firing_rows": firings,
        "database": connection.vendor,
    }


def print_report(report: dict[str, Any]) -> None:
    """Print the figures of a run_scan report (nothing for a skipped or failed run; run_scan said why)."""
    if "skipped" in report:
        return
    if "fatal" in report:
        print(f"sla due-scan benchmark FAILED: {report['fatal']}")
        return
    print(f"\n== sla due-scan (PostgreSQL, {report['tickets']:,} open tickets, {report['due_now']:,} due now) ==")
    print(f"  bulk load: {report['load_s']} s (INSERT … SELECT generate_series, not through the services)")
    verdict = "meets" if report["select_ms_median"] <= report["select_target_ms"] else "MISSES"
    print(
        f"  due-scan SELECT of one batch ({report['batch_rows']} rows): median {report['select_ms_median']} ms, "
        f"p90 {report['select_ms_p90']} ms over {RUNS} runs ({verdict} the ≤ {report['select_target_ms']:.0f} ms target)"
    )
    print("  EXPLAIN (ANALYZE, BUFFERS):")
    for line in report["explain"]:
        print(f"    {line}")
    print(
        f"  scan + fire of one batch: {report['batch_rows']} tickets in {report['fire_batch_s']} s = "
        f"{report['fire_tickets_per_s']} tickets/s, {report['firings']} firings (first reply and resolution: breach + "
        f"escalation level 1 each; notifications written and their deliveries queued, timeline entries included)"
    )
    if report.get("fire_queries_per_ticket") is not None:
        print(
            f"  queries of scan + fire: {report['fire_queries']} = {report['fire_queries_per_ticket']} per ticket "
            f"(every statement, savepoints included); {report['fire_cpu_s']} s of this process's CPU time (the rest is "
            f"waiting for PostgreSQL and for the CPU on a shared machine)"
        )


def main() -> None:
    if len(sys.argv) >= 4 and sys.argv[1] == "--worker":
        config = json.loads(sys.argv[2])
        report = _work(config)
        Path(sys.argv[3]).write_text(json.dumps(report, default=str))
        return
    from bench import foundation, machine

    url = foundation.postgres_base_url()
    for key, value in machine.describe(foundation.postgres_version(url) if url else None).items():
        print(f"  {key}: {value}")
    report = run_scan("--quick" in sys.argv)
    if "skipped" not in report:
        print_report(report)


if __name__ == "__main__":
    main()
