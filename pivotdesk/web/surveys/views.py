"""The satisfaction screens: the CSAT / NPS report (supervisors: `reports.view`), NPS campaigns and the workspace's
CSAT settings (`surveys.manage`), and the ticket page's CSAT panel (whoever sees the ticket)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pivotdesk.accounts.models import AgentProfile, Team
from pivotdesk.accounts.permissions import Perm, can, require
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.customers.models import CustomerOrganization
from pivotdesk.customers.selectors import access_organization
from pivotdesk.surveys import selectors, services
from pivotdesk.surveys.models import CsatScale, NpsCampaign, SurveyKind
from pivotdesk.surveys.timeline import score_text
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Category
from pivotdesk.web.base import Desk, agent_view, int_or_none

FILTERS = ("team", "agent", "category", "organization", "campaign")


def _empty(key: Any) -> str:
    return "" if key is not None else _("(none)")


@agent_view
@require_GET
def report(request: HttpRequest, desk: Desk) -> HttpResponse:
    """CSAT (share of 4–5, response rate, per agent / team / category / week) and NPS (per organization and
    campaign) for the surveys sent in a period, with the customers' comments."""
    require(desk.agent, Perm.REPORTS_VIEW)
    ws = desk.workspace
    ids = {f"{name}_id": int_or_none(request.GET.get(name)) for name in FILTERS}
    flt = selectors.ReportFilter.parse(
        workspace=ws, start=request.GET.get("start", "").strip(), end=request.GET.get("end", "").strip(), **ids
    )
    csat = selectors.csat_summary(ws, flt)
    csat_blocks = [
        {"key": key, "title": title, "rows": selectors.csat_breakdown(ws, flt, key)}
        for key, title in (
            ("agent", _("By agent")),
            ("team", _("By team")),
            ("category", _("By category")),
            ("week", _("By week")),
        )
    ]
    distribution = selectors.score_distribution(ws, flt, SurveyKind.CSAT)
    nps_distribution = selectors.score_distribution(ws, flt, SurveyKind.NPS)
    most = max([n for _, n in distribution] + [1])
    nps_most = max([n for _, n in nps_distribution] + [1])
    comments = selectors.answers_with_comments(ws, flt, SurveyKind.CSAT)
    return render(
        request,
        "web/surveys/report.html",
        {
            "flt": flt,
            "csat": csat,
            "csat_blocks": csat_blocks,
            "distribution": [(s, n, round(100 * n / most)) for s, n in distribution],
            "nps": selectors.nps_summary(ws, flt),
            "nps_blocks": [
                {"key": key, "title": title, "rows": selectors.nps_breakdown(ws, flt, key)}
                for key, title in (("organization", _("By organization")), ("campaign", _("By campaign")))
            ],
            "nps_distribution": [(s, n, round(100 * n / nps_most)) for s, n in nps_distribution],
            "comments": [{"survey": s, "score": score_text(s.score, s.scale)} for s in comments],
            "nps_comments": selectors.answers_with_comments(ws, flt, SurveyKind.NPS),
            "options": _options(desk),
            "selected": {name: ids[f"{name}_id"] for name in FILTERS},
            "none_label": _("(none)"),
            "may_manage": can(desk.agent, Perm.SURVEYS_MANAGE),
        },
    )


def _options(desk: Desk) -> dict[str, list[tuple[int, str]]]:
    ws = desk.workspace
    agents = AgentProfile.objects.filter(workspace=ws).select_related("user").order_by("user__username")
    return {
        "team": list(Team.objects.filter(workspace=ws).order_by("name").values_list("pk", "name")),
        "agent": [(a.pk, a.name) for a in agents],
        "category": list(Category.objects.filter(workspace=ws).order_by("name").values_list("pk", "name")),
        "organization": list(
            CustomerOrganization.objects.filter(workspace=ws).order_by("name").values_list("pk", "name")
        ),
        "campaign": list(NpsCampaign.objects.filter(workspace=ws).order_by("name").values_list("pk", "name")),
    }


# ---- campaigns and settings -----------------------------------------------------------------------------------


def _campaigns_page(request: HttpRequest, desk: Desk, *, status: int = 200, error: str = "") -> HttpResponse:
    config = selectors.settings_for(desk.workspace.pk)
    return render(
        request,
        "web/surveys/campaigns.html",
        {
            "campaigns": selectors.campaigns(desk.workspace),
            "config": config,
            "scales": CsatScale.choices,
            "error": error,
        },
        status=status,
    )


@agent_view
@require_GET
def campaigns(request: HttpRequest, desk: Desk) -> HttpResponse:
    require(desk.agent, Perm.SURVEYS_MANAGE)
    return _campaigns_page(request, desk)


@agent_view
@require_POST
def settings_save(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The workspace's CSAT settings (on/off, delay after the solve, link lifetime, scale)."""
    try:
        services.survey_settings_save(
            workspace=desk.workspace,
            actor=desk.actor,
            csat_enabled=request.POST.get("csat_enabled") == "1",
            csat_delay_hours=int_or_none(request.POST.get("csat_delay_hours")) or 0,
            csat_expiry_days=int_or_none(request.POST.get("csat_expiry_days")) or -1,
            csat_scale=request.POST.get("csat_scale", ""),
            nps_expiry_days=int_or_none(request.POST.get("nps_expiry_days")) or -1,
        )
    except ValidationFailed as exc:
        return _campaigns_page(request, desk, status=422, error=exc.message)
    messages.success(request, _("Survey settings saved."))
    return HttpResponseRedirect(reverse("web:surveys_campaigns"))


def _form_page(
    request: HttpRequest, desk: Desk, campaign: NpsCampaign | None, values: dict[str, Any], *, error: str = ""
) -> HttpResponse:
    organizations = CustomerOrganization.objects.filter(workspace=desk.workspace).order_by("name")
    return render(
        request,
        "web/surveys/campaign_form.html",
        {"campaign": campaign, "values": values, "organizations": organizations, "error": error},
        status=422 if error else 200,
    )


def _values(campaign: NpsCampaign | None) -> dict[str, Any]:
    if campaign is None:
        return {
            "name": "",
            "organization": None,
            "cadence_days": 90,
            "question_zh": "",
            "question_en": "",
            "active": True,
        }
    return {
        "name": campaign.name,
        "organization": campaign.organization_id,
        "cadence_days": campaign.cadence_days,
        "question_zh": campaign.question.get("zh-hans", ""),
        "question_en": campaign.question.get("en", ""),
        "active": campaign.active,
        "next_run": campaign.next_run_at,
    }


def _save(request: HttpRequest, desk: Desk, campaign: NpsCampaign | None) -> HttpResponse:
    post = request.POST
    values: dict[str, Any] = {
        "name": post.get("name", ""),
        "organization": int_or_none(post.get("organization")),
        "cadence_days": post.get("cadence_days", ""),
        "question_zh": post.get("question_zh", ""),
        "question_en": post.get("question_en", ""),
        "active": post.get("active") == "1",
    }
    organization = (
        access_organization(workspace=desk.workspace, organization_id=values["organization"])
        if values["organization"]
        else None
    )
    next_run_at = None
    start = post.get("start", "").strip()
    if start:
        try:
            day = dt.date.fromisoformat(start)
        except ValueError:
            return _form_page(request, desk, campaign, values, error=_("Dates are written like 2026-11-01."))
        next_run_at = dt.datetime.combine(day, dt.time(10, 0), tzinfo=ZoneInfo(desk.workspace.time_zone))
    try:
        saved = services.nps_campaign_save(
            workspace=desk.workspace,
            actor=desk.actor,
            campaign=campaign,
            name=values["name"],
            organization=organization,
            cadence_days=int_or_none(values["cadence_days"]) or 0,
            question={"zh-hans": values["question_zh"], "en": values["question_en"]},
            active=values["active"],
            next_run_at=next_run_at,
        )
    except ValidationFailed as exc:
        return _form_page(request, desk, campaign, values, error=exc.message)
    messages.success(request, _("Campaign “%(name)s” saved.") % {"name": saved.name})
    return HttpResponseRedirect(reverse("web:surveys_campaigns"))


@agent_view
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest, desk: Desk) -> HttpResponse:
    require(desk.agent, Perm.SURVEYS_MANAGE)
    if request.method == "POST":
        return _save(request, desk, None)
    return _form_page(request, desk, None, _values(None))


@agent_view
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, desk: Desk, campaign_id: int) -> HttpResponse:
    require(desk.agent, Perm.SURVEYS_MANAGE)
    campaign = selectors.access_campaign(workspace=desk.workspace, campaign_id=campaign_id)
    if request.method == "POST":
        return _save(request, desk, campaign)
    return _form_page(request, desk, campaign, _values(campaign))


@agent_view
@require_POST
def campaign_run(request: HttpRequest, desk: Desk, campaign_id: int) -> HttpResponse:
    """Run now: survey the campaign's contacts who are due (nobody surveyed within the cadence)."""
    campaign = selectors.access_campaign(workspace=desk.workspace, campaign_id=campaign_id)
    count = services.nps_campaign_run(campaign=campaign, actor=desk.actor)
    messages.success(
        request,
        ngettext("%(n)d customer invited.", "%(n)d customers invited.", count) % {"n": count}
        if count
        else _("Nobody is due: everyone was surveyed within the cadence."),
    )
    return HttpResponseRedirect(reverse("web:surveys_campaigns"))


# ---- the ticket page's panel ----------------------------------------------------------------------------------


@agent_view
@require_GET
def ticket_csat(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The ticket's latest CSAT: score, comment, "not solved", when it was sent and answered."""
    ticket = ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)
    survey = selectors.csat_for_ticket(ticket)
    return render(
        request,
        "web/surveys/_ticket_csat.html",
        {"ticket": ticket, "survey": survey, "score": score_text(survey.score, survey.scale) if survey else ""},
    )
