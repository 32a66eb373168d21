"""`make bench` / `python -m bench`: run every benchmark module, print the machine and a results table, and write
bench/results/<module>-<timestamp>.json.

Options: --quick (5,000 tickets instead of 100,000, for development), --no-peer (skip django-helpdesk),
--sqlite-only, --only foundation|channels|ai|sla|routing|notifications|workforce|oncall|automation|knowledge|broker|search_page|desk_pages. PostgreSQL runs when PIVOTDESK_BENCH_DATABASE_URL (or PIVOTDESK_TEST_DATABASE_URL) is set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from bench import ai, channels, foundation, machine, sla_domain, sla_scan

RESULTS = Path(__file__).resolve().parent / "results"


def _table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), line, *(fmt.format(*row) for row in body)])


def _print_foundation(report: dict[str, Any]) -> None:
    print()
    print(f"== foundation ({report['size']}: {report['params']['tickets']:,} tickets) ==")
    peer = report["peer"]
    if peer["problem"]:
        print(f"django-helpdesk not measured: {peer['problem']}")
    else:
        print(f"peer: {peer['versions'].replace(' ', ' on Django ', 1)} (own virtualenv bench/.peers/helpdesk-venv)")
    for reason in report["skipped"]:
        print(f"skipped: {reason}")
    for r in report["results"]:
        if "fatal" in r:
            print(f"\n{r['system']} on {r['database']} FAILED:\n{r['fatal']}")
            continue
        load = r.get("bulk_load", {})
        print(
            f"{r['system']} on {r['database']} ({r.get('database_version', r.get('framework', ''))}): "
            f"bulk-loaded {load.get('tickets', 0):,} tickets in {load.get('seconds')} s by bulk insert "
            f"(not through the service layer), whole run {r.get('wall_s')} s"
        )
        for note in r.get("notes", []):
            print(f"  note: {note}")
        for error in r.get("errors", []):
            print(f"  NOT MEASURED: {error}")
    print()
    header = [
        "db",
        "operation",
        "PivotDesk",
        "django-helpdesk",
        "ratio PD/HD",
        f"today's code ({foundation.BASELINE_REV})",
    ]
    print(_table(header, [row + [""] * (len(header) - len(row)) for row in foundation.rows(report)]))
    for line in foundation.create_cost_lines(report):
        print(line)
    print()
    for line in foundation.query_count_lines(report):
        print(line)


def _run_workforce(args: argparse.Namespace, reports: dict[str, dict[str, Any]]) -> None:
    """The issue-14, 15 and 16 benchmarks: forecast WAPE, the 200-agent roster, Erlang A vs simulation; paging
    latency and escalation timing; the trigger cycle per event and creation with triggers."""
    if args.only in (None, "workforce"):
        from bench import workforce

        print("\nworkforce:", flush=True)
        reports["workforce"] = workforce.run(args.quick)
    if args.only in (None, "oncall"):
        from bench import oncall

        print("\non-call:", flush=True)
        reports["oncall"] = oncall.run(size="quick" if args.quick else "full")
        print("\n".join(oncall.lines(reports["oncall"])))
    if args.only in (None, "automation"):
        from bench import automation

        print("\nautomation:", flush=True)
        reports["automation"] = automation.run(size="quick" if args.quick else "full")
        print("\n".join(automation.lines(reports["automation"])))
    if args.only in (None, "knowledge"):
        from bench import knowledge

        print("\nknowledge:", flush=True)
        reports["knowledge"] = knowledge.run(size="quick" if args.quick else "full")
        print("\n".join(knowledge.lines(reports["knowledge"])))


def _run_scale_out(args: argparse.Namespace, reports: dict[str, dict[str, Any]]) -> None:
    """The issue-10 benchmarks: the embedded broker, and intake with `make run`'s own processes."""
    if args.only in (None, "broker"):
        from bench import broker

        print("\nbroker:", flush=True)
        reports["broker"] = broker.run(args.quick)
        print("\n".join(broker.lines(reports["broker"])))
    if args.only in (None, "intake"):
        from bench import intake

        print("\nintake:", flush=True)
        reports["intake"] = intake.run(quick=args.quick)
        intake.print_report(reports["intake"])
    if args.only in (None, "load"):
        from bench import load

        print("\nload:", flush=True)
        minutes = 2.0 if args.quick else 10.0
        reports["load"] = {"steady": load.run(minutes=minutes, kill=False)}
        print("\n".join(load.lines(reports["load"]["steady"])))
        if "skipped" not in reports["load"]["steady"]:
            reports["load"]["killed"] = load.run(minutes=minutes, kill=True)
            print("\n".join(load.lines(reports["load"]["killed"])))


def _run_desk_pages(args: argparse.Namespace, reports: dict[str, dict[str, Any]]) -> None:
    if args.only in (None, "desk_pages"):
        from bench import desk_pages

        print("\nthe agent's pages and live updates:", flush=True)
        reports["desk_pages"] = desk_pages.run(args.quick)
        print("\n".join(desk_pages.lines(reports["desk_pages"])))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 tickets and fewer requests (development)")
    parser.add_argument("--no-peer", action="store_true", help="skip django-helpdesk")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL even when configured")
    parser.add_argument(
        "--only",
        choices=[
            "foundation",
            "channels",
            "ai",
            "sla",
            "routing",
            "notifications",
            "workforce",
            "oncall",
            "automation",
            "knowledge",
            "broker",
            "intake",
            "load",
            "search_page",
            "desk_pages",
        ],
        help="run one benchmark module",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    size = "quick" if args.quick else "full"
    databases = ["sqlite"] if args.sqlite_only else ["sqlite", "postgresql"]
    pg_url = foundation.postgres_base_url()
    pg_version = foundation.postgres_version(pg_url) if pg_url and not args.sqlite_only else None
    info = machine.describe(pg_version)
    when = dt.datetime.now(dt.UTC).astimezone()
    print(f"PivotDesk benchmarks, {when:%Y-%m-%d %H:%M %Z}")
    for key, value in info.items():
        print(f"  {key}: {value}")
    reports: dict[str, dict[str, Any]] = {}
    if args.only in (None, "foundation"):
        print("foundation:", flush=True)
        reports["foundation"] = foundation.run(size=size, with_peer=not args.no_peer, databases=databases)
        _print_foundation(reports["foundation"])
    if args.only in (None, "channels"):
        print("\nchannels:", flush=True)
        reports["channels"] = channels.run(size=size)
        _print_channels(reports["channels"])
    if args.only in (None, "ai"):
        print("\nai:", flush=True)
        reports["ai"] = ai.run()
        _print_ai(reports["ai"])
    if args.only in (None, "sla"):
        print("\nsla:", flush=True)
        reports["sla"] = {"domain": sla_domain.run_domain(args.quick)}  # prints its own figures
        reports["sla"]["scan"] = sla_scan.run_scan(args.quick) if not args.sqlite_only else {"skipped": "--sqlite-only"}
        sla_scan.print_report(reports["sla"]["scan"])
    if args.only in (None, "routing"):
        print("\nrouting:", flush=True)
        reports["routing"] = _run_routing(args.quick)
    if args.only in (None, "notifications"):
        from bench import notifications

        print("\nnotifications:", flush=True)
        reports["notifications"] = notifications.run(size=size)
        print("\n".join(notifications.lines(reports["notifications"])))
    _run_workforce(args, reports)
    _run_scale_out(args, reports)
    if args.only in (None, "search_page") and not args.sqlite_only:
        from bench import search_page

        print("\nsearch page (PostgreSQL):", flush=True)
        reports["search_page"] = search_page.run(args.quick)
        print("\n".join(search_page.lines(reports["search_page"])))
    _run_desk_pages(args, reports)
    elapsed = time.perf_counter() - started
    print(f"\ntotal time {elapsed / 60:.1f} min")

    RESULTS.mkdir(exist_ok=True)
    for name, report in reports.items():
        out = RESULTS / f"{name}-{size}-{when:%Y%m%dT%H%M%S}.json"
        out.write_text(
            json.dumps({"when": when.isoformat(), "machine": info, "elapsed_s": round(elapsed, 1), **report}, indent=2)
        )
        print(f"results written to {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


def _run_routing(quick: bool) -> dict[str, Any]:
    """bench/routing_*: each module's run function when the module exists (decision latency, batch, simulated day)."""
    import importlib
    import importlib.util

    report: dict[str, Any] = {}
    for name, function in [("latency", "run_latency"), ("batch", "run_batch"), ("sim", "run_sim")]:
        if importlib.util.find_spec(f"bench.routing_{name}") is None:
            continue
        module = importlib.import_module(f"bench.routing_{name}")
        report[name] = getattr(module, function)(quick)
        if hasattr(module, "lines"):
            print("\n".join(module.lines(report[name])))
        elif hasattr(module, "rows"):
            header = [
                "db",
                "decision p50 / p99 ms",
                "decision CPU p50 / p99 ms",
                "route_ticket p50 / p99 ms",
                "route mean ms",
                "decision p99 ≤ 5 ms",
                "stages (mean ms)",
            ]
            print(_table(header, module.rows(report[name])))
    return report


def _print_channels(report: dict[str, Any]) -> None:
    if "fatal" in report:
        print(f"channels benchmark FAILED:\n{report['fatal']}")
        return
    print(f"\n== channels ({report['size']}: {report['n']:,} messages, SQLite, events on the embedded broker) ==")
    print(_table(["ingestion", "messages", "per second", "ratio to bare creation"], channels.rows(report)))


def _print_ai(report: dict[str, Any]) -> None:
    if "skipped" in report:
        print(f"ai benchmark skipped: {report['skipped']}")
        return
    for row in report["results"]:
        row.pop("_model", None)
    print(f"\n== ai (classification + sentiment, CPU only, offline; {report['seconds']} s) ==")
    print(_table(ai.HEADER, ai.rows(report)))
    for line in ai.extra_lines(report):
        print(line)


if __name__ == "__main__":
    main()
