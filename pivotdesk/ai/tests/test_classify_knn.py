"""The embedding neighbour vote: chosen by out-of-fold accuracy, off when it does not help, stored and reloaded."""

from __future__ import annotations

import io
import random
from dataclasses import replace

import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.ai.domain import classify, neighbours
from pivotdesk.ai.tests.synthetic import dataset

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]


@pytest.fixture
def fake_embedder(monkeypatch):
    """An embedder name for configs; the tests pass `dense` themselves, so it must never be called."""

    def never(texts):
        raise AssertionError("the precomputed embeddings should have been used")

    monkeypatch.setitem(classify.EMBEDDERS, "fake", never)
    return "fake"


def xor_data(n_per_cluster: int, seed: int) -> tuple[list[str], list[str], np.ndarray]:
    """Texts of random words (no signal) with embeddings where class `a` sits at ±e1 and `b` at ±e2: no linear
    model separates them, nearest neighbours do."""
    rng = np.random.default_rng(seed)
    words = random.Random(seed)
    texts, labels, rows = [], [], []
    for label, axis in (("a", 0), ("b", 1)):
        for sign in (1.0, -1.0):
            for _ in range(n_per_cluster):
                vector = rng.normal(0.0, 0.05, 8)
                vector[axis] += sign
                rows.append(vector)
                labels.append(label)
                texts.append(" ".join(words.choice(WORDS) for _ in range(6)))
    return texts, labels, np.asarray(rows, dtype=np.float32)


def test_the_vote_is_blended_in_when_out_of_fold_accuracy_says_it_helps(fake_embedder):
    texts, labels, dense = xor_data(15, seed=1)
    model = classify.train(texts, labels, config=classify.ClassifierConfig(embedding=fake_embedder), dense=dense)
    assert model.knn is not None and model.knn_weight > 0
    report = model.training_report["knn_oof_accuracy"]
    assert report[str(model.knn_weight)] > report["0.0"] + 0.2  # the linear model alone is near chance here
    test_texts, test_labels, test_dense = xor_data(5, seed=2)
    proba = model.predict_proba(test_texts, test_dense)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert [model.classes[i] for i in proba.argmax(axis=1)] == test_labels
    decisions = model.predict(test_texts, dense=test_dense, threshold=0.0)
    assert [d.best for d in decisions] == test_labels


def test_the_vote_stays_off_when_it_does_not_help(fake_embedder):
    texts, labels = dataset(20)
    noise = np.random.default_rng(0).normal(size=(len(texts), 8)).astype(np.float32)
    model = classify.train(texts, labels, config=classify.ClassifierConfig(embedding=fake_embedder), dense=noise)
    assert model.knn is None and model.knn_weight == 0.0
    report = model.training_report["knn_oof_accuracy"]
    assert max(report.values()) == report["0.0"]


def test_no_vote_without_embeddings_or_when_disabled(fake_embedder):
    texts, labels, dense = xor_data(15, seed=1)
    plain = classify.train(texts, labels)
    assert plain.knn is None and "knn_oof_accuracy" not in plain.training_report
    config = classify.ClassifierConfig(embedding=fake_embedder, knn_weights=())
    disabled = classify.train(texts, labels, config=config, dense=dense)
    assert disabled.knn is None and disabled.knn_weight == 0.0


def separable_by_embedding(n_per_class: int, seed: int) -> tuple[list[str], list[str], np.ndarray]:
    """Texts of random words (no signal) whose embeddings sit at +e1 for `a` and -e1 for `b`."""
    rng = np.random.default_rng(seed)
    words = random.Random(seed)
    labels = ["a"] * n_per_class + ["b"] * n_per_class
    rows = rng.normal(0.0, 0.3, (2 * n_per_class, 8))
    rows[:, 0] += [1.0 if label == "a" else -1.0 for label in labels]
    texts = [" ".join(words.choice(WORDS) for _ in range(6)) for _ in labels]
    return texts, labels, rows.astype(np.float32)


def test_the_embedding_weight_is_chosen_out_of_fold(fake_embedder):
    texts, labels, dense = separable_by_embedding(20, seed=4)
    # Scaled down a thousandfold, the embeddings barely move a regularised linear model: out of fold says so.
    config = classify.ClassifierConfig(
        embedding=fake_embedder, embedding_weight=1e-3, embedding_weights=(1e-3, 1.0), knn_weights=()
    )
    model = classify.train(texts, labels, config=config, dense=dense)
    accuracy = model.training_report["embedding_weight_oof_accuracy"]
    assert accuracy["1.0"] > accuracy["0.001"] + 0.2
    assert model.config.embedding_weight == 1.0
    test_texts, test_labels, test_dense = separable_by_embedding(10, seed=5)
    proba = model.predict_proba(test_texts, test_dense)
    assert np.mean([model.classes[i] == t for i, t in zip(proba.argmax(axis=1), test_labels, strict=True)]) > 0.8
    fixed = classify.train(texts, labels, config=replace(config, embedding_weights=()), dense=dense)
    assert fixed.config.embedding_weight == 1e-3 and "embedding_weight_oof_accuracy" not in fixed.training_report


def test_a_stored_model_predicts_the_same_after_reloading(fake_embedder):
    texts, labels, dense = xor_data(15, seed=1)
    model = classify.train(texts, labels, config=classify.ClassifierConfig(embedding=fake_embedder), dense=dense)
    test_texts, _, test_dense = xor_data(5, seed=3)
    before = model.predict_proba(test_texts, test_dense)  # fills the per-process float32 copy
    assert model.knn is not None and "_float32" in model.knn.__dict__
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    assert b"_float32" not in buffer.getvalue()  # the float16 references are stored once, not twice
    buffer.seek(0)
    reloaded = joblib.load(buffer)
    assert np.allclose(reloaded.predict_proba(test_texts, test_dense), before)
    one_by_one = np.vstack([reloaded.predict_proba([t], test_dense[i : i + 1]) for i, t in enumerate(test_texts)])
    assert np.allclose(one_by_one, before, atol=1e-6)  # a ticket at a time takes the single-thread path


def test_an_artifact_from_before_the_vote_still_predicts():
    texts, labels = dataset(10)
    model = classify.train(texts, labels)
    for name in ("linear_temperature", "knn_weight", "knn"):  # as unpickled from an older version
        model.__dict__.pop(name)
    assert model.predict(["please refund, I was charged twice"])[0].best == "billing"


@settings(max_examples=30)
@given(
    n=st.integers(min_value=3, max_value=40),
    n_classes=st.integers(min_value=2, max_value=5),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_with_one_neighbour_a_stored_point_votes_for_its_own_label(n, n_classes, seed):
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=(n, 6)).astype(np.float32)
    y = rng.integers(0, n_classes, size=n)
    config = classify.ClassifierConfig(knn_k=1)
    vote = classify.NeighbourVote.fit(dense, y, w=None, n_classes=n_classes, config=config, rng=rng)
    log_proba = vote.log_proba(dense)
    assert log_proba.shape == (n, n_classes)
    assert np.all(log_proba <= 1e-9)
    # Centred points can coincide in direction only by accident; where the nearest is unique it is the point itself.
    sims = neighbours.centred(dense, vote.mean) @ neighbours.centred(dense, vote.mean).T
    unique = (np.sort(sims, axis=1)[:, -2] < np.diag(sims) - 1e-3) & np.isfinite(sims).all(axis=1)
    assert np.array_equal(log_proba.argmax(axis=1)[unique], y[unique])
