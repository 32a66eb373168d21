"""django-helpdesk, the Python peer: its own virtualenv under bench/.peers/ (never a PivotDesk dependency).

The newest django-helpdesk from PyPI is installed with whatever Django it asks for, by pip in a virtualenv of a
CPython 3.12 (or 3.11) found on the machine. Install time is not measured. Anything that stops the peer is
returned as a reason, so the benchmark prints why and still runs PivotDesk's part.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1]
PEERS = BENCH / ".peers"
VENV = PEERS / "helpdesk-venv"
PROJECT = PEERS / "helpdesk_project"
HARNESS = Path(__file__).with_name("helpdesk_harness.py")
PACKAGES = ["django-helpdesk", "psycopg[binary]"]


def _interpreter() -> str | None:
    """A CPython 3.12 or 3.11 for the peer's virtualenv (helpdesk supports both)."""
    home = Path.home() / ".pyenv" / "versions"
    candidates = [os.environ.get("PIVOTDESK_BENCH_PEER_PYTHON", "")]
    for minor in ("3.12", "3.11"):
        candidates += sorted((str(p / "bin" / "python") for p in home.glob(f"{minor}.*")), reverse=True)
        candidates.append(shutil.which(f"python{minor}") or "")
    candidates.append(sys.executable)
    for c in candidates:
        if c and Path(c).exists():
            return c
    return None


def _python() -> Path:
    return VENV / "bin" / "python"


def installed_version() -> str | None:
    if not _python().exists():
        return None
    found = subprocess.run(
        [str(_python()), "-c", "from importlib.metadata import version as v; print(v('django-helpdesk'), v('django'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() or None


def ensure(*, upgrade: bool = False) -> tuple[str | None, str | None]:
    """Create or update the peer's virtualenv. Returns (versions, None) or (None, why it cannot run)."""
    if installed_version() and not upgrade:
        return installed_version(), None
    python = _interpreter()
    if python is None:
        return None, "no CPython 3.12/3.11 found for django-helpdesk's virtualenv"
    PEERS.mkdir(parents=True, exist_ok=True)
    if not _python().exists():
        made = subprocess.run([python, "-m", "venv", str(VENV)], capture_output=True, text=True, check=False)
        if made.returncode != 0:
            return None, f"could not create {VENV}: {made.stderr.strip()[-500:]}"
    print(f"  installing {' '.join(PACKAGES)} into {VENV.relative_to(BENCH.parent)} (not timed) …", flush=True)
    pip = subprocess.run(
        [str(_python()), "-m", "pip", "install", "--quiet", "--upgrade", *PACKAGES],
        capture_output=True,
        text=True,
        check=False,
    )
    if pip.returncode != 0:
        return None, f"pip could not install django-helpdesk: {pip.stderr.strip()[-800:]}"
    return installed_version(), None


def run(config: dict[str, Any], out: Path, timeout_s: float) -> dict[str, Any]:
    """Run the harness in the peer's virtualenv and return its JSON result (or a 'fatal' reason)."""
    config = {**config, "project_dir": str(PROJECT)}
    try:
        proc = subprocess.run(
            [str(_python()), str(HARNESS), json.dumps(config), str(out)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {
            "system": "django-helpdesk",
            "database": config["database"],
            "fatal": f"timed out after {timeout_s:.0f} s",
        }
    if not out.exists():
        return {
            "system": "django-helpdesk",
            "database": config["database"],
            "fatal": f"harness exited {proc.returncode} without a result: {proc.stderr.strip()[-1500:]}",
        }
    return json.loads(out.read_text())
