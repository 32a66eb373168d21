"""Rule conditions (pure): evaluation against a plain recursive reference, validation paths, safe patterns,
keyword matching in Chinese and English, and totality on arbitrary facts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.automation.domain.conditions import (
    MAX_CONDITIONS,
    ConditionError,
    evaluate,
    explain,
    fields_used,
    has_word,
    validate,
)

FAST = settings(max_examples=200, deadline=None)

# --- the reference: a straightforward recursive interpretation -------------------------------------------------


def ref_number(x):
    return type(x) in (int, float)


def ref_equal(a, b):
    if type(a) is bool or type(b) is bool:
        return type(a) is bool and type(b) is bool and a == b
    if ref_number(a) and ref_number(b):
        return a == b
    return type(a) is str and type(b) is str and a == b


def ref_is_set(x):
    return x is not None and x not in ("", [], {})


def ref_contains(fact, value):
    if type(fact) is str:
        return value.lower() in fact.lower()
    if type(fact) is list:
        for item in fact:
            if type(item) is str and type(value) is str and item.lower() == value.lower():
                return True
            if type(value) is not str and ref_equal(item, value):
                return True
        return False
    if type(fact) is dict:
        return value in fact
    return False


def is_cjk(c):
    o = ord(c)
    return (
        0x2E80 <= o <= 0x9FFF
        or 0xA960 <= o <= 0xA97F
        or 0xAC00 <= o <= 0xD7FF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3FFFF
    )


def latin_word_char(c):
    return (c.isalnum() or c == "_") and not is_cjk(c)


def ref_has_word(text, word):
    """Scan every occurrence and look at its two neighbours."""
    text = " ".join(text.casefold().split())
    word = " ".join(word.casefold().split())
    if not word:
        return False
    if any(is_cjk(c) for c in word):
        return word in text
    start = text.find(word)
    while start != -1:
        end = start + len(word)
        before_ok = start == 0 or not latin_word_char(text[start - 1])
        after_ok = end == len(text) or not latin_word_char(text[end])
        if before_ok and after_ok:
            return True
        start = text.find(word, start + 1)
    return False


NEGATIONS = {"is_not": "is", "not_in": "in", "not_contains": "contains", "not_set": "is_set"}


def ref_leaf(cond, facts):
    op, value = cond["op"], cond.get("value")
    if op in NEGATIONS:
        return not ref_leaf({**cond, "op": NEGATIONS[op]}, facts)
    if op == "under":
        return value in (facts.get("category_path") or [])
    changes = facts.get("changes") or {}
    if op == "changed":
        return cond["field"] in changes
    if op in ("changed_from", "changed_to"):
        if cond["field"] not in changes:
            return False
        seen = changes[cond["field"]][0 if op == "changed_from" else 1]
        return seen is None if value is None else ref_equal(seen, value)
    return ref_value_leaf(facts.get(cond["field"]), op, value)


def ref_value_leaf(fact, op, value):
    if op == "is":
        return ref_equal(fact, value)
    if op == "in":
        return any(ref_equal(fact, v) for v in value)
    if op in ("gt", "gte", "lt", "lte"):
        if not ref_number(fact):
            return False
        return {"gt": fact > value, "gte": fact >= value, "lt": fact < value, "lte": fact <= value}[op]
    if op == "contains":
        return ref_contains(fact, value)
    if op == "contains_any_words":
        return type(fact) is str and any(ref_has_word(fact, w) for w in value)
    if op == "matches":
        return type(fact) is str and re.search(value, fact, re.IGNORECASE) is not None
    assert op == "is_set", op
    return ref_is_set(fact)


def ref_eval(node, facts):
    if "all" in node:
        return all(ref_eval(item, facts) for item in node["all"])
    if "any" in node:
        return any(ref_eval(item, facts) for item in node["any"])
    return ref_leaf(node, facts)


# --- strategies ------------------------------------------------------------------------------------------------

PRIORITIES = ["low", "normal", "high", "urgent"]
TAGS = ["vip", "refund", "Refund", "bug"]
WORDS = ["投诉", "退款", "complaint", "agent", "refund request", "c++"]
TEXTS = st.text(alphabet="ab xyz.!\n投诉退款我要agentreCOMPLAINTrefundquest+", max_size=40)
PATTERNS = ["refund", "^a", "b$", r"\d+", "投诉|complaint", "x.z", "[ab]{2}"]

facts_st = st.fixed_dictionaries(
    {},
    optional={
        "priority": st.sampled_from([*PRIORITIES, None, 3]),
        "assignee": st.sampled_from([None, 1, 2, 2.0, True]),
        "vip": st.sampled_from([True, False, None, 1]),
        "hours_since_created": st.one_of(st.none(), st.floats(-5, 50), st.integers(-5, 50), st.just("7")),
        "tags": st.lists(st.sampled_from(TAGS), max_size=3),
        "subject": st.one_of(TEXTS, st.none()),
        "category_path": st.lists(st.integers(1, 5), max_size=3),
        "changes": st.dictionaries(
            st.sampled_from(["priority", "assignee", "tags"]),
            st.tuples(st.sampled_from([None, "low", "high", 1]), st.sampled_from([None, "low", "high", 2])).map(list),
            max_size=2,
        ),
    },
)

leaf_st = st.one_of(
    st.builds(
        lambda o, v: {"field": "priority", "op": o, "value": v},
        st.sampled_from(["is", "is_not"]),
        st.sampled_from(PRIORITIES),
    ),
    st.builds(
        lambda o, v: {"field": "priority", "op": o, "value": v},
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from(PRIORITIES), min_size=1, max_size=3),
    ),
    st.builds(
        lambda o, v: {"field": "assignee", "op": o, "value": v},
        st.sampled_from(["is", "is_not", "changed_from", "changed_to"]),
        st.sampled_from([1, 2]),
    ),
    st.builds(lambda o: {"field": "assignee", "op": o, "value": None}, st.sampled_from(["changed_from", "changed_to"])),
    st.builds(lambda v: {"field": "vip", "op": "is", "value": v}, st.booleans()),
    st.builds(
        lambda o, v: {"field": "hours_since_created", "op": o, "value": v},
        st.sampled_from(["gt", "gte", "lt", "lte"]),
        st.integers(-2, 20) | st.floats(-2, 20),
    ),
    st.builds(
        lambda o, v: {"field": "tags", "op": o, "value": v},
        st.sampled_from(["contains", "not_contains"]),
        st.sampled_from(TAGS),
    ),
    st.builds(
        lambda o, v: {"field": "subject", "op": o, "value": v},
        st.sampled_from(["contains", "not_contains"]),
        st.sampled_from(["a", "AB", "投诉", "x y"]),
    ),
    st.builds(
        lambda v: {"field": "subject", "op": "contains_any_words", "value": v},
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    ),
    st.builds(lambda v: {"field": "subject", "op": "matches", "value": v}, st.sampled_from(PATTERNS)),
    st.builds(
        lambda f, o: {"field": f, "op": o},
        st.sampled_from(["priority", "assignee", "tags", "subject", "hours_since_created"]),
        st.sampled_from(["is_set", "not_set"]),
    ),
    st.builds(lambda f: {"field": f, "op": "changed"}, st.sampled_from(["priority", "assignee", "tags"])),
    st.builds(lambda v: {"field": "category", "op": "under", "value": v}, st.integers(1, 5)),
    st.builds(lambda v: {"field": "changes", "op": "contains", "value": v}, st.sampled_from(["priority", "tags"])),
)


def groups(children):
    return st.builds(lambda k, items: {k: items}, st.sampled_from(["all", "any"]), st.lists(children, max_size=4))


tree_st = st.recursive(leaf_st, groups, max_leaves=12).filter(lambda t: not validate(t))
spec_st = groups(tree_st).filter(lambda t: not validate(t))

# --- evaluation ------------------------------------------------------------------------------------------------


@FAST
@given(spec_st, facts_st)
def test_evaluate_agrees_with_the_plain_reference(spec, facts):
    assert evaluate(spec, facts) == ref_eval(spec, facts)


@FAST
@given(spec_st, facts_st)
def test_explain_lists_every_leaf_with_the_reference_verdict(spec, facts):
    explained = explain(spec, facts)
    leaves = []

    def walk(node):
        for key in ("all", "any"):
            if key in node:
                for item in node[key]:
                    walk(item)
                return
        leaves.append(node)

    walk(spec)
    assert [e.condition for e in explained] == leaves
    assert [e.matched for e in explained] == [ref_leaf(leaf, facts) for leaf in leaves]


@given(facts_st)
def test_an_empty_all_matches_everything_and_an_empty_any_nothing(facts):
    assert evaluate({"all": []}, facts) is True
    assert evaluate({"any": []}, facts) is False


@FAST
@given(facts_st, st.sampled_from(PRIORITIES), st.lists(st.sampled_from(PRIORITIES), min_size=1))
def test_is_and_is_not_are_complementary_when_the_fact_is_set(facts, value, values):
    facts = {**facts, "priority": facts.get("priority") or "low"}
    yes = evaluate({"field": "priority", "op": "is", "value": value}, facts)
    no = evaluate({"field": "priority", "op": "is_not", "value": value}, facts)
    assert yes != no
    inside = evaluate({"field": "priority", "op": "in", "value": values}, facts)
    outside = evaluate({"field": "priority", "op": "not_in", "value": values}, facts)
    assert inside != outside
    assert evaluate({"any": [{"field": "priority", "op": "is", "value": v} for v in values]}, facts) == inside


@FAST
@given(spec_st, facts_st)
def test_de_morgan_not_all_is_any_not(spec, facts):
    """Negating every leaf of a flat group of complementary leaves swaps all and any."""
    leaves = [
        {"field": "priority", "op": "is", "value": "high"},
        {"field": "tags", "op": "contains", "value": "vip"},
        {"field": "subject", "op": "is_set"},
    ]
    negated = [
        {"field": "priority", "op": "is_not", "value": "high"},
        {"field": "tags", "op": "not_contains", "value": "vip"},
        {"field": "subject", "op": "not_set"},
    ]
    assert (not evaluate({"all": leaves}, facts)) == evaluate({"any": negated}, facts)
    assert (not evaluate({"any": leaves}, facts)) == evaluate({"all": negated}, facts)


def test_a_missing_fact_never_matches_a_comparison():
    for op in ("gt", "gte", "lt", "lte"):
        for facts in ({}, {"minutes_to_breach": None}, {"minutes_to_breach": "3"}, {"minutes_to_breach": True}):
            assert not evaluate({"field": "minutes_to_breach", "op": op, "value": 0}, facts)


def test_under_reads_the_category_path_and_includes_the_category_itself():
    facts = {"category": 7, "category_path": [1, 4, 7]}
    assert evaluate({"field": "category", "op": "under", "value": 4}, facts)
    assert evaluate({"field": "category", "op": "under", "value": 7}, facts)
    assert not evaluate({"field": "category", "op": "under", "value": 9}, facts)


def test_changed_operators_read_the_changes():
    facts = {"priority": "urgent", "changes": {"priority": ["normal", "urgent"]}}
    assert evaluate({"field": "priority", "op": "changed"}, facts)
    assert evaluate({"field": "priority", "op": "changed_from", "value": "normal"}, facts)
    assert evaluate({"field": "priority", "op": "changed_to", "value": "urgent"}, facts)
    assert not evaluate({"field": "status", "op": "changed"}, facts)
    [shown] = explain({"all": [{"field": "status", "op": "changed"}]}, facts)
    assert (shown.path, shown.value, shown.matched) == ("all.0", None, False)


def test_fields_used_names_every_fact_a_tree_reads():
    spec = {
        "all": [
            {"field": "priority", "op": "is", "value": "high"},
            {"any": [{"field": "category", "op": "under", "value": 3}, {"field": "cf.order_id", "op": "is_set"}]},
            {"field": "status", "op": "changed_to", "value": "open"},
        ]
    }
    assert fields_used(spec) == {"priority", "category_path", "cf.order_id", "changes"}
    assert fields_used({"all": []}) == set()


# --- keywords --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("我要投诉你们", "投诉", True),
        ("A complaint!", "complaint", True),
        ("reagent", "agent", False),
        ("Talk to an AGENT.", "agent", True),
        ("投诉complaint", "complaint", True),
        ("the  refund\n request", "refund request", True),
        ("refunds requested", "refund request", False),
        ("I love c++ dearly", "c++", True),
    ],
)
def test_keywords_match_chinese_as_substrings_and_latin_as_whole_words(text, word, expected):
    assert has_word(text, word) is expected
    assert (
        evaluate({"field": "body", "op": "contains_any_words", "value": ["nothing-here", word]}, {"body": text})
        is expected
    )


@FAST
@given(TEXTS, st.sampled_from([*WORDS, "a", "ab", "Ab x", "é"]))
def test_keyword_matching_agrees_with_a_scan_of_every_occurrence(text, word):
    assert has_word(text, word) == ref_has_word(text, word)


# --- validation ------------------------------------------------------------------------------------------------


def codes(spec):
    return [(e.path, e.code) for e in validate(spec)]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"all": [{"field": "nope", "op": "is", "value": "x"}]}, [("all.0.field", "unknown_field")]),
        ({"all": [{"field": "priority", "op": "resembles", "value": "x"}]}, [("all.0.op", "unknown_operator")]),
        ({"all": [{"field": "priority", "op": "gt", "value": 1}]}, [("all.0.op", "operator_not_for_field")]),
        ({"all": [{"field": "team", "op": "under", "value": 1}]}, [("all.0.op", "operator_not_for_field")]),
        ({"all": [{"field": "event", "op": "changed"}]}, [("all.0.op", "operator_not_for_field")]),
        (
            {"any": [{"all": []}, {"field": "priority", "op": "in", "value": "high"}]},
            [("any.1.value", "expected_list")],
        ),
        ({"all": [{"field": "priority", "op": "in", "value": []}]}, [("all.0.value", "expected_list")]),
        ({"all": [{"field": "hours_since_created", "op": "gt", "value": "3"}]}, [("all.0.value", "expected_number")]),
        ({"all": [{"field": "hours_since_created", "op": "gt", "value": True}]}, [("all.0.value", "expected_number")]),
        ({"all": [{"field": "vip", "op": "is", "value": 1}]}, [("all.0.value", "expected_bool")]),
        ({"all": [{"field": "assignee", "op": "is", "value": "5"}]}, [("all.0.value", "expected_id")]),
        ({"all": [{"field": "sentiment", "op": "is", "value": "angry"}]}, [("all.0.value", "unknown_choice")]),
        ({"all": [{"field": "tags", "op": "is_set", "value": "x"}]}, [("all.0.value", "no_value")]),
        (
            {"all": [{"field": "body", "op": "contains_any_words", "value": ["ok", " "]}]},
            [("all.0.value", "expected_words")],
        ),
        ({"all": [{"field": "body", "op": "matches", "value": "("}]}, [("all.0.value", "pattern_invalid")]),
        ({"all": [{"field": "body", "op": "matches", "value": "a" * 201}]}, [("all.0.value", "pattern_too_long")]),
        ({"all": [{"field": "status", "op": "is", "value": "open", "note": 1}]}, [("all.0.note", "unknown_key")]),
        ({"all": [{"field": "status", "op": "changed_to"}]}, [("all.0.value", "expected_text")]),
        ({"all": ["status is open"]}, [("all.0", "not_an_object")]),
        ({"all": [{"all": [], "any": []}]}, [("all.0", "bad_group")]),
        ({"all": {"field": "status"}}, [("", "bad_group")]),
        ({"all": [{"any": [{"all": [{"any": [{"all": []}]}]}]}]}, [("all.0.any.0.all.0.any.0", "too_deep")]),
        ({"all": [{"field": "status", "op": "is", "value": "open"}] * (MAX_CONDITIONS + 1)}, [("", "too_many")]),
    ],
)
def test_validate_rejects_each_bad_case_at_its_path(spec, expected):
    assert codes(spec) == expected


def test_valid_trees_pass_including_custom_fields_and_null_changes():
    spec = {
        "all": [
            {"field": "cf.order_total", "op": "gte", "value": 1000},
            {"field": "cf.region", "op": "in", "value": ["华东", "north"]},
            {"field": "assignee", "op": "changed_from", "value": None},
            {"any": [{"all": [{"any": [{"field": "event", "op": "is", "value": "sla.breach"}]}]}]},
            {"field": "sla_state", "op": "is", "value": ""},
            {"field": "body", "op": "matches", "value": r"order\s+#?\d+"},
        ]
    }
    assert validate(spec) == []


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+",
        r"(a*)*",
        r"(a|a)*",
        r"(a|ab)*",
        r"(a?)+b",
        r"([a-z]+\.)+com",
        r"(.*,){5}",
        r".*.*",
        r"\w+\d*\w+",
        r"(?:\w+\s?)*$",
    ],
)
def test_unsafe_patterns_are_rejected(pattern):
    [error] = validate({"all": [{"field": "body", "op": "matches", "value": pattern}]})
    assert error.path == "all.0.value"
    assert error.code in ("pattern_nested", "pattern_adjacent")


@pytest.mark.parametrize(
    "pattern", [r"(cat|dog)+", r"order\s+\d+", r"a.*b.*c", r"(\d{3}-)+\d{4}", r"退款|refund", r"^[\w.]+@\w+$"]
)
def test_ordinary_patterns_are_accepted(pattern):
    assert validate({"all": [{"field": "body", "op": "matches", "value": pattern}]}) == []


def test_matches_searches_only_the_first_5000_characters():
    spec = {"field": "body", "op": "matches", "value": "needle"}
    assert evaluate(spec, {"body": "x" * 4_990 + "needle"})
    assert not evaluate(spec, {"body": "x" * 5_000 + "needle"})


def test_messages_are_translated_by_the_given_function():
    catalogue = {"Unknown field “%(field)s” (custom fields start with “cf.”).": "未知字段“%(field)s”。"}
    [error] = validate({"all": [{"field": "nope", "op": "is", "value": 1}]}, translate=lambda m: catalogue.get(m, m))
    assert error == ConditionError(
        "all.0.field",
        "未知字段“nope”。",
        "unknown_field",
        "Unknown field “%(field)s” (custom fields start with “cf.”).",
        {"field": "nope"},
    )
    [broken] = validate({"all": [{"field": "nope", "op": "is", "value": 1}]}, translate=lambda m: "%(oops)s")
    assert broken.message == "Unknown field “nope” (custom fields start with “cf.”)."


# --- totality --------------------------------------------------------------------------------------------------

json_st = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
any_value = st.one_of(json_st, st.from_type(type).flatmap(st.from_type).filter(lambda v: v is not NotImplemented))
FIELDS = ["priority", "assignee", "vip", "hours_since_created", "tags", "subject", "category_path", "changes", "body"]


@FAST
@given(spec_st, st.dictionaries(st.sampled_from(FIELDS), any_value, max_size=6))
def test_evaluate_and_explain_never_raise_on_arbitrary_facts(spec, facts):
    assert isinstance(evaluate(spec, facts), bool)
    assert all(isinstance(e.matched, bool) for e in explain(spec, facts))


@FAST
@given(json_st)
def test_validate_never_raises_on_arbitrary_json(spec):
    problems = validate({"all": [spec]})
    assert all(isinstance(p, ConditionError) for p in problems)
    if not problems:
        evaluate({"all": [spec]}, {})
