"""The public web form: rendering from config, submissions to tickets, errors, bots, attachments, headless JSON."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels import captcha
from pivotdesk.channels.models import InboundPayload
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.web_form import inbound_reprocess
from pivotdesk.customers.models import Contact
from pivotdesk.tickets.models import Attachment, CustomField, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def form(workspace):
    CustomField.objects.create(
        workspace=workspace, key="order_no", label="Order number", label_zh="订单号", field_type="text"
    )
    CustomField.objects.create(
        workspace=workspace, key="product", label="Product", label_zh="产品", field_type="select",
        options=["Printer", "Scanner"],
    )  # fmt: skip
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="web_form",
        name="Support form",
        config={
            "title": "Contact support",
            "title_zh": "联系客服",
            "intro": "We answer within a day.",
            "fields": ["name", "email", "phone", "subject", "description", "order_no", "product"],
            "required": ["email", "description", "product"],
            "attachments": {"max_files": 2, "max_mb": 1},
        },
    )


def url(account) -> str:
    return reverse("channels:form", args=[account.webhook_key])


def valid(**extra):
    return {
        "name": "王芳",
        "email": "WangFang@Example.cn",
        "phone": "138 0013 8000",
        "subject": "打印机卡纸",
        "description": "打印机一直卡纸，怎么办？",
        "order_no": "A-1001",
        "product": "Printer",
        **extra,
    }


def test_form_renders_configured_fields_in_both_languages(form):
    page = Client().get(url(form))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Contact support" in html and "We answer within a day." in html
    assert 'name="order_no"' in html and "Order number" in html and "Scanner" in html
    assert 'name="website"' in html  # the honeypot
    zh = Client().get(url(form) + "?lang=zh-hans").content.decode()
    assert "联系客服" in zh and "订单号" in zh and "邮箱地址" in zh


def test_valid_submission_opens_a_ticket_and_thanks_with_its_number(form, workspace):
    response = Client().post(url(form), valid())
    assert response.status_code == 302
    thanks = Client().get(response["Location"])
    ticket = Ticket.objects.get(workspace=workspace)
    assert thanks.status_code == 200
    assert f"#{ticket.number}" in thanks.content.decode()
    assert ticket.channel == "web_form" and ticket.subject == "打印机卡纸"
    assert ticket.custom_fields == {"order_no": "A-1001", "product": "Printer"}
    contact = Contact.objects.get(pk=ticket.requester_id)
    assert contact.email == "wangfang@example.cn" and contact.name == "王芳"
    assert set(contact.identities.values_list("kind", "value")) == {
        ("email", "wangfang@example.cn"),
        ("phone", "+8613800138000"),
    }
    first = ticket.messages.order_by("pk").first()
    assert "打印机一直卡纸" in first.body_text and "Order number: A-1001" in first.body_text
    payload = InboundPayload.objects.get(workspace=workspace)
    assert payload.status == "processed" and payload.ticket_id == ticket.pk


def test_same_email_on_the_form_is_the_same_contact_as_by_email(form, workspace):
    from pivotdesk.customers.services import contact_resolve

    known = contact_resolve(
        actor=Actor.system(), workspace=workspace, kind="email", value="wangfang@example.cn", name="Wang"
    )
    Client().post(url(form), valid())
    assert Ticket.objects.get(workspace=workspace).requester_id == known.pk


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": ""}, "email", "This field is required."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"product": ""}, "product", "This field is required."),
        ({"product": "Toaster"}, "product", "This value is not valid"),
    ],
)
def test_bad_input_rerenders_the_form_with_errors_and_keeps_the_values(form, workspace, change, field, message):
    response = Client().post(url(form), valid(**change))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "打印机一直卡纸，怎么办？" in html  # nothing the visitor typed is lost
    assert not Ticket.objects.filter(workspace=workspace).exists()
    assert not InboundPayload.objects.filter(workspace=workspace).exists()


def test_oversize_and_blocked_files_are_refused(form, workspace):
    big = SimpleUploadedFile("photo.png", b"x" * (1024 * 1024 + 1), content_type="image/png")
    response = Client().post(url(form), {**valid(), "attachments": [big]})
    assert response.status_code == 400 and "larger than the size limit" in response.content.decode()
    exe = SimpleUploadedFile("setup.exe", b"MZ", content_type="application/octet-stream")
    response = Client().post(url(form), {**valid(), "attachments": [exe]})
    assert response.status_code == 400 and "not accepted" in response.content.decode()
    assert not Ticket.objects.filter(workspace=workspace).exists()


def test_attachments_are_stored_on_the_ticket(form, workspace):
    shot = SimpleUploadedFile("截图.png", b"\x89PNG fake", content_type="image/png")
    response = Client().post(url(form), {**valid(), "attachments": [shot]})
    assert response.status_code == 302
    attachment = Attachment.objects.get(workspace=workspace)
    assert attachment.filename == "截图.png" and attachment.size == len(b"\x89PNG fake")
    raw = json.loads(bytes(InboundPayload.objects.get(workspace=workspace).raw))
    assert base64.b64decode(raw["attachments"][0]["content_base64"]) == b"\x89PNG fake"


def test_honeypot_is_rejected_and_nothing_is_opened(form, workspace):
    response = Client().post(url(form), valid(website="http://spam.example"))
    assert response.status_code == 400
    assert "rejected" in response.content.decode()
    assert not Ticket.objects.filter(workspace=workspace).exists()


def test_per_ip_rate_limit(form, workspace):
    form.config = {**form.config, "rate_limit_per_hour": 2}
    form.save()
    client = Client()
    assert client.post(url(form), valid(email="a@example.cn", phone="")).status_code == 302
    assert client.post(url(form), valid(email="b@example.cn", phone="")).status_code == 302
    assert client.post(url(form), valid(email="c@example.cn", phone="")).status_code == 429
    assert Ticket.objects.filter(workspace=workspace).count() == 2


def test_captcha_hook_calls_the_configured_verifier(form, workspace, monkeypatch):
    seen = []

    def verify(secret: str, token: str, ip: str) -> bool:
        seen.append((secret, token))
        return token == "good"

    monkeypatch.setitem(captcha.VERIFIERS, "turnstile", verify)
    from pivotdesk.channels.services.accounts import channel_account_update

    channel_account_update(
        actor=Actor.system(),
        account=form,
        config={**form.config, "captcha": {"provider": "turnstile", "site_key": "site-1"}},
        secrets={"captcha_secret": "s3cret"},
    )
    page = Client().get(url(form)).content.decode()
    assert "challenges.cloudflare.com/turnstile" in page and 'data-sitekey="site-1"' in page
    bad = Client().post(url(form), valid(**{"cf-turnstile-response": "bad"}))
    assert bad.status_code == 400 and "captcha" in bad.content.decode()
    good = Client().post(url(form), valid(**{"cf-turnstile-response": "good"}))
    assert good.status_code == 302
    assert seen == [("s3cret", "bad"), ("s3cret", "good")]


def test_unknown_captcha_provider_fails_closed(form, workspace):
    form.config = {**form.config, "captcha": {"provider": "typo"}}
    form.save()
    assert Client().post(url(form), valid()).status_code == 400


def test_headless_json_submission(form, workspace):
    body = {
        **valid(),
        "id": "crm-77",
        "attachments": [{"filename": "a.txt", "content_type": "text/plain", "content_base64": "aGVsbG8="}],
    }
    response = Client().post(url(form), json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    data = response.json()
    ticket = Ticket.objects.get(workspace=workspace)
    assert data["ticket"] == ticket.number and data["processing"] == "processed"
    again = Client().post(url(form), json.dumps(body), content_type="application/json")
    assert again.json()["ticket"] == ticket.number  # the same id twice is one ticket
    assert Ticket.objects.filter(workspace=workspace).count() == 1
    bad = Client().post(url(form), json.dumps({"email": "x"}), content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"email", "description", "product"}


def test_raw_submission_is_kept_when_processing_fails_and_reprocesses_after_a_fix(form, workspace, settings):
    settings.PIVOTDESK_INBOUND_MAX_TICKETS_PER_SENDER_HOUR = 0  # every new ticket is held: processing fails
    response = Client().post(url(form), valid())
    assert response.status_code == 302
    payload = InboundPayload.objects.get(workspace=workspace)
    assert payload.status == "failed" and "opened more than 0 tickets" in payload.reason
    assert "王芳" in bytes(payload.raw).decode()
    thanks = Client().get(response["Location"]).content.decode()
    assert "will be turned into a ticket shortly" in thanks
    settings.PIVOTDESK_INBOUND_MAX_TICKETS_PER_SENDER_HOUR = 20
    payload = inbound_reprocess(actor=Actor.system(), payload=payload)
    assert payload.status == "processed"
    assert Ticket.objects.get(pk=payload.ticket_id).custom_fields["order_no"] == "A-1001"


def test_unknown_or_inactive_form_is_404(form):
    assert Client().get(reverse("channels:form", args=["nope"])).status_code == 404
    form.active = False
    form.save()
    assert Client().get(url(form)).status_code == 404


def test_thanks_page_of_another_form_is_404(form, workspace, other_workspace):
    response = Client().post(url(form), valid())
    other = channel_account_create(actor=Actor.system(), workspace=other_workspace, kind="web_form", name="Other")
    token = response["Location"].rstrip("/").split("?")[0].split("/")[-2]
    stolen = reverse("channels:form_thanks", args=[other.webhook_key, token])
    assert Client().get(stolen).status_code == 404
    assert Client().get(reverse("channels:form_thanks", args=[form.webhook_key, "forged"])).status_code == 404
