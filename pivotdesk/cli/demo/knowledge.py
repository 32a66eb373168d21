"""The demo's knowledge base: categories mirroring the desk's ticket categories (账务 › 退款 …), the bilingual
articles of `knowledge_articles` (each English article a translation of its Chinese one), and their search
documents, so the help centre, the bot and the agents' suggestions have something to find from the first start.

Written through the knowledge services as the system, like the rest of the demo, with the supervisor as owner and
reviewer. Running it again changes nothing: categories are found by their Chinese name under their parent, a topic
by its Chinese title. No sentence embeddings are computed here (the retrieval index builds them when first asked).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.cli.demo.knowledge_articles import TOPICS, ArticleText, KnowledgeTopic
from pivotdesk.cli.demo.people import CATEGORIES
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.knowledge import services as knowledge_services
from pivotdesk.knowledge.models import Article, ArticleLanguage, ArticleStatus, KnowledgeCategory
from pivotdesk.knowledge.search import KIND as ARTICLE_KIND
from pivotdesk.search.services import document_build

SYSTEM = Actor.system("demo")
OWNER = "supervisor"
REVIEW_WINDOW_DAYS = 90  # review dates spread over the next three months, so the review queue fills gradually
EN_SUFFIX = "_en"


def configure_knowledge(world: DemoWorld) -> dict[str, Article]:
    """The demo's knowledge categories and articles, with their search documents (safe to run twice).

    Returns the articles by topic key: the Chinese article under the key (e.g. "refund_timeline",
    "tpl_remote_delay"), its English translation under the key + "_en"."""
    categories = _save_categories(world)
    owner = world.agents.get(OWNER)
    existing = _existing_articles(world)
    today = timezone.localdate()
    saved: dict[str, Article] = {}
    for index, topic in enumerate(TOPICS):
        review_due = today + dt.timedelta(days=1 + index * REVIEW_WINDOW_DAYS // len(TOPICS))
        category = categories[topic.category]
        zh = existing.get(topic.zh.title) or _save(
            world, topic, topic.zh, language=ArticleLanguage.ZH, category=category, owner=owner, review_due=review_due
        )
        en = _translation(zh) or _save(
            world,
            topic,
            topic.en,
            language=ArticleLanguage.EN,
            category=category,
            owner=owner,
            review_due=review_due,
            translation_of=zh,
        )
        saved[topic.key], saved[topic.key + EN_SUFFIX] = zh, en
    for article in saved.values():
        # Indexed now, not at commit: the demo (and a test inside its transaction) can search at once.
        document_build(kind=ARTICLE_KIND, object_id=article.pk)
    return saved


def _save_categories(world: DemoWorld) -> dict[str, KnowledgeCategory]:
    """One knowledge category per top-level ticket category and a section per child, by ticket category key."""
    found = {(c.parent_id, c.name_zh): c for c in KnowledgeCategory.objects.filter(workspace=world.workspace)}
    saved: dict[str, KnowledgeCategory] = {}
    for position, (key, (name_en, name_zh, parent_key)) in enumerate(CATEGORIES.items()):  # parents come first
        parent = saved.get(parent_key)
        category = found.get((parent.pk if parent else None, name_zh))
        if category is None:
            category = knowledge_services.category_save(
                actor=SYSTEM,
                workspace=world.workspace,
                name_zh=name_zh,
                name_en=name_en,
                parent=parent,
                position=position,
            )
        saved[key] = category
    return saved


def _existing_articles(world: DemoWorld) -> dict[str, Article]:
    """The workspace's Chinese articles by title (how a second run recognises a topic it wrote)."""
    rows = Article.objects.filter(workspace=world.workspace, language=ArticleLanguage.ZH).order_by("pk")
    return {article.title: article for article in rows}


def _translation(article: Article) -> Article | None:
    return Article.objects.filter(
        workspace_id=article.workspace_id, group=article.group, language=ArticleLanguage.EN
    ).first()


def _save(
    world: DemoWorld,
    topic: KnowledgeTopic,
    text: ArticleText,
    *,
    language: str,
    category: KnowledgeCategory,
    owner: AgentProfile | None,
    review_due: dt.date,
    translation_of: Article | None = None,
) -> Article:
    """One topic's article in one language, published unless the topic is a draft."""
    return knowledge_services.article_save(
        actor=SYSTEM,
        workspace=world.workspace,
        title=text.title,
        body=text.body.strip() + "\n",
        language=language,
        category=category,
        visibility=topic.visibility,
        status=ArticleStatus.DRAFT if topic.draft else ArticleStatus.PUBLISHED,
        owner=owner,
        reviewer=owner,
        review_due=review_due,
        translation_of=translation_of,
        note="演示知识库 Demo knowledge base",
    )
