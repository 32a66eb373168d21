"""`external_id` is the API's idempotency key (issue 11, finding 13): one ticket per key and workspace, also when
the same request arrives several times at once, decided by the database's unique constraint."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import Conflict
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.tickets import services
from pivotdesk.tickets.models import Ticket

CONCURRENT = 8
PAYLOAD = {
    "subject": "打印机坏了",
    "body": "printer broken",
    "requester": {"name": "Li", "email": "li@example.com"},
    "external_id": "crm-42",
}


def _post(client: Client, data: dict[str, Any]) -> Any:
    return client.post("/api/v1/tickets", data, content_type="application/json")


@pytest.mark.django_db
def test_a_repeated_request_returns_the_first_ticket_and_writes_nothing(agent, api_client_for):
    # Given a ticket opened through the API with an external id
    api = api_client_for(agent)
    first = _post(api, PAYLOAD)
    assert first.status_code == 201, first.content

    # When the client sends the same request again (a retry after a timeout)
    again = _post(api, {**PAYLOAD, "subject": "a retry with other words"})

    # Then it gets the same ticket with 200, and there is still one ticket and one message
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    ticket = Ticket.objects.get(workspace=agent.workspace, external_id="crm-42")
    assert ticket.messages.count() == 1


@pytest.mark.django_db
def test_the_key_is_scoped_to_the_workspace_and_an_empty_key_is_no_key(agent, api_client_for, other_workspace):
    from pivotdesk.accounts.tests.factories import AgentFactory

    stranger = AgentFactory(workspace=other_workspace)
    assert _post(api_client_for(agent), PAYLOAD).status_code == 201
    assert _post(api_client_for(stranger), PAYLOAD).status_code == 201
    for _ in range(2):
        assert _post(api_client_for(agent), {**PAYLOAD, "external_id": ""}).status_code == 201
    assert Ticket.objects.filter(external_id="crm-42").count() == 2
    assert Ticket.objects.filter(workspace=agent.workspace, external_id="").count() == 2


@pytest.mark.django_db
def test_the_service_refuses_a_second_ticket_with_the_same_key(workspace):
    requester = ContactFactory(workspace=workspace)
    services.ticket_create(workspace=workspace, requester=requester, subject="a", actor=Actor.system(), external_id="k")
    with pytest.raises(Conflict) as refused:
        services.ticket_create(
            workspace=workspace, requester=requester, subject="b", actor=Actor.system(), external_id="k"
        )
    assert refused.value.code == "duplicate_external_id"
    assert Ticket.objects.filter(workspace=workspace).count() == 1


def _race(clients: list[Client]) -> list[Any]:
    """Send the same request from every client at once, each in its own thread with its own connection."""
    barrier = threading.Barrier(len(clients))
    responses: list[Any] = [None] * len(clients)
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            barrier.wait()
            responses[n] = _post(clients[n], PAYLOAD)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return responses


def _assert_one_ticket(responses: list[Any], workspace_id: int) -> None:
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (len(responses) - 1) + [201], [r.content for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Ticket.objects.filter(workspace_id=workspace_id, external_id="crm-42").count() == 1
    assert Ticket.objects.filter(workspace_id=workspace_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_open_exactly_one_ticket_on_postgresql(agent, api_client_for):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (PIVOTDESK_TEST_DATABASE_URL): real concurrent transactions")
    clients = [api_client_for(agent) for _ in range(CONCURRENT)]
    _assert_one_ticket(_race(clients), agent.workspace_id)


@contextmanager
def _sqlite_file_database(folder: Path) -> Iterator[None]:
    """Point the default alias at a file copy of the in-memory test database, so that threads share one database
    file with its real locking, as the web and worker processes of an installation do."""
    memory = connections["default"]
    memory.ensure_connection()
    path = folder / "race.sqlite3"
    target = sqlite3.connect(path)
    memory.connection.backup(target)
    target.close()
    original = connections.settings["default"]
    connections.settings["default"] = {**original, "NAME": str(path)}
    connections["default"] = connections.create_connection("default")
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"] = memory
        connections.settings["default"] = original


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_open_exactly_one_ticket_on_a_sqlite_file(agent, api_client_for, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant of the race")
    clients = [api_client_for(agent) for _ in range(CONCURRENT)]  # tokens exist before the copy
    with _sqlite_file_database(tmp_path):
        responses = _race(clients)
        _assert_one_ticket(responses, agent.workspace_id)


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_oldest_ticket_and_suffixes_later_duplicates():
    # Given a desk from before the constraint with three tickets under one key and one under another
    old = _migrate([("tickets", "0007_search_documents_to_search_app")])
    workspace = old.get_model("accounts", "Workspace").objects.create(name="W", slug="w-external-id")
    contact = old.get_model("customers", "Contact").objects.create(workspace_id=workspace.pk, name="c")
    old_ticket = old.get_model("tickets", "Ticket")
    made = [
        old_ticket.objects.create(
            workspace_id=workspace.pk, number=n, subject=str(n), requester_id=contact.pk, external_id=key
        )
        for n, key in ((1, "dup"), (2, "dup"), (3, "other"), (4, "dup"), (5, ""), (6, ""))
    ]

    # When the upgrade runs
    new = _migrate([("tickets", "0008_ticket_unique_external_id")])

    # Then the oldest keeps the key, the later ones carry it with their number, nothing else changed
    keys = dict(new.get_model("tickets", "Ticket").objects.values_list("number", "external_id"))
    assert keys == {1: "dup", 2: "dup~dup#2", 3: "other", 4: "dup~dup#4", 5: "", 6: ""}
    assert {t.pk for t in made} == set(new.get_model("tickets", "Ticket").objects.values_list("pk", flat=True))
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
