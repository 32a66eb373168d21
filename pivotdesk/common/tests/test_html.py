"""The message sanitiser: no image may point at our own URLs (a GET with the agent's cookies), inline `cid:` parts
and raster `data:` images stay; remote images in stored customer HTML are held back until the agent shows them."""

from __future__ import annotations

import pytest
from django.test import override_settings

from pivotdesk.common.html import hold_back_images, image_source_allowed, sanitize_html

OWN = ["desk.example.com", ".pivotdesk.test", "testserver"]


@pytest.mark.parametrize(
    "src",
    [
        "/notifications/1/open/",
        "notifications/1/open/",
        "./open/",
        "//desk.example.com/notifications/1/open/",
        "//evil.example.net/pixel.gif",
        "https://desk.example.com/notifications/1/open/",
        "HTTPS://DESK.EXAMPLE.COM./notifications/1/open/",
        "https://acme.pivotdesk.test/notifications/1/open/",
        "https:\\\\desk.example.com/notifications/1/open/",
        "/no\ttifications/1/open/",
        " /notifications/1/open/",
        "javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "data:text/html;base64,PGI+",
    ],
)
def test_same_origin_relative_and_odd_image_sources_are_dropped(src):
    with override_settings(ALLOWED_HOSTS=OWN):
        cleaned = sanitize_html(f'<p>hi <img src="{src}" alt="x"></p>')
    assert cleaned == '<p>hi <img alt="x"></p>'


@pytest.mark.parametrize(
    "src",
    [
        "cid:part1.abc@mail.example.com",
        "data:image/png;base64,iVBORw0KGgo=",
        "https://cdn.example.org/logo.png",
        "http://images.example.org/a.gif?x=1",
    ],
)
def test_inline_raster_and_remote_image_sources_are_kept(src):
    with override_settings(ALLOWED_HOSTS=OWN):
        assert f'src="{src.replace("&", "&amp;")}"' in sanitize_html(f'<img src="{src}">')


def test_links_to_our_pages_are_still_links():
    """Only images load by themselves; a link needs the agent's click and our GETs change nothing."""
    assert 'href="/tickets/5/"' in sanitize_html('<a href="/tickets/5/">see</a>')


def test_base_url_host_counts_as_ours():
    with override_settings(ALLOWED_HOSTS=["*"], PIVOTDESK_BASE_URL="https://help.acme.cn/"):
        assert not image_source_allowed("https://help.acme.cn/notifications/1/open/", hosts=["help.acme.cn"])
        assert sanitize_html('<img src="https://help.acme.cn/notifications/1/open/">') == "<img>"


def test_remote_images_are_held_back_and_counted():
    stored = (
        '<p><img src="https://t.example.net/o.gif?u=1&amp;m=2" alt="logo"> and <img src="data:image/png;base64,AA"></p>'
    )
    shown = hold_back_images(stored, block_remote=True)
    assert shown.blocked == 1
    assert ' src="https://t.example.net' not in shown.html
    assert '<img data-blocked-src="https://t.example.net/o.gif?u=1&amp;m=2" alt="logo">' in shown.html
    assert 'src="data:image/png;base64,AA"' in shown.html


def test_remote_images_stay_when_not_blocking():
    stored = '<img src="https://cdn.example.org/a.png">'
    assert hold_back_images(stored, block_remote=False).html == stored


def test_stored_local_sources_survive_only_under_attachment_and_media_prefixes():
    """HTML stored before the fix may still hold `/notifications/…`; inline images were rewritten to media URLs."""
    stored = (
        '<img src="/media/attachments/a.png">'
        '<img src="/tickets/7/attachments/3/">'
        '<img src="/notifications/1/open/">'
        '<img src="/media/../notifications/1/open/">'
        '<img src="/media/%2e%2e/notifications/1/open/">'
    )
    shown = hold_back_images(stored, block_remote=True, local_prefixes=["/media/", "/tickets/7/attachments/"])
    assert shown.html == '<img src="/media/attachments/a.png"><img src="/tickets/7/attachments/3/"><img><img><img>'
    assert shown.blocked == 0
