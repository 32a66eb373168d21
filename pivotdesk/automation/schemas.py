"""Input and output schemas of the automation API: chain templates, chains and their progress, business events."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from pivotdesk.accounts.schemas import Id, JsonObject, Limit, MediumText, Name, Offset, RequiredName, Text64, Text255

ChainModeName = Literal["parallel", "sequence"]
EventStatusName = Literal["received", "processed", "unknown_key", "failed"]
Minutes = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]  # the service says what is allowed, translated


# --- chain templates ---------------------------------------------------------------------------------------------


class ChainStageIn(Schema):
    key: Text64
    name: Name = ""
    team: Id | None = None
    expected_minutes: Minutes


class ChainTemplateIn(Schema):
    name: RequiredName
    mode: ChainModeName = "sequence"
    description: MediumText = ""
    active: bool = True
    stages: Annotated[list[ChainStageIn], Field(max_length=50)]


class ChainStageDefOut(Schema):
    key: str
    name: str
    team: int | None = None
    expected_minutes: int


class ChainTemplateOut(Schema):
    id: int
    name: str
    description: str
    mode: str
    version: int
    active: bool
    stages: list[ChainStageDefOut]


# --- chains ------------------------------------------------------------------------------------------------------


class ChainStartIn(Schema):
    template_id: Id
    key: Annotated[Text255, Field(min_length=1)]
    parent_number: Id | None = Field(None, description="The umbrella ticket's number; else give requester_id.")
    requester_id: Id | None = Field(None, description="The requester of a new umbrella ticket.")
    subject: Text255 = ""
    values: JsonObject = Field(default_factory=dict, description="Context copied into the stage tickets.")


class ChainListQuery(Schema):
    done: bool | None = None
    limit: Limit = 50
    offset: Offset = 0


class ChainParentOut(Schema):
    id: int
    number: int
    subject: str


class ChainStageOut(Schema):
    key: str
    name: str
    team_id: int | None
    team: str | None
    expected_minutes: int
    status: str
    ticket_id: int | None
    ticket_number: int | None
    opened_at: dt.datetime | None
    done_at: dt.datetime | None
    delayed: bool


class ChainOut(Schema):
    id: int
    key: str
    name: str
    mode: str
    version: int
    template_id: int | None
    done: bool
    parent: ChainParentOut
    percent: int
    current: list[str]
    delayed: list[str]
    finished: bool
    expected_end: dt.datetime | None
    stages: list[ChainStageOut]
    created_at: dt.datetime


class ChainSummaryOut(Schema):
    id: int
    key: str
    name: str
    template_id: int | None
    parent_id: int
    done: bool
    created_at: dt.datetime


class ChainPage(Schema):
    items: list[ChainSummaryOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


# --- business events ---------------------------------------------------------------------------------------------


class BusinessEventIn(Schema):
    """The documented shape of `POST /events/` (the body is read raw: it is stored before it is parsed)."""

    id: str = Field(..., max_length=200, description="The sender's event id: a repeated delivery is ignored.")
    type: str = Field(..., max_length=100, pattern=r"^[a-z0-9_.\-]+$", examples=["shipment.delayed"])
    key: str = Field("", max_length=200, examples=["order:PD20260001"])
    data: dict[str, Any] = Field(default_factory=dict)


class BusinessEventAcceptedOut(Schema):
    id: int
    status: str
    reason: str
    message: str
    created: bool


class BusinessEventOut(Schema):
    id: int
    event_id: str
    type: str
    key: str
    data: dict[str, Any]
    status: str
    reason: str
    message: str
    chain_id: int | None
    ticket_id: int | None
    created_at: dt.datetime
    processed_at: dt.datetime | None


class BusinessEventListQuery(Schema):
    status: EventStatusName | None = None
    limit: Limit = 50
    offset: Offset = 0


class BusinessEventPage(Schema):
    items: list[BusinessEventOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


# --- rules, macros, approvals ------------------------------------------------------------------------------------

RuleKindName = Literal["trigger", "time"]
VerdictName = Literal["approve", "reject", "changes"]
MacroScopeName = Literal["personal", "team", "shared"]


class RuleIn(Schema):
    name: RequiredName
    kind: RuleKindName = "trigger"
    description: MediumText = ""
    active: bool = True
    conditions: JsonObject = Field(default_factory=lambda: {"all": []})
    actions: Annotated[list[JsonObject], Field(max_length=50)] = Field(default_factory=list)


class RuleOut(Schema):
    id: int
    name: str
    kind: str
    description: str
    active: bool
    position: int
    version: int
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    fired_count: int
    last_fired_at: dt.datetime | None = None


class RuleListQuery(Schema):
    kind: RuleKindName | None = None


class PreviewConditionOut(Schema):
    path: str
    matched: bool
    value: Any = None


class RulePreviewRowOut(Schema):
    ticket_id: int
    number: int
    subject: str
    fires: bool
    pass_number: int | None = None
    conditions: list[PreviewConditionOut]


class RulePreviewQuery(Schema):
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    event: Text64 = ""


class MacroOut(Schema):
    id: int
    name: str
    name_en: str
    scope: str
    shortcut: str
    category_id: int | None = None
    usage_count: int
    actions: list[dict[str, Any]]


class MacroListQuery(Schema):
    q: Name = ""
    ticket_number: Annotated[int, Field(ge=1, le=2**62)] | None = None


class MacroApplyIn(Schema):
    ticket_number: Annotated[int, Field(ge=1, le=2**62)]
    reply: MediumText | None = None
    skip_reply: bool = False


class ActionResultOut(Schema):
    type: str
    ok: bool
    code: str = ""
    detail: str = ""


class ApprovalStageOut(Schema):
    key: str
    name: str
    status: str
    approvals: int
    required: int


class ApprovalOut(Schema):
    id: int
    ticket_id: int
    status: str
    stage_key: str
    waiting_on: list[int]
    percent: int
    overdue: bool
    due_at: dt.datetime | None = None
    stages: list[ApprovalStageOut]


class ApprovalDecideIn(Schema):
    verdict: VerdictName
    comment: MediumText = ""
    reason: MediumText = ""
    missing_items: Annotated[list[Text255], Field(max_length=50)] = Field(default_factory=list)
