"""Turning rows into the pure domain's inputs: AgentState for each agent of a pool, TicketSpec for a ticket,
PolicySpec for a policy — in a few queries (profiles, skills, teams, leave, one GROUP BY for the load).

The slow-changing part of a pool (profiles, skills, languages, teams) is cached per workspace under a version
key that routing bumps when it learns of a change (agent presence events, skill/leave/policy edits made here)
and that expires after `ROUTING_POOL_CACHE_SECONDS` anyway (edits made elsewhere, e.g. the admin). The load is
counted fresh for every decision, and the winner is re-checked under a row lock before it gets the ticket, so a
stale cache can only make a choice less good, never wrong.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, cast

from django.conf import settings
from django.db.models import Count, Max

from pivotdesk.accounts.models import AgentProfile, AgentSkill, AgentStatus, Role
from pivotdesk.common.choices import Channel, channel_type
from pivotdesk.routing.domain import AgentState, PolicySpec, Strategy, TicketSpec, Weights
from pivotdesk.routing.models import AgentLeave, CategorySkill, RoutingDecision, RoutingPolicy, TicketDevice
from pivotdesk.tickets.models import Category, Status, Ticket

# Tickets in these states count against an agent's capacity (pending / on hold wait on someone else).
LOAD_STATES = (Status.NEW, Status.OPEN)
FAIRNESS_WINDOW = dt.timedelta(hours=8)
ONSITE_FIELD = "onsite"
AFFECTED_USERS_FIELD = "affected_users"


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
            snap.states[agent_id] = replace(snap.states[agent_id], online=status == AgentStatus.ONLINE)


def clear_pool_cache() -> None:
    """Forget every cached pool, category skills and load snapshot (tests)."""
    from pivotdesk.routing.services.policies import forget_policies

    forget_policies()
    with _cache_lock:
        _profiles.clear()
        _category_skills.clear()
        _snapshots.clear()


def _cache_seconds() -> float:
    return float(getattr(settings, "ROUTING_POOL_CACHE_SECONDS", 30.0))


def _load_profiles(workspace_id: int) -> list[_Profile]:
    agents = list(
        AgentProfile.objects.filter(workspace_id=workspace_id, is_active=True)
        .exclude(role=Role.LIGHT_AGENT)
        .values_list(
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


def loads(workspace_id: int, agent_ids: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
    """Open tickets (new/open) per agent per channel type: one GROUP BY."""
    qs = Ticket.objects.filter(workspace_id=workspace_id, status__in=LOAD_STATES, assignee__isnull=False)
    if agent_ids is not None:
        qs = qs.filter(assignee_id__in=list(agent_ids))
    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for assignee_id, channel, n in qs.values_list("assignee_id", "channel").annotate(n=Count("pk")).order_by():
        out[assignee_id][channel_type(channel)] += n
    return {k: dict(v) for k, v in out.items()}


def agent_load(agent_id: int, workspace_id: int, kind: str) -> int:
    """One agent's open tickets of one channel type, counted exactly (inside the winner's lock)."""
    channels = [c for c in Channel.values if channel_type(c) == kind]
    return Ticket.objects.filter(
        workspace_id=workspace_id, assignee_id=agent_id, status__in=LOAD_STATES, channel__in=channels
    ).count()


@dataclass
class _Snapshot:
    """The workspace's AgentStates (profiles + loads + recent assignments + leave), rebuilt by query at most every
    ROUTING_LOAD_CACHE_SECONDS (or when the profile version changes) and kept current in between by the
    assignments routing itself makes (`note_assignment`)."""

    taken: float
    version: int
    loads: dict[int, dict[str, int]]
    recent: dict[int, tuple[int, float]]
    states: dict[int, AgentState]


_snapshots: dict[int, _Snapshot] = {}


def _load_cache_seconds() -> float:
    return float(getattr(settings, "ROUTING_LOAD_CACHE_SECONDS", 5.0))


def _build_states(
    members: list[_Profile], load: dict[int, dict[str, int]], recent: dict[int, tuple[int, float]], leave: set[int]
) -> dict[int, AgentState]:
    return {
        p.id: AgentState(
            id=p.id,
            name=p.name,
            online=p.status == AgentStatus.ONLINE,
            on_shift=True,  # no workforce schedule yet: everyone online is on shift
            on_leave=p.id in leave,
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


def _snapshot(workspace_id: int, at: dt.datetime) -> _Snapshot:
    ttl = _load_cache_seconds()
    with _cache_lock:
        version = _versions[workspace_id]
        snap = _snapshots.get(workspace_id)
        if snap is not None and snap.version == version and time.monotonic() - snap.taken < ttl:
            return snap
    taken = time.monotonic()
    load, recent = loads(workspace_id), _recent(workspace_id, at)
    states = _build_states(profiles(workspace_id), load, recent, _on_leave(workspace_id, at))
    fresh = _Snapshot(taken=taken, version=version, loads=load, recent=recent, states=states)
    if ttl > 0:
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
            snap.states[agent_id] = replace(
                snap.states[agent_id], load=agent_loads, recent_assignments=count + 1, last_assigned_at=at.timestamp()
            )
        if previous_id is not None and previous_id in snap.loads:
            before = dict(snap.loads[previous_id])
            before[kind] = max(0, before.get(kind, 0) - 1)
            snap.loads[previous_id] = before
            if previous_id in snap.states:
                snap.states[previous_id] = replace(snap.states[previous_id], load=before)


def _on_leave(workspace_id: int, at: dt.datetime) -> set[int]:
    return set(
        AgentLeave.objects.filter(workspace_id=workspace_id, start__lte=at, end__gt=at).values_list(
            "agent_id", flat=True
        )
    )


def _recent(workspace_id: int, at: dt.datetime) -> dict[int, tuple[int, float]]:
    rows = (
        RoutingDecision.objects.filter(
            workspace_id=workspace_id, agent__isnull=False, created_at__gte=at - FAIRNESS_WINDOW
        )
        .values("agent_id")
        .annotate(n=Count("pk"), last=Max("created_at"))
        .order_by()
    )
    return {r["agent_id"]: (r["n"], r["last"].timestamp() if r["last"] else 0.0) for r in rows}


def agent_states(
    *,
    workspace_id: int,
    policy: RoutingPolicy | None,
    at: dt.datetime,
    team_id: int | None = None,
    exclude: Iterable[int] = (),
) -> list[AgentState]:
    """AgentStates of the pool: the policy's team (or `team_id` for overflow), else every routable agent."""
    pool_team = team_id if team_id is not None else (policy.team_id if policy else None)
    excluded = set(exclude)
    states = _snapshot(workspace_id, at).states.values()
    return [s for s in states if s.id not in excluded and (pool_team is None or pool_team in s.team_ids)]


def _category_tree(workspace_id: int) -> dict[int, tuple[int | None, dict[str, int]]]:
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


def required_skills(ticket: Ticket) -> dict[str, int]:
    """Skills (name → minimum level) the ticket's category and its ancestors require."""
    if ticket.category_id is None:
        return {}
    tree = _category_tree(ticket.workspace_id)
    required: dict[str, int] = {}
    node: int | None = ticket.category_id
    seen: set[int] = set()
    while node is not None and node in tree and node not in seen:
        seen.add(node)
        parent, own = tree[node]
        for name, level in own.items():
            required[name] = max(level, required.get(name, 0))
        node = parent
    return required


def agent_names(workspace_id: int) -> dict[int, str]:
    """Names of the routable agents (from the cached profiles)."""
    return {p.id: p.name for p in profiles(workspace_id)}


def ticket_tier(ticket: Ticket) -> str:
    """The customer's tier: the contact's own override, else the organisation's, else standard."""
    requester = ticket.requester
    return str(requester.effective_tier)


def ticket_device(ticket: Ticket) -> TicketDevice | None:
    return TicketDevice.objects.select_related("device").filter(ticket_id=ticket.pk).first()


def is_onsite(ticket: Ticket, link: TicketDevice | None) -> bool:
    """On-site work: the device link says so, or the ticket's `onsite` custom field is set."""
    if link is not None and link.onsite:
        return True
    return bool(ticket.custom_fields.get(ONSITE_FIELD)) if isinstance(ticket.custom_fields, dict) else False


def previous_agents(ticket: Ticket, extra: Iterable[int] = ()) -> tuple[int, ...]:
    """Agents who helped this customer before, most recent first (continuity)."""
    ids = [i for i in extra if i]
    recent = (
        Ticket.objects.filter(
            workspace_id=ticket.workspace_id, requester_id=ticket.requester_id, assignee__isnull=False
        )
        .exclude(pk=ticket.pk)
        .order_by("-updated_at")
        .values_list("assignee_id", flat=True)[:5]
    )
    for agent_id in recent:
        if agent_id not in ids:
            ids.append(agent_id)
    return tuple(ids)


def ticket_spec(
    ticket: Ticket,
    *,
    at: dt.datetime,
    previous: Iterable[int] = (),
    waiting_since: dt.datetime | None = None,
) -> TicketSpec:
    """The pure description of a ticket the domain routes."""
    link = ticket_device(ticket)
    location = None
    if link is not None and link.device.latitude is not None and link.device.longitude is not None:
        location = (link.device.latitude, link.device.longitude)
    sla_left = None
    if ticket.sla_due_at is not None:
        sla_left = (ticket.sla_due_at - at).total_seconds() / 60.0
    affected = 1
    if isinstance(ticket.custom_fields, dict) and _is_int(ticket.custom_fields.get(AFFECTED_USERS_FIELD)):
        affected = max(1, int(ticket.custom_fields[AFFECTED_USERS_FIELD]))
    return TicketSpec(
        id=ticket.pk,
        channel_type=channel_type(ticket.channel),
        priority=ticket.priority,
        tier=ticket_tier(ticket),
        language=_lang(ticket.language) if ticket.language else "",
        required_skills=required_skills(ticket),
        team_id=ticket.team_id,
        location=location,
        onsite=is_onsite(ticket, link),
        sla_minutes_left=sla_left,
        affected_users=affected,
        previous_agent_ids=previous_agents(ticket, previous),
        waiting_since=(waiting_since or ticket.created_at).timestamp(),
    )


def policy_spec(policy: RoutingPolicy | None) -> PolicySpec:
    """The pure policy; no policy (a supervisor's preview without one) is the default weighted policy."""
    if policy is None:
        return PolicySpec()
    known = set(Weights.__dataclass_fields__)
    weights = {k: float(v) for k, v in (policy.weights or {}).items() if k in known and _is_number(v)}
    spec = PolicySpec(
        strategy=cast(Strategy, policy.strategy),
        weights=Weights(**weights),
        seniority_by_tier={str(k): int(v) for k, v in (policy.seniority_by_tier or {}).items() if _is_int(v)},
        require_language=policy.require_language,
        max_distance_km=policy.max_distance_km,
    )
    if not policy.relax_enabled:
        spec = replace(spec, relax_steps=())
    return spec


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
