"""Agents as numpy columns, so the hard filters and the scores run over all agents at once.

An `AgentTable` reads each attribute of each agent once; columns that depend on the ticket (load for a channel
type, the level of one skill, membership of one team, speaking one language) are built on first use and cached.
`batch_assign` builds one for the whole backlog. The routing app keeps one table per workspace between decisions:
`replace_row` brings a row up to date when an assignment or a presence change alters it, and `take` gives one
team's pool as a table whose columns are slices of the cached ones, so a decision costs a few numpy operations
over the pool instead of a pass over every agent in Python."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pivotdesk.routing.domain import factors as f
from pivotdesk.routing.domain.model import AgentState

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]


class AgentTable:
    """Column view of a sequence of agents (row i is `agents[i]`).

    A table can be kept and reused: `replace_row` brings one row up to date (an assignment changed its load, a
    presence change its availability) in every column built so far, and `take` gives the table of a subset of
    rows (one team's pool) whose ticket-dependent columns are slices of the parent's cached ones.
    """

    def __init__(self, agents: Sequence[AgentState]) -> None:
        self.agents: list[AgentState] = list(agents)
        n = len(self.agents)
        self.size = n
        rows = [_scalars(a) for a in self.agents]
        table = np.array(rows, dtype=np.float64).reshape(n, 6)
        self.online: BoolArray = table[:, 0] > 0
        self.on_shift: BoolArray = table[:, 1] > 0
        self.on_leave: BoolArray = table[:, 2] > 0
        self.seniority: FloatArray = table[:, 3]
        self.recent: FloatArray = table[:, 4]
        self.last_assigned: FloatArray = table[:, 5]
        self.ids = np.array([a.id for a in self.agents], dtype=np.int64)
        self._init_caches()

    def _init_caches(self) -> None:
        self._parent: tuple[AgentTable, IntArray] | None = None
        self._row_of: dict[int, int] | None = None
        self._channels: dict[str, tuple[FloatArray, FloatArray]] = {}
        self._skills: dict[str, FloatArray] = {}
        self._teams: dict[int, BoolArray] = {}
        self._languages: dict[str, BoolArray] = {}
        self._extra: dict[str, FloatArray] = {}
        self._language_keys: list[frozenset[str]] | None = None
        self._locations: FloatArray | None = None

    @classmethod
    def of_eligible(
        cls, agents: list[AgentState], rows: list[tuple[int, int, int, int, float, int]], channel_type: str
    ) -> AgentTable:
        """A table of agents already known to be available with room, from the numbers the filter pass gathered:
        (load, capacity, seniority, recent assignments, last assigned at, id) for `channel_type`."""
        table = cls.__new__(cls)
        n = len(agents)
        table.agents = agents
        table.size = n
        columns = np.array(rows, dtype=np.float64).reshape(n, 6)
        table.online = np.ones(n, dtype=bool)
        table.on_shift = np.ones(n, dtype=bool)
        table.on_leave = np.zeros(n, dtype=bool)
        table.seniority = columns[:, 2]
        table.recent = columns[:, 3]
        table.last_assigned = columns[:, 4]
        table.ids = np.array([row[5] for row in rows], dtype=np.int64)
        table._init_caches()
        table._channels = {channel_type: (columns[:, 0], columns[:, 1])}
        return table

    # ---- keeping a table current ---------------------------------------------------------------------------

    def row_of(self, agent_id: int) -> int | None:
        """The row of an agent (None when the agent is not in the table)."""
        if self._row_of is None:
            self._row_of = {int(i): r for r, i in enumerate(self.ids.tolist())}
        return self._row_of.get(agent_id)

    def replace_row(self, row: int, agent: AgentState) -> None:
        """Row `row` is now `agent` (the same id): every column built so far is updated in place.

        Only for a table that is not a `take` of another one (a subset is a per-call view: build it again).
        """
        if self._parent is not None:
            raise ValueError("replace_row on a subset table: update the parent and take the subset again")
        self.agents[row] = agent
        (
            self.online[row],
            self.on_shift[row],
            self.on_leave[row],
            self.seniority[row],
            self.recent[row],
            self.last_assigned[row],
        ) = _scalars(agent)
        for kind, (load, capacity) in list(self._channels.items()):
            load[row] = agent.load.get(kind, 0)
            capacity[row] = agent.capacity.get(kind, 0)
        for name, levels in list(self._skills.items()):
            levels[row] = agent.skills.get(name, 0)
        for team, members in list(self._teams.items()):
            members[row] = team in agent.team_ids
        keys = frozenset(f.language_key(x) for x in agent.languages)
        if self._language_keys is not None:
            self._language_keys[row] = keys
        for key, speakers in list(self._languages.items()):
            speakers[row] = key in keys
        for key, extra in list(self._extra.items()):
            extra[row] = len(keys - {key})
        if self._locations is not None:
            self._locations[row] = agent.location if agent.location is not None else (float("nan"), float("nan"))

    def take(self, rows: IntArray) -> AgentTable:
        """The table of these rows (in this order); its columns are slices of this table's (cached) columns."""
        sub = AgentTable.__new__(AgentTable)
        picked = rows.tolist()
        sub.agents = [self.agents[i] for i in picked]
        sub.size = len(picked)
        sub.online = self.online[rows]
        sub.on_shift = self.on_shift[rows]
        sub.on_leave = self.on_leave[rows]
        sub.seniority = self.seniority[rows]
        sub.recent = self.recent[rows]
        sub.last_assigned = self.last_assigned[rows]
        sub.ids = self.ids[rows]
        sub._init_caches()
        sub._parent = (self, rows)
        return sub

    # ---- columns that depend on the ticket (built on first use, cached) -----------------------------------

    def channel(self, channel_type: str) -> tuple[FloatArray, FloatArray]:
        """(load, capacity) for a channel type; a missing capacity is 0."""
        if channel_type not in self._channels:
            if self._parent is not None:
                parent, rows = self._parent
                load, capacity = parent.channel(channel_type)
                self._channels[channel_type] = (load[rows], capacity[rows])
            else:
                pairs = [(a.load.get(channel_type, 0), a.capacity.get(channel_type, 0)) for a in self.agents]
                both = np.array(pairs, dtype=np.float64).reshape(self.size, 2)
                self._channels[channel_type] = (both[:, 0].copy(), both[:, 1].copy())
        return self._channels[channel_type]

    def skill(self, name: str) -> FloatArray:
        """Each agent's level in one skill (0 when the agent does not have it)."""
        if name not in self._skills:
            if self._parent is not None:
                parent, rows = self._parent
                self._skills[name] = parent.skill(name)[rows]
            else:
                self._skills[name] = np.array([a.skills.get(name, 0) for a in self.agents], dtype=np.float64)
        return self._skills[name]

    def in_team(self, team_id: int) -> BoolArray:
        if team_id not in self._teams:
            if self._parent is not None:
                parent, rows = self._parent
                self._teams[team_id] = parent.in_team(team_id)[rows]
            else:
                self._teams[team_id] = np.array([team_id in a.team_ids for a in self.agents], dtype=bool)
        return self._teams[team_id]

    def _keys(self) -> list[frozenset[str]]:
        if self._language_keys is None:
            self._language_keys = [frozenset(f.language_key(x) for x in a.languages) for a in self.agents]
        return self._language_keys

    def speaks(self, language: str) -> BoolArray:
        """Who speaks the language (by primary subtag, as `factors.speaks`); everyone for an empty language."""
        if not language:
            return np.ones(self.size, dtype=bool)
        key = f.language_key(language)
        if key not in self._languages:
            if self._parent is not None:
                parent, rows = self._parent
                self._languages[key] = parent.speaks(language)[rows]
            else:
                self._languages[key] = np.array([key in keys for keys in self._keys()], dtype=bool)
        return self._languages[key]

    def extra_languages(self, language: str) -> FloatArray:
        """How many languages each agent speaks besides this one (by primary subtag)."""
        key = f.language_key(language)
        if key not in self._extra:
            if self._parent is not None:
                parent, rows = self._parent
                self._extra[key] = parent.extra_languages(language)[rows]
            else:
                self._extra[key] = np.array([len(keys - {key}) for keys in self._keys()], dtype=np.float64)
        return self._extra[key]

    def locations(self) -> FloatArray:
        """(n, 2) latitude/longitude in degrees; NaN where the agent's location is unknown."""
        if self._locations is None:
            if self._parent is not None:
                parent, rows = self._parent
                self._locations = parent.locations()[rows]
            else:
                nan = (float("nan"), float("nan"))
                points = [a.location if a.location is not None else nan for a in self.agents]
                self._locations = np.array(points, dtype=np.float64).reshape(self.size, 2)
        return self._locations


def _scalars(agent: AgentState) -> tuple[bool, bool, bool, int, int, float]:
    return (
        agent.online,
        agent.on_shift,
        agent.on_leave,
        agent.seniority,
        agent.recent_assignments,
        agent.last_assigned_at,
    )


def haversine_many(points: FloatArray, site: tuple[float, float]) -> FloatArray:
    """Great-circle distances in km from each (lat, lon) row to the site (NaN rows stay NaN)."""
    lat = np.radians(points[:, 0])
    lon = np.radians(points[:, 1])
    lat0, lon0 = np.radians(site[0]), np.radians(site[1])
    h = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat) * np.cos(lat0) * np.sin((lon - lon0) / 2) ** 2
    result: FloatArray = 2 * f.EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result
