"""Login throttling (issue 11, finding 3): failed sign-ins lock an account or an address for a cool-down, on the
agent login and on /admin/login/ alike, with a translated message that does not tell whether the account exists;
a success resets the account's count; every failure and lock-out is an audit row."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from pivotdesk.accounts.models import LoginAudit, LoginEvent, User

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.PIVOTDESK_LOGIN_FAILURES_PER_ACCOUNT = 5
    settings.PIVOTDESK_LOGIN_FAILURES_PER_ADDRESS = 20
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def person(db):
    return User.objects.create_user(username="meiling", password=PASSWORD, is_staff=True, is_superuser=True)


def _login(client, username, password, *, path="/login/", address="203.0.113.7", **extra):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, person):
    # given five wrong passwords
    for _ in range(5):
        assert not _signed_in(client)
        _login(client, "meiling", "wrong")
    # when the right one follows
    response = _login(client, "meiling", PASSWORD)
    # then it is refused with the lock-out message
    assert not _signed_in(client)
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_the_lockout_message_is_in_chinese_for_a_chinese_browser(client, person):
    for _ in range(5):
        _login(client, "meiling", "wrong")
    response = _login(client, "meiling", PASSWORD, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "登录失败次数过多" in response.content.decode()


def test_an_unknown_account_gets_the_same_answer_as_a_known_one(client, person):
    for _ in range(5):
        _login(client, "meiling", "wrong")
        _login(client, "nobody", "wrong", address="203.0.113.8")
    known = _login(client, "meiling", "wrong").content.decode()
    unknown = _login(client, "nobody", "wrong", address="203.0.113.8").content.decode()
    assert "Too many failed sign-in attempts" in known and "Too many failed sign-in attempts" in unknown


def test_a_success_resets_the_account_count(client, person):
    # given four failures then a success
    for _ in range(4):
        _login(client, "meiling", "wrong")
    _login(client, "meiling", PASSWORD)
    assert _signed_in(client)
    client.logout()
    # when four more failures follow
    for _ in range(4):
        _login(client, "meiling", "wrong")
    # then the account is still open (8 failures in the window, but only 4 since the success)
    _login(client, "meiling", PASSWORD)
    assert _signed_in(client)


def test_one_address_trying_many_accounts_is_locked(client, person, settings):
    settings.PIVOTDESK_LOGIN_FAILURES_PER_ADDRESS = 20
    for n in range(20):
        _login(client, f"guess{n}", "wrong")
    response = _login(client, "meiling", PASSWORD)
    assert not _signed_in(client)
    assert "Too many failed sign-in attempts" in response.content.decode()
    # another address may still sign in to the account
    _login(client, "meiling", PASSWORD, address="198.51.100.4")
    assert _signed_in(client)


def test_the_admin_login_is_throttled_too(client, person):
    for _ in range(5):
        _login(client, "meiling", "wrong", path="/admin/login/")
    response = _login(client, "meiling", PASSWORD, path="/admin/login/")
    assert not _signed_in(client)
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_failures_counted_on_one_login_page_lock_the_other(client, person):
    for _ in range(5):
        _login(client, "meiling", "wrong", path="/admin/login/")
    _login(client, "meiling", PASSWORD)
    assert not _signed_in(client)


def test_every_failure_and_lockout_is_an_audit_row(client, person):
    for _ in range(5):
        _login(client, "meiling", "wrong")
    failures = LoginAudit.objects.filter(event=LoginEvent.FAILED, username="meiling")
    lockouts = LoginAudit.objects.filter(event=LoginEvent.LOCKED_OUT, username="meiling")
    assert failures.count() == 5 and all(row.address == "203.0.113.7" and row.user == person for row in failures)
    assert list(lockouts.values_list("scope", flat=True)) == ["account"]


def test_audit_rows_are_listed_in_the_django_admin(client, person):
    _login(client, "nobody", "wrong")
    client.force_login(person)
    response = client.get("/admin/accounts/loginaudit/")
    assert response.status_code == 200 and "nobody" in response.content.decode()
