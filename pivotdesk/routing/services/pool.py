"""The agents routing chooses from: an AgentState (and an `AgentTable` row) for each agent of a workspace, in a
few queries (profiles, skills, teams, leave, one GROUP BY for the load), cached per process. The ticket and policy
side (`TicketSpec`, `PolicySpec`) is in `specs.py`.

The slow-changing part of a pool (profiles, skills, languages, teams) is cached per workspace under a version
key that routing bumps when it learns of a change (agent presence events, skill/leave/policy edits made here)
and that expires after `ROUTING_POOL_CACHE_SECONDS` anyway (edits made elsewhere, e.g. the admin). Loads, the
fairness window and leave form a snapshot (`_Snapshot`, with the agents also as a numpy `AgentTable`) recounted
every `ROUTING_LOAD_CACHE_SECONDS` — in a background thread while routing is busy — and kept current in between by
routing's own assignments and by the exact load counted under the winner's row lock. The winner is always
re-checked under that lock before it gets the ticket, so a stale cache can only make a choice less good, never
wrong.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet

from pivotdesk.accounts.models import AgentProfile, AgentSkill, AgentStatus
from pivotdesk.accounts.permissions import assignable_q
from pivotdesk.common.choices import Channel, channel_type
from pivotdesk.common.compiled import compiled_rows
from pivotdesk.common.time import now as current_time
from pivotdesk.routing.domain import AgentState, AgentTable
from pivotdesk.routing.models import CategorySkill, RoutingPolicy
from pivotdesk.tickets.models import Category, Status, Ticket
from pivotdesk.workforce.selectors import Availability, availability

log = logging.getLogger(__name__)

# Tickets in these states count against an agent's capacity (pending / on hold wait on someone else).
LOAD_STATES = (Status.NEW, Status.OPEN)
FAIRNESS_WINDOW = dt.timedelta(hours=8)


@dataclass(frozen=True)
class _Profile:
    """The cached, slow-changing part of one agent."""

    id: int
    name: str
    status: str
    skills: dict[str, int]
    languages: frozenset[str]
    capacity: dict[str, int]
    seniority: int
    team_ids: frozenset[int]
    location: tuple[float, float] | None


_cache_lock = threading.Lock()
_versions: dict[int, int] = defaultdict(int)
_profiles: dict[int, tuple[int, float, list[_Profile]]] = {}
_category_skills: dict[int, tuple[int, float, dict[int, tuple[int | None, dict[str, int]]]]] = {}


def _policy_forget(workspace_id: int) -> None:
    from pivotdesk.routing.services.policies import forget_policies

    forget_policies(workspace_id)


def bump_pool_version(workspace_id: int) -> None:
    """Forget the cached profiles of a workspace (presence, skills, languages or teams changed)."""
    with _cache_lock:
        _versions[workspace_id] += 1
        _policy_forget(workspace_id)
        _profiles.pop(workspace_id, None)
        _category_skills.pop(workspace_id, None)


def note_presence(workspace_id: int, *, agent_id: int, status: str) -> None:
    """An agent's presence changed: patch the cached profile and state in place (no reload of the whole pool)."""
    with _cache_lock:
        hit = _profiles.get(workspace_id)
        if hit is not None:
            _profiles[workspace_id] = (
                hit[0],
                hit[1],
                [replace(p, status=status) if p.id == agent_id else p for p in hit[2]],
            )
        snap = _snapshots.get(workspace_id)
        if snap is not None and agent_id in snap.states:
            snap.put(replace(snap.states[agent_id], online=status == AgentStatus.ONLINE))


def clear_pool_cache() -> None:
    """Forget every cached pool, category skills and load snapshot (tests)."""
    from pivotdesk.routing.services.policies import forget_policies

    forget_policies()
    with _cache_lock:
        _profiles.clear()
        _category_skills.clear()
        _snapshots.clear()
        _names.clear()


def _cache_seconds() -> float:
    return float(getattr(settings, "ROUTING_POOL_CACHE_SECONDS", 30.0))


def _load_profiles(workspace_id: int) -> list[_Profile]:
    agents = list(
        AgentProfile.objects.filter(assignable_q(), workspace_id=workspace_id).values_list(
            "pk",
            "user__display_name",
            "user__username",
            "status",
            "languages",
            "capacity",
            "seniority",
            "latitude",
            "longitude",
        )
    )
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for agent_id, name, level in AgentSkill.objects.filter(agent__workspace_id=workspace_id).values_list(
        "agent_id", "skill__name", "level"
    ):
        skills[agent_id][name] = level
    teams: dict[int, set[int]] = defaultdict(set)
    through = AgentProfile.teams.through
    for agent_id, team_id in through.objects.filter(agentprofile__workspace_id=workspace_id).values_list(
        "agentprofile_id", "team_id"
    ):
        teams[agent_id].add(team_id)
    profiles = []
    for pk, display, username, status, langs, capacity, seniority, lat, lon in agents:
        profiles.append(
            _Profile(
                id=pk,
                name=display or username,
                status=status,
                skills=skills.get(pk, {}),
                languages=frozenset(_lang(x) for x in (langs or []) if isinstance(x, str)),
                capacity={str(k): int(v) for k, v in (capacity or {}).items() if _is_int(v)},
                seniority=int(seniority or 1),
                team_ids=frozenset(teams.get(pk, set())),
                location=(lat, lon) if lat is not None and lon is not None else None,
            )
        )
    return profiles


def _is_int(value: Any) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


def _lang(code: str) -> str:
    """A language code reduced to its base ("zh-hans" → "zh", "en-GB" → "en")."""
    return code.strip().lower().replace("_", "-").split("-", 1)[0]


def profiles(workspace_id: int) -> list[_Profile]:
    """The workspace's routable agents (active, not light agents), cached under the version key."""
    ttl = _cache_seconds()
    with _cache_lock:
        version = _versions[workspace_id]
        hit = _profiles.get(workspace_id)
        if hit is not None and hit[0] == version and time.monotonic() - hit[1] < ttl:
            return hit[2]
    loaded = _load_profiles(workspace_id)
    with _cache_lock:
        if _versions[workspace_id] == version and ttl > 0:
            _profiles[workspace_id] = (version, time.monotonic(), loaded)
    return loaded


def _channels_by_type() -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = defaultdict(list)
    for channel in Channel.values:
        kinds[channel_type(channel)].append(channel)
    return dict(kinds)


def loads(workspace_id: int, agent_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
    """Open tickets (new/open) per agent per channel type: one GROUP BY over the assignee index, a row per agent
    with a count per channel type."""
    qs = Ticket.objects.filter(workspace_id=workspace_id, status__in=LOAD_STATES, assignee__isnull=False)
    if agent_ids is not None:
        qs = qs.filter(assignee_id__in=list(agent_ids))
    kinds = _channels_by_type()
    counts = {f"n_{kind}": Count("pk", filter=Q(channel__in=channels)) for kind, channels in kinds.items()}
    out: dict[int, dict[str, int]] = {}
    for row in qs.values("assignee_id").annotate(**counts).order_by().values_list("assignee_id", *counts):
        out[row[0]] = {kind: n for kind, n in zip(kinds, row[1:], strict=True) if n}
    return out


def _load_query(kind: str) -> Callable[[int, int], QuerySet[Any, Any]]:
    channels = _channels_by_type().get(kind, [])

    def build(workspace_id: int, agent_id: int) -> QuerySet[Any, Any]:
        return (
            Ticket.objects.filter(
                workspace_id=workspace_id, assignee_id=agent_id, status__in=LOAD_STATES, channel__in=channels
            )
            .order_by()
            .values("assignee_id")
            .annotate(n=Count("pk"))
            .values_list("n")
        )

    return build


def agent_load(agent_id: int, workspace_id: int, kind: str) -> int:
    """One agent's open tickets of one channel type, counted exactly (inside the winner's lock)."""
    build = _load_query(kind)
    rows = compiled_rows(f"routing.load:{kind}", build, (workspace_id, agent_id))
    return int(rows[0][0]) if rows else 0


@dataclass
class _Snapshot:
    """The workspace's AgentStates (profiles + loads + recent assignments + leave) and the same agents as numpy
    columns (`table`), rebuilt by query about every ROUTING_LOAD_CACHE_SECONDS (see `_snapshot`; at once when the
    profile version changes) and kept current in between by the assignments routing itself makes
    (`note_assignment`), the loads recounted under a winner's lock (`note_load`) and the presence changes it hears
    of (`note_presence`). Changed only under `_cache_lock`."""

    taken: float
    version: int
    valid_until: dt.datetime | None  # the next shift or leave boundary: rebuilt then, whatever its age
    loads: dict[int, dict[str, int]]
    recent: dict[int, tuple[int, float]]
    states: dict[int, AgentState]
    table: AgentTable

    def put(self, state: AgentState) -> None:
        """One agent's state changed: the dict and the table's row."""
        self.states[state.id] = state
        row = self.table.row_of(state.id)
        if row is not None:
            self.table.replace_row(row, state)


_snapshots: dict[int, _Snapshot] = {}


def _load_cache_seconds() -> float:
    return float(getattr(settings, "ROUTING_LOAD_CACHE_SECONDS", 5.0))


def _build_states(
    members: list[_Profile], load: dict[int, dict[str, int]], recent: dict[int, tuple[int, float]], when: Availability
) -> dict[int, AgentState]:
    return {
        p.id: AgentState(
            id=p.id,
            name=p.name,
            online=p.status == AgentStatus.ONLINE,
            on_shift=not when.rostered or p.id in when.on_shift,  # workforce decides (everyone when unplanned)
            on_leave=p.id in when.on_leave,
            skills=p.skills,
            languages=p.languages,
            load=load.get(p.id, {}),
            capacity=p.capacity,
            seniority=p.seniority,
            team_ids=p.team_ids,
            location=p.location,
            recent_assignments=recent.get(p.id, (0, 0.0))[0],
            last_assigned_at=recent.get(p.id, (0, 0.0))[1],
        )
        for p in members
    }


def _max_age_seconds() -> float:
    return float(getattr(settings, "ROUTING_LOAD_MAX_AGE_SECONDS", 60.0))


def _refresh_in_background() -> bool:
    """ROUTING_LOAD_REFRESH_IN_BACKGROUND: True, False, or None (the default) for "unless the database is SQLite".
    SQLite runs inside this process: a thread stepping through its rows takes the GIL back for every row, so it
    would slow the decisions it is meant to spare (measured: several times slower both ways)."""
    configured = getattr(settings, "ROUTING_LOAD_REFRESH_IN_BACKGROUND", None)
    if configured is None:
        return connection.vendor != "sqlite"
    return bool(configured)


_refreshing: set[int] = set()


def _snapshot(workspace_id: int, at: dt.datetime) -> _Snapshot:
    """The workspace's snapshot. Younger than ROUTING_LOAD_CACHE_SECONDS: used as it is. Older, but younger than
    ROUTING_LOAD_MAX_AGE_SECONDS: still used, while one background thread rebuilds it (so a decision never waits for
    the recount over every open ticket while routing is busy). Older still, missing, or of an old profile version:
    rebuilt now."""
    ttl = _load_cache_seconds()
    with _cache_lock:
        version = _versions[workspace_id]
        snap = _snapshots.get(workspace_id)
        if snap is not None and snap.version == version and (snap.valid_until is None or at < snap.valid_until):
            age = time.monotonic() - snap.taken
            if age < ttl:
                return snap
            if age < _max_age_seconds() and _refresh_in_background():
                if workspace_id not in _refreshing:
                    _refreshing.add(workspace_id)
                    threading.Thread(
                        target=_refresh, args=(workspace_id, version), name=f"routing-pool-{workspace_id}", daemon=True
                    ).start()
                return snap
    return _rebuild(workspace_id, at, version)


def _refresh(workspace_id: int, version: int) -> None:
    """Rebuild a snapshot in a background thread (its own database connection, closed at the end)."""
    try:
        _rebuild(workspace_id, current_time(), version)
    except Exception:  # the next decision rebuilds it in the foreground once it is too old
        log.exception("routing: background refresh of workspace %s failed", workspace_id)
    finally:
        with _cache_lock:
            _refreshing.discard(workspace_id)
        connection.close()


def _rebuild(workspace_id: int, at: dt.datetime, version: int) -> _Snapshot:
    taken = time.monotonic()
    load, recent = loads(workspace_id), _recent(workspace_id, at)
    when = availability(workspace_id, at)
    states = _build_states(profiles(workspace_id), load, recent, when)
    fresh = _Snapshot(
        taken=taken,
        version=version,
        valid_until=when.next_change,
        loads=load,
        recent=recent,
        states=states,
        table=AgentTable(list(states.values())),
    )
    if _load_cache_seconds() > 0:
        with _cache_lock:
            if _versions[workspace_id] == version:
                _snapshots[workspace_id] = fresh
    return fresh


def load_snapshot(workspace_id: int, at: dt.datetime) -> tuple[dict[int, dict[str, int]], dict[int, tuple[int, float]]]:
    """Loads per agent per channel type and recent assignments (count, last time) of the workspace."""
    snap = _snapshot(workspace_id, at)
    return snap.loads, snap.recent


def note_assignment(workspace_id: int, *, agent_id: int, kind: str, previous_id: int | None, at: dt.datetime) -> None:
    """Keep the cached snapshot current after routing assigned a ticket (the next refresh recounts anyway)."""
    with _cache_lock:
        snap = _snapshots.get(workspace_id)
        if snap is None:
            return
        agent_loads = dict(snap.loads.get(agent_id, {}))
        agent_loads[kind] = agent_loads.get(kind, 0) + 1
        snap.loads[agent_id] = agent_loads
        count, _ = snap.recent.get(agent_id, (0, 0.0))
        snap.recent[agent_id] = (count + 1, at.timestamp())
        if agent_id in snap.states:
            snap.put(
                replace(
                    snap.states[agent_id],
                    load=agent_loads,
                    recent_assignments=count + 1,
                    last_assigned_at=at.timestamp(),
                )
            )
        if previous_id is not None and previous_id in snap.loads:
            before = dict(snap.loads[previous_id])
            before[kind] = max(0, before.get(kind, 0) - 1)
            snap.loads[previous_id] = before
            if previous_id in snap.states:
                snap.put(replace(snap.states[previous_id], load=before))


def note_load(workspace_id: int, *, agent_id: int, kind: str, load: int) -> None:
    """The exact load of one agent for one channel type, just counted under its row lock: put it in the cached
    snapshot, so assignments made by other processes (which this one never hears of) correct themselves for every
    agent a decision picks, between the periodic recounts."""
    with _cache_lock:
        snap = _snapshots.get(workspace_id)
        if snap is None or snap.loads.get(agent_id, {}).get(kind, 0) == load:
            return
        agent_loads = {**snap.loads.get(agent_id, {}), kind: load}
        snap.loads[agent_id] = agent_loads
        if agent_id in snap.states:
            snap.put(replace(snap.states[agent_id], load=agent_loads))


def _recent(workspace_id: int, at: dt.datetime) -> dict[int, tuple[int, float]]:
    """Per agent: the tickets assigned to them in the fairness window that they still hold, and when the latest was
    assigned. Whoever assigned them — routing, a supervisor or the agent taking one — so fairness and round-robin
    see manual assignments too (index `ticket_ws_assigned_at`)."""
    rows = (
        Ticket.objects.filter(workspace_id=workspace_id, assignee__isnull=False, assigned_at__gte=at - FAIRNESS_WINDOW)
        .values("assignee_id")
        .annotate(n=Count("pk"), last=Max("assigned_at"))
        .order_by()
    )
    return {r["assignee_id"]: (r["n"], r["last"].timestamp() if r["last"] else 0.0) for r in rows}


def agent_states(
    *,
    workspace_id: int,
    policy: RoutingPolicy | None,
    at: dt.datetime,
    team_id: int | None = None,
    exclude: Iterable[int] = (),
) -> list[AgentState]:
    """AgentStates of the pool (a copy of `agent_table`'s rows): the policy's team (or `team_id` for overflow), else
    every routable agent."""
    return list(agent_table(workspace_id=workspace_id, policy=policy, at=at, team_id=team_id, exclude=exclude).agents)


def agent_table(
    *,
    workspace_id: int,
    policy: RoutingPolicy | None,
    at: dt.datetime,
    team_id: int | None = None,
    exclude: Iterable[int] = (),
) -> AgentTable:
    """The pool as numpy columns: the workspace's cached table, or the rows of the policy's team (or `team_id` for
    overflow) without the excluded agents taken from it."""
    pool_team = team_id if team_id is not None else (policy.team_id if policy else None)
    excluded = list(set(exclude))
    table = _snapshot(workspace_id, at).table
    if pool_team is None and not excluded:
        return table
    keep = np.ones(table.size, dtype=bool) if pool_team is None else table.in_team(pool_team).copy()
    if excluded:
        keep &= ~np.isin(table.ids, np.array(excluded, dtype=np.int64))
    return table.take(np.flatnonzero(keep))


def category_tree(workspace_id: int) -> dict[int, tuple[int | None, dict[str, int]]]:
    """Every category of the workspace: (parent id, its own required skills), cached under the version key."""
    ttl = _cache_seconds()
    with _cache_lock:
        version = _versions[workspace_id]
        hit = _category_skills.get(workspace_id)
        if hit is not None and hit[0] == version and time.monotonic() - hit[1] < ttl:
            return hit[2]
    tree: dict[int, tuple[int | None, dict[str, int]]] = {
        pk: (parent, {})
        for pk, parent in Category.objects.filter(workspace_id=workspace_id).values_list("pk", "parent_id")
    }
    for category_id, name, level in CategorySkill.objects.filter(workspace_id=workspace_id).values_list(
        "category_id", "skill__name", "min_level"
    ):
        if category_id in tree:
            tree[category_id][1][name] = level
    with _cache_lock:
        if _versions[workspace_id] == version and ttl > 0:
            _category_skills[workspace_id] = (version, time.monotonic(), tree)
    return tree


_names: dict[int, tuple[list[_Profile], dict[int, str]]] = {}


def agent_names(workspace_id: int) -> dict[int, str]:
    """Names of the routable agents (from the cached profiles; the mapping is built once per profile list)."""
    members = profiles(workspace_id)
    hit = _names.get(workspace_id)
    if hit is not None and hit[0] is members:
        return hit[1]
    names = {p.id: p.name for p in members}
    _names[workspace_id] = (members, names)
    return names
