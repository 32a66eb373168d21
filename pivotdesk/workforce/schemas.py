"""Input and output schemas of the workforce API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from pivotdesk.accounts.schemas import Day, Instant


class QueueOut(Schema):
    id: int
    name: str
    kind: str
    channel_types: list[str]
    team_id: int | None
    skill_id: int | None
    interval_minutes: int
    target_percent: float
    target_seconds: int
    asa_seconds: int | None
    patience_seconds: int | None
    reply_target_minutes: int | None
    shrinkage: float
    max_occupancy: float
    default_aht_seconds: int
    is_active: bool


class QueueIn(Schema):
    name: str = Field(..., max_length=120)
    kind: str = Field("async", description="realtime (calls, chat: Erlang) or async (email, forms: workload).")
    channel_types: list[str] = Field(default_factory=list, description="email, web, chat, messaging, sms, voice…")
    team: int | None = None
    categories: list[int] = Field(default_factory=list)
    skill: int | None = None
    interval_minutes: int = Field(30, description="5, 15, 30 or 60.")
    target_percent: float = 80.0
    target_seconds: int = 20
    asa_seconds: int | None = None
    patience_seconds: int | None = Field(None, description="Mean patience: staff with Erlang A (abandonment).")
    reply_target_minutes: int | None = None
    shrinkage: float = 0.3
    max_occupancy: float = 0.85
    default_aht_seconds: int = 300
    is_active: bool = True


class ForecastPointOut(Schema):
    start: Instant
    forecast: float
    lo: float
    hi: float
    aht_seconds: float


class ForecastOut(Schema):
    id: int
    queue_id: int
    interval_minutes: int
    model: str
    status: str
    error: str
    created_at: dt.datetime
    backtest: dict[str, Any]
    points: list[ForecastPointOut]


class NeedOut(Schema):
    start: Instant
    volume: float
    aht_seconds: float
    agents: int
    scheduled: int
    service_level: float | None


class ForecastEventIn(Schema):
    name: str = Field(..., max_length=120)
    start: Instant
    end: Instant
    multiplier: float = Field(..., description="×5 for 双十一 from 14:00; 0.5 for a quiet day.")
    queue: int | None = None


class ForecastEventOut(Schema):
    id: int
    name: str
    start: Instant
    end: Instant
    multiplier: float
    queue_id: int | None


class ImportOut(Schema):
    id: int
    status: str
    rows: int
    errors: list[dict[str, Any]]
    messages: list[str]


class RosterIn(Schema):
    start_date: Day
    days: int = Field(7, ge=1, le=28)
    seconds: float | None = Field(None, gt=0, le=600, description="Solver time limit (default 30 s).")


class ShiftOut(Schema):
    id: int
    roster_id: int
    agent_id: int | None
    template_id: int | None
    kind: str
    start: Instant
    end: Instant
    break_start: dt.datetime | None
    break_end: dt.datetime | None
    skill: str | None
    source: str


class RosterOut(Schema):
    id: int
    start_date: Day
    end_date: dt.date
    version: int
    status: str
    based_on_id: int | None
    published_at: dt.datetime | None
    solver: dict[str, Any]


class RosterDetailOut(RosterOut):
    shifts: list[ShiftOut]


class ShiftIn(Schema):
    start: Instant
    end: Instant
    agent: int | None = Field(None, description="Empty for an open shift anyone may pick up.")
    template: int | None = None
    skill: int | None = None
    kind: str = "day"
    force: bool = Field(False, description="Save even when it breaks a labour rule (the rules are returned).")


class ShiftSaved(Schema):
    shift: ShiftOut
    violations: list[dict[str, Any]]


class RequestIn(Schema):
    kind: str = Field(..., description="swap, pickup, leave or overtime.")
    shift_id: int | None = None
    peer_shift_id: int | None = None
    start: Instant | None = None
    end: Instant | None = None
    leave_type: str = "annual"
    half_day: bool = False
    note: str = Field("", max_length=2000)


class RequestOut(Schema):
    id: int
    kind: str
    status: str
    requester_id: int
    peer_id: int | None
    shift_id: int | None
    peer_shift_id: int | None
    leave_type: str
    start: dt.datetime | None
    end: dt.datetime | None
    half_day: bool
    note: str
    violations: list[dict[str, Any]]
    decided_by_id: int | None
    decided_at: dt.datetime | None
    decision_reason: str
    history: list[dict[str, Any]]
    created_at: dt.datetime


class CheckOut(Schema):
    violations: list[dict[str, Any]]
    messages: list[str]


class AnswerIn(Schema):
    accept: bool
    note: str = Field("", max_length=2000)


class DecisionIn(Schema):
    approve: bool
    reason: str = Field("", max_length=2000, description="Required to reject.")


class LeaveIn(Schema):
    agent: int
    start: Instant
    end: Instant
    leave_type: str = "other"
    half_day: bool = False
    reason: str = Field("", max_length=200)


class LeaveOut(Schema):
    id: int
    agent_id: int
    start: Instant
    end: Instant
    leave_type: str
    half_day: bool


class AdherenceOut(Schema):
    agent_id: int
    name: str
    scheduled_now: str
    actual: str
    in_adherence: bool
    adherence_percent: float | None
    scheduled_seconds: float


class OnShiftOut(Schema):
    at: dt.datetime
    rostered: bool
    on_shift: dict[str, str | None]
    on_leave: list[int]
    next_change: dt.datetime | None
