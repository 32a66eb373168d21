"""The trainable sentiment classifier (pure): Chinese + English, flags angry or distressed customers."""

from __future__ import annotations

import numpy as np
import pytest

from pivotdesk.ai.domain import sentiment

NEGATIVE = [
    "送餐太慢了，等了两个小时，饭都凉了",
    "态度很差，再也不点了",
    "The delivery was two hours late and the food was cold",
    "Terrible service, I am very disappointed",
    "菜是坏的，吃了肚子疼，要求退款",
    "Wrong order again, this is the third time, unacceptable",
]
POSITIVE = [
    "很快就送到了，味道很好，好评",
    "服务很周到，下次还点",
    "Fast delivery and the food was delicious",
    "Great service, thank you very much",
    "分量足，好吃，送餐小哥很客气",
    "Everything arrived hot and on time, excellent",
]


@pytest.fixture(scope="module")
def model():
    texts = NEGATIVE * 3 + POSITIVE * 3
    labels = ["negative"] * 18 + ["positive"] * 18
    return sentiment.train_sentiment(texts, labels)


def test_predicts_chinese_and_english_sentiment_with_calibrated_probabilities(model):
    proba = model.predict_proba(["饭都凉了，太慢了", "The food was delicious, thank you"])
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert [model.classes[i] for i in proba.argmax(axis=1)] == ["negative", "positive"]
    neg = sentiment.negative_probability(model, proba)
    assert neg[0] > 0.5 > neg[1]


def test_flags_negative_customers_only(model):
    angry, happy = model.predict(["态度很差，再也不点了", "Great service, thank you very much"], threshold=0.0)
    assert sentiment.flagged(angry)
    assert not sentiment.flagged(happy)


def test_abstaining_decision_is_never_flagged(model):
    [decision] = model.predict(["态度很差"], threshold=1.01)
    assert decision.label is None and not sentiment.flagged(decision)
