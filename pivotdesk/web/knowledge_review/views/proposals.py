"""Reviewing what the knowledge base proposes to itself: drafts from solved tickets, updates of near duplicates,
and articles queued for review. The reviewer reads the flags, edits, approves or rejects
(`knowledge.evolution.proposal_decide`, which holds the gate)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pivotdesk.common.errors import DomainError, NotFound
from pivotdesk.knowledge.domain import versions
from pivotdesk.knowledge.models import ArticleProposal, ProposalStatus, Visibility
from pivotdesk.knowledge.services import evolution
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.knowledge.views.common import must_manage, status_of

PAGE = 100


def _proposal(desk: Desk, proposal_id: int) -> ArticleProposal:
    found = (
        ArticleProposal.objects.select_related("ticket", "target", "duplicate_of", "article", "decided_by")
        .filter(workspace=desk.workspace, pk=int_or_none(proposal_id) or 0)
        .first()
    )
    if found is None:
        raise NotFound(_("Not found."))
    return found


@require_http_methods(["GET"])
@agent_view
def proposal_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    must_manage(desk)
    status = request.GET.get("status") or ProposalStatus.PENDING
    if status not in ProposalStatus.values:
        status = ProposalStatus.PENDING
    rows = (
        ArticleProposal.objects.filter(workspace=desk.workspace, status=status)
        .select_related("ticket", "target")
        .order_by("-created_at", "-pk")[:PAGE]
    )
    counts = {
        s: ArticleProposal.objects.filter(workspace=desk.workspace, status=s).count() for s in ProposalStatus.values
    }
    context = {
        "section": "review",
        "rows": [{"p": p, "flags": [evolution.flag_text(f) for f in p.flags or []]} for p in rows],
        "status": status,
        "statuses": [(value, label, counts[value]) for value, label in ProposalStatus.choices],
    }
    return render(request, "web/knowledge/review_list.html", context)


def initial(proposal: ArticleProposal) -> tuple[str, str]:
    """What the reviewer's form starts with: the draft, or for an update the article with the addition after it."""
    target = proposal.target
    if target is None:
        return proposal.title, proposal.body
    if proposal.reason == ArticleProposal.Reason.UPDATE:
        return target.title, f"{target.body.rstrip()}\n\n{proposal.body}"
    return target.title, target.body


def _context(proposal: ArticleProposal, *, title: str, body: str, error: str = "") -> dict[str, Any]:
    target = proposal.target
    return {
        "section": "review",
        "p": proposal,
        "flags": [evolution.flag_text(f) for f in proposal.flags or []],
        "title": title,
        "body": body,
        "error": error,
        "diff": versions.diff_lines(target.body, body) if target is not None else [],
        "visibilities": Visibility.choices,
    }


@require_http_methods(["GET", "POST"])
@agent_view
def proposal_page(request: HttpRequest, desk: Desk, proposal_id: int) -> HttpResponse:
    must_manage(desk)
    proposal = _proposal(desk, proposal_id)
    if request.method == "GET":
        title, body = initial(proposal)
        return render(request, "web/knowledge/review_page.html", _context(proposal, title=title, body=body))
    title = (request.POST.get("title") or "").strip()
    body = request.POST.get("body") or ""
    approve = request.POST.get("decision") == "approve"
    visibility = request.POST.get("visibility") or Visibility.INTERNAL
    if visibility not in Visibility.values:
        visibility = Visibility.INTERNAL
    try:
        evolution.proposal_decide(
            actor=desk.actor, proposal=proposal, approve=approve, title=title, body=body, visibility=visibility
        )
    except DomainError as exc:
        context = _context(proposal, title=title, body=body, error=exc.message)
        return render(request, "web/knowledge/review_page.html", context, status=status_of(exc))
    messages.success(request, _("Approved: the article is saved.") if approve else _("Rejected."))
    return HttpResponseRedirect(reverse("web:knowledge_proposals"))
