"""Staffing maths benchmark (`pivotdesk.workforce.domain.erlang` and `.simulation`).

1. Erlang C exactness against the reference table (`../shared/data/forecasting/erlang_c_reference.csv`): max absolute
   error of P(wait), service level, occupancy and ASA. The table is printed to 6 digits (ASA to 4), so an exact
   implementation shows errors below 5e-7 (5e-5 s).
2. Erlang A against the simulation on 20 random single-queue cases (seeded): analytic service level, abandon rate
   and ASA beside the simulated mean and its 95 % confidence interval (20 replications of a day at constant staff,
   first hour dropped as warm-up). Baseline: Erlang C on the same cases (what ignoring abandonment predicts).
   A correct model lands inside a 95 % interval about 19 times in 20.
3. Search start: pyworkforce's search (start at round(traffic + 1), step up until the service level is met, then
   raise to traffic / max occupancy) against ours (start at the smallest N that can meet the target), Erlang C,
   on random cases: how often the peer's answer is larger, and by how many agents.
4. Simulation speed: a two-queue multi-skill day of ~10,000 contacts x 20 replications, wall and CPU seconds.

`python -m bench.workforce_erlang [--quick]` runs it.
"""

from __future__ import annotations

import csv
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import machine
from pivotdesk.workforce.domain.erlang import (
    Target,
    asa,
    erlang_a,
    erlang_c,
    required_agents,
    service_level,
    traffic_erlangs,
)
from pivotdesk.workforce.domain.simulation import SimAgent, SimQueue, simulate

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "forecasting" / "erlang_c_reference.csv"
SEED = 14
HOUR = 3600.0


def erlang_c_exactness() -> dict[str, Any]:
    if not REFERENCE.exists():
        return {"skipped": f"reference table absent: {REFERENCE}"}
    errors = {"p_wait": 0.0, "service_level": 0.0, "occupancy": 0.0, "asa_s": 0.0}
    rows = list(csv.DictReader(REFERENCE.open(newline="")))
    for row in rows:
        aht, n = float(row["aht_s"]), int(row["agents"])
        a = traffic_erlangs(float(row["calls"]), float(row["interval_s"]), aht)
        ours = {
            "p_wait": erlang_c(n, a),
            "service_level": service_level(n, a, aht, float(row["target_answer_s"])),
            "occupancy": a / n,
            "asa_s": asa(n, a, aht),
        }
        for key, value in ours.items():
            errors[key] = max(errors[key], abs(value - float(row[key])))
    published = required_agents(calls=100, interval_s=1800, aht_s=180, target=Target(0.8, 20), shrinkage=0.3)
    return {
        "rows": len(rows),
        "max_abs_error": errors,
        "pyworkforce_published_example": {
            "published": {"raw_positions": 14, "positions": 20, "service_level": 0.8883500191794669},
            "ours": {"agents": published.agents, "scheduled": published.scheduled, "sl": published.service_level},
        },
    }


def _random_case(rng: np.random.Generator) -> dict[str, float]:
    aht = float(rng.uniform(90, 480))
    traffic = float(rng.uniform(2, 60))
    patience = float(rng.uniform(30, 600))
    agents = max(1, round(traffic * float(rng.uniform(0.85, 1.2))))
    return {
        "calls_per_hour": traffic * HOUR / aht,
        "aht_s": aht,
        "patience_s": patience,
        "agents": agents,
        "target_s": float(rng.choice([10, 20, 30, 60])),
    }


def erlang_a_vs_simulation(quick: bool) -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    hours = 3 if quick else 8
    cases = []
    agree = {"service_level": 0, "abandon": 0, "asa_s": 0, "all_three": 0}
    baseline_inside = 0
    started = time.perf_counter()
    for k in range(20):
        case = _random_case(rng)
        n, calls, aht, patience, target = (
            int(case["agents"]),
            case["calls_per_hour"],
            case["aht_s"],
            case["patience_s"],
            case["target_s"],
        )
        queue = SimQueue("q", [calls] * (hours + 1), aht_s=aht, patience_s=patience, target_s=target)
        end = (hours + 1) * HOUR + 30 * (patience + aht)
        staff = [SimAgent(str(i), {"q"}, [(0.0, end)]) for i in range(n)]
        report = simulate(
            queues=[queue], agents=staff, interval_s=HOUR, intervals=hours + 1, replications=20, seed=SEED + k
        )
        sim = report.summary("q", range(1, hours + 1))
        exact = erlang_a(n, calls=calls, interval_s=HOUR, aht_s=aht, patience_s=patience, target_s=target)
        a = traffic_erlangs(calls, HOUR, aht)
        c_sl = service_level(n, a, aht, target)
        inside = {
            "service_level": sim.service_level.contains(exact.service_level),
            "abandon": sim.abandon_rate.contains(exact.abandon),
            "asa_s": sim.asa_s.contains(exact.asa_s),
        }
        for key, ok in inside.items():
            agree[key] += ok
        agree["all_three"] += all(inside.values())
        baseline_inside += sim.service_level.contains(c_sl)
        cases.append(
            {
                **{key: round(value, 3) for key, value in case.items()},
                "traffic": round(a, 2),
                "sl": (exact.service_level, sim.service_level.mean, sim.service_level.lo, sim.service_level.hi),
                "abandon": (exact.abandon, sim.abandon_rate.mean, sim.abandon_rate.lo, sim.abandon_rate.hi),
                "asa": (exact.asa_s, sim.asa_s.mean, sim.asa_s.lo, sim.asa_s.hi),
                "erlang_c_sl": c_sl,
                "inside": inside,
            }
        )
    return {
        "cases": cases,
        "agree_of_20": agree,
        "baseline_erlang_c_sl_inside_of_20": baseline_inside,
        "hours_per_day": hours,
        "replications": 20,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _pyworkforce_positions(a: float, aht: float, target: Target, max_occupancy: float) -> int:
    """pyworkforce's ErlangC.required_positions search, service-level target only."""
    assert target.percent is not None
    n = round(a + 1)
    while service_level(n, a, aht, target.seconds) < target.percent:
        n += 1
    if a / n > max_occupancy:
        n = math.ceil(a / max_occupancy)
    return n


def _peer_start_erlang_a(calls: float, aht: float, patience: float, target: Target) -> int:
    """The same start, round(traffic + 1), applied to Erlang A (where fewer agents than the traffic may do)."""
    assert target.percent is not None
    n = round(traffic_erlangs(calls, 1800, aht) + 1)
    while (
        erlang_a(n, calls=calls, interval_s=1800, aht_s=aht, patience_s=patience, target_s=target.seconds).service_level
        < target.percent
    ):
        n += 1
    return n


def search_start_erlang_a(quick: bool) -> dict[str, Any]:
    rng = np.random.default_rng(SEED + 2)
    count = 200 if quick else 1_000
    excess = []
    for _ in range(count):
        aht = float(rng.uniform(60, 900))
        a = float(rng.uniform(0.2, 80))
        patience = float(rng.uniform(30, 600))
        target = Target(float(rng.uniform(0.5, 0.95)), float(rng.choice([10, 20, 30, 60])))
        calls = a * 1800 / aht
        ours = required_agents(calls=calls, interval_s=1800, aht_s=aht, target=target, patience_s=patience)
        excess.append(_peer_start_erlang_a(calls, aht, patience, target) - ours.agents)
    over = [e for e in excess if e > 0]
    return {
        "cases": count,
        "peer_overstaffs": len(over),
        "peer_overstaffs_pct": round(100 * len(over) / count, 2),
        "excess_agents_mean": round(float(np.mean(over)), 2) if over else 0.0,
        "excess_agents_max": max(over, default=0),
        "peer_fewer_than_ours": sum(e < 0 for e in excess),
    }


def search_start(quick: bool) -> dict[str, Any]:
    rng = np.random.default_rng(SEED + 1)
    count = 2_000 if quick else 10_000
    over, excess, under = 0, [], 0
    for _ in range(count):
        aht = float(rng.uniform(60, 900))
        a = float(rng.uniform(0.2, 80))
        target = Target(float(rng.uniform(0.5, 0.95)), float(rng.choice([10, 20, 30, 60, 120, 300])))
        occ = float(rng.choice([1.0, 0.9, 0.85]))
        ours = required_agents(calls=a * 1800 / aht, interval_s=1800, aht_s=aht, target=target, max_occupancy=occ)
        peer = _pyworkforce_positions(a, aht, target, occ)
        if peer > ours.agents:
            over += 1
            excess.append(peer - ours.agents)
        elif peer < ours.agents:
            under += 1
    return {
        "cases": count,
        "peer_overstaffs": over,
        "peer_overstaffs_pct": round(100 * over / count, 2),
        "excess_agents_mean": round(float(np.mean(excess)), 2) if excess else 0.0,
        "excess_agents_max": max(excess, default=0),
        "peer_fewer_than_ours": under,
    }


def simulation_speed() -> dict[str, Any]:
    intervals, interval_s = 20, 1800.0
    queues = [
        SimQueue("billing", [300.0] * intervals, aht_s=240, patience_s=120, target_s=20),
        SimQueue("support", [200.0] * intervals, aht_s=300, aht_distribution="lognormal", aht_cv=0.8, patience_s=180),
    ]
    staff = [
        SimAgent(
            f"a{i}",
            {"billing"} if i < 40 else ({"support"} if i < 75 else {"billing": 1, "support": 2}),
            [(0.0, intervals * interval_s)],
        )
        for i in range(85)
    ]
    wall, cpu = time.perf_counter(), time.process_time()
    report = simulate(queues=queues, agents=staff, interval_s=interval_s, intervals=intervals, replications=20, seed=1)
    return {
        "contacts_per_day": round(float(report.offered.sum()) / report.replications),
        "replications": report.replications,
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "target": "a few seconds",
    }


def run(quick: bool = False) -> dict[str, Any]:
    return {
        "machine": machine.describe(None),
        "erlang_c_exactness": erlang_c_exactness(),
        "erlang_a_vs_simulation": erlang_a_vs_simulation(quick),
        "search_start": search_start(quick),
        "search_start_erlang_a": search_start_erlang_a(quick),
        "simulation_speed": simulation_speed(),
    }


def _fmt(x: tuple[float, float, float, float], digits: int) -> str:
    exact, mean, lo, hi = x
    return f"{exact:.{digits}f} vs {mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def main() -> None:
    print_report(run(quick="--quick" in sys.argv))


def print_report(report: dict[str, Any]) -> None:
    print("machine:", report["machine"])
    exact = report["erlang_c_exactness"]
    print("\n== 1. Erlang C vs reference table ==")
    if "skipped" in exact:
        print(exact["skipped"])
    else:
        print(f"{exact['rows']} rows; max abs error:", {k: f"{v:.1e}" for k, v in exact["max_abs_error"].items()})
        example = exact["pyworkforce_published_example"]
        print(f"pyworkforce published example: {example['published']}  ours: {example['ours']}")
    ea = report["erlang_a_vs_simulation"]
    print(
        f"\n== 2. Erlang A vs simulation (20 cases, {ea['replications']} replications x {ea['hours_per_day']} h, "
        f"95 % CI; {ea['seconds']} s) =="
    )
    print(
        "  N   traffic  SL exact vs sim [CI]            abandon exact vs sim [CI]       ASA exact vs sim [CI]"
        "              Erlang C SL"
    )
    for c in ea["cases"]:
        marks = "".join("+" if c["inside"][k] else "-" for k in ("service_level", "abandon", "asa_s"))
        print(
            f"{c['agents']:>3} {c['traffic']:>8}  {_fmt(c['sl'], 3):<30}  {_fmt(c['abandon'], 3):<30}  "
            f"{_fmt(c['asa'], 1):<32}  {c['erlang_c_sl']:.3f}  {marks}"
        )
    print(
        f"inside the 95 % CI, of 20: {ea['agree_of_20']}  "
        f"(baseline Erlang C service level inside: {ea['baseline_erlang_c_sl_inside_of_20']})"
    )
    s = report["search_start"]
    print("\n== 3. search start: pyworkforce round(traffic + 1) vs ours (Erlang C, SL target) ==")
    print(
        f"{s['cases']} random cases: peer overstaffs {s['peer_overstaffs']} ({s['peer_overstaffs_pct']} %), "
        f"by {s['excess_agents_mean']} agents on average (max {s['excess_agents_max']}); "
        f"peer below ours: {s['peer_fewer_than_ours']}"
    )
    s = report["search_start_erlang_a"]
    print("   same start with abandonment (Erlang A, random patience 30-600 s):")
    print(
        f"   {s['cases']} random cases: peer overstaffs {s['peer_overstaffs']} ({s['peer_overstaffs_pct']} %), "
        f"by {s['excess_agents_mean']} agents on average (max {s['excess_agents_max']}); "
        f"peer below ours: {s['peer_fewer_than_ours']}"
    )
    sp = report["simulation_speed"]
    print("\n== 4. simulation speed ==")
    print(
        f"{sp['contacts_per_day']} contacts/day x {sp['replications']} replications: "
        f"{sp['wall_s']} s wall, {sp['cpu_s']} s CPU (target: {sp['target']})"
    )


if __name__ == "__main__":
    main()
