"""Rejected webhook calls (bad or missing signature): kept as failed rows with the reason, never processed.

An unauthenticated caller who learnt a webhook URL must not be able to fill the database, so what is kept is
bounded three ways: each body is cut to 64 KB; per channel account at most PIVOTDESK_REJECTED_INBOUND_LIMIT calls
per PIVOTDESK_REJECTED_INBOUND_WINDOW_SECONDS are stored (counted with the one rate limiter), beyond that one in
PIVOTDESK_REJECTED_INBOUND_SAMPLE, and every other call is only counted in one aggregate row per account and window
(an ignored `InboundPayload` with an empty body, its count in `attempts`); rejected rows and aggregates are deleted
after PIVOTDESK_REJECTED_INBOUND_KEEP_DAYS (`inbound_rejected_prune`, a beat job). The caller's answer is the same
401/403 whether or not its call was stored.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import F, Q, Sum
from django.http import HttpRequest, HttpResponse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.channels.models import ChannelAccount, InboundPayload, InboundStatus
from pivotdesk.channels.services.inbound import inbound_store
from pivotdesk.channels.webhooks import json_error, request_meta
from pivotdesk.common import ratelimit
from pivotdesk.common.time import now

# A rejected body is kept only up to this size (enough to see what a misconfigured sender posts), with its full
# length in the meta.
REJECTED_KEEP_BYTES = 64 * 1024
#: `classification` of the aggregate row that counts the rejected calls of one account and window not stored.
NOT_STORED = "rejected_not_stored"
RATE_SCOPE = "inbound-rejected"


def _limit() -> int:
    return int(getattr(settings, "PIVOTDESK_REJECTED_INBOUND_LIMIT", 20))


def _window_s() -> int:
    return max(1, int(getattr(settings, "PIVOTDESK_REJECTED_INBOUND_WINDOW_SECONDS", 600)))


def _sample() -> int:
    return max(1, int(getattr(settings, "PIVOTDESK_REJECTED_INBOUND_SAMPLE", 100)))


def rejected_admit(*, actor: Actor, account: ChannelAccount) -> dict[str, Any] | None:
    """Whether a rejected call of this account may be stored: the extra meta to store it with ({} within the cap,
    the sampling rate for a sampled one beyond it), or None when it is only counted (the aggregate row of the
    current window). System only (the channel webhooks)."""
    authorize_system(actor)
    window = _window_s()
    at = time.time()
    verdict = ratelimit.hit(scope=RATE_SCOPE, key=str(account.pk), limit=_limit(), window_seconds=window, at=at)
    if verdict.allowed:
        return {}
    # Beyond the cap: the aggregate row counts every call; the Nth, 2Nth… of them are stored (1 in N).
    seen = _count_over_cap(account, window_start=int(at // window) * window)
    sample = _sample()
    if seen % sample == 0:
        return {"sampled_one_in": sample}
    return None


def _count_over_cap(account: ChannelAccount, *, window_start: int) -> int:
    """One more call over the cap in this account's aggregate row of the window (created on the first); the count
    after it. Two concurrent callers may read the same count: the sample is approximate, the count is not."""
    key = f"{NOT_STORED}:{account.pk}:{window_start}"
    rows = InboundPayload.objects.filter(workspace_id=account.workspace_id, account=account, dedupe_key=key)
    if not rows.update(attempts=F("attempts") + 1):
        InboundPayload.objects.create(
            workspace_id=account.workspace_id,
            account=account,
            channel=account.kind,
            raw=b"",
            meta={"rejected": NOT_STORED, "window_seconds": _window_s()},
            received_at=dt.datetime.fromtimestamp(window_start, tz=dt.UTC),
            dedupe_key=key,
            status=InboundStatus.IGNORED,
            classification=NOT_STORED,
            attempts=1,
            processed_at=now(),
        )
    return int(rows.aggregate(total=Sum("attempts"))["total"] or 0)


def _not_stored(seen: int, sample: int) -> int:
    """How many of `seen` calls over the cap were not stored (every `sample`-th one was)."""
    return seen - seen // sample


def rejected_not_stored(*, account: ChannelAccount, since: dt.datetime) -> int:
    """How many rejected calls of this account were counted but not stored in the windows that ended after `since`
    (the channel page shows the last hour)."""
    rows = InboundPayload.objects.filter(
        workspace_id=account.workspace_id,
        account=account,
        classification=NOT_STORED,
        received_at__gt=since - dt.timedelta(seconds=_window_s()),
    )
    sample = _sample()
    return sum(_not_stored(seen, sample) for seen in rows.values_list("attempts", flat=True))


def inbound_rejected_prune(*, actor: Actor, older_than: dt.timedelta | None = None, batch: int = 5000) -> int:
    """Delete rejected calls (and the aggregate rows of those not stored) received before `older_than` ago
    (PIVOTDESK_REJECTED_INBOUND_KEEP_DAYS by default); how many rows went. System only (a beat job)."""
    authorize_system(actor)
    if older_than is None:
        older_than = dt.timedelta(days=float(getattr(settings, "PIVOTDESK_REJECTED_INBOUND_KEEP_DAYS", 14)))
    cutoff = now() - older_than
    old = InboundPayload.objects.filter(
        Q(meta__has_key="rejected") | Q(classification=NOT_STORED), received_at__lt=cutoff
    )
    deleted = 0
    while ids := list(old.values_list("pk", flat=True)[:batch]):
        deleted += InboundPayload.objects.filter(pk__in=ids).delete()[0]
    return deleted


def inbound_reject(
    *, actor: Actor, request: HttpRequest, account: ChannelAccount, reason: str, extra_headers: tuple[str, ...] = ()
) -> InboundPayload | None:
    """Store a webhook call that failed authentication as a failed payload with its reason (not queued); None when
    the account's cap of stored rejections is reached and the call was only counted. System only (the webhooks)."""
    authorize_system(actor)
    admitted = rejected_admit(actor=actor, account=account)
    if admitted is None:
        return None
    body = request.body
    meta = request_meta(request, extra_headers=extra_headers)
    meta.update(admitted)
    meta["rejected"] = True
    meta["body_length"] = len(body)
    payload = inbound_store(
        actor=actor,
        workspace=account.workspace,
        channel=account.kind,
        raw=body[:REJECTED_KEEP_BYTES],
        content_type=request.content_type or "",
        meta=meta,
        account=account,
    )
    payload.status, payload.reason, payload.processed_at = InboundStatus.FAILED, reason[:4000], now()
    InboundPayload.objects.filter(pk=payload.pk).update(
        status=payload.status, reason=payload.reason, processed_at=payload.processed_at
    )
    return payload


def signature_rejection(
    *,
    actor: Actor,
    request: HttpRequest,
    account: ChannelAccount,
    header: str,
    verify: Callable[[str], bool],
    key_label: str,
) -> HttpResponse | None:
    """Check a signature header: None when `verify(header value)` holds; otherwise the call is kept as a rejected
    row and the answer is 401 (header missing) or 403 (does not match). System only (the channel webhooks)."""
    authorize_system(actor)
    value = request.headers.get(header)
    if not value:
        inbound_reject(actor=actor, request=request, account=account, reason=f"Rejected: no {header} header.")
        return json_error(401, "signature_missing", f"{header} is required.")
    if not verify(value):
        inbound_reject(
            actor=actor,
            request=request,
            account=account,
            reason=f"Rejected: {header} does not match the {key_label}.",
            extra_headers=(header,),
        )
        return json_error(403, "signature_invalid", f"{header} does not match.")
    return None
