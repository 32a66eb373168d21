"""Ratchets that only tighten: the complexity ceiling (ruff C90) with a baseline of the files over it when it was
turned on, and mypy's `warn_unused_ignores`. A new offender fails; so does a baseline entry that is no longer needed
(the list shrinks as files are split, and cannot quietly keep an exemption nobody uses)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _complexity_baseline() -> set[str]:
    ignores = _pyproject()["tool"]["ruff"]["lint"]["per-file-ignores"]
    return {path for path, codes in ignores.items() if "C901" in codes}


def _over_the_ceiling() -> set[str]:
    """Files with a function over max-complexity, asking ruff with the per-file exemptions switched off."""
    if not RUFF.exists():
        pytest.skip("ruff is not installed beside this Python")
    result = subprocess.run(  # noqa: S603 - our own venv's ruff with fixed arguments
        [
            str(RUFF),
            "check",
            "--select",
            "C901",
            "--config",
            "lint.per-file-ignores = {}",
            "--output-format",
            "json",
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return {str(Path(d["filename"]).relative_to(ROOT)) for d in json.loads(result.stdout or "[]")}


def test_complexity_is_on_with_a_ceiling():
    lint = _pyproject()["tool"]["ruff"]["lint"]
    assert "C90" in lint["select"]
    assert lint["mccabe"]["max-complexity"] <= 10


def test_no_file_outside_the_baseline_passes_the_complexity_ceiling_and_the_baseline_only_shrinks():
    offenders, baseline = _over_the_ceiling(), _complexity_baseline()
    new = sorted(offenders - baseline)
    assert not new, f"Over the complexity ceiling and not on the baseline (split the function): {new}"
    stale = sorted(baseline - offenders)
    assert not stale, f"No longer over the ceiling: delete their C901 lines in pyproject.toml: {stale}"


def test_mypy_reports_unused_ignores():
    assert _pyproject()["tool"]["mypy"]["warn_unused_ignores"] is True
