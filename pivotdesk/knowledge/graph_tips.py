"""The tips an agent sees for a ticket: "for PD-X300 + E-2047, “reset the controller” worked in 14 of 17 cases; on
firmware < 2.3 the extra step “clear the cache” was needed".

The evidence is read in three bulk queries (the ticket's mentions, the resolved tickets sharing one of its context
entities, and those tickets' mentions), turned into `evidence.Observation`s and handed to `domain.advice`. Every
sentence is built at call time in the reader's language; what is stored stays facts (ids, keys, counts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.utils.translation import gettext, gettext_lazy

from pivotdesk.common.time import now as current_time
from pivotdesk.tickets.models import Ticket

from .domain import graph as domain
from .domain.advice import Advice, CaseAdvice, advise, with_item
from .domain.evidence import Observation
from .models import EntityKind, GraphEntity, Mention, Resolution

__all__ = ["CONTEXT_KINDS", "Tip", "TipCase", "display_label", "tips"]

# The kinds that describe a ticket's situation, most telling first (the order the contexts are tried in).
CONTEXT_KINDS = (
    EntityKind.MODEL,
    EntityKind.PRODUCT,
    EntityKind.FAULT_CODE,
    EntityKind.SYMPTOM,
    EntityKind.COMPONENT,
    EntityKind.PART,
)
ENTITY = "entity:"
MAX_EVIDENCE = 5000  # the newest resolved tickets read for one ticket's tips (older evidence weighs little anyway)
LATELY = 0.15  # the recency-weighted rate is said when it differs from the raw rate by at least this much
SYSTEM_NAMES = {
    "firmware": gettext_lazy("firmware"),
    "app": gettext_lazy("app"),
    "macos": "macOS",
    "ios": "iOS",
    "ipados": "iPadOS",
    "android": "Android",
    "windows": "Windows",
    "ubuntu": "Ubuntu",
    "debian": "Debian",
    "linux": "Linux",
    "harmonyos": "HarmonyOS",
}


@dataclass(frozen=True)
class TipCase:
    """A special case of a tip: under `condition`, the solution worked in n of m tries; `steps` are the solutions
    that had to be added there; `applies` is None when the ticket does not say (its version is unknown)."""

    condition: str
    n: int
    m: int
    steps: tuple[GraphEntity, ...]
    applies: bool | None


@dataclass(frozen=True)
class Tip:
    """A solution's record for the ticket's context: worked in n of m resolved tickets, recency-weighted rate, the
    Wilson lower bound it is ranked by, the special cases, and the sentence an agent reads."""

    solution: GraphEntity
    context: tuple[GraphEntity, ...]
    n: int
    m: int
    weighted_rate: float
    lower_bound: float
    cases: tuple[TipCase, ...] = ()
    sentence: str = ""


def display_label(entity: GraphEntity) -> str:
    """The entity's name for a reader: a version fact in the reader's language ("固件 2.2"), else the label."""
    fact = domain.version_fact_of(entity.key) if entity.kind == EntityKind.OS else None
    if fact is None:
        return entity.label
    return f"{SYSTEM_NAMES.get(fact.system, fact.system)} {fact.version}"


@dataclass
class _Evidence:
    """What the resolved tickets say: each ticket's solutions, context items and version facts."""

    solutions: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    items: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    facts: dict[int, list[domain.VersionFact]] = field(default_factory=lambda: defaultdict(list))

    def add(self, ticket_id: int, entity_id: int, kind: str, key: str) -> None:
        if kind == EntityKind.SOLUTION:
            self.solutions[ticket_id].add(entity_id)
        elif kind == EntityKind.OS and (fact := domain.version_fact_of(key)) is not None:
            self.facts[ticket_id].append(fact)
        else:
            self.items[ticket_id].add(f"{ENTITY}{entity_id}")


def _read_evidence(ticket: Ticket, context_ids: list[int]) -> tuple[_Evidence, list[tuple[int, bool, datetime]]]:
    resolved = Resolution.objects.filter(
        workspace_id=ticket.workspace_id,
        resolved_at__isnull=False,
        ticket_id__in=Mention.objects.filter(workspace_id=ticket.workspace_id, entity_id__in=context_ids)
        .exclude(ticket_id=ticket.pk)
        .values("ticket_id"),
    )
    newest = resolved.order_by("-resolved_at", "-pk").values_list("ticket_id", "succeeded", "resolved_at")
    outcomes = [(pk, ok, at) for pk, ok, at in newest[:MAX_EVIDENCE] if at]
    found = _Evidence()
    rows = Mention.objects.filter(
        workspace_id=ticket.workspace_id, ticket_id__in=[pk for pk, _, _ in outcomes]
    ).values_list("ticket_id", "entity_id", "entity__kind", "entity__key")
    for ticket_id, entity_id, kind, key in rows:
        found.add(ticket_id, entity_id, kind, key)
    return found, outcomes


def _observations(
    found: _Evidence, outcomes: list[tuple[int, bool, datetime]], thresholds: list[domain.VersionFact]
) -> list[Observation]:
    out = []
    for ticket_id, succeeded, at in outcomes:
        solutions = found.solutions.get(ticket_id, set())
        base = found.items.get(ticket_id, set()) | domain.threshold_items(found.facts.get(ticket_id, ()), thresholds)
        for solution in solutions:
            together = {with_item(str(other)) for other in solutions - {solution}}
            out.append(Observation(str(solution), frozenset(base | together), succeeded, at))
    return out


def _condition(item: str, names: dict[int, GraphEntity]) -> str:
    parts = domain.version_item_parts(item)
    if parts is not None:
        system, version = parts
        return gettext("on %(system)s < %(version)s") % {"system": SYSTEM_NAMES.get(system, system), "version": version}
    entity = names.get(int(item.removeprefix(ENTITY))) if item.startswith(ENTITY) else None
    return gettext("with %(label)s") % {"label": display_label(entity) if entity is not None else item}


def _case(advice: CaseAdvice, names: dict[int, GraphEntity]) -> TipCase:
    return TipCase(
        condition=_condition(advice.case.item, names),
        n=advice.case.n,
        m=advice.case.m,
        steps=tuple(names[int(s)] for s in advice.steps if int(s) in names),
        applies=advice.applies,
    )


def _sentence(tip: Tip) -> str:
    text = gettext("For %(context)s, “%(solution)s” worked in %(n)s of %(m)s cases") % {
        "context": " + ".join(display_label(e) for e in tip.context),
        "solution": display_label(tip.solution),
        "n": tip.n,
        "m": tip.m,
    }
    if abs(tip.weighted_rate - tip.n / tip.m) >= LATELY:
        text += gettext(" (lately %(percent)s%%)") % {"percent": round(tip.weighted_rate * 100)}
    for case in tip.cases:
        if case.steps:
            text += gettext("; %(condition)s the extra step “%(step)s” was needed") % {
                "condition": case.condition,
                "step": " + ".join(display_label(s) for s in case.steps),
            }
        else:
            text += gettext("; %(condition)s it worked in %(n)s of %(m)s cases") % {
                "condition": case.condition,
                "n": case.n,
                "m": case.m,
            }
    return text


def _tip(advice: Advice, names: dict[int, GraphEntity]) -> Tip:
    context = tuple(
        names[int(i.removeprefix(ENTITY))] for i in sorted(advice.context) if int(i.removeprefix(ENTITY)) in names
    )
    context = tuple(sorted(context, key=lambda e: (CONTEXT_KINDS.index(EntityKind(e.kind)), e.key)))
    tip = Tip(
        solution=names[int(advice.tally.solution)],
        context=context,
        n=advice.tally.n,
        m=advice.tally.m,
        weighted_rate=advice.tally.weighted_rate,
        lower_bound=advice.tally.lower_bound,
        cases=tuple(_case(c, names) for c in advice.cases),
    )
    return replace(tip, sentence=_sentence(tip))


def _involved(advice: list[Advice]) -> set[int]:
    ids: set[int] = set()
    for a in advice:
        ids.add(int(a.tally.solution))
        ids.update(int(i.removeprefix(ENTITY)) for i in a.context)
        for case in a.cases:
            ids.update(int(s) for s in case.steps)
            if case.case.item.startswith(ENTITY):
                ids.add(int(case.case.item.removeprefix(ENTITY)))
    return ids


def tips(ticket: Ticket, *, limit: int = 5, min_trials: int = 3) -> list[Tip]:
    """The solutions that worked on resolved tickets sharing this ticket's context, best first, each with its
    "worked in N of M" (as of now, recency-weighted for ranking) and the special cases that apply or may."""
    mine = list(
        GraphEntity.objects.filter(workspace_id=ticket.workspace_id, mentions__ticket=ticket).order_by("kind", "key")
    )
    context = sorted(
        (e for e in mine if e.kind in CONTEXT_KINDS), key=lambda e: CONTEXT_KINDS.index(EntityKind(e.kind))
    )
    if not context:
        return []
    found, outcomes = _read_evidence(ticket, [e.pk for e in context])
    my_facts = [f for e in mine if e.kind == EntityKind.OS and (f := domain.version_fact_of(e.key)) is not None]
    thresholds = [f for facts in found.facts.values() for f in facts] + my_facts
    advice = advise(
        _observations(found, outcomes, thresholds),
        context_items=[f"{ENTITY}{e.pk}" for e in context],
        ticket_items=frozenset(f"{ENTITY}{e.pk}" for e in mine) | domain.threshold_items(my_facts, thresholds),
        ticket_systems=frozenset(f.system for f in my_facts),
        now=current_time(),
        min_trials=min_trials,
    )[:limit]
    names = GraphEntity.objects.filter(workspace_id=ticket.workspace_id).in_bulk(_involved(advice))
    return [_tip(a, names) for a in advice if int(a.tally.solution) in names]
