"""Optional two-factor sign-in for agents: a TOTP authenticator app (RFC 6238, `pyotp`) plus one-time recovery codes.

Set-up is self-service (the agent's own account, `Perm.SELF_MANAGE`): `two_factor_begin` makes a new secret (shown
once as a QR code and as text), `two_factor_confirm` turns it on when the agent types a code the app shows, and
returns ten recovery codes (shown once, stored hashed). `two_factor_disable` needs a current code.

At sign-in the password step no longer logs a user with a device in: the web login keeps the pending user in the
session and `two_factor_verify` (system: the login flow) checks the code — the current or the neighbouring 30-second
step, never a step used before, or an unused recovery code. Wrong codes are counted by the one rate limiter
(shared store) per user, written to `LoginAudit`, and lock the second step for a while after a few.
"""

from __future__ import annotations

import hmac
import secrets
import time

import pyotp
from django.core.cache import caches
from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.errors import AccountErrorCode
from pivotdesk.accounts.models import LoginAudit, LoginEvent, TwoFactorDevice, User
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.crypto import decrypt_json, encrypt_json, secret_digest
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.common.ratelimit import SHARED_CACHE, hit
from pivotdesk.common.time import now

ISSUER = "PivotDesk"
RECOVERY_CODES = 10
# Wrong second-step codes allowed per user in the window before the second step is refused.
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW_SECONDS = 15 * 60


def two_factor_enabled(user: User) -> bool:
    """Whether this user signs in with a second factor."""
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def _own(actor: Actor, user: User) -> None:
    """Only the user themselves manages their second factor (an admin cannot read or set another's secret)."""
    if actor.agent is None or actor.agent.user_id != user.pk:
        raise PermissionDenied(
            gettext("You can only change your own two-factor sign-in."), code=AccountErrorCode.PERMISSION_DENIED
        )
    authorize(actor, Perm.SELF_MANAGE)


def _secret(device: TwoFactorDevice) -> str:
    return str(decrypt_json(device.secret_config)["secret"])


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=ISSUER)


def two_factor_begin(*, actor: Actor, user: User) -> tuple[TwoFactorDevice, str]:
    """Start setting up an authenticator app: a new secret (replacing an unfinished set-up). Returns the device and
    the secret (base32), to be shown once. Refused while a confirmed device exists (turn it off first)."""
    _own(actor, user)
    if two_factor_enabled(user):
        raise ValidationFailed(
            gettext("Two-factor sign-in is already on. Turn it off first to set up another app."),
            code=AccountErrorCode.TWO_FACTOR_STATE,
        )
    secret = pyotp.random_base32()
    device, _ = TwoFactorDevice.objects.update_or_create(
        user=user,
        defaults={
            "secret_config": encrypt_json({"secret": secret}),
            "confirmed_at": None,
            "last_used_step": 0,
            "recovery_codes": [],
        },
    )
    return device, secret


def pending_secret(user: User) -> str | None:
    """The secret of a set-up not yet confirmed (to show the QR code again after a mistyped code), else None."""
    device = TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    return _secret(device) if device is not None else None


def two_factor_confirm(*, actor: Actor, user: User, code: str, at: float | None = None) -> list[str]:
    """Turn two-factor sign-in on once the agent typed a code from the app; returns the recovery codes (plain, shown
    once; stored hashed)."""
    _own(actor, user)
    with transaction.atomic():
        device = TwoFactorDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
        if device is None:
            raise ValidationFailed(
                gettext("Start the set-up first: no authenticator app is waiting to be confirmed."),
                code=AccountErrorCode.TWO_FACTOR_STATE,
            )
        step = _matching_step(_secret(device), code, after=0, at=at)
        if step is None:
            raise ValidationFailed(
                gettext("That code is not right. Type the 6-digit code your app shows now."),
                code=AccountErrorCode.TWO_FACTOR_CODE_WRONG,
            )
        codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
        device.confirmed_at, device.last_used_step = now(), step
        device.recovery_codes = [_hash(c) for c in codes]
        device.save(update_fields=["confirmed_at", "last_used_step", "recovery_codes"])
    return codes


def two_factor_disable(*, actor: Actor, user: User, code: str) -> None:
    """Turn two-factor sign-in off; needs a current code (or a recovery code), so a borrowed session cannot."""
    _own(actor, user)
    if not _check_and_consume(user, code):
        raise ValidationFailed(
            gettext("That code is not right. Type the 6-digit code your app shows now."),
            code=AccountErrorCode.TWO_FACTOR_CODE_WRONG,
        )
    TwoFactorDevice.objects.filter(user=user).delete()


def two_factor_verify(*, actor: Actor, user: User, code: str, address: str = "", at: float | None = None) -> bool:
    """The second step of a sign-in (system: the login flow). True when the code is right; a wrong code is counted
    and audited; after MAX_WRONG_CODES in the window every attempt is refused (`PermissionDenied`, throttled)."""
    authorize_system(actor)
    cache = caches[SHARED_CACHE]
    lock_key = f"pd:2fa-lock:{user.pk}"
    if cache.get(lock_key):
        raise _throttled()
    if _check_and_consume(user, code, at=at):
        return True
    LoginAudit.objects.create(
        event=LoginEvent.TWO_FACTOR_FAILED, username=user.get_username()[:150], user=user, address=address or None
    )
    verdict = hit(scope="2fa-wrong", key=str(user.pk), limit=MAX_WRONG_CODES, window_seconds=WRONG_CODE_WINDOW_SECONDS)
    if not verdict.allowed:
        cache.set(lock_key, 1, timeout=WRONG_CODE_WINDOW_SECONDS)
        raise _throttled()
    return False


def _throttled() -> PermissionDenied:
    return PermissionDenied(
        gettext("Too many wrong codes. Try again in %(minutes)d minutes.")
        % {"minutes": WRONG_CODE_WINDOW_SECONDS // 60},
        code=AccountErrorCode.TWO_FACTOR_THROTTLED,
    )


def _check_and_consume(user: User, code: str, *, at: float | None = None) -> bool:
    """A current TOTP code not used before (its step is remembered), or an unused recovery code (then removed)."""
    with transaction.atomic():
        device = TwoFactorDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
        if device is None:
            return False
        step = _matching_step(_secret(device), code, after=device.last_used_step, at=at)
        if step is not None:
            TwoFactorDevice.objects.filter(pk=device.pk).update(last_used_step=step)
            return True
        hashed = _hash(_normalise_recovery(code))
        remaining = [h for h in device.recovery_codes if not hmac.compare_digest(h, hashed)]
        if len(remaining) < len(device.recovery_codes):
            TwoFactorDevice.objects.filter(pk=device.pk).update(recovery_codes=remaining)
            return True
    return False


def _matching_step(secret: str, code: str, *, after: int, at: float | None = None) -> int | None:
    """The 30-second step (current or a neighbour, for clock drift) whose code this is, if it is later than
    `after` (a step used once is never accepted again)."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if at is None else at) // totp.interval)
    for step in (current, current - 1, current + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def _new_recovery_code() -> str:
    raw = secrets.token_hex(5)  # 40 bits
    return f"{raw[:5]}-{raw[5:]}"


def _normalise_recovery(code: str) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"{cleaned[:5]}-{cleaned[5:]}" if len(cleaned) == 10 else cleaned


_hash = secret_digest
