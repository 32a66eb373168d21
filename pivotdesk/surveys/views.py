"""The customer's survey pages (public: the link in the message is the credential; no sign-in).

One click from the message: the invitation's score links open this page with that score already chosen, a comment
box and a big "Send" button; the answer is recorded by that POST only. A GET never records anything, because mail
security scanners and chat link previews fetch every link in a message (a score recorded on GET would be the
scanner's, not the customer's). The page is usable without JavaScript, on a 390 px phone, in the survey's language
(`?lang=zh-hans|en` switches it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import DomainError, NotFound
from pivotdesk.common.time import now
from pivotdesk.surveys import selectors, services
from pivotdesk.surveys.domain import scores
from pivotdesk.surveys.errors import SurveyClosed
from pivotdesk.surveys.models import CsatScale, Survey, SurveyKind, SurveyStatus

LANGUAGES = {"zh-hans": "zh-hans", "zh": "zh-hans", "zh-cn": "zh-hans", "en": "en", "en-us": "en", "en-gb": "en"}
CSAT_FACES = {1: "😠", 2: "🙁", 3: "😐", 4: "🙂", 5: "😀"}


def _language(request: HttpRequest, survey: Survey | None) -> str:
    asked = LANGUAGES.get(request.GET.get("lang", "").strip().lower())
    if asked:
        return asked
    if survey is not None:
        return LANGUAGES.get(survey.language, "zh-hans")
    return LANGUAGES.get((translation.get_language() or "").lower(), "zh-hans")


def _lang_query(request: HttpRequest) -> str:
    asked = LANGUAGES.get(request.GET.get("lang", "").strip().lower())
    return f"?{urlencode({'lang': asked})}" if asked else ""


def _closed_page(request: HttpRequest, survey: Survey | None, *, status: int) -> HttpResponse:
    with translation.override(_language(request, survey)):
        return render(
            request,
            "surveys/gone.html",
            {"workspace": survey.workspace if survey else None, "status": status, "survey": survey},
            status=status,
        )


def _csat_choices(survey: Survey) -> list[dict[str, Any]]:
    if survey.scale == CsatScale.TWO:
        return [
            {"value": scores.CSAT_GOOD, "face": "😀", "label": _("Good, I'm satisfied")},
            {"value": scores.CSAT_BAD, "face": "🙁", "label": _("Bad, I'm unsatisfied")},
        ]
    labels = {
        1: _("Very dissatisfied"),
        2: _("Dissatisfied"),
        3: _("Neutral"),
        4: _("Satisfied"),
        5: _("Very satisfied"),
    }
    return [{"value": v, "face": CSAT_FACES[v], "label": labels[v]} for v in range(5, 0, -1)]


def _question(survey: Survey, language: str) -> str:
    if survey.kind == SurveyKind.NPS:
        custom = (survey.campaign.question or {}).get(language) if survey.campaign else None
        return custom or _("How likely are you to recommend %(name)s to a friend or colleague?") % {
            "name": survey.workspace.name
        }
    return _("How would you rate the support you received?")


def _page(
    request: HttpRequest,
    survey: Survey,
    token: str,
    *,
    selected: int | None,
    comment: str,
    not_solved: bool,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    language = _language(request, survey)
    with translation.override(language):
        context = {
            "workspace": survey.workspace,
            "survey": survey,
            "token": token,
            "question": _question(survey, language),
            "choices": _csat_choices(survey) if survey.kind == SurveyKind.CSAT else list(range(0, 11)),
            "selected": selected,
            "comment": comment,
            "not_solved": not_solved,
            "error": error,
            "is_csat": survey.kind == SurveyKind.CSAT,
            "answered": survey.status == SurveyStatus.ANSWERED,
            "action": reverse("surveys:answer", args=[token]) + _lang_query(request),
            "other_language": "en" if language == "zh-hans" else "zh-hans",
        }
        return render(request, "surveys/answer.html", context, status=status)


def _open_survey(token: str) -> Survey | None:
    try:
        return selectors.survey_by_token(token)
    except NotFound:
        return None


def _closed(survey: Survey) -> bool:
    return survey.status in (SurveyStatus.EXPIRED, SurveyStatus.CANCELLED, SurveyStatus.SCHEDULED) or (
        survey.expires_at <= now()
    )


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isascii() and value.lstrip("-").isdigit() and len(value) < 4 else None


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    survey = _open_survey(token)
    if survey is None:
        return _closed_page(request, None, status=404)
    if _closed(survey):
        return _closed_page(request, survey, status=410)
    if request.method == "GET":
        chosen = _int(request.GET.get("score", ""))
        low, high = (1, 5) if survey.kind == SurveyKind.CSAT else (0, 10)
        if chosen is not None and not low <= chosen <= high:
            chosen = None  # a link edited by hand: nothing chosen
        return _page(
            request,
            survey,
            token,
            selected=chosen if chosen is not None else survey.score,
            comment=survey.comment,
            not_solved=survey.not_solved,
        )
    raw_score = request.POST.get("score", "")
    comment = request.POST.get("comment", "")
    not_solved = request.POST.get("not_solved") == "1"
    actor = Actor.for_contact(survey.contact_id, survey.contact.name or "")
    with translation.override(_language(request, survey)):
        try:
            if survey.kind == SurveyKind.CSAT:
                services.csat_answer(
                    survey=survey, actor=actor, score=_int(raw_score) or -1, comment=comment, solved=not not_solved
                )
            else:
                score = _int(raw_score)
                services.nps_answer(survey=survey, actor=actor, score=-1 if score is None else score, comment=comment)
        except SurveyClosed:
            return _closed_page(request, survey, status=410)
        except DomainError as exc:
            return _page(
                request,
                survey,
                token,
                selected=None,
                comment=comment[: services.MAX_COMMENT],
                not_solved=not_solved,
                error=exc.message,
                status=400,
            )
    return HttpResponseRedirect(reverse("surveys:thanks", args=[token]) + _lang_query(request))


@require_GET
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    survey = _open_survey(token)
    if survey is None:
        return _closed_page(request, None, status=404)
    with translation.override(_language(request, survey)):
        return render(
            request,
            "surveys/thanks.html",
            {
                "workspace": survey.workspace,
                "survey": survey,
                "answered": survey.status == SurveyStatus.ANSWERED,
                "can_change": not _closed(survey),
                "change_url": reverse("surveys:answer", args=[token]) + _lang_query(request),
            },
        )
