"""The approval flow and chain template screens through the views: the lists speak the reader's language, a
three-stage flow and a four-stage chain built row by row with the form are stored as the services' data, editing
keeps the stages, refusals come back readable (never a 500), rows move, and only supervisors and admins get in."""

from __future__ import annotations

import html as entities
import re

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.automation.models import ApprovalFlow, ChainTemplate
from pivotdesk.automation.services import approval_flows, chains

pytestmark = pytest.mark.django_db

STAGES = ("风控审核", "法务合规", "财务确认")
CHAIN = ("下单", "仓储拣货", "运输配送", "客户签收")


def _text(html: str) -> str:
    return " ".join(entities.unescape(re.sub(r"<[^>]+>", "", html)).split())


def _fields(html: str) -> dict[str, str]:
    """The form's text inputs and selected options as a post would send them (one value per name)."""
    found: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        named = re.search(r' name="([^"]+)"[^>]* value="([^"]*)"', tag)
        if named and ('type="checkbox"' not in tag or " checked" in tag):
            found[named[1]] = named[2]
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.findall(r'<option value="([^"]*)" selected', body)
        if chosen:
            found[name] = chosen[0]
    for name, body in re.findall(r'<textarea[^>]* name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        found[name] = body
    found.pop("csrfmiddlewaretoken", None)
    return found


@pytest.fixture
def people(workspace):
    return [AgentFactory(workspace=workspace, role=Role.AGENT) for _ in range(3)]


@pytest.fixture
def teams(workspace):
    return [TeamFactory(workspace=workspace, name=name) for name in ("订单组", "仓储组", "物流组")]


@pytest.fixture
def flow(workspace, supervisor, people, teams):
    return approval_flows.flow_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="贷款审批",
        stages=[
            {"key": "risk", "name": STAGES[0], "approvers": {"agents": [people[0].pk]}, "rule": "any"},
            {
                "key": "legal",
                "name": STAGES[1],
                "approvers": {"agents": [p.pk for p in people]},
                "rule": "n_of_m",
                "n": 2,
                "sla_minutes": 90,
                "required_items": ["借款合同"],
            },
            {"key": "finance", "name": STAGES[2], "approvers": {"team": teams[0].pk}, "rule": "all"},
        ],
    )


@pytest.fixture
def template(workspace, supervisor, teams):
    return chains.template_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="订单履约",
        mode="sequence",
        stages=[
            {"key": "order", "name": CHAIN[0], "team": teams[0].pk, "expected_minutes": 60},
            {"key": "pick", "name": CHAIN[1], "team": teams[1].pk, "expected_minutes": 90},
        ],
    )


# --- the lists -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Approval flows", "风控审核 → 法务合规 → 财务确认", "any one", "2 of 3", "all", "1.5 h", "no SLA"]),
        (
            "zh-hans",
            ["审批流程", "风控审核 → 法务合规 → 财务确认", "任一人", "3 人中 2 人", "全部", "1.5 小时", "无时限"],
        ),
    ],
)
def test_the_flow_list_shows_stages_rules_and_sla(client_as, supervisor, flow, language, expected):
    response = client_as(supervisor, language).get(reverse("web:automation_flows"))
    assert response.status_code == 200
    text = _text(response.content.decode())
    for words in expected:
        assert words in text, words
    assert "贷款审批" in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Chain templates", "Sequence", "1 h", "1 h 30 min"]),
        ("zh-hans", ["工单链模板", "顺序", "1 小时 30 分钟"]),
    ],
)
def test_the_chain_list_shows_mode_stages_teams_and_durations(client_as, supervisor, template, language, expected):
    response = client_as(supervisor, language).get(reverse("web:automation_chain_templates"))
    assert response.status_code == 200
    text = _text(response.content.decode())
    for words in [*expected, "订单履约", "下单", "仓储拣货", "订单组", "仓储组"]:
        assert words in text, words


def test_the_lists_link_from_the_automation_subnav(client_as, supervisor):
    html = client_as(supervisor).get(reverse("web:automation_rules")).content.decode()
    assert f'href="{reverse("web:automation_flows")}"' in html
    assert f'href="{reverse("web:automation_chain_templates")}"' in html


# --- approval flows ------------------------------------------------------------------------------------------------


def _stage(i: int, name: str, **values: str | list[str]) -> dict[str, str | list[str]]:
    return {
        f"s-{i}-name": name,
        f"s-{i}-key": f"k{i}",
        f"s-{i}-rule": "any",
        **{f"s-{i}-{k}": v for k, v in values.items()},
    }


def test_a_supervisor_builds_a_three_stage_flow_row_by_row(client_as, workspace, supervisor, people, teams):
    boss = client_as(supervisor)
    url = reverse("web:automation_flow_new")
    page = boss.get(url).content.decode()
    assert 'name="s-0-name"' in page and 'name="s-1-name"' not in page
    # the first stage typed, then two rows added (the values typed so far come back)
    form: dict[str, str | list[str]] = {"name": "贷款审批", "active": "1", **_stage(0, STAGES[0])}
    form["s-0-agents"] = [str(people[0].pk), str(people[1].pk)]
    form["s-0-sla"] = "8"
    form["s-0-items"] = "收入证明\n抵押物证明\n"
    added = boss.post(url, {**form, "add": "stage"})
    assert added.status_code == 200
    html = added.content.decode()
    assert 'name="s-1-name"' in html and 'value="风控审核"' in html and "抵押物证明" in html
    assert 'name="s-1-key" maxlength="64" value="stage-2"' in html
    form |= _stage(1, STAGES[1], rule="all", role="supervisor", manager="1", sla="24")
    form["s-1-items"] = "借款合同"
    added = boss.post(url, {**form, "add": "stage"}).content.decode()
    assert 'name="s-2-name"' in added
    form |= _stage(2, STAGES[2], rule="n_of_m", n="2")
    form["s-2-agents"] = [str(p.pk) for p in people]
    form["s-2-team"] = ""
    # when it is saved
    response = boss.post(url, {**form, "save": "1"})
    # then the flow holds the three stages as the service stores them
    assert response.status_code == 302, _text(response.content.decode())[:400]
    flow = ApprovalFlow.objects.get(workspace=workspace, name="贷款审批")
    assert [s["name"] for s in flow.stages] == list(STAGES)
    first, second, third = flow.stages
    assert first["approvers"] == {"agents": [people[0].pk, people[1].pk], "team": None, "role": "", "manager": False}
    assert (
        first["rule"] == "any" and first["sla_minutes"] == 480 and first["required_items"] == ["收入证明", "抵押物证明"]
    )
    assert second["approvers"] == {"agents": [], "team": None, "role": "supervisor", "manager": True}
    assert second["rule"] == "all" and second["sla_minutes"] == 1440 and second["required_items"] == ["借款合同"]
    assert third["rule"] == "n_of_m" and third["n"] == 2 and third["approvers"]["agents"] == [p.pk for p in people]
    assert third["sla_minutes"] is None and third["required_items"] == []


def test_editing_a_flow_loads_and_keeps_its_stages(client_as, supervisor, flow, people, teams):
    boss = client_as(supervisor)
    url = reverse("web:automation_flow", args=[flow.pk])
    html = boss.get(url).content.decode()
    for i, name in enumerate(STAGES):
        assert f'name="s-{i}-name" maxlength="160" value="{name}"' in html
    assert f'<option value="{teams[0].pk}" selected' in html and 'name="s-1-sla" value="1.5"' in html
    # posted back as loaded, with the SLA of the first stage added
    form: dict[str, str | list[str]] = {**_fields(html), "save": "1", "s-0-sla": "2"}
    form["s-1-agents"] = [str(p.pk) for p in people]
    response = boss.post(url, form)
    assert response.status_code == 302, _text(response.content.decode())[:400]
    before = [dict(s) for s in flow.stages]
    flow.refresh_from_db()
    assert flow.version == 2 and [s["key"] for s in flow.stages] == ["risk", "legal", "finance"]
    assert flow.stages[0]["sla_minutes"] == 120
    assert flow.stages[1:] == before[1:]


def test_moving_and_removing_rows_saves_nothing(client_as, supervisor, flow):
    boss = client_as(supervisor)
    url = reverse("web:automation_flow", args=[flow.pk])
    form = _fields(boss.get(url).content.decode())
    moved = boss.post(url, {**form, "move": "up-2"}).content.decode()
    assert moved.index(f'value="{STAGES[2]}"') < moved.index(f'value="{STAGES[1]}"')
    removed = boss.post(url, {**form, "remove": "0"}).content.decode()
    assert f'value="{STAGES[0]}"' not in removed and 'name="s-2-name"' not in removed
    flow.refresh_from_db()
    assert flow.version == 1 and [s["name"] for s in flow.stages] == list(STAGES)


@pytest.mark.parametrize(
    "case",
    [
        ("en", {"name": ""}, "Give the flow a name of at most 160 characters.", None),
        ("zh-hans", {"name": ""}, "请为流程起一个不超过 160 个字符的名称", None),
        ("en", {"s-0-name": ""}, "An approval flow needs at least one stage.", None),
        ("en", {"s-0-rule": "n_of_m", "s-0-n": "3"}, "N (3) is more than the 1 approvers named.", 0),
        ("zh-hans", {"s-0-rule": "n_of_m", "s-0-n": "3"}, "N（3）超过了所列的 1 位审批人", 0),
    ],
)
def test_a_refused_flow_comes_back_readable(client_as, workspace, supervisor, people, case):
    language, change, expected, row = case
    form: dict[str, str | list[str]] = {"name": "报销审批", "active": "1", **_stage(0, "主管审批")}
    form["s-0-agents"] = [str(people[0].pk)]
    if change.get("s-0-name") == "":
        form = {"name": "报销审批", "active": "1"}
    response = client_as(supervisor, language).post(reverse("web:automation_flow_new"), {**form, **change, "save": "1"})
    html = response.content.decode()
    assert response.status_code == 400
    assert expected in _text(html.split('role="alert"', 1)[1])
    if row is not None:
        assert expected in html.split(f'id="s-row-{row}"', 1)[1].split("</fieldset>", 1)[0]
        assert 'value="主管审批"' in html
    assert not ApprovalFlow.objects.filter(workspace=workspace).exists()


def test_a_refused_stage_is_shown_beside_its_own_row(client_as, supervisor, people):
    form: dict[str, str | list[str]] = {"name": "报销审批", "active": "1", **_stage(0, "主管审批"), **_stage(1, "财务")}
    form["s-0-agents"] = [str(people[0].pk)]
    html = client_as(supervisor).post(reverse("web:automation_flow_new"), {**form, "save": "1"}).content.decode()
    message = "Name at least one approver"
    assert message in html.split('id="s-row-1"', 1)[1]
    assert message not in html.split('id="s-row-0"', 1)[1].split('id="s-row-1"', 1)[0]


# --- chain templates -----------------------------------------------------------------------------------------------


def test_a_supervisor_builds_a_four_stage_chain_row_by_row(client_as, workspace, supervisor, teams):
    boss = client_as(supervisor)
    url = reverse("web:automation_chain_template_new")
    assert boss.get(url).status_code == 200
    durations = [("1", ""), ("8", "30"), ("48", ""), ("", "45")]
    owners = [teams[0], teams[1], teams[2], None]
    form: dict[str, str] = {"name": "订单履约", "mode": "sequence", "active": "1"}
    for i, name in enumerate(CHAIN):
        form |= {
            f"s-{i}-name": name,
            f"s-{i}-key": ["order", "pick", "ship", "sign"][i],
            f"s-{i}-team": str(owners[i].pk) if owners[i] else "",
            f"s-{i}-hours": durations[i][0],
            f"s-{i}-minutes": durations[i][1],
        }
        if i < len(CHAIN) - 1:
            html = boss.post(url, {**form, "add": "stage"}).content.decode()
            assert f'name="s-{i + 1}-name"' in html and f'value="{name}"' in html
    response = boss.post(url, {**form, "save": "1"})
    assert response.status_code == 302, _text(response.content.decode())[:400]
    template = ChainTemplate.objects.get(workspace=workspace, name="订单履约")
    assert template.mode == "sequence"
    assert template.stages == [
        {"key": "order", "name": "下单", "team": teams[0].pk, "expected_minutes": 60},
        {"key": "pick", "name": "仓储拣货", "team": teams[1].pk, "expected_minutes": 510},
        {"key": "ship", "name": "运输配送", "team": teams[2].pk, "expected_minutes": 2880},
        {"key": "sign", "name": "客户签收", "team": None, "expected_minutes": 45},
    ]


def test_editing_a_chain_template_keeps_its_stages(client_as, supervisor, template):
    boss = client_as(supervisor)
    url = reverse("web:automation_chain_template", args=[template.pk])
    html = boss.get(url).content.decode()
    assert 'value="下单"' in html and 'name="s-1-hours" value="1"' in html and 'name="s-1-minutes" value="30"' in html
    form = {**_fields(html), "mode": "parallel", "save": "1"}
    assert boss.post(url, form).status_code == 302
    before = template.stages
    template.refresh_from_db()
    assert template.version == 2 and template.mode == "parallel" and template.stages == before


@pytest.mark.parametrize(
    "case",
    [
        ({"name": ""}, "Give the chain a name of at most 160 characters.", None),
        ({"s-0-name": "", "s-0-hours": ""}, "A chain needs at least one stage.", None),
        ({"s-0-hours": "", "s-0-minutes": ""}, "Stage “order” must be expected to take at least one minute.", 0),
        ({"s-0-hours": "abc"}, "A stage's expected duration is a whole number of minutes", 0),
    ],
)
def test_a_refused_chain_comes_back_readable(client_as, workspace, supervisor, case):
    change, expected, row = case
    form = {"name": "订单履约", "mode": "sequence", "s-0-name": "下单", "s-0-key": "order", "s-0-hours": "1"}
    response = client_as(supervisor).post(reverse("web:automation_chain_template_new"), {**form, **change, "save": "1"})
    html = response.content.decode()
    assert response.status_code == 400
    assert expected in _text(html.split('role="alert"', 1)[1])
    if row is not None:
        assert expected in _text(html.split(f'id="s-row-{row}"', 1)[1].split("</tr>", 1)[0])
    assert not ChainTemplate.objects.filter(workspace=workspace).exists()


# --- who gets in ---------------------------------------------------------------------------------------------------


def _urls(flow: ApprovalFlow, template: ChainTemplate) -> list[str]:
    return [
        reverse("web:automation_flows"),
        reverse("web:automation_flow_new"),
        reverse("web:automation_flow", args=[flow.pk]),
        reverse("web:automation_chain_templates"),
        reverse("web:automation_chain_template_new"),
        reverse("web:automation_chain_template", args=[template.pk]),
    ]


def test_an_agent_gets_403_and_an_admin_gets_in(client_as, agent, admin_agent, flow, template):
    me, admin = client_as(agent), client_as(admin_agent)
    for url in _urls(flow, template):
        assert admin.get(url).status_code == 200, url
        assert me.get(url).status_code == 403, url
        assert me.post(url, {"name": "偷改", "save": "1"}).status_code == 403, url
    flow.refresh_from_db()
    template.refresh_from_db()
    assert flow.version == 1 and flow.name == "贷款审批" and template.version == 1


def test_another_workspaces_flow_and_template_are_not_found(client_as, other_workspace, flow, template):
    outsider = client_as(AgentFactory(workspace=other_workspace, role="supervisor"))
    for url in _urls(flow, template)[2::3]:
        assert outsider.get(url).status_code == 404, url
        assert outsider.post(url, {"name": "偷改", "save": "1"}).status_code == 404, url


def test_a_taken_name_is_refused_readably(client_as, supervisor, people, flow, template):
    boss = client_as(supervisor)
    form: dict[str, str | list[str]] = {"name": flow.name, **_stage(0, "主管审批"), "s-0-agents": [str(people[0].pk)]}
    response = boss.post(reverse("web:automation_flow_new"), {**form, "save": "1"})
    assert response.status_code == 400 and "Another approval flow is already called" in _text(response.content.decode())
    chain = {"name": template.name, "mode": "parallel", "s-0-name": "下单", "s-0-key": "order", "s-0-hours": "1"}
    response = boss.post(reverse("web:automation_chain_template_new"), {**chain, "save": "1"})
    assert response.status_code == 400 and "exists already" in _text(response.content.decode())
    assert ApprovalFlow.objects.filter(name=flow.name).count() == 1
    assert ChainTemplate.objects.filter(name=template.name).count() == 1
