"""Pure retrieval helpers: snippets keep the text and mark exactly the query's words; trigram similarities are
bounded and symmetric; the feedback boost and the confidence move the right way; calibration keeps its prior
without evidence."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.knowledge.domain import text

words = st.text(alphabet=st.sampled_from("abc 密码退款"), min_size=0, max_size=300)


@given(words, st.lists(st.sampled_from(["a", "bc", "密码", "退款", "x"]), max_size=3), st.integers(5, 200))
def test_a_snippet_is_a_window_of_the_text_with_the_words_marked(body, terms, width):
    parts = text.snippet(body, terms, width=width)
    flat = re.sub(r"\s+", " ", body).strip()
    joined = "".join(p for p, _ in parts).strip("…")
    assert joined in flat
    assert len(joined) <= width
    for part, marked in parts:
        if marked:
            assert any(part.lower() in t.lower() or t.lower() in part.lower() for t in terms)


@given(words, words)
def test_trigram_similarities_are_bounded_and_symmetric(a, b):
    for f in (text.trigram_similarity, text.dice_similarity):
        assert 0.0 <= f(a, b) <= 1.0
        assert f(a, b) == f(b, a)
    if text.trigrams(a):
        assert text.trigram_similarity(a, a) == 1.0


def test_a_typo_is_still_close_and_a_short_title_inside_a_long_one_is_a_near_duplicate():
    assert text.word_similarity("pasword", "Reset your password") >= 0.3
    assert text.word_similarity("pasword", "Track your parcel") < 0.3
    assert text.dice_similarity("软件授权失效", "软件授权失效怎么办") >= 0.6


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
def test_more_good_clicks_never_lower_the_boost(used, useful, bad):
    boost = text.feedback_boost(used=used, useful=useful, not_useful=bad)
    assert 0.8 <= boost <= 1.25
    assert text.feedback_boost(used=used + 1, useful=useful, not_useful=bad) >= boost - 1e-12
    assert text.feedback_boost(used=used, useful=useful, not_useful=bad + 1) <= boost + 1e-12


def test_no_clicks_no_boost():
    assert text.feedback_boost(used=0, useful=0, not_useful=0) == 1.0


@given(st.floats(0, 1), st.floats(0, 0.5), st.booleans())
def test_confidence_grows_with_similarity_margin_and_agreement(similarity, margin, agrees):
    c = text.confidence(similarity=similarity, margin=margin, keyword_agrees=agrees)
    assert 0.0 <= c <= 1.0
    assert text.confidence(similarity=min(1.0, similarity + 0.05), margin=margin, keyword_agrees=agrees) >= c
    assert text.confidence(similarity=similarity, margin=margin + 0.05, keyword_agrees=agrees) >= c
    assert text.confidence(similarity=similarity, margin=margin, keyword_agrees=True) >= c


def test_calibration_keeps_the_prior_without_evidence_and_learns_with_it():
    assert text.fit_confidence([(0.9, 0.1, True, True)] * 5) == text.DEFAULT_CONFIDENCE
    samples = [(0.95, 0.05, True, True)] * 30 + [(0.80, 0.0, False, False)] * 30
    fitted = text.fit_confidence(samples)
    high = text.confidence(similarity=0.95, margin=0.05, keyword_agrees=True, model=fitted)
    low = text.confidence(similarity=0.80, margin=0.0, keyword_agrees=False, model=fitted)
    assert high > 0.5 > low
