"""Article version diffs: both versions can be rebuilt from the diff, and the summary counts its lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.knowledge.domain.versions import DiffLine, diff_lines, lines_of, summary


def rebuild(diff, keep):
    return "\n".join(line.text for line in diff if line.kind in keep)


def test_example():
    old = "Restart the router.\nWait a minute.\nCall us."
    new = "Restart the router.\nWait two minutes.\nCall us.\nOr write to us."
    assert diff_lines(old, new) == [
        DiffLine("same", "Restart the router."),
        DiffLine("removed", "Wait a minute."),
        DiffLine("added", "Wait two minutes."),
        DiffLine("same", "Call us."),
        DiffLine("added", "Or write to us."),
    ]
    assert summary(old, new) == (2, 1)


def test_empty_and_identical():
    assert diff_lines("", "") == []
    assert diff_lines("", "a\nb") == [DiffLine("added", "a"), DiffLine("added", "b")]
    assert diff_lines("a", "") == [DiffLine("removed", "a")]
    assert summary("same\ntext", "same\ntext") == (0, 0)


def test_line_endings_are_normalized():
    assert lines_of("a\r\nb\rc\n") == ["a", "b", "c", ""]
    assert summary("a\r\nb", "a\nb") == (0, 0)


def test_a_long_text_with_many_blank_lines_diffs_minimally():
    old = "\n".join(f"para {i}\n" for i in range(300))  # 600 lines, half of them blank (autojunk would junk them)
    new = old.replace("para 150", "para 150 (edited)")
    assert summary(old, new) == (1, 1)


line = st.text(alphabet=st.characters(blacklist_characters="\r\n", codec="utf-8"), max_size=6)
lines = st.lists(st.one_of(line, st.sampled_from(["", "x", "y"])), max_size=15)


@given(lines, lines)
def test_diff_rebuilds_both_versions(old_lines, new_lines):
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    diff = diff_lines(old, new)
    assert rebuild(diff, {"same", "added"}) == new
    assert rebuild(diff, {"same", "removed"}) == old
    assert summary(old, new) == (
        sum(1 for d in diff if d.kind == "added"),
        sum(1 for d in diff if d.kind == "removed"),
    )


@given(lines, lines)
def test_summary_is_consistent_with_the_line_counts(old_lines, new_lines):
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    added, removed = summary(old, new)
    kept = sum(1 for d in diff_lines(old, new) if d.kind == "same")
    assert kept + added == len(lines_of(new))
    assert kept + removed == len(lines_of(old))


@given(lines)
def test_no_change_is_all_same(text_lines):
    text = "\n".join(text_lines)
    assert all(d.kind == "same" for d in diff_lines(text, text))
    assert summary(text, text) == (0, 0)
