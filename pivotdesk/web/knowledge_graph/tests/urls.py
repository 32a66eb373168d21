"""The web URLs with the knowledge graph's joined in, until `pivotdesk.web.urls` lists it among its DOMAINS.

Every `pivotdesk.web.<domain>.urls` module is joined, not only those DOMAINS lists already: the shared page layout
may link to a screen whose domain is being wired at the same time as this one."""

from __future__ import annotations

import importlib
import pkgutil

from django.urls import URLPattern, URLResolver, include, path

import pivotdesk.web
from pivotdesk.web import urls as web


def _domains() -> list[URLPattern]:
    patterns = list(web.urlpatterns)
    names = {p.name for p in patterns}
    for module in pkgutil.iter_modules(pivotdesk.web.__path__):
        if not module.ispkg:
            continue
        try:
            found = importlib.import_module(f"pivotdesk.web.{module.name}.urls")
        except ImportError:
            continue
        for pattern in getattr(found, "urlpatterns", []):
            if isinstance(pattern, URLPattern) and pattern.name not in names:
                patterns.append(pattern)
                names.add(pattern.name)
    return patterns


# The language switch the layout links to (config.urls has it too; `web` may not import config).
urlpatterns: list[URLPattern | URLResolver] = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include((_domains(), "web"))),
]
