"""Hybrid retrieval over the knowledge base and the desk's resolved tickets.

Two rankings are fused by reciprocal rank fusion (`domain.ranking`):

- **keyword**: the search index every document kind shares (`pivotdesk.search`: jieba-cut words in SQLite FTS5 or
  PostgreSQL full text), so "密码" and "退款" are words, English words match as prefixes, and a query of mixed
  Chinese and English needs each of its words. When the index finds nothing, a typo-tolerant pass compares the
  query with the titles by character trigrams ("pasword" → "password").
- **semantic**: the multilingual sentence encoder the AI triage already runs (`pivotdesk.ai.services.embeddings`,
  cached per text in `EmbeddingVector`), so a Chinese question finds an English article and the other way round.
  Each worker keeps a workspace's article vectors as one matrix (`_ArticleIndex`), rebuilt when the articles'
  one-row stamp (count, newest change) moves or, looked at every few minutes, the sources of the questions each
  article is known to answer changed; a rebuild encodes only texts the old matrix lacks. A query is one
  matrix–vector product (brute force, exact) below `ANN_THRESHOLD` articles, and an approximate index (usearch's
  HNSW, when installed) above it.

The desk's own clicks move the result: an article agents insert or mark useful gets a boost, one marked not useful
sinks (`domain.text.feedback_boost`). Filters (language, visibility, category, published only) apply to both
rankings before fusion. Every hit carries its best cosine similarity and the margin to the next, which the bot
reads as its confidence.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Count, Max, Q
from numpy.typing import NDArray

from pivotdesk.ai.services import embeddings
from pivotdesk.common.domain import placeholders
from pivotdesk.search import selectors as search_selectors
from pivotdesk.search.domain import text as search_text
from pivotdesk.tickets.models import AuthorType, Status, Ticket
from pivotdesk.tickets.selectors import last_agent_replies

from .domain import ranking
from .domain import text as knowledge_text
from .models import Article, ArticleStatus, AssistFeedback, AssistKind, BotAnswer, BotOutcome, Resolution
from .search import KIND as ARTICLE_KIND

log = logging.getLogger(__name__)

TICKET_KIND = "ticket"
MODES = ("hybrid", "keyword", "semantic")
CANDIDATES = 50  # how deep each ranking is read before fusion
ANN_THRESHOLD = 50_000  # vectors per workspace above which an approximate index answers (when usearch imports)
MAX_PASSAGES = 12  # passages of one article with a vector of their own
LEARNED_PER_ARTICLE = 32  # questions an article is known to answer, each a vector of its own
LEARN_REFRESH_SECONDS = 300
QUESTION_CHARS = 400
SHORT_QUERY_WORDS = 3
KEYWORD_NUDGE = 0.01  # a near-tie in cosine similarity for this encoder
TYPO_MIN_SIMILARITY = 0.3
TYPO_MAX_CHARS = 40
EMBED_CHARS = 600  # what of an article the encoder is given (it reads its own first tokens of that)
RESOLVED = (Status.SOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Hit:
    """One found document: an article or a resolved ticket."""

    kind: str
    object_id: int
    title: str
    score: float
    similarity: float = 0.0
    keyword_rank: int | None = None
    semantic_rank: int | None = None
    language: str = ""
    visibility: str = ""
    snippet: list[tuple[str, bool]] = field(default_factory=list)
    resolution: str = ""


def keyword_query(query: str) -> bool:
    """Whether the query reads like search-box keywords rather than a question: at most SHORT_QUERY_WORDS words,
    none of them the stop words a sentence is made with."""
    terms = search_text.query_terms(query)
    return len(terms) <= SHORT_QUERY_WORDS and search_text.any_terms(terms) == terms


def fuse(
    query: str, keyword: Sequence[int], semantic: Sequence[tuple[int, float]], limit: int
) -> list[tuple[int, float]]:
    """One ranking from the two. For what is typed into a search box — a few words and no sentence around them (a
    name, a code, "密码", "refund policy") — the words decide as much as the meaning: reciprocal rank fusion, equal
    weights. For a question, however short ("How do I locate my card?": its stop words make it a sentence), most of
    its words say nothing about the answer, so the meaning leads: documents are ordered by their similarity, and the
    keyword ranking adds a bonus the size of a near-tie (KEYWORD_NUDGE at rank 1, less further down) — it settles
    close calls and lifts a document the encoder missed only when it matches the words well. Documents found by the
    words alone score just below the least similar one the encoder found."""
    if not semantic or keyword_query(query):
        return ranking.reciprocal_rank_fusion([keyword, [pk for pk, _ in semantic]], limit=limit)
    floor = min(sim for _, sim in semantic) - KEYWORD_NUDGE
    scores = dict(semantic)
    for rank, pk in enumerate(keyword, start=1):
        scores[pk] = scores.get(pk, floor) + KEYWORD_NUDGE * (ranking.DEFAULT_K + 1) / (ranking.DEFAULT_K + rank)
    order = sorted(scores, key=lambda pk: (-scores[pk], pk))[:limit]
    return [(pk, scores[pk]) for pk in order]


def article_text(title: str, body: str) -> str:
    """What the encoder reads of an article as a whole: the title, then the beginning of the body."""
    return f"{title}\n{body[:EMBED_CHARS]}".strip()


def article_passages(title: str, body: str) -> list[str]:
    """The texts an article is found by, each its own vector: the article as a whole, then each paragraph or list
    item (the encoder reads only the first tokens of a text, so a long article is read passage by passage)."""
    return [article_text(title, body), *knowledge_text.passages(body, limit=MAX_PASSAGES)]


# ---------------------------------------------------------------- the semantic index of a workspace's articles


@dataclass
class _ArticleIndex:
    """A workspace's article vectors: several per article (its passages and the questions it is known to answer),
    grouped by article (`starts[i]` is the first row of article i), so an article scores its best row."""

    stamp: tuple[Any, ...]
    ids: NDArray[np.int64]
    starts: NDArray[np.int64]
    owners: NDArray[np.int64]
    matrix: NDArray[np.float32]
    language: NDArray[np.str_]
    visibility: NDArray[np.str_]
    status: NDArray[np.str_]
    category: NDArray[np.int64]
    ann: Any = None
    texts: list[str] = field(default_factory=list)  # row i's text: a rebuild encodes only texts not seen here
    learned: tuple[Any, ...] = ()  # the learned sources' stamp the rows were read at
    checked_at: float = 0.0  # when (monotonic) the learned sources were last compared with `learned`

    def _article_scores(self, query: NDArray[np.float32]) -> NDArray[np.float32]:
        if self.ann is None:
            return np.maximum.reduceat(self.matrix @ query, self.starts).astype(np.float32)
        found = self.ann.search(query, min(len(self.owners), CANDIDATES * 16))
        scores = np.full(len(self.ids), -np.inf, dtype=np.float32)
        rows = np.asarray(found.keys, dtype=np.int64)
        np.maximum.at(scores, self.owners[rows], (self.matrix[rows] @ query).astype(np.float32))
        return scores

    def top(self, query: NDArray[np.float32], mask: NDArray[np.bool_], k: int) -> list[tuple[int, float]]:
        """The `k` best (article id, cosine of its best row) among the articles `mask` allows, best first."""
        if not len(self.ids) or not mask.any():
            return []
        scores = np.where(mask, self._article_scores(query), -np.inf)
        k = min(k, int(np.isfinite(scores).sum()))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(self.ids[r]), float(scores[r])) for r in best]


_indexes: dict[int, _ArticleIndex] = {}
_index_lock = threading.Lock()


def _stamp(workspace_id: int) -> tuple[Any, ...]:
    """What the index depends on and every search checks (one statement): the articles (count, newest change) and
    the encoder."""
    row = Article.objects.filter(workspace_id=workspace_id).aggregate(n=Count("pk"), m=Max("updated_at"), s=Max("pk"))
    encoder = embeddings.encoder_key() if embeddings.enabled() else ""
    return (row["n"], row["m"], row["s"], encoder)


def _learned_stamp(workspace_id: int) -> tuple[Any, ...]:
    """What the learned questions depend on (compared at most every LEARN_REFRESH_SECONDS, so a search does not pay
    for it): each source's count and newest change — successful resolutions with an article, articles agents
    inserted, bot answers the customer marked solved."""
    stamp: list[Any] = []
    for rows in (
        Resolution.objects.filter(workspace_id=workspace_id, article__isnull=False, succeeded=True),
        AssistFeedback.objects.filter(workspace_id=workspace_id, kind=AssistKind.ARTICLE, used=True),
        BotAnswer.objects.filter(workspace_id=workspace_id, outcome=BotOutcome.SOLVED, article__isnull=False),
    ):
        row = rows.aggregate(n=Count("pk"), m=Max("updated_at"), s=Max("pk"))
        stamp.extend((row["n"], row["m"], row["s"]))
    return tuple(stamp)


def customer_openings(ticket_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Per ticket, its subject and the customer's first message ("" when the customer wrote none): one statement
    for any number of tickets."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    out: dict[int, tuple[str, str]] = {}
    rows = (
        Ticket.objects.filter(pk__in=ids)
        .order_by("pk", "messages__created_at", "messages__pk")
        .values_list("pk", "subject", "messages__author_type", "messages__body_text")
    )
    for pk, subject, author_type, body in rows:
        if out.get(pk, ("", ""))[1]:
            continue
        first = (body or "").strip() if author_type == AuthorType.CONTACT else ""
        out[pk] = (subject, first)
    return out


def question_texts(ticket_ids: Sequence[int]) -> dict[int, str]:
    """What the customer asked in each ticket, as a search reads it: the subject and the first customer message (its
    first QUESTION_CHARS characters)."""
    return {
        pk: f"{subject}\n{first[:QUESTION_CHARS]}".strip()
        for pk, (subject, first) in customer_openings(ticket_ids).items()
    }


def question_of(ticket: Ticket) -> str:
    """What the customer asked in one ticket (see `question_texts`)."""
    return question_texts([ticket.pk]).get(ticket.pk, ticket.subject)


def first_customer_message(ticket: Ticket) -> str:
    """The customer's first message in the ticket ("" when there is none)."""
    return customer_openings([ticket.pk]).get(ticket.pk, ("", ""))[1]


def learned_questions(workspace_id: int, article_ids: Sequence[int]) -> dict[int, list[str]]:
    """The questions each article is known to answer, newest first, at most LEARNED_PER_ARTICLE: tickets resolved
    with it, tickets where an agent inserted it, and bot answers the customer said solved their question."""
    out: dict[int, list[str]] = {}
    ticket_sources = [
        Resolution.objects.filter(workspace_id=workspace_id, article_id__in=article_ids, succeeded=True)
        .order_by("-resolved_at", "-pk")
        .values_list("article_id", "ticket_id")[: LEARNED_PER_ARTICLE * len(article_ids)],
        AssistFeedback.objects.filter(
            workspace_id=workspace_id, kind=AssistKind.ARTICLE, object_id__in=article_ids, used=True
        )
        .order_by("-created_at", "-pk")
        .values_list("object_id", "ticket_id")[: LEARNED_PER_ARTICLE * len(article_ids)],
    ]
    pairs = [(int(a), int(t)) for source in ticket_sources for a, t in source]
    questions = question_texts([t for _, t in pairs])
    for article_id, ticket_id in pairs:
        text = questions.get(ticket_id, "")
        if text:
            out.setdefault(article_id, []).append(text)
    for article_id, question in (
        BotAnswer.objects.filter(workspace_id=workspace_id, article_id__in=article_ids, outcome=BotOutcome.SOLVED)
        .order_by("-created_at", "-pk")
        .values_list("article_id", "question")[: LEARNED_PER_ARTICLE * len(article_ids)]
    ):
        out.setdefault(int(article_id), []).append(question)
    return {a: list(dict.fromkeys(qs))[:LEARNED_PER_ARTICLE] for a, qs in out.items()}


def _build_index(
    workspace_id: int, stamp: tuple[Any, ...], learned_stamp: tuple[Any, ...], previous: _ArticleIndex | None
) -> _ArticleIndex | None:
    """The workspace's index. The vectors of texts the previous index already held (same encoder) are taken from
    it; only new texts are looked up in the shared cache or encoded."""
    rows = list(
        Article.objects.filter(workspace_id=workspace_id)
        .order_by("pk")
        .values_list("pk", "title", "body", "language", "visibility", "status", "category_id")
    )
    learned = learned_questions(workspace_id, [r[0] for r in rows]) if rows else {}
    texts: list[str] = []
    owners: list[int] = []
    starts: list[int] = []
    for i, (pk, title, body, *_) in enumerate(rows):
        starts.append(len(texts))
        for text in [*article_passages(title, body), *learned.get(pk, [])]:
            texts.append(text)
            owners.append(i)
    known: dict[str, int] = {}
    if previous is not None and previous.stamp[3:] == stamp[3:] and len(previous.texts) == len(previous.matrix):
        known = {text: row for row, text in enumerate(previous.texts)}
    new = list(dict.fromkeys(text for text in texts if text not in known))
    vectors = embeddings.embed_texts(workspace_id=workspace_id, texts=new) if new else None
    if vectors is None and new:
        return None
    dim = previous.matrix.shape[1] if known and previous is not None else 1
    old = previous.matrix if known and previous is not None else np.zeros((0, dim), dtype=np.float32)
    encoded = vectors if vectors is not None else np.zeros((0, dim), dtype=np.float32)
    fresh = {text: row for row, text in enumerate(new)}
    matrix = (
        np.stack([old[known[text]] if text in known else encoded[fresh[text]] for text in texts])
        if texts
        else np.zeros((0, 1), dtype=np.float32)
    )
    index = _ArticleIndex(
        stamp=stamp,
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        starts=np.array(starts, dtype=np.int64),
        owners=np.array(owners, dtype=np.int64),
        matrix=np.ascontiguousarray(matrix, dtype=np.float32),
        language=np.array([r[3] for r in rows], dtype=np.str_),
        visibility=np.array([r[4] for r in rows], dtype=np.str_),
        status=np.array([r[5] for r in rows], dtype=np.str_),
        category=np.array([r[6] or 0 for r in rows], dtype=np.int64),
        texts=texts,
        learned=learned_stamp,
        checked_at=time.monotonic(),
    )
    if len(texts) > ANN_THRESHOLD:
        index.ann = _ann(index.matrix)
    return index


def _ann(matrix: NDArray[np.float32]) -> Any:
    """An HNSW index over the rows (usearch), or None when usearch is not installed (brute force then)."""
    try:
        from usearch.index import Index  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    ann = Index(ndim=matrix.shape[1], metric="ip", dtype="f32")
    ann.add(np.arange(len(matrix), dtype=np.int64), matrix)
    return ann


def article_index(workspace_id: int) -> _ArticleIndex | None:
    """The workspace's article vectors; None when embeddings are off. Rebuilt when the articles changed, or when
    the learned questions' sources changed (looked at every LEARN_REFRESH_SECONDS); a rebuild encodes only new
    texts."""
    if not embeddings.enabled():
        return None
    stamp = _stamp(workspace_id)
    cached = _indexes.get(workspace_id)
    if cached is not None and cached.stamp == stamp and time.monotonic() - cached.checked_at < LEARN_REFRESH_SECONDS:
        return cached
    with _index_lock:
        cached = _indexes.get(workspace_id)
        fresh = cached is not None and cached.stamp == stamp
        if cached is not None and fresh and time.monotonic() - cached.checked_at < LEARN_REFRESH_SECONDS:
            return cached
        learned = _learned_stamp(workspace_id)
        if cached is not None and fresh and cached.learned == learned:
            cached.checked_at = time.monotonic()
            return cached
        started = time.monotonic()
        built = _build_index(workspace_id, stamp, learned, cached)
        if built is not None:
            _indexes[workspace_id] = built
            log.info(
                "knowledge: indexed %d articles of workspace %d in %.2fs",
                len(built.ids),
                workspace_id,
                time.monotonic() - started,
            )
        return built


def forget_indexes() -> None:
    """Drop every cached article index (tests)."""
    _indexes.clear()


def _query_vector(workspace_id: int, query: str) -> NDArray[np.float32] | None:
    vectors = embeddings.embed_texts(workspace_id=workspace_id, texts=[query])
    return None if vectors is None else vectors[0]


# ------------------------------------------------------------------------------------------------ articles


def _article_filter(
    workspace_id: int, *, language: str | None, visibility: str | None, category_id: int | None, published_only: bool
) -> Q:
    q = Q(workspace_id=workspace_id)
    if language:
        q &= Q(language=language)
    if visibility:
        q &= Q(visibility=visibility)
    if category_id is not None:
        q &= Q(category_id=category_id)
    if published_only:
        q &= Q(status=ArticleStatus.PUBLISHED)
    return q


def _index_mask(
    index: _ArticleIndex,
    *,
    language: str | None,
    visibility: str | None,
    category_id: int | None,
    published_only: bool,
) -> NDArray[np.bool_]:
    mask = np.ones(len(index.ids), dtype=bool)
    if language:
        mask &= index.language == language
    if visibility:
        mask &= index.visibility == visibility
    if category_id is not None:
        mask &= index.category == category_id
    if published_only:
        mask &= index.status == ArticleStatus.PUBLISHED
    return mask


def keyword_ranking(kind: str, workspace_id: int, query: str, limit: int) -> list[int]:
    """The documents with every content word of the query first (bm25 order), then those with any of them: a
    short query keeps the search box's precision, a question in full sentences still finds the documents that share
    its rarer words. Stop words and single letters are left out of both passes ("Is there a limit for top-ups?"
    asks for limit, top and ups): a document need not say "a", and the prefix "a" matches half the index."""
    content = " ".join(search_text.any_terms(search_text.query_terms(query)))
    every = search_selectors.ranked_ids(kind=kind, workspace_id=workspace_id, query=content, limit=limit)
    if len(every) >= limit:
        return every
    seen = set(every)
    some = search_selectors.ranked_ids(kind=kind, workspace_id=workspace_id, query=query, limit=limit, any_term=True)
    return every + [pk for pk in some if pk not in seen]


def _keyword_articles(workspace_id: int, query: str, allowed: Q) -> list[int]:
    ranked = keyword_ranking(ARTICLE_KIND, workspace_id, query, CANDIDATES * 4)
    if not ranked:
        return []
    keep = set(Article.objects.filter(allowed, pk__in=ranked).values_list("pk", flat=True))
    return [pk for pk in ranked if pk in keep][:CANDIDATES]


def _typo_articles(query: str, allowed: Q) -> list[int]:
    """Titles close to the query by character trigrams, best first (the fallback when no word matched)."""
    scored = [
        (knowledge_text.word_similarity(query, title), pk)
        for pk, title in Article.objects.filter(allowed).values_list("pk", "title")[:20_000]
    ]
    scored = [(s, pk) for s, pk in scored if s >= TYPO_MIN_SIMILARITY]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [pk for _, pk in scored[:CANDIDATES]]


@dataclass(frozen=True)
class ArticleFeedback:
    """What agents did with an article the assist panel showed: inserted it, marked it useful or not useful."""

    used: int
    useful: int
    not_useful: int
    last_used: Any  # datetime of the newest insertion, or None


def article_feedback(workspace_id: int, article_ids: Sequence[int] | None = None) -> dict[int, ArticleFeedback]:
    """Per article with any feedback (of `article_ids`, or every article), the counts: one statement. The search's
    boost and the review sweep both read it."""
    rows = AssistFeedback.objects.filter(workspace_id=workspace_id, kind=AssistKind.ARTICLE)
    if article_ids is not None:
        rows = rows.filter(object_id__in=list(article_ids))
    counted = rows.values("object_id").annotate(
        n_used=Count("pk", filter=Q(used=True)),
        n_useful=Count("pk", filter=Q(useful=True)),
        n_not_useful=Count("pk", filter=Q(useful=False)),
        last_used=Max("created_at", filter=Q(used=True)),
    )
    return {
        r["object_id"]: ArticleFeedback(r["n_used"], r["n_useful"], r["n_not_useful"], r["last_used"]) for r in counted
    }


def _boosts(workspace_id: int, ids: Sequence[int]) -> dict[int, float]:
    return {
        article_id: knowledge_text.feedback_boost(used=f.used, useful=f.useful, not_useful=f.not_useful)
        for article_id, f in article_feedback(workspace_id, ids).items()
    }


def _keyword_side(workspace_id: int, query: str, allowed: Q) -> list[int]:
    keyword = _keyword_articles(workspace_id, query, allowed)
    if not keyword and len(query) <= TYPO_MAX_CHARS:  # a mistyped word or two in the search box
        keyword = _typo_articles(query, allowed)
    return keyword


def _semantic_side(workspace_id: int, query: str, filters: dict[str, Any]) -> list[tuple[int, float]]:
    index = article_index(workspace_id)
    vector = _query_vector(workspace_id, query) if index is not None else None
    if index is None or vector is None:
        return []
    return index.top(vector, _index_mask(index, **filters), CANDIDATES)


def search_articles(
    *,
    workspace_id: int,
    query: str,
    language: str | None = None,
    visibility: str | None = None,
    category_id: int | None = None,
    published_only: bool = True,
    limit: int = 10,
    mode: str = "hybrid",
    learn: bool = True,
) -> list[Hit]:
    """The articles that answer `query`, best first, with highlighted snippets. `mode` keyword / semantic / hybrid
    (the benchmark compares them); `learn` applies the desk's feedback boost."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    query = query.strip()
    if not query:
        return []
    allowed = _article_filter(
        workspace_id,
        language=language,
        visibility=visibility,
        category_id=category_id,
        published_only=published_only,
    )
    filters = {
        "language": language, "visibility": visibility, "category_id": category_id, "published_only": published_only
    }  # fmt: skip
    keyword = _keyword_side(workspace_id, query, allowed) if mode in ("hybrid", "keyword") else []
    semantic = _semantic_side(workspace_id, query, filters) if mode in ("hybrid", "semantic") else []
    similarity = dict(semantic)
    fused = fuse(query, keyword, semantic, max(limit * 3, limit))
    if learn and fused:
        boosts = _boosts(workspace_id, [pk for pk, _ in fused])
        fused = sorted(fused, key=lambda item: -item[1] * boosts.get(item[0], 1.0))
    fused = fused[:limit]
    if not fused:
        return []
    rows = {
        a.pk: a
        for a in Article.objects.filter(pk__in=[pk for pk, _ in fused]).only(
            "pk", "title", "body", "language", "visibility"
        )
    }
    terms = search_text.query_terms(query)
    keyword_rank = {pk: i + 1 for i, pk in enumerate(keyword)}
    semantic_rank = {pk: i + 1 for i, (pk, _) in enumerate(semantic)}
    hits = []
    for pk, score in fused:
        article = rows.get(pk)
        if article is None:
            continue
        hits.append(
            Hit(
                kind=ARTICLE_KIND,
                object_id=pk,
                title=article.title,
                score=score,
                similarity=similarity.get(pk, 0.0),
                keyword_rank=keyword_rank.get(pk),
                semantic_rank=semantic_rank.get(pk),
                language=article.language,
                visibility=article.visibility,
                snippet=knowledge_text.snippet(placeholders.render(article.body, {}), terms),
            )
        )
    return hits


def margin(hits: Sequence[Hit]) -> float:
    """How far the best hit's similarity stands above the next one's (0 with fewer than two hits: a lone hit is
    no evidence of a clear winner)."""
    sims = sorted((h.similarity for h in hits), reverse=True)
    return sims[0] - sims[1] if len(sims) > 1 else 0.0


# ---------------------------------------------------------------------------------------- resolved tickets


def similar_tickets(
    *, workspace_id: int, query: str, exclude_ticket_id: int | None = None, limit: int = 5
) -> list[Hit]:
    """Resolved tickets like the query (its keyword matches, re-ranked with the recent resolved tickets by their
    vectors), each with what resolved it (the recorded solution, else the last public agent reply)."""
    query = query.strip()
    if not query:
        return []
    resolved = Ticket.objects.filter(workspace_id=workspace_id, status__in=RESOLVED, merged_into__isnull=True)
    if exclude_ticket_id is not None:
        resolved = resolved.exclude(pk=exclude_ticket_id)
    ranked = keyword_ranking(TICKET_KIND, workspace_id, query, CANDIDATES * 4)
    keep = set(resolved.filter(pk__in=ranked).values_list("pk", flat=True)) if ranked else set()
    keyword = [pk for pk in ranked if pk in keep][:CANDIDATES]
    semantic: list[tuple[int, float]] = []
    vector = _query_vector(workspace_id, query) if embeddings.enabled() else None
    if vector is not None:
        pool = set(keyword) | set(resolved.order_by("-updated_at").values_list("pk", flat=True)[:2000])
        vectors = embeddings.embed_tickets(ticket_ids=pool)
        if vectors:
            ids = list(vectors)
            sims = np.stack([vectors[i] for i in ids]) @ vector
            order = np.argsort(-sims, kind="stable")[:CANDIDATES]
            semantic = [(ids[int(r)], float(sims[int(r)])) for r in order]
    similarity = dict(semantic)
    fused = fuse(query, keyword, semantic, limit)
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=[pk for pk, _ in fused]).only("pk", "subject")}
    solutions = dict(
        Resolution.objects.filter(ticket_id__in=list(tickets)).exclude(solution="").values_list("ticket_id", "solution")
    )
    missing = [pk for pk in tickets if pk not in solutions]
    if missing:
        solutions.update(last_agent_replies(missing))
    terms = search_text.query_terms(query)
    out = []
    for pk, score in fused:
        ticket = tickets.get(pk)
        if ticket is None:
            continue
        solution = solutions.get(pk, "")
        out.append(
            Hit(
                kind=TICKET_KIND,
                object_id=pk,
                title=ticket.subject,
                score=score,
                similarity=similarity.get(pk, 0.0),
                keyword_rank=(keyword.index(pk) + 1) if pk in keyword else None,
                semantic_rank=next((i + 1 for i, (x, _) in enumerate(semantic) if x == pk), None),
                snippet=knowledge_text.snippet(solution, terms, width=200),
                resolution=solution,
            )
        )
    return out
