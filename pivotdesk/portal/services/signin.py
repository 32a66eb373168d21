"""Customers sign in without a password: a magic link by e-mail or a 6-digit code by SMS.

- A token is single use and expires (link 15 min, code 10 min); only a keyed hash (HMAC-SHA256 with SECRET_KEY) is
  stored, so a copy of the database signs nobody in. A newer token of the same contact ends the older ones.
- `signin_request` answers the same whether or not the address belongs to a customer: the caller shows one
  sentence either way, and the notice goes out only when someone is there.
- Every attempt passes the one rate limiter (`common.ratelimit`): requests per address and per client address,
  code checks per address and per client; a code also dies after `CODE_ATTEMPTS` wrong guesses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.common import ratelimit
from pivotdesk.common.errors import RateLimited, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.customers.models import Contact
from pivotdesk.portal import links, selectors
from pivotdesk.portal.models import NoticeKind, SignInKind, SignInToken
from pivotdesk.portal.services.notices import notice_enqueue

LINK_MINUTES = 15
CODE_MINUTES = 10
CODE_ATTEMPTS = 5
REQUESTS_PER_ADDRESS_HOUR = 5
REQUESTS_PER_CLIENT_HOUR = 20
CHECKS_PER_ADDRESS_HOUR = 10
CHECKS_PER_CLIENT_HOUR = 30


def _digest(kind: str, workspace_id: int, secret: str) -> str:
    message = f"portal:{kind}:{workspace_id}:{secret}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _limit(scope: str, key: str, limit: int) -> None:
    verdict = ratelimit.hit(scope=scope, key=key, limit=limit, window_seconds=3600)
    if not verdict.allowed:
        minutes = max(1, (verdict.retry_after + 59) // 60)
        raise RateLimited(
            _("Too many attempts. Try again in %(minutes)d minutes.") % {"minutes": minutes},
            details={"retry_after": verdict.retry_after},
        )


def _normalised(address: str) -> str:
    return (address or "").strip().lower()


@dataclass(frozen=True)
class SignInRequest:
    """What the page needs after a request: which way the customer proves it ("link" or "code", from the input's
    shape, never from whether someone is there); `secret` only for the command line's `portal_link`."""

    method: str
    secret: str = ""


def signin_request(
    *, actor: Actor, workspace: Workspace, address: str, client: str = "", next_path: str = "", deliver: bool = True
) -> SignInRequest:
    """Send a magic link to an e-mail address, or a code to a phone, if a customer of the workspace has it.
    Input that is neither is refused; an unknown address gets the same answer as a known one. System only (the
    sign-in page calls it for an anonymous visitor; `portal_link` with `deliver=False` for a person at the shell)."""
    authorize_system(actor)
    contact, kind = selectors.contact_for_address(workspace=workspace, address=address)
    if not kind:
        raise ValidationFailed(_("Enter your e-mail address or mobile number."), details={"field": "address"})
    if client:
        _limit("portal-signin-client", f"{workspace.pk}:{client}", REQUESTS_PER_CLIENT_HOUR)
    _limit("portal-signin-address", f"{workspace.pk}:{_normalised(address)}", REQUESTS_PER_ADDRESS_HOUR)
    method = SignInKind.LINK if kind == "email" else SignInKind.CODE
    if contact is None:
        return SignInRequest(method=method)
    if method == SignInKind.LINK:
        secret = secrets.token_urlsafe(32)
        minutes = LINK_MINUTES
    else:
        secret = f"{secrets.randbelow(1_000_000):06d}"
        minutes = CODE_MINUTES
    token_key = secret if method == SignInKind.LINK else f"{contact.pk}:{secret}"
    with transaction.atomic():
        SignInToken.objects.filter(contact=contact, kind=method, used_at__isnull=True).update(used_at=now())
        token = SignInToken.objects.create(
            workspace=workspace,
            contact=contact,
            kind=method,
            token_hash=_digest(method, workspace.pk, token_key),
            expires_at=now() + _minutes(minutes),
            next_path=_safe_next(workspace, next_path),
        )
        if deliver:
            _deliver(
                actor=actor,
                workspace=workspace,
                contact=contact,
                token=token,
                secret=secret,
                kind=kind,
                address=address,
                minutes=minutes,
            )
    return SignInRequest(method=method, secret=secret)


def magic_link_path(workspace: Workspace, secret: str) -> str:
    return reverse("portal:magic", args=[workspace.slug, secret])


def _deliver(
    *,
    actor: Actor,
    workspace: Workspace,
    contact: Contact,
    token: SignInToken,
    secret: str,
    kind: str,
    address: str,
    minutes: int,
) -> None:
    language = selectors.contact_language(contact, workspace)
    if kind == "email":
        url = links.absolute(workspace, magic_link_path(workspace, secret))
        notice_enqueue(
            actor=actor,
            workspace=workspace,
            contact=contact,
            kind=NoticeKind.SIGN_IN_LINK,
            data={"url": url, "minutes": minutes},
            dedupe_key=f"signin:{token.pk}",
            language=language,
            channel="email",
            recipient=address.strip(),
        )
    else:
        notice_enqueue(
            actor=actor,
            workspace=workspace,
            contact=contact,
            kind=NoticeKind.SIGN_IN_CODE,
            data={"code": secret, "minutes": minutes},
            dedupe_key=f"signin:{token.pk}",
            language=language,
            channel="sms",
            recipient=contact.phone or address.strip(),
        )


def _minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def _safe_next(workspace: Workspace, path: str) -> str:
    prefix = f"/portal/{workspace.slug}/"
    return path if path.startswith(prefix) and "//" not in path and len(path) <= 300 else ""


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        _("This sign-in link or code is wrong, used or expired. Ask for a new one."), code="signin_invalid"
    )


def signin_with_link(*, workspace: Workspace, secret: str) -> SignInToken:
    """Use a magic link: the contact it was sent to, once; a used, expired or unknown link is refused alike.
    Authorised by the single-use secret itself."""
    if not secret or len(secret) > 100:
        raise _invalid()
    digest = _digest(SignInKind.LINK, workspace.pk, secret)
    return _consume(workspace, SignInToken.objects.filter(token_hash=digest, kind=SignInKind.LINK))


def signin_with_code(*, workspace: Workspace, address: str, code: str, client: str = "") -> SignInToken:
    """Check a 6-digit code for a phone number: single use, expiring, limited per address and client and per token.
    Authorised by the code sent to that phone."""
    if client:
        _limit("portal-code-client", f"{workspace.pk}:{client}", CHECKS_PER_CLIENT_HOUR)
    _limit("portal-code-address", f"{workspace.pk}:{_normalised(address)}", CHECKS_PER_ADDRESS_HOUR)
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    contact, kind = selectors.contact_for_address(workspace=workspace, address=address)
    if contact is None or kind != "phone" or len(code) != 6:
        raise _invalid()
    live = SignInToken.objects.filter(
        workspace=workspace, contact=contact, kind=SignInKind.CODE, used_at__isnull=True, expires_at__gt=now()
    ).order_by("-pk")
    token = live.first()
    if token is None:
        raise _invalid()
    if token.token_hash != _digest(SignInKind.CODE, workspace.pk, f"{contact.pk}:{code}"):
        # a wrong guess counts against the token; the last allowed guess ends it
        SignInToken.objects.filter(pk=token.pk).update(attempts=F("attempts") + 1)
        SignInToken.objects.filter(pk=token.pk, attempts__gte=CODE_ATTEMPTS).update(used_at=now())
        raise _invalid()
    return _consume(workspace, SignInToken.objects.filter(pk=token.pk))


def _consume(workspace: Workspace, qs: QuerySet[SignInToken]) -> SignInToken:
    at = now()
    token = qs.filter(workspace=workspace).select_related("contact").first()
    if token is None:
        raise _invalid()
    # one conditional UPDATE: of two tabs opening the same link, exactly one signs in
    won = SignInToken.objects.filter(
        pk=token.pk, used_at__isnull=True, expires_at__gt=at, attempts__lt=CODE_ATTEMPTS
    ).update(used_at=at)
    if not won or token.contact.merged_into_id is not None:
        raise _invalid()
    token.used_at = at
    return token
