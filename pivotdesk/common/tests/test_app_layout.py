"""The house rules as a test: every app under pivotdesk/ has the canonical modules docs/architecture.md claims for
it, sits in the layer the doc says, and each planned app's "may import" column is what the import-linter contract
allows. The doc is parsed, so the doc and the code cannot drift apart silently."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "pivotdesk"
DOC = ROOT / "docs" / "architecture.md"


def _table(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table after a heading that starts with `heading`."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}")
    rows = []
    for line in text[start + 1 :].splitlines()[1:]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            if not set(line) <= set("|- "):  # not the |---| separator
                rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[1:]  # without the header


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _layers() -> dict[str, int]:
    """App name → layer index from the bottom (common = 0), from the import-linter layers contract."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    layers: dict[str, int] = {}
    for index, layer in enumerate(reversed(contract["layers"])):
        for name in re.findall(r"pivotdesk\.(\w+)", layer):
            layers[name] = index
    return layers


def _apps() -> set[str]:
    return {p.parent.name for p in PACKAGE.glob("*/apps.py")}


def test_every_app_has_a_row_and_the_modules_it_claims():
    rows = {_names(app)[0]: (int(layer), _names(modules)) for app, layer, modules in _table("App layout")}
    assert set(rows) == _apps(), "docs/architecture.md 'App layout' must have one row per app under pivotdesk/"
    missing = {
        app: [m for m in modules if not ((PACKAGE / app / f"{m}.py").is_file() or (PACKAGE / app / m).is_dir())]
        for app, (_layer, modules) in rows.items()
    }
    assert not {app: m for app, m in missing.items() if m}, f"claimed in docs/architecture.md but missing: {missing}"


def test_the_doc_and_the_contract_agree_on_every_layer():
    layers = _layers()
    existing = {_names(app)[0]: int(layer) for app, layer, _modules in _table("App layout")}
    planned = {_names(row[0])[0]: int(row[1]) for row in _table("Planned apps")}
    assert {app: layers.get(app) for app in existing | planned} == existing | planned


def test_planned_apps_may_import_exactly_the_layers_below_and_do_not_exist_yet():
    layers = _layers()
    for app, layer, _what, _modules, may_import in _table("Planned apps"):
        name = _names(app)[0]
        below = {other for other, index in layers.items() if index < int(layer)}
        assert set(_names(may_import)) == below, f"{name}: 'may import' should be {sorted(below)}"
        assert name not in _apps(), f"{name} exists now: move its row to 'App layout'"
    assert {_names(row[0])[0] for row in _table("Planned apps")} >= {
        "insights",
        "compliance",
        "assets",
    }
