"""notify(): in-app plus external deliveries per preference, de-duplication, quiet hours, real delivery, retries."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import pytest
from django.core import mail
from django.db import connection

from pivotdesk.accounts.actors import Actor
from pivotdesk.common import outbox
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.notifications import selectors, services
from pivotdesk.notifications.models import Delivery, DeliveryStatus, Notification
from pivotdesk.notifications.tests.factories import make_target, set_channels

pytestmark = pytest.mark.django_db


def _notify(workspace, agent, **kw):
    args = {"kind": "sla.breach", "title": "Ticket #7 breached its first-reply target", "body": "Reply now."}
    args.update(kw)
    return services.notify(actor=Actor.system(), workspace=workspace, recipient=agent, **args)


def test_notify_creates_in_app_and_one_delivery_per_enabled_channel(
    workspace, agent, ticket, receiver, django_capture_on_commit_callbacks
):
    set_channels(agent, {"sla.*": ["email", "apprise"]})
    make_target(agent, receiver.url("/a"), label="Hook A")
    make_target(agent, receiver.url("/b"), label="Hook B", kinds=["routing.*"])  # not for SLA kinds
    with django_capture_on_commit_callbacks(execute=True):
        n = _notify(workspace, agent, ticket=ticket, url=f"/tickets/{ticket.number}/", dedupe_key="k1")
    assert n is not None and n.recipient == agent and n.ticket == ticket and n.read_at is None
    rows = {(d.channel, d.status) for d in Delivery.objects.filter(notification=n)}
    assert rows == {("email", "sent"), ("apprise", "sent")}
    assert [p for p, _ in receiver.requests] == ["/a"]
    assert mail.outbox[0].to == [agent.user.email] and mail.outbox[0].subject == n.title
    assert selectors.unread_count(agent=agent) == 1


def test_defaults_email_for_breach_only_in_app_for_assignments(workspace, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        breach = _notify(workspace, agent, kind="sla.breach")
        assigned = _notify(workspace, agent, kind="routing.assigned", title="Assigned")
    assert list(breach.deliveries.values_list("channel", flat=True)) == ["email"]
    assert not assigned.deliveries.exists()
    assert len(mail.outbox) == 1


def test_kind_preference_beats_group_and_fallback(workspace, agent):
    set_channels(agent, {"*": ["email"], "sla.*": [], "sla.escalation": ["email"]})
    assert not _notify(workspace, agent, kind="sla.warning").deliveries.exists()
    assert _notify(workspace, agent, kind="sla.escalation").deliveries.count() == 1
    assert _notify(workspace, agent, kind="custom.thing").deliveries.count() == 1


def test_apprise_without_targets_is_a_visible_suppressed_row(workspace, agent):
    set_channels(agent, {"*": ["apprise"]})
    d = _notify(workspace, agent).deliveries.get()
    assert (
        d.status == DeliveryStatus.SUPPRESSED and "no active" in d.error_display.lower() and d.next_attempt_at is None
    )


def test_agent_without_email_gets_suppressed_email(workspace, agent):
    agent.user.email = ""
    agent.user.save()
    d = _notify(workspace, agent).deliveries.get()
    assert d.status == DeliveryStatus.SUPPRESSED and "no email" in d.error_display.lower()


def test_dedupe_same_key_returns_none_other_recipient_still_notified(workspace, agent, supervisor):
    first = _notify(workspace, agent, dedupe_key="sla:1:breach")
    again = _notify(workspace, agent, dedupe_key="sla:1:breach", title="changed")
    other = _notify(workspace, supervisor, dedupe_key="sla:1:breach")
    assert first is not None and again is None and other is not None
    assert Notification.objects.filter(dedupe_key="sla:1:breach").count() == 2
    # No dedupe key: every call notifies.
    assert _notify(workspace, agent) is not None and _notify(workspace, agent) is not None


def test_dedupe_inside_callers_transaction_keeps_the_transaction_usable(workspace, agent):
    from django.db import transaction

    with transaction.atomic():
        assert _notify(workspace, agent, dedupe_key="x") is not None
        assert _notify(workspace, agent, dedupe_key="x") is None
        assert Notification.objects.filter(recipient=agent).count() == 1


def test_wrong_workspace_and_missing_kind_are_refused(workspace, other_workspace, agent):
    with pytest.raises(ValidationFailed):
        services.notify(actor=Actor.system(), workspace=other_workspace, recipient=agent, kind="sla.breach", title="x")
    with pytest.raises(ValidationFailed):
        services.notify(actor=Actor.system(), workspace=workspace, recipient=agent, kind=" ", title="x")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: concurrent inserts racing on a unique index"
)
def test_concurrent_notify_with_same_key_creates_one(workspace, agent):
    barrier = threading.Barrier(4)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker() -> None:
        from django.db import connection as conn

        try:
            barrier.wait()
            results.append(_notify(workspace, agent, dedupe_key="race", kind="routing.assigned"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sum(r is not None for r in results) == 1 and len(results) == 4
    assert Notification.objects.filter(recipient=agent, dedupe_key="race").count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_in_app_only_notification_outside_a_transaction_is_three_queries_and_still_deduplicated(
    workspace, agent, django_assert_num_queries
):
    # the dedupe check, the agent's preferences, the INSERT: no transaction, no savepoint (routing's after-commit case)
    with django_assert_num_queries(3):
        first = _notify(workspace, agent, kind="routing.assigned", dedupe_key="routing.assigned:1")
    assert first is not None and not first.deliveries.exists()
    assert _notify(workspace, agent, kind="routing.assigned", dedupe_key="routing.assigned:1") is None
    assert Notification.objects.filter(recipient=agent, dedupe_key="routing.assigned:1").count() == 1


def _time_passes(d: Delivery) -> None:
    """Move a delivery's due time to now, as if its back-off (or quiet hours) had passed."""
    Delivery.objects.filter(pk=d.pk).update(next_attempt_at=now())


def _window_around_now(agent, *, before_h: int, after_h: int) -> tuple[dt.time, dt.time]:
    local = now().astimezone(zoneinfo.ZoneInfo(agent.time_zone))
    start = (local - dt.timedelta(hours=before_h)).time().replace(second=0, microsecond=0)
    end = (local + dt.timedelta(hours=after_h)).time().replace(second=0, microsecond=0)
    return start, end


def test_quiet_hours_defer_external_not_in_app(workspace, agent, django_capture_on_commit_callbacks):
    start, end = _window_around_now(agent, before_h=1, after_h=2)
    set_channels(agent, {"*": ["email"]}, quiet_hours_enabled=True, quiet_start=start, quiet_end=end)
    with django_capture_on_commit_callbacks(execute=True):
        n = _notify(workspace, agent)
    d = n.deliveries.get()
    assert d.status == DeliveryStatus.QUEUED and d.deferred_until is not None and d.attempts == 0
    wait = (d.next_attempt_at - now()).total_seconds()
    assert 1.9 * 3600 < wait <= 2 * 3600 + 60
    assert mail.outbox == [] and selectors.unread_count(agent=agent) == 1
    # The retry scan before the end leaves it alone; after the end it is sent.
    assert services.retry_due() == 0
    _time_passes(d)
    assert services.retry_due() == 1
    assert Delivery.objects.get(pk=d.pk).status == DeliveryStatus.SENT and len(mail.outbox) == 1


def test_urgent_overrides_quiet_hours_unless_turned_off(workspace, agent, django_capture_on_commit_callbacks):
    start, end = _window_around_now(agent, before_h=1, after_h=1)
    pref = set_channels(agent, {"*": ["email"]}, quiet_hours_enabled=True, quiet_start=start, quiet_end=end)
    with django_capture_on_commit_callbacks(execute=True):
        urgent = _notify(workspace, agent, urgent=True)
    assert urgent.deliveries.get().status == DeliveryStatus.SENT
    pref.urgent_overrides_quiet = False
    pref.save()
    with django_capture_on_commit_callbacks(execute=True):
        held = _notify(workspace, agent, urgent=True)
    assert held.deliveries.get().deferred_until is not None


def test_outside_quiet_hours_sends_now(workspace, agent, django_capture_on_commit_callbacks):
    start, end = _window_around_now(agent, before_h=-2, after_h=4)  # a window starting in two hours
    set_channels(agent, {"*": ["email"]}, quiet_hours_enabled=True, quiet_start=start, quiet_end=end)
    with django_capture_on_commit_callbacks(execute=True):
        n = _notify(workspace, agent)
    assert n.deliveries.get().status == DeliveryStatus.SENT


def test_email_really_delivered_over_smtp(agent, ticket, smtp_server, settings, django_capture_on_commit_callbacks):
    workspace = agent.workspace
    settings.PIVOTDESK_BASE_URL = "https://desk.example.com"
    settings.PIVOTDESK_NOTIFICATIONS_FROM_EMAIL = "alerts@desk.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        n = _notify(
            workspace, agent, title="SLA 已违约: #42", body="第一次回复已超时。", url="/tickets/42/", ticket=ticket
        )
    assert n.deliveries.get().status == DeliveryStatus.SENT
    assert len(smtp_server.messages) == 1
    rcpts, msg = smtp_server.messages[0]
    assert rcpts == [agent.user.email]
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(msg["Subject"]))) == "SLA 已违约: #42"
    assert msg["To"] == agent.user.email and msg["From"] == "alerts@desk.example.com"
    assert msg["Auto-Submitted"] == "auto-generated"
    text = msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8")
    assert "第一次回复已超时。" in text and "https://desk.example.com/tickets/42/" in text


def test_smtp_down_retries_then_fails_with_reason(workspace, agent, settings, django_capture_on_commit_callbacks):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    settings.PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        n = _notify(workspace, agent)
    d = n.deliveries.get()
    assert d.status == DeliveryStatus.QUEUED and d.attempts == 1 and "refused" in d.error_display.lower()
    _time_passes(d)
    services.retry_due()
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED and d.attempts == 2 and d.failed_at is not None


def test_apprise_json_delivered_to_local_receiver(
    workspace, agent, receiver, settings, django_capture_on_commit_callbacks
):
    settings.PIVOTDESK_BASE_URL = "http://desk.local"
    set_channels(agent, {"routing.assigned": ["apprise"]})
    make_target(agent, receiver.url("/hooks/pd"), label="钉钉群")
    with django_capture_on_commit_callbacks(execute=True):
        n = _notify(workspace, agent, kind="routing.assigned", title="分配给你: #9", body="客户等待中", url="/t/9/")
    d = n.deliveries.get()
    assert d.status == DeliveryStatus.SENT and d.attempts == 1 and d.sent_at is not None
    assert d.destination.startswith("钉钉群 (json)")
    path, payload = receiver.requests[0]
    assert path == "/hooks/pd"
    assert payload["title"] == "分配给你: #9"
    assert payload["message"] == "客户等待中\n\nhttp://desk.local/t/9/"


def test_receiver_500_backs_off_then_fails_with_reason(
    workspace, agent, receiver, settings, django_capture_on_commit_callbacks
):
    settings.PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS = 3
    receiver.default = 500
    set_channels(agent, {"*": ["apprise"]})
    make_target(agent, receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        n = _notify(workspace, agent)
    d = n.deliveries.get()
    waits = []
    for attempt in (1, 2):
        assert d.status == DeliveryStatus.QUEUED and d.attempts == attempt
        wait = (d.next_attempt_at - d.last_attempt_at).total_seconds()
        ceiling = 30 * 2 ** (attempt - 1)
        assert ceiling / 2 <= wait <= ceiling
        waits.append(wait)
        assert services.deliver(delivery_id=d.pk) is None  # not due yet: no send
        _time_passes(d)
        services.retry_due()
        d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED and d.attempts == 3 and d.next_attempt_at is None
    assert "500" in d.error_display and "JSON" in d.error_display
    assert len(receiver.requests) == 3


def test_retry_now_after_failure_and_permission(
    agent, supervisor, receiver, settings, django_capture_on_commit_callbacks
):
    workspace = agent.workspace
    settings.PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS = 1
    receiver.respond(500)
    set_channels(agent, {"*": ["apprise"]})
    make_target(agent, receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        n = _notify(workspace, agent)
    d = n.deliveries.get()
    assert d.status == DeliveryStatus.FAILED
    with pytest.raises(PermissionDenied):
        services.delivery_retry(delivery=d, actor=Actor.for_agent(agent))
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(delivery=d, actor=Actor.for_agent(supervisor))
    d.refresh_from_db()
    assert d.status == DeliveryStatus.SENT and d.retries_requested == 1 and d.last_error == ""
    with pytest.raises(Conflict):
        services.delivery_retry(delivery=d, actor=Actor.for_agent(supervisor))


def test_claim_is_exclusive(workspace, agent, receiver):
    set_channels(agent, {"*": ["apprise"]})
    make_target(agent, receiver.url())
    d = _notify(workspace, agent).deliveries.get()  # on_commit not run: still queued
    assert outbox.claim(Delivery, pk=d.pk, lease_seconds=60) is not None  # another worker is sending it
    assert outbox.claim(Delivery, pk=d.pk, lease_seconds=60) is None  # leased
    assert services.deliver(delivery_id=d.pk) is None
    assert receiver.requests == []


def test_removed_target_suppresses_and_bad_secret_fails(workspace, agent, receiver, django_capture_on_commit_callbacks):
    set_channels(agent, {"*": ["apprise"]})
    target = make_target(agent, receiver.url())
    d = _notify(workspace, agent).deliveries.get()
    target.active = False
    target.save()
    services.deliver(delivery_id=d.pk)
    d.refresh_from_db()
    assert d.status == DeliveryStatus.SUPPRESSED and "turned off" in d.error_display


def test_target_url_is_encrypted_at_rest(agent):
    t = make_target(agent, "json://127.0.0.1:9/secret-token-abc")
    raw = type(t).objects.filter(pk=t.pk).values_list("secret", flat=True).get()
    assert "secret-token-abc" not in raw and t.scheme == "json"
    assert type(t).objects.get(pk=t.pk).url == "json://127.0.0.1:9/secret-token-abc"


def test_workspace_broadcast_to_shared_targets(workspace, receiver, django_capture_on_commit_callbacks):
    from pivotdesk.accounts.tests.factories import AgentFactory

    owner = AgentFactory(workspace=workspace)
    make_target(owner, receiver.url("/team"), shared=True, kinds=["sla.breach"])
    assert services.notify_workspace(actor=Actor.system(), workspace=workspace, kind="sla.warning", title="w") is None
    with django_capture_on_commit_callbacks(execute=True):
        n = services.notify_workspace(
            actor=Actor.system(), workspace=workspace, kind="sla.breach", title="b", dedupe_key="b1"
        )
    assert n is not None and n.recipient is None
    assert (
        services.notify_workspace(
            actor=Actor.system(), workspace=workspace, kind="sla.breach", title="b", dedupe_key="b1"
        )
        is None
    )
    assert [p for p, _ in receiver.requests] == ["/team"]


def test_mark_read_one_and_all_scoped_to_me(workspace, agent, supervisor):
    a1, a2 = _notify(workspace, agent), _notify(workspace, agent)
    theirs = _notify(workspace, supervisor)
    services.notification_mark_read(actor=Actor.for_agent(agent), agent=agent, notification_id=a1.pk)
    assert selectors.unread_count(agent=agent) == 1
    with pytest.raises(NotFound):
        services.notification_mark_read(actor=Actor.for_agent(agent), agent=agent, notification_id=theirs.pk)
    assert services.notifications_mark_all_read(actor=Actor.for_agent(agent), agent=agent) == 1
    assert selectors.unread_count(agent=agent) == 0 and selectors.unread_count(agent=supervisor) == 1
    first_read = Notification.objects.get(pk=a2.pk).read_at
    services.notification_mark_read(actor=Actor.for_agent(agent), agent=agent, notification_id=a2.pk)
    assert Notification.objects.get(pk=a2.pk).read_at == first_read


def test_preference_save_validates(agent):
    with pytest.raises(ValidationFailed) as err:
        services.preference_save(
            actor=Actor.for_agent(agent),
            agent=agent,
            channels={"sla.breach": ["fax"]},
            quiet_hours_enabled=False,
            quiet_start=None,
            quiet_end=None,
        )
    assert "fax" in err.value.message
    with pytest.raises(ValidationFailed):
        services.preference_save(
            actor=Actor.for_agent(agent),
            agent=agent,
            channels={},
            quiet_hours_enabled=True,
            quiet_start=dt.time(22),
            quiet_end=None,
        )
    with pytest.raises(ValidationFailed):
        services.preference_save(
            actor=Actor.for_agent(agent),
            agent=agent,
            channels={"bad key!": []},
            quiet_hours_enabled=False,
            quiet_start=None,
            quiet_end=None,
        )
    pref = services.preference_save(
        actor=Actor.for_agent(agent),
        agent=agent,
        channels={"SLA.*": ["apprise", "email", "email"]},
        quiet_hours_enabled=True,
        quiet_start=dt.time(22),
        quiet_end=dt.time(7),
    )
    assert pref.channels == {"sla.*": ["email", "apprise"]}


def test_target_create_validates_url_offline(agent):
    with pytest.raises(ValidationFailed):
        services.target_create(actor=Actor.for_agent(agent), agent=agent, label="x", url="nonsense://foo")
    with pytest.raises(ValidationFailed):
        services.target_create(actor=Actor.for_agent(agent), agent=agent, label="x", url="not a url")
    with pytest.raises(ValidationFailed):
        services.target_create(actor=Actor.for_agent(agent), agent=agent, label=" ", url="json://127.0.0.1:9/x")
    with pytest.raises(PermissionDenied):
        services.target_create(
            actor=Actor.for_agent(agent), agent=agent, label="team", url="json://127.0.0.1:9/x", shared=True
        )
    t = services.target_create(
        actor=Actor.for_agent(agent), agent=agent, label="DingTalk", url="dingtalk://abcdef0123456789/"
    )
    assert t.scheme == "dingtalk"


def test_target_test_reports_result(agent, receiver):
    t = services.target_create(actor=Actor.for_agent(agent), agent=agent, label="Hook", url=receiver.url("/t"))
    assert services.target_test(actor=Actor.for_agent(agent), target=t, agent=agent) == (True, "")
    receiver.respond(503)
    ok, reason = services.target_test(actor=Actor.for_agent(agent), target=t, agent=agent)
    assert not ok and "503" in reason
    assert receiver.requests[0][1]["title"] == "PivotDesk test notification"


def test_email_links_to_the_ticket_when_no_url_given(agent, ticket, settings, django_capture_on_commit_callbacks):
    settings.PIVOTDESK_BASE_URL = "https://desk.example.com/"
    with django_capture_on_commit_callbacks(execute=True):
        _notify(agent.workspace, agent, ticket=ticket, body="")
    assert mail.outbox[0].body == f"https://desk.example.com/tickets/{ticket.number}/"


def test_kind_label_is_translated_and_unknown_kinds_show_as_is(agent):
    from django.utils import translation

    n = _notify(agent.workspace, agent, kind="sla.breach")
    with translation.override("zh-hans"):
        assert n.kind_label == "SLA 违约：已超出目标时间"
    assert _notify(agent.workspace, agent, kind="custom.kind").kind_label == "custom.kind"
