"""Property tests of the whole REST API (issue 11, the permanent suite): Schemathesis generates requests from
`/api/openapi.json` for every operation, valid and invalid, and sends them in-process to the WSGI app with an
admin-scope token of a workspace that holds one of every object (`seed.py`). Checks:

- no 5xx (`not_a_server_error`);
- every answer is documented: its status code (`status_code_conformance`), content type and body
  (`content_type_conformance`, `response_schema_conformance`);
- a request that breaks the schema is refused with a 4xx (`negative_data_rejection`).

Then a stateful run: the schema declares no OpenAPI links, so Schemathesis infers them (dependency analysis of
parameter and property names, and `Location` headers) and chains create → read → update → delete sequences.

Bounded by default so it runs in `make test` (about a minute on two cores); `PIVOTDESK_FUZZ_EXAMPLES=200` (examples per
operation, and state-machine runs) explores further. `PIVOTDESK_FUZZ_COVERAGE=1` adds Schemathesis' coverage phase
(boundary values of every field).
"""

from __future__ import annotations

import os
import typing
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, settings
from pydantic import BaseModel
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.services import api_token_create
from pivotdesk.web.tests.security.seed import Seed, seed_workspace
from pivotdesk.web.tests.security.test_isolation_matrix import object_key

EXAMPLES = int(os.environ.get("PIVOTDESK_FUZZ_EXAMPLES", "15"))
CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {
            "coverage": {"enabled": bool(os.environ.get("PIVOTDESK_FUZZ_COVERAGE"))},
            "stateful": {"enabled": True, "inference": {"algorithms": ["dependency-analysis", "location-headers"]}},
        }
    }
)
# The WSGI app comes from Django, not from `config`, which this app may not import (see the layers contract).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application(), config=CONFIG)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Requests go straight to the WSGI app, so request_started/finished fire close_old_connections, which would
    close the connection holding the test's transaction (PostgreSQL). Django's test client detaches it the same
    way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seed_fuzz(db: Any) -> tuple[Seed, dict[str, str]]:
    """A workspace with one of everything, and its admin's admin-scope token without a practical rate limit."""
    from pivotdesk.accounts.tests.factories import WorkspaceFactory

    seed = seed_workspace(WorkspaceFactory.create(), marker="FUZZ")
    _token, secret = api_token_create(
        actor=Actor.system(), agent=seed.admin, name="fuzz", scope="admin", rate_limit_per_minute=100_000
    )
    return seed, {"Authorization": f"Bearer {secret}"}


def _aim_at_real_objects(case: Any, seed: Seed) -> None:
    """Half of the generated ids of valid requests point at real objects, so the handlers run past their lookups
    too (an invalid request keeps its invalid ids: replacing them would make it valid)."""
    if case.meta is None or case.meta.generation.mode.is_negative:
        return
    path = case.operation.path.removeprefix("/")
    for name, value in list((case.path_parameters or {}).items()):
        key = object_key(name, f"api{path}" if not path.startswith("api/") else path)
        if key is not None and isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = seed.pk(key)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: Any, seed_fuzz: tuple[Seed, dict[str, str]]) -> None:
    seed, headers = seed_fuzz
    _aim_at_real_objects(case, seed)
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS)


@pytest.mark.django_db
def test_stateful_sequences_answer_as_documented(seed_fuzz: tuple[Seed, dict[str, str]]) -> None:
    # given the schema's operations chained by the links Schemathesis infers
    _seed, headers = seed_fuzz
    machine = schema.as_state_machine()
    assert machine.bundles, "no links were inferred: the stateful run would only repeat the single-call test"

    class Machine(machine):  # type: ignore[valid-type]
        # Each sequence starts from the seeded workspace: its writes are rolled back, so Hypothesis can replay and
        # shrink a failing sequence against the same data.
        def setup(self) -> None:
            self.savepoint = transaction.atomic()
            self.savepoint.__enter__()

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    # when sequences of calls run; then every answer passes the same checks
    Machine.run(
        settings=settings(
            max_examples=max(EXAMPLES, 5),
            stateful_step_count=8,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )


@pytest.mark.django_db
def test_a_boolean_is_not_taken_for_an_id(seed_fuzz: tuple[Seed, dict[str, str]]) -> None:
    # Found by negative_data_rejection (PIVOTDESK_FUZZ_EXAMPLES=40): pydantic's lax mode read `true` as the id 1.
    from django.test import Client

    seed, headers = seed_fuzz
    client = Client(headers={k.lower(): v for k, v in headers.items()})
    body = {"ticket_ids": [seed.ticket.pk], "changes": {"assignee_id": True}}
    response = client.post("/api/v1/tickets/bulk", body, content_type="application/json")
    assert response.status_code == 422, response.content
    response = client.patch(f"/api/v1/tickets/{seed.ticket.pk}", {"team_id": True}, content_type="application/json")
    assert response.status_code == 422, response.content


def _models(annotation: Any, seen: set[type[BaseModel]]) -> None:
    """Every pydantic model an annotation reaches (fields, list items, unions), once."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, seen)
    for argument in typing.get_args(annotation):
        _models(argument, seen)


def test_no_two_schemas_share_a_name_in_the_openapi_components() -> None:
    # django-ninja names a component by its class name: two apps' `PolicyOut` became one, and the SLA policy list
    # was documented with the routing policy's fields (found by this suite's response_schema_conformance).
    seen: set[type[BaseModel]] = set()
    for view in _ninja_operations():
        for wrapper in [*view.response_models.values(), *view.models]:
            for field in getattr(wrapper, "model_fields", {}).values():  # None for a 204
                _models(field.annotation, seen)
    components = set(schema.raw_schema.get("components", {}).get("schemas", {}))
    by_name: dict[str, set[str]] = {}
    for model in seen:
        if model.__name__ in components:
            by_name.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    shared = {name: sorted(classes) for name, classes in by_name.items() if len(classes) > 1}
    assert not shared, f"Rename one of each: the schema documents only one of them: {shared}"


def _ninja_operations() -> Iterator[Any]:
    """Every django-ninja operation behind the URL conf's /api/ (found through the resolver, not `config`)."""
    import inspect

    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns: list[URLPattern | URLResolver]) -> Iterator[Any]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif inspect.isfunction(pattern.callback):
                path_view = inspect.getclosurevars(pattern.callback).nonlocals.get("self")
                yield from getattr(path_view, "operations", [])

    yield from walk(get_resolver().url_patterns)
