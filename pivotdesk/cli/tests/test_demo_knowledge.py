"""The demo's knowledge base: every topic in Chinese with its English translation in the same group, filed under
categories mirroring the ticket categories, solution templates whose placeholders the desk knows, owned and reviewed
by the supervisor, found at once by a two-character Chinese query — and seeding it again duplicates nothing.

`configure_knowledge` needs only the workspace and its supervisor, so the test builds that much of the demo's world
rather than seeding the whole demo."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from pivotdesk.ai.services.placeholders import KNOWN_PLACEHOLDERS
from pivotdesk.cli.demo.knowledge import configure_knowledge
from pivotdesk.cli.demo.knowledge_articles import TOPICS
from pivotdesk.cli.demo.knowledge_graph import seed_graph
from pivotdesk.cli.demo.people import CATEGORIES
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.common.domain import placeholders
from pivotdesk.knowledge import retrieval
from pivotdesk.knowledge.models import Article, KnowledgeCategory, Mention
from pivotdesk.search.models import SearchDocument
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
ALLOWED_PLACEHOLDERS = KNOWN_PLACEHOLDERS | {"agent.name"}
TEMPLATE_KEYS = {
    "tpl_refund_timeline",
    "tpl_duplicate_charge",
    "tpl_invoice_reissue",
    "tpl_remote_delay",
    "tpl_sorting_missed_scan",
    "tpl_password_reset",
    "tpl_controller_reset",
    "tpl_licence_expired",
}


@pytest.fixture
def world(workspace, supervisor):
    """As much of the demo's world as the knowledge base needs: the workspace and its supervisor."""
    return DemoWorld(workspace=workspace, agents={"supervisor": supervisor})


@pytest.fixture
def articles(world):
    return configure_knowledge(world)


def test_every_topic_is_a_chinese_article_with_its_english_translation(articles, workspace):
    assert 60 <= Article.objects.filter(workspace=workspace).count() == 2 * len(TOPICS) == len(articles)
    for topic in TOPICS:
        zh, en = articles[topic.key], articles[topic.key + "_en"]
        assert (zh.language, en.language) == ("zh-hans", "en")
        assert zh.group == en.group and zh.pk != en.pk
        assert (zh.title, en.title) == (topic.zh.title, topic.en.title)
        assert CJK.search(zh.title + zh.body), topic.key
        assert not CJK.search(en.title + en.body), f"Chinese left in the English article {topic.key}"


def test_articles_are_filed_under_sections_mirroring_the_ticket_categories(articles, workspace):
    assert KnowledgeCategory.objects.filter(workspace=workspace).count() == len(CATEGORIES)
    for topic in TOPICS:
        name_en, name_zh, parent_key = CATEGORIES[topic.category]
        for article in (articles[topic.key], articles[topic.key + "_en"]):
            section = article.category
            assert (section.name_zh, section.name_en) == (name_zh, name_en)
            assert section.parent is not None and section.parent.name_en == CATEGORIES[parent_key][0]


def test_most_articles_are_public_published_and_reviewed_by_the_supervisor_within_three_months(articles, supervisor):
    today = timezone.localdate()
    zh = [articles[t.key] for t in TOPICS]
    assert sum(a.visibility == "public" for a in zh) > len(zh) / 2
    assert 6 <= sum(a.visibility == "internal" and not t.template for a, t in zip(zh, TOPICS, strict=True)) <= 10
    assert 1 <= sum(a.status == "draft" for a in zh) <= 3
    assert all(a.status == "published" for a, t in zip(zh, TOPICS, strict=True) if not t.draft)
    for article in articles.values():
        assert article.owner == supervisor and article.reviewer == supervisor
        assert today < article.review_due <= today + timezone.timedelta(days=91)


def test_solution_templates_are_internal_and_use_only_placeholders_the_desk_fills(articles):
    templates = [t for t in TOPICS if t.template]
    assert {t.key for t in templates} == TEMPLATE_KEYS
    topic_keys = {t.key for t in TOPICS if not t.template}
    for topic in templates:
        assert topic.answers in topic_keys
        zh, en = articles[topic.key], articles[topic.key + "_en"]
        assert zh.visibility == en.visibility == "internal"
        for article in (zh, en):
            assert placeholders.unknown(article.title + article.body, ALLOWED_PLACEHOLDERS) == [], topic.key
            assert "requester.name" in placeholders.names(article.body)
        assert set(placeholders.names(zh.body)) == set(placeholders.names(en.body)), topic.key


def test_no_article_but_a_template_has_placeholders():
    for topic in TOPICS:
        if not topic.template:
            assert placeholders.names(topic.zh.body + topic.en.body) == [], topic.key


def test_the_special_cases_the_graph_tips_learn_are_in_the_articles(articles):
    assert "固件低于 2.3 的，必须先清除缓存" in articles["controller_reset"].body
    assert "clear the cache first" in articles["controller_reset_en"].body
    assert "macOS" in articles["licence_expired"].body and "防火墙" in articles["licence_expired"].body
    assert "firewall" in articles["licence_expired_en"].body


@pytest.mark.parametrize(
    ("query", "expected"), [("退款", "refund_timeline"), ("密码", "password_reset"), ("发票", "vat_invoice")]
)
def test_a_two_character_chinese_query_finds_its_article_by_keyword(articles, workspace, query, expected):
    hits = retrieval.search_articles(workspace_id=workspace.pk, query=query, mode="keyword")
    assert articles[expected].pk in [h.object_id for h in hits]
    assert all(query in h.title or any(query in part for part, _ in h.snippet) for h in hits[:3])


def test_every_article_has_its_search_document(articles, workspace):
    documents = set(
        SearchDocument.objects.filter(workspace=workspace, kind="article").values_list("object_id", flat=True)
    )
    assert documents == {a.pk for a in articles.values()}


def test_configuring_it_again_changes_nothing(articles, world, workspace):
    again = configure_knowledge(world)
    assert {k: a.pk for k, a in again.items()} == {k: a.pk for k, a in articles.items()}
    assert Article.objects.filter(workspace=workspace).count() == len(articles)
    assert KnowledgeCategory.objects.filter(workspace=workspace).count() == len(CATEGORIES)


def test_the_demo_catalogue_finds_the_demo_devices_and_runs_twice_to_the_same_graph(workspace):
    ticket = make_ticket(workspace=workspace, subject="PD-100 扫码枪 Scanner 开机报错 E-1043", body="长按电源键也没用")
    first = seed_graph(workspace)
    assert seed_graph(workspace) == first > 0
    keys = set(Mention.objects.filter(ticket=ticket).values_list("entity__kind", "entity__key"))
    assert {("model", "pd-100"), ("product", "扫码枪"), ("fault_code", "e-1043")} <= keys
    assert ("solution", "强制重启") not in keys  # named in the conversation, not in a resolution
