"""Separating a mail reply from the quoted history and signature below it (pure).

Two passes, structure first:

1. **HTML** (`reply_from_html`): the quote containers mail clients write — `<blockquote>`, Gmail's `gmail_quote`,
   Thunderbird's `moz-cite-prefix`, Yahoo's `yahoo_quoted`, Outlook's `divRplyFwdMsg` / `appendonsend` / the
   bordered header block of Outlook desktop, ProtonMail's `protonmail_quote` — mark where history starts, whatever
   the language. Everything from the first container on is history, unless the reply goes on below it (answers
   written between the quoted lines: then nothing is cut) or the container is a forwarded message.
2. **Text** (`strip_quoted`): separators by pattern. mail-parser-reply does the general work (its zh/en/de/fr/ja
   tables); our rules add Gmail-zh `在 … 写道：`, QQ/Foxmail `------------------ 原始邮件 ------------------`,
   header blocks in any language (three or more `Label: value` lines with an address and a time: `发件人:` /
   `From:` / `От:` / `Von:` …), an attribution line in any language (a line with an address or a time that ends
   in a colon, right above `>` lines: `… написал:`, `… a écrit :`), `-- ` signatures and mobile footers.

**Forwarded messages are content, not history** ("Fwd:", "---------- Forwarded message ---------", "转发的邮件",
"Begin forwarded message:", "Пересылаемое сообщение", "Weitergeleitete Nachricht"): nothing at or below the
forward marker is cut. The caller always keeps the full original as well.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from mailparser_reply import EmailReplyParser

_FORWARD_MARKERS = re.compile(
    r"^\s*(?:[-—_=]{2,}\s*)?(?:Forwarded message|Forwarded Message|Original forwarded message|转发的邮件|"
    r"转发邮件|轉寄的郵件|Пересылаемое сообщение|Переадресованное сообщение|Weitergeleitete Nachricht|"
    r"Message transféré|Mensaje reenviado|Messaggio inoltrato|転送されたメッセージ)\s*(?:[-—_=]{2,})?\s*$"
    r"|^\s*Begin forwarded message\s*:\s*$",
    re.MULTILINE | re.IGNORECASE,
)
_SEPARATORS = [
    re.compile(
        r"^\s*在\s*.{4,80}?写道\s*[:：]\s*$", re.MULTILINE
    ),  # Gmail zh: 在 2026年3月1日周日 10:00，张三 <a@b> 写道：
    re.compile(r"^\s*[-—_]{2,}\s*(原始邮件|原始郵件|Original Message|Original)\s*[-—_]{2,}\s*$", re.MULTILINE | re.I),
    re.compile(r"^\s*[-—_]{2,}\s*(回复的原邮件)\s*[-—_]{2,}\s*$", re.MULTILINE | re.I),
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
    r"发自网易邮箱.*|来自\s?QQ\s?邮箱.*|Отправлено с (?:iPhone|Android|мобильного).*)\s*$",
    re.MULTILINE | re.IGNORECASE,
)
# Language-independent shapes: a "Label: value" line, an address, a time of day or a year.
_HEADER_LINE = re.compile(r"^\s*\*?\s*[^\W\d_][^:：\n<>@]{0,24}\s*[:：][ \t]*\S.*$")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|<[^<>\s]+@[^<>\s]+>")
_TIME_OR_YEAR = re.compile(r"\b\d{1,2}:\d{2}\b|\b(?:19|20)\d{2}\b")
_PARSER = EmailReplyParser(languages=["zh", "en", "de", "fr", "ja"])


def strip_quoted(text: str) -> str:
    """The new part of a reply, without quoted history, signature delimiter block or mobile footer.
    Returns the text unchanged when stripping would leave nothing; keeps a forwarded message whole."""
    original = text.replace("\r\n", "\n").replace("\r", "\n")
    forward = _FORWARD_MARKERS.search(original)
    if forward:
        head = _strip(original[: forward.start()], use_library=False)
        return (head + "\n\n" + original[forward.start() :].strip()).strip() if head else original.strip()
    return _strip(original, use_library=True) or original.strip()


def _strip(original: str, *, use_library: bool) -> str:
    cut = len(original)
    for start in _separator_starts(original):
        if start < cut and original[:start].strip():
            cut = start
    reply = original[:cut]
    if use_library:
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
    return reply.strip()


def _separator_starts(text: str) -> list[int]:
    starts = [m.start() for pattern in _SEPARATORS if (m := pattern.search(text))]
    starts += _header_block_starts(text)
    starts += _attribution_starts(text)
    return starts


def _header_block_starts(text: str) -> list[int]:
    """Where a block of three or more `Label: value` lines begins that names an address and a time: a quoted mail's
    header block in any language (От: / Отправлено: / Кому: / Тема:, Von: / Gesendet: …)."""
    lines = text.split("\n")
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line) + 1
    found = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _HEADER_LINE.match(lines[j]):
            j += 1
        block = lines[i:j]
        names_sender = any(_ADDRESS.search(b) for b in block) and any(_TIME_OR_YEAR.search(b) for b in block)
        body_follows = j < len(lines) and bool("\n".join(lines[j:]).strip())  # the quoted mail's text
        if len(block) >= 3 and names_sender and body_follows:
            found.append(offsets[i])
        i = max(j, i + 1)
    return found


def _attribution_starts(text: str) -> list[int]:
    """An attribution line in any language: it names an address or a time, ends in a colon, and `>` lines follow
    (`1 марта 2026 г., в 10:00, Иван <ivan@mail.ru> написал:`)."""
    lines = text.split("\n")
    position, found = 0, []
    for k, line in enumerate(lines):
        stripped = line.strip()
        if (
            stripped.endswith((":", "："))
            and len(stripped) <= 300
            and (_ADDRESS.search(stripped) or _TIME_OR_YEAR.search(stripped))
        ):
            rest = [x for x in lines[k + 1 :] if x.strip()]
            if rest and rest[0].lstrip().startswith(">"):
                found.append(position)
        position += len(line) + 1
    return found


# --- HTML ----------------------------------------------------------------------------------------------------------
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote", "outlookmessageheader")
_QUOTE_IDS = ("divrplyfwdmsg", "appendonsend", "stopspelling", "mail-editor-reference-message-container")
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"})
_BLOCK = frozenset({"p", "div", "br", "li", "tr", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr"})
_DROP = frozenset({"script", "style", "head", "title"})
_MAX_DEPTH = 100


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """A forgiving tree of the mail's HTML (unclosed tags close with their parent; stray end tags are ignored)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k.lower(): (v or "") for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID and len(self.stack) < _MAX_DEPTH:  # deeper nesting is flattened (hostile mail)
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _is_quote_container(node: _Node) -> bool:
    if node.tag == "blockquote":
        return True
    classes = node.attrs.get("class", "").lower().split()
    if any(c in classes for c in _QUOTE_CLASSES):
        return True
    if node.attrs.get("id", "").lower() in _QUOTE_IDS:
        return True
    style = node.attrs.get("style", "").lower().replace(" ", "")
    # Outlook desktop: the quoted mail's header block sits in a div with a thin top border.
    return (node.tag == "div" and "border-top:solid#e1e1e1" in style) or "border-top:solid#b5c4df" in style


def _text_of(node: _Node | str) -> str:
    if isinstance(node, str):
        return node
    if node.tag in _DROP:
        return ""
    inner = "".join(_text_of(c) for c in node.children)
    return f"\n{inner}\n" if node.tag in _BLOCK else inner


class _Splitter:
    """Walks the tree once: text before the first quote container is the reply, text after it (outside later quote
    containers) tells whether the reply goes on below the quote."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.after: list[str] = []
        self.cut = False
        self.quoted_again = False

    def walk(self, node: _Node | str) -> None:
        if isinstance(node, str):
            (self.after if self.cut else self.kept).append(node)
            return
        if node.tag in _DROP:
            return
        if _is_quote_container(node):
            self._quote(node)
            return
        block = node.tag in _BLOCK
        if block:
            (self.after if self.cut else self.kept).append("\n")
        for child in node.children:
            self.walk(child)
        if block:
            (self.after if self.cut else self.kept).append("\n")

    def _quote(self, node: _Node) -> None:
        if self.cut:
            self.quoted_again = True  # text between two quotes is an inline answer
            self.after.append("\n")
        elif _FORWARD_MARKERS.search(_plain(_text_of(node))):
            self.kept.append(_text_of(node))  # a forwarded mail is content
        else:
            self.cut = True  # the container and everything after it is history


def reply_from_html(raw: str) -> str | None:
    """The new part of an HTML mail as plain text, cut at the first quote container; None when there is no quote
    container (or the reply continues below it: inline answers), so the caller falls back to the text rules."""
    builder = _TreeBuilder()
    try:
        builder.feed(raw)
        builder.close()
    except Exception:  # html.parser is forgiving; never let a hostile mail stop the intake
        return None
    splitter = _Splitter()
    splitter.walk(builder.root)
    if not splitter.cut:
        return None
    below = _plain("".join(splitter.after))
    if below and (splitter.quoted_again or not _SIGNATURE_LIKE.match(below)):
        return None  # answers between the quotes: keep the whole mail
    reply = _drop_trailing_attribution(_plain("".join(splitter.kept)))
    return strip_quoted(reply) if reply else None


def _drop_trailing_attribution(text: str) -> str:
    """The line above a quote container that introduces it (`01.03.2026, 10:00, "Поддержка" <a@b>:`), in any
    language: the last line, ending in a colon, naming an address or a time."""
    lines = text.rstrip().split("\n")
    last = lines[-1].strip()
    if len(lines) > 1 and last.endswith((":", "：")) and (_ADDRESS.search(last) or _TIME_OR_YEAR.search(last)):
        return "\n".join(lines[:-1]).strip()
    return text


# What may follow the quote without making it an inline reply: a signature, a mobile footer, a disclaimer line.
_SIGNATURE_LIKE = re.compile(
    r"^(?:--\s*\n|发自|Sent from|Get Outlook|Отправлено с)|^.{0,80}$", re.IGNORECASE | re.DOTALL
)


def _plain(text: str) -> str:
    text = html.unescape(text).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
