"""Inviting by e-mail, end to end: the mail goes out through the notifications' e-mail wire with a link; the link
sets a password and joins the workspace (role, teams), works once, and a used, withdrawn or expired link says so."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from pivotdesk.accounts.models import AgentProfile, Invitation, User
from pivotdesk.accounts.tests.factories import AgentFactory, UserFactory
from pivotdesk.common.crypto import secret_digest
from pivotdesk.common.time import now

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s]+/invite/([\w-]+)/")


def invite(client: Client, capture: Any, **data: Any) -> Any:
    with capture(execute=True):
        return client.post(reverse("web:settings_invite"), {"role": "agent", **data})


def token_of(message: Any) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def test_an_invited_person_sets_a_password_and_joins(
    admin_agent_client, admin_agent, configured, django_capture_on_commit_callbacks
):
    # given an admin who invites a new person as a supervisor of the billing team, in Chinese
    team = configured["team"]
    response = invite(
        admin_agent_client,
        django_capture_on_commit_callbacks,
        email="Li.Na@Example.COM",
        role="supervisor",
        teams=[team.pk],
        language="zh-hans",
    )
    assert response.status_code == 302
    # then one mail went out to the address, in Chinese, with a single-use link; only its hash is stored
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Li.Na@example.com"] and "邀请" in message.subject
    token = token_of(message)
    invitation = Invitation.objects.get(email="Li.Na@example.com")
    assert invitation.status == "sent" and invitation.token_hash == secret_digest(token)
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().first())
    # when the person opens the link and chooses a username and password
    visitor = Client()
    page = visitor.get(f"/invite/{token}/")
    assert page.status_code == 200 and "Li.Na@example.com" in page.content.decode()
    answer = visitor.post(
        f"/invite/{token}/",
        {
            "username": "li.na",
            "display_name": "李娜",
            "password": "a long pass phrase 42",
            "password2": "a long pass phrase 42",
        },
    )
    # then they are signed in to the workspace with the invited role and team
    assert answer.status_code == 302 and answer["Location"] == reverse("web:queue")
    user = User.objects.get(username="li.na")
    assert user.email == "Li.Na@example.com" and user.check_password("a long pass phrase 42")
    profile = AgentProfile.objects.get(user=user, workspace=admin_agent.workspace)
    assert profile.role == "supervisor" and list(profile.teams.all()) == [team]
    assert visitor.get(reverse("web:queue")).status_code == 200
    # and the link is used up: a second use says so plainly
    again = Client().get(f"/invite/{token}/")
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_an_existing_user_signs_in_and_gets_the_membership(
    admin_agent_client, other_workspace, client_as, django_capture_on_commit_callbacks
):
    # given a person who works in another workspace already
    elsewhere = AgentFactory(workspace=other_workspace, user=UserFactory(email="wang@example.com"))
    invite(admin_agent_client, django_capture_on_commit_callbacks, email="wang@example.com")
    token = token_of(mail.outbox[0])
    # when they open the link signed out, they are asked to sign in (no second account)
    anonymous = Client().get(f"/invite/{token}/").content.decode()
    assert "/login/?next=" in anonymous and 'name="password2"' not in anonymous
    # and signed in as themselves they join with one click
    client = client_as(elsewhere)
    assert client.post(f"/invite/{token}/").status_code == 302
    assert AgentProfile.objects.filter(user=elsewhere.user, is_active=True).count() == 2


def test_someone_else_signed_in_cannot_take_the_invitation(
    admin_agent_client, agent, client_as, django_capture_on_commit_callbacks
):
    invite(admin_agent_client, django_capture_on_commit_callbacks, email="chen@example.com")
    token = token_of(mail.outbox[0])
    response = client_as(agent).post(f"/invite/{token}/")
    assert response.status_code == 403 and "another account" in response.content.decode()
    assert Invitation.objects.get(email="chen@example.com").accepted_at is None


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"expires_at": now() - dt.timedelta(minutes=1)}, 410, "expired"),
        ({"revoked_at": now()}, 410, "withdrawn"),
    ],
)
def test_an_expired_or_withdrawn_link_is_a_clear_error(
    admin_agent_client, django_capture_on_commit_callbacks, change, status, words
):
    invite(admin_agent_client, django_capture_on_commit_callbacks, email="late@example.com")
    token = token_of(mail.outbox[0])
    Invitation.objects.filter(email="late@example.com").update(**change)
    for response in (Client().get(f"/invite/{token}/"), Client().post(f"/invite/{token}/", {"username": "x"})):
        assert response.status_code == status and words in response.content.decode()
    assert not User.objects.filter(email="late@example.com").exists()


def test_an_unknown_link_is_a_404_with_a_readable_message():
    response = Client().get("/invite/not-a-real-invitation-token-at-all/")
    assert response.status_code == 404 and "not valid" in response.content.decode()


def test_resend_issues_a_new_link_and_the_old_one_stops_working(
    admin_agent_client, configured, django_capture_on_commit_callbacks
):
    invite(admin_agent_client, django_capture_on_commit_callbacks, email="again@example.com")
    old = token_of(mail.outbox[0])
    invitation = Invitation.objects.get(email="again@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_agent_client.post(reverse("web:settings_invitation_resend", args=[invitation.pk]))
    assert response.status_code == 302 and len(mail.outbox) == 2
    new = token_of(mail.outbox[1])
    assert new != old
    assert Client().get(f"/invite/{old}/").status_code == 404
    assert Client().get(f"/invite/{new}/").status_code == 200


def test_a_withdrawn_invitation_is_not_accepted(admin_agent_client, django_capture_on_commit_callbacks):
    invite(admin_agent_client, django_capture_on_commit_callbacks, email="gone@example.com")
    token = token_of(mail.outbox[0])
    invitation = Invitation.objects.get(email="gone@example.com")
    assert admin_agent_client.post(reverse("web:settings_invitation_revoke", args=[invitation.pk])).status_code == 302
    response = Client().post(
        f"/invite/{token}/",
        {"username": "gone", "password": "a long pass phrase 42", "password2": "a long pass phrase 42"},
    )
    assert response.status_code == 410
    assert not User.objects.filter(username="gone").exists()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"email": "not an address"}, "not an e-mail address"),
        ({"email": ""}, "is required"),
        ({"email": "x@example.com", "role": "emperor"}, "Unknown role"),
        ({"email": "x@example.com", "teams": ["abc"]}, "not a valid choice"),
    ],
)
def test_bad_invitations_are_a_readable_422(admin_agent_client, django_capture_on_commit_callbacks, data, words):
    response = invite(admin_agent_client, django_capture_on_commit_callbacks, **data)
    assert response.status_code == 422 and words in response.content.decode()
    assert len(mail.outbox) == 0


def test_a_member_or_a_pending_invitation_is_not_invited_twice(
    admin_agent_client, agent, configured, django_capture_on_commit_callbacks
):
    assert invite(admin_agent_client, django_capture_on_commit_callbacks, email=agent.user.email).status_code == 409
    again = invite(admin_agent_client, django_capture_on_commit_callbacks, email="new.person@example.com")
    assert again.status_code == 409 and "already invited" in again.content.decode()


def test_a_weak_password_or_a_taken_username_is_refused_readably(
    admin_agent_client, agent, django_capture_on_commit_callbacks
):
    invite(admin_agent_client, django_capture_on_commit_callbacks, email="weak@example.com")
    token = token_of(mail.outbox[0])
    weak = Client().post(f"/invite/{token}/", {"username": "weak", "password": "123", "password2": "123"})
    assert weak.status_code == 422 and "password" in weak.content.decode().lower()
    taken = Client().post(
        f"/invite/{token}/",
        {"username": agent.user.username, "password": "a long pass phrase 42", "password2": "a long pass phrase 42"},
    )
    assert taken.status_code == 409 and "taken" in taken.content.decode()
    differ = Client().post(
        f"/invite/{token}/", {"username": "weak", "password": "a long pass 42", "password2": "other"}
    )
    assert differ.status_code == 422 and "differ" in differ.content.decode()
    assert Invitation.objects.get(email="weak@example.com").accepted_at is None


def test_a_mail_that_cannot_be_sent_is_shown_with_its_reason(
    admin_agent_client, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    response = invite(admin_agent_client, django_capture_on_commit_callbacks, email="nomail@example.com")
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="nomail@example.com")
    assert invitation.status == "failed" and invitation.last_error
    page = admin_agent_client.get(reverse("web:settings_agents")).content.decode()
    assert "Not sent" in page
