"""Foundation benchmark: ticket creation and the ticket list, PivotDesk against django-helpdesk, per database.

Each (database × system) pair runs in its own process on a fresh database: Django settings are process-global.
PivotDesk runs in the project's virtualenv (bench/pivotdesk_worker.py), django-helpdesk in its own
(bench/peers/helpdesk_harness.py). Both load the same synthetic tickets (bench/dataset.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from bench import dataset
from bench.peers import helpdesk_venv as helpdesk

NAME = "foundation"
REPO = Path(__file__).resolve().parents[1]
BENCH_DB = "pivotdesk_bench"

SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "tickets": 100_000,
        "small": 1_000,
        "create_n": 100,
        "create_runs": 5,
        "list_n": 50,
        "list_warmup": 5,
        "list_budget_s": 20.0,
        "api_list_n": 3,
    },
    "quick": {
        "tickets": 5_000,
        "small": 1_000,
        "create_n": 40,
        "create_runs": 3,
        "list_n": 20,
        "list_warmup": 3,
        "list_budget_s": 5.0,
        "api_list_n": 2,
    },
}


def postgres_base_url() -> str | None:
    return os.environ.get("PIVOTDESK_BENCH_DATABASE_URL") or os.environ.get("PIVOTDESK_TEST_DATABASE_URL") or None


def _with_db(url: str, name: str) -> str:
    u = urlparse(url)
    return urlunparse(u._replace(path=f"/{name}"))


def _admin(url: str, sql: str) -> None:
    """Run one statement on the server's maintenance database (CREATE/DROP DATABASE need autocommit)."""
    import psycopg

    with psycopg.connect(_with_db(url, "postgres").replace("postgres://", "postgresql://", 1), autocommit=True) as c:
        c.execute(sql)


def postgres_version(url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(_with_db(url, "postgres").replace("postgres://", "postgresql://", 1)) as c:
            row = c.execute("show server_version").fetchone()
            return f"PostgreSQL {row[0]}" if row else None
    except Exception as exc:
        return f"unreachable: {exc}"


def _fresh_postgres(url: str) -> str:
    """A fresh dedicated database (never the test database the URL may name): dropped and created again."""
    _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{BENCH_DB}"')
    return _with_db(url, BENCH_DB)


#: The code before issue 10 (events queued on the broker at commit, 21.8 statements per ticket): measured in the
#: same run from a git worktree of that commit, so "vs today's code path" is side by side, not from memory.
BASELINE_REV = os.environ.get("PIVOTDESK_BENCH_BASELINE", "4a08133")


def baseline_checkout() -> tuple[Path | None, str | None]:
    """A worktree of BASELINE_REV under bench/.baseline (gitignored), sharing this venv; (None, why) if impossible."""
    target = REPO / "bench" / ".baseline" / BASELINE_REV
    try:
        if not (target / "manage.py").exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["git", "worktree", "add", "--detach", "--force", str(target), BASELINE_REV],
                cwd=REPO, check=True, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
        venv = target / ".venv"
        if not venv.exists():
            venv.symlink_to(REPO / ".venv")
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"no worktree of {BASELINE_REV}: {exc}"
    return target, None


def _run_pivotdesk(config: dict[str, Any], out: Path, timeout_s: float, repo: Path = REPO) -> dict[str, Any]:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.pivotdesk_worker", json.dumps(config), str(out)],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"system": "pivotdesk", "database": config["database"], "fatal": f"timed out after {timeout_s:.0f} s"}
    if not out.exists():
        return {
            "system": "pivotdesk",
            "database": config["database"],
            "fatal": f"worker exited {proc.returncode} without a result: {proc.stderr.strip()[-1500:]}",
        }
    return json.loads(out.read_text())


def _systems(with_peer: bool, skipped: list[str]) -> tuple[list[str], Path | None]:
    """PivotDesk, django-helpdesk when installed, and today's code when its worktree can be made."""
    systems = ["pivotdesk"] + (["django-helpdesk"] if with_peer else [])
    baseline, problem = baseline_checkout()
    if baseline is not None:
        systems.append("pivotdesk-baseline")
    elif f"today's code path: {problem}" not in skipped:
        skipped.append(f"today's code path: {problem}")
    return systems, baseline


def _run_system(
    system: str, config: dict[str, Any], out: Path, timeout_s: float, baseline: Path | None
) -> dict[str, Any]:
    if system == "pivotdesk":
        return _run_pivotdesk(config, out, timeout_s)
    if system == "pivotdesk-baseline" and baseline is not None:
        result = _run_pivotdesk(config, out, timeout_s, repo=baseline)
        result["system"] = "pivotdesk-baseline"
        return result
    return helpdesk.run(config, out, timeout_s)


def _create_cost(repo: Path) -> dict[str, Any]:
    """bench/create_cost.py (this checkout's copy) run against `repo`, in a fresh process."""
    script = Path(__file__).resolve().parent / "create_cost.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(repo)], cwd=repo, capture_output=True, text=True, timeout=900, check=False
    )
    if proc.returncode != 0:
        return {"fatal": (proc.stderr or proc.stdout)[-800:]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run(*, size: str, with_peer: bool, databases: list[str], log: Any = print) -> dict[str, Any]:
    """Run every (database × system) pair; returns the raw results and the peer's status."""
    params = SIZES[size]
    pg_url = postgres_base_url()
    peer_versions, peer_problem = (None, "skipped (--no-peer)")
    if with_peer:
        peer_versions, peer_problem = helpdesk.ensure()
    results: list[dict[str, Any]] = []
    skipped: list[str] = []
    timeout_s = 3600.0
    with tempfile.TemporaryDirectory(prefix="pivotdesk-bench-") as tmp:
        for database in databases:
            if database == "postgresql" and not pg_url:
                skipped.append(
                    "PostgreSQL: set PIVOTDESK_BENCH_DATABASE_URL (or PIVOTDESK_TEST_DATABASE_URL) to run it"
                )
                continue
            systems, baseline = _systems(with_peer and peer_problem is None, skipped)
            for system in systems:
                var_dir = Path(tmp) / f"{database}-{system}"
                if database == "sqlite":
                    url = f"sqlite:///{var_dir / 'bench.sqlite3'}"
                else:
                    assert pg_url is not None
                    try:
                        url = _fresh_postgres(pg_url)
                    except Exception as exc:
                        skipped.append(f"PostgreSQL: could not create database {BENCH_DB}: {exc}")
                        break
                config = {**params, "database": database, "database_url": url, "var_dir": str(var_dir)}
                out = Path(tmp) / f"{database}-{system}.json"
                log(f"  {system} on {database}: {params['tickets']:,} tickets …")
                started = time.perf_counter()
                result = _run_system(system, config, out, timeout_s, baseline)
                result["wall_s"] = round(time.perf_counter() - started, 1)
                log(f"    done in {result['wall_s']:.0f} s" + (" (FAILED)" if "fatal" in result else ""))
                results.append(result)
                if database == "postgresql":
                    try:
                        _admin(pg_url or "", f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
                    except Exception as exc:
                        log(f"    could not drop {BENCH_DB}: {exc}")
    costs = {"pivotdesk": _create_cost(REPO)}
    baseline, _ = baseline_checkout()
    if baseline is not None:
        costs["pivotdesk-baseline"] = _create_cost(baseline)
    return {
        "create_costs": costs,
        "size": size,
        "params": params,
        "peer": {"versions": peer_versions, "problem": peer_problem},
        "skipped": skipped,
        "results": results,
        "postgres_version": postgres_version(pg_url) if pg_url else None,
    }


# --- the report ------------------------------------------------------------------------------------------------


def _find(results: list[dict[str, Any]], system: str, database: str) -> dict[str, Any] | None:
    for r in results:
        if r.get("system") == system and r.get("database") == database:
            return r
    return None


def _ratio(pd: float | None, hd: float | None, higher_is_better: bool) -> str:
    if not pd or not hd:
        return "n/a"
    ratio = pd / hd
    faster = ratio if higher_is_better else 1 / ratio
    word = "faster" if faster >= 1 else "slower"
    shown = faster if faster >= 1 else 1 / faster
    return f"{ratio:.2f} (PD {shown:.1f}× {word})"


def rows(report: dict[str, Any]) -> list[list[str]]:
    """The comparison table: one row per database × operation (the creation rows also against today's code)."""
    out: list[list[str]] = []
    databases = sorted({r.get("database") for r in report["results"]}, key=lambda d: d != "sqlite")
    for db in databases:
        pd = _find(report["results"], "pivotdesk", db) or {}
        hd = _find(report["results"], "django-helpdesk", db) or {}
        base = _find(report["results"], "pivotdesk-baseline", db) or {}
        for key, label in (
            ("create_service", "create: service layer (tickets/s, median)"),
            ("create_api", "create: API in-process (tickets/s, median)"),
            ("create_service_no_dispatch", "create: service, events not queued (tickets/s)"),
        ):
            a = (pd.get(key) or {}).get("median")
            b = (hd.get(key) or {}).get("median") if key != "create_service_no_dispatch" else None
            if a is None and b is None:
                continue
            c = (base.get(key) or {}).get("median")
            out.append(
                [
                    db,
                    label,
                    f"{a:.1f}" if a else "—",
                    f"{b:.1f}" if b else "—",
                    _ratio(a, b, higher_is_better=True) if b else "",
                    f"{c:.1f} (now {a / c:.1f}×)" if a and c else "—",
                ]
            )
        for s in dataset.LIST_SCENARIOS:
            a_row = (pd.get("list") or {}).get(s.name) or {}
            b_row = (hd.get("list") or {}).get(s.name) or {}
            for pct in ("p50", "p99"):
                a = a_row.get(f"{pct}_ms")
                b = b_row.get(f"{pct}_ms")
                b_text = f"{b:.1f} (n={b_row['n']})" if b else ("no tags" if b_row.get("skipped") else "—")
                out.append(
                    [
                        db,
                        f"list {s.name} {pct} ms",
                        f"{a:.1f} (n={a_row['n']})" if a else "—",
                        b_text,
                        _ratio(a, b, higher_is_better=False) if b else "",
                    ]
                )
        for name, row in (hd.get("api_list") or {}).items():
            a_row = (pd.get("list") or {}).get(name) or {}
            out.append(
                [
                    db,
                    f"list {name} p50 ms vs helpdesk REST API",
                    f"{a_row['p50_ms']:.1f}" if a_row.get("p50_ms") else "—",
                    f"{row['p50_ms']:.1f} (n={row['n']})",
                    _ratio(a_row.get("p50_ms"), row["p50_ms"], higher_is_better=False),
                ]
            )
    return out


def query_count_lines(report: dict[str, Any]) -> list[str]:
    """Queries per list page at the small and the full size; equal wherever the first page is full at both sizes
    (when fewer tickets match than fit on a page, PivotDesk's paginator skips the count query)."""
    lines = []
    for r in report["results"]:
        counts = r.get("queries_per_page")
        if not counts:
            continue
        sizes = sorted(counts, key=int)
        lo, hi = counts[sizes[0]], counts[sizes[-1]]
        parts = []
        constant = True
        for name in hi:
            a, b = lo.get(name) or {}, hi[name]
            full = a.get("matching", 0) >= dataset.PAGE_SIZE
            if full and a.get("queries") != b["queries"]:
                constant = False
            note = "" if full else f" (only {a.get('matching')} match at {int(sizes[0]):,}: a part page)"
            parts.append(f"{name}: {a.get('queries')} → {b['queries']}{note}")
        verdict = "equal for every full page" if constant else "NOT constant"
        lines.append(
            f"{r['system']} on {r['database']}, queries per list page at {int(sizes[0]):,} → {int(sizes[-1]):,} "
            f"tickets ({verdict}): " + "; ".join(parts)
        )
    return lines


def create_cost_lines(report: dict[str, Any]) -> list[str]:
    """Statements, commits and broker messages per created ticket (load-independent), now and in today's code."""
    lines = []
    for system, cost in (report.get("create_costs") or {}).items():
        if "fatal" in cost:
            lines.append(f"{system}: creation cost not measured: {cost['fatal'][-200:]}")
            continue
        lines.append(
            f"{system}, per ticket created on SQLite + the embedded broker (bench/create_cost.py, n={cost['n']}, "
            f"returning customers): {cost['statements']:.1f} SQL statements, {cost['commits']:.2f} database commits, "
            f"{cost['broker_messages']:.2f} broker messages (each a commit on the broker's file); "
            f"{cost['tickets_per_s']} tickets/s in that process"
        )
    return lines
