"""The macro screens through the views: the list in both languages with the reader's own, team and shared macros
(and edit links only where the service would accept a save), an agent's personal macro built with the form (a
bilingual reply, an added tag row) stored as data, a shared macro refused to an agent and made by a supervisor,
editing that keeps the actions, readable refusals, delete where allowed, and another workspace's macro not found."""

from __future__ import annotations

import html as entities
import re
from typing import Any

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Team
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.automation.models import Macro, MacroScope
from pivotdesk.automation.services import macros
from pivotdesk.tickets.models import Category

pytestmark = pytest.mark.django_db

REPLY = {
    "type": "reply",
    "zh": "{{ requester.name }}您好，退款已受理。",
    "en": "Hi {{ requester.name }}, refund accepted.",
}
Form = dict[str, str | list[str]]


def _text(html: str) -> str:
    return " ".join(entities.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _section(html: str, scope: str) -> str:
    return html.split(f'id="macros-{scope}"', 1)[1].split("</section>", 1)[0]


@pytest.fixture
def shared(supervisor) -> Macro:
    return macros.macro_save(
        actor=Actor.for_agent(supervisor), workspace=supervisor.workspace, name="退款受理", name_en="Refund accepted",
        shortcut="refund", actions=[REPLY, {"type": "add_tags", "tags": ["退款"]}],
    )  # fmt: skip


@pytest.fixture
def mine(agent) -> Macro:
    return macros.macro_save(
        actor=Actor.for_agent(agent), workspace=agent.workspace, name="我的问候", name_en="My greeting",
        scope=MacroScope.PERSONAL, actions=[{"type": "note", "text": "已问候"}],
    )  # fmt: skip


@pytest.fixture
def team_macro(supervisor, agent) -> Macro:
    team = Team.objects.create(workspace=agent.workspace, name="售后组")
    team.members.add(agent)
    return macros.macro_save(
        actor=Actor.for_agent(supervisor), workspace=agent.workspace, name="售后转交", name_en="After-sales handover",
        scope=MacroScope.TEAM, team=team, actions=[{"type": "set", "field": "priority", "value": "high"}],
    )  # fmt: skip


def _form(**extra: str | list[str]) -> Form:
    return {
        "name": "退货说明",
        "name_en": "Returns",
        "scope": "personal",
        "category": "",
        "shortcut": "ret",
        "active": "1",
        "a-0-type": "reply",
        "a-0-zh": "{{ requester.name }}您好，请寄回商品。",
        "a-0-en": "Hi {{ requester.name }}, please send the item back.",
        **extra,
    }


# --- the list ------------------------------------------------------------------------------------------------------


@pytest.fixture
def three(shared, mine, team_macro) -> dict[str, Macro]:
    return {"shared": shared, "mine": mine, "team": team_macro}


@pytest.mark.parametrize(
    "case",
    [
        ("en", ["Mine", "My teams'", "Shared", "Shortcut"], "Add tags: 退款"),
        ("zh-hans", ["我的", "我的团队", "共享", "快捷键"], "添加标签: 退款"),
    ],
)
def test_the_list_shows_mine_my_teams_and_the_shared_macros(client_as, agent, three, case):
    language, labels, actions = case
    shared, mine, team_macro = three["shared"], three["mine"], three["team"]
    response = client_as(agent, language).get(reverse("web:automation_macros"))
    assert response.status_code == 200
    html = response.content.decode()
    text = _text(html)
    assert all(label in text for label in labels)
    assert "我的问候" in _section(html, "personal") and "My greeting" in _section(html, "personal")
    assert "售后转交" in _section(html, "team") and "售后组" in _section(html, "team")
    assert "退款受理" in _section(html, "shared") and "Refund accepted" in _section(html, "shared")
    assert actions in _text(_section(html, "shared")) and "refund" in _section(html, "shared")
    assert '<div lang="zh-Hans" data-user-content>退款受理</div>' in html
    # an edit link only where the agent may save: their own macro, not the team's or the shared one
    assert reverse("web:automation_macro", args=[mine.pk]) in html
    assert reverse("web:automation_macro", args=[shared.pk]) not in html
    assert reverse("web:automation_macro", args=[team_macro.pk]) not in html
    assert "<script>" not in html and "style=" not in html


def test_the_list_searches_by_name_and_shortcut(client_as, agent, shared, mine):
    client = client_as(agent)
    html = client.get(reverse("web:automation_macros"), {"q": "refund"}).content.decode()
    assert "退款受理" in html and "我的问候" not in html
    html = client.get(reverse("web:automation_macros"), {"q": "问候"}).content.decode()
    assert "我的问候" in html and "退款受理" not in html


def test_another_agents_personal_macro_is_neither_listed_nor_opened(client_as, agent, workspace):
    other = AgentFactory(workspace=workspace, role="agent")
    theirs = macros.macro_save(actor=Actor.for_agent(other), workspace=workspace, name="别人的宏", scope="personal",
                               actions=[{"type": "note", "text": "x"}])  # fmt: skip
    client = client_as(agent)
    assert "别人的宏" not in client.get(reverse("web:automation_macros")).content.decode()
    assert client.get(reverse("web:automation_macro", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("web:automation_macro_delete", args=[theirs.pk])).status_code == 404
    assert Macro.objects.filter(pk=theirs.pk).exists()


# --- the editor ----------------------------------------------------------------------------------------------------


def test_an_agent_makes_a_personal_macro_with_a_reply_and_a_tag(client_as, agent, workspace):
    client = client_as(agent)
    page = client.get(reverse("web:automation_macro_new")).content.decode()
    assert 'name="a-0-zh"' in page and 'value="shared"' not in page and 'value="team"' not in page
    # when the agent adds an action row (nothing is saved), makes it a tag row, then saves
    added = client.post(reverse("web:automation_macro_new"), {**_form(), "add": "action"}).content.decode()
    assert 'name="a-1-type"' in added and "请寄回商品" in added
    assert not Macro.objects.filter(workspace=workspace).exists()
    typed = client.post(reverse("web:automation_macro_new"), _form(**{"a-1-type": "add_tags"})).content.decode()
    assert 'name="a-1-tags"' in typed
    response = client.post(reverse("web:automation_macro_new"), _form(**{"a-1-type": "add_tags", "a-1-tags": "退货, return", "save": "1"}))  # fmt: skip
    # then it is stored as the agent's personal macro with exactly these actions
    assert response.status_code == 302
    macro = Macro.objects.get(workspace=workspace, name="退货说明")
    assert macro.scope == MacroScope.PERSONAL and macro.owner == agent and macro.name_en == "Returns"
    assert macro.shortcut == "ret" and macro.active
    assert macro.actions == [
        {"type": "reply", "zh": "{{ requester.name }}您好，请寄回商品。", "en": "Hi {{ requester.name }}, please send the item back."},
        {"type": "add_tags", "tags": ["退货", "return"]},
    ]  # fmt: skip


def test_the_reply_preview_shows_the_placeholders_as_they_are(client_as, agent):
    html = client_as(agent).post(reverse("web:automation_macro_new"), _form(refresh="1")).content.decode()
    assert '<code class="mc-ph">{{ requester.name }}</code>您好，请寄回商品。' in html


def test_removing_a_row_saves_nothing(client_as, agent, workspace):
    form = _form(**{"a-1-type": "add_tags", "a-1-tags": "x", "remove": "a-0"})
    html = client_as(agent).post(reverse("web:automation_macro_new"), form).content.decode()
    assert "请寄回商品" not in html and 'name="a-0-tags" value="x"' in html and 'name="a-1-type"' not in html
    assert not Macro.objects.filter(workspace=workspace).exists()


def test_an_agent_cannot_make_a_shared_or_team_macro(client_as, agent, workspace):
    client = client_as(agent)
    assert 'value="shared"' not in client.get(reverse("web:automation_macro_new") + "?scope=shared").content.decode()
    team = TeamFactory(workspace=workspace)
    for scope, extra in (("shared", {}), ("team", {"team": str(team.pk)})):
        response = client.post(reverse("web:automation_macro_new"), _form(scope=scope, save="1", **extra))
        assert response.status_code == 403
        assert 'id="macro-form"' in response.content.decode()  # the form again, with the reason on top
    assert not Macro.objects.filter(workspace=workspace).exists()


def test_a_supervisor_makes_a_shared_macro(client_as, supervisor, workspace):
    category = Category.objects.create(workspace=workspace, name="Billing", name_zh="账单")
    client = client_as(supervisor)
    page = client.get(reverse("web:automation_macro_new") + "?scope=shared").content.decode()
    assert '<option value="shared" selected>' in page and 'value="team"' in page
    form = _form(scope="shared", category=str(category.pk), save="1", **{"a-1-type": "set", "a-1-field": "status", "a-1-value": "pending"})  # fmt: skip
    assert client.post(reverse("web:automation_macro_new"), form).status_code == 302
    macro = Macro.objects.get(workspace=workspace, name="退货说明")
    assert macro.scope == MacroScope.SHARED and macro.owner is None and macro.category == category
    assert macro.actions[1] == {"type": "set", "field": "status", "value": "pending"}


def test_editing_keeps_the_actions(client_as, agent, mine):
    client = client_as(agent)
    page = client.get(reverse("web:automation_macro", args=[mine.pk])).content.decode()
    assert 'value="我的问候"' in page and "已问候</textarea>" in page
    form: Form = {"name": "我的问候（新）", "name_en": "My greeting", "scope": "personal", "active": "1",
                  "a-0-type": "note", "a-0-text": "已问候"}  # fmt: skip
    assert client.post(reverse("web:automation_macro", args=[mine.pk]), {**form, "save": "1"}).status_code == 302
    mine.refresh_from_db()
    assert mine.name == "我的问候（新）" and mine.actions == [{"type": "note", "text": "已问候"}]
    assert mine.owner.pk == agent.pk


def test_a_supervisor_edits_a_shared_macro_and_its_actions_stay(client_as, supervisor, shared):
    client = client_as(supervisor)
    page = client.get(reverse("web:automation_macro", args=[shared.pk])).content.decode()
    assert 'value="退款, "' not in page and 'value="退款"' in page and 'value="personal"' not in page
    form: dict[str, Any] = {
        "name": "退款受理", "name_en": "Refund accepted", "scope": "shared", "shortcut": "rf", "active": "1",
        "a-0-type": "reply", "a-0-zh": REPLY["zh"], "a-0-en": REPLY["en"], "a-1-type": "add_tags", "a-1-tags": "退款",
        "save": "1",
    }  # fmt: skip
    assert client.post(reverse("web:automation_macro", args=[shared.pk]), form).status_code == 302
    shared.refresh_from_db()
    assert shared.shortcut == "rf" and shared.actions == [REPLY, {"type": "add_tags", "tags": ["退款"]}]


def test_an_agent_cannot_open_the_shared_macro_in_the_editor(client_as, agent, shared):
    client = client_as(agent)
    assert client.get(reverse("web:automation_macro", args=[shared.pk])).status_code == 403
    form = _form(scope="shared", save="1")
    assert client.post(reverse("web:automation_macro", args=[shared.pk]), form).status_code == 403
    shared.refresh_from_db()
    assert shared.name == "退款受理"


@pytest.mark.parametrize(
    "case",
    [
        ("en", {"name": "  "}, "Give the macro a name."),
        ("zh-hans", {"name": ""}, "请为宏命名。"),
        ("en", {"a-0-zh": "", "a-0-en": " "}, "Write the text."),
        ("zh-hans", {"a-0-zh": "", "a-0-en": ""}, "请填写文本。"),
    ],
)
def test_bad_input_answers_readably(client_as, agent, workspace, case):
    language, field, expected = case
    response = client_as(agent, language).post(reverse("web:automation_macro_new"), _form(save="1", **field))
    assert response.status_code == 400
    html = response.content.decode()
    assert expected in html and 'id="macro-form"' in html and 'value="ret"' in html
    assert not Macro.objects.filter(workspace=workspace).exists()


def test_a_reply_with_no_text_is_shown_beside_its_row(client_as, agent):
    form = _form(save="1", **{"a-0-type": "add_tags", "a-0-tags": "x", "a-1-type": "reply"})
    html = client_as(agent).post(reverse("web:automation_macro_new"), form).content.decode()
    assert "Write the text." in html.split('id="a-row-1"', 1)[1]
    assert "Write the text." not in html.split('id="a-row-0"', 1)[1].split('id="a-row-1"', 1)[0]


def test_no_action_and_an_unknown_category_are_refused(client_as, agent, other_workspace):
    client = client_as(agent)
    bare = {k: v for k, v in _form(save="1").items() if not k.startswith("a-")}
    response = client.post(reverse("web:automation_macro_new"), bare)
    assert (
        response.status_code == 400
        and "A macro replies, notes, sets fields, tags or assigns." in response.content.decode()
    )
    theirs = Category.objects.create(workspace=other_workspace, name="Elsewhere")
    response = client.post(reverse("web:automation_macro_new"), _form(save="1", category=str(theirs.pk)))
    assert response.status_code == 400 and "Unknown category." in response.content.decode()
    assert not Macro.objects.exists()


# --- delete, other workspaces, roles ------------------------------------------------------------------------------


def test_delete_where_allowed(client_as, agent, supervisor, mine, shared):
    me = client_as(agent)
    assert me.post(reverse("web:automation_macro_delete", args=[shared.pk])).status_code == 403
    assert Macro.objects.filter(pk=shared.pk).exists()
    assert me.post(reverse("web:automation_macro_delete", args=[mine.pk])).status_code == 302
    assert not Macro.objects.filter(pk=mine.pk).exists()
    assert me.get(reverse("web:automation_macro_delete", args=[shared.pk])).status_code == 405
    assert client_as(supervisor).post(reverse("web:automation_macro_delete", args=[shared.pk])).status_code == 302
    assert not Macro.objects.filter(pk=shared.pk).exists()


def test_another_workspaces_macro_is_not_found(client_as, other_workspace, shared):
    outsider = client_as(AgentFactory(workspace=other_workspace, role="supervisor"))
    assert "退款受理" not in outsider.get(reverse("web:automation_macros")).content.decode()
    assert outsider.get(reverse("web:automation_macro", args=[shared.pk])).status_code == 404
    form = _form(scope="shared", save="1")
    assert outsider.post(reverse("web:automation_macro", args=[shared.pk]), form).status_code == 404
    assert outsider.post(reverse("web:automation_macro_delete", args=[shared.pk])).status_code == 404
    shared.refresh_from_db()
    assert shared.name == "退款受理"


def test_a_light_agent_may_not_use_the_macro_screens(client_as, light_agent):
    client = client_as(light_agent)
    assert client.get(reverse("web:automation_macros")).status_code == 403
    assert client.get(reverse("web:automation_macro_new")).status_code == 403
