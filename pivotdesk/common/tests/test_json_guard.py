"""The JSON nesting guard: too-deep JSON is refused before `json.loads` recurses, brackets in strings do not count."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.common.json_guard import JsonRejected, loads_guarded, nesting_depth


def _depth(value: object) -> int:
    """Brute-force reference: the nesting of a Python value as json.dumps writes it."""
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\x'), inner, max_size=3),
    max_leaves=20,
)


@given(json_values)
def test_depth_matches_the_nesting_of_the_value(value):
    assert nesting_depth(json.dumps(value)) == _depth(value)
    assert nesting_depth(json.dumps(value, ensure_ascii=False).encode()) == _depth(value)


def test_ten_thousand_brackets_are_refused_before_parsing():
    with pytest.raises(JsonRejected):
        loads_guarded(b"[" * 10_000 + b"]" * 10_000)


def test_a_refusal_is_a_value_error_so_existing_handlers_catch_it():
    assert issubclass(JsonRejected, ValueError)


def test_within_the_limits_it_is_json_loads():
    assert loads_guarded('{"a": [[1]], "b": "[[[["}', max_depth=3) == {"a": [[1]], "b": "[[[["}
    with pytest.raises(JsonRejected):
        loads_guarded("[[[[1]]]]", max_depth=3)
    with pytest.raises(JsonRejected):
        loads_guarded(b"[1, 2, 3]", max_bytes=5)
    with pytest.raises(ValueError, match="Expecting"):
        loads_guarded(b"[1,")
