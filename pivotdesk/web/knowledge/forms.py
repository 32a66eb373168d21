"""The forms of the knowledge screens: the article editor and a category. They check what a form can (lengths, a
choice of this workspace, a date); the services check the rest, and their refusal comes back on the form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.knowledge.models import ArticleLanguage, ArticleStatus, KnowledgeCategory, Visibility
from pivotdesk.knowledge.services import MAX_BODY, MAX_NAME, MAX_TITLE
from pivotdesk.web.knowledge.rendering import category_choices


class AgentChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    """An active agent of the workspace, shown by name."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ArticleForm(forms.Form):
    """Everything on the article editor."""

    title = forms.CharField(label=_("Title"), max_length=MAX_TITLE)
    body = forms.CharField(
        label=_("Text (Markdown)"), required=False, max_length=MAX_BODY, strip=False, widget=forms.Textarea
    )
    language = forms.ChoiceField(label=_("Language"), choices=ArticleLanguage.choices)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    visibility = forms.ChoiceField(label=_("Who may read it"), choices=Visibility.choices)
    status = forms.ChoiceField(label=_("Status"), choices=ArticleStatus.choices)
    owner = AgentChoice(label=_("Owner"), queryset=AgentProfile.objects.none(), required=False, empty_label="—")
    reviewer = AgentChoice(label=_("Reviewer"), queryset=AgentProfile.objects.none(), required=False, empty_label="—")
    review_due = forms.DateField(
        label=_("Review by"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(label=_("What changed (optional)"), required=False, max_length=255)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agents = AgentProfile.objects.filter(workspace=workspace, is_active=True).select_related("user")
        self.fields["owner"].queryset = agents  # type: ignore[attr-defined]
        self.fields["reviewer"].queryset = agents  # type: ignore[attr-defined]
        categories = KnowledgeCategory.objects.filter(workspace=workspace)
        choices: list[tuple[Any, str]] = [("", "—"), *category_choices(categories)]
        self.fields["category"].choices = choices  # type: ignore[attr-defined]


class CategoryForm(forms.Form):
    """A category or section: both names, and the category it is a section of."""

    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=MAX_NAME)
    name_en = forms.CharField(label=_("Name (English)"), required=False, max_length=MAX_NAME)
    parent = forms.TypedChoiceField(label=_("Section of"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        categories = KnowledgeCategory.objects.filter(workspace=workspace)
        self.fields["parent"].choices = [("", _("— (a category)")), *category_choices(categories)]  # type: ignore[attr-defined]


def service_errors(form: forms.Form, details: Mapping[str, Any], message: str) -> None:
    """Put a service's refusal on the form: on its field when the service names one of the form's, else on top."""
    placed = False
    for field, text in (details or {}).items():
        if field in form.fields:
            form.add_error(field, str(text))
            placed = True
    if not placed:
        form.add_error(None, message)
