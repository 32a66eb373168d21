"""The public help centre of a workspace, for its customers, without sign-in: the home page (search box, categories),
search results, a category, an article (rendered, sanitised Markdown; its translation; "was this helpful?").

Only public, published articles are ever shown or found (`pivotdesk.knowledge.helpcentre` holds that rule); a draft,
an internal article and another workspace's article answer 404 alike. The workspace is named by its slug in the URL,
as the public web form is named by its channel key. The page language is `?lang=` (zh-hans or en, kept in every
link, as on the public web form), else the visitor's language cookie or browser, else the workspace's default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.accounts.models import Workspace
from pivotdesk.channels.models import ChannelAccount
from pivotdesk.common import ratelimit
from pivotdesk.common.domain import placeholders
from pivotdesk.common.errors import NotFound
from pivotdesk.knowledge import helpcentre
from pivotdesk.knowledge.models import ArticleLanguage
from pivotdesk.web.base import int_or_none
from pivotdesk.web.knowledge.rendering import category_name, render_markdown

MAX_QUERY = 200
SEARCHES_PER_MINUTE = 30
VOTES_PER_HOUR = 60
SESSION_VOTES = "helpcentre_votes"
MAX_SESSION_VOTES = 500


@dataclass(frozen=True)
class Centre:
    """The help centre being read: its workspace and the page language."""

    workspace: Workspace
    language: str

    @property
    def query(self) -> str:
        """What every link carries to keep the language."""
        return f"?lang={self.language}"


def _language_code(value: str) -> str:
    return ArticleLanguage.ZH if value.lower().startswith("zh") else ArticleLanguage.EN


def page_language(request: HttpRequest, workspace: Workspace) -> str:
    """`?lang=`, else the visitor's language cookie or browser language, else the workspace's default language."""
    asked = request.GET.get("lang", "")
    if asked:
        return _language_code(asked)
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or request.headers.get("accept-language"):
        return _language_code(translation.get_language_from_request(request))
    return _language_code(workspace.default_language or "")


def _not_found(request: HttpRequest, language: str) -> HttpResponse:
    with translation.override(language):
        return render(request, "web/helpcentre/not_found.html", {"language": language}, status=404)


type CentreView = Callable[Concatenate[HttpRequest, Centre, ...], HttpResponse]


def centre_view(view: CentreView) -> Callable[..., HttpResponse]:
    """Find the workspace of the slug, choose the language, render in it; a missing anything is a 404 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, ws: str, *args: Any, **kwargs: Any) -> HttpResponse:
        fallback = _language_code(request.GET.get("lang", "") or translation.get_language() or "")
        try:
            workspace = helpcentre.helpcentre_workspace(slug=ws)
        except NotFound:
            return _not_found(request, fallback)
        centre = Centre(workspace=workspace, language=page_language(request, workspace))
        with translation.override(centre.language):
            try:
                return view(request, centre, *args, **kwargs)
            except NotFound:
                return _not_found(request, centre.language)

    return wrapper


def _contact_url(workspace: Workspace, language: str) -> str:
    """The workspace's public web form, for "still need help?" ("" when it has none)."""
    account = ChannelAccount.objects.filter(workspace=workspace, kind="web_form", active=True).order_by("pk").first()
    if account is None:
        return ""
    return reverse("channels:form", args=[account.webhook_key]) + f"?lang={language}"


def _context(centre: Centre, **extra: Any) -> dict[str, Any]:
    return {
        "centre": centre,
        "workspace": centre.workspace,
        "language": centre.language,
        "lq": centre.query,
        "contact_url": _contact_url(centre.workspace, centre.language),
        **extra,
    }


def _categories(centre: Centre) -> list[dict[str, Any]]:
    return [
        {
            "category": item.category,
            "name": category_name(item.category, centre.language),
            "sections": [category_name(s, centre.language) for s in item.sections],
            "articles": item.articles,
        }
        for item in helpcentre.public_categories(workspace_id=centre.workspace.pk)
    ]


@require_GET
@centre_view
def home(request: HttpRequest, centre: Centre) -> HttpResponse:
    """The search box, the categories, and the articles not in any category."""
    loose = [
        a
        for a in helpcentre.public_listing(workspace_id=centre.workspace.pk, language=centre.language)
        if a.category_id is None
    ]
    context = _context(centre, categories=_categories(centre), loose=loose)
    return render(request, "web/helpcentre/home.html", context)


def _searches_allowed(request: HttpRequest) -> bool:
    verdict = ratelimit.hit(
        scope="helpcentre-search", key=ratelimit.client_ip(request), limit=SEARCHES_PER_MINUTE, window_seconds=60
    )
    return verdict.allowed


@require_GET
@centre_view
def search(request: HttpRequest, centre: Centre) -> HttpResponse:
    """The public articles that answer `q`, best first, with the matching words highlighted."""
    query = request.GET.get("q", "").replace("\x00", "").strip()[:MAX_QUERY]
    if query and not _searches_allowed(request):
        context = _context(centre, query=query, hits=[], limited=True)
        return render(request, "web/helpcentre/search.html", context, status=429)
    hits = helpcentre.public_search(workspace_id=centre.workspace.pk, query=query) if query else []
    return render(request, "web/helpcentre/search.html", _context(centre, query=query, hits=hits))


@require_GET
@centre_view
def category(request: HttpRequest, centre: Centre, category_id: int) -> HttpResponse:
    """A category's public articles, and its sections' (under their names)."""
    found = helpcentre.public_category(workspace_id=centre.workspace.pk, category_id=int_or_none(category_id) or 0)
    sections = [
        {"name": category_name(s, centre.language), "articles": _listed(centre, [s.pk])}
        for s in found.sections.order_by("position", "pk")
    ]
    sections = [s for s in sections if s["articles"]]
    articles = _listed(centre, [found.pk])
    if not articles and not sections:
        raise NotFound(_("Not found."), code="not_found")
    context = _context(
        centre, category=found, name=category_name(found, centre.language), articles=articles, sections=sections
    )
    return render(request, "web/helpcentre/category.html", context)


def _listed(centre: Centre, category_ids: list[int]) -> list[Any]:
    return helpcentre.public_listing(
        workspace_id=centre.workspace.pk, language=centre.language, category_ids=category_ids
    )


def _voted(request: HttpRequest) -> dict[str, bool]:
    votes = request.session.get(SESSION_VOTES, {}) if hasattr(request, "session") else {}
    return votes if isinstance(votes, dict) else {}


@require_GET
@centre_view
def article(request: HttpRequest, centre: Centre, article_id: int) -> HttpResponse:
    """A public article: its text, its translation, and "was this helpful?"."""
    found = helpcentre.public_article(workspace_id=centre.workspace.pk, article_id=int_or_none(article_id) or 0)
    context = _context(
        centre,
        article=found,
        html=render_markdown(placeholders.render(found.body, {})),  # a template's blanks: nothing to fill here
        translations=helpcentre.public_translations(found),
        category_label=category_name(found.category, centre.language) if found.category else "",
        vote=_voted(request).get(str(found.pk)),
    )
    return render(request, "web/helpcentre/article.html", context)


@require_POST
@centre_view
def feedback(request: HttpRequest, centre: Centre, article_id: int) -> HttpResponse:
    """Record one visitor's "was this helpful?" answer (once per article and browser session), then back to the
    article."""
    found = helpcentre.public_article(workspace_id=centre.workspace.pk, article_id=int_or_none(article_id) or 0)
    votes = _voted(request)
    answer = request.POST.get("helpful", "")
    key = str(found.pk)
    allowed = ratelimit.hit(
        scope="helpcentre-vote", key=ratelimit.client_ip(request), limit=VOTES_PER_HOUR, window_seconds=3600
    ).allowed
    if answer in ("yes", "no") and key not in votes and len(votes) < MAX_SESSION_VOTES and allowed:
        helpcentre.helpcentre_feedback(found, answer == "yes")
        request.session[SESSION_VOTES] = {**votes, key: answer == "yes"}
    url = reverse("web:helpcentre_article", args=[centre.workspace.slug, found.pk])
    return HttpResponseRedirect(f"{url}{centre.query}#feedback")
