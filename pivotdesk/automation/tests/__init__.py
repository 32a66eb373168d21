"""Automation: tests."""
