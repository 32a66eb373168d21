"""Automation services: facts, actions, rules (triggers and time rules), macros, approvals, chains."""
