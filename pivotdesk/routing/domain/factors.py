"""The scalar pieces of a routing score, each a small pure function (docs/routing.md has the formulas).

Every factor is normalised to 0..1, 1 being best. The engine applies them to arrays of agents at once; these
scalar versions are the reference the tests compare against and what explanations quote.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

PRIORITY_RANK: Mapping[str, int] = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
PRIORITY_IMPACT: Mapping[str, float] = {"urgent": 1.0, "high": 0.6, "normal": 0.25, "low": 0.0}
SENIORITY_LABELS: Mapping[int, str] = {1: "junior", 2: "intermediate", 3: "senior", 4: "expert"}

# An SLA with this much time left (or less) pushes impact up linearly to 1 at the deadline.
SLA_HORIZON_MINUTES = 240.0
# 10^3 = 1,000 affected users or more count as the widest possible impact.
AFFECTED_USERS_DECADES = 3.0
# Geography: the distance at which the factor falls to one half.
HALF_SCORE_DISTANCE_KM = 10.0
# Standard customers prefer the juniors by this much against the experts, keeping seniors free for VIPs.
STANDARD_SENIORITY_SPREAD = 0.5
# Routine tickets spare multilingual agents: each extra language (up to two) costs this much of the language factor.
LANGUAGE_SPARE = 0.1
SURPLUS_BONUS = 0.2  # the share of the skill factor that depends on the level above the minimum
EARTH_RADIUS_KM = 6371.0088


def impact_of(*, priority: str, sla_minutes_left: float | None, affected_users: int) -> float:
    """How much the ticket matters right now, 0..1: a noisy-or of priority, SLA pressure and people affected.

    Any one strong signal is enough: an urgent ticket is 1.0, so is a normal one at its SLA deadline.
    """
    p = PRIORITY_IMPACT.get(priority, PRIORITY_IMPACT["normal"])
    s = 0.0 if sla_minutes_left is None else min(1.0, max(0.0, 1.0 - sla_minutes_left / SLA_HORIZON_MINUTES))
    u = min(1.0, max(0.0, math.log10(max(1, affected_users)) / AFFECTED_USERS_DECADES))
    return 1.0 - (1.0 - p) * (1.0 - s) * (1.0 - u)


def skill_match(levels: Mapping[str, int], required: Mapping[str, int], impact: float = 0.0) -> float:
    """Coverage of the required levels (80 %) plus how the level above the minimum suits the ticket (20 %).

    Per skill: coverage = min(level, minimum) / minimum and surplus = (level − minimum) / (5 − minimum). The
    surplus share is impact·surplus + (1 − impact)·(1 − surplus) for agents at or above the minimum (0 below):
    a high-impact ticket prefers the most skilled agent, a routine one the closest fit, which keeps the experts
    free for the tickets that need them. 1.0 when nothing is required.
    """
    if not required:
        return 1.0
    total = 0.0
    for skill, minimum in required.items():
        m = min(5, max(1, minimum))
        level = levels.get(skill, 0)
        coverage = min(level, m) / m
        if level >= m:
            surplus = min(1.0, (level - m) / (5 - m)) if m < 5 else 0.0
            level_part = impact * surplus + (1.0 - impact) * (1.0 - surplus)
        else:
            level_part = 0.0
        total += (1.0 - SURPLUS_BONUS) * coverage + SURPLUS_BONUS * level_part
    return total / len(required)


def skill_fit(levels: Mapping[str, int], required: Mapping[str, int]) -> float:
    """Closeness of the agent's levels to the required ones (skills_best_fit): 1 − mean |level − minimum| / 4.

    An exact match is 1.0; a level-5 expert on a level-2 question scores lower than a level-2 agent, so experts
    stay free for the hard tickets.
    """
    if not required:
        return 1.0
    gap = sum(abs(levels.get(skill, 0) - min(5, max(1, minimum))) for skill, minimum in required.items())
    return max(0.0, 1.0 - gap / (4.0 * len(required)))


def seniority_value(seniority: int, required: int | None, impact: float = 0.0) -> float:
    """Customer value fit. For a tier with a senior pool: min(seniority, required) / required. For other tiers a
    mild preference for juniors (1.0 for a junior … 0.5 for an expert) so seniors stay free for valued customers;
    the preference fades with the ticket's impact (an urgent ticket has no reason to spare the experts)."""
    s = min(4, max(1, seniority))
    if required:
        return min(s, required) / required
    return 1.0 - STANDARD_SENIORITY_SPREAD * (s - 1) / 3 * (1.0 - impact)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in kilometres between two (lat, lon) points in degrees."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def geography(distance_km: float | None) -> float:
    """1 / (1 + d / 10 km): 1.0 on site, 0.5 at 10 km, 0.17 at 50 km; 0 when the agent's location is unknown."""
    if distance_km is None:
        return 0.0
    return 1.0 / (1.0 + distance_km / HALF_SCORE_DISTANCE_KM)


def continuity(agent_id: int, previous_agent_ids: tuple[int, ...]) -> float:
    """1.0 for the agent who last helped this customer, 0.5 for the one before, 0.25 …; 0 for others."""
    try:
        return 0.5 ** previous_agent_ids.index(agent_id)
    except ValueError:
        return 0.0


def fairness(recent_assignments: int) -> float:
    """1 / (1 + assignments in the fairness window): the agent who got fewer tickets lately scores higher."""
    return 1.0 / (1.0 + max(0, recent_assignments))


def language_key(language: str) -> str:
    """The primary language subtag, lower case: `zh-Hans` → `zh`, `en_GB` → `en`."""
    return language.replace("_", "-").split("-", 1)[0].strip().lower()


def speaks(languages: frozenset[str], language: str) -> bool:
    """Whether an agent's languages cover the ticket's (by primary subtag); an empty ticket language always is."""
    if not language:
        return True
    if language in languages:
        return True
    key = language_key(language)
    return any(language_key(spoken) == key for spoken in languages)


def language_fit(languages: frozenset[str], language: str, impact: float = 0.0) -> float:
    """The language factor: 0 without the ticket's language; else 1 − 0.1 × (other languages, up to 2) × (1 − impact).

    A routine Chinese ticket goes to a Chinese-only agent before one who also speaks Japanese, so the rare speakers
    stay free for the tickets that need them; an urgent ticket does not care. 1.0 for a ticket without a language.
    """
    if not language:
        return 1.0
    if not speaks(languages, language):
        return 0.0
    key = language_key(language)
    extra = len({language_key(spoken) for spoken in languages} - {key})
    return 1.0 - LANGUAGE_SPARE * min(extra, 2) * (1.0 - impact)
