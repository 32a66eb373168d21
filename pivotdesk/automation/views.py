"""The approval one-click link (public: it works on a phone without signing in). GET shows the ticket, the stage
and the buttons; only the POST decides, so a link preview or a mail scanner fetching the URL changes nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from pivotdesk.automation.domain.approvals import APPROVE, VERDICTS, state_from_data
from pivotdesk.automation.models import ApprovalLink
from pivotdesk.automation.services import approvals
from pivotdesk.common.errors import DomainError

TEMPLATE = "automation/approval_link.html"


def _language(link: ApprovalLink | None) -> str:
    if link is None:
        return translation.get_language() or "zh-hans"
    from pivotdesk.notifications.render import recipient_language

    return recipient_language(link.agent)


def _context(link: ApprovalLink) -> dict[str, Any]:
    approval = link.approval
    state = state_from_data(approval.state)
    return {
        "link": link,
        "ticket": approval.ticket,
        "flow_name": approval.snapshot.get("name", ""),
        "stage": state.stage,
        "progress": approvals.progress_of(approval),
    }


def _page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, TEMPLATE, {**context, "language": translation.get_language()}, status=status)


def _missing(request: HttpRequest) -> list[str]:
    typed = [line for line in request.POST.get("missing_text", "").splitlines() if line.strip()]
    return [*request.POST.getlist("missing"), *typed]


def _decide(request: HttpRequest, token: str, link: ApprovalLink) -> HttpResponse:
    verdict = request.POST.get("verdict", "")
    values = {"comment": request.POST.get("comment", ""), "reason": request.POST.get("reason", "")}
    try:
        approval = approvals.decide_by_link(
            token=token, verdict=verdict if verdict in VERDICTS else "", missing_items=_missing(request), **values
        )
    except DomainError as exc:
        context = {**_context(link), "error": exc.message, "token": token, "values": values}
        return _page(request, context, exc.status_code)
    return _page(request, {"done": True, "verdict": verdict, "approved": verdict == APPROVE, "ticket": approval.ticket})


@require_http_methods(["GET", "POST"])
def approval_link(request: HttpRequest, token: str) -> HttpResponse:
    link = approvals.find_link(token)
    with translation.override(_language(link)):
        try:
            link = approvals.check_link(token)
        except DomainError as exc:
            return _page(request, {"failed": exc.message}, exc.status_code)
        if request.method == "POST":
            return _decide(request, token, link)
        return _page(request, {**_context(link), "token": token, "values": {}})
