"""The XSS corpus of the permanent security suite (issue 11): payloads that would run if a page showed them raw.

Every payload calls `__pd_xss(<id>)` when it executes (the browser test installs that function in every frame and
fails on any call), or `alert(<id>)` where it would run in a frame of its own origin (the browser test fails on any
dialog). The same marker lets the non-browser twin find a payload that survived in an executable place of the HTML.
Ids are numbers, so a payload needs no quotes of its own beyond the ones it is testing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

MARKERS = ("__pd_xss(", "alert(")


@dataclass(frozen=True)
class Payload:
    """One hostile string; `pid` is the number its code passes to the marker function."""

    pid: int
    family: str
    text: str


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _js_entities(text: str) -> str:
    return "".join(f"&#{ord(c)};" for c in text)


def _js_hex_entities(text: str) -> str:
    return "".join(f"&#x{ord(c):x}" for c in text)


_RAW: list[tuple[str, str]] = [
    # classic script
    ("script", "<script>__pd_xss(1)</script>"),
    ("script", "<SCRIPT SRC=data:text/javascript,__pd_xss(2)></SCRIPT>"),
    ("evasion", "<scr<script>ipt>__pd_xss(3)</scr</script>ipt>"),
    ("script", '<script type="module">__pd_xss(4)</script>'),
    # event handlers on many tags
    ("handler", "<img src=x onerror=__pd_xss(5)>"),
    ("handler", "<img/src='x'/onerror=__pd_xss(6)>"),
    ("handler", "<svg onload=__pd_xss(7)>"),
    ("handler", "<svg/onload=__pd_xss(8)//"),
    ("handler", "<body onload=__pd_xss(9)>"),
    ("handler", "<input autofocus onfocus=__pd_xss(10)>"),
    ("handler", "<select autofocus onfocus=__pd_xss(11)></select>"),
    ("handler", "<textarea autofocus onfocus=__pd_xss(12)></textarea>"),
    ("handler", "<details open ontoggle=__pd_xss(13)><summary>x</summary></details>"),
    ("handler", "<video><source onerror=__pd_xss(14)></video>"),
    ("handler", "<audio src=x onerror=__pd_xss(15)></audio>"),
    ("handler", "<marquee onstart=__pd_xss(16)>x</marquee>"),
    ("handler", "<div onpointerenter=__pd_xss(17) style=position:fixed;inset:0>x</div>"),
    ("handler", '<a href="https://example.com/" onclick="__pd_xss(18)">link</a>'),
    ("handler", "<isindex type=image src=1 onerror=__pd_xss(19)>"),
    ("handler", "<object data=x onerror=__pd_xss(20)></object>"),
    ("handler", "<style onload=__pd_xss(21)></style>"),
    ("handler", "<image src=x onerror=__pd_xss(22)>"),
    # javascript: / data: / vbscript: URLs with tricks
    ("url", '<a href="javascript:__pd_xss(23)">click</a>'),
    ("url", '<a href=" JaVaScRiPt:__pd_xss(24)">click</a>'),
    ("url", '<a href="jav&#x09;ascript:__pd_xss(25)">click</a>'),
    ("url", f'<a href="{_js_entities("javascript:")}__pd_xss(26)">click</a>'),
    ("url", f"<img src=x onerror=__pd_xss(27) alt={_js_hex_entities('x')}>"),
    ("url", '<a href="javascript&colon;__pd_xss(28)">click</a>'),
    ("url", '<a href="\x01javascript:__pd_xss(29)">click</a>'),
    ("url", '<a href="vbscript:__pd_xss(30)">click</a>'),
    ("url", '<a href="data:text/html,<script>alert(31)</script>">click</a>'),
    ("url", '<iframe src="javascript:parent.__pd_xss(32)"></iframe>'),
    ("url", f'<iframe src="data:text/html;base64,{_b64("<script>alert(33)</script>")}"></iframe>'),
    ("url", f'<object data="data:text/html;base64,{_b64("<script>alert(34)</script>")}"></object>'),
    ("url", '<embed src="javascript:__pd_xss(35)">'),
    ("url", f"<IMG SRC={_js_hex_entities('javascript:')}__pd_xss(36)>"),
    ("url", '<table background="javascript:__pd_xss(37)"><tr><td>x</td></tr></table>'),
    ("autolink", "javascript:__pd_xss(38)"),
    # SVG / MathML namespace confusion and mutation XSS
    ("namespace", "<svg><script>__pd_xss(39)</script></svg>"),
    ("namespace", "<svg><a xlink:href=\"javascript:__pd_xss(40)\"><text x='20' y='20'>x</text></a></svg>"),
    ("namespace", '<math><a xlink:href="javascript:__pd_xss(41)">x</a></math>'),
    ("namespace", "<svg><animate onbegin=__pd_xss(42) attributeName=x dur=1s>"),
    ("namespace", '<svg><set attributeName="onmouseover" to="__pd_xss(43)"/></svg>'),
    ("namespace", "<math><mtext><table><mglyph><style><img src=x onerror=__pd_xss(44)>"),
    ("namespace", "<svg><style><img src=x onerror=__pd_xss(45)></style></svg>"),
    ("mutation", '<noscript><p title="</noscript><img src=x onerror=__pd_xss(46)>">'),
    ("mutation", '<!--<img src="--><img src=x onerror=__pd_xss(47)//">'),
    ("mutation", "<form><math><mtext></form><form><mglyph><style></math><img src onerror=__pd_xss(48)>"),
    ("mutation", "<template><img src=x onerror=__pd_xss(49)></template><img src=x onerror=__pd_xss(49)>"),
    # frames, meta refresh, base, forms
    ("frame", '<iframe srcdoc="<script>parent.__pd_xss(50)</script>"></iframe>'),
    ("frame", "<iframe srcdoc='&lt;img src=x onerror=parent.__pd_xss(51)&gt;'></iframe>"),
    ("meta", '<meta http-equiv="refresh" content="0;url=javascript:__pd_xss(52)">'),
    ("meta", '<meta http-equiv="Set-Cookie" content="pd_xss=53">'),
    ("base", '<base href="javascript:__pd_xss(54)//">'),
    ("form", '<form action="javascript:__pd_xss(55)"><button>go</button></form>'),
    ("form", '<button form=x formaction="javascript:__pd_xss(56)">go</button>'),
    ("form", '<link rel=stylesheet href="javascript:__pd_xss(57)">'),
    # Alpine / HTMX / template injection
    ("template", '<div x-data x-init="__pd_xss(58)"></div>'),
    ("template", '<div x-data="{a: __pd_xss(59)}"></div>'),
    ("template", "<div x-data x-html=\"'<img src=x onerror=__pd_xss(60)>'\"></div>"),
    ("template", '<div hx-get="/queue/" hx-trigger="load" hx-on::before-request="__pd_xss(61)"></div>'),
    ("template", '<div hx-on::load="__pd_xss(62)" data-hx-on::load="__pd_xss(62)"></div>'),
    ("template", '<div x-data @click.window="__pd_xss(63)" x-init="$el.click()"></div>'),
    ("template", "{{constructor.constructor('__pd_xss(64)')()}}"),
    ("template", "${__pd_xss(65)}"),
    ("template", "{% debug %}{{ request.session }}#{__pd_xss(66)}"),
    ("template", "' + __pd_xss(67) + '"),
    # markdown-ish links
    ("markdown", "[click me](javascript:__pd_xss(68))"),
    ("markdown", '![x](x" onerror="__pd_xss(69))'),
    ("markdown", "<javascript:__pd_xss(70)>"),
    # CSS
    ("css", '<div style="width:expression(__pd_xss(71))">x</div>'),
    ("css", '<div style="background:url(javascript:__pd_xss(72))">x</div>'),
    ("css", '<style>@import "javascript:__pd_xss(73)"; *{background:url("javascript:__pd_xss(73)")}</style>'),
    # encodings: UTF-7, full-width, overlong look-alikes
    ("encoding", "+ADw-script+AD4-__pd_xss(74)+ADw-/script+AD4-"),
    ("encoding", "\uff1cscript\uff1e__pd_xss(75)\uff1c/script\uff1e"),
    ("encoding", "%3Cscript%3E__pd_xss(76)%3C/script%3E"),
    ("encoding", "\u00bcscript\u00be__pd_xss(77)\u00bc/script\u00be"),
    # breaking out of attributes, text areas, titles and JSON/script contexts
    ("breakout", '"><script>__pd_xss(78)</script>'),
    ("breakout", "'><img src=x onerror=__pd_xss(79)>"),
    ("breakout", '" onmouseover="__pd_xss(80)" autofocus onfocus="__pd_xss(80)" x="'),
    ("breakout", "' autofocus onfocus='__pd_xss(81)' x='"),
    ("breakout", "</textarea><script>__pd_xss(82)</script>"),
    ("breakout", "</title><script>__pd_xss(83)</script>"),
    ("breakout", "</script><script>__pd_xss(84)</script>"),
    ("breakout", '"};__pd_xss(85);//</script><script>__pd_xss(85)</script>'),
    ("breakout", "</style><script>__pd_xss(86)</script>"),
    ("breakout", "<!--</script><script>__pd_xss(87)</script>-->"),
]

SECOND_STAGE = frozenset({"evasion", "autolink", "template", "markdown", "encoding", "breakout"})
"""Families that run only through a second interpreter or context (a strip-once filter, a linkifier, a template or
markdown engine, a charset decoder, an attribute or script context); as plain HTML they are text."""

CORPUS: list[Payload] = [Payload(pid=i + 1, family=family, text=text) for i, (family, text) in enumerate(_RAW)]
"""The corpus; `pid` is the position (1-based). A payload's text names the ids its code calls."""


def short(payload: Payload, limit: int = 120) -> str:
    """The payload cut to a field's size, keeping the start (where the executable part is)."""
    return payload.text[:limit]
