"""Root cause from context: which code of the workspace's tree ("物流 › 偏远地区配送延迟") explains a ticket, learnt
from the ticket's words AND the facts the enrichment connectors returned about its order, shipment or customer.

"物流太慢" says nothing about why; the order's last logistics node does. So a ticket becomes one set of features:

- `fact:<path>=<value>` for every fact, flattened from the connectors' nested JSON (`fact:order.last_node=喀什营业部`,
  `fact:order.tracking.carrier=顺丰`); numbers are bucketed by powers of two (`fact:customer.complaints_90d=[2,4)`)
  so 5 and 6 complaints are the same fact; dates and long identifiers are left out (they never recur), and so is
  free text longer than a value (the text side reads words);
- `w:<word>` for every word of the text (jieba for Chinese, the same cut as search).

The classifier is a binary multinomial naive Bayes (each feature counted once per ticket) with Laplace smoothing:
its posterior is a product of counted probabilities, which the tests recompute directly, and each feature's share
of the decision is a plain log-ratio, which is what makes "which facts decided" an exact statement rather than a
story. Naive Bayes double-counts correlated words and is overconfident, so the log-joint is divided by a temperature
fitted on exact leave-one-out predictions (one pass, no refit) to minimise their log loss; it only ever softens
(T >= 1): a small training set that happens to separate perfectly must not make the model sure of everything.

The model abstains (answers no label) when the top posterior is under the threshold, when the runner-up is within
the margin, when it has seen too few tickets with the top label, or when it knows fewer than two labels.

Pure Python + numpy: no Django here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from pivotdesk.search.domain import text as search_text

Features = tuple[str, ...]
Sample = tuple[Features, str]

FACT_PREFIX = "fact:"
WORD_PREFIX = "w:"
MAX_TEXT_CHARS = 20_000
MAX_VALUE_CHARS = 40  # a longer string is prose, not a categorical fact
MAX_DEPTH = 6
MAX_LIST_ITEMS = 20
MAX_REASONS = 5

DEFAULT_THRESHOLD = 0.6
DEFAULT_MIN_MARGIN = 0.15
DEFAULT_MIN_SAMPLES = 3
DEFAULT_ALPHA = 1.0
MIN_CALIBRATION_SAMPLES = 10
# Temperatures tried by the calibration: 1 (none) up to 32, a quarter-octave apart.
TEMPERATURES = tuple(2 ** (k / 4) for k in range(21))

_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_NUMBER = re.compile(r"^-?\d{1,9}(\.\d+)?$")
_LONG_DIGITS = re.compile(r"\d{5,}")
_KEY_SPACE = re.compile(r"\s+")


class Abstain:
    """Why a prediction answers no label (stable codes; the service words them)."""

    UNTRAINED = "untrained"
    ONE_LABEL = "one_label"
    FEW_SAMPLES = "few_samples"
    LOW_CONFIDENCE = "low_confidence"
    SMALL_MARGIN = "small_margin"


# ---- features -----------------------------------------------------------------------------------------------------


def _norm(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).lower().split())


def number_bucket(value: float) -> str | None:
    """The power-of-two bucket of a number: "0", "(0,1)", "[1,2)", "[2,4)", "[4,8)", …, with "-" for negatives;
    None for NaN and infinities."""
    if math.isnan(value) or math.isinf(value):
        return None
    if value == 0:
        return "0"
    sign, size = ("-" if value < 0 else ""), abs(value)
    if size < 1:
        return f"{sign}(0,1)"
    low = 2 ** math.floor(math.log2(size))
    return f"{sign}[{low},{low * 2})"


def _scalar(value: object) -> str | None:
    """The categorical form of one scalar fact value, or None when it is no fact worth learning from."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_bucket(float(value))
    if not isinstance(value, str):
        return None
    text = _norm(value)
    if not text or len(text) > MAX_VALUE_CHARS or _DATE.match(text):
        return None
    if _NUMBER.match(text):
        return number_bucket(float(text))
    return None if _LONG_DIGITS.search(text) else text


def flatten_facts(facts: object, path: str = "", depth: int = 0) -> Iterator[str]:
    """`path=value` for every scalar of nested JSON (lists repeat their path: a bag of values)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(facts, Mapping):
        for key in sorted(facts, key=str):
            name = _KEY_SPACE.sub("_", _norm(str(key)))
            if name:
                yield from flatten_facts(facts[key], f"{path}.{name}" if path else name, depth + 1)
    elif isinstance(facts, list | tuple):
        for item in list(facts)[:MAX_LIST_ITEMS]:
            yield from flatten_facts(item, path, depth + 1)
    elif path:
        value = _scalar(facts)
        if value is not None:
            yield f"{path}={value}"


def text_words(text: str) -> list[str]:
    """The distinct words of a text, in order (identifiers such as order numbers left out)."""
    seen: dict[str, None] = {}
    for word in search_text.words(text[:MAX_TEXT_CHARS]):
        if not _LONG_DIGITS.search(word):
            seen.setdefault(word, None)
    return list(seen)


def featurize(text: str, facts: Mapping[str, object]) -> Features:
    """A ticket's features: its facts (sorted) then its words (in order), each once."""
    fact_features = sorted({FACT_PREFIX + f for f in flatten_facts(facts)})
    return (*fact_features, *(WORD_PREFIX + w for w in text_words(text)))


def is_fact(feature: str) -> bool:
    return feature.startswith(FACT_PREFIX)


# ---- the classifier -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """What the model says about one ticket. `label` is None when it abstains (`abstain_reason` says why); `best`
    and `runner_up` are its two most likely labels either way. `reasons` are the features that decided between
    them, facts first, each with its contribution to the log-odds (after the temperature)."""

    label: str | None
    confidence: float
    abstained: bool
    reasons: list[tuple[str, float]]
    best: str | None = None
    runner_up: str | None = None
    abstain_reason: str = ""
    posteriors: tuple[tuple[str, float], ...] = ()


@dataclass
class RootCauseModel:
    """Binary multinomial naive Bayes over feature sets, tempered and abstaining (see the module docstring)."""

    threshold: float = DEFAULT_THRESHOLD
    min_margin: float = DEFAULT_MIN_MARGIN
    min_samples: int = DEFAULT_MIN_SAMPLES
    alpha: float = DEFAULT_ALPHA
    calibrate: bool = True
    temperature: float = 1.0
    labels: list[str] = field(default_factory=list)
    vocabulary: dict[str, int] = field(default_factory=dict)
    counts: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    class_samples: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    _rows: list[tuple[list[int], int]] = field(default_factory=list, repr=False)

    @property
    def n(self) -> int:
        return int(self.class_samples.sum())

    def fit(self, samples: Iterable[Sample]) -> RootCauseModel:
        """Count the samples' features per label (each feature once per sample), then fit the temperature."""
        rows = [(tuple(dict.fromkeys(features)), label) for features, label in samples]
        self.labels = sorted({label for _, label in rows})
        self.vocabulary = {f: i for i, f in enumerate(sorted({f for features, _ in rows for f in features}))}
        index = {label: k for k, label in enumerate(self.labels)}
        self.counts = np.zeros((len(self.labels), len(self.vocabulary)))
        self.class_samples = np.zeros(len(self.labels))
        self._rows = []
        for features, label in rows:
            k, cols = index[label], [self.vocabulary[f] for f in features]
            self.counts[k, cols] += 1.0
            self.class_samples[k] += 1.0
            self._rows.append((cols, k))
        self.temperature = 1.0
        if self.calibrate and len(rows) >= MIN_CALIBRATION_SAMPLES and len(self.labels) >= 2:
            self.temperature = self._fit_temperature()
        return self

    # -- probabilities

    def _log_theta(self, counts: NDArray[np.float64], cols: list[int]) -> NDArray[np.float64]:
        """log P(feature | label) for the given columns, per label (rows of `counts`)."""
        totals = counts.sum(axis=1, keepdims=True) + self.alpha * len(self.vocabulary)
        return np.asarray(np.log((counts[:, cols] + self.alpha) / totals), dtype=np.float64)

    def _log_prior(self, class_samples: NDArray[np.float64]) -> NDArray[np.float64]:
        smoothed = class_samples + self.alpha
        return np.asarray(np.log(smoothed / smoothed.sum()), dtype=np.float64)

    def known(self, features: Sequence[str]) -> list[str]:
        """The distinct features the model has seen (others carry no evidence)."""
        return [f for f in dict.fromkeys(features) if f in self.vocabulary]

    def log_joint(self, features: Sequence[str]) -> NDArray[np.float64]:
        """log P(label) + Σ log P(feature | label) over the known features, per label (untempered)."""
        cols = [self.vocabulary[f] for f in self.known(features)]
        return self._log_prior(self.class_samples) + self._log_theta(self.counts, cols).sum(axis=1)

    def posterior(self, features: Sequence[str]) -> NDArray[np.float64]:
        """The tempered posterior over `labels`."""
        return _softmax(self.log_joint(features) / self.temperature)

    # -- calibration

    def loo_log_joint(self, i: int) -> NDArray[np.float64]:
        """The log-joint of training sample `i` under the model fitted without it (exact, without refitting; the
        vocabulary is kept, so a feature only this sample had still counts with zero observations)."""
        cols, k = self._rows[i]
        counts = self.counts.copy()
        counts[k, cols] -= 1.0
        class_samples = self.class_samples.copy()
        class_samples[k] -= 1.0
        return self._log_prior(class_samples) + self._log_theta(counts, cols).sum(axis=1)

    def _fit_temperature(self) -> float:
        joints = np.array([self.loo_log_joint(i) for i in range(len(self._rows))])
        truth = np.array([k for _, k in self._rows])
        best, best_loss = 1.0, math.inf
        for t in TEMPERATURES:
            scaled = joints / t
            top = scaled.max(axis=1, keepdims=True)
            log_norm = top[:, 0] + np.log(np.exp(scaled - top).sum(axis=1))
            loss = float((log_norm - scaled[np.arange(len(truth)), truth]).mean())
            if loss < best_loss - 1e-12:
                best, best_loss = t, loss
        return best

    # -- prediction

    def predict(self, features: Sequence[str]) -> Prediction:
        """The label, or an abstention, with the features that decided."""
        if not self.labels:
            return Prediction(None, 0.0, True, [], abstain_reason=Abstain.UNTRAINED)
        post = self.posterior(features)
        order = sorted(range(len(self.labels)), key=lambda k: (-post[k], k))
        top = order[0]
        second = order[1] if len(order) > 1 else None
        confidence = float(post[top])
        posteriors = tuple((self.labels[k], float(post[k])) for k in order)
        reasons = self.deciding(features, top, second) if second is not None else []
        why = self._abstain_reason(post, top, second)
        return Prediction(
            label=None if why else self.labels[top],
            confidence=confidence,
            abstained=bool(why),
            reasons=reasons,
            best=self.labels[top],
            runner_up=self.labels[second] if second is not None else None,
            abstain_reason=why,
            posteriors=posteriors,
        )

    def _abstain_reason(self, post: NDArray[np.float64], top: int, second: int | None) -> str:
        if second is None:
            return Abstain.ONE_LABEL
        if self.class_samples[top] < self.min_samples:
            return Abstain.FEW_SAMPLES
        if post[top] < self.threshold:
            return Abstain.LOW_CONFIDENCE
        if post[top] - post[second] < self.min_margin:
            return Abstain.SMALL_MARGIN
        return ""

    def contributions(self, features: Sequence[str], top: int, second: int) -> tuple[float, list[tuple[str, float]]]:
        """The prior's and each known feature's share of the tempered log-odds of `top` over `second`."""
        known = self.known(features)
        theta = self._log_theta(self.counts, [self.vocabulary[f] for f in known])
        prior = self._log_prior(self.class_samples)
        t = self.temperature
        shares = [(f, float(theta[top, j] - theta[second, j]) / t) for j, f in enumerate(known)]
        return float(prior[top] - prior[second]) / t, shares

    def deciding(self, features: Sequence[str], top: int, second: int) -> list[tuple[str, float]]:
        """The fewest features, strongest first, that keep `top` ahead of `second` on their own against the prior
        and everything that spoke against it (with any as strong as the weakest of them); shown facts first."""
        prior, shares = self.contributions(features, top, second)
        against = prior + sum(c for _, c in shares if c < 0)
        chosen: list[tuple[str, float]] = []
        for feature, share in sorted((s for s in shares if s[1] > 0), key=lambda s: (-s[1], s[0])):
            # Enough once ahead, but a feature as strong as the last one taken decided just as much.
            if against > 0 and not math.isclose(share, chosen[-1][1] if chosen else math.inf, rel_tol=1e-9):
                break
            chosen.append((feature, share))
            against += share
        chosen.sort(key=lambda s: (not is_fact(s[0]), -s[1], s[0]))
        return chosen[:MAX_REASONS]


def _softmax(values: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = np.exp(values - values.max())
    return np.asarray(shifted / shifted.sum(), dtype=np.float64)


def fit(
    samples: Iterable[Sample],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_margin: float = DEFAULT_MIN_MARGIN,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    alpha: float = DEFAULT_ALPHA,
    calibrate: bool = True,
) -> RootCauseModel:
    """A fitted model."""
    model = RootCauseModel(
        threshold=threshold, min_margin=min_margin, min_samples=min_samples, alpha=alpha, calibrate=calibrate
    )
    return model.fit(samples)
