"""API schemas of the customers app: contacts, their channel identities, organizations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from pivotdesk.accounts.schemas import (
    Id,
    JsonObject,
    MediumText,
    Name,
    Text16,
    Text64,
    Text255,
)

TierName = Literal["standard", "vip", "strategic"]
IdentityKindName = Literal[
    "email", "phone", "wechat", "wecom", "whatsapp", "telegram", "messenger", "line", "web", "external"
]
Email = Annotated[Text255, Field(max_length=254)]
Phone = Annotated[Text64, Field(max_length=40)]
Tags = Annotated[list[Annotated[Text64, Field(max_length=40)]], Field(max_length=20)]


class OrganizationRefOut(Schema):
    id: int
    name: str
    tier: str


class IdentityOut(Schema):
    """An external id under which the contact reaches us."""

    id: int
    kind: str
    value: str
    verified: bool
    last_seen_at: dt.datetime | None


class ContactOut(Schema):
    """A customer person."""

    id: int
    name: str
    display_name: str
    email: str
    phone: str
    organization: OrganizationRefOut | None
    tier: str
    effective_tier: str
    language: str
    time_zone: str
    notes: str
    tags: list[str]
    identities: list[IdentityOut]
    merged_into_id: int | None
    merged_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class IdentityIn(Schema):
    kind: IdentityKindName
    value: Annotated[Text255, Field(min_length=1)]


class ContactIn(Schema):
    """A new contact: a name or at least one identity (email, phone, …)."""

    name: Name = ""
    email: Email = ""
    phone: Phone = ""
    organization_id: Id | None = None
    language: Text16 = ""
    tier: TierName | Literal[""] = ""
    notes: MediumText = ""
    identities: Annotated[list[IdentityIn], Field(max_length=50)] = []


class ContactPatchIn(Schema):
    """Fields to change on a contact; absent fields stay. organization_id null detaches it."""

    name: Name | None = None
    organization_id: Id | None = None
    tier: TierName | Literal[""] | None = None
    language: Text16 | None = None
    time_zone: Text64 | None = None
    notes: MediumText | None = None
    tags: Tags | None = None


class ContactMergeIn(Schema):
    target_id: Id


class OrganizationOut(Schema):
    """A customer company."""

    id: int
    name: str
    tier: str
    domains: list[str]
    external_id: str
    account: dict[str, object]
    notes: str
    tags: list[str]
    account_manager_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


Domain = Annotated[Text255, Field(min_length=1)]


class OrganizationIn(Schema):
    name: Annotated[Name, Field(min_length=1)]
    tier: TierName = "standard"
    domains: Annotated[list[Domain], Field(max_length=100)] = []
    account: JsonObject = {}
    external_id: Annotated[Text255, Field(max_length=120)] = ""
    notes: MediumText = ""
    tags: Tags = []


class OrganizationPatchIn(Schema):
    name: Annotated[Name, Field(min_length=1)] | None = None
    tier: TierName | None = None
    domains: Annotated[list[Domain], Field(max_length=100)] | None = None
    account: JsonObject | None = None
    external_id: Annotated[Text255, Field(max_length=120)] | None = None
    notes: MediumText | None = None
    tags: Tags | None = None
