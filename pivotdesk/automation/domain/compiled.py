"""Condition trees compiled once into functions (pure): what the trigger cycle runs per event.

`conditions.evaluate` walks the tree as data on every call; with 500 rules and a dozen firings per event that walk
is most of the cost. `compile_conditions(spec)` turns a tree `conditions.validate` accepts into nested closures with
the same answer (checked by hypothesis against `evaluate`), and adds three things:

- **Cheap and steady first.** The items of a group are tried cheapest first (an enum or a number before a keyword
  list, a keyword list before a regular expression), and of two alike the one on a fact no action changes (the
  event, the channel, the text) before one on a fact actions change (tags, priority, team…). `all`/`any` of pure
  tests do not depend on the order, so the answer is the same; a rule that needs `event is ticket.updated` stops
  there on a new ticket without reading the body, and is not evaluated again when a tag is added.
- **What the answer depends on.** A program returns `(matched, reads)`: the facts whose change could change the
  answer, a changed-operator naming one entry of `changes` ("changes.priority"), and a failed `is`/`in` on texts
  only the facts' becoming one of them ("priority\x1fhigh"; see `changed_names`). An `all` that
  failed depends on the item that failed, an `any` that held on the item that held; otherwise the node's every
  fact. The cycle re-evaluates a rule only when a firing changed one of those, so a rule stopped by `priority is
  urgent` is not re-read when a tag is added, nor one waiting for "priority changed" when only the team did.
- **Text read once per event.** Keyword, substring and regex tests keep their answers in a per-event `memo` keyed by
  the text itself (a `str` caches its hash), so 500 rules naming the same 90 keywords fold and scan the body once:
  the body's Latin words are split into a set once, a keyword made of word characters is a set lookup (the same as
  `has_word`'s whole-word rule: a maximal run of non-CJK word characters), a CJK keyword a substring test.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pivotdesk.automation.domain import conditions as c
from pivotdesk.automation.domain.effects import SETTABLE
from pivotdesk.automation.domain.patterns import compiled as compiled_pattern

__all__ = ["CHANGES_PREFIX", "NOT_A_LIST", "VALUE_SEP", "Memo", "Program", "changed_names", "compile_conditions"]

CHANGES_PREFIX: Final = "changes."
VALUE_SEP: Final = "\x1f"  # "priority\x1fhigh": the fact became this text, or a list gained it (`changed_names`)
NOT_A_LIST: Final = "\x1e"  # "tags\x1e": the fact changed and is not a list, or was not one

Memo = dict[Any, Any]
Run = Callable[[Mapping[str, Any], Memo], tuple[bool, frozenset[str]]]

_LATIN_TOKEN: Final = re.compile(f"{c._LATIN_WORD}+")
_LATIN_ONLY: Final = re.compile(f"{c._LATIN_WORD}+\\Z")
_COST_TEXT, _COST_WORDS, _COST_REGEX = 8, 12, 20
_VOLATILE: Final = SETTABLE | {"tags", "changes", "category_path"}  # facts a trigger's actions may change
_TEXT_OPS: Final = frozenset({"contains", "not_contains", "contains_any_words", "matches"})


@dataclass(frozen=True)
class Program:
    """One compiled condition tree: `run(facts, memo)` → (matched, what the answer depends on); `reads` is all it
    may depend on (`conditions.fields_used`, with "changes.<field>" for one entry of `changes`), `cost` a rough
    relative price of one run."""

    run: Run
    reads: frozenset[str]
    cost: float

    def matches(self, facts: Mapping[str, Any], memo: Memo | None = None) -> bool:
        return self.run(facts, {} if memo is None else memo)[0]


def compile_conditions(spec: Mapping[str, Any]) -> Program:
    """The program of a condition tree (`conditions.validate`d; anything else compiles to "never matches", as
    `evaluate` answers it)."""
    return _node(spec, 1)


_INTERNED: dict[frozenset[str], frozenset[str]] = {}


def _intern(names: frozenset[str]) -> frozenset[str]:
    """One object per set of names, so the cycle can tell answers with the same dependencies by identity."""
    return _INTERNED.setdefault(names, names)


_NOTHING: Final = _intern(frozenset())
_NEVER: Final = Program(run=lambda facts, memo: (False, _NOTHING), reads=_NOTHING, cost=0)


def _node(node: Any, depth: int) -> Program:
    if not isinstance(node, Mapping) or depth > c.MAX_DEPTH + 1:
        return _NEVER
    group = c._group(node)
    if group is None:
        return _leaf(node)
    key, items = group
    children = sorted((_node(item, depth + 1) for item in items), key=lambda p: p.cost)
    return _group_program(key, children)


def _group_program(key: str, children: Sequence[Program]) -> Program:
    reads = _intern(frozenset().union(*(p.reads for p in children)))
    cost = sum(p.cost for p in children) or 1
    runs = tuple(p.run for p in children)
    if key == "all":

        def run_all(facts: Mapping[str, Any], memo: Memo) -> tuple[bool, frozenset[str]]:
            for child in runs:
                ok, deps = child(facts, memo)
                if not ok:
                    return False, deps
            return True, reads

        return Program(run_all, reads, cost)

    def run_any(facts: Mapping[str, Any], memo: Memo) -> tuple[bool, frozenset[str]]:
        for child in runs:
            ok, deps = child(facts, memo)
            if ok:
                return True, deps
        return False, reads

    return Program(run_any, reads, cost)


def _leaf(cond: Mapping[str, Any]) -> Program:
    name, op, value = cond.get("field"), cond.get("op"), cond.get("value")
    if not isinstance(name, str) or not isinstance(op, str) or op not in c._TESTS:
        return _NEVER
    if op in c.CHANGE_OPS:
        return _change_leaf(name, op, value)
    fact_name = "category_path" if op == "under" else name
    if name == "changes" and op in ("contains", "not_contains") and isinstance(value, str):
        reads = _intern(frozenset({CHANGES_PREFIX + value}))
    else:
        reads = _intern(frozenset({fact_name}))
    test = _text_test(op, value) if op in _TEXT_OPS else None
    if op == "contains" and isinstance(value, str):
        return _list_contains(fact_name, value, reads, test)
    if test is not None:
        return _text_leaf(fact_name, op, value, reads, test)
    choice = _choice(op, value)
    if choice is not None:
        return _choice_leaf(fact_name, *choice, reads)
    plain = _fast_test(op, value) or c._TESTS[op]

    def run_plain(facts: Mapping[str, Any], memo: Memo) -> tuple[bool, frozenset[str]]:
        return plain(facts.get(fact_name), value), reads

    return Program(run_plain, reads, _price(1, fact_name))


def _change_leaf(name: str, op: str, value: Any) -> Program:
    """changed / changed_from / changed_to: one entry of `changes`. A failed "changed to X" waits for the entry's
    new value to become X ("changes.team\x1f#4")."""
    change_test = c._TESTS[op]
    reads = _intern(frozenset({CHANGES_PREFIX + name}))
    target = _scalar_key(value) if op == "changed_to" else None
    waiting = reads if target is None else _intern(frozenset({f"{CHANGES_PREFIX}{name}{VALUE_SEP}{target}"}))

    def run_change(facts: Mapping[str, Any], memo: Memo) -> tuple[bool, frozenset[str]]:
        if change_test(c._fact(name, op, facts), value):
            return True, reads
        return False, waiting

    return Program(run_change, reads, _price(2, "changes"))


def _text_leaf(
    fact_name: str, op: str, value: Any, reads: frozenset[str], text_test: Callable[[str, Memo], bool]
) -> Program:
    generic = c._TESTS[op]
    cost = _COST_REGEX if op == "matches" else _COST_WORDS if op == "contains_any_words" else _COST_TEXT

    def run_text(facts: Mapping[str, Any], memo: Memo) -> tuple[bool, frozenset[str]]:
        fact = facts.get(fact_name)
        if isinstance(fact, str):
            return text_test(fact, memo), reads
        return generic(fact, value), reads

    return Program(run_text, reads, _price(cost, fact_name))


def _choice_leaf(fact_name: str, texts: frozenset[str], negate: bool, reads: frozenset[str]) -> Program:
    """`is`/`in` texts (or not): inside the set, any change may leave it; outside, only becoming one enters it."""
    outside = _intern(frozenset(f"{fact_name}{VALUE_SEP}{v}" for v in texts))

    def run_choice(facts: Mapping[str, Any], memo: Memo) -> tuple[bool, frozenset[str]]:
        fact = facts.get(fact_name)
        if isinstance(fact, str) and fact in texts:
            return not negate, reads
        return negate, outside

    return Program(run_choice, reads, _price(1, fact_name))


def _list_contains(
    fact_name: str, value: str, reads: frozenset[str], text_test: Callable[[str, Memo], bool] | None
) -> Program:
    """`contains` a text: on a list (tags), an item equal but for case; on a text, a substring. A list that does
    not hold it depends only on the item being added ("tags\x1fvip") or the fact stopping being a list."""
    folded = value.casefold()
    missing = _intern(frozenset({f"{fact_name}{VALUE_SEP}{folded}", f"{fact_name}{NOT_A_LIST}"}))

    def run_contains(facts: Mapping[str, Any], memo: Memo) -> tuple[bool, frozenset[str]]:
        fact = facts.get(fact_name)
        if isinstance(fact, list | tuple):
            if any(isinstance(x, str) and x.casefold() == folded for x in fact):
                return True, reads
            return False, missing
        if isinstance(fact, str) and text_test is not None:
            return text_test(fact, memo), reads
        return c._contains(fact, value), reads

    return Program(run_contains, reads, _price(_COST_TEXT, fact_name))


def _price(cost: float, fact_name: str) -> float:
    """A leaf's cost, a half more when actions may change its fact (tried after a steady one of the same cost)."""
    return cost + 0.5 if fact_name in _VOLATILE or fact_name.startswith(c.CUSTOM_PREFIX) else cost


def _choice(op: str, value: Any) -> tuple[frozenset[str], bool] | None:
    """`is`/`in` a text or texts (and their negations) as (the texts, negated), None for other shapes."""
    if op in ("is", "is_not") and isinstance(value, str):
        return frozenset({value}), op == "is_not"
    if op in ("in", "not_in") and isinstance(value, list | tuple) and value and all(isinstance(x, str) for x in value):
        return frozenset(value), op == "not_in"
    return None


def _fast_test(op: str, value: Any) -> Callable[[Any, Any], bool] | None:
    """`conditions`' test for the common shapes, with the value's type decided once: comparing with a boolean or a
    number. None for the rest (the generic test)."""
    if op in ("is", "is_not"):
        negate = op == "is_not"
        if isinstance(value, bool):
            return lambda fact, v: (fact is v) != negate
        if c._is_number(value):
            return lambda fact, v: (c._is_number(fact) and fact == v) != negate
        return None
    if op in ("gt", "gte", "lt", "lte") and c._is_number(value):
        compare = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}[op]
        return lambda fact, v: c._is_number(fact) and compare(fact, v)
    return None


def _scalar_key(value: Any) -> str | None:
    """A text's or a number's name in dependency keys, equal for values `conditions._same` finds equal (2 and 2.0
    alike; a number apart from the text of its digits); None for anything else."""
    if isinstance(value, str):
        return value
    if c._is_number(value) and math.isfinite(value):
        return f"#{int(value) if float(value).is_integer() else value}"
    return None


_MISSING: Final = object()


def _differ(a: Any, b: Any) -> bool:
    """Whether two facts differ for the conditions: Python's == but True is not 1 (nor 1.0), at any depth; the
    same object (a fact the firing did not touch) is the same."""
    if a is b:
        return False
    if a is _MISSING or b is _MISSING:
        return (b if a is _MISSING else a) is not None  # a missing fact reads as None
    if isinstance(a, bool) or isinstance(b, bool):
        return not (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) != len(b) or any(_differ(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() != b.keys() or any(_differ(a[k], b[k]) for k in a)
    return bool(a != b)


def _changed_entries(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    out: set[str] = set()
    for k in old.keys() | new.keys():
        entry = new.get(k)
        if _differ(old.get(k), entry):
            out.update(("changes", f"changes{NOT_A_LIST}", f"{CHANGES_PREFIX}{k}"))
            key = _scalar_key(entry[1]) if isinstance(entry, list | tuple) and len(entry) == 2 else None
            if key is not None:
                out.add(f"{CHANGES_PREFIX}{k}{VALUE_SEP}{key}")
    return out


def changed_names(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    """The facts that differ between two snapshots; for each that became a text, "<fact>\x1f<text>" too, for a list
    that gained texts "<fact>\x1f<text casefolded>" for each, for any other change "<fact>\x1e"; and
    "changes.<field>" for each entry of `changes` that differs: what a firing changed, in the names `Program.run`
    reports (a failed `priority is high` depends only on "priority\x1fhigh")."""
    old_changes, new_changes = before.get("changes"), after.get("changes")
    entries = isinstance(old_changes, Mapping) and isinstance(new_changes, Mapping)
    out = {
        k
        for k, v in after.items()
        if (old := before.get(k, _MISSING)) is not v and not (entries and k == "changes") and _differ(old, v)
    }
    if len(before) > len(after) or before.keys() != after.keys():  # a fact gone reads as None
        out |= {k for k in before.keys() - after.keys() if before[k] is not None}
    for k in list(out):
        old, new = before.get(k), after.get(k)
        if isinstance(new, str):
            out.add(f"{k}{VALUE_SEP}{new}")
        if isinstance(new, list | tuple) and isinstance(old, list | tuple):
            had = {x.casefold() for x in old if isinstance(x, str)}
            out |= {f"{k}{VALUE_SEP}{x.casefold()}" for x in new if isinstance(x, str) and x.casefold() not in had}
        else:
            out.add(f"{k}{NOT_A_LIST}")
    if old_changes is not new_changes:  # a fact that is not a mapping has no entries
        old_map = old_changes if isinstance(old_changes, Mapping) else {}
        new_map = new_changes if isinstance(new_changes, Mapping) else {}
        out |= _changed_entries(old_map, new_map)
    return out


# --- text, memoized per event ------------------------------------------------------------------------------------


def _folded(text: str, memo: Memo) -> str:
    key = ("fold", text)
    out = memo.get(key)
    if out is None:
        out = memo[key] = text.casefold()
    return out


def _words_of(text: str, memo: Memo) -> tuple[str, frozenset[str]]:
    """The text squashed as `has_word` reads it, and the set of its maximal runs of non-CJK word characters."""
    key = ("words", text)
    out = memo.get(key)
    if out is None:
        squashed = c._squash(text)
        out = memo[key] = (squashed, frozenset(_LATIN_TOKEN.findall(squashed)))
    return out


def _needle_test(word: str) -> Callable[[str, frozenset[str]], bool]:
    needle = c._squash(word)
    if not needle:
        return lambda haystack, tokens: False
    if c._CJK.search(needle):
        return lambda haystack, tokens: needle in haystack
    if _LATIN_ONLY.match(needle):
        return lambda haystack, tokens: needle in tokens
    pattern = c._word_pattern(needle)
    return lambda haystack, tokens: pattern.search(haystack) is not None


def _text_test(op: str, value: Any) -> Callable[[str, Memo], bool] | None:
    """The memoized test of a text fact for a text operator; None when the generic test is as cheap."""
    if op == "contains_any_words":
        if not isinstance(value, list | tuple):
            return lambda text, memo: False
        needles = tuple(_needle_test(w) for w in value if isinstance(w, str))

        def words(text: str, memo: Memo) -> bool:
            haystack, tokens = _words_of(text, memo)
            return any(test(haystack, tokens) for test in needles)

        return words
    if op == "matches":
        pattern = compiled_pattern(value) if isinstance(value, str) else None
        if pattern is None:
            return lambda text, memo: False

        def regex(text: str, memo: Memo) -> bool:
            key = ("re", value, text)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = pattern.search(text[: c.TEXT_SEARCH_LIMIT]) is not None
            return bool(hit)

        return regex
    if op in ("contains", "not_contains") and isinstance(value, str):
        needle, negate = value.casefold(), op == "not_contains"
        return lambda text, memo: (needle in _folded(text, memo)) != negate
    return None
