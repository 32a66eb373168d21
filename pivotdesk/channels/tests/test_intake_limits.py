"""Inbound resource limits (issue 11, findings 4 and 5) and inline mail images (finding 13).

A mail with thousands of parts stores at most the caps as files, in a write transaction whose size does not grow
with the parts; the rest stays in the raw mail and a bilingual note on the ticket says how many were left out.
A body over the limit is cut with a marker and kept whole as an attachment; `cid:` images point at the
authenticated attachment URL, which serves them with DEBUG off.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.channels.domain.inbound import NormalizedInbound
from pivotdesk.channels.domain.mime import MimeLimits, parse_email
from pivotdesk.channels.models import InboundPayload
from pivotdesk.channels.services.inbound import inbound_deliver, inbound_process, inbound_retry_due, inbound_store
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Attachment, Message, MessageKind

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)


def _mail_with_parts(parts: int, *, tag: str) -> bytes:
    """A mail with a short text body and `parts` small attachments (about 100 bytes of MIME each)."""
    chunks = [
        f"From: Li Lei <lilei@example.cn>\r\nTo: support@pivot.test\r\nSubject: many parts {tag}\r\n"
        f"Message-ID: <parts-{tag}@example.cn>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the files.\r\n"
    ]
    for i in range(parts):
        chunks.append(
            f'--B\r\nContent-Type: application/octet-stream; name="f{i}.bin"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(f'file {i} of {tag}'.encode()).decode()}\r\n"
        )
    chunks.append("--B--\r\n")
    return "".join(chunks).encode()


def _payload(workspace, raw: bytes) -> InboundPayload:
    return inbound_store(actor=Actor.system(), workspace=workspace, channel="email", raw=raw)


def _statements_in_the_write_transaction(queries: list[dict[str, str]]) -> int:
    """Statements between the delivery's savepoint and its release (the test itself runs in a transaction, so the
    delivery's `atomic()` is the first savepoint taken)."""
    sqls = [q["sql"] for q in queries]
    start = next(i for i, sql in enumerate(sqls) if sql.startswith("SAVEPOINT"))
    name = sqls[start].split()[1]
    end = next(i for i, sql in enumerate(sqls) if sql == f"RELEASE SAVEPOINT {name}")
    return end - start - 1


def _process_counting(workspace, raw: bytes) -> tuple[InboundPayload, int]:
    payload = _payload(workspace, raw)
    with CaptureQueriesContext(connection) as ctx:
        payload = inbound_process(actor=Actor.system(), payload=payload)
    return payload, _statements_in_the_write_transaction(ctx.captured_queries)


def test_a_mail_of_5000_parts_stores_at_most_the_caps_in_a_transaction_that_does_not_grow(
    workspace, settings, monkeypatch
):
    # given the default caps and a record of the transaction depth at every file write
    assert (settings.PIVOTDESK_INBOUND_MAX_PARTS, settings.PIVOTDESK_INBOUND_MAX_ATTACHMENTS) == (200, 50)
    depth_at_writes: list[int] = []
    save = FileSystemStorage._save

    def recording_save(self: FileSystemStorage, name: str, content: object) -> str:
        depth_at_writes.append(len(connection.atomic_blocks))
        return save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", recording_save)
    outside = len(connection.atomic_blocks)  # the test's own transaction

    # when the customer's mails with 300 and with 5,000 parts (0.6 MB) are processed (after a first one, which also
    # creates the contact and the workspace's ticket sequence)
    _process_counting(workspace, _mail_with_parts(3, tag="first"))
    _, small_statements = _process_counting(workspace, _mail_with_parts(300, tag="300"))
    raw = _mail_with_parts(5000, tag="5000")
    assert len(raw) < 700_000
    big, big_statements = _process_counting(workspace, raw)

    # then the ticket is opened with 50 files, all written before the write transaction began
    assert big.status == "processed", big.reason
    message = Message.objects.get(pk=big.message_id)
    assert message.attachments.count() == 50
    assert depth_at_writes and set(depth_at_writes) == {outside}
    files = list(Path(settings.MEDIA_ROOT).rglob("*.bin"))
    assert len(files) == 3 + 50 + 50
    # and the transaction's size does not depend on the number of parts (both mails are over the caps)
    assert big_statements == small_statements
    assert big_statements <= 30
    # and the ticket says, in both languages, how many parts were left out and where they are
    note = Message.objects.get(ticket=message.ticket, kind=MessageKind.NOTE)
    assert "4950 parts" in note.body_text and "4950 个部分" in note.body_text
    assert f"#{big.pk}" in note.body_text
    assert note.metadata["left_out"]["parts"] == 4950
    assert message.metadata["left_out"]["parts"] == 4950
    assert bytes(InboundPayload.objects.get(pk=big.pk).raw) == raw  # the raw mail keeps every part


def _nested(depth: int) -> bytes:
    raw = b"From: a@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    for level in range(depth):
        raw += f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
    raw += b"Content-Type: text/plain\r\n\r\ndeep text\r\n"
    for level in reversed(range(depth)):
        raw += f"--b{level}--\r\n".encode()
    return raw


def test_nesting_deeper_than_the_limit_is_left_out():
    assert parse_email(_nested(9), MimeLimits(max_depth=10)).text == "deep text"
    deep = parse_email(_nested(40), MimeLimits(max_depth=10))
    assert (deep.left_out, deep.text) == (1, "")


def test_a_mail_nested_thousands_of_levels_keeps_its_headers_and_leaves_the_body_in_the_raw_mail():
    mail = parse_email(_nested(3000))
    assert (mail.subject, mail.sender.email if mail.sender else "", mail.left_out) == ("deep", "a@example.com", 1)


def test_files_over_the_size_or_total_limit_or_of_a_blocked_type_are_left_out_not_a_failed_mail(workspace, settings):
    settings.PIVOTDESK_INBOUND_MAX_ATTACHMENT_BYTES = 3000
    raw = (
        b"From: a@example.com\r\nTo: s@pivot.test\r\nSubject: files\r\nMessage-ID: <files@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
        b'--B\r\nContent-Type: application/pdf; name="a.pdf"\r\n\r\n' + b"a" * 2000 + b"\r\n"
        b'--B\r\nContent-Type: application/pdf; name="b.pdf"\r\n\r\n' + b"b" * 2000 + b"\r\n"
        b'--B\r\nContent-Type: application/octet-stream; name="setup.exe"\r\n\r\nMZ\r\n--B--\r\n'
    )
    payload = inbound_process(actor=Actor.system(), payload=_payload(workspace, raw))
    assert payload.status == "processed", payload.reason
    message = Message.objects.get(pk=payload.message_id)
    assert [a.filename for a in message.attachments.all()] == ["a.pdf"]
    assert message.metadata["left_out"] == {"parts": 2, "names": ["b.pdf", "setup.exe"]}
    assert "b.pdf, setup.exe" in Message.objects.get(ticket=message.ticket, kind=MessageKind.NOTE).body_text


# ---- bodies over the limit (finding 5) ----------------------------------------------------------------------------


def _long_text(chars: int) -> str:
    line = "The printer on the third floor jams again. 三楼的打印机又卡纸了。\n"
    return (line * (chars // len(line) + 1))[:chars]


def test_a_body_of_1_2_million_characters_is_cut_with_a_marker_and_kept_whole_as_message_txt(workspace):
    text = _long_text(1_200_000)
    html = "<p>" + text.replace("\n", "</p><p>") + "</p>"
    raw = (
        b"From: a@example.com\r\nTo: s@pivot.test\r\nSubject: long\r\nMessage-ID: <long@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + text.encode()
        + b"\r\n--B\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + html.encode()
        + b"\r\n--B--\r\n"
    )
    payload = inbound_process(actor=Actor.system(), payload=_payload(workspace, raw))

    assert payload.status == "processed", payload.reason
    message = Message.objects.get(pk=payload.message_id)
    assert message.ticket.subject == "long"
    assert len(message.body_text) <= 1_000_000
    assert message.body_text.endswith(
        "[Message truncated: the full text is attached as message.txt. / 内容过长已截断，全文见附件 message.txt。]"
    )
    assert message.body_text.splitlines()[-3].endswith("卡纸了。")  # cut at a line break, not mid-line
    assert "full text is attached as message.html" in message.body_html and "内容过长已截断" in message.body_html
    whole = {a.filename: a for a in message.attachments.all()}
    assert whole["message.txt"].file.read().decode("utf-8").strip() == text.strip()
    assert len(whole["message.html"].file.read()) == len(html.encode())
    assert message.metadata["truncated"] == ["message.txt", "message.html"]


def test_a_long_message_on_any_channel_is_cut_the_same_way(workspace):
    inbound = NormalizedInbound(
        channel="web_form", identity_kind="email", identity_value="c@example.com", text=_long_text(1_100_000)
    )
    message, duplicate = inbound_deliver(actor=Actor.system(), workspace=workspace, inbound=inbound)
    assert not duplicate and len(message.body_text) <= 1_000_000
    assert "message.txt" in message.body_text
    assert message.attachments.get().filename == "message.txt"


# ---- inline images (finding 13) -----------------------------------------------------------------------------------


def _mail_with_inline_image() -> bytes:
    return (
        b"From: Wang Fang <wangfang@example.cn>\r\nTo: support@pivot.test\r\nSubject: screenshot\r\n"
        b"Message-ID: <cid-test@example.cn>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/related; boundary="b"\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
        b'<p>see <img src="cid:shot@x" alt="shot"> and <img src="cid:shot@xy"></p>\r\n'
        b"--b\r\nContent-Type: image/png\r\nContent-ID: <shot@x>\r\nContent-Disposition: inline; "
        b'filename="shot.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + base64.b64encode(PNG) + b"\r\n--b--\r\n"
    )


def test_an_inline_image_points_at_the_authenticated_attachment_url_and_shows_with_debug_off(
    workspace, other_workspace, client_as, client, settings
):
    settings.DEBUG = False
    payload = inbound_process(actor=Actor.system(), payload=_payload(workspace, _mail_with_inline_image()))
    message = Message.objects.get(pk=payload.message_id)
    image = Attachment.objects.get(message=message, inline=True)
    url = reverse("web:attachment", args=[message.ticket.number, image.pk])
    assert f'src="{url}"' in message.body_html
    assert "/media/" not in message.body_html
    assert 'src="cid:shot@xy"' in message.body_html  # another id is not rewritten by a prefix match

    agent = AgentFactory(workspace=workspace, role=Role.AGENT)
    shown = client_as(agent).get(url)
    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/png" and shown["Content-Disposition"].startswith("inline")
    assert b"".join(shown.streaming_content) == PNG
    page = client_as(agent).get(reverse("web:ticket", args=[message.ticket.number])).content.decode()
    assert f'<img src="{url}" alt="shot">' in page  # rendered inline in the agent UI

    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    stranger = AgentFactory(workspace=other_workspace, role=Role.ADMIN)
    assert client_as(stranger).get(url).status_code == 404


# ---- the retry scan ------------------------------------------------------------------------------------------------


def test_the_retry_scan_takes_payloads_nobody_finished_once_and_never_a_rejected_call(workspace):
    stranded = _payload(workspace, _mail_with_parts(1, tag="stranded"))
    fresh = _payload(workspace, _mail_with_parts(1, tag="fresh"))
    rejected = inbound_store(
        actor=Actor.system(), workspace=workspace, channel="email", raw=b"x", meta={"rejected": "bad signature"}
    )
    long_ago = now() - dt.timedelta(minutes=10)
    InboundPayload.objects.filter(pk__in=[stranded.pk, rejected.pk]).update(received_at=long_ago)

    assert inbound_retry_due(actor=Actor.system()) == [stranded.pk]
    assert inbound_retry_due(actor=Actor.system()) == []  # claimed for 5 minutes
    assert fresh.pk not in inbound_retry_due(actor=Actor.system())
