"""The knowledge graph's pure core: catalogue matching (whole words in Latin text, substrings in Chinese, the longest
needle first) against a brute-force scan, fault codes, model numbers and version facts, version thresholds against
tuple comparison, edge counting against a pair-by-pair count, and the advice ("the extra step was needed")."""

from __future__ import annotations

import datetime as dt
from itertools import combinations

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.knowledge.domain.advice import advise, with_item
from pivotdesk.knowledge.domain.evidence import Observation
from pivotdesk.knowledge.domain.graph import (
    CatalogueEntry,
    Found,
    VersionFact,
    count_edges,
    edge_ends,
    extract,
    find_catalogue,
    find_fault_codes,
    find_models,
    find_versions,
    parse_version,
    threshold_items,
    version_fact_of,
)

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
CATALOGUE = (
    CatalogueEntry("model", "pd-x300", "PD-X300", ("PDX300", "X300 终端")),
    CatalogueEntry("solution", "reset the controller", "reset the controller", ("重置控制器",)),
    CatalogueEntry("solution", "clear the cache", "clear the cache", ("清除缓存",)),
    CatalogueEntry("symptom", "reset", "reset"),
    CatalogueEntry("product", "扫码枪", "扫码枪", ("scanner",)),
)


def _brute(text: str, entries: tuple[CatalogueEntry, ...]) -> list[str]:
    """Left to right, at each position the longest needle whose ASCII ends are not glued to ASCII letters/digits."""
    lowered = text.lower()
    table: dict[str, CatalogueEntry] = {}
    for entry in entries:
        for needle in entry.needles():
            table.setdefault(needle, entry)

    def word(c: str) -> bool:
        return c.isascii() and c.isalnum()

    def fits(needle: str, at: int) -> bool:
        end = at + len(needle)
        if lowered[at:end] != needle:
            return False
        if word(needle[0]) and at > 0 and word(lowered[at - 1]):
            return False
        return not (word(needle[-1]) and end < len(lowered) and word(lowered[end]))

    out, at = [], 0
    while at < len(lowered):
        hits = sorted((n for n in table if fits(n, at)), key=lambda n: (-len(n), n))
        if hits:
            out.append(table[hits[0]].key)
            at += len(hits[0])
        else:
            at += 1
    return out


PIECES = st.sampled_from(
    ["PD-X300", "pd-x3000", "PDX300", "X300 终端", "reset", "preset", "reset the controller", "RESET", "清除缓存",
     "重置控制器", "扫码枪", "scanner", "scanners", " ", "-", "a", "9", "，", "的", "İ"]
)  # fmt: skip


@given(st.lists(PIECES, max_size=12))
def test_the_catalogue_matcher_finds_what_a_brute_force_scan_finds(pieces):
    text = "".join(pieces)
    assert [entry.key for entry, _, _ in find_catalogue(text, CATALOGUE)] == _brute(text, CATALOGUE)


def test_latin_names_are_whole_words_and_chinese_names_are_substrings():
    found = extract("preset 无效；请重置控制器后清除缓存 (PD-X300 scanners)", CATALOGUE)
    assert [(f.kind, f.key) for f in found] == [
        ("solution", "reset the controller"),
        ("solution", "clear the cache"),
        ("model", "pd-x300"),
    ]
    assert extract("Please RESET THE CONTROLLER", CATALOGUE) == [
        Found("solution", "reset the controller", "reset the controller")
    ]


def test_fault_codes_models_and_versions_are_found_by_pattern():
    text = "PD-X300 报错E-2047，错误 NET504；固件 2.2，另一台 firmware v2.3.1 on macOS 14 / Windows 11, RT-AX88U"
    assert [c for c, _, _ in find_fault_codes(text)] == ["E-2047", "NET-504"]
    assert [m for m, _, _ in find_models(text)] == ["PD-X300", "RT-AX88U"]
    assert [v for v, _, _ in find_versions(text)] == [
        VersionFact("firmware", "2.2"),
        VersionFact("firmware", "2.3.1"),
        VersionFact("macos", "14"),
        VersionFact("windows", "11"),
    ]
    keys = {(f.kind, f.key) for f in extract(text, CATALOGUE)}
    assert {("fault_code", "e-2047"), ("os", "firmware 2.2"), ("model", "rt-ax88u")} <= keys
    assert ("model", "pd-x300") in keys and ("fault_code", "pd-x300") not in keys


def test_a_catalogued_model_that_looks_like_a_fault_code_stays_a_model():
    found = extract("PD-100 坏了", (CatalogueEntry("model", "pd-100", "PD-100"),))
    assert found == [Found("model", "pd-100", "PD-100")]
    assert extract("PD-100 坏了") == [Found("fault_code", "pd-100", "PD-100")]


def test_glued_codes_are_not_codes():
    assert find_fault_codes("E-1043-1 AB123456 x-2047 ABCD-1234 PD-X300") == []


VERSIONS = st.lists(st.integers(0, 12), min_size=1, max_size=4).map(lambda xs: ".".join(map(str, xs)))


@given(
    st.lists(st.tuples(st.sampled_from(["firmware", "macos"]), VERSIONS), max_size=4), st.lists(VERSIONS, max_size=5)
)
def test_threshold_items_hold_exactly_when_the_version_is_below_the_threshold(facts, thresholds):
    given_facts = [VersionFact(s, v) for s, v in facts]
    items = threshold_items(given_facts, [VersionFact("firmware", t) for t in thresholds])

    def padded(v: str) -> tuple[int, ...]:
        parts = [int(p) for p in v.split(".")]
        return tuple(parts + [0] * (6 - len(parts)))

    expected = {f"firmware<{t}" for s, v in facts if s == "firmware" for t in thresholds if padded(v) < padded(t)}
    assert items == expected


def test_a_version_key_reads_back_as_a_fact():
    assert version_fact_of("firmware 2.2") == VersionFact("firmware", "2.2")
    assert version_fact_of("reset the controller") is None
    assert parse_version("2.3.0") == parse_version("2.3") == (2, 3)


DOCS = st.lists(st.tuples(st.lists(st.integers(1, 8), max_size=6), st.sampled_from([None, True, False])), max_size=12)


@given(DOCS, st.frozensets(st.integers(1, 8), max_size=3))
def test_edge_counts_match_a_pair_by_pair_count(documents, solutions):
    counts = count_edges(documents, solutions=solutions)
    for a, b in combinations(range(1, 9), 2):
        both = [outcome for ids, outcome in documents if a in ids and b in ids]
        edge = counts.get(edge_ends(a, b, solutions))
        if not both:
            assert edge is None
            continue
        assert edge is not None and edge.weight == len(both)
        solution_edge = (a in solutions) != (b in solutions)
        tried = [o for o in both if o is not None] if solution_edge else []
        assert (edge.trials, edge.successes) == (len(tried), sum(tried))
    assert all(edge_ends(a, b, solutions) == (a, b) for a, b in counts)


def _obs(solution: str, items: set[str], ok: bool, days: int = 10) -> Observation:
    return Observation(solution, frozenset(items), ok, NOW - dt.timedelta(days=days))


def test_advice_finds_the_special_case_and_its_extra_step():
    base = {"model", "code"}
    observations = [_obs("reset", base | {"firmware 2.4"}, True) for _ in range(12)]
    observations += [_obs("reset", base | {"firmware<2.3"}, False) for _ in range(3)]
    observations += [
        _obs(s, base | {"firmware<2.3", with_item(o)}, True)
        for _ in range(2)
        for s, o in (("reset", "cache"), ("cache", "reset"))
    ]
    observations += [_obs("replace", {"code"}, True) for _ in range(3)]
    advice = advise(
        observations,
        context_items=["model", "code"],
        ticket_items=frozenset({"model", "code", "firmware<2.3"}),
        ticket_systems=frozenset({"firmware"}),
        now=NOW,
    )
    reset = next(a for a in advice if a.tally.solution == "reset")
    assert reset.context == frozenset(base) and (reset.tally.n, reset.tally.m) == (14, 17)
    [case] = reset.cases
    assert (case.case.item, case.case.n, case.case.m, case.steps, case.applies) == (
        "firmware<2.3",
        2,
        5,
        ("cache",),
        True,
    )
    replace = next(a for a in advice if a.tally.solution == "replace")
    assert replace.context == frozenset({"code"})  # not tried on the model: known only for the fault code
    on_new_firmware = advise(
        observations, context_items=["model", "code"], ticket_items=frozenset({"model", "code"}),
        ticket_systems=frozenset({"firmware"}), now=NOW,
    )  # fmt: skip
    assert next(a for a in on_new_firmware if a.tally.solution == "reset").cases == ()
