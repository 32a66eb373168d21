"""Workspace isolation, generated over the whole URL conf and the whole API schema (issue 11, the permanent suite).

Two workspaces hold one of every object (`seed.py`). Every URL pattern of `config.urls` and every operation of
`/api/openapi.json` that names an object is called by workspace A's admin (the most privileged member; the API with
an admin-scope token) with workspace B's ids — and, where a URL names two objects, with one of A's beside one of
B's. Every answer must be 403/404 (405 where the method is not the view's), never a 5xx, never a page carrying B's
marker; and afterwards B's rows are exactly what they were.

Nothing here is a hand list of URLs: a new view or endpoint joins the matrix by existing. A URL parameter that the
matrix cannot map to a seeded object fails `test_every_url_parameter_names_a_seeded_object`, saying what to add.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.services import api_token_create
from pivotdesk.web.tests.security.seed import Seed, diff, seed_workspace, snapshot

pytestmark = pytest.mark.django_db

# ---- URL parameter → seeded object ---------------------------------------------------------------------------------
# A name, or (when one name means different objects under different URLs) the route prefix → the object; the
# longest matching prefix wins. The keys on the right are the keys of `Seed.objects` (`ticket_number`: its number).
PARAMETERS: dict[str, str | dict[str, str]] = {
    "number": "ticket_number",
    "ticket_id": "ticket",
    "message_id": "message",
    "attachment_id": "attachment",
    "link_id": "link",
    "contact_id": "contact",
    "other_id": "other_contact",
    "organization_id": "organization",
    "team_id": "team",
    "agent_id": "agent",
    "token_id": "token",
    "view_id": "saved_view",
    "field_id": "custom_field",
    "endpoint_id": "webhook",
    "notification_id": "notification",
    "target_id": "notification_target",
    "account_id": "channel_account",
    "payload_id": "inbound_payload",
    "prediction_id": "prediction",
    "topic_id": "emerging_topic",
    "calendar_id": "sla_calendar",
    "queue_id": "work_queue",
    "event_id": {
        "workforce/": "forecast_event",
        "api/v1/workforce/": "forecast_event",
        "api/v1/events/": "business_event",
    },
    "contract_id": "contract",
    "template_id": {
        "workforce/": "shift_template",
        "api/v1/workforce/": "shift_template",
        "api/v1/chain-templates/": "chain_template",
        "automation/chain-templates/": "chain_template",
    },
    "chain_id": "chain",
    "rule_id": "rule",
    "macro_id": "macro",
    "approval_id": "approval",
    "flow_id": "approval_flow",
    "article_id": "article",
    "category_id": "knowledge_category",
    "proposal_id": "proposal",
    "job_id": "import_job",
    "cause_id": "root_cause",
    "entity_id": "graph_entity",
    "roster_id": "roster",
    "shift_id": "shift",
    "request_id": "shift_request",
    "policy_id": {
        "settings/sla/": "sla_policy",
        "dispatch/": "routing_policy",
        "api/v1/routing/": "routing_policy",
        "on-call/": "escalation_policy",
    },
    "schedule_id": "oncall_schedule",
    "page_id": "page",
    "partner_id": "partner",
    "campaign_id": "nps_campaign",
    "delivery_id": {"notifications/": "notification_delivery", "api/v1/webhooks/": "webhook_delivery"},
    "ticket_category_id": "ticket_category",
    "status_id": "status_definition",
    "tag_id": "tag",
    "invitation_id": "invitation",
}

# URLs left out of the id matrix, each with why. Parameter-free URLs are not listed: they are read by
# `test_pages_without_ids_never_show_another_workspace` instead.
ALLOWLIST: dict[str, str] = {
    "admin/": "Django's admin site: the operator's (staff users), not a workspace's; agents are sent to its login",
    "channels/in/": "a channel's public webhook, addressed by the channel's secret key, not by a member",
    "channels/form/": "the public web form, addressed by the channel's secret key",
    "channels/chat/": "the public chat widget, addressed by the channel's secret key",
    "partner/": "a partner's scoped ticket link, addressed by a hashed, expiring secret (oncall/tests/test_partners.py "
    "tries every attachment id of both workspaces through it)",
    "oncall/": "a page's single-use acknowledge / resolve link, addressed by a hashed secret (oncall/tests/test_paging.py)",
    "approvals/": "an approver's single-use decision link, addressed by a hashed secret (automation/tests/test_approvals.py)",
    "workforce/calendar/": "an agent's iCalendar feed, addressed by a signed, revocable token, not by a member",
    "invite/": "an invitation link, addressed by a hashed, expiring, single-use secret (web/settings_admin/tests)",
    "help/": "the public help centre, addressed by the workspace's slug: public, published articles only "
    "(web/helpcentre/tests tries internal, draft and another workspace's ids)",
    "survey/": "a customer's survey answer page, addressed by a signed per-survey token (surveys/tests/test_views.py "
    "tries forged and another workspace's tokens)",
    "media/": "the development media folder (DEBUG only), addressed by an unguessable storage path",
    "portal/": "the customer portal, addressed by the workspace's slug and the customer's own session, not a member's "
    "(portal/tests/test_isolation.py aims every portal URL at other customers' and workspaces' requests and files)",
    "api/": "the API is exercised operation by operation from its schema (test_api_operations_…)",
}

# Parameter-free pages that are not a workspace's pages (no workspace data to leak), or that change the session.
NOT_A_WORKSPACE_PAGE: dict[str, str] = {
    "login/": "the sign-in page",
    "logout/": "signs out (POST only)",
    "i18n/setlang/": "Django's language switch",
    "api/docs": "the API's documentation page",
    "api/openapi.json": "the schema",
}

OK_FOR_ANOTHER_WORKSPACE = {403, 404}
_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_API_PARAM = re.compile(r"{(?P<name>\w+)}")


@dataclass(frozen=True)
class Route:
    """One URL pattern of the URL conf: its full route (Django syntax) and the names of its parameters."""

    route: str
    params: tuple[str, ...]

    def fill(self, values: dict[str, int]) -> str:
        return "/" + _PARAM.sub(lambda m: str(values[m["name"]]), self.route)


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def url_routes() -> list[Route]:
    """Every URL pattern of the project, once (the API's methods share a pattern)."""
    routes = dict.fromkeys(_walk(get_resolver().url_patterns))
    return [Route(r, tuple(m["name"] for m in _PARAM.finditer(r))) for r in routes]


def allowlisted(route: str) -> str | None:
    return next((why for prefix, why in ALLOWLIST.items() if route.startswith(prefix)), None)


def object_key(param: str, route: str) -> str | None:
    """The seeded object a URL parameter names under this route, or None when the matrix does not know it."""
    entry = PARAMETERS.get(param)
    if isinstance(entry, dict):
        prefixes = sorted((p for p in entry if route.startswith(p)), key=len, reverse=True)
        return entry[prefixes[0]] if prefixes else None
    return entry


def ids(seed: Seed, route: str, params: tuple[str, ...]) -> dict[str, int]:
    return {p: seed.pk(key) for p in params if (key := object_key(p, route)) is not None}


def variants(route: str, params: tuple[str, ...], ours: Seed, theirs: Seed) -> Iterator[dict[str, int]]:
    """All of B's ids; and, for a URL naming several objects, each one of A's beside B's others (a lookup that
    checks only the outer object must still refuse the inner one)."""
    b = ids(theirs, route, params)
    yield b
    if len(params) > 1:
        a = ids(ours, route, params)
        for mine in params:
            yield {**b, mine: a[mine]}


# ---- the world ----------------------------------------------------------------------------------------------------


@pytest.fixture
def seed_two(workspace, other_workspace) -> tuple[Seed, Seed]:
    """Workspace A and workspace B, one of everything each; B's main ticket is numbered beyond A's tickets."""
    ours = seed_workspace(workspace, marker="ALPHA-OWN")
    theirs = seed_workspace(other_workspace, marker="ZULU-SECRET", extra_tickets=4)
    assert theirs.ticket.number > max(ours.ticket.number, ours.pk("other_ticket"))
    return ours, theirs


@pytest.fixture
def seed_admin_clients(seed_two, client_as) -> tuple[Client, Client]:
    """A's admin signed in (UI), and with an admin-scope token that no rate limit stops (API)."""
    ours, _ = seed_two
    _, secret = api_token_create(
        actor=Actor.system(), agent=ours.admin, name="matrix", scope="admin", rate_limit_per_minute=100_000
    )
    return client_as(ours.admin), Client(headers={"authorization": f"Bearer {secret}"})


def _leaks(theirs: Seed, response: Any) -> bool:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return theirs.marker.encode() in content


def _check(
    failures: list[str], theirs: Seed, label: str, response: Any, allowed: set[int], *, before: Any | None = None
) -> None:
    status = response.status_code
    if status >= 500 or status not in allowed:
        failures.append(f"{label} → {status} (expected one of {sorted(allowed)})")
    elif _leaks(theirs, response):
        failures.append(f"{label} → {status} and the answer shows workspace B's data")
    if before is not None and (changed := diff(before, snapshot(theirs.workspace))):
        failures.append(f"{label} changed workspace B: {changed}")


# ---- the tests ----------------------------------------------------------------------------------------------------


def test_every_url_parameter_names_a_seeded_object(seed_two):
    ours, _ = seed_two
    unknown = []
    for route in url_routes():
        if allowlisted(route.route):
            continue
        for param in route.params:
            key = object_key(param, route.route)
            if key is None or (key != "ticket_number" and key not in ours.objects):
                unknown.append(f"/{route.route} <{param}>")
    for path, _method, params in api_operations():
        for param in params:
            key = object_key(param, path.removeprefix("/"))
            if key is None or (key != "ticket_number" and key not in ours.objects):
                unknown.append(f"{path} {{{param}}}")
    assert not unknown, (
        "The isolation matrix cannot aim these URL parameters at another workspace's object. Seed one of the "
        "object in pivotdesk/web/tests/security/seed.py (seed_workspace) and map the parameter to it in PARAMETERS "
        f"of {__file__} (or, for a public URL, add it to ALLOWLIST with the reason): {unknown}"
    )


def test_ui_urls_with_ids_of_another_workspace_are_refused_and_change_nothing(seed_two, seed_admin_clients):
    # given A's admin signed in, and every UI URL that names an object
    ours, theirs = seed_two
    session, _api = seed_admin_clients
    routes = [r for r in url_routes() if r.params and not allowlisted(r.route)]
    assert len(routes) > 30, "the URL conf walk found too few UI URLs"
    failures: list[str] = []
    for route in routes:
        for values in variants(route.route, route.params, ours, theirs):
            url = route.fill(values)
            # when A's admin reads it and posts to it, with B's ids
            _check(failures, theirs, f"GET {url}", session.get(url), OK_FOR_ANOTHER_WORKSPACE | {405})
            before = snapshot(theirs.workspace)
            response = session.post(url, {}, headers={"hx-request": "true"})
            # then the answer is a refusal, and B is untouched
            _check(failures, theirs, f"POST {url}", response, OK_FOR_ANOTHER_WORKSPACE | {405}, before=before)
    assert not failures, "\n".join(failures)


def api_operations() -> list[tuple[str, str, tuple[str, ...]]]:
    """(path, method, path parameters) of every operation of the API schema."""
    schema = _schema()
    return [
        (path, method, tuple(m["name"] for m in _API_PARAM.finditer(path)))
        for path, operations in schema["paths"].items()
        for method in operations
    ]


def _schema() -> dict[str, Any]:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def harmless_body(schema: dict[str, Any], path: str, method: str, values: dict[str, int]) -> dict[str, Any]:
    """A body that passes the schema: each required property filled with a plain value of its type (ids with the
    other workspace's, where the property names one), so the handler is reached and must refuse by the id."""
    operation = schema["paths"][path][method]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return {}
    return _example(schema, content["schema"], values)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(schema, node["allOf"][0])
    return node


def _example(schema: dict[str, Any], node: dict[str, Any], values: dict[str, int]) -> Any:
    node = _resolve(schema, node)
    if "enum" in node:
        return node["enum"][0]
    if "anyOf" in node:
        return _example(schema, next(n for n in node["anyOf"] if n.get("type") != "null"), values)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        body = {}
        for name in node.get("required", []):
            prop = node["properties"][name]
            body[name] = values.get(name, _example(schema, prop, values))
        return body
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, int(node.get("minimum", 1)))
    if kind == "boolean":
        return False
    if kind == "number":
        return 1
    return _FORMATS.get(node.get("format", ""), _plain_text(node))


_FORMATS = {"date-time": "2030-01-07T09:00:00Z", "date": "2030-01-07"}


def _plain_text(node: dict[str, Any]) -> str:
    if node.get("format") == "uri" or "url" in node.get("title", "").lower():
        return "https://hooks.example.com/matrix"
    return "matrix"


def test_api_operations_with_ids_of_another_workspace_are_refused_and_change_nothing(seed_two, seed_admin_clients):
    # given A's admin with an admin-scope token, and every API operation that names an object
    ours, theirs = seed_two
    _session, api = seed_admin_clients
    schema = _schema()
    operations = [op for op in api_operations() if op[2]]
    assert len(operations) > 25, "the schema lists too few operations with ids"
    failures: list[str] = []
    for path, method, params in operations:
        route = path.removeprefix("/")
        for values in variants(route, params, ours, theirs):
            url = _API_PARAM.sub(lambda m, v=values: str(v[m["name"]]), path)
            body_ids = {**values, "target_id": values[params[0]], "parent_id": values[params[0]]}
            body = harmless_body(schema, path, method, body_ids)
            before = snapshot(theirs.workspace) if method != "get" else None
            # when A's admin calls it with B's ids
            response = getattr(api, method)(url, body, content_type="application/json")
            # then it is refused (by the id, not by the body's shape), and B is untouched
            _check(
                failures, theirs, f"{method.upper()} {url} {body}", response, OK_FOR_ANOTHER_WORKSPACE, before=before
            )
    assert not failures, "\n".join(failures)


def test_every_api_url_is_an_operation_of_the_schema():
    # An endpoint left out of the schema (include_in_schema=False) would escape the API matrix and the fuzzer.
    documented = {re.sub(r"{(\w+)}", r"<\1>", path).removeprefix("/") for path, _m, _p in api_operations()}
    routes = {r.route for r in url_routes() if r.route.startswith("api/v1/")}
    assert routes - documented == set(), "API URLs missing from /api/openapi.json"


def test_pages_without_ids_never_show_another_workspace(seed_two, seed_admin_clients):
    # given every parameter-free page and API list, read by A's admin
    _ours, theirs = seed_two
    session, api = seed_admin_clients
    failures: list[str] = []
    for route in url_routes():
        if route.params or allowlisted(route.route) or route.route in NOT_A_WORKSPACE_PAGE:
            continue
        url = route.fill({})
        # then no page shows B's marker, and none fails
        _check(failures, theirs, f"GET {url}", session.get(url), {200, 302, 405})
    for path, method, params in api_operations():
        if method == "get" and not params:
            _check(failures, theirs, f"GET {path}", api.get(path), {200})
    assert not failures, "\n".join(failures)


def test_django_admin_sends_a_workspace_admin_to_its_login(seed_admin_clients):
    session, _api = seed_admin_clients
    response = session.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
