"""Discrete-event simulation of a day of contacts with a roster: multi-skill routing, abandonment, AHT spread.

What single-queue Erlang tables cannot tell: how shared (multi-skilled) agents, shift edges and non-exponential
handling times change the service level of every queue in every interval.

Model. Contacts of each queue arrive as a Poisson process whose rate is constant within an interval (the interval's
expected count / interval length). Handling time is exponential or lognormal with the given mean and coefficient of
variation; patience is exponential with the given mean (None: nobody abandons). Routing: an arriving contact goes to
the longest-idle free agent with the skill; a freed agent takes the longest-waiting contact among the queues of its
best priority (1 = primary) that have any, then of the next priority. An agent takes no new contact outside its
shifts and finishes the contact in hand at a shift end. Contacts are counted in the interval they arrive in; the
run goes on past the last interval until every contact is answered, abandoned or stranded (no agent left, no
patience). Service level = answered within the queue's target / offered; ASA = mean wait of answered contacts.

Speed: random numbers are drawn in bulk with numpy per replication and turned into Python floats once; the event
loop is plain Python with ``heapq`` (only completions, abandonments and shift edges go through the heap; arrivals
are a presorted list).
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict, deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats

_COMPLETE, _ABANDON, _SHIFT_START, _SHIFT_END = 0, 1, 2, 3
_WAITING, _ANSWERED, _ABANDONED = 0, 1, 2


@dataclass(frozen=True)
class SimQueue:
    """A contact queue: expected arrivals per interval, handling time, patience and answer target."""

    name: str
    arrivals: Sequence[float]
    aht_s: float
    aht_distribution: Literal["exponential", "lognormal"] = "exponential"
    aht_cv: float = 1.0
    patience_s: float | None = None
    target_s: float = 20.0


@dataclass(frozen=True)
class SimAgent:
    """An agent: skills (queue name -> priority, 1 = primary; a plain collection means all primary) and shifts."""

    id: str
    skills: Mapping[str, int] | Collection[str]
    shifts: Sequence[tuple[float, float]]

    def priorities(self) -> dict[str, int]:
        if isinstance(self.skills, Mapping):
            return {str(k): int(v) for k, v in self.skills.items()}
        return dict.fromkeys(self.skills, 1)


@dataclass(frozen=True)
class Estimate:
    """Mean over replications with a two-sided confidence interval (Student t)."""

    mean: float
    lo: float
    hi: float

    def contains(self, value: float) -> bool:
        return self.lo <= value <= self.hi


@dataclass(frozen=True)
class QueueStats:
    offered: Estimate
    answered: Estimate
    abandoned: Estimate
    answered_within: Estimate
    service_level: Estimate
    abandon_rate: Estimate
    asa_s: Estimate
    occupancy: Estimate


@dataclass(frozen=True)
class SimReport:
    """Raw per-replication counts (shape replications × queues × intervals) and estimates built from them.

    ``busy_q`` / ``avail_q`` are the busy and available seconds of the agents holding each queue's skill, whatever
    they were doing: a queue's occupancy is that of the agents who can serve it. ``busy`` / ``avail`` cover all agents.
    """

    queues: tuple[str, ...]
    interval_s: float
    confidence: float
    offered: NDArray[np.float64]
    answered: NDArray[np.float64]
    abandoned: NDArray[np.float64]
    within: NDArray[np.float64]
    wait_sum: NDArray[np.float64]
    left: NDArray[np.float64]
    busy_q: NDArray[np.float64]
    avail_q: NDArray[np.float64]
    busy: NDArray[np.float64] = field(repr=False)
    avail: NDArray[np.float64] = field(repr=False)

    @property
    def replications(self) -> int:
        return int(self.offered.shape[0])

    @property
    def intervals(self) -> int:
        return int(self.offered.shape[2])

    def _estimate(self, samples: NDArray[np.float64]) -> Estimate:
        values = samples[np.isfinite(samples)]
        if values.size == 0:
            return Estimate(math.nan, math.nan, math.nan)
        mean = float(values.mean())
        if values.size < 2:
            return Estimate(mean, math.nan, math.nan)
        t = float(stats.t.ppf(0.5 + self.confidence / 2, values.size - 1))
        half = t * float(values.std(ddof=1)) / math.sqrt(values.size)
        return Estimate(mean, mean - half, mean + half)

    def summary(self, queue: str, intervals: range | None = None) -> QueueStats:
        """Figures of ``queue`` over ``intervals`` (default: the whole day), pooled per replication."""
        q = self.queues.index(queue)
        sel = slice(None) if intervals is None else slice(intervals.start, intervals.stop)

        def total(x: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.asarray(x[:, q, sel].sum(axis=1), dtype=float)

        offered, answered, abandoned, within = map(total, (self.offered, self.answered, self.abandoned, self.within))
        wait, busy, avail = total(self.wait_sum), total(self.busy_q), total(self.avail_q)
        with np.errstate(invalid="ignore", divide="ignore"):
            return QueueStats(
                offered=self._estimate(offered),
                answered=self._estimate(answered),
                abandoned=self._estimate(abandoned),
                answered_within=self._estimate(within),
                service_level=self._estimate(np.where(offered > 0, within / offered, np.nan)),
                abandon_rate=self._estimate(np.where(offered > 0, abandoned / offered, np.nan)),
                asa_s=self._estimate(np.where(answered > 0, wait / answered, np.nan)),
                occupancy=self._estimate(np.where(avail > 0, busy / avail, np.nan)),
            )

    def table(self) -> dict[str, list[QueueStats]]:
        """Per queue, the figures of every interval."""
        return {name: [self.summary(name, range(i, i + 1)) for i in range(self.intervals)] for name in self.queues}

    def occupancy(self, intervals: range | None = None) -> Estimate:
        """Occupancy of all agents: busy seconds / (on-shift seconds + overrun finishing contacts)."""
        sel = slice(None) if intervals is None else slice(intervals.start, intervals.stop)
        busy, avail = self.busy[:, sel].sum(axis=1), self.avail[:, sel].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._estimate(np.where(avail > 0, busy / avail, np.nan))


def _merge(shifts: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in shifts if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _spread(row: list[float], t0: float, t1: float, interval_s: float, n_intervals: int) -> None:
    """Add the part of [t0, t1) inside the day to the per-interval totals in ``row``."""
    i = int(t0 // interval_s)
    while t0 < t1 and i < n_intervals:
        end = min(t1, (i + 1) * interval_s)
        row[i] += end - t0
        t0 = end
        i += 1


def _draw_services(rng: np.random.Generator, queue: SimQueue, size: int) -> NDArray[np.float64]:
    if queue.aht_distribution == "exponential":
        return rng.exponential(queue.aht_s, size)
    sigma2 = math.log1p(queue.aht_cv**2)
    return rng.lognormal(math.log(queue.aht_s) - sigma2 / 2, math.sqrt(sigma2), size)


@dataclass(frozen=True)
class _Day:
    """The fixed part of a simulated day, shared by every replication."""

    queues: Sequence[SimQueue]
    skills: list[list[int]]  # per agent: queue indices it can serve
    groups: list[list[list[int]]]  # per agent: queue indices grouped by priority, best first
    shifts: list[list[tuple[float, float]]]
    interval_s: float
    intervals: int


def _validate(queues: Sequence[SimQueue], interval_s: float, intervals: int, replications: int) -> None:
    if interval_s <= 0 or intervals <= 0 or replications <= 0:
        raise ValueError("interval_s, intervals and replications must be > 0")
    names = [q.name for q in queues]
    if len(set(names)) != len(names):
        raise ValueError("queue names must be unique")
    for q in queues:
        if len(q.arrivals) != intervals:
            raise ValueError(f"queue {q.name}: {len(q.arrivals)} arrival rates for {intervals} intervals")
        if q.aht_s <= 0 or (q.patience_s is not None and q.patience_s <= 0) or q.aht_cv <= 0:
            raise ValueError(f"queue {q.name}: AHT, CV and patience must be > 0")


def _prepare(queues: Sequence[SimQueue], agents: Sequence[SimAgent], interval_s: float, intervals: int) -> _Day:
    index = {q.name: i for i, q in enumerate(queues)}
    skills: list[list[int]] = []
    groups: list[list[list[int]]] = []
    for agent in agents:
        prio = agent.priorities()
        unknown = set(prio) - set(index)
        if unknown:
            raise ValueError(f"agent {agent.id}: unknown queues {sorted(unknown)}")
        skills.append([index[name] for name in prio])
        levels = sorted(set(prio.values()))
        groups.append([[index[name] for name, p in prio.items() if p == level] for level in levels])
    shifts = [_merge(agent.shifts) for agent in agents]
    return _Day(queues, skills, groups, shifts, float(interval_s), intervals)


def _shift_time(day: _Day) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """On-shift seconds per interval: all agents, and per queue the agents holding its skill (same every day)."""
    avail = np.zeros(day.intervals)
    avail_q = np.zeros((len(day.queues), day.intervals))
    for a, agent_shifts in enumerate(day.shifts):
        row = [0.0] * day.intervals
        for start, end in agent_shifts:
            _spread(row, max(0.0, start), end, day.interval_s, day.intervals)
        avail += row
        for q in day.skills[a]:
            avail_q[q] += row
    return avail, avail_q


def simulate(
    *,
    queues: Sequence[SimQueue],
    agents: Sequence[SimAgent],
    interval_s: float,
    intervals: int,
    replications: int = 20,
    seed: int = 0,
    confidence: float = 0.95,
) -> SimReport:
    """Run ``replications`` independent days (one seeded numpy Generator for all) and collect the counts."""
    _validate(queues, interval_s, intervals, replications)
    day = _prepare(queues, agents, interval_s, intervals)
    avail_base, avail_q_base = _shift_time(day)
    rng = np.random.default_rng(seed)
    shape = (replications, len(queues), intervals)
    out = {k: np.zeros(shape) for k in ("offered", "answered", "abandoned", "within", "wait_sum", "left", "busy_q")}
    out_avail_q = np.zeros(shape)
    out_busy, out_avail = np.zeros((replications, intervals)), np.zeros((replications, intervals))
    for r in range(replications):
        counts = _replicate(rng, day)
        for k, array in out.items():
            array[r] = counts[k]
        out_busy[r] = counts["busy"][0]
        out_avail[r] = avail_base + np.asarray(counts["overrun"][0])
        out_avail_q[r] = avail_q_base + np.asarray(counts["overrun_q"])
    return SimReport(
        queues=tuple(q.name for q in queues),
        interval_s=float(interval_s),
        confidence=confidence,
        offered=out["offered"],
        answered=out["answered"],
        abandoned=out["abandoned"],
        within=out["within"],
        wait_sum=out["wait_sum"],
        left=out["left"],
        busy_q=out["busy_q"],
        avail_q=out_avail_q,
        busy=out_busy,
        avail=out_avail,
    )


def _arrivals(
    rng: np.random.Generator, queues: Sequence[SimQueue], interval_s: float, intervals: int
) -> tuple[list[float], list[int], list[float], list[float]]:
    """All contacts of one day, sorted by arrival: time, queue, handling time, patience (inf: never abandons)."""
    times, qs, services, patiences = [], [], [], []
    starts = np.arange(intervals) * interval_s
    for qi, queue in enumerate(queues):
        counts = rng.poisson(np.maximum(np.asarray(queue.arrivals, dtype=float), 0.0))
        total = int(counts.sum())
        t = np.repeat(starts, counts) + rng.uniform(0.0, interval_s, total)
        times.append(t)
        qs.append(np.full(total, qi))
        services.append(_draw_services(rng, queue, total))
        patience = queue.patience_s
        patiences.append(rng.exponential(patience, total) if patience is not None else np.full(total, np.inf))
    all_t = np.concatenate(times)
    order = np.argsort(all_t, kind="stable")
    return (
        all_t[order].tolist(),
        np.concatenate(qs)[order].tolist(),
        np.concatenate(services)[order].tolist(),
        np.concatenate(patiences)[order].tolist(),
    )


def _replicate(rng: np.random.Generator, day: _Day) -> dict[str, list[list[float]]]:  # noqa: C901 - one hot loop
    queues, skills, groups, shifts = day.queues, day.skills, day.groups, day.shifts
    interval_s, intervals = day.interval_s, day.intervals
    arr_t, arr_q, service, patience = _arrivals(rng, queues, interval_s, intervals)
    n_contacts = len(arr_t)
    nq = len(queues)
    targets = [q.target_s for q in queues]
    state = [_WAITING] * n_contacts
    offered = [[0.0] * intervals for _ in range(nq)]
    answered = [[0.0] * intervals for _ in range(nq)]
    abandoned = [[0.0] * intervals for _ in range(nq)]
    within = [[0.0] * intervals for _ in range(nq)]
    wait_sum = [[0.0] * intervals for _ in range(nq)]
    left = [[0.0] * intervals for _ in range(nq)]
    busy_q = [[0.0] * intervals for _ in range(nq)]
    overrun_q = [[0.0] * intervals for _ in range(nq)]
    busy = [0.0] * intervals
    overrun = [0.0] * intervals

    n_agents = len(skills)
    on_shift = [False] * n_agents
    is_busy = [False] * n_agents
    busy_since = [0.0] * n_agents
    off_since = [0.0] * n_agents
    idle: list[OrderedDict[int, None]] = [OrderedDict() for _ in range(nq)]
    waiting: list[deque[int]] = [deque() for _ in range(nq)]
    heap: list[tuple[float, int, int, int]] = []
    seq = 0
    for a, agent_shifts in enumerate(shifts):
        for start, end in agent_shifts:
            heap.append((start, seq, _SHIFT_START, a))
            heap.append((end, seq + 1, _SHIFT_END, a))
            seq += 2
    heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop
    inf = math.inf
    horizon_end = intervals * interval_s
    last_interval = intervals - 1

    def account_busy(a: int, t0: float, t1: float) -> None:
        if t0 >= horizon_end:
            return
        i = int(t0 // interval_s)
        while t0 < t1 and i < intervals:
            end = min(t1, (i + 1) * interval_s)
            d = end - t0
            busy[i] += d
            for q in skills[a]:
                busy_q[q][i] += d
            t0 = end
            i += 1

    def account_overrun(a: int, t0: float, t1: float) -> None:
        if t0 >= horizon_end:
            return
        row = [0.0] * intervals
        _spread(row, t0, t1, interval_s, intervals)
        for i, d in enumerate(row):
            if d:
                overrun[i] += d
                for q in skills[a]:
                    overrun_q[q][i] += d

    def take_next(a: int, t: float) -> int:
        """The contact a free agent takes (longest waiting among its best-priority queues), or -1."""
        for group in groups[a]:
            best, best_t, best_q = -1, inf, -1
            for q in group:
                dq = waiting[q]
                while dq and state[dq[0]] != _WAITING:
                    dq.popleft()
                if dq and arr_t[dq[0]] < best_t:
                    best, best_t, best_q = dq[0], arr_t[dq[0]], q
            if best >= 0:
                waiting[best_q].popleft()
                return best
        return -1

    nxt = 0
    while True:
        if nxt < n_contacts and (not heap or arr_t[nxt] <= heap[0][0]):
            c = nxt
            nxt += 1
            t = arr_t[c]
            q = arr_q[c]
            i = min(int(t // interval_s), last_interval)
            offered[q][i] += 1.0
            pool = idle[q]
            if pool:
                a = next(iter(pool))
                for s in skills[a]:
                    del idle[s][a]
                state[c] = _ANSWERED
                answered[q][i] += 1.0
                within[q][i] += 1.0
                is_busy[a] = True
                busy_since[a] = t
                push(heap, (t + service[c], seq, _COMPLETE, a))
                seq += 1
            else:
                waiting[q].append(c)
                p = patience[c]
                if p < inf:
                    push(heap, (t + p, seq, _ABANDON, c))
                    seq += 1
            continue
        if not heap:
            break
        t, _, kind, x = pop(heap)
        if kind == _ABANDON:
            if state[x] == _WAITING:
                state[x] = _ABANDONED
                q = arr_q[x]
                i = min(int(arr_t[x] // interval_s), last_interval)
                abandoned[q][i] += 1.0
            continue
        a = x
        if kind == _COMPLETE:
            account_busy(a, busy_since[a], t)
            is_busy[a] = False
            if not on_shift[a]:
                account_overrun(a, off_since[a], t)
                continue
        elif kind == _SHIFT_START:
            on_shift[a] = True
            if is_busy[a]:
                account_overrun(a, off_since[a], t)
                continue
        else:  # shift end
            on_shift[a] = False
            if is_busy[a]:
                off_since[a] = t
            else:
                for s in skills[a]:
                    del idle[s][a]
            continue
        c = take_next(a, t)
        if c < 0:
            for s in skills[a]:
                idle[s][a] = None
            continue
        state[c] = _ANSWERED
        q = arr_q[c]
        ta = arr_t[c]
        i = min(int(ta // interval_s), last_interval)
        wait = t - ta
        answered[q][i] += 1.0
        wait_sum[q][i] += wait
        if wait <= targets[q]:
            within[q][i] += 1.0
        is_busy[a] = True
        busy_since[a] = t
        push(heap, (t + service[c], seq, _COMPLETE, a))
        seq += 1

    for c in range(n_contacts):
        if state[c] == _WAITING:
            left[arr_q[c]][min(int(arr_t[c] // interval_s), last_interval)] += 1.0
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "within": within,
        "wait_sum": wait_sum,
        "left": left,
        "busy": [busy],
        "busy_q": busy_q,
        "overrun": [overrun],
        "overrun_q": overrun_q,
    }
