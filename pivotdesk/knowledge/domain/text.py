"""Pure text helpers for knowledge retrieval: highlighted snippets, typo-tolerant title matching, the boost an
article earns from the desk's own clicks, and the bot's confidence from the retrieval scores.

- `snippet` cuts the window of a text where the query's words are densest and marks them: a list of
  (segment, is_match) pairs the template renders (escaped) with <mark> around the matches.
- `trigram_similarity` is the Jaccard similarity of padded character trigrams (what PostgreSQL's pg_trgm does):
  "pasword" still finds "password", "退款申清" still finds "退款申请". It serves the typo-tolerant fallback when the
  full-text index finds nothing.
- `feedback_boost` turns "used / useful / not useful" counts into a multiplicative boost in [0.8, 1.25]: the lower
  bound of a Wilson interval on the share of good outcomes, centred on one half, so one click moves little and a
  hundred move a lot, and a disliked article sinks.
- `confidence` maps the best semantic similarity, the margin to the runner-up and the agreement of the keyword
  ranking to [0, 1] with a logistic curve. The coefficients are priors (what a "sure" match looks like for a
  normalised multilingual encoder); a workspace calibrates them from its bot's solved / not-solved answers
  (`fit_confidence`), which is what makes the threshold mean a precision.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .evidence import wilson_lower_bound

_SPACE = re.compile(r"\s+")


def _spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for term in {t.lower() for t in terms if t.strip()}:
        start = lowered.find(term)
        while start != -1:
            spans.append((start, start + len(term)))
            start = lowered.find(term, start + len(term))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _window(flat: str, spans: Sequence[tuple[int, int]], width: int) -> tuple[int, int]:
    """The start and end of the `width`-character window holding the most spans."""
    if len(flat) <= width:
        return 0, len(flat)
    if not spans:
        return 0, width
    best, best_count = spans[0][0], 0
    for a, _ in spans:
        count = sum(1 for x, y in spans if x >= a and y <= a + width)
        if count > best_count:
            best, best_count = a, count
    start = max(0, min(best - width // 4, len(flat) - width))
    return start, start + width


def snippet(text: str, terms: Sequence[str], *, width: int = 160) -> list[tuple[str, bool]]:
    """The `width` characters of `text` (whitespace collapsed) holding the most query words, as (segment, is_match)
    pairs; an ellipsis marks a cut. Without a match, the beginning of the text."""
    flat = _SPACE.sub(" ", text).strip()
    spans = _spans(flat, terms)
    start, end = _window(flat, spans, width)
    parts: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    cursor = start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        lo, hi = max(a, start), min(b, end)
        if lo > cursor:
            parts.append((flat[cursor:lo], False))
        parts.append((flat[lo:hi], True))
        cursor = hi
    if cursor < end:
        parts.append((flat[cursor:end], False))
    if end < len(flat):
        parts.append(("…", False))
    return parts


_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)、])\s)")
_MARKUP = re.compile(r"^\s*(?:#+|[-*+>]|\d+[.)、])\s*|[*_`]+", re.MULTILINE)
MIN_PASSAGE_CHARS = 8


def passages(body: str, *, limit: int) -> list[str]:
    """The paragraphs and list items of a Markdown body as plain text, in order, without repeats or very short
    ones, at most `limit`."""
    out: list[str] = []
    for part in _PARAGRAPH.split(body or ""):
        text = _SPACE.sub(" ", _MARKUP.sub("", part)).strip()
        if len(text) >= MIN_PASSAGE_CHARS and text not in out:
            out.append(text)
        if len(out) >= limit:
            break
    return out


def trigrams(text: str) -> frozenset[str]:
    """Padded character trigrams of the lowered text, word by word (CJK runs count as one word)."""
    out: set[str] = set()
    for word in _SPACE.split(text.lower()):
        if not word:
            continue
        padded = f"  {word} "
        out.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(out)


def trigram_similarity(a: str, b: str) -> float:
    """|A ∩ B| / |A ∪ B| over the trigrams of the two texts; 0 when either is empty."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def dice_similarity(a: str, b: str) -> float:
    """2·|A ∩ B| / (|A| + |B|) over the trigrams: kinder than Jaccard to a short title inside a longer one
    ("软件授权失效" in "软件授权失效怎么办"), which is what a near-duplicate title looks like."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return 2 * len(ta & tb) / (len(ta) + len(tb))


def word_similarity(query: str, title: str) -> float:
    """How well the query matches some part of the title (pg_trgm's word_similarity): the best trigram similarity
    of the query against any window of the title's words of about the query's length."""
    words = [w for w in _SPACE.split(title) if w]
    q = query.strip()
    if not words or not q:
        return 0.0
    span = max(1, len([w for w in _SPACE.split(q) if w]))
    best = 0.0
    for i in range(len(words)):
        for n in (span - 1, span, span + 1):
            if n >= 1 and i + n <= len(words):
                best = max(best, trigram_similarity(q, " ".join(words[i : i + n])))
    return best


def feedback_boost(*, used: int, useful: int, not_useful: int) -> float:
    """A multiplier in [0.8, 1.25] from the desk's clicks: good = used + useful, bad = not useful."""
    good, bad = max(0, used) + max(0, useful), max(0, not_useful)
    total = good + bad
    if total == 0:
        return 1.0
    low = wilson_lower_bound(good, total)  # confident share of good outcomes
    high = 1.0 - wilson_lower_bound(bad, total)
    centre = (low + high) / 2.0  # 0.5 when nothing is known either way
    return 0.8 + 0.45 * centre if centre >= 0.5 else 0.8 + 0.4 * centre


@dataclass(frozen=True)
class ConfidenceModel:
    """confidence = σ(bias + w_sim · similarity + w_margin · margin + w_agree · keyword agreement)."""

    bias: float = -14.0
    similarity: float = 14.0
    margin: float = 40.0
    agreement: float = 1.5


DEFAULT_CONFIDENCE = ConfidenceModel()
MIN_CALIBRATION = 20
RIDGE = 5.0  # the prior counts as this many answers


def confidence(
    *, similarity: float, margin: float, keyword_agrees: bool, model: ConfidenceModel = DEFAULT_CONFIDENCE
) -> float:
    """How sure the bot is that the best article answers the question, in [0, 1]."""
    z = model.bias + model.similarity * similarity + model.margin * margin + model.agreement * float(keyword_agrees)
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def fit_confidence(
    samples: Iterable[tuple[float, float, bool, bool]], *, prior: ConfidenceModel = DEFAULT_CONFIDENCE
) -> ConfidenceModel:
    """Calibrate the curve from labelled answers (similarity, margin, keyword agrees, was right): logistic
    regression by Newton's method (iteratively reweighted least squares), with an L2 pull towards the prior
    (`RIDGE` answers' worth) so a handful of answers cannot swing it. Fewer than 20 samples, or only one class, keep
    the prior."""
    rows = [(float(s), float(m), float(a), 1.0 if y else 0.0) for s, m, a, y in samples]
    if len(rows) < MIN_CALIBRATION or len({r[3] for r in rows}) < 2:
        return prior
    x = np.array([[1.0, s, m, a] for s, m, a, _ in rows])
    y = np.array([r[3] for r in rows])
    w0 = np.array([prior.bias, prior.similarity, prior.margin, prior.agreement])
    scale = np.maximum(x.std(axis=0), 1e-3)
    scale[0] = 1.0
    ridge = RIDGE / len(rows) * np.diag(scale**2)  # the same pull whatever a feature's units
    w = w0.copy()
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -60.0, 60.0)))
        gradient = x.T @ (p - y) / len(rows) + ridge @ (w - w0)
        hessian = (x.T * (p * (1.0 - p))) @ x / len(rows) + ridge + 1e-9 * np.eye(4)
        step = np.linalg.solve(hessian, gradient)
        w = w - step
        if float(np.abs(step).max()) < 1e-6:
            break
    return ConfidenceModel(bias=float(w[0]), similarity=float(w[1]), margin=float(w[2]), agreement=float(w[3]))
