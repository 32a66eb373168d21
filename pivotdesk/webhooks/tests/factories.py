"""Factories for webhooks: endpoints built through the service, so the secret and validation are real."""

from __future__ import annotations

from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.webhooks.models import WebhookEndpoint
from pivotdesk.webhooks.services import webhook_endpoint_create


def make_endpoint(*, workspace: Workspace, url: str = "https://example.com/hook", **kwargs: Any) -> WebhookEndpoint:
    """An endpoint created by the system actor."""
    return webhook_endpoint_create(workspace=workspace, url=url, actor=Actor.system("tests"), **kwargs)
