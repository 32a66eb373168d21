"""The tickets REST API, through HTTP: the ticket contract, messages, timeline, links, merge, bulk, configuration."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import custom_field_create, ticket_update
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


TICKET_KEYS = {
    "id", "number", "subject", "status", "status_label", "priority", "ticket_type", "channel", "requester",
    "organization", "assignee", "team", "category", "tags", "custom_fields", "language", "created_at",
    "updated_at", "first_response_at", "solved_at", "closed_at", "merged_into_id", "parent_id", "message_count",
}  # fmt: skip


@pytest.fixture
def api(agent, api_client_for):
    return api_client_for(agent)


@pytest.fixture
def admin_api(admin_agent, api_client_for):
    return api_client_for(admin_agent, scope="admin")


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


# ---- create ---------------------------------------------------------------------------------------------------------


def test_create_ticket_with_new_requester_returns_the_contract(api, workspace):
    # given a customer who never wrote before
    # when a ticket is created for them by email
    res = post(
        api,
        "/api/v1/tickets",
        {
            "subject": "Cannot log in",
            "body": "The password reset mail never arrives.",
            "requester": {"name": "Li Lei", "email": "LI.LEI@example.com"},
            "priority": "high",
            "tags": ["Login", "mail"],
        },
    )
    # then the ticket has every field of the contract, from the API channel, with a new contact
    assert res.status_code == 201, res.content
    body = res.json()
    assert set(body) == TICKET_KEYS
    assert body["channel"] == "api"
    assert body["priority"] == "high"
    assert body["status"] == "new"
    assert body["status_label"] == "New"
    assert body["requester"]["email"] == "li.lei@example.com"
    assert body["requester"]["name"] == "Li Lei"
    assert body["tags"] == ["login", "mail"]
    assert body["message_count"] == 1
    # and a second ticket from the same address resolves to the same contact
    again = post(api, "/api/v1/tickets", {"subject": "Again", "requester": {"email": "li.lei@example.com"}})
    assert again.json()["requester"]["id"] == body["requester"]["id"]


def test_create_ticket_by_requester_id_with_team_and_assignee(api, workspace, agent, contact):
    team = TeamFactory.create(workspace=workspace)
    org = OrganizationFactory.create(workspace=workspace, tier="vip")
    contact.organization = org
    contact.save()
    res = post(
        api,
        "/api/v1/tickets",
        {"subject": "Hi", "body": "Hello", "requester_id": contact.pk, "team_id": team.pk, "assignee_id": agent.pk},
    )
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["team"] == {"id": team.pk, "name": team.name}
    assert body["assignee"] == {"id": agent.pk, "name": agent.name}
    assert body["organization"] == {"id": org.pk, "name": org.name, "tier": "vip"}


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"subject": "No requester"}, 422),
        ({"subject": "x", "requester_id": 999999}, 422),
        ({"subject": "x", "requester": {"email": "not-an-address"}}, 422),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "priority": "whenever"}, 422),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "team_id": 999999}, 422),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "assignee_id": 2**70}, 422),
        ({"subject": "x" * 300, "requester": {"email": "a@example.com"}}, 422),
        ({"subject": "nul\x00byte", "requester": {"email": "a@example.com"}}, 422),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "custom_fields": {"k": "nul\x00"}}, 422),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "custom_fields": {"unknown": 1}}, 422),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "tags": "not-a-list"}, 422),
        ({"subject": "x", "requester": {"email": "a@example.com"}, "status": "closed"}, 422),
    ],
)
def test_bad_ticket_input_is_a_readable_4xx(api, payload, status):
    res = post(api, "/api/v1/tickets", payload)
    assert res.status_code == status, res.content
    body = res.json()
    assert body["code"] and body["message"]
    assert not Ticket.objects.exists()


def test_non_json_body_is_a_4xx(api):
    res = api.post("/api/v1/tickets", "{not json", content_type="application/json")
    assert 400 <= res.status_code < 500
    res = api.post("/api/v1/tickets", "[1, 2]", content_type="application/json")
    assert 400 <= res.status_code < 500


def test_requester_of_another_workspace_is_unknown(api, other_workspace):
    stranger = ContactFactory.create(workspace=other_workspace)
    res = post(api, "/api/v1/tickets", {"subject": "x", "requester_id": stranger.pk})
    assert res.status_code == 422
    assert res.json()["code"] == "unknown_reference"


# ---- list -----------------------------------------------------------------------------------------------------------


def test_list_filters_and_paginates(api, workspace, agent, contact, actor):
    urgent = make_ticket(workspace=workspace, requester=contact, subject="Urgent one", priority="urgent")
    mine = make_ticket(workspace=workspace, requester=contact, subject="Mine", tags=["vip"])
    ticket_update(ticket=mine, actor=actor, changes={"assignee": agent, "status": "pending"})
    make_ticket(workspace=workspace, subject="Other")

    def ids(query):
        res = api.get(f"/api/v1/tickets?{query}")
        assert res.status_code == 200, res.content
        return {t["id"] for t in res.json()["items"]}

    assert ids("priority=urgent") == {urgent.pk}
    assert ids("assignee=me") == {mine.pk}
    assert mine.pk not in ids("assignee=none")
    assert ids("status=open,pending") == {mine.pk}
    assert ids("tag=VIP") == {mine.pk}
    assert ids(f"q=%23{urgent.number}") == {urgent.pk}
    assert ids(f"requester={contact.pk}") == {urgent.pk, mine.pk}
    assert len(ids("created_after=2000-01-01&created_before=2999-01-01T00:00:00Z")) == 3

    page = api.get("/api/v1/tickets?limit=2&sort=-created_at").json()
    assert page["count"] == 3
    assert page["limit"] == 2
    assert page["next_offset"] == 2
    last = api.get("/api/v1/tickets?limit=2&offset=2").json()
    assert len(last["items"]) == 1
    assert last["next_offset"] is None


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "priority=bogus",
        "assignee=someone",
        "sort=owner",
        "created_after=yesterday",
        "offset=-1",
        "limit=0",
        "team=abc",
        f"team={2**70}",
        "q=%00",
        "channel=pigeon",
    ],
)
def test_bad_list_queries_are_422(api, query):
    res = api.get(f"/api/v1/tickets?{query}")
    assert res.status_code == 422, (query, res.content)
    assert res.json()["code"] == "validation_failed"


def test_huge_limit_is_clamped_to_200(api):
    res = api.get("/api/v1/tickets?limit=100000")
    assert res.status_code == 200
    assert res.json()["limit"] == 200


def test_list_query_count_does_not_grow_with_tickets(api, workspace, agent, actor):
    team = TeamFactory.create(workspace=workspace)
    org = OrganizationFactory.create(workspace=workspace)

    def seed(n):
        for i in range(n):
            requester = ContactFactory.create(workspace=workspace, organization=org)
            t = make_ticket(workspace=workspace, requester=requester, subject=f"T{i}", tags=["a", f"t{i}"])
            ticket_update(ticket=t, actor=actor, changes={"assignee": agent, "team": team})

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            res = api.get("/api/v1/tickets?limit=200")
        assert res.status_code == 200
        return len(ctx.captured_queries), res.json()["count"]

    api.get("/api/v1/tickets")  # the token's first use records last_used_at once
    seed(5)
    few, n_few = count_queries()
    seed(25)
    many, n_many = count_queries()
    assert (n_few, n_many) == (5, 30)
    assert many == few


# ---- get, patch, timeline ------------------------------------------------------------------------------------------


def test_get_by_id_and_number(api, ticket):
    assert api.get(f"/api/v1/tickets/{ticket.pk}").json()["number"] == ticket.number
    assert api.get(f"/api/v1/tickets/by-number/{ticket.number}").json()["id"] == ticket.pk
    assert api.get("/api/v1/tickets/99999999").status_code == 404
    assert api.get(f"/api/v1/tickets/{2**70}").status_code in (404, 422)
    assert api.get("/api/v1/tickets/abc").status_code in (404, 422)


def test_patch_changes_fields_and_records_the_timeline(api, workspace, agent, ticket):
    team = TeamFactory.create(workspace=workspace)
    team.members.add(agent)
    custom_field_create(actor=Actor.system(), workspace=workspace, key="order_no", label="Order", field_type="text")
    res = patch(
        api,
        f"/api/v1/tickets/{ticket.pk}",
        {
            "status": "open",
            "priority": "urgent",
            "team_id": team.pk,
            "assignee_id": agent.pk,
            "add_tags": ["Refund"],
            "custom_fields": {"order_no": "A-1"},
            "follower_ids": [agent.pk],
        },
    )
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["status"] == "open"
    assert body["priority"] == "urgent"
    assert body["assignee"]["id"] == agent.pk
    assert body["team"]["id"] == team.pk
    assert "refund" in body["tags"]
    assert body["custom_fields"] == {"order_no": "A-1"}

    events = api.get(f"/api/v1/tickets/{ticket.pk}/events").json()["items"]
    fields = {e["field"] for e in events}
    assert {"status", "priority", "team", "assignee", "tags", "custom_fields.order_no"} <= fields
    assert all(e["actor_type"] == "api" for e in events if e["field"] == "priority")


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"status": "closed"}, 409),
        ({"status": "bogus"}, 422),
        ({"team_id": 999999}, 422),
        ({"assignee_id": None, "subject": None}, 422),
        ({"language": None}, 422),
        ({"custom_status_id": 999999}, 422),
        ({"follower_ids": [999999]}, 422),
        ({"subject": ""}, 422),
    ],
)
def test_bad_patches_are_4xx(api, ticket, payload, status):
    res = patch(api, f"/api/v1/tickets/{ticket.pk}", payload)
    assert res.status_code == status, res.content


def test_unassign_with_null(api, agent, ticket, actor):
    ticket_update(ticket=ticket, actor=actor, changes={"assignee": agent})
    res = patch(api, f"/api/v1/tickets/{ticket.pk}", {"assignee_id": None})
    assert res.status_code == 200
    assert res.json()["assignee"] is None


def test_light_agent_cannot_update_or_reply_publicly(light_agent, ticket, api_client_for):
    api = api_client_for(light_agent)
    assert patch(api, f"/api/v1/tickets/{ticket.pk}", {"priority": "high"}).status_code == 403
    assert post(api, f"/api/v1/tickets/{ticket.pk}/messages", {"body": "hi"}).status_code == 403
    note = post(api, f"/api/v1/tickets/{ticket.pk}/messages", {"body": "fyi", "kind": "note"})
    assert note.status_code == 201


# ---- messages -------------------------------------------------------------------------------------------------------


def test_reply_sets_first_response_and_status(api, ticket):
    res = post(api, f"/api/v1/tickets/{ticket.pk}/messages", {"body": "We are on it.", "status_after": "pending"})
    assert res.status_code == 201, res.content
    msg = res.json()
    assert msg["kind"] == "public"
    assert msg["author_type"] == "agent"
    assert msg["attachments"] == []
    assert "delivery_status" in msg
    t = api.get(f"/api/v1/tickets/{ticket.pk}").json()
    assert t["first_response_at"] is not None
    assert t["status"] == "pending"
    assert t["message_count"] == 2
    listing = api.get(f"/api/v1/tickets/{ticket.pk}/messages").json()
    assert [m["kind"] for m in listing["items"]] == ["public", "public"]
    assert listing["items"][0]["author_type"] == "contact"


def test_note_is_hidden_when_notes_are_excluded(api, ticket):
    post(api, f"/api/v1/tickets/{ticket.pk}/messages", {"body": "internal", "kind": "note"})
    assert api.get(f"/api/v1/tickets/{ticket.pk}/messages").json()["count"] == 2
    assert api.get(f"/api/v1/tickets/{ticket.pk}/messages?include_notes=false").json()["count"] == 1


def test_multipart_reply_with_attachment_can_be_downloaded(api, ticket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("invoice.txt", b"total: 42", content_type="text/plain")
    res = api.post(f"/api/v1/tickets/{ticket.pk}/messages", {"body": "See attached", "kind": "note", "files": upload})
    assert res.status_code == 201, res.content
    [attachment] = res.json()["attachments"]
    assert attachment["filename"] == "invoice.txt"
    assert attachment["size"] == 9
    download = api.get(attachment["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"total: 42"


@pytest.mark.parametrize(
    "payload",
    [{}, {"body": ""}, {"body": "x", "kind": "shout"}, {"body": "x\x00"}, {"body": "x", "status_after": "gone"}],
)
def test_bad_messages_are_4xx(api, ticket, payload):
    res = post(api, f"/api/v1/tickets/{ticket.pk}/messages", payload)
    assert 400 <= res.status_code < 500, res.content
    assert res.json()["message"]


def test_message_body_that_is_not_json_is_a_4xx(api, ticket):
    res = api.post(f"/api/v1/tickets/{ticket.pk}/messages", "nope", content_type="application/json")
    assert res.status_code == 400
    assert res.json()["code"] == "invalid_json"


# ---- merge, links, parent, bulk ------------------------------------------------------------------------------------


def test_merge_moves_messages_and_closes_the_source(api, workspace, contact):
    source = make_ticket(workspace=workspace, requester=contact, subject="dup")
    target = make_ticket(workspace=workspace, requester=contact, subject="main")
    res = post(api, f"/api/v1/tickets/{source.pk}/merge", {"target_id": target.pk})
    assert res.status_code == 200, res.content
    assert res.json()["id"] == target.pk
    assert res.json()["message_count"] == 2
    src = api.get(f"/api/v1/tickets/{source.pk}").json()
    assert src["status"] == "closed"
    assert src["merged_into_id"] == target.pk
    assert post(api, f"/api/v1/tickets/{source.pk}/merge", {"target_id": target.pk}).status_code == 409
    assert post(api, f"/api/v1/tickets/{target.pk}/merge", {"target_id": target.pk}).status_code == 422


def test_links_and_parent(api, workspace):
    a, b, c = (make_ticket(workspace=workspace, subject=s) for s in "abc")
    res = post(api, f"/api/v1/tickets/{a.pk}/links", {"target_id": b.pk, "kind": "duplicate_of"})
    assert res.status_code == 201, res.content
    link = res.json()
    assert link["direction"] == "outgoing"
    assert link["ticket"]["id"] == b.pk
    seen_from_b = api.get(f"/api/v1/tickets/{b.pk}/links").json()
    assert seen_from_b["links"][0]["direction"] == "incoming"

    assert put_parent(api, c, a).status_code == 200
    assert api.get(f"/api/v1/tickets/{a.pk}/links").json()["children"][0]["id"] == c.pk
    assert put_parent(api, a, c).status_code == 422  # a cycle
    assert put_parent(api, c, None).json()["parent_id"] is None

    assert api.delete(f"/api/v1/tickets/{c.pk}/links/{link['id']}").status_code == 404  # not c's link
    assert api.delete(f"/api/v1/tickets/{b.pk}/links/{link['id']}").status_code == 204
    assert api.get(f"/api/v1/tickets/{a.pk}/links").json()["links"] == []
    assert post(api, f"/api/v1/tickets/{a.pk}/links", {"target_id": a.pk}).status_code == 422
    assert post(api, f"/api/v1/tickets/{a.pk}/links", {"target_id": b.pk, "kind": "x"}).status_code == 422


def put_parent(api, child, parent):
    return api.put(
        f"/api/v1/tickets/{child.pk}/parent",
        {"parent_id": parent.pk if parent else None},
        content_type="application/json",
    )


def test_bulk_reports_each_ticket(api, workspace, other_workspace, agent):
    a = make_ticket(workspace=workspace)
    b = make_ticket(workspace=workspace)
    foreign = make_ticket(workspace=other_workspace)
    res = post(
        api,
        "/api/v1/tickets/bulk",
        {"ticket_ids": [a.pk, b.pk, foreign.pk, 999999], "changes": {"priority": "high", "add_tags": ["batch"]}},
    )
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["updated"] == [a.pk, b.pk]
    assert set(body["failed"]) == {str(foreign.pk), "999999"}
    assert api.get(f"/api/v1/tickets/{a.pk}").json()["tags"] == ["batch"]
    foreign.refresh_from_db()
    assert foreign.priority == "normal"


def test_bulk_refuses_unknown_changes(api, ticket):
    res = post(api, "/api/v1/tickets/bulk", {"ticket_ids": [ticket.pk], "changes": {"subject": "x"}})
    assert res.status_code == 422
    assert post(api, "/api/v1/tickets/bulk", {"ticket_ids": [], "changes": {"priority": "low"}}).status_code == 422
    status_fail = post(api, "/api/v1/tickets/bulk", {"ticket_ids": [ticket.pk], "changes": {"status": "closed"}})
    assert status_fail.json()["failed"][str(ticket.pk)]


# ---- configuration --------------------------------------------------------------------------------------------------


def test_tags_list(api, workspace):
    make_ticket(workspace=workspace, tags=["billing", "bug"])
    assert [t["name"] for t in api.get("/api/v1/tags").json()] == ["billing", "bug"]
    assert [t["name"] for t in api.get("/api/v1/tags?q=bil").json()] == ["billing"]


def test_custom_fields_need_admin(api, admin_api, admin_agent, api_client_for):
    payload = {"key": "plan", "label": "Plan", "field_type": "select", "options": ["free", "pro"]}
    assert post(api, "/api/v1/custom-fields", payload).status_code == 403
    res = post(admin_api, "/api/v1/custom-fields", payload)
    assert res.status_code == 201, res.content
    field = res.json()
    assert post(admin_api, "/api/v1/custom-fields", payload).status_code == 409
    assert post(admin_api, "/api/v1/custom-fields", {**payload, "key": "x", "options": []}).status_code == 422
    assert post(admin_api, "/api/v1/custom-fields", {**payload, "key": "Bad Key"}).status_code == 422
    changed = patch(admin_api, f"/api/v1/custom-fields/{field['id']}", {"options": ["free", "pro", "max"]})
    assert changed.json()["options"] == ["free", "pro", "max"]
    assert patch(api, f"/api/v1/custom-fields/{field['id']}", {"label": "x"}).status_code == 403
    assert [f["key"] for f in api.get("/api/v1/custom-fields").json()] == ["plan"]
    write_token = api_client_for(admin_agent, scope="write")
    assert post(write_token, "/api/v1/custom-fields", {**payload, "key": "other"}).status_code == 403


def test_saved_views(api, workspace, agent, supervisor, api_client_for):
    res = post(api, "/api/v1/saved-views", {"name": "Urgent", "filters": {"priority": "urgent", "assignee": "me"}})
    assert res.status_code == 201, res.content
    view = res.json()
    assert view["shared"] is False
    assert post(api, "/api/v1/saved-views", {"name": "Shared", "shared": True}).status_code == 403
    assert post(api, "/api/v1/saved-views", {"name": "x", "filters": {"nope": 1}}).status_code == 422
    assert post(api, "/api/v1/saved-views", {"name": "x", "filters": {"status": ["bogus"]}}).status_code == 422
    assert post(api, "/api/v1/saved-views", {"name": "x", "filters": {"team": {"a": 1}}}).status_code == 422
    assert post(api, "/api/v1/saved-views", {"name": "x", "sort": "owner"}).status_code == 422
    sup = api_client_for(supervisor)
    shared = post(sup, "/api/v1/saved-views", {"name": "Team queue", "shared": True, "filters": {"scope": "open"}})
    assert shared.status_code == 201
    assert {v["name"] for v in api.get("/api/v1/saved-views").json()} == {"Urgent", "Team queue"}
    assert sup.get(f"/api/v1/saved-views/{view['id']}").status_code == 404  # another agent's personal view
    assert api.delete(f"/api/v1/saved-views/{shared.json()['id']}").status_code == 403
    assert api.delete(f"/api/v1/saved-views/{view['id']}").status_code == 204


def test_restricted_agent_sees_only_assigned_tickets(workspace, agent, actor, api_client_for):
    restricted = AgentFactory.create(workspace=workspace, role=Role.AGENT, ticket_access="assigned")
    visible = make_ticket(workspace=workspace)
    hidden = make_ticket(workspace=workspace)
    ticket_update(ticket=visible, actor=actor, changes={"assignee": restricted})
    api = api_client_for(restricted)
    assert [t["id"] for t in api.get("/api/v1/tickets").json()["items"]] == [visible.pk]
    assert api.get(f"/api/v1/tickets/{hidden.pk}").status_code == 404
