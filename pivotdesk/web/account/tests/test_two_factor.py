"""Optional two-factor sign-in (issue 11, finding 3): an agent sets up an authenticator app (QR code, confirm with a
code, recovery codes shown once), signing in then needs the password and a code; a used code is not accepted again,
wrong codes are audited and lock the code step, recovery codes work once; the admin login refuses such accounts
(it has no code step); the secret is encrypted at rest."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from pivotdesk.accounts import two_factor
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import LoginAudit, LoginEvent, TwoFactorDevice
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.web.tests.helpers import new_agent, new_user

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def member(workspace):
    user = new_user(username="meiling")
    user.set_password(PASSWORD)
    user.save()
    return new_agent(workspace=workspace, user=user)


def _enable(member) -> tuple[str, list[str]]:
    actor = Actor.for_agent(member)
    _device, secret = two_factor.two_factor_begin(actor=actor, user=member.user)
    codes = two_factor.two_factor_confirm(actor=actor, user=member.user, code=pyotp.TOTP(secret).now())
    return secret, codes


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _next_step_code(secret: str) -> str:
    """A valid code not used yet: the next 30-second step's (accepted for clock drift)."""
    totp = pyotp.TOTP(secret)
    return totp.at(int(time.time()) + totp.interval)


def test_set_up_in_the_ui_then_sign_in_needs_the_code(client, member):
    client.force_login(member.user, backend="pivotdesk.accounts.login_throttle.ThrottledModelBackend")
    page = client.post("/account/security/", {"action": "begin"})
    assert page.status_code == 200 and b"<svg" in page.content and page["Cache-Control"] == "no-store"
    key = re.search(r'<span class="mono">([A-Z2-7 ]+)</span>', page.content.decode()).group(1).replace(" ", "")
    # a wrong code keeps the set-up open and shows the QR code again
    wrong = client.post("/account/security/", {"action": "confirm", "code": "000000"})
    assert wrong.status_code == 400 and b"<svg" in wrong.content
    done = client.post("/account/security/", {"action": "confirm", "code": pyotp.TOTP(key).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li>([0-9a-f]{5}-[0-9a-f]{5})</li>", done.content.decode())
    assert len(codes) == 10
    client.logout()

    # the password alone no longer signs in
    response = client.post("/login/", {"username": "meiling", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login/verify/"
    assert not _signed_in(client)
    assert client.post("/login/verify/", {"code": "123456"}).status_code == 400
    assert not _signed_in(client)
    response = client.post("/login/verify/", {"code": _next_step_code(key)})
    assert response.status_code == 302 and _signed_in(client)


def test_the_secret_is_encrypted_and_a_code_is_never_accepted_twice(member):
    secret, _codes = _enable(member)
    device = TwoFactorDevice.objects.get(user=member.user)
    assert secret not in device.secret_config
    code = _next_step_code(secret)
    system = Actor.system("login")
    assert two_factor.two_factor_verify(actor=system, user=member.user, code=code)
    assert not two_factor.two_factor_verify(actor=system, user=member.user, code=code)  # replay refused


def test_a_recovery_code_works_once(member):
    _secret, codes = _enable(member)
    system = Actor.system("login")
    assert two_factor.two_factor_verify(actor=system, user=member.user, code=codes[0].upper())
    assert not two_factor.two_factor_verify(actor=system, user=member.user, code=codes[0])
    assert len(TwoFactorDevice.objects.get(user=member.user).recovery_codes) == 9


def test_wrong_codes_are_audited_and_lock_the_code_step(member):
    secret, _codes = _enable(member)
    system = Actor.system("login")
    for _ in range(two_factor.MAX_WRONG_CODES):
        assert not two_factor.two_factor_verify(actor=system, user=member.user, code="000000", address="203.0.113.9")
    with pytest.raises(PermissionDenied):
        two_factor.two_factor_verify(actor=system, user=member.user, code="000000")
    with pytest.raises(PermissionDenied):  # locked: even the right code waits
        two_factor.two_factor_verify(actor=system, user=member.user, code=_next_step_code(secret))
    rows = LoginAudit.objects.filter(event=LoginEvent.TWO_FACTOR_FAILED, user=member.user)
    assert rows.count() == two_factor.MAX_WRONG_CODES + 1
    assert rows.filter(address="203.0.113.9").count() == two_factor.MAX_WRONG_CODES


def test_only_the_user_manages_their_second_factor(member, admin_agent):
    with pytest.raises(PermissionDenied):
        two_factor.two_factor_begin(actor=Actor.for_agent(admin_agent), user=member.user)
    with pytest.raises(PermissionDenied):  # the login flow's check is the system's
        two_factor.two_factor_verify(actor=Actor.for_agent(member), user=member.user, code="000000")


def test_turning_it_off_needs_a_code(member):
    secret, _codes = _enable(member)
    actor = Actor.for_agent(member)
    with pytest.raises(ValidationFailed):
        two_factor.two_factor_disable(actor=actor, user=member.user, code="000000")
    two_factor.two_factor_disable(actor=actor, user=member.user, code=_next_step_code(secret))
    assert not two_factor.two_factor_enabled(member.user)


def test_the_admin_login_refuses_an_account_with_a_second_factor(client, member):
    member.user.is_superuser = member.user.is_staff = True
    member.user.save()
    _enable(member)
    response = client.post("/admin/login/", {"username": "meiling", "password": PASSWORD})
    assert response.status_code == 200 and not _signed_in(client)
    assert "main login page" in response.content.decode()


def test_the_pending_sign_in_expires(client, member, monkeypatch):
    _enable(member)
    client.post("/login/", {"username": "meiling", "password": PASSWORD})
    session = client.session
    session["pd_2fa_pending"]["at"] = time.time() - 3600
    session.save()
    response = client.post("/login/verify/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == "/login/" and not _signed_in(client)


def test_the_security_page_in_chinese(client_as, member):
    page = client_as(member, language="zh-hans").get("/account/security/")
    assert "两步验证" in page.content.decode()
