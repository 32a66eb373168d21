"""Find executable constructs in a rendered page (stdlib `html.parser`; no browser): what a payload would need to run.

A finding is one of: a `<script>` that is not ours (inline code or a source outside /static/ carrying a marker),
an element that loads or navigates by itself (`iframe`, `frame`, `object`, `embed`, `base`, `meta http-equiv`), an
event-handler attribute or a template directive (Alpine `x-*`/`@`/`:`, HTMX `hx-*`) that carries a payload's
marker, a `javascript:`/`vbscript:`/`data:text/html` URL in any attribute, `srcdoc`, or CSS with a marker,
`expression(` or `javascript:`. The markers (`__pd_xss(`, `alert(`) come from the corpus: our own templates never
contain them, so their handlers and directives are not findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from pivotdesk.web.tests.security.xss_corpus import MARKERS

_LOADS_BY_ITSELF = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"}
# Parser-differential (mutation XSS) ground: MathML and the legacy raw-text elements never appear in our templates.
_FOREIGN_OR_RAW = {"math", "mglyph", "malignmark", "mtext", "xmp", "noembed", "noframes", "plaintext", "listing"}
_INERT_ATTRIBUTES = {"title", "alt", "value", "placeholder", "label", "name", "id", "class", "for", "datetime", "lang"}
_CONTROL_AND_SPACE = re.compile(r"[\x00-\x20\x7f]+")
_DANGEROUS_SCHEME = re.compile(r"^(javascript|vbscript|data:text/html|data:application/xhtml|data:image/svg)", re.I)


@dataclass(frozen=True)
class Finding:
    """One executable construct: where (tag and attribute) and what."""

    tag: str
    attribute: str
    value: str

    def __str__(self) -> str:
        return f"<{self.tag} {self.attribute}={self.value[:160]!r}>"


def _marked(text: str) -> bool:
    return any(m in text for m in MARKERS)


def _scheme(value: str) -> str:
    return _CONTROL_AND_SPACE.sub("", value).lower()


_URL_ATTRIBUTES = {"data", "background", "poster", "srcset", "codebase", "cite", "ping", "to", "from", "values", "by"}


def _is_url_attribute(name: str) -> bool:
    """Attributes a browser follows or loads as a URL (an <option value="javascript:…"> is only text)."""
    return name in _URL_ATTRIBUTES or name.endswith(("href", "src", "action"))


def _is_directive(name: str) -> bool:
    bare = name.removeprefix("data-")
    return bare.startswith(("on", "hx-", "x-", "@", ":")) or name.startswith(("hx-", "x-"))


def _dangerous_attribute(name: str, value: str) -> bool:
    """An attribute that runs or loads code: srcdoc, a script URL, script-ish CSS, or a marker where it executes."""
    lowered = value.lower()
    if name == "srcdoc" or _marked(name):
        return True
    if _is_url_attribute(name) and _DANGEROUS_SCHEME.match(_scheme(value)):
        return True
    if name == "style":
        return _marked(value) or "expression(" in lowered or "javascript:" in lowered
    if not _marked(value) or name in ("href", "src"):
        return False  # a marker inside an http(s) or relative URL is a harmless string
    if _is_directive(name):
        return True
    return name not in _INERT_ATTRIBUTES and not name.startswith(("aria-", "data-"))


class _Auditor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[Finding] = []
        self.raw_tag: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in _LOADS_BY_ITSELF or tag in _FOREIGN_OR_RAW:
            self.findings.append(Finding(tag, "-", str(values)))
        source = self.get_starttag_text() or ""
        if _marked(source) and "<" in source[1:]:
            # markup inside an attribute value, unescaped: a browser's parser may see a tag where this one saw text
            self.findings.append(Finding(tag, "#source", source))
        if tag == "meta" and "http-equiv" in values:
            self.findings.append(Finding(tag, "http-equiv", str(values)))
        if tag == "script":
            src = values.get("src", "")
            if (src and not src.startswith("/static/") and not src.startswith("https://")) or _marked(src):
                self.findings.append(Finding(tag, "src", src))
        if tag in ("script", "style"):
            self.raw_tag = tag
        for name, value in values.items():
            if _dangerous_attribute(name, value):
                self.findings.append(Finding(tag, name, value))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self.raw_tag = None

    def handle_endtag(self, tag: str) -> None:
        if tag == self.raw_tag:
            self.raw_tag = None

    def handle_data(self, data: str) -> None:
        if self.raw_tag is not None and (_marked(data) or "expression(" in data):
            self.findings.append(Finding(self.raw_tag, "#text", data))


def executable_constructs(html: str) -> list[Finding]:
    """Every place in `html` where a payload could run."""
    auditor = _Auditor()
    auditor.feed(html)
    if auditor.raw_tag is not None and _marked(auditor.rawdata):
        # an unterminated <script>/<style>: the parser holds its text back instead of reporting it
        auditor.findings.append(Finding(auditor.raw_tag, "#text", auditor.rawdata))
    auditor.close()
    return auditor.findings
