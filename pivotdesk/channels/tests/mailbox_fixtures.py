"""Mailboxes for tests elsewhere (the permission matrix): an Office 365 mailbox, and one with a live OAuth2 grant."""

from __future__ import annotations

import datetime as dt
import uuid

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.channels.models import ChannelAccount, MailboxOAuth
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.common.time import now


def oauth_mailbox(workspace: Workspace) -> ChannelAccount:
    """An Office 365 mailbox (OAuth2) with a client id; its endpoints are the defaults (never called in a test)."""
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name=f"Office 365 {uuid.uuid4().hex[:6]}",
        config={
            "address": "support@contoso.test",
            "preset": "office365",
            "auth_method": "oauth2",
            "oauth_client_id": "pd-client",
        },
    )


def connected_mailbox(workspace: Workspace) -> ChannelAccount:
    """An Office 365 mailbox whose access token is still valid (no token request is needed)."""
    account = oauth_mailbox(workspace)
    grant = MailboxOAuth(workspace=workspace, account=account, provider="microsoft")
    grant.set_tokens({"refresh_token": "rt-fixture", "access_token": "at-fixture"})
    grant.access_expires_at = now() + dt.timedelta(hours=1)
    grant.save()
    return account
