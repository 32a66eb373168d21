"""Notifying agents: in-app always, external channels (email, apprise) per preference, de-duplicated, logged.

`notify` writes the notification and its deliveries in one transaction and queues the due deliveries after commit.
A delivery is claimed with one conditional UPDATE (open and due → `sending` with a lease in `next_attempt_at`), so
two workers, a duplicate task or the retry scan never send the same delivery twice. No transaction is held open
while a message is on the wire. Failures back off exponentially (capped) and become `failed` with the reason after
PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS. Quiet hours defer non-urgent external deliveries to their end; in-app is
always immediate.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.notifications import senders
from pivotdesk.notifications.domain.backoff import backoff_seconds
from pivotdesk.notifications.domain.channels import channels_for, clean_channels, matches
from pivotdesk.notifications.domain.quiet import quiet_until
from pivotdesk.notifications.kinds import DEFAULT_CHANNELS
from pivotdesk.notifications.models import (
    OPEN_STATUSES,
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Notification,
    NotificationPreference,
    NotificationTarget,
)
from pivotdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

LEASE_MARGIN_S = 60.0
MAX_KIND = 64
MAX_TITLE = 255
MAX_DEDUPE = 255


# --- settings ---------------------------------------------------------------------------------------------------


def max_attempts() -> int:
    return max(1, int(getattr(settings, "PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS", 6)))


def send_timeout() -> float:
    return float(getattr(settings, "PIVOTDESK_NOTIFICATION_TIMEOUT_SECONDS", 15.0))


# --- preferences ------------------------------------------------------------------------------------------------


def preference_for(agent: AgentProfile) -> NotificationPreference:
    """The agent's saved preferences, or unsaved defaults (no row is written by reading)."""
    pref = NotificationPreference.objects.filter(agent=agent).first()
    return pref or NotificationPreference(workspace_id=agent.workspace_id, agent=agent)


def agent_zone(agent: AgentProfile) -> zoneinfo.ZoneInfo:
    for name in (agent.time_zone, getattr(settings, "TIME_ZONE", "UTC"), "UTC"):
        try:
            return zoneinfo.ZoneInfo(name or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return zoneinfo.ZoneInfo("UTC")


def _defer_until(
    pref: NotificationPreference, agent: AgentProfile, at: dt.datetime, urgent: bool
) -> dt.datetime | None:
    if not pref.quiet_hours_enabled or pref.quiet_start is None or pref.quiet_end is None:
        return None
    if urgent and pref.urgent_overrides_quiet:
        return None
    until = quiet_until(at.astimezone(agent_zone(agent)), pref.quiet_start, pref.quiet_end)
    return until.astimezone(dt.UTC) if until else None


# --- notify -----------------------------------------------------------------------------------------------------


def notify(
    *,
    workspace: Workspace,
    recipient: AgentProfile,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    ticket: Ticket | None = None,
    dedupe_key: str = "",
    urgent: bool = False,
    data: dict[str, Any] | None = None,
) -> Notification | None:
    """Notify one agent: an in-app notification always, plus the external channels their preferences enable for
    this kind. Returns None when a notification with the same (recipient, dedupe_key) exists (de-duplicated).
    External deliveries are queued (after commit) as Celery tasks; never raises for a delivery failure."""
    if recipient.workspace_id != workspace.pk:
        raise ValidationFailed("The recipient belongs to another workspace.", code="wrong_workspace")
    if ticket is not None and ticket.workspace_id != workspace.pk:
        raise ValidationFailed("The ticket belongs to another workspace.", code="wrong_workspace")
    kind = (kind or "").strip()[:MAX_KIND]
    if not kind:
        raise ValidationFailed("A notification needs a kind.", code="kind_required")
    dedupe_key = (dedupe_key or "")[:MAX_DEDUPE]
    if dedupe_key and Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists():
        return None
    at = now()
    pref = preference_for(recipient)
    wanted = channels_for(kind, pref.channels, DEFAULT_CHANNELS)
    values = {
        "workspace": workspace,
        "recipient": recipient,
        "kind": kind,
        "title": (title or kind)[:MAX_TITLE],
        "body": body or "",
        "url": url or "",
        "ticket": ticket,
        "dedupe_key": dedupe_key,
        "urgent": urgent,
        "data": data or {},
    }
    if not wanted and not connection.in_atomic_block:
        # In-app only (most kinds) and no caller's transaction: one INSERT, no transaction around it.
        try:
            return Notification.objects.create(**values)
        except IntegrityError:
            if dedupe_key and Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists():
                return None
            raise
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin makes this insert fail, not the caller's
                notification = Notification.objects.create(**values)
        except IntegrityError:
            if dedupe_key and Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists():
                return None
            raise
        deliveries = _plan_deliveries(notification, recipient, at, pref=pref, wanted=wanted)
        _queue_after_commit(d.pk for d in deliveries if d.status == DeliveryStatus.QUEUED and d.deferred_until is None)
    return notification


def notify_workspace(
    *,
    workspace: Workspace,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    ticket: Ticket | None = None,
    dedupe_key: str = "",
    urgent: bool = False,
    data: dict[str, Any] | None = None,
) -> Notification | None:
    """Broadcast to the workspace's shared targets (agent NULL) that subscribed to this kind, e.g. a team's group
    robot. No in-app entry. Returns None when de-duplicated or when no shared target wants the kind."""
    kind = (kind or "").strip()[:MAX_KIND]
    if not kind:
        raise ValidationFailed("A notification needs a kind.", code="kind_required")
    targets = [
        t
        for t in NotificationTarget.objects.filter(workspace=workspace, agent__isnull=True, active=True)
        if matches(kind, t.kinds)
    ]
    if not targets:
        return None
    dedupe_key = (dedupe_key or "")[:MAX_DEDUPE]
    scope = Notification.objects.filter(workspace=workspace, recipient__isnull=True, dedupe_key=dedupe_key)
    if dedupe_key and scope.exists():
        return None
    with transaction.atomic():
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    workspace=workspace,
                    recipient=None,
                    kind=kind,
                    title=(title or kind)[:MAX_TITLE],
                    body=body or "",
                    url=url or "",
                    ticket=ticket,
                    dedupe_key=dedupe_key,
                    urgent=urgent,
                    data=data or {},
                    read_at=now(),
                )
        except IntegrityError:
            if dedupe_key and scope.exists():
                return None
            raise
        at = now()
        created = [
            Delivery.objects.create(
                workspace=workspace,
                notification=notification,
                channel=DeliveryChannel.APPRISE,
                target=t,
                destination=_target_destination(t),
                next_attempt_at=at,
            )
            for t in targets
        ]
        _queue_after_commit(d.pk for d in created)
    return notification


def _target_destination(target: NotificationTarget) -> str:
    return f"{target.label} ({target.scheme}) #{target.pk}"[:255]


def _plan_deliveries(
    notification: Notification, agent: AgentProfile, at: dt.datetime, *, pref: NotificationPreference, wanted: list[str]
) -> list[Delivery]:
    if not wanted:
        return []
    deferred = _defer_until(pref, agent, at, notification.urgent)
    rows: list[Delivery] = []

    def row(channel: str, destination: str, target: NotificationTarget | None, suppressed: str = "") -> None:
        d = Delivery(
            workspace_id=notification.workspace_id,
            notification=notification,
            channel=channel,
            target=target,
            destination=destination[:255],
        )
        if suppressed:
            d.status = DeliveryStatus.SUPPRESSED
            d.last_error = suppressed
        else:
            d.next_attempt_at = deferred or at
            d.deferred_until = deferred
        rows.append(d)

    inactive = "" if agent.is_active else "the agent is deactivated"
    if "email" in wanted:
        email = (agent.user.email or "").strip()
        row(DeliveryChannel.EMAIL, email or "—", None, inactive or ("" if email else "the agent has no email address"))
    if "apprise" in wanted:
        targets = [
            t
            for t in NotificationTarget.objects.filter(agent=agent, active=True)
            if matches(notification.kind, t.kinds)
        ]
        for t in targets:
            row(DeliveryChannel.APPRISE, _target_destination(t), t, inactive)
        if not targets:
            row(DeliveryChannel.APPRISE, "—", None, "no active SMS / IM / push target for this kind")
    Delivery.objects.bulk_create(rows)
    # bulk_create sets primary keys on PostgreSQL and SQLite 3.35+ (RETURNING).
    return rows


def _queue_after_commit(ids: Iterable[int | None]) -> None:
    from pivotdesk.notifications.tasks import deliver

    pks = [pk for pk in ids if pk is not None]
    if pks:
        transaction.on_commit(lambda: [deliver.delay(pk) for pk in pks])


# --- sending ----------------------------------------------------------------------------------------------------


def _claim(delivery_id: int, at: dt.datetime) -> bool:
    """Take an open, due delivery for one attempt; False when it is done, in flight, or not due yet."""
    lease = at + dt.timedelta(seconds=send_timeout() + LEASE_MARGIN_S)
    return bool(
        Delivery.objects.filter(pk=delivery_id, status__in=OPEN_STATUSES, next_attempt_at__lte=at).update(
            status=DeliveryStatus.SENDING, next_attempt_at=lease, attempts=F("attempts") + 1, last_attempt_at=at
        )
    )


def deliver(*, delivery_id: int) -> Delivery | None:
    """Send one attempt of a delivery if it is open and due, and record the outcome. None: nothing to do."""
    at = now()
    if not _claim(delivery_id, at):
        return None
    d = Delivery.objects.select_related(
        "notification", "target", "notification__recipient__user", "notification__ticket"
    ).get(pk=delivery_id)
    n = d.notification
    if d.channel == DeliveryChannel.EMAIL:
        recipient = n.recipient
        address = (recipient.user.email or "").strip() if recipient else ""
        if not address:
            return _record(d, ok=False, error="the agent has no email address", suppress=True)
        ok, error = senders.send_email(to=address, subject=n.title, body=_text(n))
    else:
        target = d.target
        if target is None or not target.active:
            return _record(d, ok=False, error="the target was removed or turned off", suppress=True)
        try:
            target_url = target.url
        except ValueError as exc:
            return _record(d, ok=False, error=str(exc), final=True)
        ok, error = senders.send_apprise(url=target_url, title=n.title, body=_text(n), timeout=send_timeout())
    log.info(
        "notification delivery %s (%s → %s) attempt %s: %s",
        d.pk,
        d.channel,
        d.destination,
        d.attempts,
        "sent" if ok else error,
    )
    return _record(d, ok=ok, error=error)


def absolute_url(path: str) -> str:
    if not path or "://" in path:
        return path
    base = str(getattr(settings, "PIVOTDESK_BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}" if base else path


def link_for(n: Notification) -> str:
    """Where the notification points: its URL, else its ticket's page in the agent workspace."""
    if n.url:
        return n.url
    if n.ticket_id is not None and n.ticket is not None:
        try:
            return reverse("web:ticket", args=[n.ticket.number])
        except NoReverseMatch:  # a deployment without the agent UI
            return ""
    return ""


def _text(n: Notification) -> str:
    parts = [n.body.strip()] if n.body.strip() else []
    link = absolute_url(link_for(n))
    if link:
        parts.append(link)
    return "\n\n".join(parts) or n.title


def _record(d: Delivery, *, ok: bool, error: str, final: bool = False, suppress: bool = False) -> Delivery:
    at = now()
    with transaction.atomic():
        row = Delivery.objects.select_for_update().get(pk=d.pk)
        row.last_error = "" if ok else (error or "unknown error")[:4000]
        if ok:
            row.status = DeliveryStatus.SENT
            row.sent_at = at
            row.next_attempt_at = None
        elif suppress:
            row.status = DeliveryStatus.SUPPRESSED
            row.next_attempt_at = None
        elif final or row.attempts >= max_attempts():
            row.status = DeliveryStatus.FAILED
            row.failed_at = at
            row.next_attempt_at = None
        else:
            row.status = DeliveryStatus.QUEUED
            row.next_attempt_at = at + dt.timedelta(seconds=backoff_seconds(row.attempts))
        row.save()
    return row


def retry_due(*, batch_size: int = 200, max_batches: int = 10, at: dt.datetime | None = None) -> int:
    """Queue every open delivery that is due (back-off passed, quiet hours over, or a send whose lease expired).
    Queuing one twice is harmless: only one task wins the claim. Returns how many were queued."""
    from pivotdesk.notifications.tasks import deliver as deliver_task

    at = at or now()
    queued = 0
    after: tuple[dt.datetime, int] | None = None
    for _ in range(max_batches):
        qs = Delivery.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=at)
        if after is not None:
            qs = qs.filter(Q(next_attempt_at__gt=after[0]) | Q(next_attempt_at=after[0], pk__gt=after[1]))
        batch = list(qs.order_by("next_attempt_at", "pk").values_list("pk", "next_attempt_at")[:batch_size])
        for pk, _due in batch:
            deliver_task.delay(pk)
        queued += len(batch)
        if len(batch) < batch_size:
            break
        last_pk, last_due = batch[-1]
        if last_due is None:  # cannot happen (filtered on next_attempt_at), keeps the type checker honest
            break
        after = (last_due, last_pk)
    return queued


def delivery_retry(*, delivery: Delivery, agent: AgentProfile) -> Delivery:
    """Send a failed (or suppressed) delivery again now, with a fresh attempt budget. Supervisors and admins only."""
    _require_supervisor(agent, delivery.workspace_id)
    if not deliveries_requeue(delivery_ids=[delivery.pk]):
        raise Conflict("This delivery was already sent or is being sent right now.", code="not_retryable")
    delivery.refresh_from_db()
    return delivery


RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.SUPPRESSED, DeliveryStatus.QUEUED)


def deliveries_requeue(*, delivery_ids: list[int]) -> int:
    """Reset failed/suppressed/queued deliveries to be sent now with a fresh attempt budget (the caller checked
    permissions: the UI through `delivery_retry`, Django admin through staff rights). Returns how many."""
    from pivotdesk.notifications.tasks import deliver as deliver_task

    at = now()
    with transaction.atomic():
        ids = list(Delivery.objects.filter(pk__in=delivery_ids, status__in=RETRYABLE).values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids, status__in=RETRYABLE).update(
            status=DeliveryStatus.QUEUED,
            attempts=0,
            next_attempt_at=at,
            deferred_until=None,
            failed_at=None,
            retries_requested=F("retries_requested") + 1,
        )
        transaction.on_commit(lambda: [deliver_task.delay(pk) for pk in ids])
    return len(ids)


def can_manage(agent: AgentProfile | None) -> bool:
    """Who sees the delivery log and retries deliveries: supervisors and admins (those who see reports)."""
    return can(agent, Perm.REPORTS_VIEW)


def _require_supervisor(agent: AgentProfile, workspace_id: int) -> None:
    if agent.workspace_id != workspace_id:
        raise NotFound("No such delivery.")
    if not can_manage(agent):
        raise PermissionDenied("Only supervisors and admins can do this.", code="permission_denied")


# --- in-app: read state -----------------------------------------------------------------------------------------


def notification_mark_read(*, agent: AgentProfile, notification_id: int) -> Notification:
    """Mark one of the agent's notifications read (idempotent: the first read time is kept)."""
    from pivotdesk.notifications.selectors import access_notification

    notification = access_notification(agent=agent, notification_id=notification_id)
    if notification.read_at is None:
        at = now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=at)
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, agent: AgentProfile) -> int:
    """Mark all of the agent's unread notifications read; returns how many changed."""
    return Notification.objects.filter(workspace_id=agent.workspace_id, recipient=agent, read_at__isnull=True).update(
        read_at=now()
    )


# --- preferences and targets ------------------------------------------------------------------------------------

_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.-*")


def _clean_key(key: str) -> str:
    key = key.strip().lower()
    if (
        not key
        or len(key) > MAX_KIND
        or not set(key) <= _KEY_CHARS
        or ("*" in key and key != "*" and not key.endswith(".*"))
    ):
        raise ValidationFailed(
            f"“{key}” is not a notification kind or group (like sla.breach or sla.*).",
            code="bad_kind",
            details={"kind": key},
        )
    return key


def preference_save(
    *,
    agent: AgentProfile,
    channels: dict[str, list[str]],
    quiet_hours_enabled: bool,
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
    urgent_overrides_quiet: bool = True,
) -> NotificationPreference:
    """Replace the agent's preferences. A kind's list names its external channels (in-app is always on)."""
    cleaned: dict[str, list[str]] = {}
    for key, values in channels.items():
        unknown = [v for v in values if v not in ("email", "apprise")]
        if unknown:
            raise ValidationFailed(
                f"Unknown channel {unknown[0]!r}: use email or apprise.", code="bad_channel", details={"kind": key}
            )
        cleaned[_clean_key(key)] = clean_channels(values)
    if quiet_hours_enabled:
        if quiet_start is None or quiet_end is None:
            raise ValidationFailed("Quiet hours need a start and an end time.", code="quiet_hours_incomplete")
        if quiet_start == quiet_end:
            raise ValidationFailed("Quiet hours must start and end at different times.", code="quiet_hours_empty")
    with transaction.atomic():
        pref, _created = NotificationPreference.objects.select_for_update().get_or_create(
            agent=agent, defaults={"workspace_id": agent.workspace_id}
        )
        pref.channels = cleaned
        pref.quiet_hours_enabled = quiet_hours_enabled
        pref.quiet_start = quiet_start
        pref.quiet_end = quiet_end
        pref.urgent_overrides_quiet = urgent_overrides_quiet
        pref.save()
    return pref


def validate_apprise_url(url: str) -> str:
    """A URL apprise understands (checked offline: no message is sent)."""
    import apprise

    url = (url or "").strip()
    if not url or "://" not in url:
        raise ValidationFailed(
            "Enter an apprise URL such as dingtalk://token/, wecom://key, tgram://bot/chat or json://host/path.",
            code="bad_url",
        )
    if len(url) > 2000:
        raise ValidationFailed("That URL is too long (2000 characters at most).", code="bad_url")
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        scheme = url.split("://", 1)[0]
        raise ValidationFailed(
            f"Apprise does not understand this URL (scheme “{scheme}”): check the scheme and its parts.",
            code="bad_url",
        )
    return url


def target_create(
    *, agent: AgentProfile, label: str, url: str, kinds: list[str] | None = None, shared: bool = False
) -> NotificationTarget:
    """Add an apprise target for the agent (or, shared=True and a supervisor/admin, for the whole workspace)."""
    if shared:
        _require_supervisor(agent, agent.workspace_id)
    label = (label or "").strip()
    if not label:
        raise ValidationFailed("Give the target a name, e.g. “My DingTalk”.", code="label_required")
    url = validate_apprise_url(url)
    clean_kinds = [_clean_key(k) for k in (kinds or []) if k.strip()]
    target = NotificationTarget(
        workspace_id=agent.workspace_id, agent=None if shared else agent, label=label[:120], kinds=clean_kinds
    )
    target.url = url
    target.save()
    return target


def target_set_active(*, target: NotificationTarget, agent: AgentProfile, active: bool) -> NotificationTarget:
    _require_target_owner(target, agent)
    NotificationTarget.objects.filter(pk=target.pk).update(active=active)
    target.active = active
    return target


def target_delete(*, target: NotificationTarget, agent: AgentProfile) -> None:
    _require_target_owner(target, agent)
    target.delete()


def _require_target_owner(target: NotificationTarget, agent: AgentProfile) -> None:
    if target.workspace_id != agent.workspace_id:
        raise NotFound("No such target.")
    if target.agent_id is None:
        _require_supervisor(agent, target.workspace_id)
    elif target.agent_id != agent.pk:
        raise NotFound("No such target.")


def target_test(*, target: NotificationTarget, agent: AgentProfile) -> tuple[bool, str]:
    """Send a test message to the target right now; returns (sent, reason). Nothing is queued or retried."""
    _require_target_owner(target, agent)
    try:
        url = target.url
    except ValueError as exc:
        return False, str(exc)
    from django.utils.translation import gettext

    return senders.send_apprise(
        url=url,
        title=gettext("PivotDesk test notification"),
        body=gettext("If you can read this, %(label)s receives PivotDesk notifications.") % {"label": target.label},
        timeout=send_timeout(),
    )
