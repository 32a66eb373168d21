"""The fields of the channel admin form per kind: which settings are plain config and which are secrets.

Secrets are write-only in the UI: a stored one shows as "••• set", an empty input keeps it, "clear" removes it.
Settings not listed for a kind are edited in the JSON box (the generic editor for less common options).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pivotdesk.channels.domain import mail_presets
from pivotdesk.common.errors import ValidationFailed

if TYPE_CHECKING:  # a type-checking package: not installed by `make run`
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class SettingField:
    key: str
    label: StrOrPromise
    kind: str = "text"  # text | number | bool | secret | select
    options: tuple[str, ...] = ()
    help: StrOrPromise = ""
    keep_false: bool = False  # a bool whose absence means True (IMAP over SSL): an unticked box is stored

    @property
    def secret(self) -> bool:
        return self.kind == "secret"


def _api_base(default: str) -> SettingField:
    return SettingField("api_base", _("API base URL"), help=_("Default: %(url)s") % {"url": default})


KIND_FIELDS: dict[str, list[SettingField]] = {
    "email": [
        SettingField("address", _("Support address"), help=_("Replies are sent from this address.")),
        SettingField("preset", _("Mail provider"), "select", tuple(p.key for p in mail_presets.PRESETS)),
        SettingField("from_name", _("Sender name")),
        SettingField("auth_method", _("Sign-in method"), "select", mail_presets.AUTH_METHODS),
        SettingField("imap_host", _("IMAP host")),
        SettingField("imap_port", _("IMAP port"), "number"),
        SettingField("imap_ssl", _("IMAP over SSL"), "bool", keep_false=True),
        SettingField("username", _("IMAP user name")),
        SettingField("password", _("IMAP password"), "secret"),
        SettingField("folder", _("IMAP folder"), help=_("Default: INBOX")),
        SettingField("smtp_host", _("SMTP host")),
        SettingField("smtp_port", _("SMTP port"), "number"),
        SettingField("smtp_security", _("SMTP security"), "select", ("starttls", "ssl", "none")),
        SettingField("smtp_username", _("SMTP user name")),
        SettingField("smtp_password", _("SMTP password"), "secret"),
        SettingField(
            "oauth_client_id",
            _("OAuth2 client id"),
            help=_("Only for OAuth2, when this mailbox uses its own app registration instead of the installation's."),
        ),
        SettingField("oauth_client_secret", _("OAuth2 client secret"), "secret"),
    ],
    "wechat": [
        SettingField("app_id", _("AppID")),
        SettingField("token", _("Callback token"), "secret"),
        SettingField("app_secret", _("AppSecret"), "secret"),
        SettingField("encoding_aes_key", _("EncodingAESKey (safe mode)"), "secret"),
        _api_base("https://api.weixin.qq.com"),
    ],
    "wecom": [
        SettingField("corp_id", _("Corp ID")),
        SettingField("open_kfid", _("Customer-service account (open_kfid)")),
        SettingField("token", _("Callback token"), "secret"),
        SettingField("encoding_aes_key", _("EncodingAESKey"), "secret"),
        SettingField("secret", _("App secret"), "secret"),
        _api_base("https://qyapi.weixin.qq.com"),
    ],
    "telegram": [
        SettingField("bot_token", _("Bot token"), "secret"),
        SettingField("secret_token", _("Webhook secret token"), "secret"),
        _api_base("https://api.telegram.org"),
    ],
    "whatsapp": [
        SettingField("phone_number_id", _("Phone number ID")),
        SettingField("access_token", _("Access token"), "secret"),
        SettingField("app_secret", _("App secret"), "secret"),
        SettingField("verify_token", _("Verify token"), "secret"),
    ],
    "messenger": [
        SettingField("page_id", _("Page ID")),
        SettingField("page_access_token", _("Page access token"), "secret"),
        SettingField("app_secret", _("App secret"), "secret"),
        SettingField("verify_token", _("Verify token"), "secret"),
    ],
    "line": [
        SettingField("channel_secret", _("Channel secret"), "secret"),
        SettingField("channel_access_token", _("Channel access token"), "secret"),
        _api_base("https://api.line.me"),
    ],
    "sms": [
        SettingField("account_sid", _("Account SID")),
        SettingField("from_number", _("From number (E.164)")),
        SettingField("messaging_service_sid", _("Messaging service SID")),
        SettingField("auth_token", _("Auth token"), "secret"),
        _api_base("https://api.twilio.com"),
    ],
    "generic": [
        SettingField("reply_url", _("Reply URL"), help=_("Agent replies are POSTed here as JSON.")),
        SettingField("signing_secret", _("Signing secret"), "secret"),
        SettingField("bearer_token", _("Inbound bearer token"), "secret"),
        SettingField("reply_bearer_token", _("Reply bearer token"), "secret"),
    ],
    "cti": [
        SettingField("signing_secret", _("Signing secret"), "secret"),
        SettingField("recording_token", _("Recording download token"), "secret"),
    ],
    "web_form": [
        SettingField("title", _("Title")),
        SettingField("title_zh", _("Title (Chinese)")),
        SettingField("intro", _("Introduction")),
        SettingField("intro_zh", _("Introduction (Chinese)")),
        SettingField("captcha_secret", _("Captcha secret"), "secret", help=_('Set "captcha" in the JSON settings.')),
    ],
    "chat": [
        SettingField("title", _("Title")),
        SettingField("title_zh", _("Title (Chinese)")),
        SettingField("greeting", _("Greeting")),
        SettingField("greeting_zh", _("Greeting (Chinese)")),
        SettingField("require_email", _("Require an email address"), "bool"),
        SettingField("away_after_minutes", _("Continue by email after (minutes away)"), "number"),
    ],
}


def fields_for(kind: str) -> list[SettingField]:
    return KIND_FIELDS.get(kind, [])


def extra_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The settings not covered by the kind's fields (shown in the JSON box)."""
    known = {f.key for f in fields_for(kind) if not f.secret}
    return {k: v for k, v in config.items() if k not in known}


def _typed(field: SettingField, raw: str, present: bool) -> Any:
    if field.kind == "bool":
        return present
    raw = raw.strip()
    if field.kind == "number":
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError as exc:
            raise ValidationFailed(gettext("%(field)s: enter a whole number.") % {"field": field.label}) from exc
    if field.kind == "select" and raw and raw not in field.options:
        raise ValidationFailed(
            gettext("%(field)s: choose one of %(options)s.")
            % {"field": field.label, "options": ", ".join(field.options)}
        )
    return raw or None


def read_settings(kind: str, post: Any, current_config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(config, secrets to merge) from a posted form: the JSON box, the typed fields on top; secrets only when
    typed in (or cleared)."""
    text = str(post.get("config_json", "") or "").strip()
    try:
        extra = json.loads(text) if text else {}
    except ValueError as exc:
        raise ValidationFailed(gettext("The JSON settings are not valid JSON: %(error)s") % {"error": exc}) from exc
    if not isinstance(extra, dict):
        raise ValidationFailed(gettext("The JSON settings must be an object."))
    config: dict[str, Any] = dict(extra)
    kept_internal = {k: v for k, v in current_config.items() if k in ("imap_uidvalidity", "last_uid")}
    config.update({k: v for k, v in kept_internal.items() if k not in config})
    secrets: dict[str, Any] = {}
    for field in fields_for(kind):
        name = f"f_{field.key}"
        if field.secret:
            if post.get(f"clear_{field.key}"):
                secrets[field.key] = None
            elif str(post.get(name, "") or "").strip():
                secrets[field.key] = str(post.get(name)).strip()
            continue
        value = _typed(field, str(post.get(name, "") or ""), name in post)
        unset_flag = (
            field.kind == "bool" and value is False and field.key not in current_config and not field.keep_false
        )
        if value is None or unset_flag:
            config.pop(field.key, None)
        else:
            config[field.key] = value
    return config, secrets or None
