"""Django admin of notifications: pages render, target URLs are write-only and validated, retry action requeues."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.notifications import services
from pivotdesk.notifications.models import Delivery, DeliveryStatus, NotificationTarget
from pivotdesk.notifications.tests.factories import make_target, set_channels

pytestmark = pytest.mark.django_db


def test_changelists_render(admin_client, agent):
    services.notify(actor=Actor.system(), workspace=agent.workspace, recipient=agent, kind="sla.breach", title="t")
    for model in ("notification", "notificationpreference", "notificationtarget", "delivery"):
        assert admin_client.get(f"/admin/notifications/{model}/").status_code == 200


def test_target_url_is_never_shown_and_bad_url_refused(admin_client, agent):
    target = make_target(agent, "json://127.0.0.1:9/very-secret-path")
    page = admin_client.get(f"/admin/notifications/notificationtarget/{target.pk}/change/").content.decode()
    assert "very-secret-path" not in page
    r = admin_client.post(
        "/admin/notifications/notificationtarget/add/",
        {
            "workspace": agent.workspace_id,
            "agent": agent.pk,
            "label": "x",
            "kinds": "[]",
            "active": "on",
            "new_url": "nope://x",
        },
    )
    assert r.status_code == 200 and "Apprise does not understand" in r.content.decode()
    assert NotificationTarget.objects.count() == 1


def test_retry_action_requeues_failed(admin_client, agent, settings):
    settings.PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS = 1
    set_channels(agent, {"*": ["email"]})
    n = services.notify(actor=Actor.system(), workspace=agent.workspace, recipient=agent, kind="x.y", title="t")
    d = n.deliveries.get()
    Delivery.objects.filter(pk=d.pk).update(status=DeliveryStatus.FAILED, next_attempt_at=None, last_error="boom")
    r = admin_client.post("/admin/notifications/delivery/", {"action": "retry_now", "_selected_action": [d.pk]})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == DeliveryStatus.QUEUED and d.attempts == 0 and d.retries_requested == 1
