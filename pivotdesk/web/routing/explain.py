"""Routing's stored facts in the reader's language (issue 12): a decision's `reason_data` (keys and numbers written
by `routing.domain.explain`) as a sentence, and the labels of the codes routing shows (strategies, factors, relax
steps, channel types, exclusion reasons, policy conditions). The English `reason` stored beside the data is only
shown for decisions recorded before the data had an outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import Seniority
from pivotdesk.common.choices import Channel
from pivotdesk.customers.models import Tier
from pivotdesk.routing.models import Strategy, Trigger
from pivotdesk.tickets.models import Category, Priority


def strategy_label(code: str) -> str:
    """A strategy's short name, as in the sentence of a decision ("weighted score")."""
    labels = {
        "round_robin": _("round robin"),
        "least_loaded": _("least loaded"),
        "skills_best_fit": _("skills best fit"),
        "weighted": _("weighted score"),
    }
    return labels.get(code) or str(dict(Strategy.choices).get(code, code))


def trigger_label(code: str) -> str:
    return str(dict(Trigger.choices).get(code, code))


def factor_label(code: str) -> str:
    labels = {
        "skill": _("Skill"),
        "language": _("Language"),
        "load": _("Load"),
        "value": _("Customer value"),
        "impact": _("Impact"),
        "geography": _("Distance"),
        "continuity": _("Continuity"),
        "fairness": _("Fairness"),
    }
    return labels.get(code, code)


def step_label(code: str) -> str:
    """A step of the relaxation ladder."""
    labels = {
        "skill_level": _("skill level"),
        "seniority_pool": _("senior pool"),
        "language": _("language"),
        "distance": _("distance limit"),
        "skills": _("required skills"),
        "team": _("team (overflow to any team)"),
    }
    return labels.get(code, code)


def channel_type_label(code: str) -> str:
    """A channel type capacities are counted in."""
    labels = {"email": _("Email"), "chat": _("Chat"), "messaging": _("Messaging"), "voice": _("Voice")}
    return labels.get(code, code)


def tier_label(code: str) -> str:
    return str(dict(Tier.choices).get(code, code))


def seniority_label(level: Any) -> str:
    try:
        return str(Seniority(int(level)).label)
    except (TypeError, ValueError):
        return str(level)


def _language(code: str) -> str:
    return {"zh": _("Chinese"), "en": _("English")}.get(code, code)


def exclusion_label(reason: str, count: int, data: Mapping[str, Any]) -> str:
    """ "6 offline", "4 outside the ticket's team", … for a count of agents left out for one reason."""
    texts = {
        "offline": ngettext("%(n)s offline", "%(n)s offline", count),
        "off_shift": ngettext("%(n)s off shift", "%(n)s off shift", count),
        "on_leave": ngettext("%(n)s on leave", "%(n)s on leave", count),
        "no_room": ngettext("%(n)s without room for %(channel)s", "%(n)s without room for %(channel)s", count),
        "team": ngettext("%(n)s outside the ticket's team", "%(n)s outside the ticket's team", count),
        "skill_missing": ngettext("%(n)s missing a required skill", "%(n)s missing a required skill", count),
        "skill_level": ngettext("%(n)s below the required skill level", "%(n)s below the required skill level", count),
        "language": ngettext("%(n)s not speaking %(language)s", "%(n)s not speaking %(language)s", count),
        "seniority": ngettext(
            "%(n)s below the %(tier)s seniority pool", "%(n)s below the %(tier)s seniority pool", count
        ),
        "distance": ngettext("%(n)s too far from the site", "%(n)s too far from the site", count),
    }
    text = texts.get(reason)
    if text is None:
        return f"{count} {reason}"
    return text % {
        "n": count,
        "channel": channel_type_label(str(data.get("channel_type", ""))),
        "tier": tier_label(str(data.get("tier", ""))),
        "language": _language(str(data.get("language") or "")) or _("the ticket's language"),
    }


def _fact_language(fact: Mapping[str, Any]) -> str:
    language = _language(str(fact.get("language", "")))
    text = _("speaks %(language)s") if fact.get("speaks") else _("does not speak %(language)s")
    return text % {"language": language}


def _fact_load(fact: Mapping[str, Any]) -> str:
    channel = channel_type_label(str(fact.get("channel_type", "")))
    return _("load %(load)s/%(capacity)s %(channel)s") % {**fact, "channel": channel}


def _fact_seniority(fact: Mapping[str, Any]) -> str:
    return _("%(own)s for a %(tier)s customer (pool: %(needed)s or above)") % {
        "own": seniority_label(fact.get("seniority")),
        "needed": seniority_label(fact.get("required")),
        "tier": tier_label(str(fact.get("tier", ""))),
    }


def _fact_distance(fact: Mapping[str, Any]) -> str:
    km = fact.get("km")
    return _("location unknown") if km is None else _("%(km)s km from the site") % {"km": km}


def _fact_continuity(fact: Mapping[str, Any]) -> str:
    rank = int(fact.get("rank", 0))
    if rank == 0:
        return _("continuity: helped this customer last")
    return _("continuity: helped this customer before (#%(rank)s)") % {"rank": rank + 1}


def _fact_recent(fact: Mapping[str, Any]) -> str:
    count = int(fact.get("count", 0))
    return ngettext("%(count)s recent assignment", "%(count)s recent assignments", count) % {"count": count}


_FACTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "skill": lambda fact: _("skill %(skill)s %(level)s/%(required)s") % fact,
    "language": _fact_language,
    "load": _fact_load,
    "seniority": _fact_seniority,
    "distance": _fact_distance,
    "continuity": _fact_continuity,
    "recent_assignments": _fact_recent,
    "idle": lambda fact: _("last assigned %(minutes)s min ago") % {"minutes": f"{float(fact.get('minutes', 0)):g}"},
    "fit": lambda fact: _("skill fit %(value)s") % {"value": f"{float(fact.get('value', 0)):.2f}"},
}


def fact_text(fact: Mapping[str, Any]) -> str:
    """One reason the winner fits (`routing.domain.explain._highlights`)."""
    render = _FACTS.get(str(fact.get("key")))
    return render(fact) if render is not None else str(fact.get("key"))


def _join(parts: Iterable[str]) -> str:
    return pgettext("list of items", ", ").join(parts)


def _waiting(data: Mapping[str, Any], excluded_text: str) -> list[str]:
    first = (
        _("No agent can take this ticket now (%(why)s).") % {"why": excluded_text}
        if excluded_text
        else _("No agent can take this ticket now (no agents).")
    )
    levels = {"level": data.get("relax_level", 0), "steps": data.get("relax_steps", 0)}
    return [first, _("It waits in the queue at relax level %(level)s of %(steps)s.") % levels]


def _assigned(data: Mapping[str, Any], excluded_text: str) -> list[str]:
    agent = data.get("agent") or {}
    values = {
        "agent": agent.get("name") or f"#{agent.get('id', '')}",
        "strategy": strategy_label(str(data.get("strategy", ""))),
        "score": f"{float(agent.get('score') or 0):.2f}",
        "facts": _join(fact_text(fact) for fact in agent.get("facts") or []),
    }
    if data.get("mode") == "batch":
        parts = [_("Batch assignment: %(agent)s (%(strategy)s, score %(score)s) — %(facts)s.") % values]
    else:
        parts = [_("Chosen: %(agent)s (%(strategy)s, score %(score)s) — %(facts)s.") % values]
    runner = data.get("runner_up")
    if runner:
        name = runner.get("name") or f"#{runner.get('id', '')}"
        parts.append(_("Runner-up: %(agent)s (%(score)s).") % {"agent": name, "score": f"{float(runner['score']):.2f}"})
    return parts


def reason_text(data: Mapping[str, Any] | None, fallback: str = "") -> str:
    """A decision's explanation in the active language; `fallback` (the stored English) for data without an
    outcome (decisions recorded before issue 12)."""
    data = data or {}
    if data.get("override"):
        return _("Assigned by %(by)s: %(reason)s") % {"by": data.get("by", ""), "reason": data.get("reason", "")}
    if data.get("failed"):
        return _("Routing failed (%(error)s); it is tried again in a minute.") % {"error": data.get("error", "")}
    outcome = data.get("outcome")
    if outcome not in ("assigned", "waiting"):
        return fallback
    excluded = data.get("excluded") or {}
    excluded_text = _join(
        exclusion_label(str(reason), int(count), data)
        for reason, count in sorted(excluded.items(), key=lambda item: -int(item[1]))
    )
    relaxed_text = _join(step_label(str(step)) for step in data.get("relaxed") or [])
    parts = _waiting(data, excluded_text) if outcome == "waiting" else _assigned(data, excluded_text)
    if relaxed_text:
        parts.append(_("Relaxed: %(steps)s.") % {"steps": relaxed_text})
    if outcome == "assigned" and excluded_text:
        parts.append(_("Not eligible: %(why)s.") % {"why": excluded_text})
    if outcome == "assigned" and data.get("fallback_from") and data.get("fallback_name"):
        parts.append(
            _(
                "The first choice had no room left when the assignment was made, so the next best candidate, "
                "%(agent)s, got it."
            )
            % {"agent": data["fallback_name"]}
        )
    if data.get("overflow_team_id"):
        parts.append(_("(Overflow: the pool was the overflow team.)"))
    # Chinese sentences end with a full-width stop and follow each other without a space.
    return ("" if (get_language() or "").startswith("zh") else " ").join(parts)


def condition_chips(conditions: Mapping[str, Any], categories: Mapping[int, Category]) -> list[tuple[str, str]]:
    """A policy's conditions as (label, values) in the reader's language."""
    from pivotdesk.web.templatetags.desk import local

    labels = {
        "channels": _("Channels"),
        "priorities": _("Priorities"),
        "tiers": _("Customer tiers"),
        "categories": _("Categories"),
        "languages": _("Languages"),
        "tags": _("Tags"),
    }
    choices: dict[str, dict[str, str]] = {
        "channels": {str(k): str(v) for k, v in Channel.choices},
        "priorities": {str(k): str(v) for k, v in Priority.choices},
        "tiers": {str(k): str(v) for k, v in Tier.choices},
    }
    chips = []
    for key, values in conditions.items():
        if not values:
            continue
        items = values if isinstance(values, list) else [values]
        if key == "categories":
            shown = [local(categories[int(v)], "name") if int(v) in categories else f"#{v}" for v in items]
        elif key == "languages":
            shown = [_language(str(v)) for v in items]
        else:
            shown = [choices.get(key, {}).get(str(v), str(v)) for v in items]
        chips.append((str(labels.get(key, key)), _join(shown)))
    return chips
