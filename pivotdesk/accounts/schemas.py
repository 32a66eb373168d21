"""API schemas of the accounts app, and the input types every app's API shares (ids, clean text, JSON objects).

Every string that reaches the database goes through `_no_nul`: PostgreSQL (and some SQLite paths) reject NUL
characters, so they are refused with a 422 instead of surfacing as a 500.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

MAX_ID = 2**63 - 1
MAX_JSON_CHARS = 100_000


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _clean_json(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        raise ValueError("is nested too deeply")
    if isinstance(value, str):
        return _no_nul(value)
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(str(key))
            _clean_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _clean_json(item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):  # NaN and Infinity are not JSON
        raise ValueError("must not contain NaN or Infinity")
    return value


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    _clean_json(value)
    if len(json.dumps(value, default=str)) > MAX_JSON_CHARS:
        raise ValueError(f"is larger than {MAX_JSON_CHARS} characters of JSON")
    return value


def _not_a_boolean(value: Any) -> Any:
    # pydantic's lax mode reads JSON `true` as 1: `{"assignee_id": true}` assigned agent 1 (issue 11, the fuzzer)
    if isinstance(value, bool):
        raise ValueError("must be an integer id, not a boolean")
    return value


Id = Annotated[int, BeforeValidator(_not_a_boolean), Field(ge=1, le=MAX_ID)]
"""A database id: positive and within 64 bits (larger values would overflow the database driver); never a boolean."""


def _iso_text(value: Any) -> Any:
    # pydantic's lax mode reads a number (or "50.0") as seconds since 1970: a typo would plan a roster in 1970
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 string")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError("must be an ISO 8601 date or date and time (2026-12-07T09:00:00+08:00)") from exc
    if not 1900 <= parsed.year <= 2200:  # time zone and calendar arithmetic overflow near years 1 and 9999
        raise ValueError("must be a date between the years 1900 and 2200")
    return value


Instant = Annotated[dt.datetime, BeforeValidator(_iso_text)]
"""A date and time written in ISO 8601 (never a number of seconds)."""
Day = Annotated[dt.date, BeforeValidator(_iso_text)]
"""A date written in ISO 8601 (2026-12-07)."""

Offset = Annotated[int, Field(ge=0, le=1_000_000_000)]
Limit = Annotated[int, Field(ge=1, le=MAX_ID, description="Page size; values above 200 are clamped to 200.")]


NoNul = AfterValidator(_no_nul)
"""Add to an Annotated[str, …] to refuse NUL characters."""


def _bounded(max_length: int, min_length: int = 0, strip: bool = True) -> StringConstraints:
    return StringConstraints(strip_whitespace=strip, max_length=max_length, min_length=min_length)


Text16 = Annotated[str, _bounded(16), NoNul]
Text64 = Annotated[str, _bounded(64), NoNul]
ShortText = Annotated[str, _bounded(120), NoNul]
RequiredShortText = Annotated[str, _bounded(120, 1), NoNul]
Name = Annotated[str, _bounded(200), NoNul]
RequiredName = Annotated[str, _bounded(200, 1), NoNul]
Text255 = Annotated[str, _bounded(255), NoNul]
MediumText = Annotated[str, _bounded(10_000, strip=False), NoNul]
LongText = Annotated[str, _bounded(1_000_000, strip=False), NoNul]
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_object)]
StrList = Annotated[list[ShortText], Field(max_length=200)]


class ErrorOut(Schema):
    """The error body of every 4xx: a machine code, a readable message, optional details."""

    code: str
    message: str
    details: Any = None


# ---- accounts ---------------------------------------------------------------------------------------------------

RoleName = Literal["admin", "supervisor", "agent", "light_agent"]
TicketAccessName = Literal["all", "teams", "assigned"]
AgentStatusName = Literal["online", "away", "offline"]
TokenScopeName = Literal["read", "write", "admin"]


class RefOut(Schema):
    """A small reference to a named object."""

    id: int
    name: str


class SkillOut(Schema):
    id: int
    name: str
    description: str


class AgentSkillOut(Schema):
    id: int
    name: str
    level: int


class AgentOut(Schema):
    """An agent: a user's membership in the workspace."""

    id: int
    user_id: int
    username: str
    name: str
    email: str
    role: str
    ticket_access: str
    is_active: bool
    languages: list[str]
    capacity: dict[str, int]
    time_zone: str
    status: str
    status_changed_at: dt.datetime | None
    seniority: int
    latitude: float | None
    longitude: float | None
    signature: str
    teams: list[RefOut]
    skills: list[AgentSkillOut]


class AgentSkillIn(Schema):
    name: RequiredShortText
    level: int = Field(3, ge=1, le=5)


class AgentPatchIn(Schema):
    """Fields an admin may change on an agent; absent fields stay as they are."""

    role: RoleName | None = None
    ticket_access: TicketAccessName | None = None
    is_active: bool | None = None
    languages: Annotated[list[Text16], Field(max_length=50)] | None = None
    capacity: dict[Annotated[str, StringConstraints(max_length=32)], Annotated[int, Field(ge=0, le=1000)]] | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    time_zone: Text64 | None = None
    seniority: int | None = Field(None, ge=1, le=4)
    signature: MediumText | None = None
    skills: Annotated[list[AgentSkillIn], Field(max_length=100)] | None = None


class AgentStatusIn(Schema):
    status: AgentStatusName


class TeamOut(Schema):
    """A team and its members."""

    id: int
    name: str
    description: str
    lead: RefOut | None
    members: list[RefOut]
    created_at: dt.datetime


class TeamIn(Schema):
    name: RequiredShortText
    description: MediumText = ""
    lead_id: Id | None = None
    member_ids: Annotated[list[Id], Field(max_length=1000)] = []


class TeamPatchIn(Schema):
    name: RequiredShortText | None = None
    description: MediumText | None = None
    lead_id: Id | None = None
    member_ids: Annotated[list[Id], Field(max_length=1000)] | None = None


class TokenOut(Schema):
    """An API token (never its secret)."""

    id: int
    name: str
    prefix: str
    scope: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    rate_limit_per_minute: int | None


class TokenCreatedOut(TokenOut):
    """The new token with its secret, shown this once."""

    secret: str


class TokenIn(Schema):
    name: RequiredShortText
    scope: TokenScopeName = "write"
    rate_limit_per_minute: int | None = Field(None, ge=1, le=100_000)
