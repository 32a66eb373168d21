"""Accuracy, calibration and abstention metrics of a classifier's probabilities (pure).

`evaluate` is what `pivotdesk ai eval`, the training report and the benchmark print: accuracy, macro-F1, expected
calibration error, per-class precision / recall / F1 and the confusion matrix; `choose_threshold` picks the
abstention threshold from out-of-fold confidences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["choose_threshold", "evaluate", "expected_calibration_error"]


def expected_calibration_error(
    confidence: Sequence[float] | NDArray[Any], correct: Sequence[bool] | NDArray[Any], bins: int = 10
) -> float:
    """ECE: the mean |accuracy - confidence| over equal-width confidence bins (0, 0.1], …, (0.9, 1], weighted by
    how many predictions fall in each bin."""
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    if len(conf) == 0:
        return 0.0
    which = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() / len(conf) * abs(ok[mask].mean() - conf[mask].mean())
    return float(total)


def choose_threshold(
    confidence: NDArray[np.float64], correct: NDArray[np.bool_], *, target_precision: float = 0.95
) -> float:
    """The lowest confidence at which the predictions kept (confidence ≥ it) are right at least `target_precision`
    of the time; when no cut reaches it, the cut with the best precision among those keeping ≥ 5 %."""
    if len(confidence) == 0:
        return 0.5
    order = np.argsort(-confidence)
    conf = confidence[order]
    precision = np.cumsum(correct[order]) / np.arange(1, len(conf) + 1)
    # Precision of "keep everything at or above conf[i]": scan from the most confident down.
    ok = np.nonzero(precision >= target_precision)[0]
    if len(ok):
        return float(conf[ok.max()])
    floor = max(1, len(conf) // 20)
    best = int(np.argmax(precision[floor - 1 :])) + floor - 1
    return float(conf[best])


def evaluate(
    y_true: Sequence[str],
    proba: NDArray[np.float64],
    classes: Sequence[str],
    *,
    threshold: float | None = None,
    out_of_scope: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1, ECE, per-class precision/recall/F1/support and the confusion matrix (rows: true,
    columns: predicted, in `labels` order); with a threshold also coverage and accuracy of what was kept."""
    labels = sorted(set(classes) | set(y_true))
    pos = {c: i for i, c in enumerate(labels)}
    predicted = [classes[i] for i in np.argmax(proba, axis=1)]
    confidence = proba.max(axis=1)
    correct = np.array([p == t for p, t in zip(predicted, y_true, strict=True)], dtype=bool)
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true, predicted, strict=True):
        confusion[pos[t], pos[p]] += 1
    per_class: dict[str, dict[str, float]] = {}
    f1s = []
    for c, i in pos.items():
        tp = int(confusion[i, i])
        predicted_n = int(confusion[:, i].sum())
        support = int(confusion[i].sum())
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
        if support:
            f1s.append(f1)
    result: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(correct.mean()) if len(correct) else 0.0,
        "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
        "ece": expected_calibration_error(confidence, correct),
        "per_class": per_class,
        "labels": labels,
        "confusion": confusion.tolist(),
    }
    if threshold is not None:
        kept = confidence >= threshold
        if out_of_scope is not None:
            kept &= ~np.asarray(out_of_scope, dtype=bool)
        result["threshold"] = threshold
        result["coverage"] = float(kept.mean()) if len(kept) else 0.0
        result["accuracy_kept"] = float(correct[kept].mean()) if kept.any() else 0.0
    return result
