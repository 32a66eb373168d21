"""API schemas of the tickets app: tickets, messages, timeline, links, bulk updates, tags, custom fields, views."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field

from pivotdesk.accounts.schemas import (
    Id,
    JsonObject,
    Limit,
    LongText,
    Name,
    Offset,
    RequiredShortText,
    ShortText,
    StrList,
    Text16,
    Text64,
    Text255,
)
from pivotdesk.customers.schemas import Email, OrganizationRefOut, Phone

StatusName = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
TicketTypeName = Literal["question", "incident", "problem", "task", "complaint"]
ChannelName = Literal[
    "email",
    "web_form",
    "chat",
    "wechat",
    "wecom",
    "whatsapp",
    "telegram",
    "messenger",
    "line",
    "sms",
    "voice",
    "video",
    "api",
    "import",
    "agent",
]
SortName = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "number",
    "-number",
    "priority",
    "-priority",
    "status",
    "-status",
    "subject",
    "-subject",
    "relevance",
]
ScopeName = Literal["", "mine", "unassigned", "my_teams", "open", "all"]
LinkKindName = Literal["related", "duplicate_of"]
FieldTypeName = Literal["text", "number", "date", "select", "multiselect", "checkbox"]
Subject = Annotated[Text255, Field(max_length=255)]


# ---- tickets --------------------------------------------------------------------------------------------------------


class RequesterOut(Schema):
    id: int
    name: str
    email: str


class NamedRefOut(Schema):
    id: int
    name: str


class TicketOut(Schema):
    """A ticket as the API shows it."""

    id: int
    number: int
    subject: str
    status: str
    status_label: str
    priority: str
    ticket_type: str
    channel: str
    requester: RequesterOut
    organization: OrganizationRefOut | None
    assignee: NamedRefOut | None
    team: NamedRefOut | None
    category: NamedRefOut | None
    tags: list[str]
    custom_fields: dict[str, Any]
    language: str
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    solved_at: dt.datetime | None
    closed_at: dt.datetime | None
    merged_into_id: int | None
    parent_id: int | None
    message_count: int


class TicketPage(Schema):
    items: list[TicketOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class RequesterIn(Schema):
    """A requester found by email or phone, or created (a name alone creates a new contact)."""

    name: Name = ""
    email: Email = ""
    phone: Phone = ""


class TicketIn(Schema):
    """A new ticket. One of requester_id / requester is required."""

    subject: Subject = ""
    body: LongText = ""
    body_html: LongText = ""
    requester_id: Id | None = None
    requester: RequesterIn | None = None
    priority: PriorityName = "normal"
    ticket_type: TicketTypeName = "question"
    channel: ChannelName = "api"
    status: StatusName = "new"
    team_id: Id | None = None
    assignee_id: Id | None = None
    category_id: Id | None = None
    tags: StrList = []
    custom_fields: JsonObject = {}
    language: Text16 = ""
    external_id: Text255 = ""


class TicketPatchIn(Schema):
    """Field changes; absent fields stay as they are, null clears team/assignee/category/custom status."""

    subject: Annotated[Subject, Field(min_length=1)] | None = None
    status: StatusName | None = None
    custom_status_id: Id | None = None
    priority: PriorityName | None = None
    ticket_type: TicketTypeName | None = None
    category_id: Id | None = None
    team_id: Id | None = None
    assignee_id: Id | None = None
    tags: StrList | None = None
    add_tags: StrList | None = None
    remove_tags: StrList | None = None
    custom_fields: JsonObject | None = None
    language: Text16 | None = None
    follower_ids: Annotated[list[Id], Field(max_length=200)] | None = None


class TicketListQuery(Schema):
    """Queue filters; status and priority take comma-separated lists."""

    status: Annotated[ShortText, Field(description="Comma-separated statuses, e.g. open,pending")] = ""
    priority: Annotated[ShortText, Field(description="Comma-separated priorities")] = ""
    assignee: Annotated[Text64, Field(description="An agent id, 'me' or 'none'")] = ""
    team: Id | None = None
    tag: Text64 = ""
    channel: ChannelName | None = None
    requester: Id | None = None
    organization: Id | None = None
    ticket_type: TicketTypeName | None = None
    category: Id | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    q: Annotated[
        Text255,
        Field(
            description="A ticket number, the requester's name or address, or words (each as a prefix; Chinese is cut "
            "into words) in the subject, messages or text read from attachments. With sort=relevance: the typed "
            "number first, then the best word matches."
        ),
    ] = ""
    scope: ScopeName = ""
    sort: SortName = "-updated_at"
    limit: Limit = 50
    offset: Offset = 0


class BulkChangesIn(Schema):
    status: StatusName | None = None
    priority: PriorityName | None = None
    ticket_type: TicketTypeName | None = None
    assignee_id: Id | None = None
    team_id: Id | None = None
    category_id: Id | None = None
    add_tags: StrList | None = None
    remove_tags: StrList | None = None


class BulkIn(Schema):
    ticket_ids: Annotated[list[Id], Field(min_length=1, max_length=500)]
    changes: BulkChangesIn


class BulkOut(Schema):
    updated: list[int]
    failed: dict[int, str]


class MergeIn(Schema):
    target_id: Id


class LinkIn(Schema):
    target_id: Id
    kind: LinkKindName = "related"


class ParentIn(Schema):
    parent_id: Id | None


class TicketRefOut(Schema):
    id: int
    number: int
    subject: str
    status: str


class LinkOut(Schema):
    """A link between two tickets seen from this ticket: outgoing (this → ticket) or incoming."""

    id: int
    kind: str
    direction: Literal["outgoing", "incoming"]
    ticket: TicketRefOut


class LinksOut(Schema):
    parent: TicketRefOut | None
    children: list[TicketRefOut]
    links: list[LinkOut]


# ---- messages and timeline ----------------------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    inline: bool
    url: str


class MessageOut(Schema):
    """One entry of the conversation."""

    id: int
    ticket_id: int
    kind: str
    author_type: str
    author_name: str
    author_agent_id: int | None
    author_contact_id: int | None
    body_text: str
    body_html: str
    channel: str
    created_at: dt.datetime
    delivery_status: str
    delivery_error: str
    attachments: list[AttachmentOut]


class MessagePage(Schema):
    items: list[MessageOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class MessageIn(Schema):
    """A reply or note. As multipart/form-data, the same fields plus `files` (one or more attachments)."""

    body: LongText = ""
    body_html: LongText = ""
    kind: Literal["public", "note"] = "public"
    status_after: StatusName | None = None


class EventOut(Schema):
    """One timeline event: who changed what, from what to what."""

    id: int
    created_at: dt.datetime
    actor_type: str
    actor_agent_id: int | None
    actor_label: str
    verb: str
    field: str
    old_value: Any
    new_value: Any
    data: dict[str, Any]


class EventPage(Schema):
    items: list[EventOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class PageQuery(Schema):
    limit: Limit = 100
    offset: Offset = 0


class MessageListQuery(PageQuery):
    include_notes: bool = True


# ---- configuration --------------------------------------------------------------------------------------------------


class TagOut(Schema):
    id: int
    name: str


class CustomFieldOut(Schema):
    id: int
    key: str
    label: str
    label_zh: str
    field_type: str
    options: list[str]
    required: bool
    active: bool
    position: int


FieldKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Options = Annotated[list[Annotated[ShortText, Field(min_length=1)]], Field(max_length=500)]


class CustomFieldIn(Schema):
    key: FieldKey
    label: RequiredShortText
    label_zh: ShortText = ""
    field_type: FieldTypeName
    options: Options = []
    required: bool = False
    position: int = Field(0, ge=0, le=100_000)


class CustomFieldPatchIn(Schema):
    label: RequiredShortText | None = None
    label_zh: ShortText | None = None
    options: Options | None = None
    required: bool | None = None
    active: bool | None = None
    position: int | None = Field(None, ge=0, le=100_000)


class SavedViewOut(Schema):
    id: int
    name: str
    filters: dict[str, Any]
    sort: str
    shared: bool
    owner_id: int | None
    position: int


class SavedViewIn(Schema):
    """A named queue filter (the same keys as the ticket list's query); shared views need team.manage."""

    name: RequiredShortText
    filters: JsonObject = {}
    sort: SortName = "-updated_at"
    shared: bool = False


class TagListQuery(Schema):
    q: Text64 = ""


class CustomFieldListQuery(Schema):
    include_inactive: bool = False
