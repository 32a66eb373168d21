"""The flat XML of WeChat / WeCom callbacks and passive replies (pure Python)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from xml.sax.saxutils import escape

MAX_XML = 2 * 1024 * 1024


class XmlError(ValueError):
    """The body is not a WeChat callback XML document."""


def parse_flat_xml(raw: bytes | str) -> dict[str, str]:
    """`<xml><Key>value</Key>…</xml>` → {"Key": "value"}; nested elements are flattened as "Parent.Child"."""
    data = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
    if len(data) > MAX_XML:
        raise XmlError("The XML document is larger than 2 MB.")
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise XmlError("DTDs and entities are not accepted.")
    try:
        root = ET.fromstring(data)  # noqa: S314 - see the DTD check above
    except ET.ParseError as exc:
        raise XmlError(f"Not well-formed XML: {exc}") from exc
    if root.tag != "xml":
        raise XmlError(f"The root element is <{root.tag}>, not <xml>.")
    fields: dict[str, str] = {}
    _collect(root, "", fields)
    return fields


def _collect(element: ET.Element, prefix: str, out: dict[str, str]) -> None:
    for child in element:
        name = f"{prefix}{child.tag}"
        if len(child):
            _collect(child, f"{name}.", out)
        else:
            out.setdefault(name, (child.text or "").strip())


def _cdata(value: str) -> str:
    if "]]>" in value:
        return escape(value)
    return f"<![CDATA[{value}]]>"


def build_xml(fields: Mapping[str, str | int]) -> str:
    """A flat `<xml>` document; strings in CDATA, integers bare (as WeChat's own replies)."""
    parts = [f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}>{_cdata(v)}</{k}>" for k, v in fields.items()]
    return "<xml>" + "".join(parts) + "</xml>"
