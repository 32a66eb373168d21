"""`{% load sla_tags %}`: the SLA badges, implemented in `pivotdesk.web.sla.templatetags`.

Django finds template tag libraries only in an app's top-level `templatetags` package, so each domain's library is
re-exported here under its load name."""

from __future__ import annotations

from pivotdesk.web.sla.templatetags import register

__all__ = ["register"]
