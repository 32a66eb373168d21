"""The bot's pure rules: the order of the decision, short replies, strong words, the excerpt, stored features."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.knowledge.domain import bot as rules


def _judge(**overrides: object) -> rules.Judgement:
    facts: dict = {
        "asked": False, "upset": False, "has_article": True, "similarity": 0.9, "confidence": 0.96,
        "threshold": 0.95, "exact_title": False,
    }  # fmt: skip
    facts.update(overrides)
    return rules.judge(**facts)


def test_asking_and_being_upset_win_over_a_sure_answer():
    assert _judge(asked=True, upset=True) == rules.Judgement(rules.HANDED_OVER, rules.ASKED)
    assert _judge(upset=True) == rules.Judgement(rules.HANDED_OVER, rules.UPSET)
    assert _judge(has_article=False) == rules.Judgement(rules.HANDED_OVER, rules.NO_ARTICLE)


def test_the_threshold_is_the_least_confidence_that_answers():
    assert _judge(confidence=0.95).outcome == rules.ANSWERED
    assert _judge(confidence=0.9499999).reason == rules.LOW_CONFIDENCE


def test_without_a_similarity_only_an_exact_title_answers():
    assert _judge(similarity=0.0, confidence=1.0) == rules.Judgement(rules.HANDED_OVER, rules.NO_SEMANTIC)
    assert _judge(similarity=0.0, exact_title=True) == rules.Judgement(rules.ANSWERED, rules.EXACT_TITLE)


def test_a_lone_article_has_no_margin():
    assert rules.margin([0.9]) == 0.0 and rules.margin([]) == 0.0
    assert abs(rules.margin([0.8, 0.9, 0.85]) - 0.05) < 1e-9


def test_short_replies_after_an_answer():
    for text in ("1", " 1。", "１", "是的", "解决了", "Yes!", "solved"):
        assert rules.feedback_choice(text) is True, text
    for text in ("2", "２", "否", "没解决", "No.", "not solved"):
        assert rules.feedback_choice(text) is False, text
    for text in ("12", "谢谢，我再看看", "2 个问题", ""):
        assert rules.feedback_choice(text) is None, text


def test_strong_words_but_not_ordinary_problems():
    for text in ("我要投诉", "垃圾系统", "This is terrible", "worst service ever", "还没到账！！！"):
        assert rules.sounds_upset(text), text
    for text in ("退款还没到账", "VPN error 809", "滚筒洗衣机不转", "I have a problem with my card", "suede shoes"):
        assert not rules.sounds_upset(text), text
    assert rules.upset_label("Angry") and rules.upset_label("negative") and not rules.upset_label("neutral")
    assert not rules.upset_label(None)


def test_the_language_is_the_script_s():
    assert rules.guess_language("我的包裹", "en") == "zh-hans"
    assert rules.guess_language("where is my parcel", "zh-hans") == "en"
    assert rules.guess_language("12345", "zh-CN") == "zh-hans"
    assert rules.guess_language("12345", "") == "en"


def test_the_excerpt_is_the_first_paragraph_as_plain_text():
    body = (
        "# 退款\n\n![图](a.png)\n\n```\ncode\n```\n\n订单完成后**七天内**可在[我的订单](/o)申请退款。\n"
        "款项原路退回。\n\n第二段。"
    )
    assert rules.excerpt(body) == "订单完成后七天内可在我的订单申请退款。 款项原路退回。"
    assert rules.excerpt("- Open *Settings*\n- Choose `Security`") == "Open Settings Choose Security"
    sentences = "一二三四五六七八九十。" * 30
    assert rules.excerpt(sentences, limit=100) == "一二三四五六七八九十。" * 9  # cut after a whole sentence
    short_first = "Hi. " + "word " * 80  # the only sentence end is too early: cut at the limit
    assert rules.excerpt(short_first, limit=100) == short_first[:99].rstrip() + "…"
    assert len(rules.excerpt("字" * 500, limit=200)) == 200


@given(st.text(max_size=2000))
def test_the_excerpt_is_never_longer_than_the_limit(text):
    assert len(rules.excerpt(text, limit=120)) <= 120


def test_a_title_matches_whatever_the_case_width_and_punctuation():
    assert rules.title_matches("忘记密码怎么办？", "忘记密码怎么办")
    assert rules.title_matches(" reset YOUR password. ", "Reset your password")
    assert not rules.title_matches("reset password", "Reset your password")
    assert not rules.title_matches("？", "")


@given(
    st.floats(min_value=-1, max_value=1, allow_nan=False),
    st.floats(min_value=0, max_value=2, allow_nan=False),
    st.booleans(),
    st.sampled_from([rules.CONFIDENT, rules.LOW_CONFIDENCE, rules.EXACT_TITLE, rules.ASKED]),
)
def test_features_survive_the_reason_column(similarity, margin, agrees, reason):
    code = rules.features_code(reason, similarity=similarity, margin=margin, keyword_agrees=agrees)
    assert len(code) <= 64 and rules.reason_code(code) == reason
    parsed = rules.parse_features(code)
    assert parsed is not None
    assert abs(parsed[0] - similarity) <= 5e-5 and abs(parsed[1] - margin) <= 5e-5 and parsed[2] is agrees
    assert rules.parse_features("asked_for_person") is None
