"""The screens' layout as a test: every agent and admin screen is a view of a domain package of `web`
(`pivotdesk/web/<domain>/` with `views` and `urls`), reached through that package's own URL module."""

from __future__ import annotations

from pathlib import Path

from django.urls import URLPattern

from pivotdesk.web import urls as web_urls

WEB = Path(web_urls.__file__).parent
SHARED = {"templatetags", "templates", "static", "locale", "tests", "__pycache__"}


def _domains() -> set[str]:
    return {p.name for p in WEB.iterdir() if p.is_dir() and p.name not in SHARED}


def test_every_domain_package_has_views_urls_and_is_joined_into_the_web_urls():
    # given the domain packages under pivotdesk/web/
    domains = _domains()
    # then each has views (module or package) and urls, and the web URLconf joins exactly these
    for domain in domains:
        assert (WEB / domain / "views.py").is_file() or (WEB / domain / "views").is_dir(), domain
        assert (WEB / domain / "urls.py").is_file(), domain
    assert {module.__name__.split(".")[2] for module in web_urls.DOMAINS} == domains


def test_every_url_of_the_web_namespace_is_a_view_of_the_domain_whose_urls_declare_it():
    for module in web_urls.DOMAINS:
        domain = module.__name__.split(".")[2]
        for pattern in module.urlpatterns:
            assert isinstance(pattern, URLPattern)
            view_module = pattern.callback.__module__
            ours = view_module.startswith(f"pivotdesk.web.{domain}.views")
            assert ours or view_module.startswith("django."), (pattern.name, view_module)  # e.g. Django's LogoutView


def test_url_names_are_unique_in_the_namespace():
    names = [pattern.name for pattern in web_urls.urlpatterns]
    assert len(names) == len(set(names))
