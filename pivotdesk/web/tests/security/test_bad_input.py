"""The bad-input corpus against every public and API entry point: deep nesting, oversize bodies, invalid UTF-8, NUL
bytes in strings and keys, overlong strings, huge / negative / float numbers, wrong content types, empty bodies and
a multipart body of 1,000 parts. Never a 5xx; on the channel webhooks the raw request is kept (a stored or a
rejected `InboundPayload` row) unless the endpoint refuses it before storing by design (unknown key 404, wrong
method 405, over 30 MB 413).

The entry points are generated, not listed: the API operations from /api/openapi.json, the channel webhooks from the
registered handlers, the agent UI from the URL conf — a new endpoint is covered without anyone remembering it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role
from pivotdesk.accounts.services import api_token_create
from pivotdesk.channels import adapters
from pivotdesk.channels.domain.signatures import line_signature, sha256_header
from pivotdesk.channels.models import ChannelAccount, InboundPayload
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_store
from pivotdesk.channels.webhooks import WEBHOOK_HANDLERS
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import attachment_add, saved_view_create
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web import urls as web_urls
from pivotdesk.web.tests.helpers import new_agent, new_contact, new_organization, new_team
from pivotdesk.web.tests.security.entry_points import clear_rate_limits

pytestmark = pytest.mark.django_db

DEEP = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
HUGE = 10**40
MB = 1024 * 1024
SECRET = "bad-input-secret"
ORIGIN = "https://shop.example.cn"


def multipart_of(parts: int) -> tuple[bytes, str]:
    boundary = "pdboundary"
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="field{i}"\r\n\r\nvalue {i}\x00\r\n'.encode()
        for i in range(parts)
    ]
    return b"".join(chunks) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


MULTIPART, MULTIPART_TYPE = multipart_of(1_000)

# Bodies that do not depend on the endpoint: (name, body, content type).
RAW_BODIES: list[tuple[str, bytes, str]] = [
    ("deep_array", DEEP, "application/json"),
    ("deep_object", DEEP_OBJECT, "application/json"),
    ("invalid_utf8", b'{"name": "\xff\xfe\xfd", "subject": "\xc0\xaf\xed\xa0\x80"}', "application/json"),
    ("nul_in_keys", b'{"na\\u0000me": "x", "\\u0000": "\\u0000", "subject\\u0000": 1}', "application/json"),
    ("raw_nul_bytes", b'{"name": "a\x00b"}', "application/json"),
    ("lone_surrogate", b'{"name": "\\ud800", "subject": "\\udfff x"}', "application/json"),
    ("empty", b"", "application/json"),
    ("not_json", b"name=x&subject=y", "application/json"),
    ("huge_number_literal", b'{"id": 1' + b"0" * 5_000 + b', "limit": 1e999}', "application/json"),
    ("json_as_text_plain", b'{"name": "x"}', "text/plain"),
    ("xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "application/xml"),
    ("no_content_type", b'{"name": "x"}', ""),
    ("multipart_1000_parts", MULTIPART, MULTIPART_TYPE),
    ("array_not_object", b"[1, 2, 3]", "application/json"),
]

BAD_QUERY_VALUES = [str(HUGE), "-1", "1.5", "-0", "1e400", "abc", "\x00", "", "9" * 5_000]
QUERY_NAMES = ("offset", "limit", "page", "team", "since", "q", "status", "sort", "view", "scope")


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.PIVOTDESK_AI_ENABLED = False
    settings.PIVOTDESK_API_RATE_LIMIT_PER_MINUTE = 1_000_000
    settings.PIVOTDESK_WEB_FORM_RATE_PER_HOUR = 1_000_000
    clear_rate_limits()
    yield
    clear_rate_limits()


@pytest.fixture
def admin(workspace) -> AgentProfile:
    return new_agent(workspace=workspace, role=Role.ADMIN)


@pytest.fixture
def objects(workspace, admin) -> dict[str, int]:
    """One of everything a URL may name, so path parameters point at real rows."""
    from pivotdesk.notifications.services import notify
    from pivotdesk.tickets.services.configuration import custom_field_create
    from pivotdesk.webhooks.tests.factories import make_endpoint

    org = new_organization(workspace=workspace)
    contact = new_contact(workspace=workspace, organization=org)
    other = new_contact(workspace=workspace)
    ticket = make_ticket(workspace=workspace, requester=contact)
    make_ticket(workspace=workspace, requester=other)
    team = new_team(workspace=workspace)
    field = custom_field_create(workspace=workspace, actor=Actor.system(), key="plan", label="Plan", field_type="text")
    view = saved_view_create(actor=Actor.system(), workspace=workspace, name="Mine", filters={}, owner=None)
    token, _ = api_token_create(actor=Actor.system(), agent=admin, name="spare")
    endpoint = make_endpoint(workspace=workspace)
    note = notify(
        workspace=workspace, actor=Actor.system(), recipient=admin, kind="routing.assigned", title="t", ticket=ticket
    )
    account = channel_account_create(actor=Actor.system(), workspace=workspace, kind="email", name="mail")
    message = ticket.messages.first()
    attachment = attachment_add(actor=Actor.system(), ticket=ticket, filename="a.txt", content=b"x")
    stored = inbound_store(
        actor=Actor.system(), workspace=workspace, channel="email", raw=b"Subject: x\r\n\r\nx", account=account
    )
    return {
        "attachment_id": attachment.pk,
        "payload_id": stored.pk,
        "ticket_id": ticket.pk,
        "number": ticket.number,
        "contact_id": contact.pk,
        "other_id": other.pk,
        "organization_id": org.pk,
        "team_id": team.pk,
        "field_id": field.pk,
        "view_id": view.pk,
        "token_id": token.pk,
        "endpoint_id": endpoint.pk,
        "notification_id": note.pk if note else 1,
        "agent_id": admin.pk,
        "account_id": account.pk,
        "message_id": message.pk if message else 1,
    }


# --- the REST API, generated from its OpenAPI schema --------------------------------------------------------------


def _schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200, response.status_code
    return dict(response.json())


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _resolve(schema, schema["components"]["schemas"][name])
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = [o for o in node[key] if o.get("type") != "null"]
            if options:
                return _resolve(schema, options[0])
    return node


def _value(schema: dict[str, Any], node: dict[str, Any], mutation: str, depth: int = 0) -> Any:
    node = _resolve(schema, node)
    kind = node.get("type")
    if kind == "string":
        if mutation == "nul":
            return "a\x00b\x00"
        if mutation == "overlong":
            return "x" * (min(int(node.get("maxLength", 100_000)), 1_000_000) + 1)
        if mutation == "control":
            return "\u202e\u0000\ufeff\ud7ff\x1b[31m<x>"
        return "1" + "0" * 40
    if kind in ("integer", "number"):
        return {"nul": 0, "overlong": HUGE, "control": -1, "float": 1.5}.get(mutation, HUGE)
    if kind == "boolean":
        return "\x00" if mutation == "nul" else HUGE
    if kind == "array":
        item = _value(schema, node.get("items", {"type": "string"}), mutation, depth + 1) if depth < 3 else None
        return [item] * (10_001 if mutation == "overlong" else 1)
    if kind == "object" or "properties" in node:
        props = node.get("properties") or {}
        if not props:
            return {"k\x00ey": "v\x00", str(HUGE): HUGE}
        return {name: _value(schema, sub, mutation, depth + 1) for name, sub in props.items()}
    return HUGE


def _api_operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method in ("post", "patch", "put"):
                yield method, path, op


def _fill(path: str, objects: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(objects.get(m.group(1), 1)), path)


def _api_client(admin: AgentProfile) -> Client:
    _, secret = api_token_create(actor=Actor.system(), agent=admin, name="bad-input", scope="admin")
    return Client(raise_request_exception=False, headers={"authorization": f"Bearer {secret}"})


def test_every_api_write_operation_answers_bad_bodies_without_a_5xx(admin, objects):
    client = _api_client(admin)
    schema = _schema(client)
    operations = list(_api_operations(schema))
    assert len(operations) >= 25  # the schema really was iterated
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for method, path, op in operations:
        url = _fill(path, objects)
        body_schema = ((op.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
        bodies = list(RAW_BODIES)
        if body_schema:
            for mutation in ("nul", "overlong", "control", "huge", "float"):
                try:
                    data = json.dumps(_value(schema, body_schema, mutation)).encode()
                except ValueError:
                    continue
                bodies.append((f"schema:{mutation}", data, "application/json"))
        for name, body, content_type in bodies:
            response = getattr(client, method)(url, body, content_type=content_type)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url} [{name}] -> {response.status_code}")
    assert failures == []
    # the bodies reached the handlers (validation answered), not an authentication wall
    assert statuses[401] == 0 and statuses[403] < sum(statuses.values()) // 10, statuses
    assert statuses[400] + statuses[413] + statuses[415] + statuses[422] > sum(statuses.values()) // 2, statuses


def test_every_api_list_answers_bad_query_parameters_without_a_5xx(admin, objects):
    client = _api_client(admin)
    schema = _schema(client)
    failures: list[str] = []
    lists = [(p, op) for p, ops in schema["paths"].items() for m, op in ops.items() if m == "get"]
    for path, op in lists:
        url = _fill(path, objects)
        declared = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
        names = sorted(set(declared) | {"offset", "limit", "page", "team"})
        for value in BAD_QUERY_VALUES:
            response = client.get(url, dict.fromkeys(names, value))
            if response.status_code >= 500:
                failures.append(f"GET {url} {names}={value[:20]!r} -> {response.status_code}")
        for name in declared:
            response = client.get(url, {name: str(HUGE)})
            if response.status_code >= 500:
                failures.append(f"GET {url} {name}=10**40 -> {response.status_code}")
    assert failures == []


def test_a_20_mb_api_body_is_refused_without_a_5xx(admin, objects):
    client = _api_client(admin)
    body = json.dumps({"subject": "x", "body": "x" * (20 * MB), "requester": {"email": "big@example.com"}})
    response = client.post("/api/v1/tickets", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    response = client.post("/api/v1/tickets", b"x" * (31 * MB), content_type="application/json")
    assert 400 <= response.status_code < 500


# --- the channel webhooks: every registered kind -----------------------------------------------------------------

ACCOUNT_SETTINGS: dict[str, dict[str, Any]] = {
    "generic": {"secrets": {"signing_secret": SECRET}},
    "cti": {"secrets": {"signing_secret": SECRET}},
    "telegram": {"secrets": {"bot_token": "1:x", "secret_token": SECRET}},
    "line": {"secrets": {"channel_secret": SECRET, "channel_access_token": "t"}},
    "messenger": {"secrets": {"app_secret": SECRET, "page_access_token": "t", "verify_token": "v"}},
    "whatsapp": {"secrets": {"app_secret": SECRET, "access_token": "t", "verify_token": "v"}},
}


def _signed_headers(kind: str, body: bytes) -> dict[str, str]:
    """The headers a real platform would send (where the suite knows the signature scheme)."""
    if kind in ("generic", "cti"):
        return {"HTTP_X_PIVOTDESK_SIGNATURE": sha256_header(SECRET, body)}
    if kind == "telegram":
        return {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": SECRET}
    if kind == "line":
        return {"HTTP_X_LINE_SIGNATURE": line_signature(SECRET, body)}
    if kind in ("messenger", "whatsapp"):
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        return {"HTTP_X_HUB_SIGNATURE_256": f"sha256={digest}"}
    return {}


def _webhook_accounts(workspace) -> list[ChannelAccount]:
    adapters.load()
    accounts = []
    for kind in sorted(WEBHOOK_HANDLERS):
        extra = ACCOUNT_SETTINGS.get(kind, {})
        accounts.append(
            channel_account_create(
                actor=Actor.system(),
                workspace=workspace,
                kind=kind,
                name=f"{kind} bad input",
                config=extra.get("config", {}),
                secrets=extra.get("secrets", {}),
            )
        )
    return accounts


# Refused before anything is stored, by design: no such channel, a method the platform never uses, over 30 MB;
# and per channel, the documented answers to a request that carries nothing to keep.
REFUSED_BEFORE_STORING = (404, 405, 413)
DOCUMENTED_REFUSALS = {("email", "empty"): 400}


def test_every_channel_webhook_keeps_the_raw_bad_request_and_answers_without_a_5xx(
    workspace, django_capture_on_commit_callbacks
):
    accounts = _webhook_accounts(workspace)
    assert {"email", "generic", "telegram", "whatsapp"} <= {a.kind for a in accounts}
    client = Client(raise_request_exception=False)
    failures: list[str] = []
    lost: list[str] = []
    answers: Counter[tuple[str, int, bool]] = Counter()
    bodies = [*RAW_BODIES, ("overlong_text", json.dumps({"text": "x" * (5 * MB)}).encode(), "application/json")]
    for account in accounts:
        url = f"/channels/in/{account.kind}/{account.webhook_key}/"
        for name, body, content_type in bodies:
            before = InboundPayload.objects.filter(account=account).count()
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(url, body, content_type=content_type, **_signed_headers(account.kind, body))
            if response.status_code >= 500:
                failures.append(f"POST {url} [{name}] -> {response.status_code}")
                continue
            kept = InboundPayload.objects.filter(account=account).count() > before
            answers[(account.kind, response.status_code, kept)] += 1
            documented = DOCUMENTED_REFUSALS.get((account.kind, name))
            if documented is not None:
                if response.status_code != documented:
                    lost.append(f"{account.kind} [{name}] -> {response.status_code}, documented {documented}")
            elif response.status_code not in REFUSED_BEFORE_STORING and not kept:
                lost.append(f"{account.kind} [{name}] -> {response.status_code}, no raw row")
    assert failures == []
    assert lost == []
    # the requests reached the adapters: nearly every one was kept (stored or kept as a rejected row)
    kept_total = sum(n for (_, _, kept), n in answers.items() if kept)
    assert kept_total >= 0.9 * sum(answers.values()), answers


def test_a_webhook_body_over_30_mb_is_a_413(workspace):
    account = _webhook_accounts(workspace)[0]
    response = Client(raise_request_exception=False).post(
        f"/channels/in/{account.kind}/{account.webhook_key}/", b"x" * (31 * MB), content_type="application/json"
    )
    assert response.status_code == 413
    assert not InboundPayload.objects.filter(account=account).exists()


def test_an_unknown_webhook_key_or_kind_is_a_404_for_any_body(workspace):
    client = Client(raise_request_exception=False)
    for url in ("/channels/in/email/no-such-key/", "/channels/in/no-such-kind/x/", "/channels/in/generic/%00/"):
        for _, body, content_type in RAW_BODIES:
            assert client.post(url, body, content_type=content_type).status_code == 404, url


# --- public intake: the web form and the chat widget --------------------------------------------------------------


def test_the_web_form_refuses_bad_input_with_a_4xx_and_keeps_valid_hostile_text(workspace):
    account = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="web_form",
        name="form",
        config={"fields": ["name", "email", "subject", "description"]},
    )
    url = f"/channels/form/{account.webhook_key}/"
    client = Client(raise_request_exception=False)
    failures = []
    for name, body, content_type in RAW_BODIES:
        response = client.post(url, body, content_type=content_type or "application/octet-stream")
        if response.status_code >= 500:
            failures.append(f"{name} -> {response.status_code}")
    for field in ("name", "subject", "description", "email"):
        for value in ("a\x00b", "x" * 1_000_000, "\u202e\ufeff", str(HUGE)):
            data = {"name": "Li", "email": "li@example.cn", "subject": "s", "description": "d", field: value}
            response = client.post(url, data)
            if response.status_code >= 500:
                failures.append(f"form {field}={value[:10]!r} -> {response.status_code}")
        for raw in (b"%ED%A0%80", b"%FF%FE", b"\xff\xfe", b"%00"):
            body = b"name=Li&email=li%40example.cn&subject=s&description=d&" + field.encode() + b"=" + raw
            response = client.post(url, body, content_type="application/x-www-form-urlencoded")
            if response.status_code >= 500:
                failures.append(f"form {field}={raw!r} -> {response.status_code}")
    assert failures == []
    # a valid submission full of hostile characters is stored raw and opens a ticket
    hostile = {"name": "李\u202e", "email": "li@example.cn", "subject": "\ufeff<x>", "description": "a\x1bb"}
    response = client.post(url, hostile)
    assert response.status_code in (302, 303)
    payload = InboundPayload.objects.filter(account=account).latest("pk")
    assert "\ufeff<x>".encode() in bytes(payload.raw) or "<x>" in bytes(payload.raw).decode("utf-8", "replace")


def test_20_mb_to_the_web_form_and_the_chat_is_a_4xx(workspace):
    form = channel_account_create(
        actor=Actor.system(), workspace=workspace, kind="web_form", name="form", config={"fields": ["description"]}
    )
    chat = channel_account_create(
        actor=Actor.system(), workspace=workspace, kind="chat", name="chat", config={"allowed_origins": [ORIGIN]}
    )
    session = Client(headers={"origin": ORIGIN}).post(f"/channels/chat/{chat.webhook_key}/session/").json()
    visitor = Client(raise_request_exception=False, headers={"origin": ORIGIN, "x-pivotdesk-visitor": session["token"]})
    big = json.dumps({"text": "x" * (20 * MB), "description": "x" * (20 * MB), "email": "a@example.cn"})
    # when 20 MB (over the fields' limits, under the 30 MB request limit) are posted
    answers = [
        visitor.post(f"/channels/chat/{chat.webhook_key}/messages/", big, content_type="application/json"),
        Client(raise_request_exception=False).post(
            f"/channels/form/{form.webhook_key}/", big, content_type="application/json"
        ),
        Client(raise_request_exception=False).post(
            f"/channels/form/{form.webhook_key}/", {"description": "x" * (20 * MB)}
        ),
    ]
    # then each is refused with a 4xx (a message too long to be one) and nothing is stored for the form
    assert [400 <= r.status_code < 500 for r in answers] == [True, True, True], [r.status_code for r in answers]
    assert not InboundPayload.objects.filter(account=form).exists()


def test_the_chat_endpoints_answer_bad_input_with_a_4xx(workspace):
    account = channel_account_create(
        actor=Actor.system(), workspace=workspace, kind="chat", name="chat", config={"allowed_origins": [ORIGIN]}
    )
    key = account.webhook_key
    session = (
        Client(raise_request_exception=False, headers={"origin": ORIGIN}).post(f"/channels/chat/{key}/session/").json()
    )
    visitor = Client(raise_request_exception=False, headers={"origin": ORIGIN, "x-pivotdesk-visitor": session["token"]})
    failures = []
    for name, body, content_type in RAW_BODIES:
        clear_rate_limits()
        for url in (f"/channels/chat/{key}/messages/", f"/channels/chat/{key}/session/"):
            response = visitor.post(url, body, content_type=content_type or "application/octet-stream")
            if response.status_code >= 500:
                failures.append(f"POST {url} [{name}] -> {response.status_code}")
    for value in BAD_QUERY_VALUES:
        response = visitor.get(f"/channels/chat/{key}/messages/", {"since": value})
        if response.status_code >= 500:
            failures.append(f"GET since={value[:10]!r} -> {response.status_code}")
    for field in ("text", "name", "email", "client_id"):
        for value in ("a\x00b", "x" * 2_000_000, HUGE, ["x"], {"a": 1}):
            clear_rate_limits()
            body = {"text": "hello", field: value}
            response = visitor.post(
                f"/channels/chat/{key}/messages/", json.dumps(body), content_type="application/json"
            )
            if response.status_code >= 500:
                failures.append(f"chat {field}={str(value)[:10]!r} -> {response.status_code}")
    assert failures == []


# --- the agent UI: every URL of the web package ------------------------------------------------------------------

FORM_FIELDS = (
    "body", "kind", "status", "priority", "team", "assignee", "tags", "subject", "name", "ids", "action", "other",
    "into", "page", "offset", "limit", "q", "filters", "sort", "language", "workspace", "url", "label", "kinds",
    "reason", "agent", "position", "value", "status_after", "next",
)  # fmt: skip


def _web_patterns() -> list[URLPattern]:
    return [p for p in web_urls.urlpatterns if isinstance(p, URLPattern)]


def _web_url(pattern: URLPattern, objects: dict[str, int]) -> str:
    route = str(pattern.pattern)
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(objects.get(m.group(1), 1)), route)


def _form_bodies() -> list[tuple[str, Any, str | None]]:
    """Form posts: every common field with one bad value, then raw bodies (as the agent's browser could send)."""
    bodies: list[tuple[str, Any, str | None]] = []
    for label, value in (
        ("nul", "a\x00b"),
        ("huge_int", str(HUGE)),
        ("negative", "-1"),
        ("float", "1.5"),
        ("overlong", "x" * 200_000),
        ("bidi_and_bom", "\u202e\ufeff\u0000"),
    ):
        bodies.append((f"form:{label}", dict.fromkeys(FORM_FIELDS, value), None))
    bodies += [(name, body, content_type or "application/octet-stream") for name, body, content_type in RAW_BODIES]
    bodies.append(("invalid_utf8_form", b"body=%FF%FE&status=\xff\xfe&kind=%00", "application/x-www-form-urlencoded"))
    return bodies


def test_every_agent_ui_endpoint_answers_bad_posts_and_queries_without_a_5xx(admin, objects):
    from django.test.utils import override_settings

    client = Client(raise_request_exception=False)
    failures: list[str] = []
    patterns = _web_patterns()
    assert len(patterns) >= 40
    bodies = _form_bodies()
    with override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=1_000):
        for pattern in patterns:
            url = _web_url(pattern, objects)
            for name, body, content_type in bodies:
                client.force_login(admin.user)
                if content_type is None:
                    response = client.post(url, body)
                else:
                    response = client.post(url, body, content_type=content_type)
                if response.status_code >= 500:
                    failures.append(f"POST {url} [{name}] -> {response.status_code}")
            if "<" not in str(pattern.pattern) or "number" in str(pattern.pattern):
                client.force_login(admin.user)
                for value in BAD_QUERY_VALUES:
                    response = client.get(url, dict.fromkeys(QUERY_NAMES, value))
                    if response.status_code >= 500:
                        failures.append(f"GET {url} ?…={value[:20]!r} -> {response.status_code}")
    assert failures == []
    assert Ticket.objects.filter(pk=objects["ticket_id"]).exists() or True  # deletions by bad posts are allowed
