"""Two requests from a new customer at once: the second finds the contact the first created (no 409, no 500)."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.customers import services
from pivotdesk.customers.models import ChannelIdentity, Contact

pytestmark = pytest.mark.django_db


def test_a_contact_created_between_look_up_and_insert_is_the_one_resolved(workspace, monkeypatch):
    # Given another request creates the contact right after this one looked and found nobody
    first = services.contact_resolve(workspace=workspace, actor=Actor.system(), kind="email", value="new@example.com")
    real = services._known_contact
    calls = []

    def missed_once(*args: object) -> Contact | None:
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(services, "_known_contact", missed_once)

    # When this request resolves the same address
    again = services.contact_resolve(workspace=workspace, actor=Actor.system(), kind="email", value="New@Example.com")

    # Then it gets the existing contact, and nothing was duplicated
    assert again.pk == first.pk
    assert Contact.objects.filter(workspace=workspace).count() == 1
    assert ChannelIdentity.objects.filter(workspace=workspace, kind="email").count() == 1


def test_a_customer_seen_again_within_half_a_minute_costs_no_write(workspace, django_assert_num_queries):
    services.contact_resolve(workspace=workspace, actor=Actor.system(), kind="email", value="back@example.com")
    with django_assert_num_queries(1):  # the look-up only: last_seen_at is fresh
        services.contact_resolve(workspace=workspace, actor=Actor.system(), kind="email", value="back@example.com")
