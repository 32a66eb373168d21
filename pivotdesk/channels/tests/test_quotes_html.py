"""Quoted history found by the HTML structure mail clients write, and by language-independent text shapes;
forwarded messages kept as content (issue 12, "Mail as real senders write it"). Samples are written here, after
the markup each client produces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.channels.domain.quotes import reply_from_html, strip_quoted
from pivotdesk.common.html import html_to_text

GMAIL_EN = """<div dir="ltr">Thanks, the reset worked.<div><br></div></div><br><div class="gmail_quote">
<div dir="ltr" class="gmail_attr">On Sun, Mar 1, 2026 at 10:00 AM Support &lt;support@desk.example&gt; wrote:<br></div>
<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204)">
Please try resetting your password.</blockquote></div>"""

OUTLOOK_DESKTOP = """<html><body><div class="WordSection1"><p class="MsoNormal">It still fails after the update.</p>
<p class="MsoNormal">&nbsp;</p>
<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">
<p class="MsoNormal"><b>From:</b> Support &lt;support@desk.example&gt;<br><b>Sent:</b> Sunday, March 1, 2026 10:00
<br><b>To:</b> Anna<br><b>Subject:</b> RE: Printer</p></div>
<p class="MsoNormal">Please update the firmware.</p></div></body></html>"""

OUTLOOK_WEB = """<div>已经重启了，还是不行。</div><hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri"><b>发件人:</b> 客服 &lt;support@x.cn&gt;<br>
<b>发送时间:</b> 2026年3月1日 10:00<br><b>主题:</b> 打印机故障</font></div><div>请重启试试。</div>"""

THUNDERBIRD = """<p>Das Problem besteht weiterhin.</p>
<div class="moz-cite-prefix">Am 01.03.26 um 10:00 schrieb Support:<br></div>
<blockquote type="cite" cite="mid:abc@desk.example">Bitte starten Sie neu.</blockquote>"""

APPLE = """<div>Done, thank you!</div><div><br><blockquote type="cite"><div>On 1 Mar 2026, at 10:00, Support
&lt;support@desk.example&gt; wrote:</div><div>Could you send the order number?</div></blockquote></div>"""

RUSSIAN = """<div>Добрый день! Ошибка осталась.</div><div>&nbsp;</div>
<div>01.03.2026, 10:00, "Служба поддержки" &lt;support@desk.example&gt;:</div>
<blockquote><div>Попробуйте перезапустить приложение.</div></blockquote>"""

GMAIL_FORWARD = """<div dir="ltr">FYI, see the customer's complaint below.<br><br>
<div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>
From: <b>Anna</b> &lt;anna@customer.example&gt;<br>Date: Sun, Mar 1, 2026 at 10:00 AM<br>Subject: Broken printer<br>
</div><br>The printer arrived broken. I want a replacement.</div></div>"""

INLINE = """<div>See my answers below.</div><blockquote>Which model do you have?</blockquote>
<div>The LaserJet 2000, bought in January this year from your web shop.</div>
<blockquote>Is the firmware current?</blockquote><div>Yes, I updated it yesterday evening as you suggested.</div>"""


@pytest.mark.parametrize(
    ("raw", "reply"),
    [
        (GMAIL_EN, "Thanks, the reset worked."),
        (OUTLOOK_DESKTOP, "It still fails after the update."),
        (OUTLOOK_WEB, "已经重启了，还是不行。"),
        (THUNDERBIRD, "Das Problem besteht weiterhin."),
        (APPLE, "Done, thank you!"),
        (RUSSIAN, "Добрый день! Ошибка осталась."),
    ],
    ids=["gmail", "outlook-desktop", "outlook-web-zh", "thunderbird-de", "apple-mail", "russian-client"],
)
def test_history_is_cut_at_the_clients_quote_container(raw, reply):
    assert reply_from_html(raw) == reply


def test_a_forwarded_message_in_a_quote_container_is_content():
    assert reply_from_html(GMAIL_FORWARD) is None  # nothing to cut: the text rules see the whole mail
    out = strip_quoted(html_to_text(GMAIL_FORWARD))
    assert "FYI" in out and "The printer arrived broken. I want a replacement." in out


def test_inline_answers_between_quotes_cut_nothing():
    assert reply_from_html(INLINE) is None


def test_html_without_quotes_falls_back_to_the_text_rules():
    assert reply_from_html("<p>Hello, my invoice is wrong.</p>") is None


def test_hostile_html_never_raises():
    for raw in ("<blockquote" * 5000, "</div>" * 1000 + "x", "<div class=gmail_quote>" * 3000, "<!--", "<![CDATA["):
        reply_from_html(raw)


# --- text: language-independent shapes ------------------------------------------------------------------------------
RUSSIAN_ATTRIBUTION = (
    "Спасибо, всё заработало.\n\n"
    "1 марта 2026 г., в 10:00, Служба поддержки <support@desk.example> написал:\n"
    "> Попробуйте перезапустить приложение.\n"
)
RUSSIAN_OUTLOOK = (
    "Ошибка осталась.\n\n"
    "От: Служба поддержки <support@desk.example>\n"
    "Отправлено: 1 марта 2026 г. 10:00\n"
    "Кому: Иван Петров\n"
    "Тема: RE: Ошибка входа\n\n"
    "Попробуйте перезапустить приложение."
)
SPANISH_ATTRIBUTION = "Gracias.\n\nEl dom, 1 mar 2026 a las 10:00, Soporte (<support@desk.example>) escribió:\n> Hola\n"


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        (RUSSIAN_ATTRIBUTION, "Спасибо, всё заработало."),
        (RUSSIAN_OUTLOOK, "Ошибка осталась."),
        (SPANISH_ATTRIBUTION, "Gracias."),
    ],
    ids=["ru-attribution", "ru-outlook-header-block", "es-attribution"],
)
def test_attributions_and_header_blocks_in_any_language(text, reply):
    assert strip_quoted(text) == reply


FORWARD_ZH = (
    "请处理一下这位客户的问题。\n\n"
    "---------- 转发的邮件 ----------\n"
    "发件人: 王芳 <wang@customer.cn>\n"
    "发送时间: 2026年3月1日 10:00\n"
    "主题: 发票抬头错误\n\n"
    "发票抬头写成了旧公司名，请重开。"
)
FORWARD_EN = (
    "Forwarding the customer's mail.\n\n"
    "Begin forwarded message:\n\n"
    "From: Anna <anna@customer.example>\n"
    "Date: 1 March 2026 at 10:00\n"
    "Subject: Broken printer\n\n"
    "The printer arrived broken."
)


@pytest.mark.parametrize(("text", "kept"), [(FORWARD_ZH, "请重开"), (FORWARD_EN, "arrived broken")])
def test_a_forwarded_message_is_content_not_history(text, kept):
    out = strip_quoted(text)
    assert kept in out
    assert out.splitlines()[0] == text.splitlines()[0]


def test_a_form_like_message_without_a_quoted_body_is_not_cut():
    text = (
        "Please update my details.\n\nName: Ivan Petrov\nEmail: ivan@example.ru\nPhone: +7 495 123 45 67\nSince: 2021"
    )
    assert strip_quoted(text) == text


@given(st.text(max_size=400))
def test_html_pass_never_raises(text):
    out = reply_from_html(text)
    assert out is None or isinstance(out, str)


# --- uuencoded files inside the text (pre-MIME clients) --------------------------------------------------------------
def test_uuencoded_file_in_a_plain_mail_becomes_an_attachment():
    import binascii

    from pivotdesk.channels.domain.mime import parse_email, split_uuencoded

    content = "订单号 88231\nserial: PD-X-7781\n".encode() * 5
    lines = [binascii.b2a_uu(content[i : i + 45]).decode() for i in range(0, len(content), 45)]
    block = "begin 644 log.txt\n" + "".join(lines) + "`\nend\n"
    text = "Hello, the log is attached.\n\n" + block + "\nThanks, Anna\n"
    rest, files = split_uuencoded(text)
    assert files == [("log.txt", content)]
    assert "begin 644" not in rest and "Hello, the log is attached." in rest and "Thanks, Anna" in rest

    raw = (
        "From: Anna <anna@example.com>\r\nTo: support@desk.example\r\nSubject: log\r\n"
        "Message-ID: <uu@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text.replace("\n", "\r\n")
    ).encode()
    mail = parse_email(raw)
    assert [(a.filename, a.content) for a in mail.attachments] == [("log.txt", content)]
    assert "begin 644" not in mail.text


def test_a_uuencoded_block_without_end_stays_text():
    from pivotdesk.channels.domain.mime import split_uuencoded

    text = "begin 644 x.txt\nM86)C\n(no end line)"
    assert split_uuencoded(text) == (text, [])
