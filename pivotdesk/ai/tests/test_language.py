"""Language detection among the workspace's languages: short Chinese, English, mixed, other scripts (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.ai.domain.language import base_code, detect_language, detector_for

ZH_EN = ("zh", "en")


@pytest.mark.parametrize(
    "text",
    ["我的订单还没到", "退款什么时候到账？", "发票抬头开错了", "谢谢", "打印机卡纸了，怎么办", "账号被锁定，无法登录"],
)
def test_short_chinese_is_chinese(text):
    guess = detect_language(text, ZH_EN)
    assert guess is not None and guess.code == "zh" and guess.confidence >= 0.6


@pytest.mark.parametrize(
    "text",
    ["My order has not arrived", "When will I get my refund?", "Printer jammed again", "Cannot log in", "Thanks!"],
)
def test_short_english_is_english(text):
    guess = detect_language(text, ZH_EN)
    assert guess is not None and guess.code == "en" and guess.confidence >= 0.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的 iPhone 连不上 WiFi，一直报错 E-1043", "zh"),  # Chinese with product names and a code
        ("POS 机的 App 闪退了，version 2.3.1", "zh"),
        ("Please ship it to 张伟 at our Shanghai office before Friday, thanks for your help", "en"),
    ],
)
def test_mixed_text_goes_to_the_language_that_carries_it(text, expected):
    guess = detect_language(text, ZH_EN)
    assert guess is not None and guess.code == expected
    assert guess.confidence >= 0.6


def test_mixed_text_is_marked_mixed_with_shares():
    guess = detect_language("Hi, my order still not shipped, 请尽快处理我的订单", ZH_EN)
    assert guess is not None and guess.mixed
    assert set(guess.shares) == {"zh", "en"} and abs(sum(guess.shares.values()) - 1) < 0.01


def test_codes_come_back_as_the_workspace_spells_them():
    guess = detect_language("我的订单还没到", ("zh-hans", "en"))
    assert guess is not None and guess.code == "zh-hans"
    assert base_code("zh-Hans") == "zh" and base_code("en_US") == "en"


def test_only_the_workspace_languages_are_considered():
    guess = detect_language("Bonjour, ma commande n'est pas arrivée", ("zh", "en", "fr"))
    assert guess is not None and guess.code == "fr"
    guess = detect_language("Bonjour, ma commande n'est pas arrivée", ZH_EN)
    assert guess is not None and guess.code == "en"  # French is not served here


def test_japanese_is_told_from_chinese_by_kana():
    guess = detect_language("注文した商品がまだ届きません", ("zh", "en", "ja"))
    assert guess is not None and guess.code == "ja"


def test_nothing_readable_gives_no_guess():
    assert detect_language("", ZH_EN) is None
    assert detect_language("12345 PD2026011512345 https://example.com a@b.cn", ZH_EN) is None


def test_one_word_is_a_weak_signal():
    guess = detect_language("OK", ZH_EN)
    assert guess is not None and guess.confidence < 0.7


def test_detectors_are_built_once_per_language_set():
    assert detector_for(("en", "fr")) is detector_for(("en", "fr"))
    assert detector_for(("en",)) is None


@given(st.text(max_size=300))
def test_any_text_gives_a_workspace_language_or_none(text):
    guess = detect_language(text, ZH_EN)
    assert guess is None or (guess.code in ZH_EN and 0 <= guess.confidence <= 1)
