"""The self-service bot's pure rules: when to hand over, how to read the customer's short replies, the answer's
excerpt, and the features stored with an answer for calibration.

- `asked_for_person`: the customer asks for a person ("转人工", "人工", "human please"); the rule night duty's
  after-hours bot uses too (`common.domain.handover`).
- `sounds_upset`: strong words ("投诉", "垃圾", "terrible", …) or shouting ("！！！"). Deliberately narrow: an
  ordinary problem report ("退款还没到", "error 809") is a question for the bot, not an angry customer.
- `judge`: the order of the decision — asked, upset, no article, no semantic match, confidence under the threshold
  → hand over; else answer. Conservative: without a semantic similarity only a question that *is* an article's
  title is answered.
- `feedback_choice`: "1" / "2" (and a few words) after an answer → solved / not solved.
- `excerpt`: the first paragraph of an article's Markdown as plain text, cut at a sentence near `limit`.
- `features_code` / `parse_features`: the retrieval features (similarity, margin, keyword agreement) as a short
  code kept in `BotAnswer.reason`, so the workspace's solved / not-solved answers calibrate the confidence curve.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------- asking, upset


_UPSET_ZH = (
    "投诉", "垃圾", "骗子", "骗人", "12315", "消协", "曝光", "律师", "起诉", "报警", "气死", "忍无可忍", "太过分",
    "什么态度", "恶心", "差评", "强烈不满", "非常生气",
)  # fmt: skip
_UPSET_EN = re.compile(
    r"\b(terrible|awful|horrible|furious|angry|outraged|ridiculous|unacceptable|scam|fraud|lawyer|sue|worst|"
    r"disgusting|useless|incompetent|fed up|complaint|complain)\b",
    re.IGNORECASE,
)
_SHOUTING = re.compile(r"[!！]{3,}")
# Sentiment labels (the AI's predictions, or an explicit argument) that mean an upset customer: the desk's own
# negative labels (`ai.services.apply.NEGATIVE_LABELS`) and the trainable classifier's flagged ones.
UPSET_LABELS = frozenset({"negative", "angry", "distressed", "frustrated"})


def sounds_upset(text: str) -> bool:
    """Whether the text holds strong words or shouting: a person should answer, not the bot."""
    text = text or ""
    return (
        any(word in text for word in _UPSET_ZH)
        or _UPSET_EN.search(text) is not None
        or _SHOUTING.search(text) is not None
    )


def upset_label(label: str | None) -> bool:
    """Whether a sentiment label means an upset customer."""
    return bool(label) and str(label).strip().lower() in UPSET_LABELS


# ---------------------------------------------------------------------------------------------- the decision

ANSWERED = "answered"
HANDED_OVER = "handed_over"

# Reasons: stable codes stored in BotAnswer.reason (never sentences).
ASKED = "asked_for_person"
UPSET = "upset"
NO_ARTICLE = "no_article"
NO_SEMANTIC = "no_semantic"
LOW_CONFIDENCE = "low_confidence"
CONFIDENT = "confident"
EXACT_TITLE = "exact_title"
# Hand-overs the customer is told about ("Connecting you to a person…"); the others are silent: the question simply
# waits for an agent, as it would without the bot.
ANNOUNCED = frozenset({ASKED, UPSET})


@dataclass(frozen=True)
class Judgement:
    outcome: str  # answered | handed_over
    reason: str


def judge(
    *,
    asked: bool,
    upset: bool,
    has_article: bool,
    similarity: float,
    confidence: float,
    threshold: float,
    exact_title: bool,
) -> Judgement:
    """Answer or hand over. The bot answers at or above the threshold; without a semantic similarity (embeddings
    off) only when the question is an article's title."""
    if asked:
        return Judgement(HANDED_OVER, ASKED)
    if upset:
        return Judgement(HANDED_OVER, UPSET)
    if not has_article:
        return Judgement(HANDED_OVER, NO_ARTICLE)
    if similarity <= 0.0:
        return Judgement(ANSWERED, EXACT_TITLE) if exact_title else Judgement(HANDED_OVER, NO_SEMANTIC)
    if confidence >= threshold:
        return Judgement(ANSWERED, CONFIDENT)
    return Judgement(HANDED_OVER, LOW_CONFIDENCE)


def margin(similarities: list[float]) -> float:
    """How far the best similarity stands above the runner-up; 0 with fewer than two (a lone article is not a
    sure match just because nothing competes with it)."""
    ordered = sorted(similarities, reverse=True)
    return ordered[0] - ordered[1] if len(ordered) > 1 else 0.0


# ---------------------------------------------------------------------------------------------- short replies

_STRIP = re.compile(r"[\s。．.!！?？~～,，、]+")
_SOLVED = frozenset({"1", "是", "是的", "解决了", "已解决", "好了", "可以了", "yes", "y", "solved"})
_NOT_SOLVED = frozenset({"2", "否", "没有", "没解决", "未解决", "不行", "no", "n", "notsolved"})


def _normal(text: str) -> str:
    return _STRIP.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def feedback_choice(text: str) -> bool | None:
    """The customer's answer to "did this solve it?": True (1, 是, yes), False (2, 否, no), None for anything else."""
    normal = _normal(text)
    if normal in _SOLVED:
        return True
    if normal in _NOT_SOLVED:
        return False
    return None


def title_matches(question: str, title: str) -> bool:
    """Whether the question is the title (case, width, spaces and punctuation aside)."""
    q, t = _normal(question), _normal(title)
    return bool(q) and q == t


def guess_language(text: str, fallback: str) -> str:
    """zh-hans when the text holds Chinese characters, en when it holds Latin letters only, else the fallback."""
    if any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text or ""):
        return "zh-hans"
    if any(ch.isascii() and ch.isalpha() for ch in text or ""):
        return "en"
    return "zh-hans" if (fallback or "").lower().startswith("zh") else "en"


# ---------------------------------------------------------------------------------------------- the excerpt

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_TAG = re.compile(r"<[^>]+>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_LINE_MARK = re.compile(r"^\s{0,3}(?:>\s?|[-*+]\s+|\d+[.)]\s+)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6}\s|={3,}\s*$|-{3,}\s*$)")
_SENTENCE_END = re.compile(r"[。！？!?.；;](?=\s|$)|[。！？；]")


def _plain(line: str) -> str:
    line = _LINE_MARK.sub("", line)
    line = _IMAGE.sub("", line)
    line = _LINK.sub(r"\1", line)
    line = _REF_LINK.sub(r"\1", line)
    line = _TAG.sub("", line)
    for _ in range(3):  # nested emphasis
        line = _EMPHASIS.sub(r"\2", line)
    return line.strip()


def first_paragraph(markdown: str) -> str:
    """The first paragraph of prose in Markdown (headings, code blocks, images and rules skipped) as plain text."""
    text = _FENCE.sub("\n", (markdown or "").replace("\r\n", "\n"))
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if ln.strip() and not _HEADING.match(ln)]
        plain = " ".join(p for p in (_plain(ln) for ln in lines) if p)
        plain = re.sub(r"\s+", " ", plain).strip()
        if plain:
            return plain
    return ""


def excerpt(markdown: str, *, limit: int = 200) -> str:
    """The first paragraph as plain text, at most `limit` characters: cut after the last sentence that fits, else
    at the limit with an ellipsis."""
    para = first_paragraph(markdown)
    if len(para) <= limit:
        return para
    head = para[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] >= limit // 3:
        return head[: ends[-1]].strip()
    return head[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------------------------------- features

_FEATURES = re.compile(r"s=(-?[0-9.]+);m=(-?[0-9.]+);k=([01])")


def features_code(reason: str, *, similarity: float, margin: float, keyword_agrees: bool) -> str:
    """The reason with the retrieval features, e.g. "confident;s=0.9123;m=0.0345;k=1" (fits BotAnswer.reason)."""
    return f"{reason};s={similarity:.4f};m={margin:.4f};k={int(keyword_agrees)}"[:64]


def parse_features(code: str) -> tuple[float, float, bool] | None:
    """(similarity, margin, keyword agrees) from a stored reason, or None when it holds none."""
    found = _FEATURES.search(code or "")
    if found is None:
        return None
    return float(found.group(1)), float(found.group(2)), found.group(3) == "1"


def reason_code(code: str) -> str:
    """The reason without the features ("confident;s=…" → "confident")."""
    return (code or "").split(";", 1)[0]
