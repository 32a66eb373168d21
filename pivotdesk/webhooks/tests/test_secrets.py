"""Signing secrets: encrypted at rest, shown once (create and rotate), a hint everywhere else, and a rotation whose
grace period signs every delivery with both secrets so receivers switch without losing events."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.crypto import decrypt_json
from pivotdesk.common.time import now
from pivotdesk.webhooks import services, tasks
from pivotdesk.webhooks.domain.signing import SIGNATURE_HEADER, SignatureError, parse_header, verify
from pivotdesk.webhooks.models import WebhookEndpoint
from pivotdesk.webhooks.tests.factories import make_endpoint

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhooks/"
SYSTEM = Actor.system("tests")


@pytest.fixture
def admin_auth(admin_agent, api_auth):
    return api_auth(admin_agent, scope="admin")


def _stored_column(endpoint_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_config FROM webhooks_webhookendpoint WHERE id = %s", [endpoint_id])
        return str(cursor.fetchone()[0])


def test_the_secret_is_in_the_create_answer_and_in_no_get(client, admin_auth):
    created = client.post(BASE, {"url": "https://example.com/hook"}, content_type="application/json", **admin_auth)
    assert created.status_code == 201
    secret = created.json()["secret"]
    endpoint_id = created.json()["id"]
    assert secret.startswith("whsec_") and len(secret) > 40

    for path in (BASE, f"{BASE}{endpoint_id}"):
        response = client.get(path, **admin_auth)
        assert response.status_code == 200
        assert secret not in response.content.decode()
        assert secret[-12:] not in response.content.decode()
    one = client.get(f"{BASE}{endpoint_id}", **admin_auth).json()
    assert "secret" not in one
    assert one["secret_set"] is True
    assert one["secret_hint"] == f"whsec_…{secret[-4:]}"
    patched = client.patch(
        f"{BASE}{endpoint_id}", {"description": "CRM"}, content_type="application/json", **admin_auth
    )
    assert secret not in patched.content.decode() and "secret" not in patched.json()


def test_the_database_holds_ciphertext_not_the_secret(workspace):
    endpoint = make_endpoint(workspace=workspace)
    secret = endpoint.issued_secret
    assert secret

    stored = _stored_column(endpoint.pk)

    assert secret not in stored and secret[6:] not in stored
    assert decrypt_json(stored) == {"current": secret}
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).issued_secret is None  # a fresh read never has it


def test_rotate_returns_a_new_secret_once(client, admin_auth, workspace):
    endpoint = make_endpoint(workspace=workspace)
    first = endpoint.issued_secret

    rotated = client.post(f"{BASE}{endpoint.pk}/rotate-secret", **admin_auth)

    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != first
    assert rotated.json()["previous_secret_expires_at"] is not None
    later = client.get(f"{BASE}{endpoint.pk}", **admin_auth)
    assert new not in later.content.decode() and first not in later.content.decode()
    assert later.json()["secret_hint"] == f"whsec_…{new[-4:]}"
    stored = _stored_column(endpoint.pk)
    assert new not in stored and first not in stored


def test_during_the_grace_period_deliveries_carry_both_signatures_and_after_it_only_the_new_one(
    workspace, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    old = endpoint.issued_secret
    rotated = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=SYSTEM)
    new = rotated.issued_secret
    assert old and new and old != new

    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_endpoint_ping(endpoint=rotated, actor=SYSTEM)
    [during] = receiver.requests
    header = during.headers[SIGNATURE_HEADER]
    assert len(parse_header(header)[1]) == 2  # one header, two v1= values
    assert verify(new, header, during.body)
    assert verify(old, header, during.body)

    # Given the grace period is over (the row's expiry rewound instead of waiting a day)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_endpoint_ping(endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk), actor=SYSTEM)
    after = receiver.requests[1]
    header = after.headers[SIGNATURE_HEADER]
    assert len(parse_header(header)[1]) == 1
    assert verify(new, header, after.body)
    with pytest.raises(SignatureError):
        verify(old, header, after.body)


def test_the_signing_secrets_follow_the_grace_period(workspace, settings):
    settings.PIVOTDESK_WEBHOOK_SECRET_GRACE_HOURS = 24
    endpoint = make_endpoint(workspace=workspace)
    old = endpoint.issued_secret
    rotated = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=SYSTEM)
    at = rotated.secret_rotated_at
    assert at is not None

    assert rotated.signing_secrets(at + dt.timedelta(hours=23)) == [rotated.issued_secret, old]
    assert rotated.signing_secrets(at + dt.timedelta(hours=24)) == [rotated.issued_secret]


def test_a_second_rotation_keeps_only_the_secret_it_replaced(workspace):
    endpoint = make_endpoint(workspace=workspace)
    first = endpoint.issued_secret
    second = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=SYSTEM).issued_secret
    third_endpoint = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=SYSTEM)

    keys = third_endpoint.signing_secrets(now())

    assert keys == [third_endpoint.issued_secret, second] and first not in keys


def test_a_fanned_out_event_is_signed_with_the_decrypted_secret(
    workspace, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay({"name": "ticket.updated", "workspace_id": workspace.pk, "payload": {}})
    [request] = receiver.requests
    assert verify(str(endpoint.issued_secret), request.headers[SIGNATURE_HEADER], request.body)


# --- the web screen ------------------------------------------------------------------------------------------------


def test_the_webhook_page_shows_the_hint_and_never_the_secret(admin_agent_client, workspace):
    endpoint = make_endpoint(workspace=workspace)
    secret = str(endpoint.issued_secret)

    page = admin_agent_client.get("/settings/webhooks/")

    assert page.status_code == 200
    html = page.content.decode()
    assert secret not in html and endpoint.secret_hint in html


def test_adding_in_the_ui_shows_the_secret_once_with_a_copy_button(admin_agent_client):
    added = admin_agent_client.post("/settings/webhooks/", {"url": "https://example.com/ui-hook", "description": "ERP"})

    assert added.status_code == 201
    endpoint = WebhookEndpoint.objects.get(url="https://example.com/ui-hook")
    html = added.content.decode()
    assert endpoint.signing_secret in html and "data-copy=" in html
    assert "no-store" in added["Cache-Control"]
    assert endpoint.signing_secret not in admin_agent_client.get("/settings/webhooks/").content.decode()


def test_rotating_in_the_ui_asks_first_and_shows_the_new_secret_once_in_chinese_too(client_as, admin_agent, workspace):
    endpoint = make_endpoint(workspace=workspace)
    client = client_as(admin_agent, "zh-hans")
    page = client.get("/settings/webhooks/").content.decode()
    assert f'action="/settings/webhooks/{endpoint.pk}/rotate-secret/"' in page and "data-confirm=" in page

    rotated = client.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/")

    assert rotated.status_code == 200
    fresh = WebhookEndpoint.objects.get(pk=endpoint.pk)
    html = rotated.content.decode()
    assert fresh.signing_secret in html and endpoint.issued_secret not in html
    assert "不会再显示" in html  # "you won't see it again", in the reader's language
    assert fresh.signing_secret not in client.get("/settings/webhooks/").content.decode()


def test_agents_who_may_not_manage_webhooks_cannot_rotate(agent_client, workspace):
    endpoint = make_endpoint(workspace=workspace)
    before = endpoint.secret_config

    assert agent_client.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/").status_code == 403
    assert agent_client.get("/settings/webhooks/").status_code == 403
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret_config == before


def test_another_workspaces_endpoint_cannot_be_rotated_from_the_ui(admin_agent_client, other_workspace):
    theirs = make_endpoint(workspace=other_workspace)
    before = theirs.secret_config

    assert admin_agent_client.post(f"/settings/webhooks/{theirs.pk}/rotate-secret/").status_code == 404
    assert WebhookEndpoint.objects.get(pk=theirs.pk).secret_config == before


# --- the data migration --------------------------------------------------------------------------------------------

MIGRATION = importlib.import_module("pivotdesk.webhooks.migrations.0003_encrypted_secret")


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_an_old_clear_text_secret(workspace):
    executor = MigrationExecutor(connection)
    executor.migrate([("webhooks", "0003_encrypted_secret")])
    try:
        apps = executor.loader.project_state(("webhooks", "0003_encrypted_secret")).apps
        Endpoint = apps.get_model("webhooks", "WebhookEndpoint")
        clear = "whsec_an-old-clear-text-secret-0123456789abcdefXYZ"
        old = Endpoint.objects.create(
            workspace_id=workspace.pk, url="https://example.com/old", secret=clear, secret_config=""
        )

        MIGRATION.encrypt_secrets(apps, None)

        old.refresh_from_db()
        assert clear not in old.secret_config
        assert decrypt_json(old.secret_config) == {"current": clear}
        assert old.secret_hint == "whsec_…fXYZ"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    migrated = WebhookEndpoint.objects.get(url="https://example.com/old")
    assert migrated.signing_secret == clear and not hasattr(migrated, "secret")
