"""The AI panel on the ticket page and the supervisor's AI page, through the Django test client."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai import pipeline
from pivotdesk.ai.models import ModelVersion, Prediction, TriageRun
from pivotdesk.ai.tests import test_pipeline
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def new_contact(**kwargs):
    return ContactFactory(**kwargs)


HTMX = {"HX-Request": "true"}
FAKE = test_pipeline.FAKE


@pytest.fixture(autouse=True)
def _own_steps(monkeypatch):
    FAKE.update(category=None, confidence=0.9, out_of_scope=False, calls=0)
    monkeypatch.setitem(pipeline.ENTRY_POINTS, "classify", (test_pipeline.HERE, "fake_classify"))
    for step in ("multimodal", "sentiment", "summary", "enrichment"):
        monkeypatch.setitem(pipeline.ENTRY_POINTS, step, ("pivotdesk.ai.tests.no_such_module", "run_step"))


@pytest.fixture
def shipping(workspace):
    return ticket_services.category_create(actor=Actor.system(), workspace=workspace, name="Shipping", name_zh="物流")


@pytest.fixture
def triaged(workspace, contact, shipping):
    FAKE.update(category=shipping.pk, confidence=0.92)
    ticket = make_ticket(
        workspace=workspace,
        requester=contact,
        subject="包裹丢了",
        body="我的订单号：PD2026011512345 显示已签收但我没收到，电话 13812345678。太失望了！",
    )
    pipeline.triage_ticket(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    return ticket


def test_the_ticket_page_loads_the_ai_panel(agent, triaged, client_as):
    html = client_as(agent).get(f"/tickets/{triaged.number}/").content.decode()
    assert 'id="ai-panel-wrap"' in html and f"/tickets/{triaged.number}/ai/" in html


def test_the_panel_shows_fields_with_confidence_model_entities_and_summary(agent, triaged, client_as):
    response = client_as(agent).get(f"/tickets/{triaged.number}/ai/", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="language"' in html and 'data-field="category"' in html and 'data-field="sentiment"' in html
    assert "Shipping" in html and "92%" in html and "fake-clf 3" in html and "Language detector (Lingua)" in html
    assert "PD2026011512345" in html and "+8613812345678" in html
    assert 'data-kind="order_number"' in html and "text" in html
    assert "Summary" in html and "Extractive summary" in html
    assert "Pipeline steps" in html and "not installed" in html


def test_the_panel_is_in_chinese_for_chinese_agents(agent, triaged, client_as):
    html = client_as(agent, "zh-hans").get(f"/tickets/{triaged.number}/ai/").content.decode()
    assert "物流" in html  # the category's Chinese name
    assert "摘要" in html and "确认" in html


def test_an_untriaged_ticket_says_so(agent, ticket, client_as):
    html = client_as(agent).get(f"/tickets/{ticket.number}/ai/").content.decode()
    assert "has not looked at this ticket yet" in html


def test_correcting_a_field_changes_the_ticket_as_the_agent_and_records_the_override(
    agent, workspace, triaged, client_as
):
    billing = ticket_services.category_create(actor=Actor.system(), workspace=workspace, name="Billing")
    prediction = Prediction.objects.get(ticket=triaged, field="category")
    response = client_as(agent).post(
        f"/tickets/{triaged.number}/ai/{prediction.pk}/correct/", {"value": str(billing.pk)}, headers=HTMX
    )
    assert response.status_code == 200
    assert "props-changed" in response["HX-Trigger"]
    triaged.refresh_from_db()
    assert triaged.category_id == billing.pk
    event = TicketEvent.objects.filter(ticket=triaged, field="category").latest("pk")
    assert event.actor_type == "agent" and event.actor_agent == agent
    prediction.refresh_from_db()
    assert prediction.status == "overridden" and prediction.human_value == billing.pk
    assert prediction.human_agent == agent
    assert "Billing" in response.content.decode()


def test_confirming_marks_the_prediction_confirmed(agent, triaged, client_as):
    prediction = Prediction.objects.get(ticket=triaged, field="category")
    response = client_as(agent).post(f"/tickets/{triaged.number}/ai/{prediction.pk}/confirm/")
    assert response.status_code == 302
    prediction.refresh_from_db()
    assert prediction.status == "confirmed" and prediction.human_agent == agent
    assert prediction.human_value == prediction.value


def test_confirming_an_abstention_applies_it_and_clears_needs_triage(agent, workspace, contact, shipping, client_as):
    FAKE.update(category=shipping.pk, confidence=0.2)
    ticket = make_ticket(workspace=workspace, requester=contact, body="Package question")
    pipeline.triage_ticket(ticket_id=ticket.pk)
    assert "needs_triage" in set(ticket.tags.values_list("name", flat=True))
    html = client_as(agent).get(f"/tickets/{ticket.number}/ai/").content.decode()
    assert "Needs triage" in html
    prediction = Prediction.objects.get(ticket=ticket, field="category")
    client_as(agent).post(f"/tickets/{ticket.number}/ai/{prediction.pk}/confirm/", headers=HTMX)
    ticket.refresh_from_db()
    assert ticket.category_id == shipping.pk
    assert "needs_triage" not in set(ticket.tags.values_list("name", flat=True))
    prediction.refresh_from_db()
    assert prediction.status == "confirmed"


def test_correcting_sentiment_removes_the_flag(agent, workspace, contact, client_as):
    ticket = make_ticket(workspace=workspace, requester=contact, body="This is UNACCEPTABLE!!! Third time I ask!")
    pipeline.triage_ticket(ticket_id=ticket.pk)
    assert "angry" in set(ticket.tags.values_list("name", flat=True))
    prediction = Prediction.objects.get(ticket=ticket, field="sentiment")
    client_as(agent).post(f"/tickets/{ticket.number}/ai/{prediction.pk}/correct/", {"value": "neutral"})
    assert not {"angry", "negative_sentiment"} & set(ticket.tags.values_list("name", flat=True))
    prediction.refresh_from_db()
    assert prediction.status == "overridden" and prediction.human_value == "neutral"


def test_a_bad_value_is_a_readable_error(agent, triaged, client_as):
    prediction = Prediction.objects.get(ticket=triaged, field="ticket_type")
    response = client_as(agent).post(
        f"/tickets/{triaged.number}/ai/{prediction.pk}/correct/", {"value": "nonsense"}, headers=HTMX
    )
    assert response.status_code == 422


def test_a_light_agent_may_look_but_not_correct(light_agent, triaged, client_as):
    client = client_as(light_agent)
    assert client.get(f"/tickets/{triaged.number}/ai/").status_code == 200
    prediction = Prediction.objects.get(ticket=triaged, field="category")
    response = client.post(f"/tickets/{triaged.number}/ai/{prediction.pk}/correct/", {"value": ""}, headers=HTMX)
    assert response.status_code == 403
    prediction.refresh_from_db()
    assert prediction.status == "applied"


def test_predictions_of_other_tickets_and_workspaces_are_404(agent, workspace, other_workspace, triaged, client_as):
    # another ticket of the same workspace: its prediction is not reachable through this ticket's URL
    mine = make_ticket(workspace=workspace, requester=new_contact(workspace=workspace), body="other")
    prediction = Prediction.objects.get(ticket=triaged, field="category")
    client = client_as(agent)
    assert client.post(f"/tickets/{mine.number}/ai/{prediction.pk}/confirm/").status_code == 404
    # another workspace (numbered beyond anything this one has): neither its ticket nor its predictions
    for _ in range(2):
        make_ticket(workspace=other_workspace, requester=new_contact(workspace=other_workspace), body="x")
    foreign = make_ticket(workspace=other_workspace, requester=new_contact(workspace=other_workspace), body="秘密")
    pipeline.triage_ticket(ticket_id=foreign.pk)
    theirs = Prediction.objects.filter(ticket=foreign, field="language").first()
    assert theirs is not None
    language_before = Ticket.objects.get(pk=foreign.pk).language
    assert client.get(f"/tickets/{foreign.number}/ai/").status_code == 404
    for url in (
        f"/tickets/{foreign.number}/ai/{theirs.pk}/correct/",
        f"/tickets/{foreign.number}/ai/{theirs.pk}/confirm/",
        f"/tickets/{triaged.number}/ai/{theirs.pk}/correct/",
        f"/tickets/{triaged.number}/ai/{theirs.pk}/confirm/",
    ):
        assert client.post(url, {"value": "zh"}).status_code == 404, url
    theirs.refresh_from_db()
    assert theirs.status != "confirmed" and theirs.human_value is None
    assert Ticket.objects.get(pk=foreign.pk).language == language_before


def test_the_supervisor_page_needs_reports_permission(agent, supervisor, admin_agent, client_as):
    assert client_as(agent).get("/insights/ai/").status_code == 403
    assert client_as(supervisor).get("/insights/ai/").status_code == 200
    assert client_as(admin_agent).get("/insights/ai/").status_code == 200
    assert "/insights/ai/" in client_as(supervisor).get("/queue/").content.decode()  # nav link
    assert "/insights/ai/" not in client_as(agent).get("/queue/").content.decode()


def test_the_supervisor_page_shows_rates_steps_and_models(  # noqa: PLR0917
    agent, workspace, triaged, other_workspace, client_as, supervisor_client
):
    billing = ticket_services.category_create(actor=Actor.system(), workspace=workspace, name="Billing")
    prediction = Prediction.objects.get(ticket=triaged, field="category")
    client_as(agent).post(f"/tickets/{triaged.number}/ai/{prediction.pk}/correct/", {"value": str(billing.pk)})
    ModelVersion.objects.create(
        workspace=workspace, field="category", version=3, algorithm="tfidf+logreg", active=True,
        metrics={"accuracy": 0.87, "macro_f1": 0.81}, n_train=900, n_test=100,
    )  # fmt: skip
    ModelVersion.objects.create(workspace=other_workspace, field="category", version=9, algorithm="secret-algo")
    TriageRun.objects.filter(ticket=triaged, step="summary").update(status="failed")
    html = supervisor_client.get("/insights/ai/").content.decode()
    assert 'data-field="category"' in html and "100%" in html  # one applied category, overridden
    assert "tfidf+logreg" in html and "87%" in html and "81%" in html
    assert "secret-algo" not in html  # scoped to the workspace
    assert 'data-step="language"' in html and " ms" in html
    assert "Accuracy over time" in html


def test_steps_models_and_entity_kinds_are_named_in_the_readers_language(agent, supervisor, triaged, client_as):
    # given a triaged ticket (some steps skipped: not installed)
    # when a Chinese agent opens its AI panel and a Chinese supervisor the AI page
    panel = client_as(agent, "zh-hans").get(f"/tickets/{triaged.number}/ai/").content.decode()
    insights = client_as(supervisor, "zh-hans").get("/insights/ai/").content.decode()
    # then steps, built-in models, entity kinds and skip reasons are Chinese, not codes
    assert "语言识别: " in panel and "附件（OCR、语音）: " in panel and "未安装" in panel
    assert "语言识别器（Lingua）" in panel and "情绪词典" in panel and "订单号" in panel and "<b>中文</b>" in panel
    for code in (
        "multimodal:",
        "language:",
        "lexicon-sentiment",
        "extractive-summary",
        ">order_number<",
        "not installed",
    ):
        assert code not in panel, code
    assert "<td>语言识别</td>" in insights and "<td>情绪</td>" in insights and "<td>multimodal</td>" not in insights
