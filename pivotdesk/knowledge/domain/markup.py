"""HTML from a help centre (Zendesk, Zammad) as Markdown-ish text, without any HTML left in it.

A small tag mapping over the standard library's tokenizer: headings, paragraphs, line breaks, bold and italics,
lists, links and images (http, https and mailto only), code and preformatted blocks, quotes and table rows. The
content of script, style and similar elements is dropped; every other tag is dropped and its text kept. Text that
would read as HTML once rendered ("<script>" written as "&lt;script&gt;" in the source) keeps its angle brackets
escaped with a backslash, so the body holds no tag however a Markdown renderer treats raw HTML.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

_DROPPED = frozenset({"script", "style", "template", "noscript", "iframe", "object", "embed", "head", "title", "svg"})
_HEADINGS = {f"h{n}": "#" * n for n in range(1, 7)}
_BLOCKS = frozenset({"p", "div", "section", "article", "header", "footer", "table", "thead", "tbody", "figure"})
_INLINE = {"strong": "**", "b": "**", "em": "*", "i": "*", "code": "`"}
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_BLANKS = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")
_ANGLE = re.compile(r"([<>])")


def _safe_url(url: str | None) -> str | None:
    """The URL when it is an absolute http(s)/mailto one without spaces or brackets that would break the link."""
    if not url:
        return None
    url = url.strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in _SAFE_SCHEMES or any(ch in url for ch in " \n\t()<>"):
        return None
    return url


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropping = 0
        self.lists: list[list[int]] = []  # per open list: [is_ordered, next number]
        self.links: list[str | None] = []
        self.pre = 0
        self.quote = 0

    # -- helpers

    def _newlines(self, n: int) -> None:
        text = "".join(self.out)
        have = len(text) - len(text.rstrip("\n"))
        if text.strip() and have < n:
            self.out.append("\n" * (n - have))

    def _prefix(self) -> str:
        return "> " * self.quote

    # -- tokenizer callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropping += 1
            return
        if self.dropping:
            return
        self._open(tag, dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.dropping and tag not in _DROPPED:
            self._open(tag, dict(attrs))
            if tag not in ("br", "img", "hr"):
                self._close(tag)

    def _open(self, tag: str, attrs: dict[str, str | None]) -> None:
        if tag in _HEADINGS:
            self._newlines(2)
            self.out.append(self._prefix() + _HEADINGS[tag] + " ")
        elif tag in _BLOCKS or tag == "blockquote":
            self.quote += tag == "blockquote"
            self._newlines(2)
        elif tag in ("br", "hr", "ul", "ol", "pre"):
            self._open_structure(tag)
        elif tag == "li":
            self._list_item()
        elif tag in _INLINE and not self.pre:
            self.out.append(_INLINE[tag])
        else:
            self._open_media(tag, attrs)

    def _open_structure(self, tag: str) -> None:
        if tag == "br":
            self.out.append("\n" + self._prefix())
        elif tag == "hr":
            self._newlines(2)
            self.out.append("---")
            self._newlines(2)
        elif tag == "pre":
            self._newlines(2)
            self.out.append("```\n")
            self.pre += 1
        else:
            self._newlines(1 if self.lists else 2)
            self.lists.append([int(tag == "ol"), 1])

    def _list_item(self) -> None:
        self._newlines(1)
        indent = "  " * max(0, len(self.lists) - 1)
        if self.lists and self.lists[-1][0]:
            marker = f"{self.lists[-1][1]}. "
            self.lists[-1][1] += 1
        else:
            marker = "- "
        self.out.append(self._prefix() + indent + marker)

    def _open_media(self, tag: str, attrs: dict[str, str | None]) -> None:
        if tag == "a":
            url = _safe_url(attrs.get("href"))
            self.links.append(url)
            if url is not None:
                self.out.append("[")
        elif tag == "img":
            url = _safe_url(attrs.get("src"))
            if url is not None:
                alt = _escape((attrs.get("alt") or "").replace("[", "").replace("]", ""))
                self.out.append(f"![{alt}]({url})")
        elif tag == "tr":
            self._newlines(1)
            self.out.append("|")
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropping = max(0, self.dropping - 1)
            return
        if not self.dropping:
            self._close(tag)

    def _close(self, tag: str) -> None:
        if tag in _HEADINGS or tag in _BLOCKS:
            self._newlines(2)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._newlines(2)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newlines(1 if self.lists else 2)
        elif tag == "pre" and self.pre:
            self.pre -= 1
            self.out.append("\n```")
            self._newlines(2)
        elif tag in _INLINE and not self.pre:
            self.out.append(_INLINE[tag])
        elif tag == "a" and self.links:
            url = self.links.pop()
            if url is not None:
                self.out.append(f"]({url})")
        elif tag in ("td", "th"):
            self.out.append(" |")

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        if self.pre:
            self.out.append(_escape(data))
            return
        text = re.sub(r"\s+", " ", data)
        if self.quote and text.strip() and (not self.out or self.out[-1].endswith("\n")):
            self.out.append(self._prefix())
            text = text.lstrip()
        self.out.append(_escape(text))


def _escape(text: str) -> str:
    """Angle brackets escaped for Markdown, so no tag can form."""
    return _ANGLE.sub(r"\\\1", text)


def html_to_markdown(html: str) -> str:
    """The HTML as Markdown-ish text: structure kept, every tag gone."""
    converter = _Converter()
    converter.feed(html or "")
    converter.close()
    text = "".join(converter.out)
    lines = [line.rstrip() for line in _TRAILING.sub("\n", text).split("\n")]
    cleaned = "\n".join(line if line.strip() != ">" else "" for line in lines)
    return _BLANKS.sub("\n\n", cleaned).strip()
