"""Context enrichment against a local HTTP "ERP" peer; connector configuration rules and encrypted secrets."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import admin_llm  # noqa: F401 - registers the admin before the URLconf is first built
from pivotdesk.ai.domain.steps import Entity, TriageInput
from pivotdesk.ai.models import Connector
from pivotdesk.ai.services import connectors as services
from pivotdesk.ai.services import enrichment
from pivotdesk.ai.services.enrichment import enrichment_step
from pivotdesk.ai.tests.llm_peer import Answer, RoutePeer
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed

ORDER = {
    "status": "运输延误",
    "last_node": "上海分拣中心",
    "eta": "2024-05-23",
    "tracking": {"carrier": "顺丰", "events": [{"at": "05-20 08:00", "node": "上海分拣中心"}]},
}


def _erp_routes():
    def order(request):
        # The ERP insists on its API key, like a real one.
        if request.headers.get("x-api-key") != "erp-secret":
            return Answer.json({"error": "unauthorised"}, status=401)
        return Answer.json(ORDER)

    return {
        "/orders/SO-1001": order,
        "/orders/SO%2F7": Answer.json({"status": "已签收", "last_node": "北京朝阳", "eta": None}),
        "/orders/SLOW": Answer(200, json.dumps(ORDER).encode(), delay=2.0),
        "/orders/HUGE": Answer.json({"status": "x" * (enrichment.MAX_RESPONSE_BYTES + 10)}),
        "/orders/ENDLESS": Answer(200, b'{"status": "' + b"x" * enrichment.MAX_RESPONSE_BYTES * 2, undeclared=True),
        "/orders/HTML": Answer(200, b"<html>ERP maintenance</html>", {"Content-Type": "text/html"}),
        "/orders/BOOM": Answer.json({"error": "db down"}, status=500),
        "/devices/X200": Answer.json({"model": "X200", "warranty": {"until": "2025-01-31"}}),
    }


@pytest.fixture
def erp():
    with RoutePeer(_erp_routes()) as peer:
        yield peer


@pytest.fixture
def system():
    return Actor.system("test")


@pytest.fixture
def order_connector(workspace, system, erp):
    return services.connector_create(
        workspace=workspace,
        actor=system,
        name="ERP orders",
        entity_kind="order",
        url_template=erp.url + "/orders/{value}",
        headers={"X-Client": "pivotdesk"},
        secret_headers={"X-Api-Key": "erp-secret"},
        fields=["status", "last_node", "eta", "tracking.carrier"],
        summary_template="物流: {status}, 最后节点 {last_node}, 预计 {eta}",
        timeout_seconds=1.0,
    )


def _input(workspace, **kw):
    values = {"workspace_id": workspace.pk, "ticket_id": 1, "subject": "物流太慢", "text": "订单 SO-1001 三天没动"}
    values.update(kw)
    return TriageInput(**values)


def test_order_status_becomes_facts_in_chinese(workspace, order_connector, erp):
    # Given an order number extracted from "物流太慢"
    entities = [Entity(kind="order", value="SO-1001"), Entity(kind="phone", value="13800000000")]

    # When the enrichment step runs
    out = enrichment_step(_input(workspace), entities)

    # Then the classifier and the agent see the logistics status and last node
    assert out.extra_text == ["物流: 运输延误, 最后节点 上海分拣中心, 预计 2024-05-23"]
    (entry,) = out.data["enrichment"]
    assert (entry["kind"], entry["value"]) == ("order", "SO-1001")
    (lookup,) = entry["lookups"]
    assert lookup["ok"] and lookup["status_code"] == 200 and lookup["connector"] == "ERP orders"
    assert lookup["fields"] == {
        "status": "运输延误",
        "last_node": "上海分拣中心",
        "eta": "2024-05-23",
        "tracking.carrier": "顺丰",
    }
    assert out.data["lookups"] == 1 and out.data["failed"] == 0
    # and one fact per successful lookup, for the entity and the ticket page
    assert out.data["facts"] == [
        {
            "kind": "order",
            "value": "SO-1001",
            "connector": "ERP orders",
            "summary": "物流: 运输延误, 最后节点 上海分拣中心, 预计 2024-05-23",
            "fields": lookup["fields"],
        }
    ]
    # and the ERP got the configured and the secret headers
    (request,) = erp.requests
    assert request.method == "GET" and request.path == "/orders/SO-1001"
    assert request.headers["x-client"] == "pivotdesk" and request.headers["x-api-key"] == "erp-secret"


def test_values_are_url_quoted_and_missing_fields_shown(workspace, order_connector, erp):
    out = enrichment_step(_input(workspace), [Entity(kind="order", value="SO/7")])
    assert erp.requests[0].path == "/orders/SO%2F7"  # a slash in the value cannot change the path
    assert out.extra_text == ["物流: 已签收, 最后节点 北京朝阳, 预计 ?"]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("NOPE", "not found (HTTP 404)"),
        ("BOOM", "HTTP 500"),
        ("SLOW", "timeout after 1 s"),
        ("HUGE", "answer too large ("),
        ("ENDLESS", "answer too large (> "),
        ("HTML", "answer is not JSON"),
    ],
)
def test_a_failing_lookup_is_recorded_not_raised(workspace, order_connector, erp, value, error):
    out = enrichment_step(_input(workspace), [Entity(kind="order", value=value)])
    assert out.extra_text == []
    (lookup,) = out.data["enrichment"][0]["lookups"]
    assert lookup["ok"] is False and error in lookup["error"]
    assert out.data["failed"] == 1


def test_one_failing_connector_does_not_stop_the_others(workspace, system, order_connector, erp):
    services.connector_create(
        workspace=workspace,
        actor=system,
        name="A broken carrier API",
        entity_kind="order",
        url_template="http://127.0.0.1:9/track/{value}",  # discard port: connection refused
        timeout_seconds=0.5,
    )
    services.connector_create(
        workspace=workspace,
        actor=system,
        name="Device registry",
        entity_kind="device_model",
        url_template=erp.url + "/devices/{value}",
        fields=["warranty.until"],
        summary_template="设备 {entity}: 保修至 {warranty.until}",
    )
    entities = [Entity(kind="order", value="SO-1001"), Entity(kind="device_model", value="X200")]
    out = enrichment_step(_input(workspace), entities)
    assert out.extra_text == ["物流: 运输延误, 最后节点 上海分拣中心, 预计 2024-05-23", "设备 X200: 保修至 2025-01-31"]
    order_lookups = out.data["enrichment"][0]["lookups"]
    assert [(x["connector"], x["ok"]) for x in order_lookups] == [("A broken carrier API", False), ("ERP orders", True)]
    assert "Could not connect" in order_lookups[0]["error"]  # the egress guard's terse answer


def test_without_a_template_the_fields_are_listed(workspace, system, erp):
    services.connector_create(
        workspace=workspace,
        actor=system,
        name="Devices",
        entity_kind="device_model",
        url_template=erp.url + "/devices/{value}",
    )
    out = enrichment_step(_input(workspace), [Entity(kind="device_model", value="X200")])
    assert out.extra_text == ["Devices X200: model: X200"]


def test_post_connector_sends_the_value_as_json(workspace, system):
    with RoutePeer({"/lookup": Answer.json({"status": "ok"})}) as peer:
        services.connector_create(
            workspace=workspace,
            actor=system,
            name="Lookup",
            entity_kind="order",
            url_template=peer.url + "/lookup?id={value}",
            method="post",
            summary_template="{status}",
        )
        out = enrichment_step(_input(workspace), [Entity(kind="order", value="A 1")])
        assert out.extra_text == ["ok"]
        (request,) = peer.requests
        assert request.method == "POST" and request.path == "/lookup?id=A%201"
        assert request.json == {"kind": "order", "value": "A 1"}


def test_inactive_and_other_workspace_connectors_are_not_used(workspace, other_workspace, system, order_connector, erp):
    services.connector_update(connector=order_connector, actor=system, changes={"active": False})
    services.connector_create(
        workspace=other_workspace, actor=system, name="Theirs", entity_kind="order", url_template=erp.url + "/o/{value}"
    )
    out = enrichment_step(_input(workspace), [Entity(kind="order", value="SO-1001")])
    assert out.data["enrichment"] == [] and out.extra_text == []
    assert erp.requests == []


def test_lookups_per_ticket_are_bounded(workspace, order_connector, erp, monkeypatch):
    monkeypatch.setattr(enrichment, "MAX_LOOKUPS", 2)
    entities = [Entity(kind="order", value=f"N{i}") for i in range(4)] + [Entity(kind="order", value="N0")]
    out = enrichment_step(_input(workspace), entities)
    assert len(erp.requests) == 2
    assert out.data["lookups"] == 2 and out.data["skipped"] == 2
    assert [e["value"] for e in out.data["enrichment"]] == ["N0", "N1", "N2", "N3"]  # duplicates looked up once


def test_lookups_share_one_time_budget(workspace, order_connector, erp, monkeypatch):
    # Given a budget of 1.1 s per ticket and an ERP that takes 2 s to answer about SLOW (the connector waits 1 s)
    monkeypatch.setattr(enrichment, "BUDGET_SECONDS", 1.1)
    # When two orders are looked up
    out = enrichment_step(
        _input(workspace), [Entity(kind="order", value="SLOW"), Entity(kind="order", value="SO-1001")]
    )
    # Then the slow one timed out after the connector's 1 s, and the other was skipped, not waited for
    slow, quick = (entry["lookups"][0] for entry in out.data["enrichment"])
    assert "timeout after 1 s" in slow["error"]
    assert quick["ok"] is False and quick["error"] == "skipped: time budget spent"
    assert out.data["lookups"] == 1 and out.data["skipped"] == 1 and out.data["facts"] == []
    assert [r.path for r in erp.requests] == ["/orders/SLOW"]


def test_a_lookup_never_waits_past_the_budget(workspace, order_connector, erp, monkeypatch):
    monkeypatch.setattr(enrichment, "BUDGET_SECONDS", 0.6)  # less than the connector's own 1 s timeout
    out = enrichment_step(_input(workspace), [Entity(kind="order", value="SLOW")])
    (lookup,) = out.data["enrichment"][0]["lookups"]
    assert lookup["error"].startswith("timeout after 0.") and lookup["error"].endswith(" s")


def test_undecryptable_secrets_are_a_recorded_failure(workspace, order_connector):
    Connector.objects.filter(pk=order_connector.pk).update(secret_config="not-a-token")
    out = enrichment_step(_input(workspace), [Entity(kind="order", value="SO-1001")])
    assert "could not be decrypted" in out.data["enrichment"][0]["lookups"][0]["error"]


def test_no_entities_no_queries(workspace, django_assert_num_queries):
    with django_assert_num_queries(0):
        out = enrichment_step(_input(workspace), [])
    assert out.data["enrichment"] == []


# --- configuration ----------------------------------------------------------------------------------------------


def test_secrets_are_stored_encrypted(order_connector):
    stored = Connector.objects.get(pk=order_connector.pk)
    assert "erp-secret" not in stored.secret_config and stored.secret_config
    assert services.connector_secrets(stored) == {"X-Api-Key": "erp-secret"}
    assert "erp-secret" not in json.dumps(stored.headers)


def test_secrets_are_kept_replaced_or_removed_on_update(order_connector, system):
    services.connector_update(connector=order_connector, actor=system, changes={"name": "ERP"})
    assert services.connector_secrets(Connector.objects.get(pk=order_connector.pk)) == {"X-Api-Key": "erp-secret"}
    services.connector_update(connector=order_connector, actor=system, secret_headers={"Authorization": "Bearer t"})
    assert services.connector_secrets(Connector.objects.get(pk=order_connector.pk)) == {"Authorization": "Bearer t"}
    services.connector_update(connector=order_connector, actor=system, secret_headers={})
    assert Connector.objects.get(pk=order_connector.pk).secret_config == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url_template", "https://erp.example.com/orders"),  # no {value}
        ("url_template", "https://erp.example.com/{value}/{other}"),
        ("url_template", "ftp://erp.example.com/{value}"),
        ("url_template", "https://erp.example.com/{value!r}"),
        ("method", "DELETE"),
        ("entity_kind", "Order Number"),
        ("fields", ["status", "a..b"]),
        ("fields", "status"),
        ("summary_template", "物流: {status"),
        ("summary_template", "{status:>10}"),
        ("timeout_seconds", 120),
        ("headers", {"X-Bad": "a\r\nInjected: 1"}),
        ("name", " "),
    ],
)
def test_bad_configuration_is_rejected(workspace, system, field, value):
    values = {
        "name": "c",
        "entity_kind": "order",
        "url_template": "https://erp.example.com/orders/{value}",
        field: value,
    }
    with pytest.raises(ValidationFailed):
        services.connector_create(workspace=workspace, actor=system, **values)
    assert not Connector.objects.exists()


def test_names_are_unique_per_workspace(workspace, other_workspace, system, order_connector):
    with pytest.raises(Conflict):
        services.connector_create(
            workspace=workspace, actor=system, name="ERP orders", entity_kind="order", url_template="http://h/{value}"
        )
    services.connector_create(
        workspace=other_workspace, actor=system, name="ERP orders", entity_kind="order", url_template="http://h/{value}"
    )


def test_only_admins_configure_connectors(workspace, agent, admin_agent):
    with pytest.raises(PermissionDenied):
        services.connector_create(
            workspace=workspace,
            actor=Actor.for_agent(agent),
            name="c",
            entity_kind="order",
            url_template="http://h/{value}",
        )
    connector = services.connector_create(
        workspace=workspace,
        actor=Actor.for_agent(admin_agent),
        name="c",
        entity_kind="order",
        url_template="http://h/{value}",
    )
    with pytest.raises(PermissionDenied):
        services.connector_delete(connector=connector, actor=Actor.for_agent(agent))
    services.connector_delete(connector=connector, actor=Actor.for_agent(admin_agent))
    assert not Connector.objects.exists()


# --- admin (pivotdesk.ai.admin_llm) -------------------------------------------------------------------------------


def test_admin_adds_a_connector_with_write_only_secrets(admin_client, workspace):
    form = {
        "workspace": workspace.pk,
        "name": "ERP",
        "entity_kind": "order",
        "url_template": "https://erp.example.com/orders/{value}",
        "method": "GET",
        "headers": "{}",
        "fields": '["status", "last_node"]',
        "summary_template": "物流: {status}, 最后节点 {last_node}",
        "timeout_seconds": "5",
        "active": "on",
        "new_secret_headers": '{"X-Api-Key": "erp-secret"}',
    }
    response = admin_client.post(reverse("admin:ai_connector_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    connector = Connector.objects.get()
    assert services.connector_secrets(connector) == {"X-Api-Key": "erp-secret"}
    page = admin_client.get(reverse("admin:ai_connector_change", args=[connector.pk])).content.decode()
    assert "erp-secret" not in page and connector.secret_config not in page

    # A bad URL template is a form error, and nothing is saved
    bad = form | {"name": "Other", "url_template": "https://erp.example.com/orders"}
    response = admin_client.post(reverse("admin:ai_connector_add"), bad)
    assert response.status_code == 200 and Connector.objects.count() == 1


def test_admin_lists_llm_calls_read_only(admin_client, workspace):
    from pivotdesk.ai.models import LLMCall

    call = LLMCall.objects.create(workspace=workspace, purpose="summary", model="qwen", prompt_tokens=10)
    assert admin_client.get(reverse("admin:ai_llmcall_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:ai_llmcall_change", args=[call.pk])).status_code == 200
    assert admin_client.get(reverse("admin:ai_llmcall_add")).status_code == 403
