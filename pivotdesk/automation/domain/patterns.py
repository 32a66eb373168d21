"""Regular expressions a rule may use (pure): Python's `re` has no timeout, so a `matches` pattern is checked for
the shapes that backtrack explosively before it is saved.

Rejected: a variable repetition inside a repetition (`(a+)+`, `(a*)*`, `(a?)+b`, `([a-z]+\\.)+com`), an alternation
inside a repetition unless every alternative starts with its own literal (`(a|a)*`, `(a|ab)*`; `(cat|dog)+` is
fine), and two unbounded repetitions in a row that can match the same character (`.*.*`, `\\w+\\d*\\w+`;
`order\\s+\\d+` is fine). What stays: a single leading repetition (`\\w+x`) is quadratic in the text, which
`conditions` bounds by searching only its first 5 000 characters (about 0.2 s in the worst case).
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

MAX_PATTERN: Final = 200

# The parser of the `re` module (private, but stable since 3.11 and Python is pinned); imported by name because
# typeshed has no stubs for it. It gives the tree the safety check walks.
_parser: Any = importlib.import_module("re._parser")
_sre: Any = importlib.import_module("re._constants")
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)
# Characters tried to decide whether two single-character atoms can match the same character.
_PROBES = "".join(map(chr, range(32, 127))) + "\t\n\r\x0b\x0c\u00a0\u3000éßΩжا中文。１"
_CATEGORIES: Mapping[Any, Callable[[str], bool]] = {
    _sre.CATEGORY_DIGIT: str.isdecimal,
    _sre.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
    _sre.CATEGORY_SPACE: str.isspace,
    _sre.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    _sre.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    _sre.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
}


class _Unsafe(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def pattern_problem(value: Any) -> str | None:
    """Why `value` may not be a `matches` pattern (a message code of `conditions.MESSAGES`), None when it may."""
    if not isinstance(value, str) or not value:
        return "expected_text"
    if len(value) > MAX_PATTERN:
        return "pattern_too_long"
    try:
        tree = _parser.parse(value, re.IGNORECASE)
        re.compile(value, re.IGNORECASE)
        _walk(tree, inside_repeat=False)
    except _Unsafe as exc:
        return exc.code
    except (re.error, RecursionError, OverflowError):
        return "pattern_invalid"
    return None


def _walk(items: Any, *, inside_repeat: bool) -> None:
    """Raises _Unsafe for a repetition inside a repetition, an ambiguous alternation inside a repetition, or two
    overlapping unbounded repetitions in a row."""
    _check_adjacent(items)
    for op, av in items:
        if op in _REPEATS:
            lo, hi, body = av
            if inside_repeat and lo != hi:  # even `?`: (a?)+b takes half a minute on 20 000 "a"
                raise _Unsafe("pattern_nested")
            _walk(body, inside_repeat=inside_repeat or hi > 1)
            continue
        if op is _sre.BRANCH and inside_repeat and not _distinct_literal_heads(av[1]):
            raise _Unsafe("pattern_nested")
        for child in _children(op, av):
            _walk(child, inside_repeat=inside_repeat)


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns of a group, an alternation, a look-around or a conditional."""
    if op is _sre.BRANCH:
        return list(av[1])
    if op is _sre.SUBPATTERN:
        return [av[3]]
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [av[1]]
    if op is _sre.ATOMIC_GROUP:
        return [av]
    if op is _sre.GROUPREF_EXISTS:
        return [b for b in av[1:] if b is not None]
    return []


def _distinct_literal_heads(branches: Sequence[Any]) -> bool:
    heads = []
    for branch in branches:
        if not len(branch) or branch[0][0] is not _sre.LITERAL:
            return False
        heads.append(chr(branch[0][1]).casefold())
    return len(set(heads)) == len(heads)


def _unwrap(op: Any, av: Any) -> tuple[Any, Any]:
    while op is _sre.SUBPATTERN and len(av[3]) == 1:
        op, av = av[3][0]
    return op, av


def _check_adjacent(items: Any) -> None:
    previous: Any = None  # the body of the last unbounded repetition, while only optional items follow it
    for item in items:
        op, av = _unwrap(*item)
        if op in _REPEATS and av[1] == _sre.MAXREPEAT:
            if previous is not None and _may_overlap(previous, av[2]):
                raise _Unsafe("pattern_adjacent")
            previous = av[2]
        elif _min_width(op, av) > 0:
            previous = None


def _min_width(op: Any, av: Any) -> int:
    if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
        return 0
    if op in _REPEATS:
        return int(av[0] * av[2].getwidth()[0])
    if op is _sre.SUBPATTERN:
        return int(av[3].getwidth()[0])
    if op is _sre.BRANCH:
        return min(int(b.getwidth()[0]) for b in av[1])
    if op is _sre.ATOMIC_GROUP:
        return int(av.getwidth()[0])
    return 1


def _may_overlap(a: Any, b: Any) -> bool:
    """Whether two repeated bodies can match the same character (True unless both are one-character atoms that
    share none of the probe characters)."""
    pa, pb = _char_predicate(a), _char_predicate(b)
    if pa is None or pb is None:
        return True
    return any(pa(c) and pb(c) for p in _PROBES for c in {p, p.swapcase()})


def _char_predicate(body: Any) -> Callable[[str], bool] | None:
    if len(body) != 1:
        return None
    op, av = body[0]
    if op is _sre.ANY:
        return lambda c: c != "\n"
    if op is _sre.LITERAL:
        return lambda c: c.casefold() == chr(av).casefold()
    if op is _sre.NOT_LITERAL:
        return lambda c: c.casefold() != chr(av).casefold()
    if op is _sre.IN:
        return _class_predicate(av)
    return None


def _class_predicate(items: Sequence[tuple[Any, Any]]) -> Callable[[str], bool] | None:
    negate = bool(items) and items[0][0] is _sre.NEGATE
    tests = [_class_item(op, av) for op, av in (items[1:] if negate else items)]
    known = [t for t in tests if t is not None]
    if len(known) != len(tests):
        return None
    return lambda c: any(t(c) for t in known) != negate


def _class_item(op: Any, av: Any) -> Callable[[str], bool] | None:
    if op is _sre.LITERAL:
        literal = chr(av).casefold()
        return lambda c: c.casefold() == literal
    if op is _sre.RANGE:
        lo, hi = av
        return lambda c: any(lo <= ord(x) <= hi for x in (c, c.swapcase()))
    if op is _sre.CATEGORY:
        return _CATEGORIES.get(av)
    return None


@functools.lru_cache(maxsize=512)
def compiled(pattern: str) -> re.Pattern[str] | None:
    """The pattern compiled case-insensitively (cached), None when it does not compile."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError):
        return None
