"""The pure core of the knowledge graph: which entities a text mentions, which version facts it states, which
entities are seen together, and the context items the solution evidence is counted over.

Choices, and why:

- A catalogue entry (kind, key, label, aliases) is found by its label, its aliases and its key, case-insensitively.
  A needle whose first (last) character is an ASCII letter or digit must not have one right before (after) it:
  "reset" is not found in "preset", "PD-X300" not in "PD-X3000". Other needles (Chinese) are found as substrings:
  Chinese text has no spaces between words. Scanning left to right, the longest needle at a position wins and
  claims its characters, so "PD-X300 Pro" is not also "PD-X300".
- Patterns find what no catalogue lists: fault codes (`E-2047`, `NET504`), model numbers (`PD-X300`, `RT-AX88U`:
  a letter prefix, a hyphen and a token holding both letters and digits) and version facts ("macOS 14",
  "Windows 11", "firmware 2.2", "固件 2.2", "固件版本为 v2.3.1"). The catalogue runs first and its spans win, so a
  catalogued model that looks like a fault code stays a model.
- A version fact is an entity of kind `os` keyed "<system> <version>" ("firmware 2.2"): a fact, rendered in the
  reader's language at display time. For the evidence, a fact becomes threshold items ("firmware<2.3" for every
  version seen above it), so `evidence.special_cases` can find "on firmware < 2.3 it fails".
- Edges are undirected and counted once per document (a ticket or an article): `weight` is the number of documents
  mentioning both; for a solution and another entity, resolved tickets add a trial, and a success when the
  solution worked.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "CatalogueEntry",
    "EdgeCount",
    "Found",
    "VersionFact",
    "count_edges",
    "extract",
    "fault_code_label",
    "find_catalogue",
    "find_fault_codes",
    "find_models",
    "find_versions",
    "normal_key",
    "parse_version",
    "threshold_items",
    "version_fact_of",
    "version_item",
    "version_item_parts",
]

MAX_TEXT = 100_000
_SPACE = re.compile(r"\s+")
_BEFORE = r"(?<![A-Za-z0-9])"
_AFTER = r"(?![A-Za-z0-9])"
FAULT_CODE = re.compile(r"(?<![A-Za-z0-9-])([A-Z]{1,3}-?\d{3,5})(?![A-Za-z0-9]|-[A-Za-z0-9])")
MODEL_NUMBER = re.compile(
    r"(?<![A-Za-z0-9-])([A-Z]{1,4}-(?=[A-Z0-9]{0,7}[A-Z])(?=[A-Z0-9]{0,7}\d)[A-Z0-9]{2,8})(?![A-Za-z0-9]|-[A-Za-z0-9])"
)
# The systems a version is stated for: the words as written → the system's key (a fact, never a sentence).
SYSTEMS: dict[str, str] = {
    "macos": "macos",
    "mac os": "macos",
    "os x": "macos",
    "ios": "ios",
    "ipados": "ipados",
    "android": "android",
    "windows": "windows",
    "win": "windows",
    "ubuntu": "ubuntu",
    "debian": "debian",
    "linux": "linux",
    "harmonyos": "harmonyos",
    "鸿蒙": "harmonyos",
    "firmware": "firmware",
    "fw": "firmware",
    "固件": "firmware",
    "app": "app",
    "应用": "app",
}
_SYSTEM_WORDS = "|".join(re.escape(w) for w in sorted(SYSTEMS, key=len, reverse=True))
VERSION = re.compile(
    rf"(?i:{_BEFORE}({_SYSTEM_WORDS}))\s*(?i:版本|version|ver\.?)?\s*(?:为|是|[:：=])?\s*[vV]?(\d{{1,4}}(?:\.\d{{1,4}}){{0,3}}){_AFTER}(?!\.\d)"
)


def normal_key(text: str) -> str:
    """The normalised name of an entity: lower case, whitespace collapsed and trimmed."""
    return _SPACE.sub(" ", text).strip().lower()


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """An entity the workspace's catalogue knows: its kind, normalised key, label and other spellings."""

    kind: str
    key: str
    label: str
    aliases: tuple[str, ...] = ()

    def needles(self) -> tuple[str, ...]:
        """The spellings looked for in text (label, aliases, key), normalised, without duplicates or blanks."""
        return tuple(dict.fromkeys(n for n in map(normal_key, (self.label, *self.aliases, self.key)) if n))


@dataclass(frozen=True, slots=True)
class Found:
    """An entity found in text: kind, normalised key and label (as the catalogue or the text spells it)."""

    kind: str
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class VersionFact:
    """A version stated for a system: `firmware` at `2.2`."""

    system: str
    version: str

    @property
    def key(self) -> str:
        return f"{self.system} {self.version}"


# --- the catalogue ----------------------------------------------------------------------------------------------


def _ascii_word(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _needle_pattern(needle: str) -> str:
    before = _BEFORE if _ascii_word(needle[0]) else ""
    after = _AFTER if _ascii_word(needle[-1]) else ""
    return before + re.escape(needle) + after


@lru_cache(maxsize=64)
def _compiled_catalogue(needles: tuple[str, ...]) -> re.Pattern[str] | None:
    if not needles:
        return None
    ordered = sorted(needles, key=lambda n: (-len(n), n))
    return re.compile("|".join(_needle_pattern(n) for n in ordered))


def _needle_table(entries: Iterable[CatalogueEntry]) -> dict[str, CatalogueEntry]:
    """Each needle → its entry; a needle two entries share goes to the first (the caller orders the catalogue)."""
    table: dict[str, CatalogueEntry] = {}
    for entry in entries:
        for needle in entry.needles():
            table.setdefault(needle, entry)
    return table


def find_catalogue(text: str, entries: Sequence[CatalogueEntry]) -> list[tuple[CatalogueEntry, int, int]]:
    """The catalogue entries named in `text`, left to right, longest needle first, each with its span in the
    lowered text (`text.lower()`, whose length may differ from `text`'s for a few letters)."""
    table = _needle_table(entries)
    pattern = _compiled_catalogue(tuple(sorted(table)))
    if pattern is None:
        return []
    lowered = text[:MAX_TEXT].lower()
    return [(table[m.group(0)], m.start(), m.end()) for m in pattern.finditer(lowered)]


# --- patterns ---------------------------------------------------------------------------------------------------


_CODE_PARTS = re.compile(r"([A-Za-z]{1,3})-?(\d{3,5})")


def fault_code_label(code: str) -> str:
    """One spelling per fault code: "e2047", "E2047" and "E-2047" are all "E-2047" (other codes as given)."""
    parts = _CODE_PARTS.fullmatch(code.strip())
    return f"{parts.group(1).upper()}-{parts.group(2)}" if parts else code.strip()


def find_fault_codes(text: str) -> list[tuple[str, int, int]]:
    """Fault codes such as E-2047 or NET504 (spelt as `fault_code_label` spells them), with their spans."""
    return [(fault_code_label(m.group(1)), m.start(1), m.end(1)) for m in FAULT_CODE.finditer(text[:MAX_TEXT])]


def find_models(text: str) -> list[tuple[str, int, int]]:
    """Model numbers such as PD-X300 or RT-AX88U (a hyphen, then letters and digits mixed), with their spans."""
    return [(m.group(1), m.start(1), m.end(1)) for m in MODEL_NUMBER.finditer(text[:MAX_TEXT])]


def find_versions(text: str) -> list[tuple[VersionFact, int, int]]:
    """Versions stated for a system ("macOS 14", "固件 2.2", "firmware v2.3.1"), with their spans."""
    out = []
    for m in VERSION.finditer(text[:MAX_TEXT]):
        system = SYSTEMS[normal_key(m.group(1))]
        version = ".".join(str(p) for p in parse_version(m.group(2)))
        out.append((VersionFact(system, version), m.start(), m.end()))
    return out


@dataclass
class _Claims:
    spans: list[tuple[int, int]] = field(default_factory=list)

    def take(self, start: int, end: int) -> bool:
        if any(start < e and s < end for s, e in self.spans):
            return False
        self.spans.append((start, end))
        return True


def extract(text: str, entries: Sequence[CatalogueEntry] = ()) -> list[Found]:
    """Every entity `text` mentions: catalogue entries, then version facts, model numbers and fault codes in text
    no earlier find claimed. Unique by (kind, key), in order of discovery."""
    text = text[:MAX_TEXT]
    out: dict[tuple[str, str], Found] = {}
    for entry, _start, _end in find_catalogue(text, entries):
        out.setdefault((entry.kind, entry.key), Found(entry.kind, entry.key, entry.label))
    # Pattern spans index `text`; catalogue spans index the lowered text. Where they could differ (a letter whose
    # lower case is longer), the pattern finds are checked against the catalogue's needles instead.
    claims = _Claims()
    if len(text.lower()) == len(text):
        for _entry, start, end in find_catalogue(text, entries):
            claims.take(start, end)
    known = {n for e in entries for n in e.needles()}
    for fact, start, end in find_versions(text):
        if claims.take(start, end):
            out.setdefault(("os", fact.key), Found("os", fact.key, fact.key))
    for kind, finds in (("model", find_models(text)), ("fault_code", find_fault_codes(text))):
        for value, start, end in finds:
            if claims.take(start, end) and normal_key(value) not in known:
                out.setdefault((kind, normal_key(value)), Found(kind, normal_key(value), value))
    return list(out.values())


# --- versions ---------------------------------------------------------------------------------------------------


def parse_version(version: str) -> tuple[int, ...]:
    """ "2.3.1" → (2, 3, 1), trailing zeros dropped so that 2.3 and 2.3.0 compare equal. Raises ValueError."""
    parts = [int(p) for p in version.strip().split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def version_fact_of(key: str) -> VersionFact | None:
    """The fact behind an `os` entity's key ("firmware 2.2"), or None when the key is not "<system> <version>"."""
    system, _, version = key.rpartition(" ")
    if system not in SYSTEMS.values():
        return None
    try:
        parse_version(version)
    except ValueError:
        return None
    return VersionFact(system, version)


def version_item(system: str, threshold: str) -> str:
    """The context item "the system's version is below the threshold": "firmware<2.3"."""
    return f"{system}<{threshold}"


def version_item_parts(item: str) -> tuple[str, str] | None:
    """("firmware", "2.3") for "firmware<2.3"; None for any other item."""
    system, sep, threshold = item.partition("<")
    if not sep or system not in SYSTEMS.values():
        return None
    return system, threshold


def threshold_items(facts: Iterable[VersionFact], thresholds: Iterable[VersionFact]) -> frozenset[str]:
    """The items "<system> below <threshold>" that the facts make true, over the thresholds given (the versions
    seen in the evidence)."""
    out: set[str] = set()
    by_system: dict[str, list[str]] = defaultdict(list)
    for t in thresholds:
        by_system[t.system].append(t.version)
    for fact in facts:
        mine = parse_version(fact.version)
        out.update(version_item(fact.system, t) for t in by_system.get(fact.system, ()) if mine < parse_version(t))
    return frozenset(out)


# --- edges ------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class EdgeCount:
    """Documents mentioning both ends (`weight`); for a solution edge, resolved tickets tried and succeeded."""

    weight: int = 0
    successes: int = 0
    trials: int = 0


def edge_ends(a: int, b: int, solutions: frozenset[int]) -> tuple[int, int]:
    """The stored orientation of an undirected edge: the solution first when one end is a solution, else the
    smaller id first."""
    if (a in solutions) != (b in solutions):
        return (a, b) if a in solutions else (b, a)
    return (min(a, b), max(a, b))


def count_edges(
    documents: Iterable[tuple[Iterable[int], bool | None]], *, solutions: frozenset[int]
) -> dict[tuple[int, int], EdgeCount]:
    """Co-occurrence counts over documents, each its entity ids and its outcome (True / False for a resolved
    ticket that worked or not, None for anything else). Keys are oriented by `edge_ends`."""
    edges: dict[tuple[int, int], EdgeCount] = defaultdict(EdgeCount)
    for ids, outcome in documents:
        unique = sorted(set(ids))
        for i, a in enumerate(unique):
            for b in unique[i + 1 :]:
                edge = edges[edge_ends(a, b, solutions)]
                edge.weight += 1
                if outcome is not None and (a in solutions) != (b in solutions):
                    edge.trials += 1
                    edge.successes += int(outcome)
    return dict(edges)
