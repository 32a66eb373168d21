"""Root cause from context, the pure part: features from text and facts, the naive Bayes posterior against a direct
product of counted probabilities, exact leave-one-out, abstention, the deciding facts, and honest confidences."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.knowledge.domain import rootcause as rc

REMOTE = "偏远地区配送延迟"
SORTING = "分拣中心漏发"

REMOTE_ORDER = {"order": {"status": "运输中", "last_node": "喀什营业部", "zone": "remote", "delay_hours": 52}}
MISSED_SCAN_ORDER = {
    "order": {
        "status": "运输中",
        "last_node": "上海分拣中心",
        "zone": "normal",
        "scan_missing": True,
        "delay_hours": 30,
    }
}


def logistics_history() -> list[rc.Sample]:
    """Eight resolved tickets of each cause; the customers all wrote much the same."""
    texts = ["物流太慢", "物流太慢了，什么时候到", "快递一直不动", "我的包裹怎么还没到"]
    remote = [(rc.featurize(texts[i % 4], REMOTE_ORDER), REMOTE) for i in range(8)]
    sorting = [(rc.featurize(texts[(i + 1) % 4], MISSED_SCAN_ORDER), SORTING) for i in range(8)]
    return remote + sorting


# ---- features -----------------------------------------------------------------------------------------------------


def test_facts_are_flattened_from_nested_json_and_numbers_bucketed():
    facts = {
        "order": {"Last Node": "喀什营业部", "tracking": {"carrier": "顺丰", "delay_hours": 50}, "signed": False},
        "customer": {"complaints_90d": 5, "tags": ["vip", "repeat"]},
    }
    assert rc.featurize("", facts) == (
        "fact:customer.complaints_90d=[4,8)",
        "fact:customer.tags=repeat",
        "fact:customer.tags=vip",
        "fact:order.last_node=喀什营业部",
        "fact:order.signed=false",
        "fact:order.tracking.carrier=顺丰",
        "fact:order.tracking.delay_hours=[32,64)",
    )


def test_dates_identifiers_prose_and_nulls_are_no_facts():
    facts = {
        "order": {
            "eta": "2026-05-23",
            "waybill": "SF1234567890",
            "note": "客户要求放在门卫处，如果门卫不在就放在小区门口的快递柜里，取件码发短信给我，谢谢配合，辛苦了师傅",
            "courier": None,
            "weight": "12",
        }
    }
    assert rc.featurize("", facts) == ("fact:order.weight=[8,16)",)


def test_words_follow_facts_once_each_without_order_numbers():
    features = rc.featurize("物流太慢，订单 SO20260518001 物流太慢", {"order": {"zone": "remote"}})
    assert features == ("fact:order.zone=remote", "w:物流", "w:太慢", "w:订单")


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_a_number_falls_in_the_bucket_it_names(x):
    bucket = rc.number_bucket(x)
    assert bucket is not None
    if x == 0:
        assert bucket == "0"
        return
    body = bucket.lstrip("-")
    assert bucket.startswith("-") == (x < 0)
    if body == "(0,1)":
        assert 0 < abs(x) < 1
    else:
        low, high = (float(v) for v in body.strip("[)").split(","))
        assert low <= abs(x) < high and high == 2 * low


# ---- the posterior against a brute-force reference ----------------------------------------------------------------

FEATURE = st.sampled_from(["fact:a=1", "fact:a=2", "fact:b=x", "w:物流", "w:太慢", "w:退款", "w:密码"])
SAMPLES = st.lists(
    st.tuples(st.lists(FEATURE, min_size=0, max_size=5).map(tuple), st.sampled_from(["x", "y", "z"])),
    min_size=1,
    max_size=25,
)
QUERY = st.lists(st.one_of(FEATURE, st.just("w:never-seen")), max_size=6).map(tuple)


def reference_posterior(samples, query, alpha=1.0, temperature=1.0):
    """P(label | features) ∝ (P(label) · Π P(feature | label))^(1/T), every probability counted from the samples."""
    sets = [(set(features), label) for features, label in samples]
    labels = sorted({label for _, label in sets})
    vocabulary = set().union(*(features for features, _ in sets))
    known = {f for f in query if f in vocabulary}
    scores = {}
    for label in labels:
        mine = [features for features, lab in sets if lab == label]
        prior = (len(mine) + alpha) / (len(sets) + alpha * len(labels))
        total = sum(len(features) for features in mine)
        likelihood = 1.0
        for feature in known:
            count = sum(feature in features for features in mine)
            likelihood *= (count + alpha) / (total + alpha * len(vocabulary))
        scores[label] = (prior * likelihood) ** (1 / temperature)
    norm = sum(scores.values())
    return {label: s / norm for label, s in scores.items()}


@given(SAMPLES, QUERY)
def test_the_posterior_is_the_normalised_product_of_counted_probabilities(samples, query):
    model = rc.fit(samples, calibrate=False)
    expected = reference_posterior(samples, query)
    got = dict(zip(model.labels, model.posterior(query), strict=True))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(SAMPLES, QUERY)
def test_the_temperature_flattens_the_same_posterior(samples, query):
    model = rc.fit(samples, calibrate=False)
    model.temperature = 3.0
    expected = reference_posterior(samples, query, temperature=3.0)
    assert dict(zip(model.labels, model.posterior(query), strict=True)) == pytest.approx(expected, rel=1e-9)


@given(SAMPLES, st.data())
def test_leave_one_out_equals_a_model_fitted_without_the_sample(base, data):
    samples = base + base  # every feature and label seen twice: dropping one sample keeps vocabulary and labels
    i = data.draw(st.integers(0, len(samples) - 1))
    model = rc.fit(samples, calibrate=False)
    refit = rc.fit(samples[:i] + samples[i + 1 :], calibrate=False)
    assert refit.labels == model.labels and refit.vocabulary == model.vocabulary
    assert model.loo_log_joint(i) == pytest.approx(refit.log_joint(samples[i][0]), rel=1e-9)


@given(SAMPLES, QUERY)
def test_the_deciding_features_alone_keep_the_answer_ahead(samples, query):
    model = rc.fit(samples)
    prediction = model.predict(query)
    if prediction.runner_up is None:
        assert prediction.reasons == []
        return
    top, second = model.labels.index(prediction.best), model.labels.index(prediction.runner_up)
    prior, shares = model.contributions(query, top, second)
    margin = prior + sum(s for _, s in shares)
    assert math.log(prediction.confidence) - math.log(dict(prediction.posteriors)[prediction.runner_up]) == (
        pytest.approx(margin, abs=1e-9)
    )
    chosen = dict(prediction.reasons)
    assert all(share > 0 for share in chosen.values())
    if len(chosen) < rc.MAX_REASONS and margin > 1e-9:
        assert prior + sum(s for f, s in shares if s < 0 or f in chosen) > 0
    facts_first = [rc.is_fact(f) for f, _ in prediction.reasons]
    assert facts_first == sorted(facts_first, reverse=True)


# ---- the logistics example ----------------------------------------------------------------------------------------


def test_the_same_words_with_different_facts_give_different_causes():
    model = rc.fit(logistics_history())

    remote = model.predict(rc.featurize("物流太慢", REMOTE_ORDER))
    sorting = model.predict(rc.featurize("物流太慢", MISSED_SCAN_ORDER))

    assert (remote.label, remote.abstained) == (REMOTE, False)
    assert (sorting.label, sorting.abstained) == (SORTING, False)
    assert remote.confidence >= 0.9 and sorting.confidence >= 0.9
    assert "fact:order.zone=remote" in dict(remote.reasons)
    assert "fact:order.scan_missing=true" in dict(sorting.reasons)
    assert all(rc.is_fact(f) for f, _ in remote.reasons + sorting.reasons)


def test_without_facts_the_words_alone_leave_it_undecided():
    model = rc.fit(logistics_history())

    prediction = model.predict(rc.featurize("物流太慢", {}))

    assert prediction.abstained and prediction.label is None
    assert prediction.abstain_reason in {rc.Abstain.LOW_CONFIDENCE, rc.Abstain.SMALL_MARGIN}
    assert {prediction.best, prediction.runner_up} == {REMOTE, SORTING}


def test_facts_pointing_both_ways_leave_it_undecided():
    model = rc.fit(logistics_history())
    mixed = {"order": {"zone": "remote", "scan_missing": True}}

    prediction = model.predict(rc.featurize("物流太慢", mixed))

    assert prediction.abstained
    assert prediction.confidence < rc.DEFAULT_THRESHOLD or prediction.abstain_reason == rc.Abstain.SMALL_MARGIN


def test_a_cause_seen_too_rarely_is_not_answered():
    history = logistics_history() + [(rc.featurize("包裹破损", {"order": {"damaged": True}}), "破损")] * 2

    prediction = rc.fit(history).predict(rc.featurize("包裹破损", {"order": {"damaged": True}}))

    assert prediction.best == "破损"
    assert prediction.abstained and prediction.abstain_reason == rc.Abstain.FEW_SAMPLES


def test_an_untrained_or_one_label_model_abstains():
    assert rc.fit([]).predict(("w:物流",)).abstain_reason == rc.Abstain.UNTRAINED
    one = rc.fit([(("w:物流",), REMOTE)] * 5).predict(("w:物流",))
    assert one.abstained and one.abstain_reason == rc.Abstain.ONE_LABEL and one.best == REMOTE


def test_fitting_is_deterministic_whatever_the_order_of_the_samples():
    history = logistics_history()
    shuffled = history[:]
    random.Random(7).shuffle(shuffled)
    query = rc.featurize("物流太慢", REMOTE_ORDER)
    assert rc.fit(history).predict(query) == rc.fit(shuffled).predict(query)


# ---- honest confidences -------------------------------------------------------------------------------------------


def noisy_tickets(n, seed):
    """The zone names the cause four times in five; the connector repeats it as region and area (naive Bayes counts
    the one piece of evidence three times, which is what makes it overconfident); ten words drawn from 60 say
    nothing."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        label = rng.choice([REMOTE, SORTING])
        honest = rng.random() < 0.8
        zone = ("remote" if label == REMOTE else "normal") if honest else ("normal" if label == REMOTE else "remote")
        words = " ".join(f"词{rng.randrange(60)}x" for _ in range(10))
        out.append((rc.featurize(words, {"order": {"zone": zone, "region": zone, "area": zone}}), label))
    return out


def calibration_gap(model, tickets):
    """|mean confidence − accuracy| over the tickets (all answered: threshold off)."""
    predictions = [model.predict(features) for features, _ in tickets]
    accuracy = sum(p.best == label for p, (_, label) in zip(predictions, tickets, strict=True)) / len(tickets)
    return abs(sum(p.confidence for p in predictions) / len(tickets) - accuracy)


def test_the_temperature_makes_the_confidence_match_the_accuracy():
    train, test = noisy_tickets(400, seed=1), noisy_tickets(2000, seed=2)

    raw = rc.fit(train, calibrate=False)
    tempered = rc.fit(train)

    assert tempered.temperature > 1.0
    assert calibration_gap(tempered, test) < 0.05
    assert calibration_gap(tempered, test) < calibration_gap(raw, test)


def test_labels_are_counted_per_sample():
    model = rc.fit(logistics_history())
    assert dict(zip(model.labels, model.class_samples, strict=True)) == dict(
        Counter(label for _, label in logistics_history())
    )
