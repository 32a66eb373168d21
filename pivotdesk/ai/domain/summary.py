"""An extractive summary of a ticket (pure): the few sentences that carry most of its content, in their order.

Used when no LLM is configured. Sentences are scored by the frequency of the character bigrams (Chinese) and words
(other scripts) they share with the whole text, so no segmentation dictionary is loaded; the first sentence gets a
small bonus because customers tend to lead with the problem. Greetings and sign-offs score nothing. What the
enrichment connectors found (facts such as "物流: 运输延误, 最后节点 上海分拣中心") follows the customer's sentences,
with a budget of its own, so the summary says both what the customer wrote and what the order's status is.
"""

from __future__ import annotations

import re
from collections import Counter

MODEL_NAME = "extractive-summary"
MODEL_VERSION = "2"  # 2: enrichment facts follow the extractive sentences
FACTS_SEPARATOR = " — "

_SPLIT = re.compile(r"(?<=[。！？!?；;])\s*|(?<=\.)\s+|\n+")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+|\d+")
_FILLER = re.compile(
    r"^(您好|你好|hi|hello|dear|谢谢|感谢|thanks|thank you|best regards|regards|此致|敬礼|祝好)[\s,，!！.。:：]*$",
    re.IGNORECASE,
)
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "to",
        "of",
        "in",
        "on",
        "for",
        "is",
        "are",
        "was",
        "were",
        "be",
        "it",
        "this",
        "that",
        "i",
        "we",
        "you",
        "my",
        "our",
        "your",
        "me",
        "us",
        "with",
        "at",
        "as",
        "by",
        "from",
        "please",
        "can",
        "could",
        "would",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "not",
        "no",
        "but",
        "so",
        "if",
    ]
)


def _units(sentence: str) -> list[str]:
    han = "".join(_HAN.findall(sentence))
    bigrams = [han[i : i + 2] for i in range(len(han) - 1)]
    words = [w.lower() for w in _WORD.findall(sentence) if w.lower() not in _STOP]
    return bigrams + words


def sentences(text: str) -> list[str]:
    """The text cut into sentences (Chinese and Western punctuation, line breaks)."""
    return [s.strip() for s in _SPLIT.split(text or "") if s and s.strip()]


def summarize(
    subject: str,
    text: str,
    *,
    facts: list[str] | tuple[str, ...] = (),
    max_sentences: int = 2,
    max_chars: int = 240,
    max_fact_chars: int = 160,
) -> str:
    """Up to `max_sentences` of the text's most central sentences, in their original order, cut to `max_chars`;
    then the distinct `facts` (enrichment), joined with "; " and cut to `max_fact_chars`."""
    own = _extract(subject, text, max_sentences=max_sentences, max_chars=max_chars)
    shown = list(dict.fromkeys(" ".join(f.split()) for f in facts if f and f.strip()))
    if not shown:
        return own
    joined = "; ".join(shown)
    if len(joined) > max_fact_chars:
        joined = joined[: max_fact_chars - 1] + "…"
    return f"{own}{FACTS_SEPARATOR}{joined}" if own else joined


def _extract(subject: str, text: str, *, max_sentences: int, max_chars: int) -> str:
    parts = [s for s in sentences(text) if not _FILLER.match(s)][:200]
    if not parts:
        return (subject or "").strip()[:max_chars]
    freq = Counter(u for s in [subject, *parts] for u in _units(s))
    subject_units = set(_units(subject))
    scored = []
    for index, sentence in enumerate(parts):
        units = _units(sentence)
        if not units:
            continue
        score = sum(freq[u] for u in units) / (len(units) ** 0.7)
        score += 2.0 * len(subject_units & set(units)) / (len(subject_units) or 1)
        if index == 0:
            score *= 1.2
        scored.append((score, index, sentence))
    if not scored:
        return parts[0][:max_chars]
    best = sorted(sorted(scored, reverse=True)[:max_sentences], key=lambda t: t[1])
    out = ""
    for _, _, sentence in best:
        joiner = "" if not out or _HAN.search(out[-1:] or "") or out.endswith(("。", "！", "？")) else " "
        candidate = out + joiner + sentence
        if len(candidate) > max_chars:
            if not out:
                out = sentence[: max_chars - 1] + "…"
            break
        out = candidate
    return out
