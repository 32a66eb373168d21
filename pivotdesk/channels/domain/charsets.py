"""Decoding text whose declared charset may be wrong, missing or a subset of what was really used (pure).

Mail labelled gb2312 often holds GBK-only characters (镕, 喆): decode the GB family as GB18030, Big5 as
Big5-HKSCS, EUC-KR/KS C 5601 as CP949, Shift_JIS as CP932 — each a superset of the label.

Undeclared 8-bit bytes (and a declared charset that cannot decode them) are tried as UTF-8 first — valid UTF-8
beyond ASCII is rarely an accident — and otherwise *guessed* (`guess_decode`): every candidate legacy charset that
decodes them is scored by how plausible its text is, per byte. GB18030 alone would accept almost any byte pairs
(a KOI8-R subject or a Latin-1 name became Chinese-looking mojibake), so Chinese wins only when it scores best:
real Chinese is mostly the 1,500 most frequent characters, byte-pair accidents mostly are not. Statistical
detectors (charset-normalizer) need far more text than a subject line or a display name, which is what mail
headers give us, so the scorer is our own and small.
"""

from __future__ import annotations

import codecs
import unicodedata

from pivotdesk.channels.domain.charset_data import COMMON_HANZI

SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "euc_cn": "gb18030",
    "euc-cn": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "x-euc-cn": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "korean": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
# The legacy charsets an undeclared 8-bit text is guessed among, in the order that wins a tie (our users are
# Chinese-speaking first). Latin-1 (never fails) is the last resort when nothing else decodes.
GUESSES = ("gb18030", "big5hkscs", "cp932", "cp949", "cp1252", "cp1250", "koi8_r", "cp1251")


def codec_for(charset: str | None) -> str | None:
    """The Python codec to decode a declared charset with (its superset), or None when unknown."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def iso2022jp_via_cp932(data: bytes) -> str:
    """Decode ISO-2022-JP as Microsoft's CP50220 does, with NEC/IBM extensions (①, ㈱, Ⅰ …) that Python's
    iso2022_jp codecs reject: convert each JIS X 0208 pair to Shift_JIS and decode with CP932."""
    out = bytearray()
    mode = "ascii"
    i = 0
    while i < len(data):
        if data[i] == 0x1B and i + 2 < len(data):
            seq = data[i + 1 : i + 3]
            if seq in (b"$B", b"$@"):
                mode, i = "jis", i + 3
                continue
            if seq in (b"(B", b"(J"):
                mode, i = "ascii", i + 3
                continue
            if seq == b"(I":
                mode, i = "kana", i + 3
                continue
        byte = data[i]
        if mode == "jis" and 0x21 <= byte <= 0x7E and i + 1 < len(data):
            j1, j2 = byte, data[i + 1]
            s2 = j2 + (0x1F + (1 if j2 >= 0x60 else 0) if j1 % 2 else 0x7E)
            s1 = ((j1 - 0x21) >> 1) + 0x81
            if s1 > 0x9F:
                s1 += 0x40
            out += bytes((s1, s2 & 0xFF))
            i += 2
            continue
        out.append(byte + 0x80 if mode == "kana" and 0x21 <= byte <= 0x5F else byte)
        i += 1
    return out.decode("cp932", errors="replace")


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode bytes to text: UTF-8 when the label is missing or ASCII/Latin-1 and the bytes are valid UTF-8 (such
    labels are often lies), then the declared charset's superset, then a guess among the legacy charsets; never
    raises."""
    declared = codec_for(charset)
    if declared in ("cp1252", "utf-8") or declared is None:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if declared and declared != "utf-8":
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            if declared.startswith("iso2022_jp"):
                return iso2022jp_via_cp932(data)
            if declared == "cp1252":
                return data.decode("latin-1")  # cp1252 leaves five bytes undefined; Latin-1 maps every byte
        except LookupError:
            pass
    return guess_decode(data)


def guess_decode(data: bytes) -> str:
    """The most plausible decoding of undeclared 8-bit bytes among `GUESSES` (lowest cost per non-ASCII byte; ties
    go to the earlier charset); Latin-1 when none decodes."""
    eight_bit = sum(1 for b in data if b >= 0x80) or 1
    best: tuple[float, int, str] | None = None
    for order, codec in enumerate(GUESSES):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        score = (implausibility(text) / eight_bit, order, text)
        if best is None or score[:2] < best[:2]:
            best = score
    return best[2] if best else data.decode("latin-1")


def implausibility(text: str) -> float:
    """How unlike real writing a decoded text is: a cost per non-ASCII character by its kind and its neighbours.

    Common Chinese characters, kana, Hangul syllables, Cyrillic and accented Latin letters in word-like positions
    cost little; rare ideographs, symbols, box drawing, controls, an accented Latin letter next to another
    non-ASCII character, an ideograph glued to ASCII letters and a capital after a small letter inside a word
    (KOI8-R read as CP1251 swaps case) cost more."""
    cost = 0.0
    previous = ""
    for i, ch in enumerate(text):
        if ch < "\x80":
            previous = ch
            continue
        following = text[i + 1] if i + 1 < len(text) else ""
        cost += _char_cost(ch, previous, following)
        previous = ch
    return cost


def _char_cost(ch: str, previous: str, following: str) -> float:
    code = ord(ch)
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
        return _hanzi_cost(ch, previous, following)
    if 0x3040 <= code <= 0x30FF:  # hiragana, katakana
        return 0.3
    if 0xAC00 <= code <= 0xD7A3:  # Hangul syllables: the 2,350 of KS X 1001 are the common ones
        return 0.4 if _in_ks_x_1001(ch) else 2.0
    if 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E:  # CJK punctuation, full-width forms
        return 0.2
    if 0x0410 <= code <= 0x044F or code in (0x0401, 0x0451):  # Russian letters
        return _cyrillic_cost(ch, previous, following)
    category = unicodedata.category(ch)
    if category in ("Ll", "Lu") and code < 0x0250:  # accented Latin letters
        return _latin_cost(ch, previous, following)
    if category in ("Zs", "Pd", "Pi", "Pf") or ch in "€°«»“”‘’–—…·":
        return 0.3
    if category.startswith("C") or 0x2500 <= code <= 0x259F or 0xFF61 <= code <= 0xFF9F:
        return 3.0  # controls, private use, box drawing, half-width katakana
    return 2.0


def _hanzi_cost(ch: str, previous: str, following: str) -> float:
    cost = 0.0 if ch in COMMON_HANZI else 0.6 if _in_gb2312_level1(ch) or _in_big5_level1(ch) else 2.5
    if _ascii_letter(previous) or _ascii_letter(following):
        cost += 1.5  # "Fran鏾is": a trail byte that was an ASCII letter
    if _hangul(previous) or _hangul(following):
        cost += 1.0  # modern Korean rarely glues hanja to Hangul
    return cost


def _cyrillic_cost(ch: str, previous: str, following: str) -> float:
    if _ascii_letter(previous) or _ascii_letter(following):
        return 1.5  # Latin and Cyrillic in one word
    if ch.isupper() and previous.isalpha():
        return 2.0 if previous.islower() else 0.3  # case swapped inside a word (KOI8-R as CP1251); capitals rarer
    return 0.0


def _latin_cost(ch: str, previous: str, following: str) -> float:
    if ch.isupper() and previous.isalpha() and previous.islower():
        return 1.5
    if (previous >= "\x80" and previous.isalpha()) or (following >= "\x80" and following.isalpha()):
        return 0.3  # "żółć" is Polish; runs of accented letters are rarer in most languages
    return 0.0


def _in_ks_x_1001(ch: str) -> bool:
    """One of the 2,350 common Hangul syllables of KS X 1001 (two bytes in EUC-KR; Python encodes the other
    syllables as eight-byte jamo sequences)."""
    try:
        return len(ch.encode("euc_kr")) == 2
    except UnicodeEncodeError:
        return False


def _in_gb2312_level1(ch: str) -> bool:
    try:
        lead = ch.encode("gb2312")[0]
    except UnicodeEncodeError:
        return False
    return 0xB0 <= lead <= 0xD7


def _in_big5_level1(ch: str) -> bool:
    try:
        raw = ch.encode("big5")
    except UnicodeEncodeError:
        return False
    return len(raw) == 2 and 0xA440 <= int.from_bytes(raw, "big") <= 0xC67E


def _hangul(ch: str) -> bool:
    return bool(ch) and 0xAC00 <= ord(ch) <= 0xD7A3


def _ascii_letter(ch: str) -> bool:
    return bool(ch) and ch < "\x80" and ch.isalpha()


def repair_surrogates(text: str, charset: str | None = None) -> str:
    """Text that Python's email package decoded with surrogateescape (raw 8-bit headers): re-decode the bytes."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", errors="surrogateescape")
    try:  # RFC 6532 allows raw UTF-8 in headers; valid UTF-8 beyond ASCII is rarely an accident
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(data, charset)
