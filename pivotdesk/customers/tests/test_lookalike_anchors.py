"""The anchors that find look-alike addresses without comparing every address of the workspace
(`email_lookalike_anchors`), checked against the brute force they replace: every address within two edits that keeps
one half of the local part intact is found by one anchor and the length window, and the anchors claim no more than
that."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.customers.domain.duplicates import edit_distance, email_lookalike_anchors, similar_emails

LETTERS = "abcdefghijklmnopqrstuvwxyz._"
local_parts = st.text(alphabet=LETTERS, min_size=4, max_size=16).filter(lambda s: not s.isdigit())
domains = st.sampled_from(["qq.com", "gmail.com", "hongda.cn", "163.com"])


def _edit(text: str, data: st.DataObject, start: int, end: int, count: int) -> str:
    """`count` random single-character edits (insert, delete, replace) at positions inside [start, end)."""
    for _ in range(count):
        if end <= start:
            break
        at = data.draw(st.integers(start, end - 1))
        kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        char = data.draw(st.sampled_from(LETTERS))
        if kind == "insert":
            text, end = text[:at] + char + text[at:], end + 1
        elif kind == "delete":
            text, end = text[:at] + text[at + 1 :], end - 1
        else:
            text = text[:at] + char + text[at + 1 :]
    return text


def _found(anchors, address: str) -> bool:
    in_window = anchors.shortest <= len(address) <= anchors.longest
    return in_window and (
        address.startswith(anchors.prefix) or (bool(anchors.suffix) and address.endswith(anchors.suffix))
    )


@given(local_parts, domains, st.data(), st.integers(1, 2))
def test_edits_in_the_second_half_or_the_domain_are_found_by_the_prefix(local, domain, data, count) -> None:
    email = f"{local}@{domain}"
    anchors = email_lookalike_anchors(email)
    assert anchors is not None
    half = len(anchors.prefix)
    typo = _edit(email, data, half, len(email), count)
    assert edit_distance(email, typo) <= 2
    assert _found(anchors, typo), (email, typo, anchors)


@given(local_parts, domains, st.data(), st.integers(1, 2))
def test_edits_in_the_first_half_are_found_by_the_suffix(local, domain, data, count) -> None:
    email = f"{local}@{domain}"
    anchors = email_lookalike_anchors(email)
    assert anchors is not None
    typo = _edit(email, data, 0, len(anchors.prefix), count)
    if not anchors.suffix:
        return  # a 4-5 letter name: only the prefix narrows (its one-letter rest would not)
    assert _found(anchors, typo), (email, typo, anchors)


@given(local_parts, domains, st.text(alphabet=LETTERS + "@", max_size=24))
def test_an_address_found_by_brute_force_and_intact_at_one_end_is_found_by_an_anchor(local, domain, other) -> None:
    """The brute force (edit distance to every address) against the anchors, on arbitrary addresses."""
    email = f"{local}@{domain}"
    anchors = email_lookalike_anchors(email)
    assert anchors is not None
    if edit_distance(email, other) <= 2 and (
        other.startswith(anchors.prefix) or other.endswith(anchors.suffix or "\0")
    ):
        assert _found(anchors, other)


@given(st.text(alphabet="0123456789", min_size=5, max_size=11), domains)
def test_numbers_are_accounts_not_typos(number, domain) -> None:
    email = f"{number}@{domain}"
    assert email_lookalike_anchors(email) is None
    neighbour = f"{number[:-1]}{(int(number[-1]) + 1) % 10}@{domain}"
    assert not similar_emails(email, neighbour)


def test_a_typo_is_similar_and_the_same_address_is_not() -> None:
    assert similar_emails("zhangwei@hongda.cn", "zhangwie@hongda.cn")
    assert not similar_emails("zhangwei@hongda.cn", "zhangwei@hongda.cn")
    assert not similar_emails("zhangwei@hongda.cn", "zhangsan@hongda.cn")


def _levenshtein(a: str, b: str) -> int:
    """The textbook full table: the reference the banded, capped version is checked against."""
    table = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return table[-1][-1]


@given(st.text(alphabet="abc@.", max_size=12), st.text(alphabet="abc@.", max_size=12), st.integers(0, 4))
def test_the_banded_edit_distance_agrees_with_the_full_table(a, b, limit) -> None:
    assert edit_distance(a, b, limit=limit) == min(_levenshtein(a, b), limit + 1)


def test_names_told_apart_by_digits_only_are_two_accounts() -> None:
    assert not similar_emails("customer7@example.com", "customer8@example.com")
    assert not similar_emails("li.lei01@qq.com", "li.lei02@qq.com")
    assert similar_emails("li.lei01@qq.com", "li.lie01@qq.com")
