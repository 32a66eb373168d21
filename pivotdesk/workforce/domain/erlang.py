"""Staff needed per interval: Erlang C, Erlang A (M/M/n+M) and workload staffing for asynchronous queues.

Conventions shared with `simulation`:

* service level = contacts answered within T seconds / contacts offered (abandoned contacts count against it);
* ASA = mean wait of the contacts that were answered;
* occupancy = carried load / agents (abandoned contacts take no agent time).

Erlang C goes through the Erlang B recursion ``B(k) = a·B(k-1) / (k + a·B(k-1))``, which stays in [0, 1] and never
overflows, whatever the number of agents.

Erlang A is computed exactly from the birth–death chain of M/M/n+M: the stationary distribution is built in log
space (cumulative sums of log birth/death ratios, truncated once the tail is below e⁻⁵⁰ of the peak) and normalised
with log-sum-exp. An arrival that finds ``j`` contacts waiting (PASTA) reaches an agent after a virtual wait ``V``
that is a sum of independent exponentials of rates ``nμ + iθ`` (i = 0..j; the contacts ahead leave by service or
by abandonment; the ones behind do not matter under FIFO). With exponential patience τ independent of ``V``:

* P(answered | j) = E[e^(−θV)] = nμ / (nμ + (j+1)θ);
* P(answered within T | j) = nμ / (nμ + (j+1)θ) · I_x(j+1, nμ/θ + 1), x = 1 − e^(−θT), because a sum of exponentials
  of rates c + iθ (i = 1..m) is the m-th order statistic of exponentials, i.e. −ln(1−U)/θ with U ~ Beta(m, c/θ + 1)
  (same Laplace transform); I is the regularised incomplete beta function, numerically stable for any j;
* E[wait · 1{answered} | j] = nμ / (nμ + (j+1)θ) · Σ_{i=1..j+1} 1 / (nμ + iθ).

This is the closed form of Mandelbaum & Zeltyn (2004) written with the incomplete beta function instead of their
incomplete gamma series; it has no approximation besides the truncation of a geometrically decaying tail.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, gammaln, logsumexp

_EPS = 1e-9
_MAX_AGENTS = 1_000_000


@dataclass(frozen=True)
class Target:
    """What "good enough" means: ``percent`` answered within ``seconds`` and/or an average speed of answer.

    ``percent=None`` drops the service-level condition; ``asa_seconds=None`` drops the ASA condition.
    """

    percent: float | None = 0.8
    seconds: float = 20.0
    asa_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.percent is None and self.asa_seconds is None:
            raise ValueError("a target needs a service level (percent) or an average speed of answer")
        if self.percent is not None and not 0.0 < self.percent < 1.0:
            raise ValueError("target percent must be strictly between 0 and 1 (100 % is never reached)")
        if self.seconds < 0:
            raise ValueError("target seconds must be >= 0")
        if self.asa_seconds is not None and self.asa_seconds <= 0:
            raise ValueError("target ASA must be > 0 seconds")


@dataclass(frozen=True)
class Staffing:
    """Agents needed on the phones (``agents``) and rostered (``scheduled``, i.e. after shrinkage)."""

    agents: int
    scheduled: int
    service_level: float
    p_wait: float
    asa_s: float
    occupancy: float
    abandon: float
    traffic: float
    model: str


@dataclass(frozen=True)
class ErlangAResult:
    """Steady-state figures of M/M/n+M; ``abandon`` is the fraction of offered contacts that abandon."""

    agents: int
    traffic: float
    service_level: float
    p_wait: float
    abandon: float
    asa_s: float
    mean_wait_all_s: float
    mean_queue: float
    occupancy: float


@dataclass(frozen=True)
class Workload:
    """Per-interval agents for an asynchronous queue: productive (``agents``) and rostered (``scheduled``)."""

    agents: tuple[int, ...]
    scheduled: tuple[int, ...]


def _ceil(x: float) -> int:
    """Ceil that ignores float noise (14 / 0.7 is 20.000000000000004, not 21 agents)."""
    return max(0, math.ceil(x - _EPS))


def scheduled_agents(agents: int, shrinkage: float) -> int:
    """Agents to roster so that ``agents`` remain after shrinkage (breaks, training, absence)."""
    if not 0.0 <= shrinkage < 1.0:
        raise ValueError("shrinkage must be in [0, 1)")
    return _ceil(agents / (1.0 - shrinkage))


def traffic_erlangs(calls: float, interval_s: float, aht_s: float) -> float:
    if interval_s <= 0 or aht_s <= 0 or calls < 0:
        raise ValueError("interval and AHT must be > 0 and calls >= 0")
    return calls * aht_s / interval_s


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of M/M/n/n with offered load ``a`` erlangs."""
    if n < 0 or a < 0:
        raise ValueError("n and a must be >= 0")
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def _c_from_b(n: int, a: float, b: float) -> float:
    if n <= a:
        return 1.0
    return b / (1.0 - (a / n) * (1.0 - b))


def erlang_c(n: int, a: float) -> float:
    """Probability that a contact waits in M/M/n (1 when the queue is unstable, n <= a)."""
    return _c_from_b(n, a, erlang_b(n, a))


def _sl_from_c(n: int, a: float, c: float, aht_s: float, target_s: float) -> float:
    if n <= a:
        return 0.0
    return max(0.0, 1.0 - c * math.exp(-(n - a) * target_s / aht_s))


def _asa_from_c(n: int, a: float, c: float, aht_s: float) -> float:
    if n <= a:
        return math.inf
    return c * aht_s / (n - a)


def service_level(n: int, a: float, aht_s: float, target_s: float) -> float:
    """Erlang C fraction of contacts answered within ``target_s``."""
    return _sl_from_c(n, a, erlang_c(n, a), aht_s, target_s)


def asa(n: int, a: float, aht_s: float) -> float:
    """Erlang C average speed of answer in seconds (inf when unstable)."""
    return _asa_from_c(n, a, erlang_c(n, a), aht_s)


def erlang_a(
    n: int, *, calls: float, interval_s: float, aht_s: float, patience_s: float, target_s: float
) -> ErlangAResult:
    """Exact M/M/n+M figures (see the module docstring for the method)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if patience_s <= 0 or target_s < 0:
        raise ValueError("patience must be > 0 and target >= 0")
    a = traffic_erlangs(calls, interval_s, aht_s)
    if a < 1e-12 or calls / interval_s <= 0:  # no traffic (or so little that the arrival rate underflows)
        return ErlangAResult(n, a, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    lam, mu, theta = calls / interval_s, 1.0 / aht_s, 1.0 / patience_s
    k = np.arange(n + 1, dtype=float)
    log_low = k * math.log(a) - gammaln(k + 1.0)  # states 0..n, relative to state 0
    n_mu = n * mu
    peak = max(0.0, (lam - n_mu) / theta)
    length = int(peak) + 64
    while True:
        j = np.arange(1, length + 1, dtype=float)
        log_tail = log_low[-1] + np.cumsum(np.log(lam / (n_mu + j * theta)))  # states n+1..n+length
        top = max(float(log_low.max()), float(log_tail.max()))
        if log_tail[-1] < top - 50.0:
            break
        length *= 2
    log_all = np.concatenate([log_low, log_tail])
    pi = np.exp(log_all - logsumexp(log_all))
    waiting = pi[n:]  # arrival finds j = 0.. contacts waiting ahead, all agents busy
    jj = np.arange(waiting.size, dtype=float)
    rates = n_mu + (jj + 1.0) * theta  # rate nμ + (j+1)θ
    p_served = n_mu / rates
    x = -math.expm1(-theta * target_s)
    p_within = p_served * betainc(jj + 1.0, n_mu / theta + 1.0, x)
    wait_served = p_served * np.cumsum(1.0 / rates)
    p_wait = float(waiting.sum())
    sl = float(pi[:n].sum() + (waiting * p_within).sum())
    abandon = float((waiting * (1.0 - p_served)).sum())
    answered = 1.0 - abandon
    asa_s = float((waiting * wait_served).sum()) / answered if answered > 0 else math.inf
    mean_queue = float((jj * waiting).sum())
    occupancy = a * answered / n if n > 0 else 1.0
    return ErlangAResult(
        agents=n,
        traffic=a,
        service_level=min(1.0, sl),
        p_wait=min(1.0, p_wait),
        abandon=max(0.0, abandon),
        asa_s=asa_s,
        mean_wait_all_s=mean_queue / lam,
        mean_queue=mean_queue,
        occupancy=occupancy,
    )


def _meets(target: Target, sl: float, asa_s: float, occupancy: float, max_occupancy: float) -> bool:
    if occupancy > max_occupancy + 1e-12:
        return False
    if target.percent is not None and sl < target.percent:
        return False
    return not (target.asa_seconds is not None and asa_s > target.asa_seconds)


def required_agents(
    *,
    calls: float,
    interval_s: float,
    aht_s: float,
    target: Target,
    shrinkage: float = 0.0,
    max_occupancy: float = 1.0,
    patience_s: float | None = None,
) -> Staffing:
    """Fewest agents meeting ``target`` (Erlang C, or Erlang A when ``patience_s`` is given); N−1 does not.

    Erlang C scans upwards from the smallest N that can meet the target at all (N > traffic and
    traffic / N <= max occupancy), updating Erlang B incrementally, so each step costs O(1). Erlang A can meet a
    target with N below the traffic, so its N is found by bisection and then walked down until N−1 fails.
    """
    if not 0.0 < max_occupancy <= 1.0:
        raise ValueError("max occupancy must be in (0, 1]")
    a = traffic_erlangs(calls, interval_s, aht_s)
    if patience_s is None:
        return _required_erlang_c(a, aht_s, target, shrinkage, max_occupancy)
    return _required_erlang_a(
        calls=calls,
        interval_s=interval_s,
        aht_s=aht_s,
        patience_s=patience_s,
        target=target,
        shrinkage=shrinkage,
        max_occupancy=max_occupancy,
    )


def _required_erlang_c(a: float, aht_s: float, target: Target, shrinkage: float, max_occupancy: float) -> Staffing:
    if a == 0:
        return Staffing(0, 0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, "erlang_c")
    n = max(math.floor(a) + 1, _ceil(a / max_occupancy))
    b = erlang_b(n, a)
    while True:
        c = _c_from_b(n, a, b)
        sl = _sl_from_c(n, a, c, aht_s, target.seconds)
        asa_s = _asa_from_c(n, a, c, aht_s)
        if _meets(target, sl, asa_s, a / n, max_occupancy):
            return Staffing(n, scheduled_agents(n, shrinkage), sl, c, asa_s, a / n, 0.0, a, "erlang_c")
        if n > _MAX_AGENTS:
            raise ValueError("target cannot be met with a reasonable number of agents")
        n += 1
        b = a * b / (n + a * b)


def _required_erlang_a(
    *,
    calls: float,
    interval_s: float,
    aht_s: float,
    patience_s: float,
    target: Target,
    shrinkage: float,
    max_occupancy: float,
) -> Staffing:
    def result(n: int) -> ErlangAResult:
        return erlang_a(
            n, calls=calls, interval_s=interval_s, aht_s=aht_s, patience_s=patience_s, target_s=target.seconds
        )

    def ok(r: ErlangAResult) -> bool:
        return r.agents > 0 and _meets(target, r.service_level, r.asa_s, r.occupancy, max_occupancy)

    a = traffic_erlangs(calls, interval_s, aht_s)
    if a == 0:
        return Staffing(0, 0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, "erlang_a")
    lo, hi = 0, max(1, math.ceil(a))  # lo never meets (no agents)
    while not ok(result(hi)):
        lo, hi = hi, hi * 2
        if hi > _MAX_AGENTS:
            raise ValueError("target cannot be met with a reasonable number of agents")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(result(mid)):
            hi = mid
        else:
            lo = mid
    best = result(hi)
    while hi > 1 and ok(prev := result(hi - 1)):  # guard against any non-monotone corner
        hi, best = hi - 1, prev
    return Staffing(
        agents=hi,
        scheduled=scheduled_agents(hi, shrinkage),
        service_level=best.service_level,
        p_wait=best.p_wait,
        asa_s=best.asa_s,
        occupancy=best.occupancy,
        abandon=best.abandon,
        traffic=a,
        model="erlang_a",
    )


def _check_workload(
    arrivals: Sequence[float], interval_s: float, aht_s: float, target_s: float, max_occupancy: float
) -> None:
    if interval_s <= 0 or aht_s <= 0 or target_s < 0:
        raise ValueError("interval and AHT must be > 0, target >= 0")
    if not 0.0 < max_occupancy <= 1.0:
        raise ValueError("max occupancy must be in (0, 1]")
    if any(x < 0 for x in arrivals):
        raise ValueError("arrivals must be >= 0")


def workload_agents(
    *,
    arrivals: Sequence[float],
    interval_s: float,
    aht_s: float,
    target_s: float,
    max_occupancy: float = 0.85,
    shrinkage: float = 0.0,
) -> Workload:
    """Agents per interval so that, worked in deadline order, every item is handled within ``target_s``.

    Fluid model: the items of interval k arrive at an even rate over it and each needs ``aht_s`` of work; an agent
    supplies ``max_occupancy`` seconds of work per second. Every item shares the same target, so deadline order is
    arrival order and the work done by time t must reach R(t) = A(t − target), A being the cumulative work arrived.
    Work due after the last interval is due at its end (the horizon is closed): pass the following business hours
    (with zero arrivals) to let a backlog roll over. Each interval takes the fewest agents that keep up with R,
    given what earlier intervals did (latest-possible work), so one agent fewer anywhere misses a deadline.
    Time is the queue's business time: concatenate the open intervals and give ``target_s`` in business seconds.
    """
    _check_workload(arrivals, interval_s, aht_s, target_s, max_occupancy)
    m = len(arrivals)
    horizon = m * interval_s
    bounds = [0.0]
    for x in arrivals:
        bounds.append(bounds[-1] + x * aht_s)

    def arrived(t: float) -> float:
        if t <= 0:
            return 0.0
        if t >= horizon:
            return bounds[-1]
        k = int(t // interval_s)
        return bounds[k] + (t - k * interval_s) / interval_s * (bounds[k + 1] - bounds[k])

    def required(t: float) -> float:
        return bounds[-1] if t >= horizon - 1e-9 else arrived(t - target_s)

    agents: list[int] = []
    done = 0.0
    for k in range(m):
        start = k * interval_s
        points = [interval_s]
        shift = (target_s % interval_s) if target_s > 0 else 0.0
        if 0.0 < shift < interval_s:
            points.append(shift)
        rate = max(0.0, *((required(start + s) - done) / s for s in points))
        n = _ceil(rate / max_occupancy)
        agents.append(n)
        done = min(done + n * max_occupancy * interval_s, bounds[k + 1])
    return Workload(agents=tuple(agents), scheduled=tuple(scheduled_agents(n, shrinkage) for n in agents))


def workload_even(
    *,
    arrivals: Sequence[float],
    interval_s: float,
    aht_s: float,
    target_s: float,
    max_occupancy: float = 0.85,
    shrinkage: float = 0.0,
) -> Workload:
    """Agents per interval for an asynchronous queue, spread evenly: interval k gets the mean work that arrived over
    the last ``target_s`` (a trailing window, the interval itself included), divided by the occupancy.

    `workload_agents` is the least staff that meets every deadline, but it works as late as the deadlines allow (with
    a 4-hour target nobody is needed in the first 4 hours), which no roster looks like. The trailing mean meets the
    same deadlines on an open horizon: the capacity supplied by time t is ∫ of the trailing mean, which is at least
    the work that arrived before t − target (each arrival is counted in full by the window that ends one target
    after it). Work arriving in the last target of the horizon is due after it: staff the intervals that follow, or
    use `workload_agents` for a closed horizon. The window is ``floor(target / interval)`` intervals (at least one),
    never longer than the target. Returns one figure per arrival interval, plus the window's length of tail
    intervals that finish the last work (zero arrivals there)."""
    _check_workload(arrivals, interval_s, aht_s, target_s, max_occupancy)
    window = max(1, math.floor(target_s / interval_s + _EPS))  # never longer than the target
    work = [x * aht_s for x in arrivals] + [0.0] * window
    agents: list[int] = []
    running = 0.0
    for k, w in enumerate(work):
        running += w
        if k >= window:
            running -= work[k - window]
        rate = max(0.0, running) / (window * interval_s)
        agents.append(_ceil(rate / max_occupancy))
    return Workload(agents=tuple(agents), scheduled=tuple(scheduled_agents(n, shrinkage) for n in agents))
