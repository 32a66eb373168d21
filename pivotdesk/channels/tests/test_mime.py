"""The MIME parser over the shared corpus of real-world mail, and fuzzed: never raises, decodes every charset."""

from __future__ import annotations

import csv
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pivotdesk.channels.domain.charsets import decode_bytes, iso2022jp_via_cp932
from pivotdesk.channels.domain.mime import decode_header_value, parse_email
from pivotdesk.channels.domain.noise import classify

CORPUS = pathlib.Path(__file__).resolve().parents[3].parent / "shared" / "data" / "email"
MANIFEST = CORPUS / "MANIFEST.csv"


def _corpus() -> list[dict[str, str]]:
    if not MANIFEST.exists():
        return []
    with MANIFEST.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


ROWS = _corpus()
needs_corpus = pytest.mark.skipif(not ROWS, reason=f"shared email corpus not found at {CORPUS}")


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


@needs_corpus
@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_every_corpus_mail_parses_to_readable_text(row):
    raw = (CORPUS / row["file"]).read_bytes()
    mail = parse_email(raw)
    text = mail.subject + mail.text + mail.html
    assert not _has_surrogates(text)
    if "\ufffd" in text:  # only where the source itself carries U+FFFD or undecodable junk
        assert "\ufffd".encode() in raw or b"\xef\xbf\xbd" in raw, "replacement character from our own decoding"
    kind = classify(mail)
    if row["report"] == "y" and "disposition" not in row["file"]:
        assert kind in ("bounce", "complaint", "read_receipt"), (row["file"], kind)
    if kind is None:
        assert mail.text or mail.html or mail.attachments or mail.subject, "a person's mail with nothing in it"
    if row["attachments"]:
        assert mail.attachments


@needs_corpus
def test_corpus_classification_counts():
    kinds = [classify(parse_email((CORPUS / r["file"]).read_bytes())) for r in ROWS]
    reports = sum(1 for r in ROWS if r["report"] == "y")
    machine = sum(1 for k in kinds if k in ("bounce", "complaint", "read_receipt"))
    assert machine >= reports - 2  # two "report" rows are malformed mails without a report part


def test_gb2312_label_with_gbk_only_characters():
    body = "朱镕基和陶喆都来了".encode("gbk")
    raw = (
        b"From: =?gb2312?B?" + __import__("base64").b64encode("王芳".encode("gbk")) + b"?= <wf@example.cn>\r\n"
        b"Subject: =?gb2312?B?" + __import__("base64").b64encode("打印机故障 镕".encode("gbk")) + b"?=\r\n"
        b"Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
    )
    mail = parse_email(raw)
    assert mail.subject == "打印机故障 镕"
    assert mail.sender is not None and mail.sender.name == "王芳" and mail.sender.email == "wf@example.cn"
    assert mail.text == "朱镕基和陶喆都来了"


def test_raw_8bit_headers_use_the_body_charset_and_utf8():
    raw = "Subject: 退款申请\r\nFrom: 李 <li@example.cn>\r\nContent-Type: text/plain; charset=gbk\r\n\r\n你好".encode(
        "gbk"
    )
    assert parse_email(raw).subject == "退款申请"
    raw_utf8 = "Subject: Grüße 你好\r\nContent-Type: text/plain; charset=gbk\r\n\r\nx".encode()
    assert parse_email(raw_utf8).subject == "Grüße 你好"


def test_threading_headers_and_inline_images():
    raw = (
        b"Message-ID: <m2@example.com>\r\nIn-Reply-To: <m1@example.com>\r\nReferences: <m0@x> <m1@example.com>\r\n"
        b"Subject: Re: [#10234] printer\r\nFrom: a@example.com\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/related; boundary="b"\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
        b'<p>see <img src="cid:img1@x"></p>\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n"
    )
    mail = parse_email(raw)
    assert mail.message_id == "<m2@example.com>"
    assert mail.thread_ids == ["<m1@example.com>", "<m0@x>"]
    assert mail.attachments[0].inline and mail.attachments[0].content_id == "img1@x"
    assert mail.attachments[0].content.startswith(b"\x89PNG")


def test_iso2022jp_with_nec_extensions():
    assert iso2022jp_via_cp932(b"\x1b$B-!\x1b(B") == "①"
    assert decode_bytes(b"\x1b$B$3$s$K$A$O\x1b(B", "iso-2022-jp") == "こんにちは"
    assert decode_header_value("=?iso-2022-jp?B?GyRCJygnJS1iGyhCNDEgGyRCJ2AnZBsoQiAyOC4wOS4yMDE2?=") == (
        "ЖД№41 от 28.09.2016"
    )


def test_noise_headers_recognised():
    base = b"From: x@example.com\r\nSubject: hi\r\n"
    assert classify(parse_email(base + b"Auto-Submitted: auto-replied\r\n\r\nx")) == "auto_reply"
    assert classify(parse_email(base + b"Auto-Submitted: no\r\n\r\nx")) is None
    assert classify(parse_email(base + b"Precedence: bulk\r\n\r\nx")) == "bulk"
    assert classify(parse_email(base + b"X-Autoreply: yes\r\n\r\nx")) == "auto_reply"
    zh = "From: x@example.com\r\nSubject: 自动回复: 我正在休假\r\n\r\nx".encode()
    assert classify(parse_email(zh)) == "auto_reply"
    dsn = b"From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nx"
    assert classify(parse_email(dsn)) == "bounce"
    assert classify(parse_email(base + b"\r\nA person wrote this.")) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_parser_never_raises_on_arbitrary_bytes(raw):
    mail = parse_email(raw)
    assert not _has_surrogates(mail.subject + mail.text + mail.html)
    classify(mail)


header_lines = st.lists(
    st.tuples(
        st.sampled_from(["Subject", "From", "To", "Cc", "Content-Type", "Content-Transfer-Encoding", "Message-ID",
                         "References", "Content-Disposition", "Date", "X-Junk"]),
        st.binary(max_size=120).filter(lambda b: b"\n" not in b and b"\r" not in b),
    ),
    max_size=10,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(header_lines, st.binary(max_size=2000), st.sampled_from([b"", b"--b\r\n", b"=?gb2312?B?", b"=E4=BD"]))
def test_parser_never_raises_on_mail_shaped_input(headers, body, noise):
    raw = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers)
    raw += b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' + noise + body + b"\r\n--b--"
    mail = parse_email(raw)
    assert isinstance(mail.subject, str) and not _has_surrogates(mail.subject + mail.text)
