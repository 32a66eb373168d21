"""The customers REST API, through HTTP: contacts (search, create, update, identities, merge) and organizations."""

from __future__ import annotations

import pytest

from pivotdesk.customers.models import Contact
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(agent, api_client_for):
    return api_client_for(agent)


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def test_create_contact_with_identities(api, workspace):
    org = OrganizationFactory.create(workspace=workspace, domains=["acme.cn"])
    res = post(
        api,
        "/api/v1/contacts",
        {
            "name": "王芳",
            "email": "Wang.Fang@acme.cn",
            "phone": "138 0013 8000",
            "identities": [{"kind": "wechat", "value": "o-123"}],
        },
    )
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["email"] == "wang.fang@acme.cn"
    assert body["phone"] == "+8613800138000"
    assert body["organization"]["id"] == org.pk  # matched by the email domain
    assert {(i["kind"], i["value"]) for i in body["identities"]} == {
        ("email", "wang.fang@acme.cn"),
        ("phone", "+8613800138000"),
        ("wechat", "o-123"),
    }
    dup = post(api, "/api/v1/contacts", {"email": "wang.fang@acme.cn"})
    assert dup.status_code == 409


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"email": "nope"},
        {"phone": "12"},
        {"name": "x", "tier": "gold"},
        {"name": "x", "organization_id": 999999},
        {"name": "x\x00"},
        {"name": "x" * 201},
        {"name": "x", "identities": [{"kind": "fax", "value": "1"}]},
    ],
)
def test_bad_contacts_are_4xx(api, payload):
    res = post(api, "/api/v1/contacts", payload)
    assert 400 <= res.status_code < 500, res.content
    assert res.json()["message"]
    assert not Contact.objects.exists()


def test_list_search_filter_and_paginate(api, workspace):
    org = OrganizationFactory.create(workspace=workspace)
    a = ContactFactory.create(workspace=workspace, name="Alice Zhang", organization=org)
    ContactFactory.create(workspace=workspace, name="Bob Li")
    ContactFactory.create(workspace=workspace, name="Carol Wu")
    assert [c["id"] for c in api.get("/api/v1/contacts?q=zhang").json()["items"]] == [a.pk]
    assert [c["id"] for c in api.get(f"/api/v1/contacts?organization={org.pk}").json()["items"]] == [a.pk]
    page = api.get("/api/v1/contacts?limit=2").json()
    assert (page["count"], len(page["items"]), page["next_offset"]) == (3, 2, 2)
    assert api.get("/api/v1/contacts?offset=-5").status_code == 422
    assert api.get("/api/v1/contacts?organization=abc").status_code == 422


def test_get_and_patch_contact(api, workspace, contact):
    org = OrganizationFactory.create(workspace=workspace, tier="vip")
    res = patch(api, f"/api/v1/contacts/{contact.pk}", {"name": "New Name", "organization_id": org.pk})
    assert res.status_code == 200, res.content
    assert res.json()["organization"]["tier"] == "vip"
    assert res.json()["effective_tier"] == "vip"
    cleared = patch(api, f"/api/v1/contacts/{contact.pk}", {"organization_id": None})
    assert cleared.json()["organization"] is None
    assert api.get(f"/api/v1/contacts/{contact.pk}").json()["name"] == "New Name"
    assert patch(api, f"/api/v1/contacts/{contact.pk}", {"tier": "gold"}).status_code == 422


def test_light_agent_cannot_manage_contacts(light_agent, contact, api_client_for):
    api = api_client_for(light_agent)
    assert api.get(f"/api/v1/contacts/{contact.pk}").status_code == 200
    assert patch(api, f"/api/v1/contacts/{contact.pk}", {"name": "x"}).status_code == 403
    assert post(api, "/api/v1/contacts", {"name": "x"}).status_code == 403


def test_add_identity(api, workspace, contact):
    res = post(api, f"/api/v1/contacts/{contact.pk}/identities", {"kind": "phone", "value": "+8613900139000"})
    assert res.status_code == 201, res.content
    assert res.json()["value"] == "+8613900139000"
    other = ContactFactory.create(workspace=workspace)
    taken = post(api, f"/api/v1/contacts/{other.pk}/identities", {"kind": "phone", "value": "+8613900139000"})
    assert taken.status_code == 409
    assert post(api, f"/api/v1/contacts/{contact.pk}/identities", {"kind": "email", "value": "x"}).status_code == 422


def test_merge_needs_the_permission(api, supervisor, workspace, api_client_for):
    source = ContactFactory.create(workspace=workspace, name="", email="dup@example.org")
    target = ContactFactory.create(workspace=workspace, name="Real")
    # agents lack contact.merge
    assert post(api, f"/api/v1/contacts/{source.pk}/merge", {"target_id": target.pk}).status_code == 403
    sup = api_client_for(supervisor)
    res = post(sup, f"/api/v1/contacts/{source.pk}/merge", {"target_id": target.pk})
    assert res.status_code == 200, res.content
    assert res.json()["id"] == target.pk
    assert "dup@example.org" in {i["value"] for i in res.json()["identities"]}
    assert sup.get(f"/api/v1/contacts/{source.pk}").json()["merged_into_id"] == target.pk
    assert post(sup, f"/api/v1/contacts/{source.pk}/merge", {"target_id": target.pk}).status_code == 409
    assert post(sup, f"/api/v1/contacts/{target.pk}/merge", {"target_id": target.pk}).status_code == 422


def test_organizations(api, workspace):
    res = post(api, "/api/v1/organizations", {"name": "Acme", "tier": "strategic", "domains": ["ACME.com"]})
    assert res.status_code == 201, res.content
    org = res.json()
    assert org["domains"] == ["acme.com"]
    assert post(api, "/api/v1/organizations", {"name": "Acme"}).status_code == 409
    assert post(api, "/api/v1/organizations", {"name": "X", "tier": "gold"}).status_code == 422
    assert post(api, "/api/v1/organizations", {"name": ""}).status_code == 422
    changed = patch(api, f"/api/v1/organizations/{org['id']}", {"tier": "vip", "account": {"arr": 120000}})
    assert changed.json()["tier"] == "vip"
    assert changed.json()["account"] == {"arr": 120000}
    assert api.get(f"/api/v1/organizations/{org['id']}").json()["name"] == "Acme"
    assert [o["name"] for o in api.get("/api/v1/organizations?q=ac").json()["items"]] == ["Acme"]
