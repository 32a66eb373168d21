"""OAuth2 for Office 365 / Gmail mailboxes against a local peer speaking the real wire format: the admin's
authorization-code flow with PKCE through the agent UI, the refresh token kept encrypted, access tokens refreshed
before IMAP/SMTP use, the provider's refusal (`invalid_grant`) visible on the mailbox; XOAUTH2 checked against
aiosmtpd and Debian dovecot."""

from __future__ import annotations

import datetime as dt
import uuid
from email.message import EmailMessage
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels import mailboxes
from pivotdesk.channels.adapters.email_send import smtp_deliver
from pivotdesk.channels.domain import mail_oauth
from pivotdesk.channels.models import ChannelAccount, MailboxOAuth
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.mail_oauth import MailOAuthError, mail_oauth_access_token
from pivotdesk.channels.services.mail_probe import mailbox_probe
from pivotdesk.channels.tests.mailauth import AuthSMTP, OAuthPeer
from pivotdesk.channels.tests.mailservers import Dovecot, find_dovecot
from pivotdesk.common.time import now

pytestmark = pytest.mark.django_db

DOVECOT_TOKEN = "at-dovecot-accepts-this"


# ---- the pure parts -------------------------------------------------------------------------------------------


def test_pkce_matches_the_rfc_7636_example():
    # RFC 7636, Appendix B
    assert mail_oauth.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    pair = mail_oauth.new_pkce()
    assert 43 <= len(pair.verifier) <= 128 and pair.challenge == mail_oauth.pkce_challenge(pair.verifier)


def test_the_xoauth2_string_is_googles_documented_form():
    # Google for Developers, "OAuth 2.0 Mechanism": the example's initial client response
    assert mail_oauth.xoauth2_base64("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg") == (
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
    )
    with pytest.raises(ValueError):
        mail_oauth.xoauth2_string("a\x01b", "t")


def test_token_answers_are_read_as_rfc_6749_says():
    ok = mail_oauth.read_token_answer(200, {"access_token": "a", "token_type": "Bearer", "expires_in": "3599"})
    assert ok.ok and ok.expires_in == 3599 and ok.refresh_token == ""
    refused = mail_oauth.read_token_answer(400, {"error": "invalid_grant", "error_description": "AADSTS70008"})
    assert refused.error == "invalid_grant" and not refused.ok
    assert mail_oauth.read_token_answer(200, "<html>").error == "bad_response"
    assert mail_oauth.read_token_answer(200, {"access_token": "a", "token_type": "mac"}).error == "bad_response"


def test_the_authorize_url_carries_pkce_and_google_asks_for_offline_access():
    client = mail_oauth.ClientConfig("google", "cid", "", "https://accounts.google.com/o/oauth2/v2/auth", "t", "s")
    query = parse_qs(urlparse(mail_oauth.authorize_url(client, redirect_uri="https://d/cb", state="st",
                                                       challenge="ch")).query)  # fmt: skip
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"] == ["ch"]
    assert query["access_type"] == ["offline"] and query["state"] == ["st"] and query["response_type"] == ["code"]


# ---- the flow against the local peer ----------------------------------------------------------------------------


@pytest.fixture
def peer():
    server = OAuthPeer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(peer):
    server = AuthSMTP(tokens=lambda: peer.access_tokens).start()
    yield server
    server.stop()


def office365_account(workspace, peer, **config):
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name=f"Office 365 {uuid.uuid4().hex[:6]}",
        config={
            "address": "support@contoso.test",
            "preset": "office365",
            "auth_method": "oauth2",
            "oauth_client_id": peer.client_id,
            "oauth_authorize_url": f"{peer.base}/authorize",
            "oauth_token_url": f"{peer.base}/token",
            **config,
        },
        secrets={"oauth_client_secret": peer.client_secret},
    )


def sign_in(client, account, peer):
    """What the admin's browser does: start on the mailbox form, sign in at the provider, come back."""
    start = client.post(f"/settings/channels/{account.pk}/oauth/start/")
    assert start.status_code == 302, start.content[:300]
    authorize = start["Location"]
    assert authorize.startswith(f"{peer.base}/authorize?")
    query = parse_qs(urlparse(authorize).query)
    assert query["client_id"] == [peer.client_id] and query["code_challenge_method"] == ["S256"]
    assert query["login_hint"] == ["support@contoso.test"]
    at_provider = httpx.get(authorize, follow_redirects=False, timeout=5)
    assert at_provider.status_code == 302
    back = urlparse(at_provider.headers["location"])
    assert back.path == "/channels/oauth/callback/"
    return client.get(f"{back.path}?{back.query}")


def test_the_admin_signs_in_and_the_refresh_token_is_kept_encrypted(client_as, admin_agent, workspace, peer):
    account = office365_account(workspace, peer)
    client = client_as(admin_agent)
    # when the admin signs in with Microsoft (the local peer)
    response = sign_in(client, account, peer)
    # then they land back on the mailbox, the code was exchanged with the PKCE verifier
    assert response.status_code == 302 and response["Location"] == f"/settings/channels/{account.pk}/"
    exchange = peer.requests[-1]
    assert exchange["grant_type"] == "authorization_code" and exchange["code_verifier"]
    grant = MailboxOAuth.objects.get(account=account)
    assert grant.status == "connected" and grant.connected_by == admin_agent and grant.provider == "microsoft"
    refresh = str(grant.tokens["refresh_token"])
    assert refresh in peer.refresh_tokens
    assert refresh not in grant.token_secret  # encrypted at rest
    # and the mailbox page says so without showing any token
    page = client.get(f"/settings/channels/{account.pk}/").content.decode()
    assert "oauth-start" in page and refresh not in page and str(grant.tokens["access_token"]) not in page
    assert peer.client_secret not in page


def test_a_replayed_or_forged_state_is_refused_readably(client_as, admin_agent, workspace, peer):
    account = office365_account(workspace, peer)
    client = client_as(admin_agent)
    assert sign_in(client, account, peer).status_code == 302
    # the same callback again (state is single use), and one with a state this session never started
    forged = client.get("/channels/oauth/callback/?code=abc&state=not-mine", follow=True)
    assert forged.redirect_chain[-1] == ("/settings/channels/", 302)  # back to the channels, saying why
    assert "start again" in forged.content.decode()


def test_a_refused_consent_is_kept_on_the_mailbox(client_as, admin_agent, workspace, peer):
    account = office365_account(workspace, peer)
    client = client_as(admin_agent)
    start = client.post(f"/settings/channels/{account.pk}/oauth/start/")
    state = parse_qs(urlparse(start["Location"]).query)["state"][0]
    response = client.get(f"/channels/oauth/callback/?error=access_denied&state={state}")
    assert response.status_code == 302
    grant = MailboxOAuth.objects.get(account=account)
    assert grant.status == "failed" and grant.error_code == "access_denied"
    page = client.get(f"/settings/channels/{account.pk}/").content.decode()
    assert 'id="oauth-error"' in page and "cancelled or refused" in page


def connected(account, peer, *, expired: bool) -> MailboxOAuth:
    issued = peer._issue()
    grant = MailboxOAuth(workspace_id=account.workspace_id, account=account, provider="microsoft")
    grant.set_tokens({"refresh_token": issued["refresh_token"], "access_token": issued["access_token"]})
    grant.access_expires_at = now() - dt.timedelta(minutes=5) if expired else now() + dt.timedelta(minutes=50)
    grant.save()
    return grant


def test_an_expired_access_token_is_refreshed_and_a_revoked_grant_is_named(workspace, peer):
    account = office365_account(workspace, peer)
    grant = connected(account, peer, expired=True)
    old_access = str(grant.tokens["access_token"])
    # when the poller needs a token
    token = mail_oauth_access_token(actor=Actor.system("channel"), account=account)
    # then it was refreshed at the token endpoint (refresh_token grant) and the rotated refresh token kept
    assert token != old_access and token in peer.access_tokens
    assert peer.requests[-1]["grant_type"] == "refresh_token"
    grant.refresh_from_db()
    assert grant.tokens["refresh_token"] in peer.refresh_tokens and grant.refreshed_at is not None
    # a fresh token is reused without asking again
    calls = len(peer.requests)
    assert mail_oauth_access_token(actor=Actor.system("channel"), account=account) == token
    assert len(peer.requests) == calls
    # when the provider revokes the grant and the token expires
    peer.revoke_all()
    MailboxOAuth.objects.filter(pk=grant.pk).update(access_expires_at=now())
    with pytest.raises(MailOAuthError) as refused:
        mail_oauth_access_token(actor=Actor.system("channel"), account=account)
    assert refused.value.code == "invalid_grant" and not refused.value.transient
    grant.refresh_from_db()
    assert grant.status == "failed" and grant.error_code == "invalid_grant"


def test_a_wrong_client_secret_is_invalid_client(workspace, peer):
    account = office365_account(workspace, peer)
    connected(account, peer, expired=True)
    account.set_secrets({"oauth_client_secret": "wrong"})
    account.save()
    with pytest.raises(MailOAuthError) as refused:
        mail_oauth_access_token(actor=Actor.system("channel"), account=account)
    assert refused.value.code == "invalid_client"


def test_smtp_signs_in_with_xoauth2_and_sends(workspace, peer, smtp):
    # given an Office 365 mailbox whose access token has expired, on an SMTP server that takes XOAUTH2
    account = office365_account(
        workspace, peer, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none", smtp_timeout=10
    )
    connected(account, peer, expired=True)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "support@contoso.test", "wang@example.cn", "Re: 退款"
    msg.set_content("已处理")
    # when a reply is sent
    smtp_deliver(account=account, msg=msg, sender="support@contoso.test", recipients=["wang@example.cn"])
    # then the sender refreshed the token and signed in with it over XOAUTH2
    assert smtp.logins == [("XOAUTH2", "support@contoso.test")]
    assert smtp.attempts[-1][2] in peer.access_tokens
    assert len(smtp.messages) == 1


def test_a_refused_xoauth2_token_is_an_authentication_failure(admin_agent, workspace, peer, smtp):
    account = office365_account(workspace, peer, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none")
    connected(account, peer, expired=False)
    peer.access_tokens.clear()  # the server no longer accepts the (unexpired) token
    report = mailbox_probe(
        actor=Actor.for_agent(admin_agent), workspace=workspace, config=account.config, account=account
    )
    auth = next(s for s in report.steps if s.key == "smtp.auth")
    assert auth.code == "auth_failed" and auth.params["server"].startswith("535")


@pytest.fixture(scope="module")
def oauth_dovecot():
    binary = find_dovecot()
    if binary is None:
        pytest.skip("dovecot not found (install Debian's dovecot-imapd; .ci/run does): real-IMAP tests skipped")
    server = Dovecot(binary, mechanisms="plain login xoauth2", password=DOVECOT_TOKEN)
    server.start()
    yield server
    server.cleanup()


def test_imap_signs_in_with_xoauth2_on_dovecot_after_a_refresh(admin_agent, workspace, peer, smtp, oauth_dovecot):
    # given a mailbox on dovecot (XOAUTH2; it accepts the token the peer issues next) with an expired token
    address = oauth_dovecot.add_user(f"o365-{uuid.uuid4().hex[:8]}@pivot.test")
    oauth_dovecot.append(address, b"Subject: hello\r\nMessage-ID: <x1@customer.test>\r\n\r\nhi\r\n")
    account = office365_account(
        workspace,
        peer,
        address=address,
        username=address,
        imap_host="127.0.0.1",
        imap_port=oauth_dovecot.port,
        imap_ssl=False,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security="none",
    )
    connected(account, peer, expired=True)
    peer.next_access_token = DOVECOT_TOKEN
    # when the connection test runs, then IMAP and SMTP both sign in with XOAUTH2
    report = mailbox_probe(
        actor=Actor.for_agent(admin_agent), workspace=workspace, config=account.config, account=account
    )
    assert report.ok, [(s.key, s.code, s.params) for s in report.steps]
    assert next(s for s in report.steps if s.key == "imap.inbox").params["count"] == 1
    # and the poller fetches the mail with the same token
    account = ChannelAccount.objects.get(pk=account.pk)
    result = mailboxes.mailbox_poll(account=account)
    assert not result.error, result.error
    assert result.stored == 1


def test_a_poll_with_a_revoked_grant_records_the_reason(workspace, peer):
    account = office365_account(workspace, peer, imap_host="127.0.0.1", imap_port=1, imap_ssl=False)
    connected(account, peer, expired=True)
    peer.revoke_all()
    result = mailboxes.mailbox_poll(account=account)
    assert "invalid_grant" in result.error
    account.refresh_from_db()
    assert "invalid_grant" in account.last_error
