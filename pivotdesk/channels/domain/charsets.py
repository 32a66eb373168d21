"""Decoding text whose declared charset may be wrong, missing or a subset of what was really used (pure).

Mail labelled gb2312 often holds GBK-only characters (镕, 喆): decode the GB family as GB18030, Big5 as
Big5-HKSCS, EUC-KR/KS C 5601 as CP949, Shift_JIS as CP932 — each a superset of the label. Undeclared bytes are
tried as UTF-8, then GB18030, then Latin-1 (which never fails).
"""

from __future__ import annotations

import codecs

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
FALLBACKS = ("utf-8", "gb18030", "big5hkscs", "cp1252")


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
    """Decode bytes to text: the declared charset's superset first, then the fallbacks; never raises.

    US-ASCII/Latin-1 labels are often lies for UTF-8 bodies, so UTF-8 is tried before them when the bytes are
    not pure ASCII."""
    declared = codec_for(charset)
    candidates: list[str] = []
    if declared in ("cp1252", "utf-8") or declared is None:
        candidates.append("utf-8")
    if declared:
        candidates.append(declared)
    if declared == "cp1252":
        candidates.append("latin-1")  # cp1252 leaves five bytes undefined; Latin-1 maps every byte
    candidates += [c for c in FALLBACKS if c not in candidates]
    for codec in candidates:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            if codec.startswith("iso2022_jp"):
                return iso2022jp_via_cp932(data)
            continue
    return data.decode("utf-8", errors="replace")  # pragma: no cover - cp1252 decodes nearly anything


def repair_surrogates(text: str, charset: str | None = None) -> str:
    """Text that Python's email package decoded with surrogateescape (raw 8-bit headers): re-decode the bytes."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", errors="surrogateescape")
    try:  # RFC 6532 allows raw UTF-8 in headers; valid UTF-8 beyond ASCII is rarely an accident
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(data, charset)
