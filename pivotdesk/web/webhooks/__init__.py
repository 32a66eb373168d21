"""Webhook screens: the workspace's outgoing webhook endpoints, their signing secrets (shown once) and rotation."""
