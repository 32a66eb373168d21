"""The intake's limits, applied before the write transaction (issue 11, findings 4 and 5).

Files are written to storage here, not inside the transaction that inserts their rows; a file over a limit (count,
size, the message's total, a blocked type) is left out and counted, never a failed message; a body over
`PIVOTDESK_INBOUND_MAX_BODY_CHARS` is cut at a clean boundary with a bilingual marker and kept whole as
`message.txt` (`message.html` for HTML). Every channel's messages pass here (`inbound_deliver`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from html import escape

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from pivotdesk.accounts.models import Workspace
from pivotdesk.channels.domain.inbound import InboundAttachment, NormalizedInbound
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets.attachment_files import StoredFile, attachment_file_store, attachment_files_discard
from pivotdesk.tickets.services.messages import MAX_BODY


def bodies_to_store(inbound: NormalizedInbound) -> tuple[str, str]:
    """(text, html) to store. Mail HTML is kept when nothing was stripped from it; when quoted history was cut,
    the stripped text is shown and the full original stays in metadata (one click away)."""
    if not inbound.html:
        return inbound.text, ""
    if not inbound.text or inbound.text.strip() == inbound.full_text.strip():
        return inbound.text, inbound.html
    return inbound.text, ""


@dataclasses.dataclass(frozen=True)
class PreparedInbound:
    """What the intake did before the write transaction: bodies within the limit, files already in storage."""

    text: str
    html: str
    files: list[StoredFile]  # attachments and inline images, plus message.txt / message.html when a body was cut
    left_out: int  # parts and files over the limits (kept in the raw payload only)
    left_out_names: list[str]
    truncated: list[str]  # the names of the attachments holding a cut body in full
    payload_id: int | None = None


def both_languages(render: Callable[[], str]) -> str:
    """A sentence in English and in Chinese, for text stored in a message (read by agents of either language)."""
    with translation.override("en"):
        english = render()
    with translation.override("zh-hans"):
        chinese = render()
    return english if english == chinese else f"{english} / {chinese}"


def _truncation_marker(name: str) -> str:
    return (
        "["
        + both_languages(lambda: gettext("Message truncated: the full text is attached as %(name)s.") % {"name": name})
        + "]"
    )


def _cut_text(text: str, limit: int) -> str:
    """At most `limit` characters, ending at a line break or a space near the limit when there is one."""
    head = text[:limit]
    for breaker in ("\n", " "):
        at = head.rfind(breaker, max(0, limit - 2000))
        if at > 0:
            return head[:at].rstrip()
    return head


def _cut_html(html: str, limit: int) -> str:
    """At most `limit` characters of HTML, ending after a tag (never inside a tag or an entity); the sanitiser
    closes what is left open."""
    head = html[:limit]
    at = head.rfind(">")
    return head[: at + 1] if at > 0 else _cut_text(re.sub(r"<[^>]*$", "", head), limit)


def _within_limit(inbound: NormalizedInbound) -> tuple[str, str, list[tuple[str, bytes, str]], list[str]]:
    """(text, html, whole bodies to attach, their names): a body over the limit is cut at a clean boundary with a
    bilingual marker, and kept whole as an attachment (issue 11, finding 5)."""
    limit = min(settings.PIVOTDESK_INBOUND_MAX_BODY_CHARS, MAX_BODY)
    text, html = bodies_to_store(inbound)
    whole: list[tuple[str, bytes, str]] = []
    names: list[str] = []
    if len(text) > limit:
        marker = _truncation_marker("message.txt")
        full = inbound.full_text if len(inbound.full_text) >= len(text) else text
        whole.append(("message.txt", full.encode("utf-8"), "text/plain"))
        names.append("message.txt")
        text = _cut_text(text, limit - len(marker) - 2) + "\n\n" + marker
    if len(html) > limit:
        marker = _truncation_marker("message.html")
        whole.append(("message.html", html.encode("utf-8"), "text/html"))
        names.append("message.html")
        html = _cut_html(html, limit - len(marker) - 20) + f"<p>{escape(marker)}</p>"
    return text, html, whole, names


def prepare_inbound(
    workspace: Workspace, inbound: NormalizedInbound, *, payload_id: int | None = None
) -> PreparedInbound:
    """Apply the intake limits and write the files to storage, before any write transaction. A file over a limit
    (count, size, the message's total, a blocked type) is left out and counted, never a failed message."""
    text, html, whole, truncated = _within_limit(inbound)
    left_out, names = inbound.left_out, list(inbound.left_out_names)
    files: list[StoredFile] = []
    kept_bytes = 0
    try:
        for att in inbound.attachments:
            size = len(att.content)
            over = (
                len(files) >= settings.PIVOTDESK_INBOUND_MAX_ATTACHMENTS
                or kept_bytes + size > settings.PIVOTDESK_INBOUND_MAX_ATTACHMENT_BYTES
            )
            stored = None if over else _store(workspace, att.filename, att.content, att.content_type, att)
            if stored is None:
                left_out += 1
                names.append(att.filename)
                continue
            kept_bytes += size
            files.append(stored)
        for filename, content, content_type in whole:  # the cut bodies, whole: outside the count of attachments
            stored = _store(workspace, filename, content, content_type, None)
            if stored is None:
                left_out += 1
                names.append(filename)
            else:
                files.append(stored)
    except BaseException:
        attachment_files_discard(files)
        raise
    return PreparedInbound(
        text=text,
        html=html,
        files=files,
        left_out=left_out,
        left_out_names=names[:20],
        truncated=truncated,
        payload_id=payload_id,
    )


def _store(
    workspace: Workspace, filename: str, content: bytes, content_type: str, att: InboundAttachment | None
) -> StoredFile | None:
    try:
        return attachment_file_store(
            workspace_id=workspace.pk,
            filename=filename,
            content=content,
            content_type=content_type,
            inline=bool(att and att.inline),
            content_id=att.content_id if att else "",
        )
    except ValidationFailed:  # too large or a blocked type: left out (the raw payload keeps it)
        return None
