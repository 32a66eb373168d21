"""The embedding neighbour vote (pure): a k-nearest-neighbour class vote over stored training embeddings, and the
blend of its log-probabilities with a linear model's calibrated ones.

The training embeddings are centred on their mean (multilingual-e5 vectors share a large common component, so raw
cosines all sit near 0.8) and stored as float16; a neighbour's vote is exp((cosine - 1) / temperature).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from pivotdesk.ai.domain.classify import ClassifierConfig

__all__ = ["NeighbourVote", "blend", "centred", "similarities", "softmax"]


def softmax(scores: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    """Row-wise softmax of `scores / temperature`."""
    z = scores / max(temperature, 1e-6)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass
class NeighbourVote:
    """k-nearest-neighbour class vote over stored training embeddings (centred on their mean, unit length)."""

    mean: NDArray[np.float32]
    reference: NDArray[np.float16]  # one row per kept training text
    labels: NDArray[np.int64]
    weights: NDArray[np.float32]
    n_classes: int
    k: int
    temperature: float

    def _reference32(self) -> NDArray[np.float32]:
        """The references as float32, converted once per process (stored as float16: half the artifact)."""
        cached: NDArray[np.float32] | None = self.__dict__.get("_float32")
        if cached is None:
            cached = self.__dict__["_float32"] = self.reference.astype(np.float32)
        return cached

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_float32"}

    @classmethod
    def fit(
        cls,
        dense: NDArray[np.float32],
        y: NDArray[np.int64],
        *,
        w: NDArray[np.float64] | None,
        n_classes: int,
        config: ClassifierConfig,
        rng: np.random.Generator,
    ) -> NeighbourVote:
        keep = np.arange(len(y))
        if len(keep) > config.knn_reference:
            keep = np.sort(rng.choice(keep, config.knn_reference, replace=False))
        mean = np.asarray(dense[keep].mean(axis=0), dtype=np.float32)
        return cls(
            mean=mean,
            reference=centred(dense[keep], mean).astype(np.float16),
            labels=y[keep],
            weights=np.ones(len(keep), np.float32) if w is None else w[keep].astype(np.float32),
            n_classes=n_classes,
            k=config.knn_k,
            temperature=config.knn_temperature,
        )

    def log_proba(self, dense: NDArray[np.float32]) -> NDArray[np.float64]:
        """Log of the vote share of each class (floored, so a class no neighbour has is unlikely, not impossible)."""
        reference = self._reference32()
        k = min(self.k, len(reference))
        out = np.zeros((len(dense), self.n_classes))
        for start in range(0, len(dense), 1000):
            sims = similarities(centred(dense[start : start + 1000], self.mean), reference)
            near = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < len(reference) else np.argsort(-sims, 1)
            votes = np.exp((np.take_along_axis(sims, near, axis=1) - 1.0) / self.temperature) * self.weights[near]
            block = np.zeros((len(votes), self.n_classes))
            np.add.at(
                block, (np.repeat(np.arange(len(votes)), near.shape[1]), self.labels[near].ravel()), votes.ravel()
            )
            out[start : start + len(votes)] = block
        share = out / np.clip(out.sum(axis=1, keepdims=True), 1e-300, None)
        result: NDArray[np.float64] = np.log(np.clip(share, 1e-4, None))
        return result


_BLAS: list[Any] = []  # a threadpoolctl controller, made on first use (it inspects the loaded libraries)


def similarities(queries: NDArray[np.float32], reference: NDArray[np.float32]) -> NDArray[np.float32]:
    """queries × referenceᵀ. For a ticket's one or two rows, with BLAS on one thread: a threaded matrix-vector
    product on two busy cores costs milliseconds waiting for a sibling thread instead of 0.1 ms."""
    if len(queries) > 16:
        out: NDArray[np.float32] = queries @ reference.T
        return out
    if not _BLAS:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

        _BLAS.append(ThreadpoolController())
    with _BLAS[0].limit(limits=1, user_api="blas"):
        out = queries @ reference.T
    return out


def centred(dense: NDArray[np.float32], mean: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each row minus `mean`, scaled to unit length (so a dot product is a centred cosine)."""
    x = np.asarray(dense, dtype=np.float32) - mean
    out: NDArray[np.float32] = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
    return out


def _log_softmax(scores: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    return np.log(np.clip(softmax(scores, temperature), 1e-300, None))


def blend(
    linear: NDArray[np.float64], linear_temperature: float, knn: NDArray[np.float64], weight: float
) -> NDArray[np.float64]:
    """The weighted mean of the calibrated linear log-probabilities and the neighbour vote's."""
    out: NDArray[np.float64] = (1 - weight) * _log_softmax(linear, linear_temperature) + weight * knn
    return out
