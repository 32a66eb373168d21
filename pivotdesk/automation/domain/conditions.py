"""What a rule matches, as data: condition trees over a flat snapshot of one ticket and the event being handled.

A condition is `{"field": str, "op": str, "value": Any}`; a group is `{"all": [items]}` or `{"any": [items]}`, its
items conditions or nested groups (at most 4 levels of groups, at most 50 conditions). `{"all": []}` matches
everything, `{"any": []}` nothing.

The facts (THE vocabulary; a missing fact reads as None):

- enums: `status`, `priority`, `type`, `channel`, `tier`, `language`, `sentiment` ("negative", "neutral",
  "positive", ""), `sla_state` ("ok", "warning", "breached", "paused", ""), `event` (see EVENTS; "time" for time
  rules), `event_type` (an external business event's type, e.g. "shipment.delayed");
- ids (int or None): `category`, `team`, `assignee`, `organization`;
- lists: `category_path` (category ids root → leaf), `tags` (list[str]);
- numbers (None when unknown): `sentiment_confidence` (0–1), `minutes_to_breach`, `hours_since_created`,
  `hours_since_updated`, `hours_since_customer_reply`, `requester_recent_tickets`;
- booleans: `business_hours`, `vip`;
- text: `subject`, `body`;
- `changes`: {field: [old, new]} for "ticket.updated";
- custom fields: `cf.<key>` (any type).

Operators, and the kinds of field each applies to, are in OPERATORS_BY_KIND. Semantics, chosen and why:

- `is`/`in` compare by type: True is not 1, 2 is 2.0, text is case-sensitive (enum values are codes). `is_not` and
  `not_in` are their exact complements, so an unset fact "is not" anything.
- `gt`/`gte`/`lt`/`lte` never match a fact that is not a number (None, text, a boolean).
- `contains`: a list fact holds the value (text items compared case-insensitively: tags); a text fact holds the
  substring, case-insensitively; `changes` has the value as a changed field.
- `contains_any_words`: any of the words or phrases, case-insensitively; a word with a Chinese, Japanese or Korean
  character matches as a substring (no spaces between words there), other words only as whole words ("agent" is
  not in "reagent"; "complaint" is in "投诉complaint"); runs of white space count as one space.
- `matches`: a regular expression, case-insensitive, searched in the first TEXT_SEARCH_LIMIT characters; Python's
  `re` has no timeout, so `patterns` rejects the shapes that backtrack explosively when the rule is validated.
- `is_set`: the fact is neither None, "", nor an empty list/dict. `under`: the category id is in `category_path`
  (the category itself included). `changed*` read `changes[field]`.

Messages are English templates with named placeholders: `validate(spec, translate=gettext)` returns them
translated; `*.domain` imports no Django (import-linter contract), so `gettext_noop` only marks them for
`makemessages`, and `template`/`params` let a caller translate later.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pivotdesk.automation.domain.patterns import MAX_PATTERN, compiled, pattern_problem

__all__ = [
    "EVENTS",
    "FIELD_KINDS",
    "OPERATORS",
    "OPERATORS_BY_KIND",
    "ConditionError",
    "Explained",
    "evaluate",
    "explain",
    "fields_used",
    "validate",
]

MAX_DEPTH: Final = 4
MAX_CONDITIONS: Final = 50
MAX_LIST_VALUES: Final = 200
TEXT_SEARCH_LIMIT: Final = 5_000  # a leading repetition (\w+x) stays quadratic: ~0.2 s worst case here
CUSTOM_PREFIX: Final = "cf."

ENUM, ID, NUMBER, BOOL, LIST, TEXT, CHANGES, CUSTOM = (
    "enum",
    "id",
    "number",
    "bool",
    "list",
    "text",
    "changes",
    "custom",
)

FIELD_KINDS: Final[Mapping[str, str]] = {
    **dict.fromkeys(
        ("status", "priority", "type", "channel", "tier", "language", "sentiment", "sla_state", "event", "event_type"),
        ENUM,
    ),
    **dict.fromkeys(("category", "team", "assignee", "organization"), ID),
    **dict.fromkeys(("category_path", "tags"), LIST),
    **dict.fromkeys(
        (
            "sentiment_confidence",
            "minutes_to_breach",
            "hours_since_created",
            "hours_since_updated",
            "hours_since_customer_reply",
            "requester_recent_tickets",
        ),
        NUMBER,
    ),
    **dict.fromkeys(("business_hours", "vip"), BOOL),
    **dict.fromkeys(("subject", "body"), TEXT),
    "changes": CHANGES,
}
EVENTS: Final = (
    "ticket.created",
    "ticket.updated",
    "customer.replied",
    "agent.replied",
    "sla.warning",
    "sla.breach",
    "approval.decided",
    "chain.stage_changed",
    "business_event",
    "time",
)
CHOICES: Final[Mapping[str, tuple[str, ...]]] = {
    "event": EVENTS,
    "sentiment": ("negative", "neutral", "positive", ""),
    "sla_state": ("ok", "warning", "breached", "paused", ""),
}
# Facts derived from the event or the clock, not stored on the ticket: they never appear in `changes`.
UNTRACKED: Final = frozenset(
    {"event", "event_type", "changes", "category_path", "body", "business_hours", "requester_recent_tickets"}
    | {f for f, kind in FIELD_KINDS.items() if kind == NUMBER}
)
CHANGE_OPS: Final = ("changed", "changed_from", "changed_to")
_PRESENCE = ("is_set", "not_set")
_EQUALITY = ("is", "is_not", "in", "not_in")
_TEXT_OPS = ("contains", "not_contains", "contains_any_words", "matches")
OPERATORS_BY_KIND: Final[Mapping[str, tuple[str, ...]]] = {
    ENUM: (*_EQUALITY, *_PRESENCE, *CHANGE_OPS),
    ID: (*_EQUALITY, *_PRESENCE, *CHANGE_OPS, "under"),
    NUMBER: (*_EQUALITY, "gt", "gte", "lt", "lte", *_PRESENCE),
    BOOL: ("is", "is_not", *_PRESENCE, *CHANGE_OPS),
    LIST: ("contains", "not_contains", *_PRESENCE, "changed"),
    TEXT: ("is", "is_not", *_TEXT_OPS, *_PRESENCE, "changed"),
    CHANGES: ("contains", "not_contains", *_PRESENCE),
    CUSTOM: (*_EQUALITY, "gt", "gte", "lt", "lte", *_TEXT_OPS, *_PRESENCE, *CHANGE_OPS),
}
OPERATORS: Final = frozenset(op for ops in OPERATORS_BY_KIND.values() for op in ops)
_NO_VALUE = frozenset({*_PRESENCE, "changed"})


def gettext_noop(message: str) -> str:
    """Marks a msgid for `makemessages` (named like Django's, which `*.domain` may not import)."""
    return message


MESSAGES: Final[Mapping[str, str]] = {
    "not_an_object": gettext_noop("Expected a condition or a group of conditions."),
    "bad_group": gettext_noop("A group has exactly one key, “all” or “any”, holding a list."),
    "too_deep": gettext_noop("Groups can be nested at most %(max)d levels deep."),
    "too_many": gettext_noop("A rule can have at most %(max)d conditions."),
    "unknown_key": gettext_noop("Unknown key “%(key)s”: a condition has a field, an operator and a value."),
    "unknown_field": gettext_noop("Unknown field “%(field)s” (custom fields start with “cf.”)."),
    "unknown_operator": gettext_noop("Unknown operator “%(op)s”."),
    "operator_not_for_field": gettext_noop("The operator “%(op)s” cannot be used with the field “%(field)s”."),
    "no_value": gettext_noop("This operator takes no value."),
    "expected_text": gettext_noop("Expected text."),
    "expected_number": gettext_noop("Expected a number."),
    "expected_bool": gettext_noop("Expected true or false."),
    "expected_id": gettext_noop("Expected an id (a whole number)."),
    "expected_scalar": gettext_noop("Expected text, a number, or true or false."),
    "expected_list": gettext_noop("Expected a list of 1 to %(max)d values."),
    "expected_words": gettext_noop("Expected a list of 1 to %(max)d words or phrases."),
    "unknown_choice": gettext_noop("“%(value)s” is not one of: %(choices)s."),
    "pattern_too_long": gettext_noop("The pattern is longer than %(max)d characters."),
    "pattern_invalid": gettext_noop("The pattern is not a valid regular expression."),
    "pattern_nested": gettext_noop(
        "The pattern repeats a repetition (like (a+)+ or (a|b)*), which can take too long to run."
    ),
    "pattern_adjacent": gettext_noop(
        "The pattern has two repetitions in a row that can match the same text (like .*.*), which can take too "
        "long to run."
    ),
}


@dataclass(frozen=True)
class ConditionError:
    """One problem of a condition tree: where (`path`, e.g. "all.2.value") and what (`message`, translated by
    `validate`'s `translate`; `code` is stable, `template` + `params` translate it again later)."""

    path: str
    message: str
    code: str = ""
    template: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explained:
    """One leaf condition checked against the facts: the fact's value (`changes[field]` for the changed
    operators, `category_path` for "under") and whether it matched."""

    path: str
    condition: Mapping[str, Any]
    value: Any
    matched: bool


def _untranslated(message: str) -> str:
    return message


# --- validation --------------------------------------------------------------------------------------------------


def validate(spec: Mapping[str, Any], *, translate: Callable[[str], str] = _untranslated) -> list[ConditionError]:
    """Every problem of a condition tree, each with its path; empty when `evaluate` may run it."""
    problems: list[tuple[str, str, dict[str, Any]]] = []
    leaves = _check_node(spec, "", 1, problems)
    if leaves > MAX_CONDITIONS:
        problems.append(("", "too_many", {"max": MAX_CONDITIONS}))
    out = []
    for path, code, params in problems:
        template = MESSAGES[code]
        out.append(ConditionError(path, _render(translate(template), template, params), code, template, params))
    return out


def _render(text: str, template: str, params: Mapping[str, Any]) -> str:
    """The message with its placeholders filled in; the English one when a translation's placeholders are wrong."""
    try:
        return text % params if params else text
    except (KeyError, ValueError, TypeError):
        return template % params


def _join(path: str, part: str | int) -> str:
    return f"{path}.{part}" if path else str(part)


def _check_node(node: Any, path: str, depth: int, problems: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Checks one node (recursively); returns the number of conditions under it."""
    if not isinstance(node, Mapping):
        problems.append((path, "not_an_object", {}))
        return 0
    if "all" not in node and "any" not in node:
        problems.extend(_check_condition(node, path))
        return 1
    key = "all" if "all" in node else "any"
    items = node[key]
    if len(node) != 1 or not isinstance(items, list | tuple):
        problems.append((path, "bad_group", {}))
        return 0
    if depth > MAX_DEPTH:
        problems.append((path, "too_deep", {"max": MAX_DEPTH}))
        return 0
    return sum(_check_node(item, _join(path, f"{key}.{i}"), depth + 1, problems) for i, item in enumerate(items))


def kind_of(name: str) -> str | None:
    """The kind of a field (FIELD_KINDS; CUSTOM for "cf.<key>"), None for an unknown field."""
    if name.startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX):
        return CUSTOM
    return FIELD_KINDS.get(name)


def _check_condition(cond: Mapping[str, Any], path: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for key in cond:
        if key not in ("field", "op", "value"):
            yield _join(path, str(key)), "unknown_key", {"key": key}
    name, op = cond.get("field"), cond.get("op")
    kind = kind_of(name) if isinstance(name, str) else None
    if kind is None:
        yield _join(path, "field"), "unknown_field", {"field": name}
    if not isinstance(op, str) or op not in OPERATORS:
        yield _join(path, "op"), "unknown_operator", {"op": op}
        return
    if kind is None or not isinstance(name, str):
        return
    if op not in OPERATORS_BY_KIND[kind] or (op == "under" and name != "category") or _untracked(name, op):
        yield _join(path, "op"), "operator_not_for_field", {"op": op, "field": name}
        return
    problem = _value_problem(name, kind, op, cond.get("value"), "value" in cond)
    if problem is not None:
        yield _join(path, "value"), problem[0], problem[1]


def _untracked(name: str, op: str) -> bool:
    return op in CHANGE_OPS and name in UNTRACKED


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _scalar_problem(name: str, kind: str, value: Any) -> tuple[str, dict[str, Any]] | None:
    """A value `is` may compare the field with, or why not."""
    if kind == ID:
        return None if isinstance(value, int) and not isinstance(value, bool) else ("expected_id", {})
    if kind == NUMBER:
        return None if _is_number(value) and math.isfinite(value) else ("expected_number", {})
    if kind == BOOL:
        return None if isinstance(value, bool) else ("expected_bool", {})
    if kind == CUSTOM:
        ok = isinstance(value, str | bool) or (_is_number(value) and math.isfinite(value))
        return None if ok else ("expected_scalar", {})
    if not isinstance(value, str):
        return "expected_text", {}
    choices = CHOICES.get(name)
    if choices is not None and value not in choices:
        return "unknown_choice", {"value": value, "choices": ", ".join(c for c in choices if c)}
    return None


def _value_problem(name: str, kind: str, op: str, value: Any, has_value: bool) -> tuple[str, dict[str, Any]] | None:
    if op in _NO_VALUE:
        return None if value is None else ("no_value", {})
    if op in ("in", "not_in"):
        return _list_problem(name, kind, value)
    if op in ("gt", "gte", "lt", "lte"):
        return _scalar_problem(name, NUMBER, value)
    if op == "under":
        return _scalar_problem(name, ID, value)
    if op in ("changed_from", "changed_to"):
        return None if value is None and has_value else _scalar_problem(name, kind, value)
    if op in ("contains", "not_contains"):
        return _contains_problem(name, kind, value)
    if op == "contains_any_words":
        words_ok = isinstance(value, list | tuple) and 1 <= len(value) <= MAX_LIST_VALUES
        ok = words_ok and all(isinstance(w, str) and w.strip() for w in value)
        return None if ok else ("expected_words", {"max": MAX_LIST_VALUES})
    if op == "matches":
        code = pattern_problem(value)
        return None if code is None else (code, {"max": MAX_PATTERN} if code == "pattern_too_long" else {})
    return _scalar_problem(name, kind, value)


def _list_problem(name: str, kind: str, value: Any) -> tuple[str, dict[str, Any]] | None:
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_LIST_VALUES:
        return "expected_list", {"max": MAX_LIST_VALUES}
    return next((p for v in value if (p := _scalar_problem(name, kind, v)) is not None), None)


def _contains_problem(name: str, kind: str, value: Any) -> tuple[str, dict[str, Any]] | None:
    if name == "category_path":
        return _scalar_problem(name, ID, value)
    if kind == CUSTOM:
        return _scalar_problem(name, CUSTOM, value)
    return None if isinstance(value, str) and value else ("expected_text", {})


# --- words -------------------------------------------------------------------------------------------------------

# Scripts written without spaces between words: a keyword in them matches as a substring.
CJK_RANGES: Final = "\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\U00020000-\U0003ffff"
_CJK = re.compile(f"[{CJK_RANGES}]")
# A word character that is not CJK: what may not touch a Latin keyword on either side.
_LATIN_WORD = f"[^\\W{CJK_RANGES}]"


@functools.lru_cache(maxsize=256)
def _squash(text: str) -> str:
    """Case-folded, white space runs made one space. Cached: every keyword condition of every rule reads the same
    subject and body of an event, and a str keeps its hash, so a repeat costs a dictionary lookup."""
    return " ".join(text.casefold().split())


@functools.lru_cache(maxsize=2048)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(f"(?<!{_LATIN_WORD}){re.escape(word)}(?!{_LATIN_WORD})")


def has_word(text: str, word: str) -> bool:
    """Whether `text` contains `word` (see the module docstring: substring for CJK, whole words otherwise)."""
    return _has_squashed_word(_squash(text), word)


def _has_squashed_word(haystack: str, word: str) -> bool:
    needle = _squash(word)
    if not needle:
        return False
    if _CJK.search(needle):
        return needle in haystack
    return _word_pattern(needle).search(haystack) is not None


# --- evaluation --------------------------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return isinstance(a, str) and isinstance(b, str) and a == b


def _same_or_none(a: Any, b: Any) -> bool:
    return a is None if b is None else _same(a, b)


def _is_set(fact: Any, _value: Any) -> bool:
    if fact is None:
        return False
    if isinstance(fact, str | list | tuple | dict | set | frozenset):
        return len(fact) > 0
    return True


def _in(fact: Any, value: Any) -> bool:
    return isinstance(value, list | tuple) and any(_same(fact, v) for v in value)


def _contains(fact: Any, value: Any) -> bool:
    if isinstance(fact, str):
        return isinstance(value, str) and value.casefold() in fact.casefold()
    if isinstance(fact, list | tuple | set | frozenset):
        if isinstance(value, str):
            return any(isinstance(x, str) and x.casefold() == value.casefold() for x in fact)
        return any(_same(x, value) for x in fact)
    if isinstance(fact, Mapping):
        return isinstance(value, str) and value in fact
    return False


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda fact, value: _is_number(fact) and _is_number(value) and test(fact, value)


def _words(fact: Any, value: Any) -> bool:
    if not isinstance(fact, str) or not isinstance(value, list | tuple):
        return False
    haystack = _squash(fact)
    return any(isinstance(w, str) and _has_squashed_word(haystack, w) for w in value)


def _matches(fact: Any, value: Any) -> bool:
    pattern = compiled(value) if isinstance(value, str) else None
    return isinstance(fact, str) and pattern is not None and pattern.search(fact[:TEXT_SEARCH_LIMIT]) is not None


_UNCHANGED: Final = object()


def _pair(fact: Any) -> bool:
    return isinstance(fact, list | tuple) and len(fact) == 2


_TESTS: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "is": _same,
    "is_not": lambda f, v: not _same(f, v),
    "in": _in,
    "not_in": lambda f, v: not _in(f, v),
    "gt": _compare(lambda a, b: a > b),
    "gte": _compare(lambda a, b: a >= b),
    "lt": _compare(lambda a, b: a < b),
    "lte": _compare(lambda a, b: a <= b),
    "contains": _contains,
    "not_contains": lambda f, v: not _contains(f, v),
    "contains_any_words": _words,
    "matches": _matches,
    "is_set": _is_set,
    "not_set": lambda f, v: not _is_set(f, v),
    "under": lambda path, v: isinstance(path, list | tuple) and any(_same(x, v) for x in path),
    "changed": lambda pair, _v: pair is not _UNCHANGED,
    "changed_from": lambda pair, v: _pair(pair) and _same_or_none(pair[0], v),
    "changed_to": lambda pair, v: _pair(pair) and _same_or_none(pair[1], v),
}


def _fact(name: str, op: str, facts: Mapping[str, Any]) -> Any:
    """The value the operator reads: the field's fact, `category_path` for "under", `changes[field]` for the
    changed operators (_UNCHANGED when the field did not change)."""
    if op == "under":
        return facts.get("category_path")
    if op in CHANGE_OPS:
        changes = facts.get("changes")
        return changes[name] if isinstance(changes, Mapping) and name in changes else _UNCHANGED
    return facts.get(name)


def _leaf(cond: Mapping[str, Any], facts: Mapping[str, Any]) -> tuple[Any, bool]:
    name, op = cond.get("field"), cond.get("op")
    if not isinstance(name, str) or not isinstance(op, str) or op not in _TESTS:
        return None, False
    fact = _fact(name, op, facts)
    return fact, _TESTS[op](fact, cond.get("value"))


def _group(node: Mapping[str, Any]) -> tuple[str, Sequence[Any]] | None:
    for key in ("all", "any"):
        if key in node:
            items = node[key]
            return (key, items) if isinstance(items, list | tuple) else (key, ())
    return None


def evaluate(spec: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Whether the facts satisfy the condition tree. Never raises for a tree `validate` accepts."""
    return _evaluate(spec, facts, 1)


def _evaluate(node: Any, facts: Mapping[str, Any], depth: int) -> bool:
    if not isinstance(node, Mapping) or depth > MAX_DEPTH + 1:
        return False
    group = _group(node)
    if group is None:
        return _leaf(node, facts)[1]
    key, items = group
    results = (_evaluate(item, facts, depth + 1) for item in items)
    return all(results) if key == "all" else any(results)


def explain(spec: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Explained]:
    """Every leaf condition with the fact it read and whether it matched, in order (for the rule preview)."""
    out: list[Explained] = []
    _explain(spec, facts, "", 1, out)
    return out


def _explain(node: Any, facts: Mapping[str, Any], path: str, depth: int, out: list[Explained]) -> None:
    if not isinstance(node, Mapping) or depth > MAX_DEPTH + 1:
        return
    group = _group(node)
    if group is None:
        fact, matched = _leaf(node, facts)
        out.append(Explained(path, node, None if fact is _UNCHANGED else fact, matched))
        return
    key, items = group
    for i, item in enumerate(items):
        _explain(item, facts, _join(path, f"{key}.{i}"), depth + 1, out)


def fields_used(spec: Mapping[str, Any]) -> set[str]:
    """The facts a condition tree reads (`category_path` for "under", `changes` for the changed operators)."""
    used: set[str] = set()
    stack: list[Any] = [spec]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        group = _group(node)
        if group is not None:
            stack.extend(group[1])
            continue
        name, op = node.get("field"), node.get("op")
        if op == "under":
            used.add("category_path")
        elif op in CHANGE_OPS:
            used.add("changes")
        elif isinstance(name, str):
            used.add(name)
    return used
