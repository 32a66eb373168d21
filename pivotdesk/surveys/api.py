"""REST endpoints of customer satisfaction, mounted at /api/v1/satisfaction/ (read-only, like Zendesk's
satisfaction ratings): the answered CSAT / NPS surveys, and the summary the web report shows.

Both need `reports.view` (the web report's gate) and cover the caller's workspace only. The period (`start`,
`end`, local dates of the workspace) selects the surveys sent in it, as the web report does (default: the last 90
days); the other filters are the facts the survey kept when it was sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from pivotdesk.accounts.api_auth import ApiContext, context
from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.accounts.schemas import Day, ErrorOut, Id, Limit, Offset
from pivotdesk.common.pagination import paginate
from pivotdesk.surveys import selectors

router = Router(tags=["satisfaction"])
ERRORS: dict[int, Any] = {403: ErrorOut, 422: ErrorOut}

KindName = Literal["csat", "nps"]


class SatisfactionFilters(Schema):
    """The surveys a result covers: the kind, the period they were sent in, and the facts they were sent with."""

    kind: KindName = Field("csat", description="csat (1–5) or nps (0–10).")
    start: Day | None = Field(None, description="First day (the workspace's time zone); default: 90 days ago.")
    end: Day | None = Field(None, description="Last day, included; default: today.")
    team_id: Id | None = None
    agent_id: Id | None = None
    category_id: Id | None = None
    organization_id: Id | None = None
    campaign_id: Id | None = None


class SatisfactionRatingFilters(SatisfactionFilters):
    score: int | None = Field(None, ge=0, le=10, description="Only answers with this score.")
    not_solved: bool | None = Field(None, description="Only answers that said the problem was (not) solved.")
    limit: Limit = 50
    offset: Offset = 0


class SatisfactionRatingOut(Schema):
    """One answered survey."""

    id: int
    kind: str
    score: int | None
    comment: str
    not_solved: bool
    answered_at: dt.datetime | None
    invited_at: dt.datetime | None
    ticket_id: int | None
    ticket_number: int | None
    contact_id: int
    organization_id: int | None
    agent_id: int | None
    team_id: int | None
    category_id: int | None
    campaign_id: int | None


class SatisfactionRatingPage(Schema):
    items: list[SatisfactionRatingOut]
    count: int
    limit: int
    offset: int
    next_offset: int | None


class SatisfactionScoreCountOut(Schema):
    score: int
    count: int


class SatisfactionSummaryOut(Schema):
    """CSAT: invited, answered, satisfied (4–5), not_solved, csat (% satisfied of answers). NPS: invited, answered,
    promoters (9–10), passives (7–8), detractors (0–6), nps (−100…100). Both: response_rate (% answered of invited)
    and the distribution of scores. Percentages have one decimal; None when nothing was answered. The fields of the
    other kind are None."""

    kind: str
    start: dt.date
    end: dt.date
    invited: int
    answered: int
    response_rate: float | None
    satisfied: int | None = None
    not_solved: int | None = None
    csat: float | None = None
    promoters: int | None = None
    passives: int | None = None
    detractors: int | None = None
    nps: float | None = None
    distribution: list[SatisfactionScoreCountOut]


def _reader(request: HttpRequest) -> ApiContext:
    ctx = context(request)
    require(ctx.agent, Perm.REPORTS_VIEW)
    return ctx


def _report_filter(ctx: ApiContext, filters: SatisfactionFilters) -> selectors.ReportFilter:
    """Through the web report's parser: the same defaults and the same refusals (422) of a bad period."""
    return selectors.ReportFilter.parse(
        workspace=ctx.workspace,
        start=filters.start.isoformat() if filters.start else "",
        end=filters.end.isoformat() if filters.end else "",
        team_id=filters.team_id,
        agent_id=filters.agent_id,
        category_id=filters.category_id,
        organization_id=filters.organization_id,
        campaign_id=filters.campaign_id,
    )


@router.get(
    "/ratings",
    response={200: SatisfactionRatingPage, **ERRORS},
    summary="Satisfaction ratings: answered CSAT / NPS surveys, the latest answer first",
    operation_id="list_satisfaction_ratings",
)
def list_ratings(request: HttpRequest, filters: Query[SatisfactionRatingFilters]) -> dict[str, object]:
    ctx = _reader(request)
    flt = _report_filter(ctx, filters)
    page = paginate(
        selectors.answered(ctx.workspace, flt, filters.kind, score=filters.score, not_solved=filters.not_solved),
        limit=filters.limit,
        offset=filters.offset,
    )
    return page.body()


@router.get(
    "/summary",
    response={200: SatisfactionSummaryOut, **ERRORS},
    summary="Satisfaction summary: CSAT % or NPS, response rate and the distribution of scores",
    operation_id="get_satisfaction_summary",
)
def get_summary(request: HttpRequest, filters: Query[SatisfactionFilters]) -> dict[str, object]:
    ctx = _reader(request)
    flt = _report_filter(ctx, filters)
    body: dict[str, object] = {"kind": filters.kind, "start": flt.period.start, "end": flt.period.end}
    if filters.kind == "nps":
        nps = selectors.nps_summary(ctx.workspace, flt)
        body |= {
            "invited": nps.invited,
            "answered": nps.answered,
            "response_rate": nps.response_rate,
            "promoters": nps.promoters,
            "passives": nps.passives,
            "detractors": nps.detractors,
            "nps": nps.score,
        }
    else:
        csat = selectors.csat_summary(ctx.workspace, flt)
        body |= {
            "invited": csat.invited,
            "answered": csat.answered,
            "response_rate": csat.response_rate,
            "satisfied": csat.satisfied,
            "not_solved": csat.not_solved,
            "csat": csat.percent,
        }
    distribution = selectors.score_distribution(ctx.workspace, flt, filters.kind)
    body["distribution"] = [{"score": score, "count": count} for score, count in distribution]
    return body
