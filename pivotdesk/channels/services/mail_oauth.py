"""OAuth2 for mailboxes (issue 18): the authorization-code flow with PKCE for Office 365 and Gmail, the refresh
token kept encrypted (`MailboxOAuth`), access tokens refreshed before IMAP/SMTP use, failures recorded on the grant
with the provider's error code (shown on the mailbox).

The client (id, secret, endpoints, scopes) is looked up per mailbox, then per workspace, then in the settings or
environment (`PIVOTDESK_OAUTH_MICROSOFT_CLIENT_ID`, `…_CLIENT_SECRET`, `…_AUTHORIZE_URL`, `…_TOKEN_URL`,
`…_SCOPES`; the same with `GOOGLE`), the endpoints defaulting to the providers' real ones. Every token request goes
through the egress guard, with a short timeout, and never inside a database transaction.
"""

from __future__ import annotations

import json
import logging
import os
import secrets as random_secrets
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.channels.domain import mail_oauth, mail_presets
from pivotdesk.channels.models import ChannelAccount, MailboxOAuth, OAuthStatus
from pivotdesk.common import egress
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.common.time import now

log = logging.getLogger(__name__)

TOKEN_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_TOKEN_BODY = 64 * 1024
# Errors worth trying again later (the provider or the network); the rest need an admin to sign in again.
TRANSIENT = frozenset({"unreachable", "bad_response", "temporarily_unavailable", "server_error"})


class MailOAuthError(Exception):
    """A token could not be had; `code` is the provider's error (`invalid_grant`) or ours (`unreachable`)."""

    def __init__(self, code: str, description: str = "") -> None:
        super().__init__(f"OAuth2: {code}" + (f" ({description[:200]})" if description else ""))
        self.code = code
        self.description = description

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT


def provider_of(account: ChannelAccount) -> str:
    """The OAuth2 provider of a mailbox: configured, else its preset's, else guessed from its server."""
    config = account.config
    provider = str(config.get("oauth_provider") or "")
    if provider in mail_oauth.PROVIDERS:
        return provider
    preset = mail_presets.preset_for(str(config.get("preset") or "")) or mail_presets.preset_matching(config)
    return preset.oauth_provider if preset and preset.oauth_provider else ""


def _setting(provider: str, name: str) -> str:
    key = f"PIVOTDESK_OAUTH_{provider.upper()}_{name}"
    return str(getattr(settings, key, "") or os.environ.get(key, "") or "")


def client_config(account: ChannelAccount, provider: str) -> mail_oauth.ClientConfig:
    """The OAuth2 client for this mailbox: its own settings (`oauth_client_id`, `oauth_authorize_url`,
    `oauth_token_url`, `oauth_scopes`; secret `oauth_client_secret`), then the workspace's
    (`settings.mail_oauth.<provider>`), then the installation's, then the providers' defaults."""
    config = account.config
    ws = dict((account.workspace.settings or {}).get("mail_oauth", {}) or {}).get(provider, {}) or {}
    ws = ws if isinstance(ws, dict) else {}
    defaults = mail_oauth.DEFAULT_ENDPOINTS.get(provider, {})

    def pick(name: str) -> str:
        return str(
            config.get(f"oauth_{name}") or ws.get(name) or _setting(provider, name.upper()) or defaults.get(name, "")
        ).strip()

    secret = str(account.secrets.get("oauth_client_secret") or ws.get("client_secret") or "")
    return mail_oauth.ClientConfig(
        provider=provider,
        client_id=pick("client_id"),
        client_secret=secret or _setting(provider, "CLIENT_SECRET"),
        authorize_url=pick("authorize_url"),
        token_url=pick("token_url"),
        scopes=pick("scopes"),
    )


def _configured_client(account: ChannelAccount) -> mail_oauth.ClientConfig:
    provider = provider_of(account)
    if not provider:
        raise ValidationFailed(
            gettext("Choose Office 365 or Gmail (or set oauth_provider) to sign in with OAuth2."),
            code="oauth_no_provider",
        )
    client = client_config(account, provider)
    if not client.client_id:
        raise ValidationFailed(
            gettext(
                "No OAuth2 client id is configured for %(provider)s: set it on the mailbox (oauth_client_id) or ask "
                "the operator to set PIVOTDESK_OAUTH_%(upper)s_CLIENT_ID."
            )
            % {"provider": provider, "upper": provider.upper()},
            code="oauth_not_configured",
        )
    return client


def mail_oauth_start(*, actor: Actor, account: ChannelAccount, redirect_uri: str) -> tuple[str, dict[str, Any]]:
    """Begin signing a mailbox in: (the provider's authorize URL, the pending flow to keep in the admin's session:
    state, PKCE verifier, account, provider). Nothing is written until the provider sends the admin back."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=account.workspace_id)
    client = _configured_client(account)
    pkce = mail_oauth.new_pkce()
    state = random_secrets.token_urlsafe(24)
    login_hint = str(account.config.get("username") or account.config.get("address") or "")
    url = mail_oauth.authorize_url(
        client, redirect_uri=redirect_uri, state=state, challenge=pkce.challenge, login_hint=login_hint
    )
    flow = {
        "state": state,
        "verifier": pkce.verifier,
        "account_id": account.pk,
        "provider": client.provider,
        "redirect_uri": redirect_uri,
        "started": now().timestamp(),
    }
    return url, flow


def _token_request(client: mail_oauth.ClientConfig, data: dict[str, str]) -> mail_oauth.TokenAnswer:
    """POST to the token endpoint through the egress guard (no transaction is open during the call)."""
    form = {"client_id": client.client_id, **data}
    if client.client_secret:
        form["client_secret"] = client.client_secret
    try:
        with egress.guarded_client(timeout=TOKEN_TIMEOUT) as http:
            response = http.post(client.token_url, data=form, headers={"Accept": "application/json"})
    except egress.EgressRefused as exc:
        raise MailOAuthError("egress_refused", str(exc)) from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise MailOAuthError("unreachable", type(exc).__name__) from exc
    try:
        body = json.loads(response.content[:MAX_TOKEN_BODY]) if len(response.content) <= MAX_TOKEN_BODY else None
    except ValueError:
        body = None
    if response.status_code >= 500 and not (isinstance(body, dict) and body.get("error")):
        return mail_oauth.TokenAnswer(error="server_error")
    return mail_oauth.read_token_answer(response.status_code, body)


def _exchange(
    client: mail_oauth.ClientConfig, *, code: str, code_verifier: str, redirect_uri: str
) -> mail_oauth.TokenAnswer:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier:
        data["code_verifier"] = code_verifier
    try:
        return _token_request(client, data)
    except MailOAuthError as exc:
        return mail_oauth.TokenAnswer(error=exc.code)


def _record_failure(account: ChannelAccount, provider: str, code: str) -> MailboxOAuth:
    with transaction.atomic():
        grant, _ = MailboxOAuth.objects.select_for_update().get_or_create(
            account=account, defaults={"workspace_id": account.workspace_id, "provider": provider}
        )
        grant.status = OAuthStatus.FAILED
        grant.error_code = code[:64]
        grant.error_at = now()
        grant.save(update_fields=["status", "error_code", "error_at", "updated_at"])
    return grant


def mail_oauth_complete(
    *, actor: Actor, account: ChannelAccount, code: str, code_verifier: str, redirect_uri: str, error: str = ""
) -> MailboxOAuth:
    """The provider sent the admin back with a code (or an `error`, e.g. access_denied): exchange the code (with the
    PKCE verifier) for tokens and keep the refresh token, encrypted. A refusal, the provider's or the token
    endpoint's, is recorded on the grant (status failed, the provider's error code), which is returned either way."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=account.workspace_id)
    client = _configured_client(account)
    issued = now()
    if error or not code or len(code) > 4096:
        answer = mail_oauth.TokenAnswer(error=(error or "invalid_request")[:64])
    else:
        answer = _exchange(client, code=code, code_verifier=code_verifier, redirect_uri=redirect_uri)
    if answer.ok and not answer.refresh_token:
        answer = mail_oauth.TokenAnswer(error="no_refresh_token")
    if not answer.ok:
        return _record_failure(account, client.provider, answer.error)
    with transaction.atomic():
        grant, _ = MailboxOAuth.objects.select_for_update().get_or_create(
            account=account, defaults={"workspace_id": account.workspace_id, "provider": client.provider}
        )
        grant.provider = client.provider
        grant.set_tokens({"refresh_token": answer.refresh_token, "access_token": answer.access_token})
        grant.access_expires_at = mail_oauth.expires_at(issued, answer.expires_in)
        grant.scope = answer.scope
        grant.status = OAuthStatus.CONNECTED
        grant.error_code = ""
        grant.error_at = None
        grant.connected_by = actor.agent
        grant.connected_at = issued
        grant.refreshed_at = issued
        grant.save()
        if account.config.get("auth_method") != mail_presets.AUTH_OAUTH2:
            config = {
                **ChannelAccount.objects.select_for_update().get(pk=account.pk).config,
                "auth_method": mail_presets.AUTH_OAUTH2,
            }
            ChannelAccount.objects.filter(pk=account.pk).update(config=config)
            account.config = config
    return grant


def mail_oauth_access_token(*, actor: Actor, account: ChannelAccount) -> str:
    """A valid access token for the mailbox's IMAP/SMTP sign-in, refreshed at the token endpoint when it has
    expired (or is about to). Raises MailOAuthError with the provider's code; the failure is kept on the grant."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=account.workspace_id)
    grant = MailboxOAuth.objects.filter(account=account).first()
    if grant is None:
        raise MailOAuthError("not_connected")
    tokens = grant.tokens
    access = str(tokens.get("access_token") or "")
    if access and not mail_oauth.needs_refresh(grant.access_expires_at, now()):
        return access
    refresh = str(tokens.get("refresh_token") or "")
    if not refresh:
        raise MailOAuthError("no_refresh_token")
    client = client_config(account, grant.provider)
    if not client.client_id:
        raise MailOAuthError("not_configured")
    issued = now()
    try:
        answer = _token_request(client, {"grant_type": "refresh_token", "refresh_token": refresh})
    except MailOAuthError as exc:
        answer = mail_oauth.TokenAnswer(error=exc.code, error_description=exc.description)
    if not answer.ok:
        _record_failure(account, grant.provider, answer.error)
        log.warning("mailbox %s: OAuth2 refresh failed: %s", account.pk, answer.error)
        raise MailOAuthError(answer.error, answer.error_description)
    with transaction.atomic():
        locked = MailboxOAuth.objects.select_for_update().get(pk=grant.pk)
        # A provider that rotates refresh tokens sends a new one; one that does not keeps the old one valid.
        locked.set_tokens({"refresh_token": answer.refresh_token or refresh, "access_token": answer.access_token})
        locked.access_expires_at = mail_oauth.expires_at(issued, answer.expires_in)
        locked.status = OAuthStatus.CONNECTED
        locked.error_code = ""
        locked.error_at = None
        locked.refreshed_at = issued
        if answer.scope:
            locked.scope = answer.scope
        locked.save()
    return answer.access_token


def mail_oauth_disconnect(*, actor: Actor, account: ChannelAccount) -> None:
    """Forget the mailbox's OAuth2 grant (its tokens); the mailbox stops signing in until someone signs in again."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=account.workspace_id)
    MailboxOAuth.objects.filter(account=account).delete()


def oauth_user(account: ChannelAccount, *, smtp: bool = False) -> str:
    """The mailbox user the token signs in as (XOAUTH2 `user=`)."""
    config = account.config
    if smtp and config.get("smtp_username"):
        return str(config["smtp_username"])
    return str(config.get("username") or config.get("address") or "")
