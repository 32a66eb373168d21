"""Workforce benchmark (issue 14), in one run: forecast WAPE vs seasonal naive on the bank call history (5 and 30
minutes, last 10 working days held out), the 200-agent roster (time, gap, coverage, constraint counts, checker),
and Erlang C exactness + Erlang A vs simulation on 20 random cases. Each part prints its figures beside the
baseline the issue names; `python -m bench.workforce_<part>` runs one part."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

PARTS = ("forecast", "roster", "erlang")


def run(quick: bool = False) -> dict[str, Any]:
    wanted = [p for p in os.environ.get("PIVOTDESK_BENCH_WORKFORCE_PARTS", ",".join(PARTS)).split(",") if p in PARTS]
    report: dict[str, Any] = {}
    for part in wanted:
        module = importlib.import_module(f"bench.workforce_{part}")
        print(f"\n-- workforce {part} --", flush=True)
        report[part] = module.run(quick)
        module.print_report(report[part])
    return report


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
