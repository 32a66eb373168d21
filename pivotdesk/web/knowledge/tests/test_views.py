"""The knowledge screens through the views: a supervisor searches (highlighted snippets), filters, reads an article
with its translation and versions, writes, translates, compares two versions and restores one; an agent reads but
is refused every change (403); bad input comes back on the form, readable, never a 500; another workspace's article
and category are not found."""

from __future__ import annotations

import re
from typing import cast

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.knowledge import services
from pivotdesk.knowledge.models import Article, ArticleVersion, KnowledgeCategory
from pivotdesk.search.services import document_build

pytestmark = pytest.mark.django_db


def _indexed(article: Article) -> Article:
    document_build(kind="article", object_id=article.pk)
    return article


@pytest.fixture
def category(supervisor) -> KnowledgeCategory:
    return services.category_save(
        actor=Actor.for_agent(supervisor), workspace=supervisor.workspace, name_zh="账户", name_en="Account"
    )


@pytest.fixture
def article(supervisor, category) -> Article:
    boss = Actor.for_agent(supervisor)
    first = services.article_save(
        actor=boss, workspace=supervisor.workspace, title="忘记密码怎么办", body="在登录页点击忘记密码。\n按短信验证码重设。",
        category=category, status="published", visibility="public",
    )  # fmt: skip
    services.article_save(
        actor=boss, workspace=supervisor.workspace, title="忘记密码怎么办", body="在登录页点击忘记密码。\n按邮件链接重设密码。",
        category=category, status="published", visibility="public", article=first, note="邮件",
    )  # fmt: skip
    first.refresh_from_db()
    return _indexed(first)


@pytest.fixture
def english(supervisor, article) -> Article:
    return _indexed(
        services.article_save(
            actor=Actor.for_agent(supervisor), workspace=supervisor.workspace, title="Reset your password",
            body="Choose **Forgot password** on the sign-in page.", language="en", translation_of=article,
            status="published", visibility="public",
        )
    )  # fmt: skip


@pytest.fixture
def theirs(other_workspace) -> Article:
    from pivotdesk.accounts.models import AgentProfile, Role
    from pivotdesk.accounts.tests.factories import AgentFactory

    boss = cast(AgentProfile, AgentFactory(workspace=other_workspace, role=Role.SUPERVISOR))
    return _indexed(
        services.article_save(
            actor=Actor.for_agent(boss), workspace=other_workspace, title="SECRET-B 密码", body="SECRET-B 密码 body",
            status="published", visibility="public",
        )
    )  # fmt: skip


def _text(html: bytes) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.decode()).split())


# ---- reading -------------------------------------------------------------------------------------------------------


def test_the_search_finds_the_article_with_its_matches_highlighted(client_as, supervisor, article, english, theirs):
    response = client_as(supervisor).get(reverse("web:knowledge_articles"), {"q": "密码"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-article="{article.pk}"' in html
    assert "<mark>密码</mark>" in html
    assert "SECRET-B" not in html


def test_snippets_are_escaped_before_the_matches_are_marked(client_as, supervisor):
    boss = Actor.for_agent(supervisor)
    evil = services.article_save(
        actor=boss,
        workspace=supervisor.workspace,
        title="退款 说明",
        body="退款 <img src=x onerror=alert(1)> 退款",
    )
    _indexed(evil)
    html = client_as(supervisor).get(reverse("web:knowledge_articles"), {"q": "退款"}).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<mark>退款</mark>" in html


def test_the_filters_narrow_the_list(client_as, supervisor, article, english):
    client = client_as(supervisor)
    html = client.get(reverse("web:knowledge_articles"), {"language": "en"}).content.decode()
    assert f'data-article="{english.pk}"' in html and f'data-article="{article.pk}"' not in html
    html = client.get(reverse("web:knowledge_articles"), {"status": "draft"}).content.decode()
    assert "data-article=" not in html
    # a value that is not a choice is dropped, not an error
    assert (
        client.get(reverse("web:knowledge_articles"), {"category": "x\x00", "language": "klingon"}).status_code == 200
    )


def test_the_article_page_shows_the_text_translations_people_and_versions(client_as, supervisor, article, english):
    response = client_as(supervisor).get(reverse("web:knowledge_article", args=[article.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "按邮件链接重设密码。" in html
    assert reverse("web:knowledge_article", args=[english.pk]) in html
    assert supervisor.name in html
    assert reverse("web:knowledge_article_diff", args=[article.pk]) + "?from=1&amp;to=2" in html
    assert reverse("web:knowledge_article_restore", args=[article.pk]) in html


def test_markdown_is_rendered_and_sanitised(client_as, supervisor):
    boss = Actor.for_agent(supervisor)
    evil = services.article_save(
        actor=boss, workspace=supervisor.workspace, title="x",
        body="# Title\n\n**bold** <script>alert(1)</script> [a](javascript:alert(2)) <b onclick=\"x()\">b</b>",
    )  # fmt: skip
    html = client_as(supervisor).get(reverse("web:knowledge_article", args=[evil.pk])).content.decode()
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<script>alert" not in html and "javascript:" not in html and "onclick" not in html


def test_the_diff_shows_removed_and_added_lines(client_as, supervisor, article):
    url = reverse("web:knowledge_article_diff", args=[article.pk])
    html = client_as(supervisor).get(url, {"from": 1, "to": 2}).content.decode()
    assert re.search(r'kb-line kb-removed".*?按短信验证码重设。', html, re.S)
    assert re.search(r'kb-line kb-added".*?按邮件链接重设密码。', html, re.S)
    assert re.search(r'kb-line kb-same".*?在登录页点击忘记密码。', html, re.S)
    assert client_as(supervisor).get(url, {"from": 99}).status_code == 404
    assert client_as(supervisor).get(url, {"from": "x", "to": "2"}).status_code == 200


# ---- writing -------------------------------------------------------------------------------------------------------


def test_a_supervisor_restores_a_version_as_a_new_one(client_as, supervisor, article):
    response = client_as(supervisor).post(reverse("web:knowledge_article_restore", args=[article.pk]), {"version": 1})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.version == 3 and article.body == "在登录页点击忘记密码。\n按短信验证码重设。"
    assert ArticleVersion.objects.filter(article=article).count() == 3


def test_a_supervisor_writes_an_article_with_the_editor(client_as, supervisor, category, agent):
    client = client_as(supervisor)
    assert client.get(reverse("web:knowledge_article_new")).status_code == 200
    response = client.post(
        reverse("web:knowledge_article_new"),
        {"title": "如何申请退款", "body": "七天内可申请。", "language": "zh-hans", "category": category.pk,
         "visibility": "internal", "status": "draft", "owner": supervisor.pk, "reviewer": agent.pk,
         "review_due": "2027-03-01"},
    )  # fmt: skip
    assert response.status_code == 302
    saved = Article.objects.get(title="如何申请退款")
    assert (saved.category, saved.reviewer, str(saved.review_due)) == (category, agent, "2027-03-01")
    assert response["Location"] == reverse("web:knowledge_article", args=[saved.pk])


def test_editing_changes_the_text_as_a_new_version(client_as, supervisor, article):
    url = reverse("web:knowledge_article_edit", args=[article.pk])
    page = client_as(supervisor).get(url).content.decode()
    assert "按邮件链接重设密码。" in page
    response = client_as(supervisor).post(
        url, {"title": article.title, "body": "新的说明", "language": "zh-hans", "visibility": "public",
              "status": "published"},
    )  # fmt: skip
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.version, article.body) == (3, "新的说明")


def test_add_translation_creates_the_other_language_in_the_same_group(client_as, supervisor, article):
    url = reverse("web:knowledge_article_translate", args=[article.pk])
    page = client_as(supervisor).get(url).content.decode()
    assert 'value="en" selected' in page or 'value="en"selected' in page
    response = client_as(supervisor).post(
        url, {"title": "Forgot password", "body": "Use the link.", "language": "en", "visibility": "public",
              "status": "draft"},
    )  # fmt: skip
    assert response.status_code == 302
    translation = Article.objects.get(title="Forgot password")
    assert translation.group == article.group and translation.language == "en"
    # a third translation in a language already written is refused, readably
    again = client_as(supervisor).post(
        url, {"title": "Again", "language": "en", "visibility": "public", "status": "draft"}
    )
    assert again.status_code == 409 and "translation in that language" in again.content.decode()
    assert client_as(supervisor).get(url).status_code == 422


@pytest.mark.parametrize(
    ("form", "field_message"),
    [
        ({"title": "", "language": "zh-hans", "visibility": "internal", "status": "draft"}, "This field is required."),
        ({"title": "x" * 300, "language": "zh-hans", "visibility": "internal", "status": "draft"}, "at most 255"),
        ({"title": "t", "language": "fr", "visibility": "internal", "status": "draft"}, "Select a valid choice"),
        ({"title": "t", "language": "en", "visibility": "internal", "status": "draft", "review_due": "31/02"},
         "Enter a valid date."),
        ({"title": "t", "language": "en", "visibility": "internal", "status": "draft", "owner": "999999999"},
         "Select a valid choice"),
        ({"title": "\x00", "language": "en", "visibility": "internal", "status": "draft"}, "This field is required."),
        ({"title": "t", "language": "en", "visibility": "internal", "status": "draft", "category": "99999999999999999999"},
         "Select a valid choice"),
    ],
)  # fmt: skip
def test_bad_input_comes_back_on_the_form_readably(client_as, supervisor, form, field_message):
    response = client_as(supervisor).post(reverse("web:knowledge_article_new"), form)
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert not Article.objects.exists()


def test_bad_input_is_translated(client_as, supervisor):
    response = client_as(supervisor, "zh-hans").post(
        reverse("web:knowledge_article_new"), {"title": "", "language": "zh-hans", "visibility": "x", "status": "draft"}
    )
    assert response.status_code == 400 and "此项为必填项。" in response.content.decode()


def test_the_preview_renders_sanitised_markdown(client_as, supervisor):
    response = client_as(supervisor).post(
        reverse("web:knowledge_article_preview"), {"body": "**hi** <script>x()</script>"}
    )
    assert "<strong>hi</strong>" in response.content.decode() and "<script>" not in response.content.decode()


# ---- categories ----------------------------------------------------------------------------------------------------


def test_a_supervisor_adds_renames_and_reorders_categories(client_as, supervisor, category):
    client = client_as(supervisor)
    url = reverse("web:knowledge_categories")
    assert client.post(url, {"name_zh": "订单", "name_en": "Orders"}).status_code == 302
    assert client.post(url, {"name_zh": "退款", "parent": category.pk}).status_code == 302
    orders = KnowledgeCategory.objects.get(name_zh="订单")
    section = KnowledgeCategory.objects.get(name_zh="退款")
    assert section.parent == category
    # the same name twice in one category is refused, readably
    again = client.post(url, {"name_zh": "退款", "parent": category.pk})
    assert again.status_code == 409 and "exists already" in again.content.decode()
    # rename
    edit = reverse("web:knowledge_category", args=[orders.pk])
    assert client.get(edit).status_code == 200
    assert client.post(edit, {"name_zh": "订单与物流", "name_en": "Orders"}).status_code == 302
    # a category inside its own section is refused
    inside = client.post(
        reverse("web:knowledge_category", args=[category.pk]), {"name_zh": "账户", "parent": section.pk}
    )
    assert inside.status_code == 400 and "inside itself" in inside.content.decode()
    # move "订单与物流" above "账户"
    assert client.post(reverse("web:knowledge_category_move", args=[orders.pk]), {"direction": "up"}).status_code == 302
    tops = list(
        KnowledgeCategory.objects.filter(workspace=supervisor.workspace, parent=None).order_by("position", "pk")
    )
    assert [c.name_zh for c in tops] == ["订单与物流", "账户"]
    page = client.get(url).content.decode()
    assert page.index("订单与物流") < page.index("账户")


# ---- who may do what -----------------------------------------------------------------------------------------------


def test_an_agent_reads_but_may_not_change_anything(client_as, agent, article, category):
    client = client_as(agent)
    assert client.get(reverse("web:knowledge_articles")).status_code == 200
    page = client.get(reverse("web:knowledge_article", args=[article.pk]))
    assert (
        page.status_code == 200
        and reverse("web:knowledge_article_edit", args=[article.pk]) not in page.content.decode()
    )
    assert client.get(reverse("web:knowledge_article_diff", args=[article.pk])).status_code == 200
    assert client.get(reverse("web:knowledge_categories")).status_code == 200
    refused = [
        client.get(reverse("web:knowledge_article_new")),
        client.post(reverse("web:knowledge_article_new"), {"title": "t", "language": "en"}),
        client.get(reverse("web:knowledge_article_edit", args=[article.pk])),
        client.post(reverse("web:knowledge_article_edit", args=[article.pk]), {"title": "t"}),
        client.get(reverse("web:knowledge_article_translate", args=[article.pk])),
        client.post(reverse("web:knowledge_article_restore", args=[article.pk]), {"version": 1}),
        client.post(reverse("web:knowledge_article_preview"), {"body": "x"}),
        client.post(reverse("web:knowledge_categories"), {"name_zh": "新"}),
        client.get(reverse("web:knowledge_category", args=[category.pk])),
        client.post(reverse("web:knowledge_category_move", args=[category.pk]), {"direction": "up"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    article.refresh_from_db()
    assert article.version == 2 and not KnowledgeCategory.objects.filter(name_zh="新").exists()


def test_another_workspaces_article_and_category_are_not_found(client_as, supervisor, theirs):
    other_category = KnowledgeCategory.objects.create(workspace=theirs.workspace, name_zh="SECRET-B 分类")
    client = client_as(supervisor)
    for name in (
        "knowledge_article",
        "knowledge_article_edit",
        "knowledge_article_translate",
        "knowledge_article_diff",
    ):
        response = client.get(reverse(f"web:{name}", args=[theirs.pk]))
        assert response.status_code == 404 and b"SECRET-B" not in response.content, name
    assert client.post(reverse("web:knowledge_article_restore", args=[theirs.pk]), {"version": 1}).status_code == 404
    assert client.post(reverse("web:knowledge_article_edit", args=[theirs.pk]), {"title": "x"}).status_code == 404
    assert client.get(reverse("web:knowledge_category", args=[other_category.pk])).status_code == 404
    assert client.post(reverse("web:knowledge_category_move", args=[other_category.pk])).status_code == 404
    # nor as a parent or a category of one's own article
    response = client.post(reverse("web:knowledge_categories"), {"name_zh": "新", "parent": other_category.pk})
    assert response.status_code == 400 and not KnowledgeCategory.objects.filter(name_zh="新").exists()
    theirs.refresh_from_db()
    assert theirs.version == 1


def test_the_pages_read_in_chinese(client_as, supervisor, article):
    html = client_as(supervisor, "zh-hans").get(reverse("web:knowledge_article", args=[article.pk])).content.decode()
    assert 'lang="zh-hans"' in html and "编辑" in html and "忘记密码怎么办" in html
