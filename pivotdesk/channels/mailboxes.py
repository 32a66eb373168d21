"""Polling support mailboxes over IMAP: every new mail is stored raw, then processed into a ticket message.

A mailbox remembers where it stopped as (UIDVALIDITY, last UID) in its config, so mail a person already read in
their own client is still picked up. Each mail is stored before anything else happens; the cursor moves only after
the raw copies are stored, and a mail seen twice (a re-poll after a crash, a reset UIDVALIDITY, two pollers) is
recognised by its Message-ID and stored once. After processing, mails are flagged \\Seen or moved to the
configured processed folder. `mailbox_idle` keeps one connection open with IMAP IDLE where the server offers it.

Config keys: imap_host, imap_port, imap_ssl, username, folder (INBOX), address, processed_folder (optional),
poll_limit (mails per poll, 1000), auth_method (password | app_password | oauth2); secrets: password (or
imap_password). With OAuth2 the mailbox signs in with XOAUTH2 and an access token from its grant, refreshed when it
has expired (`services/mail_oauth.py`); a refused refresh is the poll's error.
"""

from __future__ import annotations

import email.parser
import email.policy
import imaplib
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import close_old_connections, connection
from imapclient import IMAPClient, imap4, tls
from imapclient.exceptions import IMAPClientError

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import ChannelAccount, ChannelKind, InboundPayload
from pivotdesk.channels.services.accounts import channel_account_merge_config, channel_account_record_poll
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.services.mail_oauth import MailOAuthError, mail_oauth_access_token, oauth_user
from pivotdesk.common import egress

log = logging.getLogger(__name__)

BATCH = 100
SEEN = b"\\Seen"
IDLE_RENEW_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE before the server's 30-minute inactivity timeout
# socket timeouts are OSErrors; the egress guard's refusals are its own (terse, the same for open and closed ports)
IMAP_ERRORS = (IMAPClientError, OSError, ssl.SSLError, EOFError, egress.EgressRefused, egress.EgressUnreachable)
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


@dataclass
class PollResult:
    """What one poll of one mailbox did."""

    account_id: int
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    error: str = ""


class MailboxNotConfigured(Exception):
    pass


POLL_ERRORS = (*IMAP_ERRORS, MailboxNotConfigured, MailOAuthError)


def pollable_account_ids() -> list[int]:
    """Active email channels with an IMAP server configured."""
    return [
        a.pk
        for a in ChannelAccount.objects.filter(kind=ChannelKind.EMAIL, active=True).order_by("pk").only("config")
        if a.config.get("imap_host")
    ]


class _GuardedIMAP4(imap4.IMAP4WithTimeout):  # type: ignore[misc]  # imapclient ships no types
    """Plain IMAP (or STARTTLS later, which keeps `self.host` for the certificate) to the checked address."""

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return egress.guarded_connection(
            self.host, self.port, timeout=timeout if timeout is not None else self._timeout
        )


class _GuardedIMAP4TLS(tls.IMAP4_TLS):  # type: ignore[misc]
    """IMAP over TLS to the checked address; SNI and the certificate check use the host name."""

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = egress.guarded_connection(
            self.host, self.port, timeout=timeout if timeout is not None else self._timeout
        )
        wrapped: socket.socket = tls.wrap_socket(sock, self.ssl_context, self.host)
        return wrapped


class GuardedIMAPClient(IMAPClient):  # type: ignore[misc]
    """An IMAPClient whose connection passes the egress guard (`pivotdesk.common.egress.guarded_connection`)."""

    def _create_IMAP4(self) -> imaplib.IMAP4:
        connect_timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            return _GuardedIMAP4TLS(self.host, self.port, self.ssl_context, connect_timeout)
        return _GuardedIMAP4(self.host, self.port, connect_timeout)


def imap_connect(account: ChannelAccount, *, timeout: float = 60.0) -> IMAPClient:
    """A logged-in IMAP connection for a mailbox (TLS unless `imap_ssl` is false)."""
    config = account.config
    host = str(config.get("imap_host", ""))
    if not host:
        raise MailboxNotConfigured(f"The mailbox '{account.name}' has no IMAP host.")
    use_ssl = bool(config.get("imap_ssl", True))
    port = int(config.get("imap_port") or (993 if use_ssl else 143))
    token = ""
    if config.get("auth_method") == "oauth2":  # before connecting: no connection is held during the HTTP call
        token = mail_oauth_access_token(actor=Actor.system("channel"), account=account)
    client = GuardedIMAPClient(host, port=port, ssl=use_ssl, timeout=float(config.get("imap_timeout", timeout)))
    try:
        if not use_ssl and config.get("imap_starttls") and client.has_capability("STARTTLS"):
            client.starttls()
        if token:
            client.oauth2_login(oauth_user(account), token)
        else:
            secrets = account.secrets
            password = str(secrets.get("imap_password", secrets.get("password", "")) or "")
            client.login(str(config.get("username") or config.get("address", "")), password)
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone; closing must never raise
        try:
            client.shutdown()
        except Exception:
            log.debug("IMAP shutdown failed", exc_info=True)


def _message_id(raw: bytes) -> str:
    try:
        value = _HEADERS.parsebytes(raw[:65536]).get("Message-ID", "")
    except Exception:  # a header block too broken to read has no usable id: fall back to the UID key
        return ""
    value = " ".join(str(value).split())
    return value if value.startswith("<") and value.endswith(">") and len(value) <= 250 else ""


def _dedupe_key(raw: bytes, account: ChannelAccount, uidvalidity: int, uid: int) -> str:
    mid = _message_id(raw)
    return f"email:{mid}" if mid else f"imap:{account.pk}:{uidvalidity}:{uid}"


def _already_stored(account: ChannelAccount, key: str) -> bool:
    return InboundPayload.objects.filter(workspace_id=account.workspace_id, dedupe_key=key).exists()


def _new_uids(client: IMAPClient, last_uid: int) -> list[int]:
    found = client.search(["UID", f"{last_uid + 1}:*", "NOT", "DELETED"])
    # "n:*" always matches the highest UID, even when it is below n: keep only the really new ones.
    return sorted(uid for uid in found if uid > last_uid)


def _file_away(client: IMAPClient, uids: list[int], processed_folder: str) -> None:
    if not uids:
        return
    if not processed_folder:
        client.add_flags(uids, [SEEN], silent=True)
        return
    if not client.folder_exists(processed_folder):
        client.create_folder(processed_folder)
    client.add_flags(uids, [SEEN], silent=True)
    if client.has_capability("MOVE"):
        client.move(uids, processed_folder)
    else:
        client.copy(uids, processed_folder)
        client.delete_messages(uids, silent=True)
        client.uid_expunge(uids) if client.has_capability("UIDPLUS") else client.expunge()


def mailbox_poll(*, account: ChannelAccount, client: IMAPClient | None = None, limit: int | None = None) -> PollResult:
    """Fetch the mailbox's new mail, store each raw message, process it in arrival order and file it away.
    Errors (server down, bad password) are recorded on the account, never raised: the next poll tries again."""
    result = PollResult(account_id=account.pk)
    lock = f"channels:mailbox-poll:{account.pk}"
    if not cache.add(lock, 1, timeout=600):  # another poll of this mailbox is running (beat and the IDLE worker)
        result.error = "A poll of this mailbox is already running."
        return result
    own = client is None
    try:
        if client is None:
            client = imap_connect(account)
        _poll(account, client, result, limit if limit is not None else int(account.config.get("poll_limit", 1000)))
    except POLL_ERRORS as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        log.warning("polling mailbox %s failed: %s", account.pk, result.error)
    finally:
        if own and client is not None:
            _close(client)
        cache.delete(lock)
    channel_account_record_poll(actor=Actor.system("channel"), account=account, error=result.error)
    return result


def _poll(account: ChannelAccount, client: IMAPClient, result: PollResult, limit: int) -> None:
    config = account.config
    folder = str(config.get("folder") or "INBOX")
    selected = client.select_folder(folder)
    uidvalidity = int(selected.get(b"UIDVALIDITY", 0))
    last_uid = int(config.get("last_uid", 0)) if int(config.get("imap_uidvalidity", 0)) == uidvalidity else 0
    uids = _new_uids(client, last_uid)[: max(limit, 0)]
    for start in range(0, len(uids), BATCH):
        batch = uids[start : start + BATCH]
        fetched = client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
        stored: list[InboundPayload] = []
        for uid in batch:
            item = fetched.get(uid)
            raw = item.get(b"BODY[]") if item else None
            if raw is None:  # expunged by someone else meanwhile
                continue
            result.fetched += 1
            key = _dedupe_key(raw, account, uidvalidity, uid)
            if _already_stored(account, key):
                result.duplicates += 1
                continue
            stored.append(
                inbound_store(
                    actor=Actor.system("channel"),
                    workspace=account.workspace,
                    channel=ChannelKind.EMAIL,
                    raw=bytes(raw),
                    content_type="message/rfc822",
                    meta=_meta(folder, uidvalidity, uid, item),
                    account=account,
                    dedupe_key=key,
                )
            )
        result.stored += len(stored)
        channel_account_merge_config(
            actor=Actor.system("channel"),
            account=account,
            values={"imap_uidvalidity": uidvalidity, "last_uid": batch[-1]},
        )
        for payload in stored:  # in arrival order, so a reply never overtakes the mail it answers
            inbound_process(actor=Actor.system("channel"), payload=payload)
        _file_away(client, batch, str(config.get("processed_folder", "")))


def _meta(folder: str, uidvalidity: int, uid: int, item: dict[bytes, Any]) -> dict[str, Any]:
    internal = item.get(b"INTERNALDATE")
    return {
        "source": "imap",
        "folder": folder,
        "uidvalidity": uidvalidity,
        "uid": uid,
        "internal_date": internal.isoformat() if internal is not None else "",
    }


def _refresh_connections() -> None:
    """A long-running worker drops stale database connections between rounds — but never inside an atomic block
    (a test's transaction, or a caller's), where Django would close the connection it is using."""
    if not connection.in_atomic_block:
        close_old_connections()


def mailbox_idle(
    *,
    account_id: int,
    stop: threading.Event,
    check_seconds: float = 1.0,
    poll_every: float = 300.0,
    retry_seconds: float = 30.0,
) -> None:
    """Keep a mailbox open and process mail as it arrives: IMAP IDLE where the server supports it, otherwise a
    poll every `poll_every` seconds on the open connection. Reconnects after errors until `stop` is set."""
    while not stop.is_set():
        _refresh_connections()
        account = ChannelAccount.objects.filter(pk=account_id, active=True).select_related("workspace").first()
        if account is None:
            return
        try:
            client = imap_connect(account)
        except POLL_ERRORS as exc:
            channel_account_record_poll(
                actor=Actor.system("channel"), account=account, error=f"{type(exc).__name__}: {exc}"
            )
            stop.wait(retry_seconds)
            continue
        try:
            _idle_session(account, client, stop, check_seconds, poll_every)
        except IMAP_ERRORS as exc:
            channel_account_record_poll(
                actor=Actor.system("channel"), account=account, error=f"{type(exc).__name__}: {exc}"
            )
            stop.wait(retry_seconds)
        finally:
            _close(client)


def _idle_session(
    account: ChannelAccount, client: IMAPClient, stop: threading.Event, check_seconds: float, poll_every: float
) -> None:
    can_idle = client.has_capability("IDLE")
    while not stop.is_set():
        account.refresh_from_db()
        result = mailbox_poll(account=account, client=client)
        if result.error and not result.error.startswith("A poll of this mailbox"):
            raise OSError(result.error)
        _refresh_connections()
        if not can_idle:
            stop.wait(poll_every)
            continue
        client.idle()
        started = time.monotonic()
        try:
            while not stop.is_set() and time.monotonic() - started < min(IDLE_RENEW_SECONDS, poll_every):
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in client.idle_check(check_seconds)):
                    break
        finally:
            client.idle_done()
