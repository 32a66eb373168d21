"""Huge integers and deep JSON at the API and the agent queue (issue 11, finding 10): a readable 4xx, never a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # beyond 64 bits: the database driver overflows
DEEP = b"[" * 10_000 + b"]" * 10_000


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/tickets?offset={HUGE}",
        f"/api/v1/tickets?team={HUGE}",
        f"/api/v1/tickets?limit={HUGE}",
        f"/api/v1/contacts?offset={HUGE}",
        f"/api/v1/notifications/?offset={HUGE}",
        f"/api/v1/notifications/?limit={HUGE}",
    ],
)
def test_api_list_refuses_integers_beyond_its_range_with_a_422(client, agent, api_auth, url):
    response = client.get(url, **api_auth(agent))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_failed"


@pytest.mark.parametrize("url", [f"/queue/?page={HUGE}", f"/queue/rows/?page={HUGE}", f"/queue/?page=-{HUGE}"])
def test_queue_page_beyond_any_ticket_shows_an_empty_page(client_as, agent, url):
    response = client_as(agent).get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("url", [f"/queue/?team={HUGE}", f"/queue/rows/?team={HUGE}", f"/queue/?team=-{HUGE}"])
def test_queue_filter_with_a_huge_id_is_refused_with_a_4xx(client_as, agent, url):
    response = client_as(agent).get(url)
    assert 400 <= response.status_code < 500


def test_api_body_nested_ten_thousand_deep_is_a_400(client, agent, api_auth):
    response = client.post("/api/v1/tickets", data=DEEP, content_type="application/json", **api_auth(agent))
    assert response.status_code == 400


def test_api_message_body_nested_ten_thousand_deep_is_a_400(client, agent, api_auth, ticket):
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/messages", data=DEEP, content_type="application/json", **api_auth(agent)
    )
    assert response.status_code == 400
    assert response.json()["message"] == "The request body is not valid JSON."
