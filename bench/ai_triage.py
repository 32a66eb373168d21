"""What AI triage costs per ticket: SQL statements and commits per step, CPU-seconds, before and after (issue 13 §3).

`python -m bench.ai_triage [--tickets N] [--runs R] [--no-baseline]` measures, in one run, this checkout and the
BASELINE commit (extracted read-only with `git archive BASELINE | tar -x`, never a worktree or a checkout), each in
fresh processes on its own temporary var dir and SQLite database, with the same Python:

1. **setup** (one process per checkout): migrate; a workspace (zh + en) with three categories, three teams, an
   `order_number` custom field; 72 solved tickets made from the synthetic bilingual set
   (pivotdesk/ai/tests/synthetic.py, read from *this* checkout so both sides get the same data), each labelled
   with a category, team, priority and type; the checkout's own training code trains the four classification
   models (category, priority, team, ticket_type). Sentiment has no trained model (the default steps decide).
2. **measure** (a fresh process per checkout, on that database): the first triage in the fresh process (cold: models,
   jieba and the language detector load lazily; with `pivotdesk.ai.services.warmup` present, `warm_up()` runs first
   and its own CPU is printed apart), then N new tickets (created untriaged: no relay runs in the bench) triaged
   with `pivotdesk.ai.pipeline.triage_ticket`, once counting every SQL statement (BEGIN, SAVEPOINT and RELEASE
   included) and every commit — explicit ones and the implicit commit of a write made outside a transaction —
   attributed to the pipeline step on the stack (statements outside any step are "load" before the steps and
   "write" in the pipeline's write phase), and R more runs of N tickets timed with `time.process_time` without
   instrumentation: CPU-seconds per ticket is the median over the runs of (run CPU / N).

Counts do not depend on the machine's load; CPU does (the machine and its load average are printed).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE = os.environ.get("PIVOTDESK_BENCH_TRIAGE_BASELINE", "fcb771c")
STEPS = ("multimodal", "language", "entities", "enrichment", "classify", "sentiment", "summary")
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
CLASSES = {  # synthetic label → (category, team, priority, ticket type)
    "billing": ("Billing", "Finance", "high", "problem"),
    "shipping": ("Shipping", "Logistics", "normal", "incident"),
    "login": ("Login", "Accounts", "urgent", "question"),
}
ORDER = "订单号 PD2026011512345"
TIMEOUT_S = 1800


# --- inside a worker process (this checkout or the baseline's) -----------------------------------------------------
def _synthetic() -> Any:
    """This checkout's synthetic data module, loaded by path (the baseline gets the same tickets)."""
    path = ROOT / "pivotdesk" / "ai" / "tests" / "synthetic.py"
    spec = importlib.util.spec_from_file_location("bench_triage_synthetic", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _django(repo: Path, var_dir: Path) -> None:
    sys.path.insert(0, str(repo))
    os.chdir(repo)
    from bench.process import configure_django

    configure_django(var_dir, PIVOTDESK_AI_WARMUP="off")
    import django

    django.setup()


def setup(repo: Path, var_dir: Path) -> dict[str, Any]:
    """Migrate, create the workspace and its solved tickets, train the classification models."""
    _django(repo, var_dir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.accounts.services import team_create, workspace_create
    from pivotdesk.ai.services import training
    from pivotdesk.customers.services import contact_resolve
    from pivotdesk.tickets import services as ticket_services

    system = Actor.system("bench")
    workspace = workspace_create(actor=system, name="Triage", slug="triage")
    ticket_services.custom_field_create(
        actor=system, workspace=workspace, key="order_number", label="Order number", field_type="text"
    )
    categories = {
        label: ticket_services.category_create(actor=system, workspace=workspace, name=names[0])
        for label, names in CLASSES.items()
    }
    teams = {label: team_create(actor=system, workspace=workspace, name=names[1]) for label, names in CLASSES.items()}
    texts, labels = _synthetic().dataset(n_per_class=24, seed=0)
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        requester = contact_resolve(workspace=workspace, actor=system, kind="email", value=f"c{i % 30}@x.example")
        ticket = ticket_services.ticket_create(
            workspace=workspace,
            actor=system,
            requester=requester,
            subject=text[:40],
            body=text,
            category=categories[label],
            team=teams[label],
            priority=CLASSES[label][2],
            ticket_type=CLASSES[label][3],
        )
        ticket_services.ticket_set_status(ticket=ticket, status="solved", actor=system)
    started = time.perf_counter()
    trained = training.workspace_train(actor=system, workspace=workspace, fields=training.CLASSIFY_FIELDS)
    return {
        "workspace_id": workspace.pk,
        "train_s": round(time.perf_counter() - started, 1),
        "models": {r.field: bool(r.activated) for r in trained},
    }


class Counts:
    """SQL statements and commits, per step, while `active`."""

    def __init__(self, pipeline_file: str) -> None:
        self.pipeline_file = pipeline_file
        self.statements: Counter[str] = Counter()
        self.commits: Counter[str] = Counter()
        self.active = False

    def phase(self) -> str:
        frame: FrameType | None = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self.pipeline_file:
                if frame.f_code.co_name.lstrip("_").startswith("write"):
                    return "write"
                step = frame.f_locals.get("step")
                if isinstance(step, str) and step in STEPS:
                    return step
            frame = frame.f_back
        return "load"

    def statement(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.active:
            phase = self.phase()
            self.statements[phase] += 1
            connection = context["connection"]
            if not connection.in_atomic_block and sql.lstrip().upper().startswith(WRITES):
                self.commits[phase] += 1  # autocommit: the statement is its own transaction
        return execute(sql, params, many, context)


def _new_tickets(workspace: Any, n: int, offset: int) -> list[int]:
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.customers.services import contact_resolve
    from pivotdesk.tickets import services as ticket_services

    system = Actor.system("bench")
    texts, _labels = _synthetic().dataset(n_per_class=max(1, n), seed=7 + offset)
    ids = []
    for i in range(n):
        text = texts[(i * 7 + offset) % len(texts)]
        body = f"{text}。{ORDER}" if i % 2 else text  # half mention an order number (entities fill the field)
        requester = contact_resolve(workspace=workspace, actor=system, kind="email", value=f"n{offset + i}@y.example")
        ticket = ticket_services.ticket_create(
            workspace=workspace, actor=system, requester=requester, subject=text[:40], body=body, channel="email"
        )
        ids.append(ticket.pk)
    return ids


def measure(repo: Path, var_dir: Path, *, n: int, runs: int) -> dict[str, Any]:
    """Cold first triage, statements and commits per step, CPU per ticket (see the module docstring)."""
    _django(repo, var_dir)
    from django.db import connection

    from pivotdesk.accounts.models import Workspace
    from pivotdesk.ai import pipeline
    from pivotdesk.ai.models import StepStatus, TriageRun

    workspace = Workspace.objects.get(slug="triage")
    report: dict[str, Any] = {"repo": str(repo)}
    warmup_cpu = None
    warmup: ModuleType | None
    try:
        warmup = importlib.import_module("pivotdesk.ai.services.warmup")  # this checkout: loads at worker start
    except ImportError:
        warmup = None
    cold = _new_tickets(workspace, 1, 10_000)
    if warmup is not None:
        started = time.process_time()
        warmup.warm_up()
        warmup_cpu = time.process_time() - started
    started = time.process_time()
    pipeline.triage_ticket(ticket_id=cold[0])
    report["first_ticket_cpu_s"] = round(time.process_time() - started, 3)
    report["warmup_cpu_s"] = round(warmup_cpu, 3) if warmup_cpu is not None else None
    # counted pass
    counts = Counts(pipeline.__file__)
    real_commit = connection.commit

    def commit() -> None:
        if counts.active:
            counts.commits[counts.phase()] += 1
        real_commit()

    ids = _new_tickets(workspace, n, 0)
    connection.commit = commit  # type: ignore[method-assign]
    outcomes: Counter[str] = Counter()
    with connection.execute_wrapper(counts.statement):
        for ticket_id in ids:
            counts.active = True
            result = pipeline.triage_ticket(ticket_id=ticket_id)
            counts.active = False
            for step, outcome in (result or {}).items():
                outcomes[f"{step}:{outcome}"] += 1
    connection.commit = real_commit  # type: ignore[method-assign]
    report["statements"] = {k: v / n for k, v in counts.statements.items()}
    report["commits"] = {k: v / n for k, v in counts.commits.items()}
    report["outcomes"] = dict(sorted(outcomes.items()))
    report["applied"] = {
        "runs": TriageRun.objects.filter(ticket_id__in=ids).count() / n,
        "failed_runs": TriageRun.objects.filter(ticket_id__in=ids, status=StepStatus.FAILED).count(),
    }
    # timed passes (no instrumentation)
    per_ticket = []
    for r in range(runs):
        batch = _new_tickets(workspace, n, 1000 * (r + 1))
        started = time.process_time()
        for ticket_id in batch:
            pipeline.triage_ticket(ticket_id=ticket_id)
        per_ticket.append((time.process_time() - started) / n)
    report["cpu_per_ticket_s"] = statistics.median(per_ticket)
    report["cpu_runs_s"] = [round(x, 4) for x in per_ticket]
    report["n"] = n
    return report


# --- the orchestrator ----------------------------------------------------------------------------------------------
def _worker(mode: str, repo: Path, var_dir: Path, n: int, runs: int) -> dict[str, Any]:
    out = var_dir / f"{mode}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), f"--{mode}", str(repo), "--var", str(var_dir)]
    cmd += ["--tickets", str(n), "--runs", str(runs), "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    proc = subprocess.run(cmd, cwd=repo, env=env, check=False, capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0 or not out.exists():
        return {"fatal": (proc.stderr or proc.stdout)[-3000:]}
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _checkout(repo: Path, n: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pd-triage-var-") as tmp:
        var_dir = Path(tmp)
        prepared = _worker("setup", repo, var_dir, n, runs)
        if "fatal" in prepared:
            return {"setup": prepared, "fatal": prepared["fatal"]}
        measured = _worker("measure", repo, var_dir, n, runs)
        return {"setup": prepared, **measured}


def run(*, tickets: int = 20, runs: int = 5, baseline: bool = True) -> dict[str, Any]:
    """Measure this checkout and (unless `baseline` is False) the BASELINE commit; the machine too."""
    sys.path.insert(0, str(ROOT))
    from bench import machine

    report: dict[str, Any] = {"machine": machine.describe(None), "baseline_rev": BASELINE, "tickets": tickets}
    report["current"] = _checkout(ROOT, tickets, runs)
    if baseline:
        with tempfile.TemporaryDirectory(prefix="pd-triage-baseline-") as tmp:
            archive = subprocess.run(
                ["git", "archive", BASELINE], cwd=ROOT, check=True, capture_output=True, timeout=300
            ).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True, timeout=300)
            report["baseline"] = _checkout(Path(tmp), tickets, runs)
    return report


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}" if value == int(value) else f"{value:.2f}"


def _table(ok: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Statements and commits per step (and load / write phases) and per ticket, one column pair per side."""
    out = [f"{'step':<12}" + "".join(f"{name + ' stmts':>14}{name + ' commits':>16}" for name, _ in ok)]
    for phase in ["load", *STEPS, "write"]:
        if not any(side["statements"].get(phase) or side["commits"].get(phase) for _, side in ok):
            continue
        row = f"{phase:<12}"
        for _, side in ok:
            row += f"{_fmt(side['statements'].get(phase, 0)):>14}{_fmt(side['commits'].get(phase, 0)):>16}"
        out.append(row)
    total = f"{'per ticket':<12}"
    for _, side in ok:
        total += f"{_fmt(sum(side['statements'].values())):>14}{_fmt(sum(side['commits'].values())):>16}"
    return [*out, total]


def lines(report: dict[str, Any]) -> list[str]:
    """The report as printable lines: per step statements / commits, per ticket totals, CPU, before/after."""
    m = report["machine"]
    out = [
        f"machine: {m['cpu']}, {m['cores']} cores, load {m['load_average']}, {m['memory_gib']} GiB, "
        f"Python {m['python']}, SQLite {m['sqlite']}",
        f"AI triage cost per ticket ({report['tickets']} new tickets; trained category/priority/team/type models; "
        f"default steps); before = {report['baseline_rev']}",
    ]
    sides = [("after", report["current"])]
    if "baseline" in report:
        sides.insert(0, ("before", report["baseline"]))
    for name, side in sides:
        if "fatal" in side:
            out.append(f"{name}: FAILED\n{side['fatal']}")
    ok = [(name, side) for name, side in sides if "fatal" not in side]
    if not ok:
        return out
    out += _table(ok)
    for name, side in ok:
        warm = side.get("warmup_cpu_s")
        out.append(
            f"{name}: CPU {side['cpu_per_ticket_s'] * 1000:.1f} ms per ticket (median of runs {side['cpu_runs_s']}), "
            f"first triage in a fresh process {side['first_ticket_cpu_s']:.2f} CPU-s"
            + (f" after warm_up() {warm:.2f} CPU-s at worker start" if warm is not None else "")
            + f"; models trained in {side['setup'].get('train_s')} s: {side['setup'].get('models')}"
        )
        out.append(f"{name}: outcomes {side['outcomes']}")
    if len(ok) == 2:
        before, after = ok[0][1], ok[1][1]
        out.append(
            f"after / before: statements {sum(after['statements'].values()) / sum(before['statements'].values()):.2f}, "
            f"commits {sum(after['commits'].values()) / max(sum(before['commits'].values()), 1e-9):.2f}, "
            f"CPU {after['cpu_per_ticket_s'] / before['cpu_per_ticket_s']:.2f} "
            f"(target: ≤ 15 statements, ≤ 2 commits, CPU ≤ 0.40)"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--setup", type=Path)
    parser.add_argument("--measure", type=Path)
    parser.add_argument("--var", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--json", type=Path, help="also write the raw report here")
    args = parser.parse_args()
    if args.setup or args.measure:
        repo = (args.setup or args.measure).resolve()
        result = setup(repo, args.var) if args.setup else measure(repo, args.var, n=args.tickets, runs=args.runs)
        args.out.write_text(json.dumps(result))
        return
    report = run(tickets=args.tickets, runs=args.runs, baseline=not args.no_baseline)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print("\n".join(lines(report)))


if __name__ == "__main__":
    main()
