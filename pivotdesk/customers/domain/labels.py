"""What agents type about a customer, made tidy (pure, no Django): tags, email domains, account rows."""

from __future__ import annotations

import re
import unicodedata

MAX_TAGS = 20
MAX_TAG_LENGTH = 40
MAX_ACCOUNT_ROWS = 40
MAX_ACCOUNT_KEY = 60
MAX_ACCOUNT_VALUE = 500

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9\u00a1-\uffff]([a-z0-9\u00a1-\uffff-]{0,61}[a-z0-9\u00a1-\uffff])?\.)+"
    r"[a-z\u00a1-\uffff]{2,63}$"
)


class LabelError(ValueError):
    """A value agents typed is not acceptable. `template` (English, named placeholders) and `params` let the
    services translate the reason; this module imports no Django."""

    def __init__(self, template: str, **params: str | int) -> None:
        super().__init__(template % params)
        self.template = template
        self.params = params


def clean_tags(values: list[str] | str) -> list[str]:
    """Tags from a list or a comma-separated text (full-width commas too): NFKC, trimmed, inner spaces collapsed,
    duplicates dropped case-insensitively (the first spelling wins), order kept."""
    if isinstance(values, str):
        values = re.split(r"[,，、;；\n]", values)
    tags: list[str] = []
    seen: set[str] = set()
    for raw in values:
        tag = " ".join(unicodedata.normalize("NFKC", str(raw)).split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise LabelError("The tag '%(tag)s' is longer than %(n)d characters.", tag=tag[:20] + "…", n=MAX_TAG_LENGTH)
        if tag.casefold() in seen:
            continue
        seen.add(tag.casefold())
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise LabelError("At most %(n)d tags.", n=MAX_TAGS)
    return tags


def normalize_domain(value: str) -> str:
    """An email domain as stored: lower-case, without a leading "@" or "www." typed by habit."""
    domain = unicodedata.normalize("NFKC", value).strip().lower().removeprefix("@").rstrip(".")
    if not _DOMAIN.match(domain):
        raise LabelError("'%(value)s' is not an email domain (like example.com).", value=value.strip()[:80])
    return domain


def clean_domains(values: list[str] | str) -> list[str]:
    """Domains from a list or a text (commas, spaces or lines between them), normalised, duplicates dropped."""
    if isinstance(values, str):
        values = re.split(r"[\s,，、;；]+", values)
    out: list[str] = []
    for raw in values:
        if raw.strip() and (domain := normalize_domain(raw)) not in out:
            out.append(domain)
    return out


def clean_account_rows(rows: list[tuple[str, str]]) -> dict[str, str]:
    """Account data (contract, renewal date, ARR, …) from key/value rows: empty rows dropped, keys unique."""
    data: dict[str, str] = {}
    for raw_key, raw_value in rows:
        key, value = " ".join(raw_key.split()), raw_value.strip()
        if not key and not value:
            continue
        if not key:
            raise LabelError("Every account row needs a name (the value '%(value)s' has none).", value=value[:40])
        if len(key) > MAX_ACCOUNT_KEY or len(value) > MAX_ACCOUNT_VALUE:
            raise LabelError("The account row '%(key)s' is too long.", key=key[:40])
        if key in data:
            raise LabelError("The account row '%(key)s' appears twice.", key=key)
        data[key] = value
    if len(data) > MAX_ACCOUNT_ROWS:
        raise LabelError("At most %(n)d account rows.", n=MAX_ACCOUNT_ROWS)
    return data
