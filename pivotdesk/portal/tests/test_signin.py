"""Signing in without a password: magic links and SMS codes are single use, expire, are throttled by the one rate
limiter, and the answer never tells whether an address belongs to a customer."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core import mail
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import ChannelAccount
from pivotdesk.common.errors import PermissionDenied, RateLimited, ValidationFailed
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.portal.models import CustomerNotice, NoticeKind, SignInToken
from pivotdesk.portal.services import signin

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def _link_secret(outbox_mail) -> str:
    match = re.search(r"/portal/[\w-]+/m/([\w-]+)/", outbox_mail.body)
    assert match, outbox_mail.body
    return match.group(1)


def test_a_magic_link_signs_in_once(workspace, contact, django_capture_on_commit_callbacks):
    # given a customer who asks for a link
    with django_capture_on_commit_callbacks(execute=True):
        result = signin.signin_request(actor=SYSTEM, workspace=workspace, address=contact.email.upper())
    assert result.method == "link"
    # then a mail with the link went out, and only a hash of it is stored
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [contact.email.upper()]
    secret = _link_secret(mail.outbox[0])
    token = SignInToken.objects.get(contact=contact)
    assert secret not in token.token_hash
    # and the notice row no longer carries the link once sent
    notice = CustomerNotice.objects.get(kind=NoticeKind.SIGN_IN_LINK)
    assert notice.status == "sent" and "url" not in notice.data
    # when it is used, it signs the customer in; a second use is refused
    assert signin.signin_with_link(workspace=workspace, secret=secret).contact_id == contact.pk
    with pytest.raises(ValidationFailed):
        signin.signin_with_link(workspace=workspace, secret=secret)


def test_a_magic_link_expires_and_a_newer_one_replaces_it(workspace, contact):
    first = signin.signin_request(actor=SYSTEM, workspace=workspace, address=contact.email, deliver=False)
    second = signin.signin_request(actor=SYSTEM, workspace=workspace, address=contact.email, deliver=False)
    with pytest.raises(ValidationFailed):
        signin.signin_with_link(workspace=workspace, secret=first.secret)
    SignInToken.objects.filter(used_at__isnull=True).update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(ValidationFailed):
        signin.signin_with_link(workspace=workspace, secret=second.secret)


def test_a_link_of_one_workspace_does_not_open_another(workspace, other_workspace, contact):
    result = signin.signin_request(actor=SYSTEM, workspace=workspace, address=contact.email, deliver=False)
    with pytest.raises(ValidationFailed):
        signin.signin_with_link(workspace=other_workspace, secret=result.secret)


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(
    workspace, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        unknown = signin.signin_request(actor=SYSTEM, workspace=workspace, address="nobody@example.org")
    assert unknown.method == "link" and mail.outbox == [] and not SignInToken.objects.exists()
    # and over HTTP the page reads the same for a customer and for nobody
    client = Client()
    url = f"/portal/{workspace.slug}/signin/"
    known_page = client.post(url, {"address": contact.email}).content.decode().replace(contact.email, "ADDRESS")
    unknown_page = client.post(url, {"address": "nobody@example.org"}).content.decode()
    unknown_page = unknown_page.replace("nobody@example.org", "ADDRESS")
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", known_page) == strip.sub("", unknown_page)


def test_sign_in_requests_are_throttled_per_address(workspace, contact):
    for _ in range(signin.REQUESTS_PER_ADDRESS_HOUR):
        signin.signin_request(actor=SYSTEM, workspace=workspace, address=contact.email, deliver=False)
    with pytest.raises(RateLimited):
        signin.signin_request(actor=SYSTEM, workspace=workspace, address=contact.email, deliver=False)
    # an unknown address is throttled alike (the limit does not reveal who exists)
    for _ in range(signin.REQUESTS_PER_ADDRESS_HOUR):
        signin.signin_request(actor=SYSTEM, workspace=workspace, address="ghost@example.org", deliver=False)
    with pytest.raises(RateLimited):
        signin.signin_request(actor=SYSTEM, workspace=workspace, address="ghost@example.org", deliver=False)


def test_only_the_system_asks_for_a_sign_in(workspace, contact, agent):
    with pytest.raises(PermissionDenied):
        signin.signin_request(actor=Actor.for_agent(agent), workspace=workspace, address=contact.email)


def test_an_sms_code_is_single_use_and_dies_after_wrong_guesses(workspace):
    customer = ContactFactory(workspace=workspace, email="", phone="+8613800000001")
    result = signin.signin_request(actor=SYSTEM, workspace=workspace, address="138 0000 0001", deliver=False)
    assert result.method == "code" and re.fullmatch(r"\d{6}", result.secret)
    wrong = f"{(int(result.secret) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationFailed):
        signin.signin_with_code(workspace=workspace, address="+8613800000001", code=wrong)
    assert signin.signin_with_code(workspace=workspace, address="+8613800000001", code=result.secret).contact_id == (
        customer.pk
    )
    with pytest.raises(ValidationFailed):
        signin.signin_with_code(workspace=workspace, address="+8613800000001", code=result.secret)
    # a new code: five wrong guesses end it, even before it expires
    again = signin.signin_request(actor=SYSTEM, workspace=workspace, address="+8613800000001", deliver=False)
    for _ in range(signin.CODE_ATTEMPTS):
        with pytest.raises(ValidationFailed):
            signin.signin_with_code(
                workspace=workspace, address="+8613800000001", code=wrong if wrong != again.secret else "000000"
            )
    with pytest.raises(ValidationFailed):
        signin.signin_with_code(workspace=workspace, address="+8613800000001", code=again.secret)


def test_code_checks_are_throttled_per_address(workspace):
    ContactFactory(workspace=workspace, email="", phone="+8613800000002")
    for _ in range(signin.CHECKS_PER_ADDRESS_HOUR):
        with pytest.raises(ValidationFailed):
            signin.signin_with_code(workspace=workspace, address="+8613800000002", code="123456")
    with pytest.raises(RateLimited):
        signin.signin_with_code(workspace=workspace, address="+8613800000002", code="123456")


def test_the_magic_link_page_signs_in_on_post_only(workspace, contact, ticket):
    result = signin.signin_request(actor=SYSTEM, workspace=workspace, address=contact.email, deliver=False)
    client = Client()
    url = f"/portal/{workspace.slug}/m/{result.secret}/"
    # a mail scanner's GET does not use the link up
    assert client.get(url).status_code == 200
    assert client.get(f"/portal/{workspace.slug}/requests/").status_code == 302
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].endswith("/requests/")
    page = client.get(f"/portal/{workspace.slug}/requests/")
    assert page.status_code == 200 and ticket.subject in page.content.decode()
    # the agent side knows nothing of it
    assert "_auth_user_id" not in client.session


def test_the_code_pages_sign_in_by_sms(workspace, settings, tmp_path, django_capture_on_commit_callbacks):
    # given an SMS channel in demo delivery (the text lands in the local sink) and a customer with a phone only
    settings.VAR_DIR = tmp_path
    ChannelAccount.objects.create(workspace=workspace, kind="sms", name="SMS", config={"delivery": "demo"})
    ContactFactory(workspace=workspace, email="", phone="+8613800000003")
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/{workspace.slug}/signin/", {"address": "+86 138 0000 0003"})
    assert response.status_code == 302 and response["Location"].endswith("/signin/code/")
    notice = CustomerNotice.objects.get(kind=NoticeKind.SIGN_IN_CODE)
    # the code went out by SMS and is no longer kept on the row
    assert notice.status == "sent" and notice.channel == "sms" and "code" not in notice.data
    sent = json.loads((tmp_path / "demo-outbox" / "portal" / f"{notice.pk}.json").read_text(encoding="utf-8"))
    code = re.search(r"\d{6}", sent["body"]).group(0)
    bad = client.post(f"/portal/{workspace.slug}/signin/code/", {"code": "000000" if code != "000000" else "111111"})
    assert bad.status_code == 422
    good = client.post(f"/portal/{workspace.slug}/signin/code/", {"code": code})
    assert good.status_code == 302 and good["Location"].endswith("/requests/")


def test_a_code_that_cannot_be_sent_fails_with_its_reason(workspace, django_capture_on_commit_callbacks):
    ContactFactory(workspace=workspace, email="", phone="+8613800000004")
    with django_capture_on_commit_callbacks(execute=True):
        signin.signin_request(actor=SYSTEM, workspace=workspace, address="+8613800000004")
    notice = CustomerNotice.objects.get(kind=NoticeKind.SIGN_IN_CODE)
    # no SMS channel is configured: failed at once, with the reason an admin reads, and no secret kept
    assert notice.status == "failed" and "no_account" in notice.last_error and "code" not in notice.data
