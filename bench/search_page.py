"""A search's page on PostgreSQL, ids first vs the old page query (`python -m bench --only search_page [--quick]`).

The old page query joined every matching ticket with the list's eight tables, then sorted and cut the page
(q=order, ~38k of 100k tickets: 540–800 ms). `tickets.selectors.ticket_list` now returns a queryset whose page is
read ids first (ordered, limited, no joins), then only those rows joined. Both shapes are timed on the same data in
one process, interleaved: "before" is the very same queryset evaluated as a plain QuerySet (the old return value),
"after" is `ticket_list`'s own. Each sample is one page as the API reads it: the count and 50 rows (with their tags).
The same 100,000-ticket data set as the foundation benchmark (bulk-loaded, search documents built, ANALYZE).
Needs PIVOTDESK_BENCH_DATABASE_URL (or PIVOTDESK_TEST_DATABASE_URL); creates and drops `pivotdesk_bench_search`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import dataset, foundation
from bench.measure import latency_summary

DB_NAME = "pivotdesk_bench_search"
QUERIES = ["order", dataset.SEARCH_WORD]
SORTS = ["-updated_at", "relevance", "priority"]


def run(quick: bool) -> dict[str, Any]:
    """Load and time both page shapes in a fresh process (Django settings are process-global)."""
    if not foundation.postgres_base_url():
        return {"skipped": "PIVOTDESK_BENCH_DATABASE_URL / PIVOTDESK_TEST_DATABASE_URL not set"}
    from bench.process import run_worker_module

    return run_worker_module("bench.search_page", size="quick" if quick else "full", timeout_s=3600)


def _worker(size: str, out: Path) -> None:
    base = foundation.postgres_base_url()
    assert base
    foundation._admin(base, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    foundation._admin(base, f"CREATE DATABASE {DB_NAME}")
    try:
        quick = size == "quick"
        report = _measure(
            foundation._with_db(base, DB_NAME), tickets=5_000 if quick else 100_000, n=10 if quick else 30
        )
    finally:
        from django.db import connections

        connections.close_all()
        foundation._admin(base, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    out.write_text(json.dumps(report))


def _measure(database_url: str, *, tickets: int, n: int) -> dict[str, Any]:
    from bench.pivotdesk_worker import _configure

    _configure({"var_dir": tempfile.mkdtemp(prefix="bench-search-"), "database_url": database_url})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import QuerySet

    from bench.pivotdesk_worker import Desk
    from pivotdesk.tickets.models import Ticket
    from pivotdesk.tickets.selectors import TicketFilters, ticket_list

    call_command("migrate", verbosity=0, interactive=False)
    desk = Desk(tickets)
    load_s = desk.load_tickets(tickets)
    index_s = desk.build_search_documents()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def after(q: str, sort: str) -> Any:
        return ticket_list(workspace=desk.workspace, agent=desk.admin, filters=TicketFilters(q=q), sort=sort)

    def before(q: str, sort: str) -> Any:
        qs = after(q, sort)
        return QuerySet(model=Ticket, query=qs.query.chain(), using=qs.db).prefetch_related("tags")

    results: list[dict[str, Any]] = []
    for q in QUERIES:
        for sort in SORTS:
            timings: dict[str, list[float]] = {"before": [], "after": []}
            shapes = {"before": before, "after": after}
            pages: dict[str, list[int]] = {}
            for i in range(n + 2):
                for name, shape in shapes.items():
                    started = time.perf_counter()
                    qs = shape(q, sort)
                    count = qs.count()
                    rows = list(qs[: dataset.PAGE_SIZE])
                    elapsed = time.perf_counter() - started
                    pages[name] = [t.pk for t in rows]
                    if i >= 2:  # two warm-up rounds
                        timings[name].append(elapsed)
            results.append(
                {
                    "q": q,
                    "sort": sort,
                    "matching": count,
                    "same_page": pages["before"] == pages["after"],
                    "before": latency_summary(timings["before"]),
                    "after": latency_summary(timings["after"]),
                }
            )
    return {
        "tickets": tickets,
        "load_s": round(load_s, 1),
        "index_s": round(index_s, 1),
        "database_version": connection.cursor().connection.info.server_version,
        "results": results,
    }


def lines(report: dict[str, Any]) -> list[str]:
    if "skipped" in report:
        return [f"search page benchmark skipped: {report['skipped']}"]
    if "fatal" in report:
        return [f"search page benchmark FAILED:\n{report['fatal']}"]
    out = [
        "",
        f"== search page on PostgreSQL ({report['tickets']:,} tickets; count + 50 rows; p50 / p99 ms) ==",
        f"  {'q':<8} {'sort':<12} {'matching':>9}  {'before (joins first)':>22}  {'after (ids first)':>20}  same page",
    ]
    for r in report["results"]:
        b, a = r["before"], r["after"]
        out.append(
            f"  {r['q']:<8} {r['sort']:<12} {r['matching']:>9,}  {b['p50_ms']:>10} / {b['p99_ms']:<9}"
            f"  {a['p50_ms']:>8} / {a['p99_ms']:<9}  {r['same_page']}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search_page", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 tickets instead of 100,000")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=["quick", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.size, args.out)
    else:
        print("\n".join(lines(run(args.quick))))


if __name__ == "__main__":
    main()
