"""The automation screens' views, one module per purpose: `pages` (the list, preview, execution log), `editor` (the
rule form), `flows` (approval flows: list and editor), `chain_templates` (chain templates: list and editor),
`words` (rules in the reader's language), `common` (permission, lookup)."""

from __future__ import annotations

from pivotdesk.web.automation.views.chain_templates import chain_template_edit, chain_template_list
from pivotdesk.web.automation.views.editor import rule_edit
from pivotdesk.web.automation.views.flows import flow_edit, flow_list
from pivotdesk.web.automation.views.pages import (
    rule_delete,
    rule_list,
    rule_move,
    rule_preview,
    rule_runs,
    rule_toggle,
)

__all__ = [
    "chain_template_edit",
    "chain_template_list",
    "flow_edit",
    "flow_list",
    "rule_delete",
    "rule_edit",
    "rule_list",
    "rule_move",
    "rule_preview",
    "rule_runs",
    "rule_toggle",
]
