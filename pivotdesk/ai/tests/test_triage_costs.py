"""What triage no longer pays for: an HTTP client nobody uses, override tracking of its own changes, and loading its
models on the first ticket of a fresh worker."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import selectors
from pivotdesk.ai.domain.steps import Entity, TriageInput
from pivotdesk.ai.services import connectors, enrichment, training, warmup
from pivotdesk.ai.tests.synthetic import dataset
from pivotdesk.common import egress
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _input(workspace: Any) -> TriageInput:
    return TriageInput(workspace_id=workspace.pk, ticket_id=0, subject="订单", text="订单 SO-1001 还没到")


@pytest.fixture
def clients(monkeypatch) -> list[int]:
    """How many guarded HTTP clients were built."""
    built: list[int] = []
    real = egress.guarded_client

    def counting(**kwargs: Any) -> Any:
        built.append(1)
        return real(**kwargs)

    monkeypatch.setattr(egress, "guarded_client", counting)
    return built


def test_no_connector_for_the_entities_builds_no_client_and_reads_the_cached_list_once(workspace, clients, settings):
    # Given a workspace whose only connector handles devices, read through the configuration cache
    settings.PIVOTDESK_CONFIG_CACHE_SECONDS = 600
    connectors.connector_create(
        workspace=workspace,
        actor=Actor.system(),
        name="Devices",
        entity_kind="device",
        url_template="http://127.0.0.1:9/d/{value}",
    )
    order = [Entity(kind="order", value="SO-1001")]
    enrichment.enrichment_step(_input(workspace), order)
    # When a ticket naming only an order is enriched again
    with CaptureQueriesContext(connection) as queries:
        out = enrichment.enrichment_step(_input(workspace), order)
    # Then nothing was looked up, no client was built and no statement ran
    assert out.data["lookups"] == 0 and out.data["enrichment"] == []
    assert clients == [] and len(queries) == 0


def test_a_connector_added_is_seen_at_once_and_its_lookup_builds_one_client(
    workspace, clients, settings, django_capture_on_commit_callbacks
):
    settings.PIVOTDESK_CONFIG_CACHE_SECONDS = 600
    entities = [Entity(kind="order", value="SO-1001"), Entity(kind="order", value="SO-1002")]
    assert enrichment.enrichment_step(_input(workspace), entities).data["lookups"] == 0  # cached: no connector
    # When an admin adds an order connector (the cache is invalidated when that commits)
    with django_capture_on_commit_callbacks(execute=True):
        connectors.connector_create(
            workspace=workspace,
            actor=Actor.system(),
            name="Orders",
            entity_kind="order",
            url_template="http://127.0.0.1:9/o/{value}",
            timeout_seconds=0.5,
        )
    out = enrichment.enrichment_step(_input(workspace), entities)
    # Then both orders are looked up (the port refuses: recorded failed) through one client
    assert out.data["lookups"] == 2 and out.data["failed"] == 2
    assert clients == [1]


def test_override_tracking_ignores_the_ai_and_the_system_without_a_query():
    for actor_type in ("ai", "system"):
        event = {
            "name": "ticket.updated",
            "payload": {"ticket_id": 1, "fields": ["category"], "actor_type": actor_type},
        }
        with CaptureQueriesContext(connection) as queries:
            assert selectors.event_may_override(event) is False
        assert len(queries) == 0


def test_override_tracking_still_looks_at_a_persons_change(workspace, contact):
    ticket = make_ticket(workspace=workspace, requester=contact)
    event = {
        "name": "ticket.updated",
        "payload": {"ticket_id": ticket.pk, "fields": ["category"], "actor_type": "agent"},
    }
    assert selectors.event_may_override(event) is False  # no prediction on the ticket yet: nothing to override


def test_warm_up_loads_the_active_models_and_the_language_detector(workspace, settings, tmp_path):
    # Given a workspace serving two Latin-script languages (lingua tells them apart) with a trained category model
    # that no process has loaded yet
    workspace.languages = ["zh", "en", "fr"]
    workspace.save(update_fields=["languages"])
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    categories = {
        name: ticket_services.category_create(actor=Actor.system(), workspace=workspace, name=name)
        for name in ("billing", "shipping", "login")
    }
    texts, labels = dataset(8)
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        ticket = make_ticket(workspace=workspace, subject=f"#{i}", body=text, category=categories[label])
        ticket_services.ticket_set_status(ticket=ticket, status="solved", actor=Actor.system())
    (result,) = training.workspace_train(actor=Actor.system(), workspace=workspace, fields=("category",))
    assert result.model_version is not None
    training._CACHE.clear()
    from pivotdesk.ai.domain import language

    language.detector_for.cache_clear()
    # When the worker warms up
    report = warmup.warm_up()
    # Then the model is in memory, the detector built, jieba loaded, and nothing failed
    mv = result.model_version
    assert (mv.pk, mv.metrics["artifact_sha256"]) in training._CACHE
    assert language.detector_for.cache_info().currsize >= 1
    assert report["models"] >= 1 and report["jieba"] == "loaded" and report["steps"] >= 1
    assert "failed" not in report.values()


def test_warm_up_stays_off_in_tests_and_when_switched_off(settings, monkeypatch):
    assert warmup.enabled() is False and warmup.start_in_background() is None  # under pytest
    settings.PIVOTDESK_AI_WARMUP = "off"
    assert warmup.enabled() is False


def test_a_step_whose_findings_cannot_be_written_is_recorded_failed_and_the_others_land(
    workspace, contact, monkeypatch
):
    # Given entities that cannot be stored (the combined write fails, then each step is written alone)
    from pivotdesk.ai import pipeline
    from pivotdesk.ai.models import Prediction, TriageRun
    from pivotdesk.ai.services import apply

    def refused(plan: Any, items: Any, *, message_id: Any) -> Any:
        raise ValueError("cannot store these entities")

    monkeypatch.setattr(apply, "plan_entities", refused)
    ticket = make_ticket(workspace=workspace, requester=contact, body="我的订单 PD2026011512345 还没有发货")
    # When the ticket is triaged
    outcome = pipeline.triage_ticket(ticket_id=ticket.pk)
    # Then the entities step is recorded failed with the reason, and what the other steps found is applied
    assert outcome is not None
    run = TriageRun.objects.get(ticket=ticket, step="entities")
    assert run.status == "failed" and "ValueError: cannot store these entities" in run.error
    assert TriageRun.objects.filter(ticket=ticket).count() == len(pipeline.STEP_ORDER)
    ticket.refresh_from_db()
    assert ticket.language == "zh" and Prediction.objects.get(ticket=ticket, field="language").status == "applied"
