"""User files are served so that none of them can run as a page of ours (issue 11, finding 1).

The pure sniffing by magic numbers, and the one response helper every path serving user files uses.
"""

from __future__ import annotations

import io

import pytest

from pivotdesk.common.domain.filetypes import safe_download_name, sniff_raster_image
from pivotdesk.common.user_files import USER_CONTENT_CSP, download_disposition, user_file_response, user_file_url

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
HTML = b"<html><script>fetch('/api/v1/tokens', {method: 'POST'})</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (HTML, None),
        (SVG, None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),  # a RIFF that is audio, not an image
        (b"\x89PNG", None),  # a truncated signature
        (b"", None),
    ],
)
def test_only_raster_image_signatures_are_recognised(head, expected):
    assert sniff_raster_image(head) == expected


def test_download_names_lose_paths_and_control_characters():
    assert safe_download_name("../../etc/passwd") == "passwd"
    assert safe_download_name("a\r\nSet-Cookie: x.txt") == "aSet-Cookie: x.txt"
    assert safe_download_name("C:\\Users\\x\\发票.pdf") == "发票.pdf"
    assert safe_download_name("  ") == "attachment"


def _served(content: bytes, filename: str, *, inline: bool = True):
    return user_file_response(handle=io.BytesIO(content), filename=filename, inline=inline)


@pytest.mark.parametrize(
    ("content", "filename"),
    [(HTML, "page.html"), (SVG, "logo.svg"), (HTML, "photo.png"), (b"<?xml version='1.0'?><x/>", "a.xml")],
)
def test_anything_but_a_real_raster_image_is_a_sandboxed_download(content, filename):
    # when a hostile file is served, even with inline asked for
    response = _served(content, filename)
    # then it is a download of opaque bytes that a browser will neither sniff nor script
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == USER_CONTENT_CSP
    assert b"".join(response.streaming_content) == content


def test_a_real_png_is_shown_inline_as_the_type_its_bytes_show():
    response = _served(PNG, "screenshot.bin")
    assert response["Content-Disposition"] == 'inline; filename="screenshot.bin"'
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PNG  # the sniffed head was rewound


def test_a_real_png_not_meant_inline_is_a_download():
    assert _served(PNG, "a.png", inline=False)["Content-Disposition"].startswith("attachment;")


def test_chinese_file_names_use_rfc_6266_filename_star():
    response = _served(b"%PDF-1.7", "发票 2026.pdf")
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E5%8F%91%E7%A5%A8%202026.pdf"
    assert download_disposition("报表.csv") == "attachment; filename*=utf-8''%E6%8A%A5%E8%A1%A8.csv"


def test_links_point_at_the_user_content_origin_only_when_one_is_set(settings):
    settings.PIVOTDESK_USER_CONTENT_ORIGIN = ""
    assert user_file_url("/api/v1/attachments/7/download") == "/api/v1/attachments/7/download"
    settings.PIVOTDESK_USER_CONTENT_ORIGIN = "https://files.desk.example/"
    assert user_file_url("/api/v1/attachments/7/download") == "https://files.desk.example/api/v1/attachments/7/download"
