"""Parsing raw RFC 822 mail into a normalised message (pure: stdlib `email`, no Django).

Never raises on malformed input: what cannot be read is listed in `defects`, and the caller stores the raw
bytes first anyway. Every charset is decoded through `charsets.decode_bytes` (GB2312 → GB18030 and friends).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import email
import email.header
import email.parser
import email.utils
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import Message

from pivotdesk.channels.domain.charsets import decode_bytes, repair_surrogates

_MSGID = re.compile(r"<[^<>\s]+>")
_ADDR = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class ParsedAttachment:
    """A file carried by the mail (inline images keep their Content-ID)."""

    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class MimeLimits:
    """How much of a mail becomes stored files (issue 11, finding 4). What is over a limit is left out and counted;
    it stays in the raw mail, which is always kept."""

    max_parts: int = 200  # leaf parts walked (body parts and files)
    max_depth: int = 10  # multipart nesting
    max_attachments: int = 50  # files kept (inline images included)
    max_total_bytes: int = 25 * 1024 * 1024  # all kept files together
    max_file_bytes: int = 25 * 1024 * 1024  # one file


@dataclass(frozen=True)
class Address:
    name: str
    email: str


@dataclass
class ParsedEmail:
    """The parts of a mail a service desk needs, decoded to text."""

    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    sender: Address | None = None
    reply_to: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    date: dt.datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = ""
    defects: list[str] = field(default_factory=list)
    left_out: int = 0  # parts over a limit: not stored as files, still in the raw mail
    left_out_names: list[str] = field(default_factory=list)  # the names of left-out files that were read (≤ 20)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, nearest first (In-Reply-To, then References newest → oldest)."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


def decode_header_value(raw: str | None, hint: str | None = None) -> str:
    """Decode an RFC 2047 header (encoded words in any charset, or raw 8-bit bytes) to clean text. `hint` is the
    charset to try first for raw 8-bit bytes (usually the body's): senders that skip RFC 2047 use it there too."""
    if not raw:
        return ""
    raw = repair_surrogates(str(raw), hint)
    if "\x1b$" in raw or "\x1b(" in raw:  # raw ISO-2022-JP escape sequences without encoded words
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            raw = raw.encode("ascii").decode("iso2022_jp_ext")
    out: list[str] = []
    try:
        parts = email.header.decode_header(raw)
    except Exception:  # malformed encoded words: keep the raw text
        parts = [(raw, None)]
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(repair_surrogates(chunk))
    text = "".join(out) if any(isinstance(c, bytes) for c, _ in parts) else " ".join(out)
    return _WS.sub(" ", text.replace("\x00", "")).strip()


def _addresses(raw: str | None, hint: str | None = None) -> list[Address]:
    if not raw:
        return []
    decoded = decode_header_value(raw, hint)
    result = []
    for name, raw_addr in email.utils.getaddresses([decoded]):
        addr = raw_addr.strip().strip("<>").lower()
        if _ADDR.fullmatch(addr):
            result.append(Address(name=name.strip().strip('"'), email=addr))
    if not result:  # "Big Bug bb@bug.com", "a@x.com b@x.com": take the addresses found in the text
        found = _ADDR.findall(decoded)
        name = decoded.split(found[0])[0].strip(" <\"'") if found else ""
        result = [Address(name=name if i == 0 else "", email=a.lower()) for i, a in enumerate(found)]
    return result


def repair_header_block(raw: bytes) -> tuple[bytes, bool]:
    """Make a damaged header block parseable: a line that is neither `Name: value` nor indented is treated as a
    continuation of the previous header (folding whitespace lost in transit) instead of ending the headers."""
    match = re.search(rb"\r?\n\r?\n", raw)
    head, rest = (raw[: match.start()], raw[match.start() :]) if match else (raw, b"")
    lines = head.split(b"\n")
    fixed = False
    for i, line in enumerate(lines[1:], start=1):
        if line.strip(b"\r") and not _HEADER_LINE.match(line) and line[:1] not in (b" ", b"\t"):
            lines[i] = b" " + line
            fixed = True
    return (b"\n".join(lines) + rest, True) if fixed else (raw, False)


def _msgids(raw: str | None) -> list[str]:
    return _MSGID.findall(str(raw or ""))


def _raw_headers(msg: Message, name: str) -> list[str]:
    """Header values as stored (8-bit bytes kept as surrogate escapes, so they can be re-decoded properly)."""
    wanted = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == wanted]


def _raw_header(msg: Message, name: str) -> str | None:
    values = _raw_headers(msg, name)
    return values[0] if values else None


def _part_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", errors="surrogateescape")
    return b""


def _filename(part: Message) -> str:
    name = None
    try:
        name = part.get_filename()
    except Exception:  # malformed parameters
        name = None
    if name:
        return decode_header_value(name).replace("/", "_").replace("\\", "_")[:255]
    return ""


def parse_email(raw: bytes, limits: MimeLimits | None = None) -> ParsedEmail:
    """Parse raw RFC 822 bytes into a ParsedEmail; malformed input gives defects, never an exception. Parts over
    `limits` are counted in `left_out`, not decoded into files."""
    limits = limits or MimeLimits()
    parsed = ParsedEmail()
    raw, repaired = repair_header_block(raw)
    if repaired:
        parsed.defects.append("repaired header block")
    body_readable = True
    try:
        msg = email.message_from_bytes(raw, policy=policy.compat32)
    except RecursionError as exc:  # thousands of nested parts: keep the headers, leave the body in the raw mail
        parsed.defects.append(f"unparseable body: {exc}")
        msg = email.parser.BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        body_readable = False
    except Exception as exc:  # pragma: no cover - the compat32 parser accepts anything
        parsed.defects.append(f"unparseable: {exc}")
        return parsed
    parsed.defects += [type(d).__name__ for d in msg.defects]
    leaves, parsed.left_out = _leaves(msg, limits) if body_readable else ([], 1)
    hint = _charset_hint(leaves)
    parsed.message_id = (_msgids(_raw_header(msg, "Message-ID")) or [""])[0]
    parsed.in_reply_to = _msgids(_raw_header(msg, "In-Reply-To"))
    parsed.references = _msgids(_raw_header(msg, "References"))
    parsed.subject = decode_header_value(_raw_header(msg, "Subject"), hint)
    senders = (
        _addresses(_raw_header(msg, "From"), hint)
        or _addresses(_raw_header(msg, "Sender"), hint)
        or _addresses(_raw_header(msg, "Reply-To"), hint)
    )
    parsed.sender = senders[0] if senders else None
    reply_to = _addresses(_raw_header(msg, "Reply-To"), hint)
    parsed.reply_to = reply_to[0] if reply_to else None
    parsed.to = _addresses(", ".join(_raw_headers(msg, "To")), hint)
    parsed.cc = _addresses(", ".join(_raw_headers(msg, "Cc")), hint)
    parsed.content_type = msg.get_content_type()
    date_raw = _raw_header(msg, "Date")
    if date_raw:
        try:
            parsed.date = email.utils.parsedate_to_datetime(decode_header_value(date_raw))
            if parsed.date.tzinfo is None:
                parsed.date = parsed.date.replace(tzinfo=dt.UTC)
        except (TypeError, ValueError, IndexError):
            parsed.defects.append("bad Date header")
    for name in (
        "Auto-Submitted", "Precedence", "X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress",
        "List-Id", "List-Unsubscribe", "X-Failed-Recipients", "Return-Path", "X-Mailer", "User-Agent",
        "Content-Type", "X-Loop", "X-PivotDesk-Ticket",
    ):  # fmt: skip
        value = _raw_header(msg, name)
        if value is not None:
            parsed.headers[name.lower()] = decode_header_value(value)[:1000]
    _walk(leaves, parsed, limits)
    return parsed


def _charset_hint(leaves: list[Message]) -> str | None:
    """The first declared charset of the mail's text parts."""
    for part in leaves:
        try:
            charset = part.get_content_charset()
        except Exception:  # malformed parameters
            charset = None
        if charset and charset.lower() not in ("us-ascii", "ascii"):
            return str(charset)
    return None


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # unreadable Content-Type
        return "application/octet-stream"


def _children(part: Message) -> list[Message] | None:
    """The sub-parts of a multipart container, or None for a leaf."""
    payload = part.get_payload()
    if _content_type(part).startswith("multipart/") and isinstance(payload, list):
        return [child for child in payload if isinstance(child, Message)]
    return None


def _leaves(msg: Message, limits: MimeLimits) -> tuple[list[Message], int]:
    """The leaf parts in order, at most `max_parts` of them and none deeper than `max_depth`, and how many leaves
    were left out. An attached message (message/rfc822) is one leaf, not descended into. Iterative: a mail nested
    thousands of levels deep costs no recursion."""
    leaves: list[Message] = []
    left_out = 0
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        children = _children(part)
        if children is None:
            if len(leaves) < limits.max_parts:
                leaves.append(part)
            else:
                left_out += 1
        elif depth >= limits.max_depth:
            left_out += _count_leaves(children)
        else:
            stack.extend((child, depth + 1) for child in reversed(children))
    return leaves, left_out


def _count_leaves(parts: list[Message]) -> int:
    count, stack = 0, list(parts)
    while stack:
        children = _children(stack.pop())
        if children is None:
            count += 1
        else:
            stack.extend(children)
    return count


def _body_text(part: Message, ctype: str, keep: Callable[[ParsedAttachment], None]) -> str:
    """A body part's text; files uuencoded inside plain text are taken out and kept as attachments."""
    body = decode_bytes(_part_bytes(part), part.get_content_charset()).replace("\x00", "")
    if ctype == "text/plain":
        body, uu_files = split_uuencoded(body)
        for uu_name, uu_data in uu_files:
            keep(ParsedAttachment(filename=uu_name, content_type=_guess_type(uu_name), content=uu_data))
    return body


def _walk(leaves: list[Message], parsed: ParsedEmail, limits: MimeLimits) -> None:
    texts: list[str] = []
    htmls: list[str] = []
    kept_bytes = 0

    def keep(attachment: ParsedAttachment) -> None:
        """Keep a file unless it is over a limit (count, its size, the message's total): then it is left out."""
        nonlocal kept_bytes
        size = len(attachment.content)
        if (
            len(parsed.attachments) >= limits.max_attachments
            or size > limits.max_file_bytes
            or kept_bytes + size > limits.max_total_bytes
        ):
            parsed.left_out += 1
            if len(parsed.left_out_names) < 20:
                parsed.left_out_names.append(attachment.filename)
            return
        kept_bytes += size
        parsed.attachments.append(attachment)

    for part in leaves:
        ctype = _content_type(part)
        disposition = str(part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        filename = _filename(part)
        raw_cid = str(part.get("Content-ID") or "")
        content_id = (_msgids(raw_cid) or [raw_cid])[0].strip("<> ")
        is_body_text = ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename
        if is_body_text:
            (htmls if ctype == "text/html" else texts).append(_body_text(part, ctype, keep))
            continue
        if ctype.startswith(("message/", "multipart/")):
            inner = part.get_payload()
            try:
                if isinstance(inner, list):
                    data = b"".join(m.as_bytes() for m in inner if isinstance(m, Message))
                else:
                    data = _part_bytes(part)
            except Exception:  # an attached message that cannot be re-serialised: keep its text form
                data = str(inner).encode("utf-8", errors="replace")
            name = filename or ("forwarded.eml" if ctype == "message/rfc822" else f"{ctype.split('/')[1]}.txt")
            keep(ParsedAttachment(filename=name, content_type=ctype, content=data))
            continue
        data = _part_bytes(part)
        inline = disposition == "inline" or (bool(content_id) and disposition != "attachment")
        if not filename:
            ext = ctype.split("/")[-1].split("+")[0][:10] or "bin"
            filename = f"{'inline' if inline else 'attachment'}-{len(parsed.attachments) + 1}.{ext}"
        keep(
            ParsedAttachment(filename=filename, content_type=ctype, content=data, content_id=content_id, inline=inline)
        )
    parsed.text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    parsed.html = "\n".join(h for h in htmls if h.strip())


_UU_BEGIN = re.compile(r"^begin(?:-base64)? [0-7]{3,4} (?P<name>[^\r\n]+?)\s*$", re.MULTILINE)


def split_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Files sent the pre-MIME way, uuencoded inside the text (`begin 644 name` … `end`): decoded and taken out of the
    text. A block without its `end` line is left as text (nothing is lost)."""
    files: list[tuple[str, bytes]] = []
    out: list[str] = []
    position = 0
    for match in _UU_BEGIN.finditer(text):
        if match.start() < position:
            continue
        end = re.compile(r"^end\s*$", re.MULTILINE).search(text, match.end())
        if end is None:
            break
        body = text[match.end() : end.start()].strip("\r\n").splitlines()
        data = _decode_uu_lines(body, base64_form=match.group(0).startswith("begin-base64"))
        if data is None:
            continue
        out.append(text[position : match.start()])
        files.append((_safe_uu_name(match.group("name")), data))
        position = end.end()
    out.append(text[position:])
    return ("".join(out).strip("\n") if files else text), files


def _decode_uu_lines(lines: list[str], *, base64_form: bool) -> bytes | None:
    if base64_form:
        try:
            return base64.b64decode("".join(line.strip() for line in lines if line.strip() != "===="), validate=False)
        except (binascii.Error, ValueError):
            return None
    chunks: list[bytes] = []
    for line in lines:
        if not line or line in ("`", " "):
            continue
        try:
            chunks.append(binascii.a2b_uu(line))
        except binascii.Error:
            # Some encoders pad lines wrongly; decode the length the first character announces (as the uu module did).
            nbytes = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
            try:
                chunks.append(binascii.a2b_uu(line[:nbytes]))
            except binascii.Error:
                return None
    return b"".join(chunks)


def _safe_uu_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "attachment.bin"
    return name[:200]


def _guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
