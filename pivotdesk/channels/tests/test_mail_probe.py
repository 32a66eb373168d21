"""The mailbox connection test against real servers on loopback: Debian dovecot (IMAP) and aiosmtpd with AUTH
(SMTP). Each failure is named for what it is — sign-in refused, TLS, refused port, silence, DNS, the egress guard —
and every test is kept with who ran it."""

from __future__ import annotations

import socket
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.channels import mail_texts
from pivotdesk.channels.models import MailboxCheck
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.mail_probe import mailbox_probe
from pivotdesk.channels.tests.mailauth import SMTP_PASSWORD, SMTP_USER, AuthSMTP
from pivotdesk.channels.tests.mailservers import PASSWORD, Dovecot, find_dovecot, free_port
from pivotdesk.common.errors import PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def dovecot():
    binary = find_dovecot()
    if binary is None:
        pytest.skip("dovecot not found (install Debian's dovecot-imapd; .ci/run does): real-IMAP tests skipped")
    server = Dovecot(binary)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def smtp():
    server = AuthSMTP().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_limits():
    """The probe's rate limit counts in the shared cache: every test starts from zero."""
    for alias in django_settings.CACHES:
        caches[alias].clear()


@pytest.fixture
def mailbox(dovecot):
    return dovecot.add_user(f"support-{uuid.uuid4().hex[:8]}@pivot.test")


def config_for(dovecot, smtp, address, **extra):
    return {
        "address": address,
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_ssl": False,
        "username": address,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "smtp_username": SMTP_USER,
        **extra,
    }


def by_step(report):
    return {s.key: s for s in report.steps}


@pytest.fixture
def silent_port():
    """A port that accepts connections (the kernel's backlog) and never says a word."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def test_good_settings_pass_every_step_and_count_the_inbox(admin_agent, workspace, dovecot, smtp, mailbox):
    # given a mailbox with two mails on dovecot and an SMTP server that wants AUTH
    dovecot.append(mailbox, b"Subject: one\r\n\r\nfirst\r\n")
    dovecot.append(mailbox, b"Subject: two\r\n\r\nsecond\r\n")
    config = config_for(dovecot, smtp, mailbox)
    # when an admin tests the form's settings (not saved)
    report = mailbox_probe(
        actor=Actor.for_agent(admin_agent),
        workspace=workspace,
        config=config,
        secrets={"password": PASSWORD, "smtp_password": SMTP_PASSWORD},
    )
    # then every step passed: IMAP signed in and counted 2, SMTP signed in (no mail was sent)
    steps = by_step(report)
    assert report.ok, [(s.key, s.code, s.params) for s in report.steps]
    assert steps["imap.inbox"].code == "inbox_counted" and steps["imap.inbox"].params["count"] == 2
    assert steps["imap.login"].code == "logged_in"
    assert steps["smtp.tls"].code == "plain_connection"
    assert steps["smtp.auth"].code == "logged_in"
    assert ("LOGIN", SMTP_USER) in smtp.logins or ("PLAIN", SMTP_USER) in smtp.logins
    assert smtp.messages == []
    # and the test is kept with who ran it (no account yet)
    check = MailboxCheck.objects.get(pk=report.check.pk)
    assert check.ok and check.account is None and check.checked_by == admin_agent
    assert [s["code"] for s in check.steps][:3] == ["connected", "logged_in", "inbox_counted"]
    assert "secret" not in str(check.steps) and PASSWORD not in str(check.steps)


def test_a_wrong_password_is_an_authentication_failure_with_the_presets_hint(
    admin_agent, workspace, dovecot, smtp, mailbox
):
    # given the 163 preset's mailbox form with the login password instead of the authorisation code
    config = config_for(dovecot, smtp, mailbox, preset="163")
    report = mailbox_probe(
        actor=Actor.for_agent(admin_agent),
        workspace=workspace,
        config=config,
        secrets={"password": "my-login-password", "smtp_password": "my-login-password"},
    )
    steps = by_step(report)
    # then both sign-ins failed as authentication failures, the inbox step was not tried
    assert not report.ok
    assert steps["imap.connect"].ok
    assert steps["imap.login"].code == "auth_failed"
    assert steps["imap.inbox"].code == "skipped"
    assert steps["smtp.auth"].code == "auth_failed"
    assert steps["smtp.auth"].params["server"].startswith("535")
    # and the reason carries 163's hint about the 授权码, in both languages
    stored = MailboxCheck.objects.get(pk=report.check.pk).steps
    login = next(s for s in stored if s["service"] == "imap" and s["step"] == "login")
    with translation.override("en"):
        english = mail_texts.step_text(login, "163")
    with translation.override("zh-hans"):
        chinese = mail_texts.step_text(login, "163")
    assert "Sign-in refused" in english and "授权码" in english
    assert "授权码" in chinese and "Sign-in" not in chinese


def test_ssl_against_a_plain_port_is_a_tls_failure_and_missing_starttls_is_named(
    admin_agent, workspace, dovecot, smtp, mailbox
):
    config = config_for(dovecot, smtp, mailbox, imap_ssl=True, smtp_security="ssl")
    steps = by_step(mailbox_probe(actor=Actor.for_agent(admin_agent), workspace=workspace, config=config, secrets={}))
    assert steps["imap.connect"].code == "tls_failed"
    assert steps["smtp.connect"].code == "tls_failed"
    # STARTTLS on a server that does not offer it
    config = config_for(dovecot, smtp, mailbox, smtp_security="starttls")
    steps = by_step(mailbox_probe(actor=Actor.for_agent(admin_agent), workspace=workspace, config=config, secrets={}))
    assert steps["smtp.tls"].code == "starttls_unsupported"
    assert steps["smtp.auth"].code == "skipped"
    assert steps["imap.login"].code == "no_password"


def test_refused_silent_and_unknown_hosts_are_told_apart(admin_agent, workspace, silent_port):
    closed = free_port()
    config = {
        "imap_host": "127.0.0.1",
        "imap_port": closed,
        "imap_ssl": False,
        "smtp_host": "127.0.0.1",
        "smtp_port": silent_port,
        "smtp_security": "none",
    }
    steps = by_step(
        mailbox_probe(actor=Actor.for_agent(admin_agent), workspace=workspace, config=config, secrets={}, timeout=1.0)
    )
    assert steps["imap.connect"].code == "refused"
    assert steps["imap.connect"].params == {"host": "127.0.0.1", "port": closed}
    assert steps["smtp.connect"].code == "timeout"
    config = {"imap_host": "no-such-host.invalid", "smtp_host": "mail.no-such-host.invalid"}
    steps = by_step(mailbox_probe(actor=Actor.for_agent(admin_agent), workspace=workspace, config=config))
    assert steps["imap.connect"].code == "dns_failed"
    assert steps["smtp.connect"].code == "dns_failed"


def test_the_egress_guard_refuses_internal_servers_before_connecting(admin_agent, workspace, settings):
    # given the default allowlist (nothing internal): a listener on loopback that counts connections
    settings.PIVOTDESK_EGRESS_ALLOW = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.3)
    port = sock.getsockname()[1]
    try:
        config = {"imap_host": "127.0.0.1", "imap_port": port, "smtp_host": "2130706433", "smtp_port": port}
        steps = by_step(mailbox_probe(actor=Actor.for_agent(admin_agent), workspace=workspace, config=config))
        # then both are refused by the guard, and nothing ever connected
        assert steps["imap.connect"].code == "egress_refused"
        assert steps["smtp.connect"].code == "egress_refused"
        with pytest.raises(TimeoutError):
            sock.accept()
    finally:
        sock.close()


def test_a_saved_mailbox_is_tested_with_its_stored_password_and_keeps_its_history(
    admin_agent, workspace, dovecot, smtp, mailbox
):
    account = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name="Support",
        config=config_for(dovecot, smtp, mailbox),
        secrets={"password": PASSWORD, "smtp_password": SMTP_PASSWORD},
    )
    # the form left the passwords empty: the stored ones are used
    report = mailbox_probe(
        actor=Actor.for_agent(admin_agent), workspace=workspace, config=account.config, secrets={}, account=account
    )
    assert report.ok, [(s.key, s.code) for s in report.steps]
    assert MailboxCheck.objects.filter(account=account, ok=True, checked_by=admin_agent).count() == 1


@pytest.mark.parametrize("role", ["supervisor", "agent", "light_agent"])
def test_only_an_admin_may_test(workspace, role):
    agent = AgentFactory(workspace=workspace, role=role)
    with pytest.raises(PermissionDenied):
        mailbox_probe(actor=Actor.for_agent(agent), workspace=workspace, config={"imap_host": "imap.163.com"})
    assert not MailboxCheck.objects.exists()
