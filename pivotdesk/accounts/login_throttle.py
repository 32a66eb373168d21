"""Login throttling: failed sign-ins per account and per client address, counted by the one rate limiter.

The one place both the agent login (`web/account`) and `/admin/login/` go through is `authenticate()`, so the
throttle is an authentication backend (`ThrottledModelBackend`, the project's only one): before checking a
password it refuses an account or an address that is locked; each failure is counted (`ratelimit.hit`, shared
cache) and written to `LoginAudit`; the N-th failure in the window locks the account (or the address) for a
cool-down and writes a lock-out row. A success resets the account's count. The account key is the typed username,
lower-cased, whether or not the account exists, so the answer never tells which accounts exist.

The forms show the lock-out message through `ThrottledLoginFormMixin` (the backend marks the request).
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy, ngettext

from pivotdesk.accounts.models import LoginAudit, LoginEvent, User
from pivotdesk.common.ratelimit import SHARED_CACHE, client_ip, hit

# The request attribute the backend sets when it refused a locked account or address (seconds left).
LOCKED_ATTRIBUTE = "pivotdesk_login_locked_for"


def _cache() -> BaseCache:
    """The locks and epochs live with the counts, in the cache every process shares (`ratelimit.SHARED_CACHE`): a
    lock set by one web process holds in all of them."""
    return caches[SHARED_CACHE]


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def failures_per_account() -> int:
    return _setting("PIVOTDESK_LOGIN_FAILURES_PER_ACCOUNT", 5)


def failures_per_address() -> int:
    return _setting("PIVOTDESK_LOGIN_FAILURES_PER_ADDRESS", 20)


def window_seconds() -> int:
    return _setting("PIVOTDESK_LOGIN_WINDOW_SECONDS", 15 * 60)


def lockout_seconds() -> int:
    return _setting("PIVOTDESK_LOGIN_LOCKOUT_SECONDS", 15 * 60)


def _account_key(username: str) -> str:
    return username.strip().casefold()


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def _lock_key(scope: str, key: str) -> str:
    return f"pd:login-lock:{scope}:{_digest(key)}"


def _epoch_key(key: str) -> str:
    return f"pd:login-epoch:{_digest(key)}"


def _counted_key(account: str) -> str:
    """The account's counter key: a success bumps the epoch, which starts a fresh count (the reset)."""
    return f"{account}#{_cache().get(_epoch_key(account), 0)}"


def locked_for(*, username: str, address: str) -> int:
    """Seconds until the account or the address may try again (0 when neither is locked)."""
    left = 0
    for scope, key in (("account", _account_key(username)), ("address", address)):
        if not key:
            continue
        until = _cache().get(_lock_key(scope, key))
        if until is not None:
            left = max(left, math.ceil(float(until) - _now()))
    return max(left, 0)


def _now() -> float:
    return time.time()


def login_failure_record(*, username: str, address: str) -> None:
    """Count one failed sign-in for the account and the address, write its audit row, and lock what reached its
    limit (with a lock-out row)."""
    user = User.objects.filter(username=username).first() if username else None
    LoginAudit.objects.create(
        event=LoginEvent.FAILED, username=username[:150], user=user, address=address or None, scope=""
    )
    checks = [("account", _account_key(username), _counted_key(_account_key(username)), failures_per_account())]
    if address:
        checks.append(("address", address, address, failures_per_address()))
    for scope, key, counted, limit in checks:
        if not key:
            continue
        verdict = hit(scope=f"login-{scope}", key=counted, limit=limit, window_seconds=window_seconds())
        if verdict.count >= limit:
            _cache().set(_lock_key(scope, key), _now() + lockout_seconds(), timeout=lockout_seconds())
            LoginAudit.objects.create(
                event=LoginEvent.LOCKED_OUT, username=username[:150], user=user, address=address or None, scope=scope
            )


def login_success_record(*, username: str) -> None:
    """A successful sign-in resets the account's failure count (the address's count stays)."""
    account = _account_key(username)
    epoch_key = _epoch_key(account)
    if not _cache().add(epoch_key, 1, timeout=None):  # atomic steps, as the counts are
        try:
            _cache().incr(epoch_key)
        except ValueError:  # evicted in between
            _cache().set(epoch_key, 1, timeout=None)


class ThrottledModelBackend(ModelBackend):
    """Django's username/password backend behind the login throttle (see the module docstring)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None:
            username = str(kwargs.get(User.USERNAME_FIELD, "") or "")
        if not username or password is None:
            return None
        address = client_ip(request) if request is not None else ""
        left = locked_for(username=username, address=address)
        if left:
            if request is not None:
                setattr(request, LOCKED_ATTRIBUTE, left)
            # Django's PermissionDenied: authenticate() stops here and asks no other backend (the form shows the
            # cool-down message it finds on the request).
            raise PermissionDenied(gettext("Too many failed sign-in attempts."))
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username=username, address=address)
            left = locked_for(username=username, address=address)
            if left and request is not None:
                setattr(request, LOCKED_ATTRIBUTE, left)
            return None
        login_success_record(username=username)
        return user

    async def aauthenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        """The async path throttles too (ModelBackend's own would skip the counting)."""
        return await sync_to_async(self.authenticate)(request, username=username, password=password, **kwargs)


def lockout_message(seconds: int) -> str:
    """The refusal shown while locked: the same for accounts that exist and those that do not."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
        "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class ThrottledLoginFormMixin:
    """Shows the lock-out message instead of "wrong password" when the backend refused a locked login."""

    request: HttpRequest | None

    @property
    def locked_message(self) -> str:
        """The lock-out message when the backend refused a locked account or address, else ""."""
        left = getattr(self.request, LOCKED_ATTRIBUTE, 0) if self.request is not None else 0
        return lockout_message(int(left)) if left else ""

    def get_invalid_login_error(self) -> ValidationError:
        if message := self.locked_message:
            return ValidationError(message, code="locked")
        return super().get_invalid_login_error()  # type: ignore[misc, no-any-return]


class ThrottledAuthenticationForm(ThrottledLoginFormMixin, AuthenticationForm):
    """The agent login form."""


class ThrottledAdminAuthenticationForm(ThrottledLoginFormMixin, AdminAuthenticationForm):
    """The Django admin's login form: for the installation's operators (active superusers) only — `is_staff` is
    no role here (config/admin_site.py)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": gettext_lazy(
            "Please enter the correct %(username)s and password for an operator account of this installation. "
            "Note that both fields may be case-sensitive."
        ),
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
        from pivotdesk.accounts.two_factor import two_factor_enabled  # the admin login has no code step

        if two_factor_enabled(user):
            raise ValidationError(
                gettext("This account signs in with a code: sign in on the main login page first, then open /admin/."),
                code="two_factor_required",
            )
