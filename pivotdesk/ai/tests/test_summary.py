"""The extractive summary (pure): the customer's central sentences, then what the enrichment connectors found."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.ai.domain import summary

FACT = "物流: 运输延误, 最后节点 上海分拣中心"


def test_central_sentences_are_kept_greetings_dropped():
    text = "你好。我的订单三天没有物流更新。物流一直显示已揽收。谢谢"
    out = summary.summarize("物流不更新", text)
    assert "物流更新" in out and "你好" not in out and "谢谢" not in out


def test_facts_follow_the_customer_sentences():
    out = summary.summarize("物流太慢", "我的订单三天没动了。", facts=[FACT])
    assert out == f"我的订单三天没动了。{summary.FACTS_SEPARATOR}{FACT}"


def test_repeated_and_blank_facts_are_shown_once():
    out = summary.summarize("", "Where is my parcel?", facts=[FACT, " ", FACT, "设备 X200: 保修至 2025-01-31"])
    assert out.count("上海分拣中心") == 1 and out.endswith(f"{FACT}; 设备 X200: 保修至 2025-01-31")


def test_without_customer_text_the_facts_stand_alone():
    assert summary.summarize("", "", facts=[FACT]) == FACT


@given(
    subject=st.text(max_size=40),
    text=st.text(max_size=400),
    facts=st.lists(st.text(max_size=300), max_size=4),
    max_chars=st.integers(20, 300),
    max_fact_chars=st.integers(10, 200),
)
def test_the_summary_is_bounded(subject, text, facts, max_chars, max_fact_chars):
    out = summary.summarize(subject, text, facts=facts, max_chars=max_chars, max_fact_chars=max_fact_chars)
    assert len(out) <= max_chars + len(summary.FACTS_SEPARATOR) + max_fact_chars
    without = summary.summarize(subject, text, max_chars=max_chars)
    assert out.startswith(without)
