"""The public help centre, without sign-in: a public article reads in both languages (and links its translation),
search finds public, published articles only, internal and draft articles are never listed, found or reachable by id,
another workspace's article is not reachable through this one's help centre, Markdown is sanitised, and the
"was this helpful?" answer is counted once per visitor."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.knowledge import helpcentre, services
from pivotdesk.knowledge.models import Article
from pivotdesk.search.services import document_build

pytestmark = pytest.mark.django_db


def _write(agent, **fields) -> Article:
    article = services.article_save(actor=Actor.for_agent(agent), workspace=agent.workspace, **fields)
    document_build(kind="article", object_id=article.pk)
    return article


@pytest.fixture
def world(supervisor, other_workspace) -> dict[str, Article]:
    category = services.category_save(
        actor=Actor.for_agent(supervisor), workspace=supervisor.workspace, name_zh="账户", name_en="Account"
    )
    zh = _write(supervisor, title="忘记密码怎么办", body="在登录页点击“忘记密码”，按短信验证码重设密码。",
                category=category, visibility="public", status="published")  # fmt: skip
    en = _write(supervisor, title="Reset your password", body="Choose **Forgot password** on the sign-in page.",
                language="en", translation_of=zh, category=category, visibility="public", status="published")  # fmt: skip
    internal = _write(supervisor, title="内部：密码重置后台操作", body="INTERNAL-ONLY 密码 后台",
                      visibility="internal", status="published")  # fmt: skip
    draft = _write(supervisor, title="草稿：密码新流程", body="DRAFT-ONLY 密码 新流程", visibility="public",
                   status="draft")  # fmt: skip
    archived = _write(supervisor, title="旧的密码说明", body="ARCHIVED-ONLY 密码", visibility="public",
                      status="archived")  # fmt: skip
    boss_b = AgentFactory(workspace=other_workspace, role=Role.SUPERVISOR)
    theirs = _write(boss_b, title="SECRET-B 密码", body="SECRET-B 密码", visibility="public", status="published")
    return {"zh": zh, "en": en, "internal": internal, "draft": draft, "archived": archived, "theirs": theirs}


def _get(url: str, **params: str) -> tuple[int, str]:
    response = Client().get(url, params)
    return response.status_code, response.content.decode()


def test_the_home_page_lists_categories_in_the_readers_language(workspace, world):
    status, html = _get(reverse("web:helpcentre_home", args=[workspace.slug]), lang="en")
    assert status == 200 and "Account" in html and 'lang="en"' in html
    status, html = _get(reverse("web:helpcentre_home", args=[workspace.slug]), lang="zh-hans")
    assert status == 200 and "账户" in html and 'lang="zh-Hans"' in html


def test_a_public_article_reads_in_both_languages_with_a_link_to_its_translation(workspace, world):
    zh, en = world["zh"], world["en"]
    status, html = _get(reverse("web:helpcentre_article", args=[workspace.slug, zh.pk]), lang="zh-hans")
    assert status == 200 and "按短信验证码重设密码。" in html
    assert reverse("web:helpcentre_article", args=[workspace.slug, en.pk]) + "?lang=en" in html
    status, html = _get(reverse("web:helpcentre_article", args=[workspace.slug, en.pk]), lang="en")
    assert status == 200 and "<strong>Forgot password</strong>" in html
    assert reverse("web:helpcentre_article", args=[workspace.slug, zh.pk]) + "?lang=zh-hans" in html


def test_the_category_page_lists_one_article_per_language_group(workspace, world):
    category = world["zh"].category
    status, html = _get(reverse("web:helpcentre_category", args=[workspace.slug, category.pk]), lang="en")
    assert status == 200 and "Reset your password" in html and "忘记密码怎么办" not in html
    status, html = _get(reverse("web:helpcentre_category", args=[workspace.slug, category.pk]), lang="zh-hans")
    assert "忘记密码怎么办" in html and "Reset your password" not in html


def test_search_finds_public_published_articles_only(workspace, world):
    status, html = _get(reverse("web:helpcentre_search", args=[workspace.slug]), q="密码", lang="zh-hans")
    assert status == 200
    assert reverse("web:helpcentre_article", args=[workspace.slug, world["zh"].pk]) in html
    assert "<mark>" in html
    for hidden in ("INTERNAL-ONLY", "内部：", "DRAFT-ONLY", "草稿：", "ARCHIVED-ONLY", "旧的密码说明", "SECRET-B"):
        assert hidden not in html, hidden
    assert helpcentre.public_search(workspace_id=workspace.pk, query="后台") == []
    assert helpcentre.public_search(workspace_id=workspace.pk, query="新流程") == []


def test_internal_draft_and_archived_articles_are_never_listed_nor_reachable(workspace, world):
    for page in ("web:helpcentre_home",):
        _status, html = _get(reverse(page, args=[workspace.slug]))
        assert "内部" not in html and "草稿" not in html and "旧的密码说明" not in html
    _status, html = _get(reverse("web:helpcentre_category", args=[workspace.slug, world["zh"].category_id]))
    assert "内部" not in html and "草稿" not in html
    for key in ("internal", "draft", "archived"):
        status, html = _get(reverse("web:helpcentre_article", args=[workspace.slug, world[key].pk]))
        assert status == 404 and world[key].title not in html, key
        response = Client().post(
            reverse("web:helpcentre_feedback", args=[workspace.slug, world[key].pk]), {"helpful": "yes"}
        )
        assert response.status_code == 404


def test_another_workspaces_article_is_not_reachable_through_this_help_centre(workspace, other_workspace, world):
    theirs = world["theirs"]
    status, html = _get(reverse("web:helpcentre_article", args=[workspace.slug, theirs.pk]))
    assert status == 404 and "SECRET-B" not in html
    # nor a category of the other workspace
    status, _html = _get(reverse("web:helpcentre_category", args=[workspace.slug, world["zh"].category_id + 999]))
    assert status == 404
    # the other workspace's help centre shows its own article, and none of ours
    status, html = _get(reverse("web:helpcentre_search", args=[other_workspace.slug]), q="密码")
    assert status == 200 and "SECRET-B" in html and "忘记密码怎么办" not in html


def test_an_unknown_slug_and_a_workspace_without_public_articles_are_not_found(workspace, other_workspace, supervisor):
    _write(supervisor, title="内部", body="x", visibility="internal", status="published")
    assert _get(reverse("web:helpcentre_home", args=[workspace.slug]))[0] == 404
    assert _get(reverse("web:helpcentre_home", args=["no-such-workspace"]))[0] == 404


def test_markdown_with_a_script_is_sanitised(workspace, supervisor):
    evil = _write(
        supervisor, title="安全", visibility="public", status="published",
        body="# 标题\n\n<script>alert(1)</script><img src=x onerror=alert(2)>[点我](javascript:alert(3))"
             '<a href="data:text/html,x">d</a><iframe src="https://evil.example"></iframe>',
    )  # fmt: skip
    status, html = _get(reverse("web:helpcentre_article", args=[workspace.slug, evil.pk]))
    assert status == 200 and "<h1>标题</h1>" in html
    for bad in ("<script>alert", "onerror", "javascript:", "data:text/html", "<iframe"):
        assert bad not in html, bad


def test_the_page_has_no_inline_script_and_sends_the_csp(workspace, world):
    response = Client().get(reverse("web:helpcentre_article", args=[workspace.slug, world["zh"].pk]))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<script" not in response.content.decode() and "style=" not in response.content.decode()


def test_was_this_helpful_is_counted_once_per_visitor(workspace, world):
    article = world["zh"]
    url = reverse("web:helpcentre_feedback", args=[workspace.slug, article.pk])
    visitor = Client()
    first = visitor.post(url + "?lang=zh-hans", {"helpful": "yes"})
    assert first.status_code == 302 and first["Location"].endswith("?lang=zh-hans#feedback")
    visitor.post(url, {"helpful": "yes"})
    visitor.post(url, {"helpful": "no"})
    Client().post(url, {"helpful": "no"})
    Client().post(url, {"helpful": "maybe"})
    assert helpcentre.helpcentre_feedback_counts(article) == (1, 1)
    page = visitor.get(reverse("web:helpcentre_article", args=[workspace.slug, article.pk])).content.decode()
    assert 'name="helpful"' not in page


def test_post_without_csrf_token_is_refused(workspace, world):
    client = Client(enforce_csrf_checks=True)
    url = reverse("web:helpcentre_feedback", args=[workspace.slug, world["zh"].pk])
    assert client.post(url, {"helpful": "yes"}).status_code == 403
    assert helpcentre.helpcentre_feedback_counts(world["zh"]) == (0, 0)


def test_the_language_comes_from_the_link_then_the_browser_then_the_workspace(workspace, world):
    url = reverse("web:helpcentre_home", args=[workspace.slug])
    assert 'html lang="en"' in Client(headers={"accept-language": "zh-CN"}).get(url, {"lang": "en"}).content.decode()
    assert 'html lang="zh-Hans"' in Client(headers={"accept-language": "zh-CN"}).get(url).content.decode()
    workspace.default_language = "zh-hans"
    workspace.save()
    assert 'html lang="zh-Hans"' in Client().get(url).content.decode()


def test_the_public_pages_answer_bad_input_without_an_error(workspace, world):
    client = Client()
    slug = workspace.slug
    assert client.get(reverse("web:helpcentre_search", args=[slug]), {"q": "x" * 5000 + "\x00"}).status_code == 200
    assert client.get(reverse("web:helpcentre_home", args=[slug]), {"lang": "\x00klingon"}).status_code == 200
    assert client.get(f"/help/{slug}/a/99999999999999999999/").status_code == 404
    assert client.post(reverse("web:helpcentre_article", args=[slug, world["zh"].pk])).status_code == 405
