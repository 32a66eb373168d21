"""Language of a ticket's text, among the workspace's languages only (pure; lingua plus script counting).

Chinese (and Japanese/Korean) are recognised by their script, which is exact; lingua separates the languages that
share the Latin (or another) script. Mixed text such as "我的 iPhone 连不上 WiFi" is weighed by how much of it each
script carries: about 1.5 Han characters make one word, so a sentence of Chinese with two English product names
is Chinese, and an English mail quoting one Chinese name is English. Codes come back as the workspace spells them
("zh", "zh-hans", "en", …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

MODEL_NAME = "lingua"
MODEL_VERSION = "2.2.0"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_WORD = re.compile(r"[^\W\d_]+")  # letters only; CJK is removed before words are counted
_NOISE = re.compile(
    r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|[A-Za-z]*\d[\w-]*",  # links, mail addresses, codes
)
_CJK_ANY = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff]")
HAN_PER_WORD = 1.5
# Latin words inside Chinese text are mostly product names, codes and borrowed terms (iPhone, WiFi, App), so they
# count half when the text also has Han characters; Chinese inside English mail is rarer and counts in full.
LATIN_WEIGHT_WITH_HAN = 0.5


@dataclass(frozen=True)
class LanguageGuess:
    """The most likely language (the workspace's code), how sure, whether the text mixes languages, and shares."""

    code: str
    confidence: float
    mixed: bool = False
    shares: dict[str, float] = field(default_factory=dict)


def base_code(code: str) -> str:
    """ "zh-hans" → "zh", "en_US" → "en"."""
    return code.replace("_", "-").split("-", 1)[0].lower()


def _lingua_language(code: str) -> Language | None:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(base_code(code)))
    except ValueError:
        return None


@lru_cache(maxsize=32)
def detector_for(bases: tuple[str, ...]) -> LanguageDetector | None:
    """One lingua detector per set of (non-CJK) languages, built once per process; None below two languages."""
    langs = {lang for lang in (_lingua_language(b) for b in bases) if lang is not None}
    if len(langs) < 2:
        return None
    return LanguageDetectorBuilder.from_languages(*sorted(langs, key=lambda lang: lang.name)).build()


def _script_units(text: str) -> tuple[float, float, float]:
    han = len(_HAN.findall(text))
    return han / HAN_PER_WORD, len(_KANA.findall(text)) / HAN_PER_WORD, float(len(_HANGUL.findall(text)))


def _other_shares(text: str, others: tuple[str, ...]) -> dict[str, float]:
    """Confidence per non-CJK workspace language for the non-CJK part of the text."""
    if not others:
        return {}
    if len(others) == 1:
        return {others[0]: 1.0}
    detector = detector_for(tuple(sorted({base_code(o) for o in others})))
    if detector is None:
        return {others[0]: 1.0}
    by_base = {base_code(o): o for o in others}
    out: dict[str, float] = {}
    for value in detector.compute_language_confidence_values(text):
        iso = value.language.iso_code_639_1.name.lower()
        if iso in by_base:
            out[by_base[iso]] = out.get(by_base[iso], 0.0) + float(value.value)
    return out


def detect_language(text: str, languages: tuple[str, ...] | list[str]) -> LanguageGuess | None:
    """The language of `text` among `languages` (the workspace's codes), or None when nothing readable is there."""
    codes = tuple(dict.fromkeys(c for c in languages if c)) or ("zh", "en")
    clean = _NOISE.sub(" ", text or "")
    han_units, kana_units, hangul_units = _script_units(clean)
    latin_text = _CJK_ANY.sub(" ", clean)
    words = len(_WORD.findall(latin_text))
    by_base = {base_code(c): c for c in codes}
    units: dict[str, float] = {}
    if "ja" in by_base and kana_units:
        units[by_base["ja"]] = kana_units + han_units  # kanji with kana is Japanese
    elif "zh" in by_base and han_units:
        units[by_base["zh"]] = han_units
    elif "ja" in by_base and han_units:
        units[by_base["ja"]] = han_units
    if "ko" in by_base and hangul_units:
        units[by_base["ko"]] = hangul_units
    others = tuple(c for c in codes if base_code(c) not in ("zh", "ja", "ko"))
    if words and others:
        weight = words * (LATIN_WEIGHT_WITH_HAN if han_units else 1.0)
        for code, share in _other_shares(latin_text, others).items():
            units[code] = units.get(code, 0.0) + weight * share
    total = sum(units.values())
    if total <= 0:
        if len(codes) == 1 and clean.strip():
            return LanguageGuess(code=codes[0], confidence=0.5, shares={codes[0]: 1.0})
        return None
    shares = {code: round(u / total, 4) for code, u in units.items() if u > 0}
    code, top = max(shares.items(), key=lambda kv: kv[1])
    # One or two words say little: "OK", "谢谢" are not a strong signal whatever the script.
    length_factor = min(1.0, 0.5 + total / 8)
    mixed = sum(1 for s in shares.values() if s >= 0.2) > 1
    return LanguageGuess(code=code, confidence=round(top * length_factor, 4), mixed=mixed, shares=shares)
