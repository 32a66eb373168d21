"""The automation screens through the views: a trigger built with the form is stored as the expected data, a refused
regex comes back beside its row with the values kept, the list speaks the reader's language, toggle / reorder /
delete, the preview marks the tickets the rule fires on, the log lists a run, and only supervisors get in."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.automation.models import Rule, RuleKind, RuleRun
from pivotdesk.automation.services import rules as rule_services
from pivotdesk.automation.services.triggers import fire
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

URGENT_COMPLAINT = {
    "all": [
        {"field": "priority", "op": "is", "value": "urgent"},
        {"field": "subject", "op": "contains_any_words", "value": ["投诉", "complaint"]},
    ]
}


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


@pytest.fixture
def rule(workspace, supervisor):
    return rule_services.rule_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="加急投诉",
        conditions=URGENT_COMPLAINT,
        actions=[{"type": "add_tags", "tags": ["escalated"]}],
    )


def _form(**extra: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "name": "投诉升级",
        "kind": "trigger",
        "active": "1",
        "match": "all",
        "c-0-field": "priority",
        "c-0-op": "is",
        "c-0-value": "urgent",
        "c-1-field": "subject",
        "c-1-op": "contains_any_words",
        "c-1-value": "投诉，complaint",
        "a-0-type": "add_tags",
        "a-0-tags": "vip, 投诉",
        "a-1-type": "assign",
        "a-1-target": "routing",
        "save": "1",
        **extra,
    }


def test_a_trigger_made_with_the_form_is_stored_as_data(client_as, workspace, supervisor):
    # given a supervisor on the editor
    boss = client_as(supervisor)
    assert boss.get(reverse("web:automation_rule_new") + "?kind=trigger").status_code == 200
    # when they post two conditions and two actions
    response = boss.post(reverse("web:automation_rule_new"), _form())
    # then the rule holds exactly these dicts
    assert response.status_code == 302
    rule = Rule.objects.get(workspace=workspace, name="投诉升级")
    assert rule.kind == RuleKind.TRIGGER and rule.active and rule.version == 1
    assert rule.conditions == URGENT_COMPLAINT
    assert rule.actions == [{"type": "add_tags", "tags": ["vip", "投诉"]}, {"type": "assign", "routing": True}]


def test_the_editor_round_trips_a_stored_rule(client_as, rule, supervisor, agent):
    # given a rule opened in the editor, then saved with a team assignment added
    boss = client_as(supervisor)
    page = boss.get(reverse("web:automation_rule", args=[rule.pk])).content.decode()
    assert 'name="c-1-value" value="投诉, complaint"' in page
    form = _form(**{"name": rule.name, "a-1-type": "assign", "a-1-target": f"agent:{agent.pk}"})
    assert boss.post(reverse("web:automation_rule", args=[rule.pk]), form).status_code == 302
    rule.refresh_from_db()
    # then it is a new version with the same conditions
    assert rule.version == 2 and rule.conditions == URGENT_COMPLAINT
    assert rule.actions[1] == {"type": "assign", "agent": agent.pk}


def test_an_appeasement_action_keeps_its_own_openings(client_as, workspace, supervisor):
    """The empathetic openings a rule writes (zh and en) are stored with the action and shown again in the editor."""
    boss = client_as(supervisor)
    form = _form(
        **{
            "a-1-type": "appease",
            "a-1-opening_zh": "{{ requester.name }}，非常抱歉给您带来不便，",
            "a-1-opening_en": "{{ requester.name }}, we are truly sorry,",
        }
    )
    assert boss.post(reverse("web:automation_rule_new"), form).status_code == 302
    rule = Rule.objects.get(workspace=workspace, name="投诉升级")
    assert rule.actions[1] == {
        "type": "appease",
        "opening_zh": "{{ requester.name }}，非常抱歉给您带来不便，",
        "opening_en": "{{ requester.name }}, we are truly sorry,",
    }
    page = boss.get(reverse("web:automation_rule", args=[rule.pk])).content.decode()
    assert "非常抱歉给您带来不便" in page and "we are truly sorry" in page


def test_adding_and_removing_rows_saves_nothing(client_as, workspace, supervisor):
    boss = client_as(supervisor)
    form = {k: v for k, v in _form().items() if k != "save"}
    added = boss.post(reverse("web:automation_rule_new"), {**form, "add": "condition"}).content.decode()
    assert 'name="c-2-field"' in added and 'value="投诉，complaint"' in added
    removed = boss.post(reverse("web:automation_rule_new"), {**form, "remove": "c-0"}).content.decode()
    assert 'name="c-1-field"' not in removed and 'name="c-0-field"' in removed
    assert 'value="投诉，complaint"' in removed
    assert not Rule.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "The pattern is not a valid regular expression."), ("zh-hans", "不是有效的正则表达式")],
)
def test_a_bad_regex_is_shown_beside_its_row_with_the_values_kept(client_as, supervisor, language, expected):
    boss = client_as(supervisor, language)
    form = _form(**{"c-1-op": "matches", "c-1-value": "(退款"})
    response = boss.post(reverse("web:automation_rule_new"), form)
    html = response.content.decode()
    assert response.status_code == 422
    row = html.split('id="c-row-1"', 1)[1].split("</tr>", 1)[0]
    assert expected in row and 'value="(退款"' in row
    assert expected not in html.split('id="c-row-1"', 1)[0].split('role="alert"', 1)[-1].split("</div>", 1)[1]
    assert 'value="投诉升级"' in html and 'value="vip, 投诉"' in html
    assert not Rule.objects.filter(name="投诉升级").exists()


def test_a_refused_action_is_shown_beside_its_row(client_as, supervisor):
    response = client_as(supervisor).post(reverse("web:automation_rule_new"), _form(**{"a-1-target": ""}))
    html = response.content.decode()
    assert response.status_code == 422
    assert "Choose whom to assign." in html.split('id="a-row-1"', 1)[1]
    assert "Choose whom to assign." not in html.split('id="a-row-1"', 1)[0].split('id="a-row-0"', 1)[1]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Priority is Urgent and Subject contains any of 投诉, complaint"),
        ("zh-hans", "优先级 是 紧急 且 主题 包含任一 投诉、complaint"),
    ],
)
def test_the_list_says_what_each_rule_does_in_the_readers_language(client_as, supervisor, rule, language, expected):
    html = client_as(supervisor, language).get(reverse("web:automation_rules")).content.decode()
    assert expected in _text(html)
    version = "第 1 版" if language == "zh-hans" else "v1"
    assert "escalated" in _text(html) and version in _text(html)


def test_toggle_reorder_and_delete(client_as, workspace, supervisor, rule):
    boss = client_as(supervisor)
    second = rule_services.rule_save(
        actor=Actor.for_agent(supervisor), workspace=workspace, name="第二条", conditions={"all": []}, actions=[]
    )
    # switched off
    assert boss.post(reverse("web:automation_rule_toggle", args=[rule.pk]), {"active": "0"}).status_code == 302
    rule.refresh_from_db()
    assert not rule.active
    # the second moved above the first
    assert boss.post(reverse("web:automation_rule_move", args=[second.pk]), {"direction": "up"}).status_code == 302
    order = list(Rule.objects.filter(workspace=workspace).order_by("position").values_list("pk", flat=True))
    assert order == [second.pk, rule.pk]
    html = boss.get(reverse("web:automation_rules")).content.decode().split('id="rules-trigger"', 1)[1]
    assert html.index("第二条") < html.index("加急投诉")
    # deleted
    assert boss.post(reverse("web:automation_rule_delete", args=[rule.pk])).status_code == 302
    assert not Rule.objects.filter(pk=rule.pk).exists()


def test_the_preview_marks_the_tickets_it_fires_on(client_as, workspace, supervisor, rule):
    hit = make_ticket(workspace=workspace, subject="我要投诉快递", priority="urgent")
    miss = make_ticket(workspace=workspace, subject="发票问题", priority="low")
    html = client_as(supervisor).get(reverse("web:automation_rule_preview", args=[rule.pk])).content.decode()
    rows = {int(n): body for n, body in re.findall(r'data-ticket="(\d+)">(.*?)</tr>', html, re.S)}
    assert 'class="au-fires"' in html.split(f'data-ticket="{hit.number}"')[0].rsplit("<tr", 1)[1]
    assert 'class="au-skips"' in html.split(f'data-ticket="{miss.number}"')[0].rsplit("<tr", 1)[1]
    assert "escalated" in rows[hit.number] and "escalated" not in rows[miss.number]
    assert "✗ Priority is Urgent" in _text(rows[miss.number]) and "(the ticket: Low)" in _text(rows[miss.number])


def test_the_log_lists_a_run(client_as, workspace, supervisor, rule):
    ticket = make_ticket(workspace=workspace, subject="投诉", priority="urgent")
    run = fire(rule, ticket, event_key="test:1", event="ticket.created")
    assert run is not None and RuleRun.objects.filter(rule=rule).count() == 1
    text = _text(client_as(supervisor).get(reverse("web:automation_rule_runs", args=[rule.pk])).content.decode())
    assert f"#{ticket.number}" in text and "Ticket created" in text and "✓ done Add tags" in text


def _urls(rule: Rule) -> list[str]:
    return [
        reverse("web:automation_rules"),
        reverse("web:automation_rule_new"),
        reverse("web:automation_rule", args=[rule.pk]),
        reverse("web:automation_rule_preview", args=[rule.pk]),
        reverse("web:automation_rule_runs", args=[rule.pk]),
    ]


def _posts(rule: Rule) -> list[tuple[str, dict[str, str | list[str]]]]:
    return [
        (reverse("web:automation_rule_new"), _form()),
        (reverse("web:automation_rule", args=[rule.pk]), _form()),
        (reverse("web:automation_rule_toggle", args=[rule.pk]), {"active": "0"}),
        (reverse("web:automation_rule_move", args=[rule.pk]), {"direction": "down"}),
        (reverse("web:automation_rule_delete", args=[rule.pk]), {}),
    ]


def test_an_agent_gets_403_on_every_page(client_as, supervisor, agent, rule):
    me, boss = client_as(agent), client_as(supervisor)
    for url in _urls(rule):
        assert boss.get(url).status_code == 200, url
        assert me.get(url).status_code == 403, url
    for url, data in _posts(rule):
        assert me.post(url, data).status_code == 403, url
    rule.refresh_from_db()
    assert rule.active and rule.version == 1
    link = f'href="{reverse("web:automation_rules")}"'
    assert link in boss.get(reverse("web:queue")).content.decode()
    assert link not in me.get(reverse("web:queue")).content.decode()


def test_another_workspaces_rule_is_not_found(client_as, other_workspace, rule):
    outsider = client_as(AgentFactory(workspace=other_workspace, role="supervisor"))
    for url in _urls(rule)[2:]:
        assert outsider.get(url).status_code == 404, url
    for url, data in _posts(rule)[1:]:
        assert outsider.post(url, data).status_code == 404, url
    assert Rule.objects.filter(pk=rule.pk, active=True, version=1).exists()
