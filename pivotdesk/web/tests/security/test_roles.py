"""Role × action over the UI and the API, generated (issue 11, the permanent suite; finding 8).

Every API operation that writes (from `/api/openapi.json`) and every UI URL that accepts a POST (from the URL conf)
is called by a light agent, an agent, a supervisor and an admin of a seeded workspace, each call in a savepoint
rolled back afterwards, so every call meets the same world. What each one must answer comes from the gate, not from
a hand table: `gate.view_permission` reads which service the view calls and which `Perm` that service asks for, and
`ROLE_PERMISSIONS` says which roles hold it. Then:

- a role without the permission is refused (403) and the workspace is unchanged; a role with it is not refused;
- an API refusal names a permission the role really lacks (no view decides on its own);
- a UI view and an API operation that call the same service give every role the same answer.

The finding-8 cases (a light agent's admin-scope token and shared view, the token rate limit, the refused new
ticket's contact) are named tests at the end.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import ApiToken, Role
from pivotdesk.accounts.permissions import ROLE_PERMISSIONS, Perm
from pivotdesk.accounts.services import MAX_TOKEN_RATE_LIMIT, api_token_create
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.customers.models import Contact
from pivotdesk.tickets.models import SavedView, Ticket
from pivotdesk.web.tests.security.gate import SYSTEM_ONLY, view_permission
from pivotdesk.web.tests.security.seed import Seed, seed_workspace
from pivotdesk.web.tests.security.test_isolation_matrix import (
    _API_PARAM,
    _PARAM,
    ALLOWLIST,
    NOT_A_WORKSPACE_PAGE,
    _schema,
    harmless_body,
    ids,
)

pytestmark = pytest.mark.django_db

ROLES = [Role.LIGHT_AGENT, Role.AGENT, Role.SUPERVISOR, Role.ADMIN]

# Form fields a UI view needs before it reaches its service (an empty form is refused as bad input first, which
# would hide the gate). Keyed by route; values may name the seed's objects as "@key".
FORMS: dict[str, dict[str, Any]] = {
    "queue/bulk/": {"ids": ["@ticket"], "action": "status", "status": "pending"},
    "views/new/": {"name": "Role view", "shared": "on"},
    "tickets/new/": {"email": "role.matrix@example.com", "subject": "Role matrix", "body": "Hi"},
    "tickets/<int:number>/reply/": {"body": "Role matrix", "kind": "public"},
    "tickets/<int:number>/properties/": {"priority": "high"},
    "tickets/<int:number>/links/": {"other": "@other_ticket_number", "kind": "related"},
    "tickets/<int:number>/merge/": {"into": "@other_ticket_number"},
    "tokens/": {"name": "Role token"},
    "presence/": {"status": "away"},
    "settings/channels/new/": {"kind": "web_form", "name": "Role form"},
    "notifications/targets/": {"label": "Desk", "url": "https://hooks.example.com/x", "shared": "1"},
    "notifications/targets/<int:target_id>/test/": {"shared": "1"},
    "notifications/targets/<int:target_id>/toggle/": {"shared": "1"},
    "notifications/targets/<int:target_id>/delete/": {"shared": "1"},
    "dispatch/tickets/<int:number>/reassign/": {"agent": "@agent", "reason": "VIP"},
    "tickets/<int:number>/decline/": {"reason": "Not mine"},
    "settings/webhooks/": {"url": "https://hooks.example.com/role"},
    "tickets/<int:number>/approval/start/": {"flow": "@approval_flow"},
}

# API bodies beyond the schema's required fields, where the service's first permission depends on them (a shared
# view needs saved_view.share; a ticket for a new customer creates the contact first).
BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/saved-views": {"shared": True},
    "POST /api/v1/tickets/bulk": {"ticket_ids": ["@ticket"], "changes": {"priority": "high"}},
    "POST /api/v1/tickets": {"subject": "Role matrix", "requester": {"email": "role.api@example.com"}},
    "POST /api/v1/macros/{macro_id}/apply/": {"ticket_number": "@ticket_number"},
}

# Views whose permission the source does not show (the first service is reached through a form or another app's
# helper), with the permission they need.
OVERRIDES: dict[str, str] = {
    # profile_update needs workforce.manage for contracts and allowed shifts, self.manage for one's own availability
    "workforce/me/availability/": "self.manage",
    # page_ticket runs for the system (its first gate call, authorize_system) or, by hand, for routing.manage
    "on-call/tickets/<int:number>/page/": "routing.manage",
    # macro_save / macro_delete: ticket.update for one's own personal macros, automation.manage for the shared one
    # the seed holds
    "automation/macros/<int:macro_id>/": "automation.manage",
    "automation/macros/<int:macro_id>/delete/": "automation.manage",
}

# Write views that need no role permission, with why (their own lookups still scope them).
UNGATED: dict[str, str] = {}


@dataclass(frozen=True)
class Action:
    """One way of writing: an API operation or a UI POST view, the service it calls first and its permission."""

    interface: str  # "api" or "ui"
    label: str  # "POST /api/v1/tickets" or the UI route
    perm: str | None
    service: str
    call: Callable[[Client, Client, Seed], Any]


def _views() -> dict[str, Callable[..., Any]]:
    """Every UI route → its view; every API path and method → its handler (from the URL conf and ninja)."""
    found: dict[str, Callable[..., Any]] = {}

    def walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                route = prefix + str(pattern.pattern)
                callback = pattern.callback
                view = inspect.getclosurevars(callback).nonlocals.get("self") if inspect.isfunction(callback) else None
                if view is not None and hasattr(view, "operations"):
                    for operation in view.operations:
                        for method in operation.methods:
                            path = "/" + _PARAM.sub(lambda m: "{" + m["name"] + "}", route)
                            found[f"{method.lower()} {path}"] = operation.view_func
                else:
                    found[route] = pattern.callback

    walk(get_resolver().url_patterns)
    return found


def _value(seed: Seed, value: Any) -> Any:
    if isinstance(value, list):
        return [_value(seed, v) for v in value]
    if isinstance(value, str) and value.startswith("@"):
        key = value[1:]
        if key == "other_ticket_number":
            ticket = seed.objects["other_ticket"]
            assert isinstance(ticket, Ticket)
            return str(ticket.number)
        return str(seed.pk(key))
    return value


def _ids(seed: Seed, value: Any) -> Any:
    """A BODIES value with "@key" replaced by the seeded object's id."""
    if isinstance(value, list):
        return [_ids(seed, v) for v in value]
    return seed.pk(value[1:]) if isinstance(value, str) and value.startswith("@") else value


def api_actions() -> list[Action]:
    schema, views = _schema(), _views()
    actions = []
    for path, operations in schema["paths"].items():
        for method in operations:
            if method == "get":
                continue
            perm, service = view_permission(views[f"{method} {path}"])

            def call(session: Client, api: Client, seed: Seed, path: str = path, method: str = method) -> Any:
                route = path.removeprefix("/")
                params = tuple(m["name"] for m in _API_PARAM.finditer(path))
                values = ids(seed, route, params)
                url = _API_PARAM.sub(lambda m: str(values[m["name"]]), path)
                body_ids = {**values, "target_id": seed.pk("other_ticket"), "parent_id": seed.pk("other_ticket")}
                if "contacts" in path:
                    body_ids["target_id"] = seed.pk("other_contact")
                extra = {k: _ids(seed, v) for k, v in BODIES.get(f"{method.upper()} {path}", {}).items()}
                body = harmless_body(schema, path, method, body_ids) | extra
                return getattr(api, method)(url, body, content_type="application/json")

            actions.append(Action("api", f"{method.upper()} {path}", perm, service, call))
    return actions


def ui_actions() -> list[Action]:
    actions = []
    for route, view in _views().items():
        if " " in route or any(route.startswith(p) for p in ALLOWLIST) or route in NOT_A_WORKSPACE_PAGE:
            continue
        perm, service = view_permission(view)

        def call(session: Client, api: Client, seed: Seed, route: str = route) -> Any:
            values = ids(seed, route, tuple(m["name"] for m in _PARAM.finditer(route)))
            url = "/" + _PARAM.sub(lambda m: str(values[m["name"]]), route)
            data = {k: _value(seed, v) for k, v in FORMS.get(route, {}).items()}
            return session.post(url, data, headers={"hx-request": "true"})

        actions.append(Action("ui", route, perm, service, call))
    return actions


@dataclass
class Outcome:
    status: int
    permission: str  # the permission an API refusal names
    changed: list[str]  # the writes it made


def run(seed: Seed, role: str, actions: list[Action], client_as: Callable[..., Client]) -> dict[str, Outcome]:
    """Each action as this role, in a savepoint rolled back afterwards. The API is called with the role's session
    (as the UI's own scripts do): a token's scope is a second, separate limit, tested by the API's own tests."""
    session = api = client_as(seed.agents[role])
    outcomes = {}
    for action in actions:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            response = action.call(session, api, seed)
            changed = _writes(queries)
            permission = ""
            if action.interface == "api" and response.status_code == 403:
                permission = (response.json().get("details") or {}).get("permission", response.json().get("code"))
            transaction.set_rollback(True)
        outcomes[f"{action.interface} {action.label}"] = Outcome(response.status_code, permission, changed)
    return outcomes


_WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
_NOT_THE_WORKSPACE = ("django_session",)  # the session itself may be saved on any request


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"][:120]
        for q in queries.captured_queries
        if _WRITE_SQL.match(q["sql"]) and not any(t in q["sql"] for t in _NOT_THE_WORKSPACE)
    ]


def _holds(role: str, perm: str) -> bool:
    return perm != SYSTEM_ONLY and Perm(perm) in ROLE_PERMISSIONS[role]


_GATE_CODES = {"system_only", *(p.value for p in Perm)}


def judge(action: Action, got: Outcome, role: str) -> list[str]:
    """What is wrong with this role's answer to this action (nothing: an empty list)."""
    label = f"{action.interface} {action.label} as {role}"
    failures = [f"{label} → {got.status}"] if got.status >= 500 else []
    if got.status == 405:  # a UI URL that takes no POST
        return failures
    if got.status == 403:
        # a refusal changed nothing, and (API) names a permission the role lacks
        if got.changed:
            failures.append(f"{label} was refused but wrote: {got.changed}")
        if action.interface == "api" and got.permission not in _GATE_CODES:
            failures.append(f"{label} was refused without the gate (code {got.permission!r})")
        elif action.interface == "api" and got.permission != "system_only" and _holds(role, got.permission):
            failures.append(f"{label} was refused for {got.permission}, which the role holds")
    perm = OVERRIDES.get(action.label, action.perm)
    if perm is None:
        # a POST that writes must be gated: a read page that also answers POST is left alone
        if got.changed and action.label not in UNGATED:
            failures.append(
                f"{label} → {got.status} wrote {got.changed[:2]}, and the matrix cannot tell which permission this needs "
                "(the view reaches no service that names one). Add it to OVERRIDES (its Perm) or UNGATED (why no role "
                "check applies)."
            )
        return failures
    # the answer follows the permission of the service the view calls
    if not _holds(role, perm) and got.status != 403:
        failures.append(f"{label} → {got.status}, but {action.service} needs {perm}: expected 403")
    if _holds(role, perm) and got.status == 403:
        failures.append(f"{label} → 403, but the role holds {perm} ({action.service})")
    return failures


@pytest.fixture
def seed_world(workspace) -> Seed:
    return seed_workspace(workspace, marker="ROLES")


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(seed_world, client_as, role):
    # given every write action of the API and the UI, and an agent of this role
    actions = api_actions() + ui_actions()
    assert len([a for a in actions if a.interface == "api"]) > 30
    # when the role tries each one
    outcomes = run(seed_world, role, actions, client_as)
    failures = [f for a in actions for f in judge(a, outcomes[f"{a.interface} {a.label}"], role)]
    assert not failures, "\n".join(failures)


def test_ui_and_api_agree_for_every_role(seed_world, client_as):
    # given the UI views and API operations that call the same service first
    ui = {a.service: a for a in ui_actions() if a.service}
    api = {a.service: a for a in api_actions() if a.service}
    pairs = [(ui[s], api[s]) for s in sorted(set(ui) & set(api))]
    assert len(pairs) >= 8, [p[0].label for p in pairs]
    disagreements = []
    for role in ROLES:
        # when each role tries both
        outcomes = run(seed_world, role, [a for pair in pairs for a in pair], client_as)
        for u, a in pairs:
            ui_denied = outcomes[f"ui {u.label}"].status == 403
            api_denied = outcomes[f"api {a.label}"].status == 403
            # then both refuse, or neither does
            if ui_denied != api_denied:
                disagreements.append(
                    f"{role}: UI {u.label} → {outcomes[f'ui {u.label}'].status}, "
                    f"API {a.label} → {outcomes[f'api {a.label}'].status} ({u.service})"
                )
    assert not disagreements, "\n".join(disagreements)


# ---- finding 8, by name -------------------------------------------------------------------------------------------


def test_a_light_agent_cannot_create_an_admin_scope_token_in_the_ui_or_the_api(light_agent, client_as, api_auth):
    session = client_as(light_agent)
    token_client = Client(headers={"authorization": api_auth(light_agent)["HTTP_AUTHORIZATION"]})
    assert session.post("/tokens/", {"name": "root-ui", "scope": "admin"}).status_code == 403
    for client in (session, token_client):
        response = client.post(
            "/api/v1/tokens", {"name": "root-api", "scope": "admin"}, content_type="application/json"
        )
        assert response.status_code == 403, response.content
        # a session meets the gate; a write-scope token cannot even ask for more than its own scope
        assert response.json().get("details", {}).get("permission") == Perm.TOKEN_ADMIN_SCOPE or (
            client is token_client and response.json()["code"] == "insufficient_scope"
        ), response.json()
    assert not ApiToken.objects.filter(name__startswith="root").exists()


def test_a_light_agent_cannot_create_a_shared_saved_view_in_the_ui_or_the_api(light_agent, client_as, api_auth):
    session = client_as(light_agent)
    token_client = Client(headers={"authorization": api_auth(light_agent)["HTTP_AUTHORIZATION"]})
    assert session.post("/views/new/?scope=all", {"name": "Shared UI", "shared": "on"}).status_code == 403
    for client in (session, token_client):
        response = client.post(
            "/api/v1/saved-views", {"name": "Shared API", "shared": True}, content_type="application/json"
        )
        assert response.status_code == 403, response.content
    assert not SavedView.objects.filter(name__startswith="Shared").exists()


@pytest.mark.parametrize("role", ROLES)
def test_no_session_or_token_sets_a_rate_limit_above_the_maximum(workspace, client_as, api_auth, role, settings):
    agent = seed_agent(workspace, role)
    scope = "admin" if role == Role.ADMIN else "write"
    token_client = Client(headers={"authorization": api_auth(agent, scope=scope)["HTTP_AUTHORIZATION"]})
    for client in (client_as(agent), token_client):
        for limit in (MAX_TOKEN_RATE_LIMIT + 1, 10**9):
            response = client.post(
                "/api/v1/tokens", {"name": "firehose", "rate_limit_per_minute": limit}, content_type="application/json"
            )
            assert response.status_code == 422, (role, limit, response.content)
        # above the default needs the admin's permission; only the admin may go up to the maximum
        raised = client.post(
            "/api/v1/tokens",
            {"name": "raised", "rate_limit_per_minute": settings.PIVOTDESK_API_RATE_LIMIT_PER_MINUTE + 1},
            content_type="application/json",
        )
        assert raised.status_code == (201 if role == Role.ADMIN else 403), (role, raised.content)
    assert not ApiToken.objects.filter(name="firehose").exists()


def test_not_even_the_system_passes_the_token_rate_limit_maximum(agent):
    with pytest.raises(ValidationFailed):
        api_token_create(actor=Actor.system(), agent=agent, name="x", rate_limit_per_minute=MAX_TOKEN_RATE_LIMIT + 1)
    assert not ApiToken.objects.filter(name="x").exists()


def seed_agent(workspace: Any, role: str) -> Any:
    from pivotdesk.web.tests.helpers import new_agent

    return new_agent(workspace=workspace, role=role)


@pytest.mark.parametrize(
    "refusal",
    [
        (Role.LIGHT_AGENT, {}, 403),  # a light agent may not open tickets
        (Role.AGENT, {"priority": "not-a-priority"}, 422),  # bad input: refused by the schema
        (Role.AGENT, {"assignee_id": "@light"}, 422),  # refused by the service: a light agent cannot hold tickets
    ],
)
def test_a_refused_new_ticket_in_the_api_creates_no_contact(workspace, client_as, api_auth, refusal):
    role, extra, status = refusal
    agent = seed_agent(workspace, role)
    light = seed_agent(workspace, Role.LIGHT_AGENT)
    body = {"subject": "Help", "body": "Hi", "requester": {"email": "new.customer@example.com", "name": "New"}}
    body |= {k: (light.pk if v == "@light" else v) for k, v in extra.items()}
    token_client = Client(headers={"authorization": api_auth(agent)["HTTP_AUTHORIZATION"]})
    contacts = Contact.objects.count()
    for client in (client_as(agent), token_client):
        response = client.post("/api/v1/tickets", body, content_type="application/json")
        assert response.status_code == status, response.content
    assert Contact.objects.count() == contacts
    assert not Ticket.objects.filter(subject="Help").exists()


@pytest.mark.parametrize(
    ("role", "extra", "status"),
    [(Role.LIGHT_AGENT, {}, 403), (Role.AGENT, {"assignee": "@light"}, 422), (Role.AGENT, {"priority": "bogus"}, 422)],
)
def test_a_refused_new_ticket_in_the_ui_creates_no_contact(workspace, client_as, role, extra, status):
    agent = seed_agent(workspace, role)
    light = seed_agent(workspace, Role.LIGHT_AGENT)
    form = {"email": "ui.customer@example.com", "subject": "Help", "body": "Hi"}
    form |= {k: (str(light.pk) if v == "@light" else v) for k, v in extra.items()}
    contacts = Contact.objects.count()
    response = client_as(agent).post("/tickets/new/", form)
    assert response.status_code == status
    assert Contact.objects.count() == contacts
    assert not Ticket.objects.filter(subject="Help").exists()
