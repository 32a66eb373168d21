"""The out-of-scope detector: tail probabilities and their combination against brute force, the operating point on
fresh in-domain texts, far-away texts flagged, and models from before the detector still predicting."""

from __future__ import annotations

import io
import math
import random

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.ai.domain import classify, scope
from pivotdesk.ai.tests.synthetic import dataset

scores_strategy = st.lists(
    st.floats(min_value=-5, max_value=5, allow_nan=False).map(lambda v: round(v, 1)),  # rounded: many ties
    min_size=1,
    max_size=40,
)


# --- tail probabilities and their combination, against brute force ----------------------------------------------


@given(reference=scores_strategy, fresh=scores_strategy)
def test_a_fresh_score_s_tail_probability_counts_the_reference_scores_at_least_as_high(reference, fresh):
    p = scope.tail_p_values(np.sort(np.array(reference)), np.array(fresh))
    brute = [(1 + sum(r >= s for r in reference)) / (len(reference) + 1) for s in fresh]
    assert np.allclose(p, brute)


@given(scores=scores_strategy)
def test_a_reference_score_s_tail_probability_is_the_one_it_would_get_against_the_others(scores):
    p = scope.in_sample_p_values(np.array(scores))
    n = len(scores)
    brute = [(1 + sum(scores[j] >= s for j in range(n) if j != i)) / (n + 1) for i, s in enumerate(scores)]
    assert np.allclose(p, brute)


@given(
    rows=st.lists(
        st.lists(st.floats(min_value=1e-6, max_value=1.0, allow_nan=False), min_size=3, max_size=3),
        min_size=1,
        max_size=20,
    )
)
def test_the_combination_is_the_mean_of_minus_log_p(rows):
    combined = scope.combine(np.array(rows))
    assert np.allclose(combined, [sum(-math.log(p) for p in row) / len(row) for row in rows])


@given(reference=scores_strategy, rate=st.floats(min_value=0.0, max_value=1.0))
def test_the_flag_threshold_flags_exactly_the_scores_whose_tail_probability_is_within_the_rate(reference, rate):
    ordered = np.sort(np.array(reference))
    threshold = scope.flag_threshold(ordered, rate)
    candidates = np.array(sorted({*reference, *(r + 0.05 for r in reference), *(r - 0.05 for r in reference)}))
    p = scope.tail_p_values(ordered, candidates)
    assert np.array_equal(candidates >= threshold, p <= rate + 1e-12)


@settings(max_examples=50)
@given(
    n=st.integers(min_value=5, max_value=60),
    signals=st.integers(min_value=1, max_value=3),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_the_detector_s_p_value_is_brute_force_fisher_against_the_training_combinations(n, signals, seed):
    rng = np.random.default_rng(seed)
    oof = {f"s{j}": np.round(rng.normal(size=n), 1) for j in range(signals)}
    detector = scope.ScopeDetector.fit(oof)
    fresh = {name: np.round(rng.normal(size=7), 1) for name in oof}

    def p_of(value: float, column: list[float], exclude: int | None = None) -> float:
        others = [v for j, v in enumerate(column) if j != exclude]
        return (1 + sum(v >= value for v in others)) / (len(others) + 2 if exclude is not None else len(others) + 1)

    def fisher(ps: list[float]) -> float:
        return sum(-math.log(p) for p in ps) / len(ps)

    columns = {name: list(values) for name, values in oof.items()}
    # Each training text's combined score uses its p-values against the other training texts (n + 1 in total).
    training = [fisher([p_of(columns[s][i], columns[s], exclude=i) for s in oof]) for i in range(n)]
    for k in range(7):
        c = fisher([p_of(float(fresh[s][k]), columns[s]) for s in oof])
        expected = (1 + sum(t >= c - 1e-9 for t in training)) / (n + 1)  # equal in exact arithmetic: a tie
        assert detector.p_values({s: fresh[s][k : k + 1] for s in oof})[0] == pytest.approx(expected)


def test_in_domain_scores_are_flagged_at_the_configured_rate_when_exchangeable():
    rng = np.random.default_rng(3)
    detector = scope.ScopeDetector.fit({"a": rng.normal(size=3000), "b": rng.exponential(size=3000)})
    fresh = {"a": rng.normal(size=20_000), "b": rng.exponential(size=20_000)}
    p = detector.p_values(fresh)
    for rate in (0.01, 0.03, 0.1):
        assert abs(detector.flags(p, rate).mean() - rate) < 0.005


# --- the detector inside the classifier -------------------------------------------------------------------------


def clusters(n_per_class: int, seed: int, *, centres: np.ndarray, spread: float = 1.0):
    """Gaussian clusters in 16 dimensions, one per class, with texts of class words and random filler."""
    rng = np.random.default_rng(seed)
    words = random.Random(seed)
    filler = ["please", "help", "today", "again", "now", "thanks", "urgent", "still", "my", "the"]
    texts, labels, rows = [], [], []
    for c, centre in enumerate(centres):
        for _ in range(n_per_class):
            rows.append(centre + rng.normal(0.0, spread, len(centre)))
            labels.append(f"c{c}")
            own = [f"topic{c}word{words.randrange(4)}" for _ in range(2)]
            texts.append(" ".join(own + [words.choice(filler) for _ in range(4)]))
    return texts, labels, np.asarray(rows, dtype=np.float32)


CENTRES = np.random.default_rng(0).normal(0.0, 3.0, (4, 16))


@pytest.fixture(scope="module")
def embedder():
    def never(texts):
        raise AssertionError("the precomputed embeddings should have been used")

    classify.EMBEDDERS["scope-test"] = never
    yield "scope-test"
    del classify.EMBEDDERS["scope-test"]


@pytest.fixture(scope="module")
def dense_model(embedder):
    texts, labels, dense = clusters(150, seed=1, centres=CENTRES)
    config = classify.ClassifierConfig(embedding=embedder, c_grid=(), knn_weights=())
    return classify.train(texts, labels, config=config, dense=dense)


@pytest.fixture(scope="module")
def text_model():
    texts, labels = dataset(60)
    return classify.train(texts, labels, config=classify.ClassifierConfig(c_grid=()))


def test_with_embeddings_the_flag_rate_on_fresh_in_domain_texts_holds(dense_model):
    # Given a model trained with embeddings (detector: confidence and kNN distance)
    assert dense_model.scope is not None and dense_model.scope.signals == ("confidence", "knn")
    # When fresh texts of the same classes arrive
    texts, _, dense = clusters(500, seed=7, centres=CENTRES)
    for rate in (0.03, 0.05, 0.10):
        decisions = dense_model.predict(texts, dense=dense, flag_rate=rate)
        # Then about the configured share of them is flagged
        flagged = np.mean([d.out_of_scope for d in decisions])
        assert abs(flagged - rate) <= 0.02, (rate, flagged)


def test_with_embeddings_a_far_away_cluster_is_flagged(dense_model):
    far = np.random.default_rng(5).normal(0.0, 3.0, (1, 16)) + 12.0
    texts, _, dense = clusters(200, seed=8, centres=far)
    decisions = dense_model.predict(texts, dense=dense, flag_rate=0.03)
    recall = np.mean([d.out_of_scope for d in decisions])
    assert recall > 0.9
    assert all(d.label is None for d in decisions if d.out_of_scope)
    assert min(d.scope_score for d in decisions if d.out_of_scope) >= 0.97


def test_without_embeddings_the_flag_rate_on_fresh_in_domain_texts_holds(text_model):
    assert text_model.scope is not None and text_model.scope.signals == ("confidence", "ngram")
    texts, _ = dataset(200, seed=11)
    for rate in (0.05, 0.10):
        flagged = np.mean([d.out_of_scope for d in text_model.predict(texts, flag_rate=rate)])
        assert abs(flagged - rate) <= 0.02 or flagged < rate, (rate, flagged)


def test_without_embeddings_texts_of_another_domain_are_flagged(text_model):
    other = [
        f"{dish} recipe needs {herb} and {n} minutes in the oven"
        for dish in ("pasta", "soup", "bread", "cake")
        for herb in ("basil", "thyme", "parsley")
        for n in (10, 20)
    ] + ["今天天气很好，我们去公园散步吧", "周末一起去看电影吗", "这本小说的结局很感人"]
    decisions = text_model.predict(other)
    assert np.mean([d.out_of_scope for d in decisions]) > 0.8
    in_domain = text_model.predict(["invoice shows the wrong amount", "包裹显示已签收但我没收到"])
    assert not any(d.out_of_scope for d in in_domain)


def test_the_operating_point_is_chosen_at_prediction_time(text_model):
    texts = ["charged twice and my package never arrived", "我的快递还没到", "my recipe needs basil"]
    scores = [d.scope_score for d in text_model.predict(texts)]
    for rate in (0.0, 0.01, 0.05, 0.2, 1.0):
        flagged = [d.out_of_scope for d in text_model.predict(texts, flag_rate=rate)]
        assert flagged == [1.0 - s <= rate + 1e-4 for s in scores]
    assert not any(d.out_of_scope for d in text_model.predict(texts, flag_rate=0.0))
    assert all(d.out_of_scope for d in text_model.predict(texts, flag_rate=1.0))


def test_a_model_pickled_before_the_detector_still_predicts_with_the_n_gram_check(text_model):
    buffer = io.BytesIO()
    joblib.dump(text_model, buffer)
    buffer.seek(0)
    old = joblib.load(buffer)
    del old.__dict__["scope"]  # as unpickled from an artifact written before the detector
    assert old.scope is None
    [known, unknown] = old.predict(["please refund, I was charged twice", "qzx vbnm kjhg pwoeiru zzq"])
    assert known.best == "billing" and not known.out_of_scope and known.scope_score == 0.0
    assert unknown.out_of_scope and unknown.label is None
    assert old.predict(["qzx vbnm kjhg pwoeiru zzq"], flag_rate=0.5)[0].out_of_scope  # the rate does not apply


def test_decision_still_builds_without_a_scope_score():
    decision = classify.Decision("a", 0.9, (("a", 0.9),), False, False, 0.5)
    assert decision.scope_score == 0.0


def test_the_mahalanobis_distance_can_be_chosen_and_flags_a_far_away_cluster(embedder):
    texts, labels, dense = clusters(100, seed=2, centres=CENTRES)
    config = classify.ClassifierConfig(embedding=embedder, c_grid=(), knn_weights=(), scope_signals=("mahalanobis",))
    model = classify.train(texts, labels, config=config, dense=dense)
    assert model.scope is not None and model.scope.signals == ("mahalanobis",)
    far = np.random.default_rng(6).normal(0.0, 3.0, (1, 16)) + 12.0
    far_texts, _, far_dense = clusters(100, seed=9, centres=far)
    assert np.mean([d.out_of_scope for d in model.predict(far_texts, dense=far_dense)]) > 0.9
    near_texts, _, near_dense = clusters(300, seed=10, centres=CENTRES)
    assert np.mean([d.out_of_scope for d in model.predict(near_texts, dense=near_dense, flag_rate=0.05)]) < 0.1
