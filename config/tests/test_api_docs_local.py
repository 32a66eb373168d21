"""The API docs page loads Swagger UI from our own static files, never from a CDN (issue 11, finding 13)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_swagger_ui_is_served_from_our_static_files(admin_agent_client):
    response = admin_agent_client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in s for s in sources), sources
    for source in sources:
        assert not source.startswith(("http://", "https://", "//")), source
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_swagger_assets_are_served(client):
    for asset in ("/static/ninja/swagger-ui-bundle.js", "/static/ninja/swagger-ui.css"):
        response = client.get(asset)
        assert response.status_code == 200, asset
