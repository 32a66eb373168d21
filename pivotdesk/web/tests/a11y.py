"""Accessibility checks in the browser tests: axe-core (vendored in `axe/`, a test-only asset never served to
users) run on the page Playwright shows, its serious and critical violations turned into readable lines.

The strict Content-Security-Policy (`pivotdesk/common/csp.py`: `script-src 'self'`) blocks an inline `<script>`, so
`page.add_script_tag(content=…)` (and `path=…`, which inlines the file) cannot load axe; Playwright's `evaluate` runs
through the DevTools protocol, which the page's policy does not govern."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).parent / "axe" / "axe.min.js"
# The checks of WCAG 2.1 A and AA plus axe's best practices (landmarks, headings, duplicate ids…).
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")


@dataclass(frozen=True)
class Violation:
    """One failed axe rule on one page: what it is, how bad, and where (the first few elements)."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    count: int

    def __str__(self) -> str:
        where = ", ".join(self.targets)
        more = f" (+{self.count - len(self.targets)} more)" if self.count > len(self.targets) else ""
        return f"[{self.impact}] {self.rule}: {self.help} — {where}{more}"


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_results(page: Page, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """axe's full result for the page as it is now (axe is added once per document)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    options = {"runOnly": {"type": "tag", "values": list(TAGS)}, "resultTypes": ["violations"]}
    context: dict[str, Any] = {"exclude": [[selector] for selector in exclude]} if exclude else {}
    result: dict[str, Any] = page.evaluate(
        "([context, options]) => axe.run(Object.keys(context).length ? context : document, options)",
        [context, options],
    )
    return result


def axe_violations(
    page: Page, impact: Iterable[str] = ("serious", "critical"), *, exclude: Iterable[str] = (), first: int = 3
) -> list[Violation]:
    """The page's violations of the given impacts, each with its first `first` targets (CSS selectors)."""
    wanted = set(impact)
    found = []
    for v in axe_results(page, exclude=exclude)["violations"]:
        if v.get("impact") not in wanted:
            continue
        targets = tuple(" ".join(str(t) for t in node["target"]) for node in v["nodes"][:first])
        found.append(Violation(v["id"], v["impact"], v["help"], targets, len(v["nodes"])))
    return found
