"""Knowledge base: categories (a section is a category with a parent), articles in Chinese or English linked as
translations of one another, and every saved version of an article."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import WorkspaceScoped


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal (agents only)")
    PUBLIC = "public", _("Public (customers and the bot)")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ArticleLanguage(models.TextChoices):
    ZH = "zh-hans", _("Chinese")
    EN = "en", _("English")


class KnowledgeCategory(WorkspaceScoped):
    """A category of articles, or a section of one (`parent`); names in both languages."""

    name_zh = models.CharField(max_length=120)
    name_en = models.CharField(max_length=120, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="sections")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "parent", "name_zh"], name="knowledge_category_unique_name")
        ]
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name_zh


class Article(WorkspaceScoped):
    """One article in one language. Translations share `group` (one article per language in a group). `version`
    counts the saves that changed the title or the body; each is an `ArticleVersion`."""

    group = models.UUIDField(default=uuid.uuid4, db_index=True)
    language = models.CharField(max_length=8, choices=ArticleLanguage.choices, default=ArticleLanguage.ZH)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)  # Markdown
    category = models.ForeignKey(KnowledgeCategory, null=True, blank=True, on_delete=models.SET_NULL)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL)
    status = models.CharField(max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    owner = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_due = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "group", "language"], name="knowledge_article_one_per_language"
            )
        ]
        indexes = [models.Index(fields=["workspace", "status", "visibility"], name="knowledge_article_list_idx")]
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(WorkspaceScoped):
    """What an article said at one version, and who saved it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    saved_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "version"], name="knowledge_version_unique")]
        ordering = ["-version"]
