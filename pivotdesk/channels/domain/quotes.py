"""Separating a mail reply from the quoted history and signature below it (pure).

mail-parser-reply does the general work (with its zh and en tables); our rules add the separators it misses:
Gmail-zh `在 2026年3月1日 … 写道：`, QQ/Foxmail `------------------ 原始邮件 ------------------`, Outlook-zh
`发件人: … 发送时间: …` blocks, `-- ` signatures and mobile footers. The full original is always kept by the caller.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

_SEPARATORS = [
    re.compile(
        r"^\s*在\s*.{4,80}?写道\s*[:：]\s*$", re.MULTILINE
    ),  # Gmail zh: 在 2026年3月1日周日 10:00，张三 <a@b> 写道：
    re.compile(r"^\s*[-—_]{2,}\s*(原始邮件|原始郵件|Original Message|Original)\s*[-—_]{2,}\s*$", re.MULTILINE | re.I),
    re.compile(r"^\s*[-—_]{2,}\s*(回复的原邮件|转发的邮件|Forwarded message)\s*[-—_]{2,}\s*$", re.MULTILINE | re.I),
    re.compile(  # Outlook / Foxmail zh header block: 发件人 then 发送时间/日期 within a few lines
        r"^\s*(?:\*\s*)?(发件人|寄件者|From)\s*[:：].*\n(?:.*\n){0,3}?\s*(?:\*\s*)?(发送时间|日期|時間|Sent|Date)\s*[:：]",
        re.MULTILINE,
    ),
    re.compile(r"^\s*On\s.{4,200}?\swrote:\s*$", re.MULTILINE | re.DOTALL),
    re.compile(r"^\s*Le\s.{4,200}?\sa écrit\s*:\s*$", re.MULTILINE),
    re.compile(r"^\s*Am\s.{4,200}?\sschrieb.{0,80}:\s*$", re.MULTILINE),
    re.compile(r"^>.*(?:\n>.*)*\s*\Z", re.MULTILINE),  # a trailing block of > quotes
]
_SIGNATURE = re.compile(r"^-- ?$", re.MULTILINE)
_MOBILE_FOOTERS = re.compile(
    r"^\s*(发自我的\s?(iPhone|iPad|华为|小米|手机|Android).*|Sent from my \w+.*|从我的 iPhone 发送|Get Outlook for \w+.*|"
    r"发自网易邮箱.*|来自\s?QQ\s?邮箱.*)\s*$",
    re.MULTILINE | re.IGNORECASE,
)
_PARSER = EmailReplyParser(languages=["zh", "en", "de", "fr", "ja"])


def strip_quoted(text: str) -> str:
    """The new part of a reply, without quoted history, signature delimiter block or mobile footer.
    Returns the text unchanged when stripping would leave nothing."""
    original = text.replace("\r\n", "\n").replace("\r", "\n")
    cut = len(original)
    for pattern in _SEPARATORS:
        match = pattern.search(original)
        if match and match.start() < cut and original[: match.start()].strip():
            cut = match.start()
    reply = original[:cut]
    try:
        parsed = _PARSER.parse_reply(reply)
    except Exception:  # the library's regexes are best-effort; never let them lose the mail
        parsed = None
    if parsed and parsed.strip() and len(parsed.strip()) < len(reply.strip()):
        reply = parsed
    sig = _SIGNATURE.search(reply)
    if sig and reply[: sig.start()].strip():
        reply = reply[: sig.start()]
    reply = _MOBILE_FOOTERS.sub("", reply)
    reply = reply.strip()
    return reply or original.strip()
