"""Policy conditions (pure): matching semantics against a plain reference, and validation of the stored form."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.sla.domain.conditions import ConditionError, Conditions, TicketFacts, first_match

PRIORITIES = ["low", "normal", "high", "urgent"]
TIERS = ["standard", "vip", "strategic"]
CHANNELS = ["email", "chat", "web_form"]
TYPES = ["question", "incident", "complaint"]
TAGS = ["a", "b", "c", "d"]


def subset(values):
    return st.frozensets(st.sampled_from(values), max_size=len(values))


conditions_st = st.builds(
    Conditions,
    priorities=subset(PRIORITIES),
    tiers=subset(TIERS),
    organization_ids=subset([1, 2, 3]),
    channels=subset(CHANNELS),
    category_ids=subset([10, 11, 12]),
    ticket_types=subset(TYPES),
    tags_any=subset(TAGS),
    tags_all=subset(TAGS),
    tags_none=subset(TAGS),
)
facts_st = st.builds(
    TicketFacts,
    priority=st.sampled_from(PRIORITIES),
    tier=st.sampled_from(TIERS),
    organization_id=st.sampled_from([None, 1, 2, 3]),
    channel=st.sampled_from(CHANNELS),
    category_ids=subset([10, 11, 12]),
    ticket_type=st.sampled_from(TYPES),
    tags=subset(TAGS),
)


def reference(c: Conditions, f: TicketFacts) -> bool:
    """Condition by condition, spelled out."""
    if c.priorities and f.priority not in c.priorities:
        return False
    if c.tiers and f.tier not in c.tiers:
        return False
    if c.organization_ids and f.organization_id not in c.organization_ids:
        return False
    if c.channels and f.channel not in c.channels:
        return False
    if c.category_ids and not any(cat in c.category_ids for cat in f.category_ids):
        return False
    if c.ticket_types and f.ticket_type not in c.ticket_types:
        return False
    if c.tags_any and not any(t in f.tags for t in c.tags_any):
        return False
    if any(t not in f.tags for t in c.tags_all):
        return False
    return not any(t in f.tags for t in c.tags_none)


@settings(max_examples=300, deadline=None)
@given(conditions_st, facts_st)
def test_matches_agrees_with_the_reference(c, f):
    assert c.matches(f) == reference(c, f)


@settings(max_examples=200, deadline=None)
@given(conditions_st)
def test_stored_form_round_trips(c):
    assert Conditions.from_json(c.to_json()) == c


@given(facts_st)
def test_empty_conditions_match_everything(f):
    assert Conditions().is_empty and Conditions().matches(f)


def test_first_match_takes_the_first_in_order():
    facts = TicketFacts(priority="urgent", tags=frozenset({"a"}))
    policies = [("p1", Conditions(priorities=frozenset({"low"}))), ("p2", Conditions()), ("p3", Conditions())]
    assert first_match(policies, facts) == "p2"
    assert first_match(policies[:1], facts) is None


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"colour": ["red"]}, "colour"),
        ({"priorities": ["asap"]}, "priorities"),
        ({"organization_ids": ["x"]}, "organization_ids"),
        ({"tags_any": {"a": 1}}, "tags_any"),
        ("urgent", "conditions"),
    ],
)
def test_invalid_conditions_name_the_problem(raw, field):
    with pytest.raises(ConditionError) as exc:
        Conditions.from_json(raw, allowed={"priorities": PRIORITIES})
    assert field in exc.value.errors


def test_tags_are_normalised_and_single_values_accepted():
    c = Conditions.from_json({"tags_any": [" VIP ", ""], "priorities": "urgent"})
    assert c.tags_any == frozenset({"vip"}) and c.priorities == frozenset({"urgent"})
