"""`{{ stored|delivery_error }}`: a stored delivery reason (code, parameters, detail) in the reader's language."""

from __future__ import annotations

from django import template

from pivotdesk.common.delivery_errors import describe

register = template.Library()


@register.filter(name="delivery_error")
def delivery_error(stored: object) -> str:
    """The reason in the active language; free text written before codes existed is shown as it is."""
    return describe(str(stored or ""))
