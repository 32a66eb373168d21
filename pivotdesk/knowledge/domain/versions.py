"""Line diffs between two versions of an article, for the version history ("what changed, who changed it").

Choices, and why:

- Texts are split into lines by `lines_of`: line endings "\\r\\n" and "\\r" count as "\\n" (a browser form posts
  "\\r\\n"; an import may not), and the empty text has no lines. `"\\n".join(lines_of(text))` is the text with its
  line endings normalized, so the diff reconstructs both versions: the "same" and "added" lines, in order, are the
  new version; the "same" and "removed" lines are the old one.
- A changed line shows as the old line removed, then the new line added (removals before additions within each
  changed block, as `diff -u` shows them).
- `difflib.SequenceMatcher` runs without its "autojunk" heuristic, which on texts of 200 lines or more treats
  frequent lines (blank lines, "---") as junk and produces needlessly large diffs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

__all__ = ["DiffKind", "DiffLine", "diff_lines", "lines_of", "summary"]

type DiffKind = Literal["same", "added", "removed"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a diff: kept ("same"), only in the new version ("added"), or only in the old one ("removed")."""

    kind: DiffKind
    text: str


def lines_of(text: str) -> list[str]:
    """The lines of `text`, without their line endings ("\\r\\n", "\\r" and "\\n" all end a line)."""
    if not text:
        return []
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """The lines of both versions in order, each marked as kept, added or removed."""
    before, after = lines_of(old), lines_of(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    result: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.extend(DiffLine("same", line) for line in before[i1:i2])
            continue
        # "replace", "delete" and "insert": the old lines of the block go, the new ones come.
        result.extend(DiffLine("removed", line) for line in before[i1:i2])
        result.extend(DiffLine("added", line) for line in after[j1:j2])
    return result


def summary(old: str, new: str) -> tuple[int, int]:
    """(lines added, lines removed) from `old` to `new`, as shown next to a version in the history."""
    diff = diff_lines(old, new)
    return sum(1 for line in diff if line.kind == "added"), sum(1 for line in diff if line.kind == "removed")
