"""Reading the settings forms: plain POST fields turned into the typed values the services take, with a readable,
translated message for anything that does not fit (bad input → 400, never a 500)."""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import default_capacity
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.web.base import int_or_none

MAX_OPTIONS = 200
MAX_OPTION_CHARS = 120
MAX_SKILLS = 50
CAPACITY_KEYS = tuple(default_capacity())


def capacity_labels() -> dict[str, str]:
    """The channel types an agent's capacity is counted by, named for people."""
    return {"email": _("E-mail"), "chat": _("Chat"), "messaging": _("Messaging"), "voice": _("Voice")}


def capacity_rows(value: dict[str, int] | None) -> list[tuple[str, str, int]]:
    """(key, label, open tickets at most) for every channel type, the defaults filling what is not set."""
    labels = capacity_labels()
    merged = {**default_capacity(), **dict(value or {})}
    return [(key, labels.get(key, key), int(merged.get(key, 0))) for key in merged]


def text(data: QueryDict, name: str, *, limit: int, required: bool = False, label: str = "") -> str:
    """A single-line text field, trimmed, without NUL characters; refused when required and empty, or too long."""
    value = data.get(name, "")
    value = value.replace("\x00", "").strip() if isinstance(value, str) else ""
    if required and not value:
        raise ValidationFailed(_("%(field)s is required.") % {"field": label or name}, details={name: "required"})
    if len(value) > limit:
        raise ValidationFailed(
            _("%(field)s is at most %(limit)d characters.") % {"field": label or name, "limit": limit},
            details={name: "too_long"},
        )
    return value


def flag(data: QueryDict, name: str) -> bool:
    return data.get(name, "") in ("1", "on", "true", "yes")


def ids(data: QueryDict, name: str, *, limit: int = 500) -> list[int]:
    """Whole-number ids of a multi-value field (anything else is refused)."""
    values = data.getlist(name)[: limit + 1]
    if len(values) > limit:
        raise ValidationFailed(_("Too many values."), details={name: "too_many"})
    found = []
    for raw in values:
        number = int_or_none(raw)
        if number is None or number < 1:
            raise ValidationFailed(_("“%(value)s” is not a valid choice.") % {"value": str(raw)[:40]})
        found.append(number)
    return list(dict.fromkeys(found))


def options(data: QueryDict) -> list[str]:
    """The rows of the option editor (`option`, in order): empty rows dropped, each trimmed, unique."""
    rows = [str(v).replace("\x00", "").strip() for v in data.getlist("option")[: MAX_OPTIONS + 1]]
    rows = [r for r in rows if r]
    if len(rows) > MAX_OPTIONS:
        raise ValidationFailed(_("A field has at most %(n)d options.") % {"n": MAX_OPTIONS})
    for row in rows:
        if len(row) > MAX_OPTION_CHARS:
            raise ValidationFailed(
                _("An option is at most %(n)d characters: “%(option)s…”.") % {"n": MAX_OPTION_CHARS, "option": row[:30]}
            )
    seen: set[str] = set()
    for row in rows:
        if row.casefold() in seen:
            raise ValidationFailed(_("The option “%(option)s” is listed twice.") % {"option": row})
        seen.add(row.casefold())
    return rows


def capacity(data: QueryDict, current: dict[str, int]) -> dict[str, int]:
    """Open tickets at most per channel type (`capacity_email`, …): whole numbers from 0."""
    result = dict(current or {})
    for key in CAPACITY_KEYS:
        raw = data.get(f"capacity_{key}")
        if raw is None:
            continue
        number = int_or_none(str(raw).strip())
        if number is None or number < 0 or number > 1000:
            raise ValidationFailed(
                _("Capacity for %(channel)s is a whole number from 0 to 1000.") % {"channel": key},
                details={f"capacity_{key}": "invalid"},
            )
        result[key] = number
    return result


def languages(data: QueryDict) -> list[str]:
    """Language codes from a comma- or space-separated field ("zh, en")."""
    raw = text(data, "languages", limit=200)
    return [code for code in raw.replace(",", " ").split() if code]


def skills(data: QueryDict) -> list[tuple[str, int]]:
    """The skill rows (`skill_name`, `skill_level` in pairs): names trimmed, levels 1–5, empty names dropped."""
    names = data.getlist("skill_name")[: MAX_SKILLS + 1]
    levels = data.getlist("skill_level")[: MAX_SKILLS + 1]
    if len(names) > MAX_SKILLS:
        raise ValidationFailed(_("At most %(n)d skills per agent.") % {"n": MAX_SKILLS})
    rows: dict[str, int] = {}
    for i, raw in enumerate(names):
        name = str(raw).replace("\x00", "").strip()
        if not name:
            continue
        if len(name) > 120:
            raise ValidationFailed(_("A skill name is at most 120 characters."))
        level = int_or_none(levels[i] if i < len(levels) else "")
        if level is None or not 1 <= level <= 5:
            raise ValidationFailed(_("A skill level is between 1 and 5."), details={"skill_level": "out_of_range"})
        rows[name] = level
    return list(rows.items())
