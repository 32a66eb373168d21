"""Entities in a ticket's text (pure): order numbers, device models, serial numbers, phones, e-mail addresses, money,
Chinese addresses, Chinese ID numbers (masked, never kept raw) and error codes.

Kinds are found in a fixed order and a later kind never takes characters an earlier one claimed, so the digits of
an ID number never come back as a phone or an order number. Patterns, the product catalog and the phone region are
per workspace (EntityConfig.from_settings). ASCII boundaries are written as look-arounds because `\\b` treats
Chinese characters as word characters ("报错E-1043" has no `\\b` before "E").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import phonenumbers
from stdnum.cn import ric

from pivotdesk.ai.domain.steps import Entity

MAX_TEXT = 50_000
_A = r"(?<![A-Za-z0-9])"  # no ASCII letter/digit before
_Z = r"(?![A-Za-z0-9])"  # … or after

DEFAULT_PATTERNS: dict[str, tuple[str, ...]] = {
    "order_number": (
        r"(?i:订单编号|订单号码|订单号|订单|单号|order\s*(?:no\.?|number|id|#)?)\s*[:：#]?\s*"
        rf"({_A}[A-Za-z]{{0,4}}\d[A-Za-z0-9-]{{5,30}}{_Z})",
    ),
    "serial_number": (
        rf"(?i:序列号|串号|机身号|{_A}S/?N|serial\s*(?:no\.?|number)?)\s*[:：#]?\s*({_A}[A-Za-z0-9][A-Za-z0-9-]{{5,30}}{_Z})",
    ),
    "device_model": (),
    "error_code": (
        rf"{_A}(E-?\d{{3,5}}){_Z}",
        rf"{_A}(0x[0-9A-Fa-f]{{4,16}}){_Z}",
        rf"{_A}(ERR_[A-Z0-9_]{{2,40}}){_Z}",
        r"(?i:错误码|错误代码|故障码|报错|代码|error\s*code|error|code)\s*[:：]?\s*"
        rf"({_A}[A-Z]{{1,6}}-?\d{{1,6}}{_Z})",
    ),
}

_EMAIL = re.compile(
    rf"{_A}[A-Za-z0-9._%+-]{{1,64}}@[A-Za-z0-9-]{{1,63}}(?:\.[A-Za-z0-9-]{{1,63}})*\.[A-Za-z]{{2,24}}{_Z}"
)
_ID_CANDIDATE = re.compile(r"(?<!\d)(?=(\d{17}[\dXx]))")  # look-ahead: overlapping candidates
_AMOUNT = r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,12}(?:\.\d{1,2})?)"
_CURRENCY_BEFORE = {
    "¥": "CNY",
    "￥": "CNY",
    "RMB": "CNY",
    "CNY": "CNY",
    "人民币": "CNY",
    "US$": "USD",
    "USD": "USD",
    "$": "USD",
    "HK$": "HKD",
    "HKD": "HKD",
    "€": "EUR",
    "EUR": "EUR",
}
_CURRENCY_AFTER = {
    "元": "CNY",
    "块钱": "CNY",
    "块": "CNY",
    "人民币": "CNY",
    "RMB": "CNY",
    "CNY": "CNY",
    "美元": "USD",
    "美金": "USD",
    "USD": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "港币": "HKD",
    "HKD": "HKD",
    "欧元": "EUR",
    "EUR": "EUR",
}


def _ric_valid(number: str) -> bool:
    """A valid Chinese resident ID number. python-stdnum 2.2 raises KeyError (not InvalidComponent) for some
    region codes it knows without a county, e.g. 111010 — any text can contain such digits."""
    try:
        return bool(ric.is_valid(number))
    except Exception:  # a library bug is "not an ID number", never a failed triage step
        return False


def _alt(options: Iterable[str]) -> str:
    return "|".join(re.escape(o) for o in sorted(options, key=len, reverse=True))


_MONEY_BEFORE = re.compile(rf"(?<![A-Za-z])({_alt(_CURRENCY_BEFORE)})\s?{_AMOUNT}(万)?(?![\d.])")
_MONEY_AFTER = re.compile(rf"(?<![\d.,]){_AMOUNT}\s?(万)?\s?({_alt(_CURRENCY_AFTER)})(?![A-Za-z])")

_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|"
    "云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
_H = r"[\u4e00-\u9fff]"
_STREET = rf"(?:{_H}{{1,12}}?(?:路|街|大道|道|巷|弄|胡同|村|镇|乡)(?:\d{{1,5}}(?:-\d{{1,5}})?号)?)?"
_BUILDING = r"(?:[\u4e00-\u9fffA-Za-z0-9-]{0,16}?(?:号楼|大厦|广场|中心|园区|小区|\d+室|\d+栋|\d+单元|\d+层|\d+楼))?"
_ADDRESS = re.compile(
    rf"(?:(?:{_PROVINCES})(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
    rf"(?:{_H}{{1,6}}?(?:市|自治州|州|盟|地区))?{_H}{{1,6}}?(?:区|县|旗|市)"
    rf"|{_H}{{2}}市{_H}{{1,5}}?(?:区|县))"
    rf"{_STREET}{_BUILDING}"
)
_MODEL_CODE = re.compile(r"[A-Za-z]{1,6}-?[A-Za-z]?\d{1,5}[A-Za-z]{0,3}")


@dataclass(frozen=True)
class EntityConfig:
    """A workspace's entity settings: extra patterns per kind, product catalog, phone region, kinds turned off."""

    patterns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    catalog: tuple[str, ...] = ()
    region: str = "CN"
    disabled: frozenset[str] = frozenset()
    replace_defaults: bool = False

    @classmethod
    def from_settings(cls, raw: dict[str, Any] | None, *, catalog: Iterable[str] = ()) -> EntityConfig:
        """From workspace.settings["ai"]["entities"]: {"patterns": {kind: [regex…]}, "catalog": [...],
        "region": "CN", "disabled": [kind…], "replace_default_patterns": false}. Broken regexes are dropped."""
        raw = raw if isinstance(raw, dict) else {}
        patterns: dict[str, tuple[str, ...]] = {}
        for kind, given in (raw.get("patterns") or {}).items():
            values = [given] if isinstance(given, str) else given
            ok = tuple(v for v in values or () if isinstance(v, str) and _compiles(v))
            if ok:
                patterns[str(kind)] = ok
        items = [*(raw.get("catalog") or ()), *catalog]
        return cls(
            patterns=patterns,
            catalog=tuple(dict.fromkeys(str(c).strip() for c in items if str(c).strip())),
            region=str(raw.get("region") or "CN").upper(),
            disabled=frozenset(str(k) for k in raw.get("disabled") or ()),
            replace_defaults=bool(raw.get("replace_default_patterns", False)),
        )


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def mask_id_number(number: str) -> str:
    """110101199003071234 → 110101********1234 (region and last four kept, birth date hidden)."""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


_ID_ANYWHERE = re.compile(r"(?=(\d{17}[\dXx]))")


def mask_sensitive(text: str) -> str:
    """The text with every valid Chinese ID number in it masked (also inside longer digit runs)."""
    if len(text) < 18:
        return text
    spans = [(m.start(1), m.end(1)) for m in _ID_ANYWHERE.finditer(text) if _ric_valid(m.group(1))]
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        masked = mask_id_number(text[start:end])
        for offset in range(6, 14):
            chars[start + offset] = masked[offset]
    return "".join(chars)


class _Spans:
    """Character ranges already taken by an earlier kind."""

    def __init__(self) -> None:
        self._taken: list[tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self._taken)

    def take(self, start: int, end: int) -> None:
        self._taken.append((start, end))


@dataclass
class _Found:
    text: str
    spans: _Spans = field(default_factory=_Spans)
    out: list[Entity] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, kind: str, value: str, start: int, end: int, *, source: str, confidence: float) -> bool:
        if start < 0 or end <= start or not self.spans.free(start, end):
            return False
        self.spans.take(start, end)
        if (kind, value) in self.seen:
            return True
        self.seen.add((kind, value))
        raw = "" if kind == "id_number" else self.text[start:end]
        self.out.append(
            Entity(kind=kind, value=value, raw=raw, source=source, confidence=confidence, start=start, end=end)
        )
        return True


def _group_span(m: re.Match[str]) -> tuple[int, int, str]:
    if m.re.groups:
        for i in range(1, m.re.groups + 1):
            if m.group(i):
                return m.start(i), m.end(i), m.group(i)
    return m.start(), m.end(), m.group(0)


def _patterns(config: EntityConfig, kind: str) -> tuple[str, ...]:
    own = config.patterns.get(kind, ())
    return own if config.replace_defaults and own else (*DEFAULT_PATTERNS.get(kind, ()), *own)


def _by_patterns(found: _Found, config: EntityConfig, kind: str, source: str, confidence: float) -> None:
    for pattern in _patterns(config, kind):
        for m in _compiled(pattern).finditer(found.text):
            start, end, value = _group_span(m)
            value = value.strip()
            if value:
                found.add(kind, _normal(kind, value), start, end, source=source, confidence=confidence)


def _normal(kind: str, value: str) -> str:
    if kind == "error_code":
        return "0x" + value[2:].upper() if value.lower().startswith("0x") else value.upper()
    if kind in ("serial_number", "order_number"):
        return value.upper()
    return value


def _id_numbers(found: _Found, source: str) -> None:
    for m in re.finditer(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])", found.text):
        number = m.group(1).upper()
        if _ric_valid(number):
            found.add("id_number", mask_id_number(number), m.start(1), m.end(1), source=source, confidence=1.0)


def _emails(found: _Found, source: str) -> None:
    for m in _EMAIL.finditer(found.text):
        found.add("email", m.group(0).lower(), m.start(), m.end(), source=source, confidence=1.0)


def _models(found: _Found, config: EntityConfig, source: str) -> None:
    lowered = found.text.lower()
    for entry in config.catalog:
        needles = [entry]
        code = _MODEL_CODE.search(entry)
        if code and len(code.group(0)) >= 3 and code.group(0) != entry:
            needles.append(code.group(0))
        for needle in needles:
            at = lowered.find(needle.lower())
            while at >= 0:
                end = at + len(needle)
                ascii_edge = (
                    needle[0].isascii() and at > 0 and found.text[at - 1].isascii() and found.text[at - 1].isalnum()
                )
                ascii_tail = end < len(found.text) and found.text[end].isascii() and found.text[end].isalnum()
                if not (ascii_edge or ascii_tail) and found.add(
                    "device_model", entry, at, end, source=source, confidence=0.95
                ):
                    break
                at = lowered.find(needle.lower(), at + 1)
    _by_patterns(found, config, "device_model", source, 0.8)


def _phones(found: _Found, config: EntityConfig, source: str) -> None:
    try:
        matcher = phonenumbers.PhoneNumberMatcher(found.text, config.region, leniency=phonenumbers.Leniency.VALID)
        for m in matcher:
            e164 = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
            found.add("phone", e164, m.start, m.end, source=source, confidence=0.95)
    except Exception:
        return


def _money(found: _Found, source: str) -> None:
    for m in _MONEY_BEFORE.finditer(found.text):
        _add_money(found, m, _CURRENCY_BEFORE[m.group(1)], m.group(2), wan=bool(m.group(3)), source=source)
    for m in _MONEY_AFTER.finditer(found.text):
        _add_money(found, m, _CURRENCY_AFTER[m.group(3)], m.group(1), wan=bool(m.group(2)), source=source)


def _add_money(found: _Found, m: re.Match[str], currency: str, amount: str, *, wan: bool, source: str) -> None:
    try:
        value = Decimal(amount.replace(",", "")) * (10_000 if wan else 1)
    except InvalidOperation:
        return
    found.add("money", f"{currency} {value:f}", m.start(), m.end(), source=source, confidence=0.9)


def _addresses(found: _Found, source: str) -> None:
    for m in _ADDRESS.finditer(found.text):
        found.add("address", m.group(0), m.start(), m.end(), source=source, confidence=0.8)


ALL_KINDS = (
    "id_number",
    "email",
    "order_number",
    "serial_number",
    "device_model",
    "error_code",
    "phone",
    "money",
    "address",
)


def extract_entities(text: str, config: EntityConfig | None = None, *, source: str = "text") -> list[Entity]:
    """Every entity in `text`, in order of discovery per kind; ID numbers come back masked with an empty `raw`.

    Spans (start, end) index into `text`; `raw` is `text[start:end]` for every kind but ID numbers.
    """
    config = config or EntityConfig()
    found = _Found(text=(text or "")[:MAX_TEXT])
    if not found.text.strip():
        return []
    on = [k for k in ALL_KINDS if k not in config.disabled]
    steps = {
        "id_number": lambda: _id_numbers(found, source),
        "email": lambda: _emails(found, source),
        "order_number": lambda: _by_patterns(found, config, "order_number", source, 0.9),
        "serial_number": lambda: _by_patterns(found, config, "serial_number", source, 0.9),
        "device_model": lambda: _models(found, config, source),
        "error_code": lambda: _by_patterns(found, config, "error_code", source, 0.9),
        "phone": lambda: _phones(found, config, source),
        "money": lambda: _money(found, source),
        "address": lambda: _addresses(found, source),
    }
    if "id_number" not in on:  # even when not wanted as entities, their digits are never handed out as others
        for m in _ID_ANYWHERE.finditer(found.text):
            if _ric_valid(m.group(1)):
                found.spans.take(m.start(1), m.end(1))
    for kind in on:
        steps[kind]()
    return sorted((_safe(e) for e in found.out), key=lambda e: (e.start, e.kind))


def _safe(entity: Entity) -> Entity:
    """No valid ID number leaves this module unmasked, whatever a workspace pattern captured."""
    value, raw = mask_sensitive(entity.value), mask_sensitive(entity.raw)
    if value == entity.value and raw == entity.raw:
        return entity
    return Entity(
        kind=entity.kind,
        value=value,
        raw="" if raw != entity.raw else raw,
        source=entity.source,
        confidence=entity.confidence,
        start=entity.start,
        end=entity.end,
    )
