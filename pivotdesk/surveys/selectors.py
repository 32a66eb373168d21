"""Reads of the surveys app, always scoped: the ticket's CSAT, the survey link, the satisfaction reports.

The customer portal relies on `csat_for_ticket` and `answer_path` (names and signatures are stable)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.urls import reverse

from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.common.errors import NotFound
from pivotdesk.customers.models import CustomerOrganization
from pivotdesk.sla.reports import DateRange
from pivotdesk.surveys import tokens
from pivotdesk.surveys.domain import scores
from pivotdesk.surveys.models import NpsCampaign, Survey, SurveyKind, SurveySettings, SurveyStatus
from pivotdesk.tickets.models import Category, Ticket

REPORT_DEFAULT_DAYS = 90
COMMENT_LIMIT = 50


# ---- settings, the ticket's CSAT and the link ------------------------------------------------------------------


def settings_for(workspace_id: int) -> SurveySettings:
    """The workspace's survey settings (the defaults, unsaved, when it never changed them)."""
    found = SurveySettings.objects.filter(workspace_id=workspace_id).first()
    return found or SurveySettings(workspace_id=workspace_id)


def csat_for_ticket(ticket: Ticket) -> Survey | None:
    """The ticket's latest CSAT survey (of its latest solve), or None."""
    return (
        Survey.objects.filter(workspace_id=ticket.workspace_id, ticket_id=ticket.pk, kind=SurveyKind.CSAT)
        .exclude(status=SurveyStatus.CANCELLED)
        .select_related("agent", "contact")
        .order_by("-solve_cycle_at", "-pk")
        .first()
    )


def survey_token(survey: Survey) -> str:
    return tokens.make_token(survey_id=survey.pk, workspace_id=survey.workspace_id, nonce=survey.nonce)


def answer_path(survey: Survey, *, score: int | None = None) -> str:
    """The public path of the survey's answer page (the token included). With `score`, the one-click link: the
    page opens with that score chosen and the customer confirms with one tap (a GET never records: mail scanners
    and link previews fetch links)."""
    path = reverse("surveys:answer", args=[survey_token(survey)])
    return f"{path}?score={int(score)}" if score is not None else path


def survey_by_token(token: str) -> Survey:
    """The survey a link names, or NotFound (a malformed, forged or edited token; the same answer for all)."""
    survey_id = tokens.survey_id_of(token)
    survey = (
        Survey.objects.select_related("workspace", "ticket", "campaign", "contact").filter(pk=survey_id).first()
        if survey_id
        else None
    )
    if survey is None or not tokens.verify(
        token, survey_id=survey.pk, workspace_id=survey.workspace_id, nonce=survey.nonce
    ):
        raise NotFound("survey not found")
    return survey


def access_campaign(*, workspace: Workspace, campaign_id: int) -> NpsCampaign:
    found = NpsCampaign.objects.filter(workspace=workspace, pk=campaign_id).select_related("organization").first()
    if found is None:
        raise NotFound("campaign not found")
    return found


def campaigns(workspace: Workspace) -> QuerySet[NpsCampaign]:
    return (
        NpsCampaign.objects.filter(workspace=workspace)
        .select_related("organization")
        .annotate(
            invited=Count("surveys", filter=Q(surveys__invited_at__isnull=False)),
            answered=Count("surveys", filter=Q(surveys__status=SurveyStatus.ANSWERED)),
        )
        .order_by("name", "pk")
    )


# ---- reports --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    """What a satisfaction report covers: surveys sent in the period (local dates), optionally narrowed."""

    period: DateRange
    team_id: int | None = None
    agent_id: int | None = None
    category_id: int | None = None
    organization_id: int | None = None
    campaign_id: int | None = None

    @classmethod
    def parse(cls, *, workspace: Workspace, start: str = "", end: str = "", **ids: int | None) -> ReportFilter:
        """From form input (dates like 2026-11-01; default the last 90 days). Bad dates → ValidationFailed."""
        zone = ZoneInfo(workspace.time_zone)
        if not start:
            end_date = dt.date.fromisoformat(end) if _iso(end) else dt.datetime.now(zone).date()
            start = (end_date - dt.timedelta(days=REPORT_DEFAULT_DAYS - 1)).isoformat()
        period = DateRange.parse(start, end or None, time_zone=workspace.time_zone)
        return cls(period=period, **ids)


def _iso(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _surveys(workspace: Workspace, kind: str, flt: ReportFilter) -> QuerySet[Survey]:
    qs = Survey.objects.filter(
        workspace=workspace,
        kind=kind,
        invited_at__gte=flt.period.since,
        invited_at__lt=flt.period.until,
    )
    for field in ("team_id", "agent_id", "category_id", "organization_id", "campaign_id"):
        value = getattr(flt, field)
        if value is not None:
            qs = qs.filter(**{field: value})
    return qs


_CSAT_COUNTS: dict[str, Any] = {
    "invited": Count("pk"),
    "answered": Count("pk", filter=Q(status=SurveyStatus.ANSWERED)),
    "satisfied": Count("pk", filter=Q(status=SurveyStatus.ANSWERED, score__gte=scores.CSAT_SATISFIED)),
    "not_solved": Count("pk", filter=Q(status=SurveyStatus.ANSWERED, not_solved=True)),
}
_NPS_COUNTS: dict[str, Any] = {
    "invited": Count("pk"),
    "promoters": Count("pk", filter=Q(status=SurveyStatus.ANSWERED, score__gte=scores.NPS_PROMOTER)),
    "passives": Count(
        "pk",
        filter=Q(status=SurveyStatus.ANSWERED, score__gt=scores.NPS_DETRACTOR_MAX, score__lt=scores.NPS_PROMOTER),
    ),
    "detractors": Count("pk", filter=Q(status=SurveyStatus.ANSWERED, score__lte=scores.NPS_DETRACTOR_MAX)),
}


def _csat(row: dict[str, Any]) -> scores.Csat:
    return scores.Csat(
        invited=row["invited"], answered=row["answered"], satisfied=row["satisfied"], not_solved=row["not_solved"]
    )


def _nps(row: dict[str, Any]) -> scores.Nps:
    return scores.Nps(
        invited=row["invited"], promoters=row["promoters"], passives=row["passives"], detractors=row["detractors"]
    )


def csat_summary(workspace: Workspace, flt: ReportFilter) -> scores.Csat:
    """CSAT % (answers of 4–5 among answers), response rate and counts over the filter."""
    return _csat(_surveys(workspace, SurveyKind.CSAT, flt).aggregate(**_CSAT_COUNTS))


@dataclass(frozen=True)
class Row[T]:
    key: Any  # an id, a week's first day, or None ("none")
    label: str
    value: T


def _names(model: Any, ids: list[int], field: str = "name") -> dict[int, str]:
    return dict(model.objects.filter(pk__in=[i for i in ids if i is not None]).values_list("pk", field))


CSAT_DIMENSIONS = ("agent", "team", "category", "week")


def csat_breakdown(workspace: Workspace, flt: ReportFilter, by: str) -> list[Row[scores.Csat]]:
    """CSAT per agent, team, category (the facts at invitation) or week (Monday, the workspace's time zone); the
    rows with the most answers first, weeks in order. A missing agent/team/category is the None row."""
    qs = _surveys(workspace, SurveyKind.CSAT, flt)
    if by == "week":
        week = TruncWeek("invited_at", tzinfo=ZoneInfo(workspace.time_zone))
        grouped = _grouped(qs.annotate(key=week), "key", _CSAT_COUNTS, "key")
        return [Row(r["key"], _week(r["key"]), _csat(r)) for r in grouped]
    if by not in ("agent", "team", "category"):
        raise ValueError(by)
    rows = _grouped(qs, _id(by), _CSAT_COUNTS, "-answered", "key")
    keys = [r["key"] for r in rows]
    names = _agent_names(keys) if by == "agent" else _names(Team if by == "team" else Category, keys)
    return [Row(r["key"], names.get(r["key"], ""), _csat(r)) for r in rows]


def _grouped(qs: QuerySet[Survey], key: Any, counts: dict[str, Any], *order: str) -> list[dict[str, Any]]:
    """One GROUP BY: the counts per key (a column, or an annotation already named `key`)."""
    loose: Any = qs  # the counts are built at run time: the type checker cannot follow them
    values = loose.values("key") if isinstance(key, str) else loose.values(key=key)
    return list(values.annotate(**counts).order_by(*order))


def _id(by: str) -> Any:
    from django.db.models import F

    return F(f"{by}_id")


def _agent_names(ids: list[int]) -> dict[int, str]:
    return {a.pk: a.name for a in AgentProfile.objects.filter(pk__in=[i for i in ids if i]).select_related("user")}


def _week(value: Any) -> str:
    if value is None:
        return ""
    day = value.date() if isinstance(value, dt.datetime) else value
    return day.isoformat()


def nps_summary(workspace: Workspace, flt: ReportFilter) -> scores.Nps:
    """NPS (% promoters 9–10 − % detractors 0–6), with the counts, over the filter."""
    return _nps(_surveys(workspace, SurveyKind.NPS, flt).aggregate(**_NPS_COUNTS))


NPS_DIMENSIONS = ("organization", "campaign")


def nps_breakdown(workspace: Workspace, flt: ReportFilter, by: str) -> list[Row[scores.Nps]]:
    """NPS per organization or campaign, the most answers first."""
    if by not in NPS_DIMENSIONS:
        raise ValueError(by)
    rows = _grouped(_surveys(workspace, SurveyKind.NPS, flt), _id(by), _NPS_COUNTS, "key")
    model = CustomerOrganization if by == "organization" else NpsCampaign
    names = _names(model, [r["key"] for r in rows])
    result = [Row(r["key"], names.get(r["key"], ""), _nps(r)) for r in rows]
    return sorted(result, key=lambda row: (-row.value.answered, str(row.label)))


def score_distribution(workspace: Workspace, flt: ReportFilter, kind: str) -> list[tuple[int, int]]:
    """How many answers gave each score (1–5 for CSAT, 0–10 for NPS)."""
    answered = _surveys(workspace, kind, flt).filter(status=SurveyStatus.ANSWERED, score__isnull=False)
    counts = dict(answered.values("score").annotate(n=Count("pk")).values_list("score", "n"))
    low, high = (scores.CSAT_MIN, scores.CSAT_MAX) if kind == SurveyKind.CSAT else (scores.NPS_MIN, scores.NPS_MAX)
    return [(score, counts.get(score, 0)) for score in range(low, high + 1)]


def answered(
    workspace: Workspace,
    flt: ReportFilter,
    kind: str,
    *,
    score: int | None = None,
    not_solved: bool | None = None,
) -> QuerySet[Survey]:
    """The answers among the surveys a report covers (the API's ratings), the latest answer first, each with its
    ticket's number (`ticket_number`, None for NPS) in the same query."""
    qs = _surveys(workspace, kind, flt).filter(status=SurveyStatus.ANSWERED)
    if score is not None:
        qs = qs.filter(score=score)
    if not_solved is not None:
        qs = qs.filter(not_solved=not_solved)
    return qs.annotate(ticket_number=F("ticket__number")).order_by("-answered_at", "-pk")


def answers_with_comments(
    workspace: Workspace, flt: ReportFilter, kind: str, *, limit: int = COMMENT_LIMIT
) -> list[Survey]:
    """The latest answers that carry a comment or a "not solved" (the report's comment list)."""
    qs = (
        _surveys(workspace, kind, flt)
        .filter(status=SurveyStatus.ANSWERED)
        .filter(~Q(comment="") | Q(not_solved=True))
        .select_related("ticket", "contact", "organization", "agent", "agent__user", "team", "campaign")
        .order_by("-answered_at", "-pk")
    )
    return list(qs[:limit])


def event_may_invite(event: dict[str, Any]) -> bool:
    """ticket.status_changed: only a move to solved or closed may invite (the subscriber's cheap check)."""
    payload = event.get("payload") or {}
    return payload.get("new") in ("solved", "closed") and payload.get("old") not in ("solved", "closed")
