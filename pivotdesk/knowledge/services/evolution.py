"""Self-evolution: the knowledge base learns from the desk's resolutions, and asks for a review where it ages.

- **A solution no article covers** (`propose_from_resolution`): when a ticket is solved, its solution (what the
  agent recorded, else the agent's last public reply) is looked up in the knowledge base. An article that already
  says it (semantic similarity ≥ COVERED_SIMILARITY, or a strong keyword match of the solution's words) means the
  solution is covered: nothing is proposed. Otherwise a draft is extracted from the conversation (the customer's
  question, the agent's solution) and checked for near duplicates: an article close to the draft (trigram
  similarity of the titles or semantic similarity ≥ DUPLICATE_SIMILARITY) turns the proposal into an *update* of that
  article rather than a new one. An LLM is not needed: the draft is extractive.
- **Checked for plausibility**: a solution that failed on similar resolved tickets (their recorded solution is close
  to this one and they were reopened) is flagged for the reviewer with the count ("failed on 3 of 4 similar
  tickets").
- **Reviews** (`review_sweep`, daily): articles whose success is falling, with more "not useful" than "useful"
  clicks, or not used for `UNUSED_DAYS`, are queued with the reason.
- **The reviewer** approves (optionally edited: the article is created or updated through `article_save`, so it
  gets a version), or rejects with a reason. Every step is idempotent: one proposal per ticket and reason, one
  pending review per article and reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import override

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.selectors import customer_language, last_agent_replies

from .. import retrieval
from ..domain import text as knowledge_text
from ..errors import KnowledgeErrorCode
from ..models import (
    Article,
    ArticleProposal,
    ArticleStatus,
    ProposalStatus,
    Resolution,
    Visibility,
)
from . import articles as services

COVERED_SIMILARITY = 0.9  # cosine of the solution to an article at which the article already says it
DUPLICATE_SIMILARITY = 0.6  # trigram (Dice) similarity of titles at which a draft is an update of that article
MIN_SOLUTION_CHARS = 20  # a shorter "solution" ("done", "已处理") teaches nothing
UNUSED_DAYS = 90
FALLING_DROP = 0.2  # a success rate this much lower in the last 30 days than before
SIMILAR_SOLUTION = 0.45
Reason = ArticleProposal.Reason
_SENTENCE = re.compile(r"(?<=[。！？!?.])\s*")


@dataclass(frozen=True)
class Coverage:
    covered: bool
    article_id: int | None
    similarity: float


def solution_of(ticket: Ticket) -> str:
    """What solved the ticket: the recorded solution, else the agent's last public reply."""
    recorded = Resolution.objects.filter(ticket=ticket).values_list("solution", flat=True).first()
    if recorded:
        return recorded
    return last_agent_replies([ticket.pk]).get(ticket.pk, "")


def coverage(*, workspace_id: int, solution: str, question: str) -> Coverage:
    """Whether an article already says this solution (judged by retrieval)."""
    hits = retrieval.search_articles(
        workspace_id=workspace_id, query=f"{question}\n{solution}"[:500], published_only=False, limit=3
    )
    best = max(hits, key=lambda h: h.similarity, default=None)
    if best is not None and best.similarity >= COVERED_SIMILARITY:
        return Coverage(True, best.object_id, best.similarity)
    keyword = retrieval.search_articles(
        workspace_id=workspace_id, query=solution[:200], published_only=False, limit=1, mode="keyword"
    )
    if keyword and keyword[0].keyword_rank == 1:
        return Coverage(True, keyword[0].object_id, keyword[0].similarity)
    return Coverage(False, best.object_id if best else None, best.similarity if best else 0.0)


def _sentences(text: str, limit: int) -> str:
    parts = [p.strip() for p in _SENTENCE.split(text.strip()) if p.strip()]
    return " ".join(parts[:limit])


def draft_from(ticket: Ticket, *, solution: str, question: str, language: str) -> tuple[str, str]:
    """An extractive draft: the ticket's subject as the title; the question and the solution as the body."""
    with override(language):
        body = "\n\n".join(
            [
                f"## {_('Problem')}",
                _sentences(question, 3) or ticket.subject,
                f"## {_('Solution')}",
                solution.strip(),
                f"_{_('Proposed from ticket #%(number)s.') % {'number': ticket.number}}_",
            ]
        )
    return ticket.subject.strip()[:255] or _("Untitled"), body


def nearest_duplicate(*, workspace_id: int, title: str, body: str) -> Article | None:
    """The article a draft nearly repeats: a close title, or a body the encoder finds very similar."""
    best: tuple[float, int] | None = None
    for pk, other in Article.objects.filter(workspace_id=workspace_id).values_list("pk", "title")[:20_000]:
        score = knowledge_text.dice_similarity(title, other)
        if score >= DUPLICATE_SIMILARITY and (best is None or score > best[0]):
            best = (score, pk)
    if best is None:
        hits = retrieval.search_articles(
            workspace_id=workspace_id, query=f"{title}\n{body}"[:500], published_only=False, limit=1,
            mode="semantic",
        )  # fmt: skip
        if hits and hits[0].similarity >= COVERED_SIMILARITY:
            best = (hits[0].similarity, hits[0].object_id)
    return Article.objects.filter(pk=best[1]).first() if best else None


def failed_elsewhere(*, ticket: Ticket, solution: str) -> tuple[int, int]:
    """(failures, trials) of this solution on similar resolved tickets: their recorded solution is close to this
    one, and a reopened ticket is a failure."""
    similar = retrieval.similar_tickets(
        workspace_id=ticket.workspace_id, query=retrieval.question_of(ticket), exclude_ticket_id=ticket.pk,
        limit=20,
    )  # fmt: skip
    ids = [h.object_id for h in similar]
    trials = failures = 0
    for other, succeeded in (
        Resolution.objects.filter(ticket_id__in=ids).exclude(solution="").values_list("solution", "succeeded")
    ):
        if knowledge_text.trigram_similarity(solution, other) >= SIMILAR_SOLUTION:
            trials += 1
            failures += 0 if succeeded else 1
    return failures, trials


def propose_from_resolution(*, actor: Actor, ticket: Ticket) -> ArticleProposal | None:
    """Propose an article (or an update to the closest one) when the ticket's solution is not covered; None when
    it is covered, too short, or already proposed. Runs as the system after a ticket is solved."""
    authorize_system(actor)
    solution = solution_of(ticket).strip()
    if len(solution) < MIN_SOLUTION_CHARS:
        return None
    if ArticleProposal.objects.filter(ticket=ticket).exists():
        return None
    question = retrieval.first_customer_message(ticket)
    covered = coverage(workspace_id=ticket.workspace_id, solution=solution, question=question)
    if covered.covered:
        return None
    language = customer_language(ticket)
    title, body = draft_from(ticket, solution=solution, question=question, language=language)
    duplicate = nearest_duplicate(workspace_id=ticket.workspace_id, title=title, body=body)
    flags: list[dict[str, object]] = []
    if duplicate is not None:
        flags.append({"kind": "near_duplicate", "article_id": duplicate.pk, "title": duplicate.title})
    failures, trials = failed_elsewhere(ticket=ticket, solution=solution)
    if failures and failures * 2 >= trials:
        flags.append({"kind": "failed_on_similar", "failures": failures, "trials": trials})
    try:
        with transaction.atomic():
            return ArticleProposal.objects.create(
                workspace_id=ticket.workspace_id, ticket=ticket, target=duplicate, duplicate_of=duplicate,
                reason=Reason.UPDATE if duplicate is not None else Reason.NEW_SOLUTION, language=language,
                title=title, body=body, flags=flags,
            )  # fmt: skip
    except IntegrityError:
        return None  # proposed by a concurrent run


def flag_text(flag: dict[str, object]) -> str:
    """A flag as the reviewer reads it, in the current language."""
    if flag.get("kind") == "near_duplicate":
        return _("Nearly repeats the article “%(title)s”.") % {"title": flag.get("title", "")}
    if flag.get("kind") == "failed_on_similar":
        return _("This solution failed on %(failures)s of %(trials)s similar tickets.") % {
            "failures": flag.get("failures"),
            "trials": flag.get("trials"),
        }
    return str(flag.get("kind", ""))


# ------------------------------------------------------------------------------------------------- reviews


def _queue(article: Article, reason: str, flags: list[dict[str, object]]) -> bool:
    if ArticleProposal.objects.filter(target=article, reason=reason, status=ProposalStatus.PENDING).exists():
        return False
    ArticleProposal.objects.create(
        workspace_id=article.workspace_id, target=article, reason=reason, language=article.language,
        title=article.title, body=article.body, flags=flags,
    )  # fmt: skip
    return True


def _success_rates(workspace_id: int, since: dt.datetime) -> dict[int, tuple[float, int, float, int]]:
    rows = (
        Resolution.objects.filter(workspace_id=workspace_id, article__isnull=False)
        .values("article_id")
        .annotate(
            recent=Count("pk", filter=Q(resolved_at__gte=since)),
            recent_ok=Count("pk", filter=Q(resolved_at__gte=since, succeeded=True)),
            before=Count("pk", filter=Q(resolved_at__lt=since)),
            before_ok=Count("pk", filter=Q(resolved_at__lt=since, succeeded=True)),
        )
    )
    return {
        r["article_id"]: (
            r["recent_ok"] / r["recent"] if r["recent"] else 0.0,
            r["recent"],
            r["before_ok"] / r["before"] if r["before"] else 0.0,
            r["before"],
        )
        for r in rows
    }


def review_sweep(*, actor: Actor, workspace_id: int, at: dt.datetime | None = None) -> int:
    """Queue the published articles that need a review; returns how many were queued. Idempotent. System only."""
    authorize_system(actor)
    at = at or now()
    queued = 0
    published = Article.objects.filter(workspace_id=workspace_id, status=ArticleStatus.PUBLISHED)
    for article_id, (recent, n_recent, before, n_before) in _success_rates(workspace_id, at - dt.timedelta(30)).items():
        if n_recent >= 5 and n_before >= 5 and before - recent >= FALLING_DROP:
            article = published.filter(pk=article_id).first()
            flags: list[dict[str, object]] = [
                {"kind": "falling", "before": round(before, 2), "recent": round(recent, 2)}
            ]
            queued += bool(article and _queue(article, Reason.FALLING_SUCCESS, flags))
    feedback = retrieval.article_feedback(workspace_id)
    for article_id, votes in feedback.items():
        if votes.not_useful >= 3 and votes.not_useful > votes.useful:
            article = published.filter(pk=article_id).first()
            flags = [{"kind": "negative", "good": votes.useful, "bad": votes.not_useful}]
            queued += bool(article and _queue(article, Reason.NEGATIVE_FEEDBACK, flags))
    queued += _queue_unused(workspace_id, at, {a: f.last_used for a, f in feedback.items() if f.last_used})
    return queued


def _queue_unused(workspace_id: int, at: dt.datetime, used: dict[int, dt.datetime]) -> int:
    cutoff = at - dt.timedelta(days=UNUSED_DAYS)
    resolved = dict(
        Resolution.objects.filter(workspace_id=workspace_id, article__isnull=False)
        .values("article_id")
        .annotate(last=Max("resolved_at"))
        .values_list("article_id", "last")
    )
    queued = 0
    for article in Article.objects.filter(
        workspace_id=workspace_id, status=ArticleStatus.PUBLISHED, visibility=Visibility.INTERNAL,
        published_at__lt=cutoff,
    ):  # fmt: skip
        last = max((d for d in (used.get(article.pk), resolved.get(article.pk)) if d is not None), default=None)
        if last is None or last < cutoff:
            queued += _queue(article, Reason.UNUSED, [{"kind": "unused", "days": UNUSED_DAYS}])
    return queued


# ----------------------------------------------------------------------------------------------- the reviewer


def proposal_decide(
    *,
    actor: Actor,
    proposal: ArticleProposal,
    approve: bool,
    title: str | None = None,
    body: str | None = None,
    visibility: str = Visibility.INTERNAL,
) -> ArticleProposal:
    """Approve (the article is created, or the target updated, with the reviewer's edits) or reject a proposal."""
    authorize(actor, Perm.KNOWLEDGE_MANAGE, workspace_id=proposal.workspace_id)
    with transaction.atomic():
        locked = ArticleProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != ProposalStatus.PENDING:
            raise Conflict(_("This proposal was already decided."))
        if approve:
            locked.article = _apply(actor, locked, title=title, body=body, visibility=visibility)
        locked.status = ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED
        locked.decided_by = actor.agent
        locked.decided_at = now()
        locked.save(update_fields=["status", "decided_by", "decided_at", "article", "updated_at"])
    return locked


def _apply(actor: Actor, proposal: ArticleProposal, *, title: str | None, body: str | None, visibility: str) -> Article:
    workspace = Workspace.objects.get(pk=proposal.workspace_id)
    new_title = (title if title is not None else proposal.title).strip()
    new_body = body if body is not None else proposal.body
    if not new_title:
        message = _("An article needs a title.")
        raise ValidationFailed(message, code=KnowledgeErrorCode.INVALID_VALUE, details={"title": message})
    target = proposal.target
    if target is None:
        return services.article_save(
            actor=actor, workspace=workspace, title=new_title, body=new_body, language=proposal.language,
            visibility=visibility, status=ArticleStatus.PUBLISHED,
        )  # fmt: skip
    if proposal.reason == Reason.UPDATE and body is None:
        new_body = f"{target.body.rstrip()}\n\n{proposal.body}"  # an addition goes after what the article said
    return services.article_save(
        actor=actor, workspace=workspace, title=new_title if title is not None else target.title, body=new_body,
        language=target.language, visibility=target.visibility, status=ArticleStatus.PUBLISHED, article=target,
    )  # fmt: skip
