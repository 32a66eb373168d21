"""Knowledge articles: bilingual translations in one group, a version per change of title or body (restorable),
publishing as an event, found by the search index (two-character Chinese words), the gate and workspace isolation,
through the services and the API."""

from __future__ import annotations

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.models import EventRecord
from pivotdesk.knowledge import selectors, services
from pivotdesk.knowledge.models import Article, ArticleVersion
from pivotdesk.search.services import document_build

pytestmark = pytest.mark.django_db
BODY = "1. 打开“设置 → 授权”。\n2. 点击“重新激活”。\n"


@pytest.fixture
def boss(supervisor):
    return Actor.for_agent(supervisor)


def _article(boss, workspace, **fields):
    values = {"title": "软件授权失效怎么办", "body": BODY, "language": "zh-hans"} | fields
    return services.article_save(actor=boss, workspace=workspace, **values)


def test_a_change_of_title_or_body_is_a_version_and_a_version_comes_back(boss, workspace):
    article = _article(boss, workspace)
    assert article.version == 1 and article.owner is not None
    edited = services.article_save(
        actor=boss, workspace=workspace, title=article.title, body=BODY + "3. macOS：还要在防火墙里允许本软件。\n",
        language="zh-hans", article=article,
    )  # fmt: skip
    assert edited.version == 2
    same = services.article_save(
        actor=boss, workspace=workspace, title=edited.title, body=edited.body, language="zh-hans",
        visibility="public", article=edited,
    )  # fmt: skip
    assert same.version == 2 and same.visibility == "public"  # a setting is not a new version
    restored = services.article_restore(actor=boss, article=same, version=1)
    assert restored.version == 3 and restored.body == BODY and restored.visibility == "public"
    assert list(ArticleVersion.objects.filter(article=article).values_list("version", flat=True)) == [3, 2, 1]
    with pytest.raises(NotFound):
        services.article_restore(actor=boss, article=restored, version=9)


def test_translations_share_a_group_one_per_language(boss, workspace):
    zh = _article(boss, workspace)
    en = _article(boss, workspace, title="License expired", body="Open Settings → License.", language="en",
                  translation_of=zh)  # fmt: skip
    assert en.group == zh.group
    with pytest.raises(Conflict):
        _article(boss, workspace, title="又一篇", translation_of=zh)


def test_publishing_is_an_event_once_per_version(boss, workspace):
    article = _article(boss, workspace)
    assert not EventRecord.objects.filter(name="knowledge.article_published").exists()
    published = services.article_save(actor=boss, workspace=workspace, title=article.title, body=article.body,
                                      status="published", article=article)  # fmt: skip
    assert published.published_at is not None
    services.article_save(actor=boss, workspace=workspace, title=article.title, body=article.body,
                          status="published", article=published)  # fmt: skip
    payloads = [e.payload for e in EventRecord.objects.filter(name="knowledge.article_published")]
    assert payloads == [{"article_id": article.pk, "version": 1, "visibility": "internal"}]


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"title": " "}, "title"), ({"language": "fr"}, "language"), ({"visibility": "secret"}, "visibility")],
)
def test_bad_input_is_refused_with_a_translated_reason(boss, workspace, fields, field):
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as refused:
        _article(boss, workspace, **fields)
    assert field in refused.value.details and any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    assert not Article.objects.exists()


def test_only_knowledge_managers_write(agent, workspace):
    with pytest.raises(PermissionDenied):
        _article(Actor.for_agent(agent), workspace)


def test_the_index_finds_two_character_chinese_words_and_english(boss, workspace, other_workspace):
    zh = _article(boss, workspace, title="忘记密码", body="在登录页点击“忘记密码”，用手机验证码重设。")
    en = _article(boss, workspace, title="Refund timeline", body="Refunds reach the card in 3 to 5 working days.",
                  language="en")  # fmt: skip
    for article in (zh, en):
        document_build(kind="article", object_id=article.pk)
    assert list(selectors.articles(workspace_id=workspace.pk, query="密码")) == [zh]
    assert list(selectors.articles(workspace_id=workspace.pk, query="refunds card")) == [en]
    assert not selectors.articles(workspace_id=other_workspace.pk, query="密码").exists()


# --- the API -------------------------------------------------------------------------------------------------------


def test_the_api_writes_reads_versions_and_restores(api_client_for, supervisor, agent, other_workspace):
    boss = api_client_for(supervisor)
    made = boss.post("/api/v1/knowledge/articles/", {"title": "软件授权失效", "body": BODY, "status": "published"},
                     content_type="application/json")  # fmt: skip
    assert made.status_code == 201, made.content
    article = made.json()
    path = f"/api/v1/knowledge/articles/{article['id']}/"
    assert (
        boss.put(path, {"title": "软件授权失效", "body": BODY + "更多\n"}, content_type="application/json").json()[
            "version"
        ]
        == 2
    )
    versions = boss.get(path + "versions/").json()
    assert [(v["version"], v["lines_added"]) for v in versions] == [(2, 1), (1, 2)]
    assert boss.post(path + "restore/", {"version": 1}, content_type="application/json").json()["version"] == 3
    assert boss.post(path + "restore/", {"version": 7}, content_type="application/json").status_code == 404
    reader = api_client_for(agent)
    assert reader.get(path).status_code == 200
    refused = reader.post("/api/v1/knowledge/articles/", {"title": "x"}, content_type="application/json")
    assert refused.status_code == 403
    stranger = api_client_for(AgentFactory(workspace=other_workspace))
    assert stranger.get(path).status_code == 404  # another workspace's article is not told apart from none
    bad = boss.post("/api/v1/knowledge/articles/", {"title": "x", "category_id": 999999},
                    content_type="application/json")  # fmt: skip
    assert bad.status_code == 404
