"""The automation screens' views, one module per purpose: `pages` (the list, preview, execution log), `editor` (the
rule form), `words` (rules in the reader's language), `common` (permission, lookup)."""

from __future__ import annotations

from pivotdesk.web.automation.views.editor import rule_edit
from pivotdesk.web.automation.views.pages import (
    rule_delete,
    rule_list,
    rule_move,
    rule_preview,
    rule_runs,
    rule_toggle,
)

__all__ = ["rule_delete", "rule_edit", "rule_list", "rule_move", "rule_preview", "rule_runs", "rule_toggle"]
