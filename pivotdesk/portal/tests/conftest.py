"""Portal test helpers: a customer signed in to the portal (the session the magic link gives), and their world."""

from __future__ import annotations

import pytest
from django.test import Client

from pivotdesk.notifications.tests.conftest import smtp_server  # noqa: F401 - the aiosmtpd fixture
from pivotdesk.portal import session


@pytest.fixture
def portal_client(db):
    """Make a test client signed in to the portal as a contact (as after a magic link), asking for a language."""

    def make(contact, language: str = "en") -> Client:
        client = Client(headers={"accept-language": language})
        store = client.session
        store[session.SESSION_KEY] = {str(contact.workspace_id): {"c": contact.pk, "t": None}}
        store[session.LANGUAGE_KEY] = language
        store.save()
        return client

    return make
