"""Plain-language explanations of routing decisions, plus the structured form the UI translates.

`reason_data` holds only keys and numbers (factor names, exclusion reasons, ladder steps, levels, distances), so the
web layer can render it in Chinese or English; `reason` is the English sentence stored on the ticket timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pivotdesk.routing.domain import factors as f

if TYPE_CHECKING:
    from pivotdesk.routing.domain.engine import Evaluation
    from pivotdesk.routing.domain.model import AgentState

STRATEGY_LABELS: Mapping[str, str] = {
    "round_robin": "round robin",
    "least_loaded": "least loaded",
    "skills_best_fit": "skills best fit",
    "weighted": "weighted score",
}
STEP_LABELS: Mapping[str, str] = {
    "skill_level": "skill level",
    "seniority_pool": "senior pool",
    "language": "language",
    "distance": "distance limit",
    "skills": "required skills",
    "team": "team (overflow to any team)",
}


def agent_label(agent: AgentState) -> str:
    return agent.name or f"agent #{agent.id}"


def _exclusion_label(reason: str, count: int, ev: Evaluation) -> str:
    ticket = ev.ticket
    labels = {
        "offline": "offline",
        "off_shift": "off shift",
        "on_leave": "on leave",
        "no_room": f"without room for {ticket.channel_type}",
        "team": "outside the ticket's team",
        "skill_missing": "missing a required skill",
        "skill_level": "below the required skill level",
        "language": f"not speaking {ticket.language}",
        "seniority": f"below the {ticket.tier} seniority pool",
        "distance": "too far from the site",
    }
    return f"{count} {labels.get(reason, reason)}"


def _highlights(ev: Evaluation, index: int) -> list[dict[str, Any]]:
    """The facts that describe why this agent fits: one dict per fact, keyed for translation."""
    agent = ev.agents[index]
    ticket = ev.ticket
    facts: list[dict[str, Any]] = []
    for skill, minimum in ticket.required_skills.items():
        facts.append({"key": "skill", "skill": skill, "level": agent.skills.get(skill, 0), "required": minimum})
    if ticket.language:
        facts.append({"key": "language", "language": ticket.language, "speaks": bool(ev.factors["language"][index])})
    facts.append(
        {
            "key": "load",
            "load": int(ev.load[index]),
            "capacity": int(ev.capacity[index]),
            "channel_type": ticket.channel_type,
        }
    )
    tier_minimum = ev.policy.seniority_by_tier.get(ticket.tier)
    if tier_minimum:
        facts.append({"key": "seniority", "seniority": agent.seniority, "required": tier_minimum, "tier": ticket.tier})
    if ticket.onsite:
        distance = ev.distance_km[index]
        facts.append({"key": "distance", "km": None if distance is None else round(distance, 1)})
    if agent.id in ticket.previous_agent_ids:
        facts.append({"key": "continuity", "rank": ticket.previous_agent_ids.index(agent.id)})
    facts.append({"key": "recent_assignments", "count": agent.recent_assignments})
    if "idle_minutes" in ev.factors:
        facts.append({"key": "idle", "minutes": round(float(ev.factors["idle_minutes"][index]), 1)})
    if "fit" in ev.factors:
        facts.append({"key": "fit", "value": round(float(ev.factors["fit"][index]), 3)})
    return facts


def _fact_text(fact: Mapping[str, Any]) -> str:
    key = fact["key"]
    if key == "skill":
        return f"skill {fact['skill']} {fact['level']}/{fact['required']}"
    if key == "language":
        return f"speaks {fact['language']}" if fact["speaks"] else f"does not speak {fact['language']}"
    if key == "load":
        return f"load {fact['load']}/{fact['capacity']} {fact['channel_type']}"
    if key == "seniority":
        own = f.SENIORITY_LABELS.get(fact["seniority"], str(fact["seniority"]))
        needed = f.SENIORITY_LABELS.get(fact["required"], str(fact["required"]))
        return f"{own} for a {fact['tier']} customer (pool: {needed} or above)"
    if key == "distance":
        return "location unknown" if fact["km"] is None else f"{fact['km']} km from the site"
    if key == "continuity":
        return (
            "continuity: helped this customer last"
            if fact["rank"] == 0
            else f"continuity: helped this customer before (#{fact['rank'] + 1})"
        )
    if key == "recent_assignments":
        count = fact["count"]
        return f"{count} recent assignment{'s' if count != 1 else ''}"
    if key == "idle":
        return f"last assigned {fact['minutes']:g} min ago"
    if key == "fit":
        return f"skill fit {fact['value']:.2f}"
    return str(key)


def explain(
    ev: Evaluation, *, winner: int | None, top: list[int], mode: str = "", score: float | None = None
) -> tuple[str, dict[str, Any]]:
    """The timeline sentence and its structured form for an evaluation's outcome."""
    strategy = ev.policy.strategy
    label = STRATEGY_LABELS.get(strategy, strategy)
    excluded_text = ", ".join(
        _exclusion_label(reason, count, ev)
        for reason, count in sorted(ev.excluded_counts.items(), key=lambda item: -item[1])
    )
    relaxed_text = ", ".join(STEP_LABELS.get(step, step) for step in ev.relaxed)
    data: dict[str, Any] = {
        "outcome": "assigned" if winner is not None else "waiting",
        "mode": mode or "single",
        "strategy": strategy,
        "channel_type": ev.ticket.channel_type,
        "language": ev.ticket.language,
        "tier": ev.ticket.tier,
        "impact": round(ev.impact, 3),
        "relax_level": ev.relax_level,
        "relax_steps": len(ev.policy.relax_steps),
        "relaxed": list(ev.relaxed),
        "eligible": len(ev.agents),
        "excluded": dict(ev.excluded_counts),
        "agent": None,
        "runner_up": None,
    }
    if winner is None:
        data["next_step"] = (
            ev.policy.relax_steps[ev.relax_level] if ev.relax_level < len(ev.policy.relax_steps) else None
        )
        text = "No agent can take this ticket now"
        text += f" ({excluded_text})." if excluded_text else " (no agents)."
        text += f" It waits in the queue at relax level {ev.relax_level} of {len(ev.policy.relax_steps)}"
        text += f" (relaxed: {relaxed_text})." if relaxed_text else "."
        return text, data

    agent = ev.agents[winner]
    chosen_score = float(ev.scores[winner]) if score is None else score
    facts = _highlights(ev, winner)
    data["agent"] = {
        "id": agent.id,
        "name": agent.name,
        "score": round(chosen_score, 4),
        "factors": {name: round(float(values[winner]), 4) for name, values in ev.factors.items()},
        "facts": facts,
    }
    runner_up = next((i for i in top if i != winner), None)
    prefix = "Batch assignment" if mode == "batch" else "Chosen"
    text = f"{prefix}: {agent_label(agent)} ({label}, score {chosen_score:.2f}) — "
    text += ", ".join(_fact_text(fact) for fact in facts) + "."
    if runner_up is not None:
        other = ev.agents[runner_up]
        data["runner_up"] = {"id": other.id, "name": other.name, "score": round(float(ev.scores[runner_up]), 4)}
        text += f" Runner-up: {agent_label(other)} ({float(ev.scores[runner_up]):.2f})."
    if relaxed_text:
        text += f" Relaxed: {relaxed_text}."
    if excluded_text:
        text += f" Not eligible: {excluded_text}."
    return text, data
