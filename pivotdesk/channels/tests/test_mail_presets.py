"""The mailbox presets (issue 18): the providers' published servers, the sign-in method each wants, the notes
worded in both languages, and which preset an address or a stored mailbox stands for."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.channels import mail_texts
from pivotdesk.channels.domain import mail_presets
from pivotdesk.channels.domain.mail_presets import AUTH_APP_PASSWORD, AUTH_OAUTH2, guess_preset, preset_matching


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("exmail", ("imap.exmail.qq.com", "smtp.exmail.qq.com", 465, "ssl", AUTH_APP_PASSWORD)),
        ("qq", ("imap.qq.com", "smtp.qq.com", 465, "ssl", AUTH_APP_PASSWORD)),
        ("163", ("imap.163.com", "smtp.163.com", 465, "ssl", AUTH_APP_PASSWORD)),
        ("126", ("imap.126.com", "smtp.126.com", 465, "ssl", AUTH_APP_PASSWORD)),
        ("aliyun", ("imap.qiye.aliyun.com", "smtp.qiye.aliyun.com", 465, "ssl", "password")),
        ("office365", ("outlook.office365.com", "smtp.office365.com", 587, "starttls", AUTH_OAUTH2)),
        ("gmail", ("imap.gmail.com", "smtp.gmail.com", 465, "ssl", AUTH_OAUTH2)),
    ],
)
def test_each_provider_has_its_published_servers(key, expected):
    imap, smtp, port, security, auth = expected
    preset = mail_presets.BY_KEY[key]
    config = preset.server_config()
    assert config == {"imap_host": imap, "imap_port": 993, "imap_ssl": True, "smtp_host": smtp, "smtp_port": port,
                      "smtp_security": security, "auth_method": auth}  # fmt: skip


def test_oauth2_is_required_for_office_365_and_offered_for_gmail():
    office, gmail = mail_presets.BY_KEY["office365"], mail_presets.BY_KEY["gmail"]
    assert office.oauth_required and office.auth_methods == (AUTH_OAUTH2,) and office.oauth_provider == "microsoft"
    assert not gmail.oauth_required and set(gmail.auth_methods) == {AUTH_OAUTH2, AUTH_APP_PASSWORD}
    assert mail_presets.OTHER.server_config() == {}  # "Other" fills nothing


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("wang@163.com", "163"),
        ("Li.Na@126.COM", "126"),
        ("me@qq.com", "qq"),
        ("me@foxmail.com", "qq"),
        ("help@gmail.com", "gmail"),
        ("ops@contoso.onmicrosoft.com", "office365"),
        ("support@acme.cn", None),  # a company domain may be on any provider
        ("not an address", None),
        ("x@not163.com", None),
    ],
)
def test_the_address_domain_guesses_the_preset(address, key):
    found = guess_preset(address)
    assert (found.key if found else None) == key


@given(st.text(max_size=80))
def test_guessing_never_fails_on_any_text(text):
    found = guess_preset(text)
    assert found is None or found.key in mail_presets.BY_KEY


def test_a_stored_mailbox_is_recognised_by_its_servers():
    assert preset_matching({"imap_host": "imap.exmail.qq.com", "smtp_host": "smtp.exmail.qq.com"}).key == "exmail"
    assert preset_matching({"imap_host": "IMAP.163.com"}).key == "163"
    assert preset_matching({"imap_host": "imap.163.com", "smtp_host": "mail.acme.cn"}) is None
    assert preset_matching({}) is None


@pytest.mark.parametrize("preset", [p for p in mail_presets.PRESETS if p.notes], ids=lambda p: p.key)
def test_every_note_is_worded_in_both_languages(preset):
    for note in preset.notes:
        with translation.override("en"):
            english = str(mail_texts.PRESET_NOTES[note])
        with translation.override("zh-hans"):
            chinese = str(mail_texts.PRESET_NOTES[note])
        assert english and chinese and english != chinese


def test_the_authorisation_code_hints_name_the_right_thing():
    with translation.override("zh-hans"):
        assert "授权码" in mail_texts.auth_hint("163")
        assert "客户端专用密码" in mail_texts.auth_hint("exmail")
        assert "OAuth2" in mail_texts.auth_hint("")  # no preset: the general hint
    with translation.override("en"):
        assert "authorisation code" in mail_texts.auth_hint("exmail")
