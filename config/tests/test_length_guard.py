"""Over-long text is a translated validation error on every database, not a PostgreSQL 500 (issue 11 bad-input
corpus: a 10,000-character view name passed on SQLite and failed with DataError on PostgreSQL)."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.customers.services import contact_resolve
from pivotdesk.tickets.models import SavedView
from pivotdesk.tickets.services import saved_view_create

pytestmark = pytest.mark.django_db


def test_an_over_long_name_is_refused_before_anything_is_written(workspace, agent):
    with pytest.raises(ValidationFailed):
        SavedView.objects.create(workspace=workspace, name="x" * 121, filters={}, owner=agent)
    with pytest.raises(ValidationFailed):
        saved_view_create(actor=Actor.system(), workspace=workspace, name="视" * 500, filters={}, owner=agent)
    assert not SavedView.objects.filter(workspace=workspace).exists()


def test_the_message_names_the_field_in_chinese(workspace, agent):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
        SavedView.objects.create(workspace=workspace, name="x" * 121, filters={}, owner=agent)
    assert "最多 120 个字符" in str(caught.value)


def test_a_senders_long_display_name_never_loses_the_message(workspace):
    contact = contact_resolve(
        workspace=workspace, actor=Actor.system("channel"), kind="email", value="a@example.com", name="名" * 1000
    )
    assert len(contact.name) == 200
