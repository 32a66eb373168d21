"""HTML sanitising (nh3) and HTML → plain text, for messages from agents, customers and mail."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import nh3
from django.conf import settings

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


# Browsers drop tabs and line breaks inside URLs, so "/no\ttifications/" is "/notifications/" to them.
_URL_NOISE = re.compile(r"[\t\n\r]")
_RASTER_DATA = re.compile(r"data:image/(png|gif|jpeg|jpg|webp)[;,]", re.IGNORECASE)


def own_hosts() -> frozenset[str]:
    """The host names this desk answers on (ALLOWED_HOSTS without "*", and the host of PIVOTDESK_BASE_URL); an
    entry starting with a dot also covers its subdomains, as in Django."""
    hosts = {h.lower() for h in settings.ALLOWED_HOSTS if h and h != "*"}
    base = urlsplit(getattr(settings, "PIVOTDESK_BASE_URL", "") or "").hostname
    if base:
        hosts.add(base.lower())
    return frozenset(hosts)


def _is_own_host(host: str, hosts: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == h or (h.startswith(".") and (host == h[1:] or host.endswith(h))) for h in hosts)


def image_source_allowed(value: str, *, hosts: Iterable[str]) -> bool:
    """May an `<img src>` from a message point here? Yes for inline `cid:` parts (rewritten to our attachment
    URLs when the mail is stored), raster `data:` images and absolute http(s) URLs on another host. No for
    relative and protocol-relative sources and for our own hosts: an image is fetched by GET with the agent's
    cookies, so it must never reach one of our URLs (the "silenced alerts" of issue 11)."""
    url = _URL_NOISE.sub("", value).strip()
    lower = url.lower()
    if lower.startswith("cid:"):
        return len(url) > 4
    if lower.startswith("data:"):
        return _RASTER_DATA.match(url) is not None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host or "\\" in url:
        return False
    return not _is_own_host(host, hosts)


def _attribute_filter(hosts: frozenset[str]) -> Callable[[str, str, str], str | None]:
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not image_source_allowed(value, hosts=hosts):
            return None
        if attribute == "href" and _URL_NOISE.sub("", value).strip().lower().startswith("data:"):
            return None  # `data:` is allowed for raster images only; a data:text/html link is a page of the sender's
        return value

    return keep


def sanitize_html(raw: str) -> str:
    """Strip scripts, event handlers and unknown tags; links get rel=noopener noreferrer; image sources that are
    relative, protocol-relative, on our own host or a non-raster `data:` are dropped (see `image_source_allowed`)."""
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter(own_hosts()),
        url_schemes={"http", "https", "mailto", "tel", "cid", "data"},
        link_rel="noopener noreferrer",
    )


_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_DOT_SEGMENT = re.compile(r"/\.|%2e|%2f|%5c", re.IGNORECASE)  # "/media/../notifications/1/open/" is not media
_SRC_ATTR = re.compile(r"""\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


@dataclass(frozen=True)
class ShownHtml:
    """Stored message HTML made ready to show: `html` with remote images held back, `blocked` how many."""

    html: str
    blocked: int


def hold_back_images(stored: str, *, block_remote: bool, local_prefixes: Iterable[str] = ()) -> ShownHtml:
    """Prepare sanitised, stored message HTML for display.

    - A remote image (http(s) on another host) is kept as `data-blocked-src` with no `src` when `block_remote`
      is set (customer mail: tracking pixels), to be revealed by the agent, like a mail client does.
    - A local source (starting with "/") is kept only under one of `local_prefixes` (our attachment and media
      URLs, where inline `cid:` images are rewritten to); any other source of ours is dropped, which also covers
      HTML stored before the sanitiser dropped them.
    """
    prefixes = tuple(p for p in local_prefixes if p.startswith("/") and not p.startswith("//"))
    hosts = own_hosts()
    blocked = 0

    def one(match: re.Match[str]) -> str:
        nonlocal blocked
        tag = match.group(0)
        src = _SRC_ATTR.search(tag)
        if src is None:
            return tag
        raw = src.group(1) if src.group(1) is not None else src.group(2) if src.group(2) is not None else src.group(3)
        url = _URL_NOISE.sub("", html.unescape(raw)).strip()
        before, after = tag[: src.start()], tag[src.end() :]
        if url.startswith("/") and not url.startswith("//") and "\\" not in url:
            if prefixes and url.startswith(prefixes) and not _DOT_SEGMENT.search(url):
                return tag
            return before + after
        if not image_source_allowed(url, hosts=hosts):
            return before + after
        if block_remote and url.lower().startswith(("http:", "https:")):
            blocked += 1
            return f'{before} data-blocked-src="{html.escape(url, quote=True)}"{after}'
        return tag

    return ShownHtml(html=_IMG_TAG.sub(one, stored), blocked=blocked)


_BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|tr|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n{3,}")


def html_to_text(raw: str) -> str:
    """A readable plain-text rendering of HTML (for search, previews and channels without HTML)."""
    cleaned = nh3.clean(raw, tags=_ALLOWED_TAGS, attributes={})
    text = _BLOCK_END.sub("\n", cleaned)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def text_to_html(text: str) -> str:
    """Escape plain text and keep its paragraphs and line breaks."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)
