"""`{% portal_theme workspace as theme %}`: the workspace's portal theme for pages that were not handed one (the
help centre, the surveys' answer pages), and `{% theme_title theme %}` in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from pivotdesk.portal.models import PortalTheme
from pivotdesk.portal.selectors import theme_for

register = template.Library()


@register.simple_tag
def portal_theme(workspace: Any) -> PortalTheme | None:
    """The workspace's theme (an unsaved default when none was set), or None without a workspace."""
    if workspace is None or not getattr(workspace, "pk", None):
        return None
    return theme_for(workspace=workspace)


@register.simple_tag
def theme_title(theme: PortalTheme | None, workspace: Any) -> str:
    """The portal's title in the reader's language, else the workspace's name."""
    if theme is not None:
        if (get_language() or "").lower().startswith("zh") and theme.title_zh:
            return theme.title_zh
        if theme.title:
            return theme.title
    return str(getattr(workspace, "name", "") or "")
