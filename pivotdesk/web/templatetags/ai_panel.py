"""`{% load ai_panel %}`: the AI panel's helpers, implemented in `pivotdesk.web.ai.templatetags`.

Django finds template tag libraries only in an app's top-level `templatetags` package, so each domain's library is
re-exported here under its load name."""

from __future__ import annotations

from pivotdesk.web.ai.templatetags import register

__all__ = ["register"]
