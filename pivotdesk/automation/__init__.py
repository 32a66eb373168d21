"""Automation: rules, macros, approvals, chains (issue 16)."""
