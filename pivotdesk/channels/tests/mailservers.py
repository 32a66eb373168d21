"""Real mail servers for the email transport tests: Debian dovecot (IMAP) on a loopback port and aiosmtpd (SMTP).

`MailServers` starts dovecot as a subprocess with its own configuration directory (one maildir per address; every
login uses the one test password: a static passdb, because dovecot caches a passwd-file that tests would append
to mid-run) and an aiosmtpd server whose handler is a tiny local delivery agent: every
accepted message is written into the maildir of each recipient known to dovecot, so tests read what our SMTP
sender delivered back over IMAP as the customer. Unknown recipients are refused with 550, which is how tests get a
permanent SMTP failure.
"""

from __future__ import annotations

import contextlib
import grp
import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from imapclient import IMAPClient

PASSWORD = "secret-pass"


def find_dovecot() -> str | None:
    """The dovecot binary (Debian puts it in /usr/sbin, often not on a non-root PATH)."""
    found = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"dovecot exited with {proc.returncode}: {detail}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class Dovecot:
    """A private dovecot: config, maildirs and logs in one temporary directory."""

    binary: str
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pd-dovecot-")))
    port: int = 0
    users: set[str] = field(default_factory=set)
    proc: subprocess.Popen[bytes] | None = None
    mechanisms: str = "plain login"  # "plain login xoauth2": the token is checked as the password (static passdb)
    password: str = PASSWORD

    def __post_init__(self) -> None:
        if os.geteuid() == 0:
            # Dovecot refuses to run its login/internal processes as root.
            self.login_user, self.internal_user = "dovenull", "dovecot"
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            self.login_user = self.internal_user = me
        owner = pwd.getpwnam(self.internal_user)
        self.uid, self.gid = owner.pw_uid, owner.pw_gid
        self.group = grp.getgrgid(self.gid).gr_name

    @property
    def mail_root(self) -> Path:
        return self.root / "mail"

    def start(self) -> None:
        os.chmod(self.root, 0o755)  # noqa: S103 - the login and mail processes must traverse it
        for name in ("run", "state", "mail"):
            (self.root / name).mkdir()
        os.chown(self.mail_root, self.uid, self.gid)
        for attempt in range(5):
            self.port = free_port()
            self._write_config()
            log = self.root / "dovecot.log"
            self.proc = subprocess.Popen(  # noqa: S603 - a fixed binary and our own config file
                [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
                stdout=subprocess.DEVNULL,
                stderr=(self.root / "stderr.log").open("wb"),
            )
            try:
                _wait_for_port(self.port, self.proc, 15.0, log)
                return
            except RuntimeError:
                self.stop()
                if attempt == 4:
                    raise

    def _write_config(self) -> None:
        r = self.root
        (r / "dovecot.conf").write_text(
            f"""
base_dir = {r}/run
state_dir = {r}/state
instance_name = pd-dovecot-{uuid.uuid4().hex[:8]}
log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {self.mechanisms}
auth_failure_delay = 0
default_login_user = {self.login_user}
default_internal_user = {self.internal_user}
mail_location = maildir:{r}/mail/%u
mail_uid = {self.uid}
mail_gid = {self.gid}
first_valid_uid = 0
mail_privileged_group =
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = static
  args = password={self.password}
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={r}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
"""
        )

    def add_user(self, address: str) -> str:
        """Create a mailbox user (the login is the address) with an empty INBOX."""
        address = address.lower()
        if address not in self.users:
            self.users.add(address)
            self.deliver(address, None)
        return address

    def deliver(self, address: str, raw: bytes | None) -> None:
        """Local delivery: write a message into the recipient's maildir INBOX, owned by the mail user."""
        path = self.mail_root / address.lower()
        box = mailbox.Maildir(path, create=True)
        if raw is not None:
            box.add(mailbox.MaildirMessage(raw))
        for dirpath, dirnames, filenames in os.walk(path):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                os.chown(name, self.uid, self.gid)

    def client(self, address: str, password: str | None = None) -> IMAPClient:
        imap = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        imap.login(address, password if password is not None else self.password)
        return imap

    def append(self, address: str, raw: bytes, folder: str = "INBOX") -> None:
        """What a mail arriving in the mailbox looks like to a poller: APPEND over IMAP as the owner."""
        with self.client(address) as imap:
            imap.append(folder, raw)

    def messages(self, address: str, folder: str = "INBOX") -> list[tuple[int, bytes, tuple[bytes, ...]]]:
        """Every (uid, raw, flags) in a folder, read over IMAP as the owner."""
        with self.client(address) as imap:
            imap.select_folder(folder, readonly=True)
            uids = imap.search(["ALL"])
            if not uids:
                return []
            data = imap.fetch(uids, ["BODY.PEEK[]", "FLAGS"])
            return [(uid, data[uid][b"BODY[]"], tuple(data[uid][b"FLAGS"])) for uid in sorted(data)]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class _LocalDelivery:
    """aiosmtpd handler: accept recipients dovecot knows, deliver each message into their maildirs."""

    def __init__(self, dovecot: Dovecot) -> None:
        self.dovecot = dovecot
        self.received: list[Envelope] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() not in self.dovecot.users:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        for rcpt in envelope.rcpt_tos:
            self.dovecot.deliver(rcpt, raw)
        self.received.append(envelope)
        return "250 Message accepted for delivery"


class MailServers:
    """dovecot + aiosmtpd, started together; `smtp_port` and `imap_port` are loopback ports."""

    def __init__(self, binary: str) -> None:
        self.dovecot = Dovecot(binary)
        self.handler = _LocalDelivery(self.dovecot)
        self.controller: Controller | None = None
        self.smtp_port = 0

    @property
    def imap_port(self) -> int:
        return self.dovecot.port

    def start(self) -> MailServers:
        self.dovecot.start()
        self.smtp_port = free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.smtp_port, enable_SMTPUTF8=True, ready_timeout=10
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        self.dovecot.cleanup()

    def mailbox(self, prefix: str) -> str:
        """A fresh address (and dovecot user) for one test, so tests never see each other's mail."""
        return self.dovecot.add_user(f"{prefix}-{uuid.uuid4().hex[:8]}@pivot.test")

    def account_config(self, address: str, **extra: Any) -> dict[str, Any]:
        """ChannelAccount config for a support mailbox on these servers."""
        return {
            "address": address,
            "imap_host": "127.0.0.1",
            "imap_port": self.imap_port,
            "imap_ssl": False,
            "username": address,
            "folder": "INBOX",
            "smtp_host": "127.0.0.1",
            "smtp_port": self.smtp_port,
            "smtp_security": "none",
            "smtp_timeout": 10,
            **extra,
        }
