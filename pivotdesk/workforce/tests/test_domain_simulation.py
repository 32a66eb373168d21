"""Multi-skill discrete-event simulation of a day."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.workforce.domain.simulation import SimAgent, SimQueue, SimReport, simulate

HOUR = 3600.0


@settings(max_examples=15)
@given(
    rates=st.lists(st.floats(0.0, 80.0), min_size=2, max_size=6),
    agents=st.integers(1, 12),
    patience=st.one_of(st.none(), st.floats(10.0, 600.0)),
    shift_end_h=st.floats(0.5, 8.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_contact_is_answered_abandoned_or_left(
    rates: list[float], agents: int, patience: float | None, shift_end_h: float, seed: int
) -> None:
    queues = [
        SimQueue("chat", rates, aht_s=300, patience_s=patience, target_s=30),
        SimQueue("voice", rates[::-1], aht_s=200, aht_distribution="lognormal", aht_cv=1.4, patience_s=60, target_s=20),
    ]
    staff = [
        SimAgent(f"a{i}", {"chat": 1, "voice": 2} if i % 2 else {"voice"}, [(0, shift_end_h * HOUR)])
        for i in range(agents)
    ]
    report = simulate(queues=queues, agents=staff, interval_s=HOUR, intervals=len(rates), replications=3, seed=seed)
    assert np.array_equal(report.offered, report.answered + report.abandoned + report.left)
    assert np.all(report.within <= report.answered)
    occupancy = report.busy / np.where(report.avail > 0, report.avail, 1)
    assert np.all(occupancy <= 1 + 1e-9)


def test_contacts_left_when_everyone_has_gone_home() -> None:
    # One agent until 10 minutes into the day; patient contacts keep arriving for two hours: most are stranded.
    queue = SimQueue("email", [30.0, 30.0], aht_s=120, patience_s=None, target_s=3600)
    report = simulate(
        queues=[queue], agents=[SimAgent("x", {"email"}, [(0, 600)])], interval_s=HOUR, intervals=2, seed=1
    )
    assert report.left.sum() > 0
    assert report.answered[:, 0, 1].sum() == 0  # nobody answers after the shift
    assert np.array_equal(report.offered, report.answered + report.abandoned + report.left)
    # the agent finishes the contact in hand after 600 s: availability includes that overrun
    assert np.all(report.avail[:, 0] >= 600)
    assert np.all(report.busy[:, 0] <= report.avail[:, 0] + 1e-9)


def test_same_seed_same_day_and_another_seed_another_day() -> None:
    queues = [SimQueue("q", [50.0] * 4, aht_s=240, patience_s=120, target_s=20)]
    staff = [SimAgent(str(i), {"q"}, [(0, 4 * HOUR)]) for i in range(4)]

    def day(seed: int) -> SimReport:
        return simulate(queues=queues, agents=staff, interval_s=HOUR, intervals=4, replications=5, seed=seed)

    one, two, other = day(11), day(11), day(12)
    for name in ("offered", "answered", "abandoned", "within", "wait_sum", "busy"):
        assert np.array_equal(getattr(one, name), getattr(two, name))
    assert not np.array_equal(one.wait_sum, other.wait_sum)


def _two_queue_day(generalists: bool) -> tuple[float, float, float, float]:
    """Billing is short of agents, support has spare ones; cross-training half of support should help billing."""
    hours = 6
    queues = [
        SimQueue("billing", [220.0] * hours, aht_s=300, patience_s=180, target_s=20),  # 18.3 erlangs
        SimQueue("support", [120.0] * hours, aht_s=300, patience_s=180, target_s=20),  # 10 erlangs
    ]
    staff = [SimAgent(f"b{i}", {"billing"}, [(0, hours * HOUR)]) for i in range(16)]
    for i in range(16):
        skills = {"support": 1, "billing": 2} if generalists and i % 2 == 0 else {"support": 1}
        staff.append(SimAgent(f"s{i}", skills, [(0, hours * HOUR)]))
    report = simulate(queues=queues, agents=staff, interval_s=HOUR, intervals=hours, replications=10, seed=5)
    billing, support = report.summary("billing"), report.summary("support")
    return billing.service_level.lo, billing.service_level.hi, support.service_level.mean, billing.abandon_rate.mean


def test_generalist_pool_helps_the_short_queue() -> None:
    _, hi_without, _, abandon_without = _two_queue_day(generalists=False)
    lo_with, _, support_with, abandon_with = _two_queue_day(generalists=True)
    assert lo_with > hi_without + 0.1  # billing service level improves well beyond the noise
    assert abandon_with < abandon_without / 2
    assert support_with > 0.8  # support, still served first by its own agents, stays good


def test_primary_skill_comes_first() -> None:
    # Both queues always have someone waiting; the agents take "vip" (primary) whenever a vip contact waits.
    queues = [
        SimQueue("vip", [40.0] * 3, aht_s=60, patience_s=None, target_s=20),
        SimQueue("mass", [400.0] * 3, aht_s=60, patience_s=None, target_s=20),
    ]
    staff = [SimAgent(str(i), {"vip": 1, "mass": 2}, [(0, 3 * HOUR)]) for i in range(5)]
    report = simulate(queues=queues, agents=staff, interval_s=HOUR, intervals=3, replications=4, seed=2)
    vip, mass = report.summary("vip"), report.summary("mass")
    assert vip.asa_s.hi < 30
    assert mass.asa_s.lo > 600
    assert vip.service_level.lo > 0.5 > mass.service_level.hi


def test_lognormal_handling_time_has_the_requested_mean() -> None:
    queue = SimQueue("q", [300.0] * 4, aht_s=240, aht_distribution="lognormal", aht_cv=1.5, target_s=20)
    staff = [SimAgent(str(i), {"q"}, [(0, 10 * HOUR)]) for i in range(60)]  # ample staff: busy time = work
    report = simulate(queues=[queue], agents=staff, interval_s=HOUR, intervals=4, replications=10, seed=3)
    assert report.busy.sum() <= report.answered.sum() * 240 * 1.05  # busy time inside the day only
    first_three_hours = report.busy[:, :3].sum() / report.replications / 3 / HOUR
    assert first_three_hours == pytest.approx(300 * 240 / HOUR, rel=0.06)  # 20 erlangs of carried load


def test_per_interval_table_and_validation() -> None:
    queue = SimQueue("q", [10.0, 0.0, 20.0], aht_s=120, patience_s=60, target_s=20)
    report = simulate(
        queues=[queue], agents=[SimAgent("a", ["q"], [(0, 3 * HOUR)])], interval_s=HOUR, intervals=3, seed=0
    )
    rows = report.table()["q"]
    assert len(rows) == 3
    assert rows[1].offered.mean == 0.0
    assert np.isnan(rows[1].service_level.mean)  # nothing offered: no service level, not 100 %
    with pytest.raises(ValueError):
        simulate(queues=[queue], agents=[SimAgent("a", ["nope"], [(0, 10)])], interval_s=HOUR, intervals=3)
    with pytest.raises(ValueError):
        simulate(queues=[queue], agents=[], interval_s=HOUR, intervals=2)
