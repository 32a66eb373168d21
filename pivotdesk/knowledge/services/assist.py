"""Agent assist on the ticket page: relevant articles, similar resolved tickets with what resolved them, the root
cause the model suggests (with its solution template), the graph's "worked in N of M" tips, and a suggested reply,
each of which the agent inserts with one click; "useful / not useful" and the insertions are recorded
(`feedback_record`) and move the ranking (`retrieval`'s feedback boost).

The suggested reply is, in order: the LLM's draft when the workspace has an LLM and triage wrote one; else the
solution template of the suggested root cause; else the best article in the customer's language. A template's
placeholders (`{{ requester.name }}`, `{{ order.status }}` …) are filled from the ticket by the same values the
macros use (`pivotdesk.ai.services.placeholders`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.ai.models import StepStatus, TriageRun
from pivotdesk.ai.services.placeholders import values_for
from pivotdesk.common.domain import placeholders
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.selectors import customer_language

from .. import retrieval
from ..errors import KnowledgeErrorCode
from ..models import Article, ArticleStatus, AssistFeedback, AssistKind

ARTICLES = 5
TICKETS = 3
_MD_NOISE = re.compile(r"(^#+\s*|^\s*[-*]\s+|[*_`>]+)", re.MULTILINE)


@dataclass(frozen=True)
class Reply:
    text: str
    source: str  # "llm" | "template" | "article"
    article_id: int | None = None


@dataclass
class Assist:
    query: str
    language: str
    articles: list[retrieval.Hit] = field(default_factory=list)
    tickets: list[retrieval.Hit] = field(default_factory=list)
    reply: Reply | None = None
    root_cause: Any = None  # rootcause.Suggestion
    tips: list[Any] = field(default_factory=list)  # graph.Tip


def plain(markdown: str) -> str:
    """Markdown as text a reply can carry: headings, list marks and emphasis removed, blank lines kept."""
    return _MD_NOISE.sub("", markdown).strip()


def fill(ticket: Ticket, template: str) -> str:
    return placeholders.render(plain(template), values_for(ticket))


def _llm_draft(ticket: Ticket) -> str:
    output = (
        TriageRun.objects.filter(ticket=ticket, step="summary", message__isnull=True, status=StepStatus.SUCCEEDED)
        .values_list("output", flat=True)
        .first()
    )
    draft = output.get("draft_reply") if isinstance(output, dict) else None
    return draft.strip() if isinstance(draft, str) else ""


def _suggestion(ticket: Ticket) -> Any:
    from . import rootcause

    return rootcause.suggest(ticket)


def _tips(ticket: Ticket) -> list[Any]:
    from . import graph

    return list(graph.tips(ticket))


def _reply(ticket: Ticket, language: str, suggestion: Any, articles: list[retrieval.Hit]) -> Reply | None:
    draft = _llm_draft(ticket)
    if draft:
        return Reply(text=draft, source="llm")
    template = getattr(suggestion, "template", None) if suggestion and not suggestion.abstained else None
    if isinstance(template, Article) and template.status == ArticleStatus.PUBLISHED:
        return Reply(text=fill(ticket, template.body), source="template", article_id=template.pk)
    best = next((h for h in articles if h.language == language), None)
    if best is None:
        return None
    body = Article.objects.filter(pk=best.object_id).values_list("body", flat=True).first() or ""
    return Reply(text=fill(ticket, body), source="article", article_id=best.object_id)


def assist_for(*, actor: Actor, ticket: Ticket) -> Assist:
    """Everything agent assist shows for this ticket (the caller may view it)."""
    authorize(actor, Perm.TICKET_VIEW, workspace_id=ticket.workspace_id)
    query = retrieval.question_of(ticket)
    language = customer_language(ticket)
    articles = retrieval.search_articles(workspace_id=ticket.workspace_id, query=query, limit=ARTICLES)
    tickets = retrieval.similar_tickets(
        workspace_id=ticket.workspace_id, query=query, exclude_ticket_id=ticket.pk, limit=TICKETS
    )
    suggestion = _suggestion(ticket)
    return Assist(
        query=query,
        language=language,
        articles=articles,
        tickets=tickets,
        reply=_reply(ticket, language, suggestion, articles),
        root_cause=suggestion,
        tips=_tips(ticket),
    )


def article_insert_text(ticket: Ticket, article: Article) -> str:
    """What inserting an article puts in the reply: its body as text, placeholders filled."""
    return fill(ticket, article.body)


def feedback_record(
    *, actor: Actor, ticket: Ticket, kind: str, object_id: int, useful: bool | None = None, used: bool = False,
    query: str = "",
) -> AssistFeedback:  # fmt: skip
    """Record that the agent inserted a suggestion or judged it; one row per agent, ticket and suggestion (a later
    judgement replaces an earlier one; an insertion is never forgotten)."""
    authorize(actor, Perm.TICKET_VIEW, workspace_id=ticket.workspace_id)
    if kind not in AssistKind.values:
        message = "unknown kind"
        raise ValidationFailed(message, code=KnowledgeErrorCode.INVALID_VALUE, details={"kind": message})
    agent = actor.agent
    lookup = {"ticket": ticket, "kind": kind, "object_id": object_id, "agent": agent}
    for _attempt in range(2):
        row = AssistFeedback.objects.filter(**lookup).first()
        if row is not None:
            row.used = row.used or used
            if useful is not None:
                row.useful = useful
            row.save(update_fields=["used", "useful", "updated_at"])
            return row
        try:
            with transaction.atomic():
                return AssistFeedback.objects.create(
                    workspace_id=ticket.workspace_id, useful=useful, used=used, query=query[:255], **lookup
                )
        except IntegrityError:
            continue  # a double click: the other request created it
    return AssistFeedback.objects.get(**lookup)
