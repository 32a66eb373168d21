"""Erlang C / Erlang A staffing and workload staffing of asynchronous queues."""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.workforce.domain.erlang import (
    Target,
    asa,
    erlang_a,
    erlang_b,
    erlang_c,
    required_agents,
    scheduled_agents,
    service_level,
    traffic_erlangs,
    workload_agents,
    workload_even,
)
from pivotdesk.workforce.domain.simulation import SimAgent, SimQueue, simulate

REFERENCE = Path("/work/shared/data/forecasting/erlang_c_reference.csv")


def _reference_rows() -> list[dict[str, str]]:
    if not REFERENCE.exists():
        pytest.skip(f"Erlang C reference table absent: {REFERENCE}")
    with REFERENCE.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_erlang_c_matches_reference_table() -> None:
    rows = _reference_rows()
    assert rows
    for row in rows:
        aht, n = float(row["aht_s"]), int(row["agents"])
        a = traffic_erlangs(float(row["calls"]), float(row["interval_s"]), aht)
        assert a == pytest.approx(float(row["traffic_erlangs"]), abs=1e-9)
        assert erlang_c(n, a) == pytest.approx(float(row["p_wait"]), abs=1e-6), row["case"]
        assert service_level(n, a, aht, float(row["target_answer_s"])) == pytest.approx(
            float(row["service_level"]), abs=1e-6
        )
        assert a / n == pytest.approx(float(row["occupancy"]), abs=1e-6)
        assert asa(n, a, aht) == pytest.approx(float(row["asa_s"]), abs=1e-4)


def test_pyworkforce_published_example_with_shrinkage() -> None:
    # 100 calls / 30 min, AHT 3 min, 80 % in 20 s, 30 % shrinkage: 14 on the phones, 20 rostered (published figures).
    s = required_agents(calls=100, interval_s=1800, aht_s=180, target=Target(0.8, 20), shrinkage=0.3)
    assert (s.agents, s.scheduled) == (14, 20)
    assert s.service_level == pytest.approx(0.8883500191794669, abs=1e-12)
    # max occupancy 70 % forces 15 (10 / 14 = 71.4 %)
    capped = required_agents(calls=100, interval_s=1800, aht_s=180, target=Target(0.8, 20), max_occupancy=0.7)
    assert capped.agents == 15


def test_erlang_b_recursion_equals_the_closed_form_for_small_n() -> None:
    for n in range(0, 30):
        for a in (0.5, 3.0, 12.5, 40.0):
            direct = (a**n / math.factorial(n)) / sum(a**k / math.factorial(k) for k in range(n + 1))
            assert erlang_b(n, a) == pytest.approx(direct, rel=1e-12)


def test_scheduled_agents_rounding_ignores_float_noise() -> None:
    assert scheduled_agents(14, 0.3) == 20  # 14 / 0.7 = 20.000000000000004 in floating point
    assert scheduled_agents(15, 0.3) == 22
    assert scheduled_agents(0, 0.5) == 0
    with pytest.raises(ValueError):
        scheduled_agents(3, 1.0)


def test_target_rejects_unreachable_values() -> None:
    with pytest.raises(ValueError):
        Target(percent=1.0)
    with pytest.raises(ValueError):
        Target(percent=None, asa_seconds=None)
    with pytest.raises(ValueError):
        Target(percent=None, asa_seconds=0.0)


@settings(max_examples=40)
@given(a=st.floats(0.1, 300.0), aht=st.floats(30.0, 900.0), t=st.floats(0.0, 120.0))
def test_erlang_c_service_level_rises_with_agents(a: float, aht: float, t: float) -> None:
    start = math.floor(a) + 1
    levels = [service_level(n, a, aht, t) for n in range(start, start + 40)]
    assert all(b >= x - 1e-12 for x, b in itertools.pairwise(levels))
    speeds = [asa(n, a, aht) for n in range(start, start + 40)]
    assert all(b <= x + 1e-9 for x, b in itertools.pairwise(speeds))


@settings(max_examples=25)
@given(
    calls=st.floats(1.0, 400.0),
    aht=st.floats(60.0, 600.0),
    patience=st.floats(10.0, 900.0),
    t=st.floats(0.0, 60.0),
)
def test_erlang_a_service_level_rises_with_agents(calls: float, aht: float, patience: float, t: float) -> None:
    a = calls * aht / 1800
    levels = [
        erlang_a(n, calls=calls, interval_s=1800, aht_s=aht, patience_s=patience, target_s=t).service_level
        for n in range(0, int(a * 1.5) + 5)
    ]
    assert all(b >= x - 1e-9 for x, b in itertools.pairwise(levels))
    assert levels[0] == 0.0


def _meets(target: Target, sl: float, asa_s: float, occupancy: float, max_occupancy: float) -> bool:
    if occupancy > max_occupancy + 1e-12:
        return False
    if target.percent is not None and sl < target.percent:
        return False
    return target.asa_seconds is None or asa_s <= target.asa_seconds


def _figures(n: int, calls: float, aht: float, t_s: float, patience: float | None) -> tuple[float, float, float]:
    """(service level, ASA, occupancy) computed directly, not through the search."""
    if patience is None:
        a = calls * aht / 1800
        if n <= a:
            return 0.0, math.inf, math.inf if n == 0 else a / n
        return service_level(n, a, aht, t_s), asa(n, a, aht), a / n
    if n == 0:
        return 0.0, math.inf, 1.0
    r = erlang_a(n, calls=calls, interval_s=1800, aht_s=aht, patience_s=patience, target_s=t_s)
    return r.service_level, r.asa_s, r.occupancy


targets = st.one_of(
    st.builds(Target, percent=st.floats(0.5, 0.95), seconds=st.floats(0.0, 60.0)),
    st.builds(Target, percent=st.none(), asa_seconds=st.floats(2.0, 120.0)),
    st.builds(Target, percent=st.floats(0.5, 0.95), seconds=st.floats(5.0, 60.0), asa_seconds=st.floats(2.0, 60.0)),
)


@settings(max_examples=60)
@given(
    calls=st.floats(0.5, 1500.0),
    aht=st.floats(30.0, 900.0),
    target=targets,
    max_occupancy=st.sampled_from([1.0, 0.95, 0.85, 0.7]),
    patience=st.one_of(st.none(), st.floats(15.0, 1200.0)),
    shrinkage=st.floats(0.0, 0.5),
)
def test_required_agents_meets_target_and_one_fewer_does_not(  # noqa: PLR0917 - hypothesis draws
    calls: float, aht: float, target: Target, max_occupancy: float, patience: float | None, shrinkage: float
) -> None:
    s = required_agents(
        calls=calls,
        interval_s=1800,
        aht_s=aht,
        target=target,
        max_occupancy=max_occupancy,
        patience_s=patience,
        shrinkage=shrinkage,
    )
    assert s.agents >= 1
    assert _meets(target, *_figures(s.agents, calls, aht, target.seconds, patience), max_occupancy)
    assert not _meets(target, *_figures(s.agents - 1, calls, aht, target.seconds, patience), max_occupancy)
    assert s.scheduled >= s.agents
    assert s.scheduled * (1 - shrinkage) >= s.agents - 1e-9
    assert (s.scheduled - 1) * (1 - shrinkage) < s.agents
    if patience is None:
        assert s.abandon == 0.0 and s.agents > s.traffic


def test_erlang_c_search_does_not_start_at_round_traffic_plus_one() -> None:
    # 9.6 erlangs, 50 % in 300 s: 10 agents already meet it; pyworkforce's first guess, round(10.6) = 11, overstaffs.
    s = required_agents(calls=96, interval_s=1800, aht_s=180, target=Target(0.5, 300))
    assert s.agents == 10 < round(s.traffic + 1)
    assert service_level(10, 9.6, 180, 300) >= 0.5


@settings(max_examples=20)
@given(n=st.integers(1, 2000), load=st.floats(0.0, 2.0), t=st.floats(0.0, 600.0))
def test_no_overflow_or_nan_up_to_2000_agents(n: int, load: float, t: float) -> None:
    a = n * load
    c = erlang_c(n, a)
    assert 0.0 <= c <= 1.0
    sl = service_level(n, a, 300, t)
    assert 0.0 <= sl <= 1.0
    assert not math.isnan(asa(n, a, 300))
    r = erlang_a(n, calls=a * 1800 / 300, interval_s=1800, aht_s=300, patience_s=180, target_s=t)
    for value in (r.service_level, r.abandon, r.p_wait, r.occupancy, r.asa_s):
        assert math.isfinite(value)
    assert 0.0 <= r.service_level <= 1.0 and 0.0 <= r.abandon <= 1.0


def test_erlang_c_at_thousands_of_agents() -> None:
    s = required_agents(calls=36_000, interval_s=1800, aht_s=300, target=Target(0.9, 10))
    assert 6000 < s.agents < 6200
    assert service_level(s.agents - 1, 6000.0, 300, 10) < 0.9 <= s.service_level


def test_erlang_a_tends_to_erlang_c_when_nobody_abandons() -> None:
    for n, calls, aht, t in ((14, 100, 180, 20), (55, 360, 240, 15), (120, 1300, 160, 30)):
        a = calls * aht / 1800
        r = erlang_a(n, calls=calls, interval_s=1800, aht_s=aht, patience_s=1e9, target_s=t)
        assert r.service_level == pytest.approx(service_level(n, a, aht, t), abs=1e-5)
        assert r.p_wait == pytest.approx(erlang_c(n, a), abs=1e-5)
        assert r.asa_s == pytest.approx(asa(n, a, aht), rel=1e-4)


@settings(max_examples=30)
@given(n=st.integers(1, 200), calls=st.floats(1.0, 2000.0), aht=st.floats(30.0, 600.0), patience=st.floats(5.0, 600.0))
def test_erlang_a_limits_in_the_target(n: int, calls: float, aht: float, patience: float) -> None:
    at_zero = erlang_a(n, calls=calls, interval_s=1800, aht_s=aht, patience_s=patience, target_s=0.0)
    assert at_zero.service_level == pytest.approx(1.0 - at_zero.p_wait, abs=1e-9)  # only the immediately answered
    forever = erlang_a(n, calls=calls, interval_s=1800, aht_s=aht, patience_s=patience, target_s=1e7)
    assert forever.service_level == pytest.approx(1.0 - forever.abandon, abs=1e-7)  # every answered contact
    # Little's law: busy agents = carried load, with abandonment = θ·E[queue] / λ
    assert at_zero.abandon == pytest.approx(at_zero.mean_queue / patience / (calls / 1800), rel=1e-6, abs=1e-12)


# Nine checks (3 cases x 3 figures) against one seeded simulation each: at 95 % a correct model would miss one of
# them about a third of the time, so the intervals here are 99.5 % (Bonferroni for a 95 % family).
@pytest.mark.parametrize(
    ("calls_per_hour", "aht_s", "patience_s", "agents", "target_s"),
    [(200, 180, 120, 10, 20), (400, 240, 300, 25, 30), (1200, 120, 90, 36, 15)],
)
def test_erlang_a_agrees_with_the_simulation(
    calls_per_hour: float, aht_s: float, patience_s: float, agents: int, target_s: float
) -> None:
    hours = 8
    queue = SimQueue("voice", [calls_per_hour] * (hours + 1), aht_s=aht_s, patience_s=patience_s, target_s=target_s)
    end = (hours + 1) * 3600 + 30 * (patience_s + aht_s)  # nobody leaves before the last contact is settled
    staff = [SimAgent(f"a{i}", {"voice"}, [(0, end)]) for i in range(agents)]
    report = simulate(
        queues=[queue], agents=staff, interval_s=3600, intervals=hours + 1, replications=20, seed=7, confidence=0.995
    )
    sim = report.summary("voice", range(1, hours + 1))  # first hour is warm-up
    exact = erlang_a(
        agents, calls=calls_per_hour, interval_s=3600, aht_s=aht_s, patience_s=patience_s, target_s=target_s
    )
    assert sim.service_level.contains(exact.service_level), (exact.service_level, sim.service_level)
    assert sim.abandon_rate.contains(exact.abandon), (exact.abandon, sim.abandon_rate)
    assert sim.asa_s.contains(exact.asa_s), (exact.asa_s, sim.asa_s)
    assert sim.service_level.hi - sim.service_level.lo < 0.1  # the check has teeth


Nodes = list[tuple[float, float]]


def _fluid_curves(
    arrivals: Sequence[float], agents: Sequence[int], *, interval_s: float, aht_s: float, occ: float
) -> tuple[Nodes, Nodes]:
    """Nodes (time, cumulative work) of work arrived (A) and work done (D) by a work-conserving fluid server."""
    a_nodes = [(0.0, 0.0)]
    for k, x in enumerate(arrivals):
        a_nodes.append(((k + 1) * interval_s, a_nodes[-1][1] + x * aht_s))
    d_nodes = [(0.0, 0.0)]
    for k in range(len(arrivals)):
        t0, d0 = d_nodes[-1]
        a0, a1 = a_nodes[k][1], a_nodes[k + 1][1]
        alpha, cap = (a1 - a0) / interval_s, agents[k] * occ
        backlog = a0 - d0
        if cap > alpha and backlog > 0 and backlog / (cap - alpha) < interval_s:
            tau = backlog / (cap - alpha)  # the backlog is cleared inside the interval, then D follows A
            d_nodes.extend([(t0 + tau, d0 + cap * tau), (t0 + interval_s, a1)])
        elif cap >= alpha and backlog <= 0:
            d_nodes.append((t0 + interval_s, a1))
        else:
            d_nodes.append((t0 + interval_s, min(a1, d0 + cap * interval_s)))
    return a_nodes, d_nodes


def _first_time(nodes: Nodes, level: float) -> float:
    if level <= nodes[0][1]:
        return nodes[0][0]
    for (t0, v0), (t1, v1) in itertools.pairwise(nodes):
        if v1 >= level > v0:
            return t0 + (level - v0) / (v1 - v0) * (t1 - t0)
    return math.inf


def _max_lateness(
    arrivals: Sequence[float], agents: Sequence[int], *, interval_s: float, aht_s: float, occ: float, target_s: float
) -> float:
    """Worst lateness (s) of a fluid FIFO queue, by levels of work: finish time vs deadline of the work at level x.

    The work at level x arrives at A⁻¹(x), is done at D⁻¹(x) and is due at min(A⁻¹(x) + target, end of the
    horizon). Both curves are piecewise linear, so the worst case sits at (or just past) a breakpoint level; a
    dense grid of levels is added for safety.
    """
    a_nodes, d_nodes = _fluid_curves(arrivals, agents, interval_s=interval_s, aht_s=aht_s, occ=occ)
    horizon = len(arrivals) * interval_s
    total = a_nodes[-1][1]
    if total <= 0:
        return 0.0
    levels = {v for _, v in a_nodes} | {v for _, v in d_nodes}
    levels |= {v + total * 1e-9 for v in list(levels)} | {total * i / 2000 for i in range(1, 2001)}
    worst = -math.inf
    for x in (v for v in levels if 0 < v <= total):
        due = min(_first_time(a_nodes, x) + target_s, horizon)
        worst = max(worst, _first_time(d_nodes, x) - due)
    return worst


@settings(max_examples=40)
@given(
    arrivals=st.lists(st.integers(0, 80), min_size=1, max_size=10),
    interval_s=st.sampled_from([900.0, 1800.0, 3600.0]),
    aht_s=st.floats(60.0, 1200.0),
    target_s=st.floats(0.0, 4 * 3600.0),
    occ=st.sampled_from([0.7, 0.85, 1.0]),
)
def test_workload_staffing_meets_every_deadline_and_one_fewer_agent_misses(
    arrivals: list[int], interval_s: float, aht_s: float, target_s: float, occ: float
) -> None:
    plan = workload_agents(arrivals=arrivals, interval_s=interval_s, aht_s=aht_s, target_s=target_s, max_occupancy=occ)
    agents = list(plan.agents)
    assert len(agents) == len(arrivals)
    assert _max_lateness(arrivals, agents, interval_s=interval_s, aht_s=aht_s, occ=occ, target_s=target_s) <= 1e-6
    for k, n in enumerate(agents):
        if n == 0:
            continue
        fewer = agents.copy()
        fewer[k] -= 1
        assert _max_lateness(arrivals, fewer, interval_s=interval_s, aht_s=aht_s, occ=occ, target_s=target_s) > 1e-7, k


def test_workload_staffing_with_four_hour_target_and_shrinkage() -> None:
    # 8 business hours of email at 30-minute intervals, then the next morning's 4 hours with no new mail.
    arrivals = [20, 30, 40, 40, 30, 30, 25, 25, 20, 20, 15, 15, 10, 10, 5, 5] + [0] * 8
    plan = workload_agents(
        arrivals=arrivals, interval_s=1800, aht_s=600, target_s=4 * 3600, max_occupancy=0.85, shrinkage=0.25
    )
    work_hours = sum(arrivals) * 600 / 3600
    staffed_hours = sum(plan.agents) * 0.5 * 0.85
    assert staffed_hours >= work_hours
    assert plan.agents[:8] == (0,) * 8  # with a 4 h target nothing is due in the first 4 h: work is deferred
    assert all(s >= math.ceil(n / 0.75 - 1e-9) for n, s in zip(plan.agents, plan.scheduled, strict=True))
    assert _max_lateness(arrivals, list(plan.agents), interval_s=1800, aht_s=600, occ=0.85, target_s=4 * 3600) <= 1e-6


@settings(max_examples=40)
@given(
    arrivals=st.lists(st.integers(0, 80), min_size=1, max_size=12),
    interval_s=st.sampled_from([900.0, 1800.0, 3600.0]),
    aht_s=st.floats(60.0, 1200.0),
    target_s=st.floats(0.0, 4 * 3600.0),
    occ=st.sampled_from([0.7, 0.85, 1.0]),
)
def test_even_workload_staffing_meets_every_deadline_on_an_open_horizon(
    arrivals: list[int], interval_s: float, aht_s: float, target_s: float, occ: float
) -> None:
    plan = workload_even(arrivals=arrivals, interval_s=interval_s, aht_s=aht_s, target_s=target_s, max_occupancy=occ)
    tail = len(plan.agents) - len(arrivals)
    assert tail >= 1
    padded = arrivals + [0] * tail  # the intervals after the last arrival finish the work still within its target
    lateness = _max_lateness(padded, list(plan.agents), interval_s=interval_s, aht_s=aht_s, occ=occ, target_s=target_s)
    assert lateness <= 1e-6
    # it never staffs more in total than the work needs, rounded up per interval
    assert sum(plan.agents) * occ * interval_s <= sum(arrivals) * aht_s + len(plan.agents) * occ * interval_s + 1e-6


def test_even_workload_staffing_starts_with_the_first_mail() -> None:
    arrivals = [20, 30, 40, 40, 30, 30, 25, 25, 20, 20, 15, 15, 10, 10, 5, 5]
    even = workload_even(arrivals=arrivals, interval_s=1800, aht_s=600, target_s=4 * 3600, max_occupancy=0.85)
    assert even.agents[0] > 0  # unlike the latest-possible plan, the first interval is staffed
    assert max(even.agents) < max(
        workload_agents(
            arrivals=arrivals + [0] * 8, interval_s=1800, aht_s=600, target_s=4 * 3600, max_occupancy=0.85
        ).agents
    )
