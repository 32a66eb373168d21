"""The pure classifier: calibrated probabilities, abstention, out-of-scope texts and the metrics."""

from __future__ import annotations

import numpy as np
import pytest

from pivotdesk.ai.domain import classify
from pivotdesk.ai.tests.synthetic import dataset


@pytest.fixture(scope="module")
def model() -> classify.TextClassifier:
    texts, labels = dataset(20)
    return classify.train(texts, labels)


def test_trains_and_predicts_bilingual_with_probabilities_summing_to_one(model):
    proba = model.predict_proba(["please refund, I was charged twice", "我的快递还没到", "账号登录不了"])
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert [model.classes[i] for i in proba.argmax(axis=1)] == ["billing", "shipping", "login"]
    decisions = model.predict(["the courier lost my parcel, delivery never came"])
    assert decisions[0].label == "shipping"
    assert 0.0 < decisions[0].confidence <= 1.0
    assert not decisions[0].abstained and not decisions[0].out_of_scope


def test_abstains_below_the_threshold(model):
    text = "charged twice and my package never arrived"  # two classes at once: unusual, so scope is off here
    confidence = model.predict([text], threshold=0.0, flag_rate=0.0)[0].confidence
    kept = model.predict([text], threshold=confidence - 1e-6, flag_rate=0.0)[0]
    left = model.predict([text], threshold=confidence + 1e-6, flag_rate=0.0)[0]
    assert kept.label is not None
    assert left.label is None and left.abstained and left.best == kept.label


def test_learned_threshold_and_temperature_come_from_out_of_fold_predictions(model):
    assert model.training_report["folds"] == 3
    assert 0.0 < model.threshold < 1.0
    assert model.temperature > 0


def test_out_of_scope_texts_are_flagged(model):
    decisions = model.predict(["qzx vbnm kjhg pwoeiru zzq", "今天天气很好，我们去公园散步吧", "The recipe needs basil"])
    assert all(d.out_of_scope and d.label is None for d in decisions)
    in_domain = model.predict(["invoice shows the wrong amount", "包裹显示已签收但我没收到"])
    assert not any(d.out_of_scope for d in in_domain)


def test_ece_on_a_toy_case_computed_by_hand():
    # Bin (0.7, 0.8]: confidences 0.8, 0.8, one right → |0.5 - 0.8| = 0.3, weight 2/4.
    # Bin (0.9, 1.0]: confidences 1.0, 1.0, both right → |1.0 - 1.0| = 0, weight 2/4.
    assert classify.expected_calibration_error([0.8, 0.8, 1.0, 1.0], [True, False, True, True]) == pytest.approx(0.15)
    # One bin (0.5, 0.6]: mean confidence 0.55, accuracy 0 → 0.55.
    assert classify.expected_calibration_error([0.6, 0.5 + 1e-9], [False, False]) == pytest.approx(0.55)


def test_evaluate_reports_per_class_precision_recall_and_confusion():
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    result = classify.evaluate(["a", "b", "b", "a"], proba, ["a", "b"], threshold=0.65)
    assert result["accuracy"] == 0.5
    assert result["confusion"] == [[1, 1], [1, 1]]  # rows true a, b; columns predicted a, b
    assert result["per_class"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert result["macro_f1"] == 0.5
    assert result["coverage"] == 0.75  # 0.6 falls below the threshold
    assert result["accuracy_kept"] == pytest.approx(2 / 3)


def test_choose_threshold_reaches_target_precision():
    confidence = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([True, True, True, False, True, False])
    assert classify.choose_threshold(confidence, correct, target_precision=0.9) == 0.8
    assert classify.choose_threshold(confidence, correct, target_precision=0.5) == 0.5


def test_tokenize_segments_chinese_and_keeps_english_words():
    assert classify.tokenize("Password RESET fails") == ["password", "reset", "fails"]
    assert "密码" in classify.tokenize("忘记密码了")


def test_needs_two_classes():
    with pytest.raises(ValueError, match="two classes"):
        classify.train(["a", "b"], ["x", "x"])


def test_the_regularisation_strength_is_chosen_out_of_fold():
    texts, labels = dataset(20)
    # Near-zero C barely lets the scores depend on the text: the out-of-fold accuracy says so and 0.5 is kept.
    model = classify.train(texts, labels, config=classify.ClassifierConfig(c=1e-5, c_grid=(1e-5, 0.5)))
    accuracy = model.training_report["c_oof_accuracy"]
    assert accuracy["0.5"] > accuracy["1e-05"]
    assert model.config.c == 0.5
    fixed = classify.train(texts, labels, config=classify.ClassifierConfig(c=1e-5, c_grid=()))
    assert fixed.config.c == 1e-5 and "c_oof_accuracy" not in fixed.training_report
