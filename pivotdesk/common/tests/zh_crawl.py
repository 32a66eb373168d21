"""What a Chinese-speaking agent reads on a page, and the English words in it that should have been translated
(issue 12, "bilingual at the source"). Used by `config/tests/test_zh_crawl.py` (Django's test client over the whole URL conf) and
`config/tests/test_zh_crawl_browser.py` (real Chromium, `document.body.innerText`).

Visible text is every text node outside `<script>`, `<style>` and `<template>`, plus the attributes a person reads
(`title`, `placeholder`, `aria-label`, `alt`, `data-confirm`, a button's `value`). Elements marked
`data-user-content` are skipped with everything inside them: what customers and colleagues wrote (subjects, bodies,
names, tags, custom field values, file names) is shown as written, in whatever language it was written. So are
elements marked `translate="no"` (HTML's own mark for codes: webhook event names, an embed snippet, JSON settings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

# Elements whose content is not read (or is code), and elements that never have an end tag.
# `title` repeats the page's heading (often a ticket's subject) in the tab; `code`, `pre` and `samp` show codes to copy
# (event names, headers, an embed snippet).
_SKIPPED = {"script", "style", "template", "noscript", "svg", "title", "code", "pre", "samp"}
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
}  # fmt: skip
_READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "data-confirm")

# Product, protocol and format names, key names and units that are the same in both languages. Keep it short: a
# word belongs here only when a Chinese UI would write it in Latin letters too.
ALLOWED_WORDS = frozenset(
    word.casefold()
    for word in (
        # the product and its parts
        "PivotDesk", "Pivot", "Demo",  # "Pivot Demo 示例公司" is the demo workspace's (bilingual) name
        # protocols, formats, standards
        "SLA", "API", "IMAP", "SMTP", "HTTP", "HTTPS", "URL", "CSV", "JSON", "HTML", "OCR", "ASR", "LLM", "SMS",
        "VIP", "CSAT", "NPS", "ETA", "IVR", "SSO", "CNY", "USD", "UTC", "GMT", "CST", "OpenAI", "TLS", "SSL",
        "HMAC", "SHA", "ID", "IDs", "RFC", "MIME", "UTF", "BOM", "PDF", "PNG", "JPEG", "GIF", "WebP", "Markdown", "Webhook",
        "Webhooks", "Bearer", "Swagger", "OpenAPI", "FAQ", "Lingua", "REST", "CRM", "CTI", "INBOX", "STARTTLS", "ERP",
        # messaging platforms and services
        "WeChat", "WhatsApp", "Telegram", "LINE", "Messenger", "Facebook", "Instagram", "DingTalk", "Feishu",
        "Lark", "Slack", "Teams", "Discord", "Twilio", "Apprise", "Gmail", "Outlook", "Exchange", "hCaptcha",
        "Turnstile", "reCAPTCHA", "Cloudflare", "Google", "Microsoft", "Zendesk",
        # keys on the keyboard
        "Ctrl", "Esc", "Enter", "Tab", "Shift", "Alt", "Cmd",
        # the ISO language codes the language menus show next to the language's own name
        "English",
    )
)  # fmt: skip

# Things that look like words but are codes: ticket keys, e-mail addresses, URLs and host names, file extensions,
# ISO dates and times, hexadecimal ids, version numbers, units after numbers ("12 ms", "3.5 km").
_CODES = re.compile(
    r"""
      [\w.+-]+@[\w-]+(?:\.[\w-]+)+          # e-mail address
    | \b[a-z][a-z0-9+.-]*://\S*              # URL (any scheme: apprise targets are tgram://, wecom://, …)
    | \b[A-Z][a-z]+/[A-Za-z_]+(?:/[A-Za-z_]+)?  # time zone (Asia/Shanghai)
    | /[\w./?=&%-]*                          # a path
    | \b[\w-]+(?:\.[\w-]+)*\.(?:com|cn|hk|tw|sg|jp|uk|de|dev|org|net|io|example|local|test)\b  # host name
    | \b[A-Z]{2,}-\d+\b                      # ticket and order keys (PD-10204)
    | \b\d+(?:\.\d+)?\s?(?:ms|km|kB|KB|MB|GB|px)\b   # units after a number
    | \b[0-9a-f]{8,}\b                       # hashes and hexadecimal ids
    | \bv?\d+(?:\.\d+){1,3}\b                # versions
    | \b\w+\.(?:txt|eml|csv|json|pdf|png|jpe?g|gif|zip|log|xlsx?|docx?)\b  # file names
    | \b[a-z_]+\.(?:[a-z_]+|\*)(?![\w.])     # event and notification kinds (sla.breach, routing.assigned, sla.*)
    """,
    re.VERBOSE,
)
# Product names of more than one word.
ALLOWED_PHRASES = ("WhatsApp Cloud API", "Google Authenticator", "Microsoft Authenticator", "FreeOTP", "1Password")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]|[A-Za-z]")


@dataclass(frozen=True)
class Finding:
    """An English word on a page, with the text around it."""

    page: str
    word: str
    context: str
    line: str = ""

    def __str__(self) -> str:
        return f"{self.page}: {self.word!r} in {self.context!r}"


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.texts: list[str] = []

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skipped = (
            self._skipping() or tag in _SKIPPED or "data-user-content" in values or values.get("translate") == "no"
        )
        if not skipped:
            for name in _READ_ATTRIBUTES:
                if values.get(name):
                    self.texts.append(str(values[name]))
            if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
                self.texts.append(str(values["value"]))
        if tag not in _VOID:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    """The texts of a page a person reads, user content left out."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.texts


def english_words(
    page: str, texts: Iterable[str], *, extra_allowed: Iterable[str] = (), phrases: Iterable[str] = ()
) -> list[Finding]:
    """The English words (three Latin letters or more, outside the allowlist and codes) in a page's texts.

    `phrases` are whole strings taken out first (the workspace's own bilingual names); `extra_allowed` more words."""
    allowed = ALLOWED_WORDS | {w.casefold() for w in extra_allowed}
    ordered = sorted({p for p in (*phrases, *ALLOWED_PHRASES) if p}, key=len, reverse=True)
    findings = []
    for text in texts:
        line = " ".join(text.split())
        for phrase in ordered:
            line = line.replace(phrase, " ")
        line = _CODES.sub(" ", line)
        for match in WORD.finditer(line):
            word = match.group()
            if len(word) < 3 or word.casefold() in allowed:
                continue
            start = max(0, match.start() - 40)
            findings.append(Finding(page=page, word=word, context=line[start : match.end() + 40], line=line))
    return findings
