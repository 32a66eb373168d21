"""What a file's bytes really are, by their magic numbers (pure: no Django).

A stored content type is what the sender claimed; only the bytes decide whether a file may be shown inline.
"""

from __future__ import annotations

# Raster images a browser can only draw, never run: the only types ever served inline.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

# How many leading bytes `sniff_raster_image` needs.
SNIFF_BYTES = 16


def sniff_raster_image(head: bytes) -> str | None:
    """The content type of a PNG, JPEG, GIF or WebP image from the file's first bytes, else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def safe_download_name(filename: str) -> str:
    """A file name fit for a header: no control characters, no path, never empty."""
    cleaned = "".join(ch for ch in filename if ch.isprintable()).replace("\\", "/").rsplit("/", 1)[-1].strip()
    return cleaned[:255] or "attachment"
