"""Emerging-topic clustering (pure): average linkage against a brute-force reference, labels from the topic's own
vocabulary, stable keys, and an injected new problem found among everyday tickets, in Chinese and in English."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.ai.domain import topics
from pivotdesk.ai.domain.topics import TopicConfig, average_linkage, find_topics, topic_key


# --- the reference: average linkage by hand ---------------------------------------------------------------------------
def brute_force_average_linkage(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Merge the two groups with the highest mean pairwise similarity while that mean is at least `threshold`."""
    groups = [[i] for i in range(similarity.shape[0])]
    while len(groups) > 1:
        best, pair = -np.inf, None
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                mean = float(np.mean([similarity[i, j] for i in groups[a] for j in groups[b]]))
                if mean > best:
                    best, pair = mean, (a, b)
        if pair is None or best < threshold:
            break
        a, b = pair
        groups[a] = sorted(groups[a] + groups[b])
        del groups[b]
    return sorted(groups, key=lambda g: g[0])


def _unit_rows(seed: int, n: int, dim: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, dim))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 14),
    dim=st.integers(2, 6),
    threshold=st.floats(-0.5, 0.95),
)
def test_average_linkage_matches_the_brute_force_reference(seed, n, dim, threshold):
    # given random unit vectors (continuous: no two merges tie)
    rows = _unit_rows(seed, n, dim)
    similarity = rows @ rows.T
    # when both cluster them, then they agree
    assert average_linkage(similarity, threshold) == brute_force_average_linkage(similarity, threshold)


@settings(max_examples=60, deadline=None)
@given(terms=st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=5, unique=True), seed=st.integers(0, 99))
def test_a_topic_key_does_not_depend_on_the_order_of_its_terms(terms, seed):
    shuffled = list(terms)
    random.Random(seed).shuffle(shuffled)
    assert topic_key(terms) == topic_key(shuffled)
    assert topic_key(terms) != topic_key([*terms, "another"])


def test_words_drop_stop_words_numbers_and_codes_and_pairs_join_neighbours():
    words = topics.words_of("Hi, the face recognition fails on order PD2026120112345 since v5.2")
    assert [w for w in words if w] == ["face", "recognition", "fails", "order"]
    assert "face recognition" in topics.terms_of(words)
    assert "recognition fails" in topics.terms_of(words)
    assert "fails order" not in topics.terms_of(["fails", "", "order"])  # a dropped word breaks the pair


# --- an injected new problem among everyday tickets ---------------------------------------------------------------
ZH_EVERYDAY = {
    "refund": ["申请退款", "退款还没到账", "钱退回银行卡", "部分退款", "退款进度"],
    "shipping": ["快递一直没到", "物流信息不更新", "包裹显示已签收但没收到", "发货太慢", "快递员联系不上"],
    "invoice": ["开具增值税发票", "发票抬头写错了", "电子发票下载不了", "发票税号", "重开发票"],
    "password": ["忘记密码", "收不到验证码", "账号被锁定", "重置密码", "修改绑定手机号"],
}
ZH_NEW = ["人脸识别失败", "刷脸验证不通过", "活体检测超时", "人脸识别页面黑屏", "活体检测要求眨眼", "人脸识别次数上限"]
EN_EVERYDAY = {
    "refund": ["refund request", "refund not received", "money back to my card", "partial refund", "refund status"],
    "shipping": ["parcel has not arrived", "tracking not updated", "courier marked delivered", "slow delivery", "lost"],
    "invoice": ["VAT invoice needed", "wrong company name on invoice", "invoice download fails", "reissue invoice"],
    "password": ["forgot password", "verification code never arrives", "account locked", "reset password"],
}
EN_NEW = [
    "face recognition fails",
    "liveness check failed",
    "face scan timeout",
    "face recognition screen black",
    "liveness check asks to blink",
    "face recognition attempts limit",
]


def _texts(rng: random.Random, phrases: list[str], n: int, zh: bool) -> list[str]:
    """n texts, each two or three phrases of a topic with an order number and the desk's everyday words."""
    out = []
    for _ in range(n):
        picked = rng.sample(phrases, k=min(len(phrases), rng.choice([2, 3])))
        order = f"PD{rng.randint(10**9, 10**10 - 1)}"
        if zh:
            out.append(f"您好，订单 {order}：" + "，".join(picked) + "。请尽快处理，谢谢！")
        else:
            out.append(f"Hello, about order {order}: " + ", ".join(picked) + ". Please help, thanks!")
    return out


def _injected(zh: bool, seed: int = 3) -> tuple[list[tuple[int, str]], list[str], set[int]]:
    """8 texts about a new problem among 40 everyday ones (10 for each of 4 topics), and a background of 400."""
    rng = random.Random(seed)
    everyday = ZH_EVERYDAY if zh else EN_EVERYDAY
    new = _texts(rng, ZH_NEW if zh else EN_NEW, 8, zh)
    others = [t for phrases in everyday.values() for t in _texts(rng, phrases, 10, zh)]
    mixed = [(i, text) for i, text in enumerate(new)] + [(100 + i, text) for i, text in enumerate(others)]
    rng.shuffle(mixed)
    background = [t for phrases in everyday.values() for t in _texts(rng, phrases, 100, zh)] + new
    return mixed, background, set(range(8))


def test_an_injected_new_problem_comes_out_as_one_chinese_topic_named_by_its_own_words():
    # given 8 tickets about face recognition among 40 about refunds, shipping, invoices and passwords
    documents, background, injected = _injected(zh=True)
    # when they are grouped against a background of everyday tickets
    found = find_topics(documents, background)
    # then exactly one topic holds the injected tickets, all of them and nothing else
    holding = [t for t in found if set(t.members) & injected]
    assert len(holding) == 1 and set(holding[0].members) == injected, [(t.label, t.members) for t in found]
    # and it is named by its own vocabulary, not by the desk's everyday words
    topic = holding[0]
    assert {"人脸识别", "活体检测"} & set(topic.terms[:3]), topic.terms
    assert not {"订单", "处理", "您好"} & set(topic.terms), topic.terms


def test_an_injected_new_problem_comes_out_as_one_english_topic_named_by_its_own_words():
    documents, background, injected = _injected(zh=False)
    found = find_topics(documents, background)
    holding = [t for t in found if set(t.members) & injected]
    assert len(holding) == 1 and set(holding[0].members) == injected, [(t.label, t.members) for t in found]
    topic = holding[0]
    assert {"face", "face recognition", "liveness", "liveness check"} & set(topic.terms[:3]), topic.terms
    assert not {"order", "hello", "help"} & set(topic.terms), topic.terms


def test_a_recompute_with_more_tickets_keeps_the_topic_key():
    documents, background, injected = _injected(zh=True)
    first = next(t for t in find_topics(documents, background) if set(t.members) & injected)
    more, _bg, _ids = _injected(zh=True, seed=11)
    extra = [(1000 + i, text) for i, text in more if i < 8][:2]  # two more tickets about the same problem
    again = next(t for t in find_topics(documents + extra, background) if set(t.members) & injected)
    assert again.key == first.key and set(again.members) >= injected | {i for i, _ in extra}


def test_small_groups_are_noise_and_empty_texts_are_ignored():
    # given two similar texts (below the minimum size), and texts with nothing but stop words
    documents = [(1, "人脸识别失败 活体检测"), (2, "人脸识别失败 活体检测超时"), (3, "您好 谢谢"), (4, "")]
    # then there is no topic; with a minimum of two, there is one
    assert find_topics(documents, []) == []
    found = find_topics(documents, [], TopicConfig(min_size=2))
    assert [sorted(t.members) for t in found] == [[1, 2]]
