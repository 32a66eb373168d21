"""Quoted-history stripping (zh + en clients) and subject threading rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.channels.domain.email_threading import normalize_subject, subject_with_token, ticket_number_in
from pivotdesk.channels.domain.quotes import strip_quoted

REPLIES = {
    "gmail_zh": "好的，谢谢！\n\n在 2026年3月1日周日 10:00，客服 <support@pivotdesk.cn> 写道：\n> 请提供订单号。\n",
    "qq": '订单号是 20260301\n\n------------------ 原始邮件 ------------------\n发件人: "客服"<support@x.cn>;\n'
    '发送时间: 2026年3月1日(星期天) 上午10:00\n收件人: "我"<me@qq.com>;\n主题: 回复：退款\n\n请提供订单号。',
    "outlook_zh": "已经重启了，还是不行。\n\n发件人: 客服 <support@x.cn>\n发送时间: 2026年3月1日 10:00\n收件人: 王芳\n"
    "主题: 打印机故障\n\n请重启试试。",
    "foxmail": "收到\n\n发件人：support@x.cn\n发送时间：2026-03-01 10:00\n收件人：me@foxmail.com\n主题：Re: 发票\n\n发票已开",
    "gmail_en": "Thanks, that fixed it.\n\nOn Sun, Mar 1, 2026 at 10:00 AM Support <support@x.com> wrote:\n> Try again.\n",
    "outlook_en": "It still fails.\n\n-----Original Message-----\nFrom: Support\nSent: Sunday\nSubject: x\n\nTry.",
    "signature": "See attached.\n\n-- \nWang Fang\nACME Ltd.\n+86 138 0013 8000",
    "mobile": "马上到\n\n发自我的iPhone",
}
EXPECTED = {
    "gmail_zh": "好的，谢谢！",
    "qq": "订单号是 20260301",
    "outlook_zh": "已经重启了，还是不行。",
    "foxmail": "收到",
    "gmail_en": "Thanks, that fixed it.",
    "outlook_en": "It still fails.",
    "signature": "See attached.",
    "mobile": "马上到",
}


@pytest.mark.parametrize("client", sorted(REPLIES))
def test_reply_is_separated_from_history(client):
    assert strip_quoted(REPLIES[client]) == EXPECTED[client]


def test_nothing_is_lost_when_everything_looks_quoted():
    only_quote = "> just a quote\n> nothing else"
    assert strip_quoted(only_quote) == only_quote


@given(st.text(max_size=500))
def test_stripping_never_raises_and_never_grows(text):
    out = strip_quoted(text)
    assert len(out) <= len(text.replace("\r\n", "\n"))
    assert out.strip() or not text.strip()


def test_ticket_token_and_normalised_subject():
    assert ticket_number_in("Re: 打印机故障 [#10234]") == 10234
    assert ticket_number_in("Fwd: [#1] Re: [#10235] x") == 10235
    assert ticket_number_in("no token #123") is None
    assert normalize_subject("Re: 回复：AW:  Printer   broken [#10234]") == "printer broken"
    assert normalize_subject("转发: Fwd: 发票") == "发票"
    assert subject_with_token("Re: 发票 [#10001]", 10001) == "Re: 发票 [#10001]"


@given(st.text(max_size=80), st.integers(min_value=1, max_value=10**9))
def test_token_round_trip(subject, number):
    assert ticket_number_in(subject_with_token(subject, number)) == number
    assert normalize_subject(subject_with_token(subject, number)) == normalize_subject(subject)
