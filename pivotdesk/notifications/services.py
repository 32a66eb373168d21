"""Notifying agents: in-app always, external channels (email, apprise) per preference, de-duplicated, logged.

`notify` writes the notification and its deliveries in one transaction and queues the due deliveries after commit.
Deliveries are rows of the one outbox (`pivotdesk.common.outbox`): claimed with a lease by one conditional UPDATE, so
two workers, a duplicate task or the retry scan never send the same delivery twice, and a worker that dies mid-send
leaves a row the retry scan claims again after the lease. No transaction is held open while a message is on the
wire. Failures back off (the shared capped, jittered back-off) and become `failed` with the reason after
PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS. Quiet hours defer non-urgent external deliveries to their end; in-app is
always immediate.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system, can
from pivotdesk.common import egress, outbox
from pivotdesk.common.delivery_errors import DeliveryErrorCode, encode
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.notifications import senders
from pivotdesk.notifications.domain.channels import channels_for, clean_channels, group_of, matches
from pivotdesk.notifications.domain.quiet import quiet_until
from pivotdesk.notifications.errors import NotificationErrorCode
from pivotdesk.notifications.kinds import DEFAULT_CHANNELS, PAGE_KINDS
from pivotdesk.notifications.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    Notification,
    NotificationPreference,
    NotificationTarget,
)
from pivotdesk.notifications.render import Rendered, recipient_language, render_in
from pivotdesk.tickets.domain import mentions
from pivotdesk.tickets.models import Message, MessageKind, Ticket
from pivotdesk.tickets.selectors import visible_tickets

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
    actor: Actor,
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
    External deliveries are queued (after commit) as Celery tasks; never raises for a delivery failure.
    The desk notifies, as the system (after the gate of whatever service caused it): no person calls this."""
    authorize_system(actor)
    if recipient.workspace_id != workspace.pk:
        raise ValidationFailed(
            gettext("The recipient belongs to another workspace."), code=NotificationErrorCode.WRONG_WORKSPACE
        )
    if ticket is not None and ticket.workspace_id != workspace.pk:
        raise ValidationFailed(
            gettext("The ticket belongs to another workspace."), code=NotificationErrorCode.WRONG_WORKSPACE
        )
    kind = (kind or "").strip()[:MAX_KIND]
    if not kind:
        raise ValidationFailed(gettext("A notification needs a kind."), code=NotificationErrorCode.KIND_REQUIRED)
    dedupe_key = (dedupe_key or "")[:MAX_DEDUPE]
    if dedupe_key and Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists():
        return None
    at = now()
    pref = preference_for(recipient)
    wanted = list(PAGE_CHANNELS) if kind in PAGE_KINDS else channels_for(kind, pref.channels, DEFAULT_CHANNELS)
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


MENTION_EXCERPT = 140


def notify_mentions(*, actor: Actor, message_id: int) -> int:
    """Tell the colleagues an agent's internal note @mentions (`tickets.domain.mentions`): each agent of the
    workspace whose username the note names, who can see the ticket, other than the author, gets a
    "ticket.mentioned" notification (and the external channels their preferences choose for it). Idempotent: once
    per note and colleague. Returns how many were told. The system, after the note's own gate."""
    authorize_system(actor)
    message = Message.objects.select_related("ticket__workspace", "author_agent__user").filter(pk=message_id).first()
    if message is None or message.kind != MessageKind.NOTE or message.author_agent is None:
        return 0
    names = mentions.handles(message.body_text)
    if not names:
        return 0
    ticket = message.ticket
    colleagues = (
        AgentProfile.objects.filter(workspace_id=ticket.workspace_id, is_active=True, user__is_active=True)
        .annotate(handle=Lower("user__username"))
        .filter(handle__in=names)
        .exclude(pk=message.author_agent.pk)
        .select_related("user")
        .order_by("pk")
    )
    told = 0
    author = message.author_agent.name
    excerpt = message.body_text.strip()[:MENTION_EXCERPT]
    for agent in colleagues:
        if not visible_tickets(workspace=ticket.workspace, agent=agent).filter(pk=ticket.pk).exists():
            continue  # an agent who cannot open the ticket is not told about it
        sent = notify(
            workspace=ticket.workspace,
            actor=actor,
            recipient=agent,
            kind="ticket.mentioned",
            title=f"{author} @ #{ticket.number}",
            body=excerpt,
            url=f"/tickets/{ticket.number}/",
            ticket=ticket,
            dedupe_key=f"ticket.mentioned:{message.pk}:{agent.pk}",
            data={"by": author, "message_id": message.pk},
        )
        told += sent is not None
    return told


def notify_workspace(
    *,
    workspace: Workspace,
    actor: Actor,
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
    robot. No in-app entry. Returns None when de-duplicated or when no shared target wants the kind. The system
    only, as for `notify`."""
    authorize_system(actor)
    kind = (kind or "").strip()[:MAX_KIND]
    if not kind:
        raise ValidationFailed(gettext("A notification needs a kind."), code=NotificationErrorCode.KIND_REQUIRED)
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


PAGE_CHANNELS = ("email", "apprise")


def page_first_channels(kind: str, mapping: dict[str, Any] | None) -> list[str]:
    """The channels a page goes out on at once: what the person chose for this kind or its group (`oncall.*`), or
    every channel when they chose none there ("everything else" never narrows a page). The others stand by."""
    mapping = mapping or {}
    for key in (kind, group_of(kind)):
        chosen = mapping.get(key)
        if isinstance(chosen, list | tuple) and clean_channels(chosen):
            return clean_channels(chosen)
    return list(PAGE_CHANNELS)


def _target_destination(target: NotificationTarget) -> str:
    return f"{target.label} ({target.scheme}) #{target.pk}"[:255]


def _plan_deliveries(
    notification: Notification, agent: AgentProfile, at: dt.datetime, *, pref: NotificationPreference, wanted: list[str]
) -> list[Delivery]:
    if not wanted:
        return []
    page = notification.kind in PAGE_KINDS
    deferred = None if page else _defer_until(pref, agent, at, notification.urgent)
    first = page_first_channels(notification.kind, pref.channels) if page else wanted
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
        elif channel not in first:
            d.status = DeliveryStatus.STANDBY  # a page's fallback: queued when a channel of the page fails
        else:
            d.next_attempt_at = deferred or at
            d.deferred_until = deferred
        rows.append(d)

    inactive = "" if agent.is_active else encode(DeliveryErrorCode.AGENT_DEACTIVATED)
    if "email" in wanted:
        email = (agent.user.email or "").strip()
        row(
            DeliveryChannel.EMAIL, email or "—", None, inactive or ("" if email else encode(DeliveryErrorCode.NO_EMAIL))
        )
    if "apprise" in wanted:
        targets = [
            t
            for t in NotificationTarget.objects.filter(agent=agent, active=True)
            if matches(notification.kind, t.kinds)
        ]
        for t in targets:
            row(DeliveryChannel.APPRISE, _target_destination(t), t, inactive)
        if not targets:
            row(DeliveryChannel.APPRISE, "—", None, encode(DeliveryErrorCode.NO_TARGET))
    if page:
        _first_fallback_if_stuck(rows, at)
    Delivery.objects.bulk_create(rows)
    # bulk_create sets primary keys on PostgreSQL and SQLite 3.35+ (RETURNING).
    return rows


def _first_fallback_if_stuck(rows: list[Delivery], at: dt.datetime) -> None:
    """Nothing of the person's first choice for a page can work (no address, no target): the first fallback goes
    now rather than waiting for a failure that cannot come."""
    if any(d.status == DeliveryStatus.QUEUED for d in rows):
        return
    for d in rows:
        if d.status == DeliveryStatus.STANDBY:
            d.status, d.next_attempt_at = DeliveryStatus.QUEUED, at
            return


def _queue_after_commit(ids: Iterable[int | None]) -> None:
    from pivotdesk.notifications.tasks import deliver

    pks = [pk for pk in ids if pk is not None]
    if pks:
        transaction.on_commit(lambda: [deliver.delay(pk) for pk in pks])


# --- sending ----------------------------------------------------------------------------------------------------


def deliver(*, delivery_id: int) -> Delivery | None:
    """Send one attempt of a delivery if it is open and due, and record the outcome. None: nothing to do (or this
    attempt's lease ran out before it could record; the attempt that took over records its own)."""
    d = outbox.claim(
        Delivery.objects.select_related(
            "notification__workspace",
            "target",
            "notification__recipient__user",
            "notification__recipient__workspace",
            "notification__ticket",
        ),
        pk=delivery_id,
        lease_seconds=send_timeout() + LEASE_MARGIN_S,
    )
    if d is None:
        return None
    if outbox.exhausted(d, max_attempts=max_attempts()):
        return _record(d, ok=False, error=encode(DeliveryErrorCode.WORKER_STOPPED), final=True)
    n = d.notification
    # Rendered in the reader's language: the recipient's preference, else the workspace's (broadcasts: the latter).
    language = recipient_language(n.recipient) if n.recipient is not None else _workspace_language(n)
    shown = render_in(n, language)
    if d.channel == DeliveryChannel.EMAIL:
        recipient = n.recipient
        address = (recipient.user.email or "").strip() if recipient else ""
        if not address:
            return _record(d, ok=False, error=encode(DeliveryErrorCode.NO_EMAIL), suppress=True)
        ok, error = senders.send_email(to=address, subject=shown.title, body=_text(n, shown))
    else:
        target = d.target
        if target is None or not target.active:
            return _record(d, ok=False, error=encode(DeliveryErrorCode.TARGET_REMOVED), suppress=True)
        try:
            target_url = target.url
        except ValueError as exc:
            return _record(d, ok=False, error=encode(DeliveryErrorCode.TARGET_UNREADABLE, str(exc)), final=True)
        ok, error = senders.send_apprise(
            url=target_url, title=shown.title, body=_text(n, shown), timeout=send_timeout()
        )
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


def _workspace_language(n: Notification) -> str:
    code = (n.workspace.default_language or "").strip().lower()
    return "en" if code.startswith("en") else "zh-hans"


def _text(n: Notification, shown: Rendered) -> str:
    parts = [shown.body.strip()] if shown.body.strip() else []
    link = absolute_url(link_for(n))
    if link:
        parts.append(link)
    return "\n\n".join(parts) or shown.title


def _record(d: Delivery, *, ok: bool, error: str, final: bool = False, suppress: bool = False) -> Delivery | None:
    if ok:
        recorded = outbox.mark_sent(d)
    else:
        recorded = (
            outbox.mark_failed(
                d,
                reason=error or encode(DeliveryErrorCode.SEND_FAILED),
                max_attempts=max_attempts(),
                permanent=final or suppress,
                final_status=DeliveryStatus.SUPPRESSED if suppress else DeliveryStatus.FAILED,
                fields={"failed_at": None} if suppress else None,
            )
            is not None
        )
    if recorded and d.notification.kind in PAGE_KINDS:
        fallback = None if ok else _fall_back(d)
        _page_delivery_on_timeline(d, ok=ok, fallback=fallback)
    return d if recorded else None


def _fall_back(d: Delivery) -> Delivery | None:
    """A page that could not go out on one channel goes out on the person's next one: the first standby row of the
    same notification is queued now (each failed attempt brings in one more channel, in order)."""
    from pivotdesk.notifications.tasks import deliver as deliver_task

    standby = Delivery.objects.filter(notification_id=d.notification_id, status=DeliveryStatus.STANDBY).order_by("pk")
    for candidate in standby[:3]:
        if Delivery.objects.filter(pk=candidate.pk, status=DeliveryStatus.STANDBY).update(
            status=DeliveryStatus.QUEUED, next_attempt_at=now()
        ):
            transaction.on_commit(functools.partial(deliver_task.delay, candidate.pk))
            return candidate
    return None


def _page_delivery_on_timeline(d: Delivery, *, ok: bool, fallback: Delivery | None) -> None:
    """Every delivery attempt of a page is on its ticket's timeline (facts; `oncall.timeline` puts them in words)."""
    ticket = d.notification.ticket
    if ticket is None:
        return
    from pivotdesk.tickets.services import timeline

    data: dict[str, Any] = {
        "recipient": d.notification.recipient_id,
        "channel": d.channel,
        "destination": d.destination,
        "attempt": d.attempts,
        "ok": ok,
        "status": d.status,
    }
    if not ok:
        data["error"] = d.last_error
    if fallback is not None:
        data["fallback"] = {"channel": fallback.channel, "destination": fallback.destination}
    timeline.record(ticket=ticket, actor=Actor.system(), verb="oncall_delivery", data=data)


def retry_due(*, batch_size: int = 200, max_batches: int = 10, at: dt.datetime | None = None) -> int:
    """Queue every open delivery that is due (back-off passed, quiet hours over, or a send whose lease expired).
    Queuing one twice is harmless: only one task wins the claim. Returns how many were queued."""
    from pivotdesk.notifications.tasks import deliver as deliver_task

    queued = 0
    for pk in outbox.scan_due(Delivery, at=at, batch_size=batch_size, max_batches=max_batches):
        deliver_task.delay(pk)
        queued += 1
    return queued


def delivery_retry(*, delivery: Delivery, actor: Actor) -> Delivery:
    """Send a failed (or suppressed) delivery again now, with a fresh attempt budget. Supervisors and admins only."""
    authorize(actor, Perm.NOTIFICATION_MANAGE, workspace_id=delivery.workspace_id)
    if not deliveries_requeue(delivery_ids=[delivery.pk]):
        raise Conflict(
            gettext("This delivery was already sent or is being sent right now."),
            code=NotificationErrorCode.NOT_RETRYABLE,
        )
    delivery.refresh_from_db()
    return delivery


RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.SUPPRESSED, DeliveryStatus.QUEUED)


def deliveries_requeue(*, delivery_ids: list[int]) -> int:
    """Reset failed/suppressed/queued deliveries to be sent now with a fresh attempt budget (the caller checked
    permissions: the UI through `delivery_retry`, Django admin through staff rights). Returns how many."""
    from pivotdesk.notifications.tasks import deliver as deliver_task

    with transaction.atomic():
        ids = outbox.retry_now(
            Delivery,
            pks=delivery_ids,
            from_statuses=RETRYABLE,
            fields={"deferred_until": None, "retries_requested": F("retries_requested") + 1},
        )
        transaction.on_commit(lambda: [deliver_task.delay(pk) for pk in ids])
    return len(ids)


def can_manage(agent: AgentProfile | None) -> bool:
    """Who sees the delivery log, retries deliveries and keeps shared targets (the services check the same)."""
    return can(agent, Perm.NOTIFICATION_MANAGE)


def _authorize_own(actor: Actor, agent: AgentProfile) -> None:
    """One's own notifications, preferences and targets: SELF_MANAGE, and only one's own (the system: any)."""
    authorize(actor, Perm.SELF_MANAGE, workspace_id=agent.workspace_id)
    if actor.kind != "system" and actor.agent != agent:
        raise PermissionDenied(gettext("These belong to another agent."), code=NotificationErrorCode.PERMISSION_DENIED)


# --- in-app: read state -----------------------------------------------------------------------------------------


def notification_mark_read(*, agent: AgentProfile, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the agent's notifications read (idempotent: the first read time is kept)."""
    from pivotdesk.notifications.selectors import access_notification

    _authorize_own(actor, agent)

    notification = access_notification(agent=agent, notification_id=notification_id)
    if notification.read_at is None:
        at = now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=at)
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, agent: AgentProfile, actor: Actor) -> int:
    """Mark all of the agent's unread notifications read; returns how many changed."""
    _authorize_own(actor, agent)
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
            gettext("“%(key)s” is not a notification kind or group (like sla.breach or sla.*).") % {"key": key},
            code=NotificationErrorCode.BAD_KIND,
            details={"kind": key},
        )
    return key


def preference_save(
    *,
    agent: AgentProfile,
    actor: Actor,
    channels: dict[str, list[str]],
    quiet_hours_enabled: bool,
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
    urgent_overrides_quiet: bool = True,
) -> NotificationPreference:
    """Replace the agent's preferences. A kind's list names its external channels (in-app is always on)."""
    _authorize_own(actor, agent)
    cleaned: dict[str, list[str]] = {}
    for key, values in channels.items():
        unknown = [v for v in values if v not in ("email", "apprise")]
        if unknown:
            raise ValidationFailed(
                gettext("Unknown channel “%(channel)s”: use email or apprise.") % {"channel": unknown[0]},
                code=NotificationErrorCode.BAD_CHANNEL,
                details={"kind": key},
            )
        cleaned[_clean_key(key)] = clean_channels(values)
    if quiet_hours_enabled:
        if quiet_start is None or quiet_end is None:
            raise ValidationFailed(
                gettext("Quiet hours need a start and an end time."), code=NotificationErrorCode.QUIET_HOURS_INCOMPLETE
            )
        if quiet_start == quiet_end:
            raise ValidationFailed(
                gettext("Quiet hours must start and end at different times."),
                code=NotificationErrorCode.QUIET_HOURS_EMPTY,
            )
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
            gettext(
                "Enter an apprise URL such as dingtalk://token/, wecom://key, tgram://bot/chat or json://host/path."
            ),
            code=NotificationErrorCode.BAD_URL,
        )
    if len(url) > 2000:
        raise ValidationFailed(
            gettext("That URL is too long (2000 characters at most)."), code=NotificationErrorCode.BAD_URL
        )
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        scheme = url.split("://", 1)[0]
        raise ValidationFailed(
            gettext("Apprise does not understand this URL (scheme “%(scheme)s”): check the scheme and its parts.")
            % {"scheme": scheme},
            code=NotificationErrorCode.BAD_URL,
        )
    _check_apprise_host(url)
    return url


def _check_apprise_host(url: str) -> None:
    """Refuse a target that points at a loopback, private or otherwise internal address (the egress guard's rule;
    `PIVOTDESK_EGRESS_ALLOW` opens on-premises servers). A name that cannot be resolved now is left to send time,
    where `senders.send_apprise` checks the host again before every message."""
    try:
        senders.check_apprise_host(url, unresolved_ok=True)
    except egress.EgressRefused as exc:
        raise ValidationFailed(
            gettext("Notifications may not be sent to this address (%(host)s): it is not a public address.")
            % {"host": senders.apprise_host(url)[:200]},
            code=NotificationErrorCode.BAD_URL,
        ) from exc


def target_create(
    *,
    agent: AgentProfile,
    actor: Actor,
    label: str,
    url: str,
    kinds: list[str] | None = None,
    shared: bool = False,
) -> NotificationTarget:
    """Add an apprise target for the agent (or, shared=True and NOTIFICATION_MANAGE, for the whole workspace)."""
    if shared:
        authorize(actor, Perm.NOTIFICATION_MANAGE, workspace_id=agent.workspace_id)
    else:
        _authorize_own(actor, agent)
    label = (label or "").strip()
    if not label:
        raise ValidationFailed(
            gettext("Give the target a name, e.g. “My DingTalk”."), code=NotificationErrorCode.LABEL_REQUIRED
        )
    url = validate_apprise_url(url)
    clean_kinds = [_clean_key(k) for k in (kinds or []) if k.strip()]
    target = NotificationTarget(
        workspace_id=agent.workspace_id, agent=None if shared else agent, label=label[:120], kinds=clean_kinds
    )
    target.url = url
    target.save()
    return target


def target_set_active(
    *, target: NotificationTarget, agent: AgentProfile, actor: Actor, active: bool
) -> NotificationTarget:
    """Turn a target on or off (one's own; a shared one with NOTIFICATION_MANAGE)."""
    _require_target_owner(target, agent, actor)
    NotificationTarget.objects.filter(pk=target.pk).update(active=active)
    target.active = active
    return target


def target_delete(*, target: NotificationTarget, agent: AgentProfile, actor: Actor) -> None:
    """Remove a target (one's own; a shared one with NOTIFICATION_MANAGE)."""
    _require_target_owner(target, agent, actor)
    target.delete()


def _require_target_owner(target: NotificationTarget, agent: AgentProfile, actor: Actor) -> None:
    if target.workspace_id != agent.workspace_id:
        raise NotFound(gettext("No such target."))
    if target.agent_id is None:
        authorize(actor, Perm.NOTIFICATION_MANAGE, workspace_id=target.workspace_id)
    elif target.agent_id != agent.pk:
        raise NotFound(gettext("No such target."))
    else:
        _authorize_own(actor, agent)


def target_test(*, target: NotificationTarget, agent: AgentProfile, actor: Actor) -> tuple[bool, str]:
    """Send a test message to the target right now; returns (sent, reason). Nothing is queued or retried."""
    _require_target_owner(target, agent, actor)
    try:
        url = target.url
    except ValueError as exc:
        return False, encode(DeliveryErrorCode.TARGET_UNREADABLE, str(exc))

    return senders.send_apprise(
        url=url,
        title=gettext("PivotDesk test notification"),
        body=gettext("If you can read this, %(label)s receives PivotDesk notifications.") % {"label": target.label},
        timeout=send_timeout(),
    )
