"""What every benchmark worker process shares: Django settings from the environment (they are process-global, so
each measurement runs in a fresh process), and running a benchmark module's `--worker` in such a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def configure_django(
    var_dir: Path | str,
    *,
    database_url: str | None = None,
    log_level: str = "ERROR",
    broker_url: str | None = None,
    **extra: str,
) -> None:
    """Point this process's settings at `var_dir` (SQLite there unless `database_url`), with the embedded broker
    (or `broker_url`) and background tasks queued, not run inline; `extra` sets more variables."""
    os.environ["PIVOTDESK_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{Path(var_dir) / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "false"
    os.environ["LOG_LEVEL"] = log_level
    os.environ.update(extra)
    if broker_url is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = broker_url
    os.environ.pop("CELERY_TASK_ALWAYS_EAGER", None)


def run_worker_module(module: str, *, size: str, timeout_s: float) -> dict[str, Any]:
    """`python -m <module> --worker --size <size> --out <file>` in a fresh process; its JSON report, or
    {"size", "fatal"} with the end of its output when it failed."""
    with tempfile.TemporaryDirectory(prefix=f"pd-{module.replace('.', '-')}-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", module, "--worker", "--size", size, "--out", str(out)]
        proc = subprocess.run(cmd, cwd=ROOT, check=False, capture_output=True, text=True, timeout=timeout_s)
        if proc.returncode != 0 or not out.exists():
            return {"size": size, "fatal": (proc.stderr or proc.stdout)[-4000:]}
        report: dict[str, Any] = json.loads(out.read_text())
        return report
