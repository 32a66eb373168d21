"""Agents as numpy columns, so the hard filters and the scores run over all agents at once.

An `AgentTable` reads each attribute of each agent once; columns that depend on the ticket (load for a channel
type, the level of one skill, membership of one team, speaking one language) are built on first use and cached.
`decide` builds a table per call; `batch_assign` builds one for the whole backlog; a caller routing many tickets
against the same agents (the routing app inside one dispatch pass) can build one and pass it instead of a list.
The table is a snapshot: build a new one after the agents change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pivotdesk.routing.domain import factors as f
from pivotdesk.routing.domain.model import AgentState

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class AgentTable:
    """Column view of a sequence of agents (row i is `agents[i]`)."""

    def __init__(self, agents: Sequence[AgentState]) -> None:
        self.agents: list[AgentState] = list(agents)
        n = len(self.agents)
        self.size = n
        rows = [
            (a.online, a.on_shift, a.on_leave, a.seniority, a.recent_assignments, a.last_assigned_at)
            for a in self.agents
        ]
        table = np.array(rows, dtype=np.float64).reshape(n, 6)
        self.online: BoolArray = table[:, 0] > 0
        self.on_shift: BoolArray = table[:, 1] > 0
        self.on_leave: BoolArray = table[:, 2] > 0
        self.seniority: FloatArray = table[:, 3]
        self.recent: FloatArray = table[:, 4]
        self.last_assigned: FloatArray = table[:, 5]
        self.ids = np.array([a.id for a in self.agents], dtype=np.int64)
        self._channels: dict[str, tuple[FloatArray, FloatArray]] = {}
        self._skills: dict[str, FloatArray] = {}
        self._teams: dict[int, BoolArray] = {}
        self._languages: dict[str, BoolArray] = {}
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
        table._channels = {channel_type: (columns[:, 0], columns[:, 1])}
        table._skills = {}
        table._teams = {}
        table._languages = {}
        table._language_keys = None
        table._locations = None
        return table

    def channel(self, channel_type: str) -> tuple[FloatArray, FloatArray]:
        """(load, capacity) for a channel type; a missing capacity is 0."""
        if channel_type not in self._channels:
            pairs = [(a.load.get(channel_type, 0), a.capacity.get(channel_type, 0)) for a in self.agents]
            both = np.array(pairs, dtype=np.float64).reshape(self.size, 2)
            self._channels[channel_type] = (both[:, 0], both[:, 1])
        return self._channels[channel_type]

    def skill(self, name: str) -> FloatArray:
        """Each agent's level in one skill (0 when the agent does not have it)."""
        if name not in self._skills:
            self._skills[name] = np.array([a.skills.get(name, 0) for a in self.agents], dtype=np.float64)
        return self._skills[name]

    def in_team(self, team_id: int) -> BoolArray:
        if team_id not in self._teams:
            self._teams[team_id] = np.array([team_id in a.team_ids for a in self.agents], dtype=bool)
        return self._teams[team_id]

    def speaks(self, language: str) -> BoolArray:
        """Who speaks the language (by primary subtag, as `factors.speaks`); everyone for an empty language."""
        if not language:
            return np.ones(self.size, dtype=bool)
        key = f.language_key(language)
        if key not in self._languages:
            if self._language_keys is None:
                self._language_keys = [frozenset(f.language_key(x) for x in a.languages) for a in self.agents]
            self._languages[key] = np.array([key in keys for keys in self._language_keys], dtype=bool)
        return self._languages[key]

    def extra_languages(self, language: str) -> FloatArray:
        """How many languages each agent speaks besides this one (by primary subtag)."""
        key = f.language_key(language)
        if self._language_keys is None:
            self._language_keys = [frozenset(f.language_key(x) for x in a.languages) for a in self.agents]
        return np.array([len(keys - {key}) for keys in self._language_keys], dtype=np.float64)

    def locations(self) -> FloatArray:
        """(n, 2) latitude/longitude in degrees; NaN where the agent's location is unknown."""
        if self._locations is None:
            nan = (float("nan"), float("nan"))
            points = [a.location if a.location is not None else nan for a in self.agents]
            self._locations = np.array(points, dtype=np.float64).reshape(self.size, 2)
        return self._locations


def haversine_many(points: FloatArray, site: tuple[float, float]) -> FloatArray:
    """Great-circle distances in km from each (lat, lon) row to the site (NaN rows stay NaN)."""
    lat = np.radians(points[:, 0])
    lon = np.radians(points[:, 1])
    lat0, lon0 = np.radians(site[0]), np.radians(site[1])
    h = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat) * np.cos(lat0) * np.sin((lon - lon0) / 2) ** 2
    result: FloatArray = 2 * f.EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result
