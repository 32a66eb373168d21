"""A small Chinese + English sentiment lexicon (pure): the fallback used only while no trained sentiment model exists.

Labels: positive, neutral, negative, angry. "angry" is negative with signs of escalation (threats to complain to a
regulator or go public, insults, repeated exclamation marks, "third time"); it is what the desk flags first.
Chinese is matched by substring (no segmentation needed, a few µs), English by whole words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MODEL_NAME = "lexicon-sentiment"
MODEL_VERSION = "1"

NEGATIVE_ZH = (
    "失望", "不满意", "不满", "太差", "很差", "差劲", "糟糕", "生气", "着急", "急死", "崩溃", "无语", "坑", "骗", "烂",
    "没人管", "没人回", "没有回复", "不回复", "一直没", "还没到账", "还没收到", "还没发货", "拖", "退款",
    "无法使用", "不能用", "用不了", "故障", "坏了", "损失", "耽误", "影响营业", "收不了款", "重复扣款", "扣了两次",
    "再不", "尽快", "马上", "赶紧", "问题", "不行", "错误", "报错", "失败", "担心", "焦虑", "难受", "麻烦",
)  # fmt: skip
ANGRY_ZH = (
    "投诉", "12315", "消协", "工商", "曝光", "媒体", "律师", "起诉", "维权", "垃圾", "骗子", "忍无可忍", "太过分",
    "欺骗", "强烈不满", "非常生气", "气死", "第三次", "第二次", "多少次", "给个说法", "什么态度", "差评", "退货退款",
    "再也不", "报警", "恶心",
)  # fmt: skip
POSITIVE_ZH = (
    "谢谢", "感谢", "多谢", "满意", "很好", "不错", "解决了", "好评", "辛苦", "棒", "给力", "专业", "及时", "点赞",
)  # fmt: skip
NEGATIVE_EN = (
    "disappointed", "unhappy", "frustrated", "frustrating", "annoyed", "bad", "poor", "terrible", "awful", "broken",
    "failed", "failing", "fails", "error", "problem", "issue", "still", "waiting", "delay", "delayed", "refund",
    "worried", "urgent", "asap", "cannot", "can't", "unable", "not working", "doesn't work", "down", "lost", "wrong",
    "charged twice", "no response", "no reply",
)  # fmt: skip
ANGRY_EN = (
    "unacceptable", "ridiculous", "furious", "angry", "outraged", "lawyer", "legal action", "sue", "scam", "fraud",
    "worst", "disgusting", "complaint", "third time", "fed up", "never again", "joke", "incompetent", "useless",
    "chargeback", "report you",
)  # fmt: skip
POSITIVE_EN = (
    "thanks", "thank you", "great", "excellent", "appreciate", "appreciated", "perfect", "awesome", "helpful",
    "resolved", "works now", "happy", "love",
)  # fmt: skip
NEGATORS_ZH = ("不", "没", "别", "非")
INTENSIFIERS_ZH = ("非常", "特别", "太", "极其", "十分", "真的")


@dataclass(frozen=True)
class SentimentScore:
    label: str
    confidence: float
    score: float
    hits: tuple[str, ...] = ()


def _en_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(w) for w in words) + r")(?![A-Za-z])", re.IGNORECASE)


_NEG_EN, _ANGRY_EN, _POS_EN = _en_pattern(NEGATIVE_EN), _en_pattern(ANGRY_EN), _en_pattern(POSITIVE_EN)


def _zh_hits(text: str, words: tuple[str, ...]) -> list[str]:
    return [w for w in words if w in text]


def _zh_positive(text: str) -> list[str]:
    """Positive words not negated just before ("不满意" is not "满意")."""
    out = []
    for word in POSITIVE_ZH:
        at = text.find(word)
        while at >= 0:
            if not (at > 0 and text[at - 1] in NEGATORS_ZH):
                out.append(word)
                break
            at = text.find(word, at + 1)
    return out


def score_sentiment(text: str) -> SentimentScore:
    """The sentiment of a customer's text by lexicon; confidence grows with the evidence and stays below 0.9."""
    text = (text or "")[:20_000]
    if not text.strip():
        return SentimentScore(label="neutral", confidence=0.5, score=0.0)
    angry = _zh_hits(text, ANGRY_ZH) + [m.lower() for m in _ANGRY_EN.findall(text)]
    negative = _zh_hits(text, NEGATIVE_ZH) + [m.lower() for m in _NEG_EN.findall(text)]
    positive = _zh_positive(text) + [m.lower() for m in _POS_EN.findall(text)]
    bangs = len(re.findall(r"[!！]", text)) + 2 * len(re.findall(r"[!！?？]{2,}", text))
    shouting = len(re.findall(r"(?<![A-Za-z])[A-Z]{4,}(?![A-Za-z])", text))
    intense = sum(1 for w in INTENSIFIERS_ZH if w in text)
    score = (
        -2.0 * len(angry)
        - 0.6 * len(negative)
        + 1.0 * len(positive)
        - 0.5 * min(bangs, 6)
        - 0.7 * min(shouting, 3)
        - 0.3 * intense
    )
    hits = tuple(dict.fromkeys([*angry, *negative, *positive]))[:12]
    evidence = len(angry) + len(negative) + len(positive) + min(bangs, 3) + min(shouting, 2)
    if (angry and score <= -2.0) or score <= -4.0:
        label = "angry"
    elif score <= -1.0:
        label = "negative"
    elif score >= 1.0:
        label = "positive"
    else:
        label = "neutral"
    confidence = 0.5 if label == "neutral" else min(0.88, 0.5 + 0.08 * evidence + 0.04 * min(abs(score), 5))
    return SentimentScore(label=label, confidence=round(confidence, 3), score=round(score, 2), hits=hits)
