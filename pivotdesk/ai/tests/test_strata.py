"""Training is reproducible whatever the labels are called: a workspace's category ids differ between databases
(and between test runs), and the held-out split must not depend on them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.ai.services.training import held_out_split


@given(st.lists(st.sampled_from("abc"), min_size=12, max_size=60), st.permutations(["9", "10", "11"]))
def test_the_held_out_split_is_the_same_under_any_renaming_of_the_labels(labels, names):
    if min(labels.count(x) for x in set(labels)) < 2 or len(set(labels)) < 2:
        return  # the stratified split needs two examples of every class
    rename = dict(zip("abc", names, strict=True))
    assert held_out_split(labels) == held_out_split([rename[label] for label in labels])


def test_category_ids_that_sort_differently_as_text_hold_out_the_same_tickets():
    labels = ["a", "b", "c", "b", "a", "c", "a", "b", "c", "a", "b", "c"] * 3
    as_ids = [{"a": "9", "b": "10", "c": "11"}[label] for label in labels]  # "10" < "11" < "9" as text
    as_other_ids = [{"a": "101", "b": "102", "c": "103"}[label] for label in labels]
    train, test = held_out_split(as_ids)
    assert (train, test) == held_out_split(as_other_ids)
    assert sorted(train + test) == list(range(len(labels))) and not set(train) & set(test)
