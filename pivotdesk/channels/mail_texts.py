"""The words of the mailbox setup (issue 18), in one place: preset notes, sign-in methods, the connection test's
steps and result codes, OAuth2 errors. Stored rows keep the codes (`MailboxCheck.steps`, `MailboxOAuth.error_code`);
these turn them into a sentence in the reader's language when a page is drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pivotdesk.channels.domain import mail_presets

if TYPE_CHECKING:  # a type-checking package: not installed by `make run`
    from django_stubs_ext import StrOrPromise

PRESET_LABELS: dict[str, StrOrPromise] = {
    "exmail": _("Tencent Exmail (QQ 企业邮箱)"),
    "qq": _("QQ Mail"),
    "163": _("NetEase 163 Mail"),
    "126": _("NetEase 126 Mail"),
    "aliyun": _("Alibaba Mail (阿里企业邮箱)"),
    "office365": _("Microsoft 365 / Office 365"),
    "gmail": _("Gmail / Google Workspace"),
    "other": _("Other provider"),
}

PRESET_NOTES: dict[str, StrOrPromise] = {
    "exmail_client_password": _(
        "QQ 企业邮箱 needs an authorisation code (客户端专用密码), not the login password, when secure login "
        "(WeChat binding) is on: generate one under 设置 → 账户 → 客户端专用密码."
    ),
    "enable_imap_exmail": _("Turn on IMAP/SMTP for the mailbox in 设置 → 收发信设置 first."),
    "qq_auth_code": _(
        "QQ Mail: turn on the IMAP/SMTP service in 设置 → 账户 and sign in with the 授权码 it shows, not the QQ "
        "password."
    ),
    "netease_auth_code": _(
        "163/126: enable IMAP/SMTP in 设置 → POP3/SMTP/IMAP and use the 授权码 (client authorisation code) as the "
        "password; the login password is refused."
    ),
    "aliyun_client_password": _(
        "Aliyun 企业邮箱: the mailbox password works unless the organisation requires a 三方客户端安全密码 "
        "(third-party client password); then use that."
    ),
    "office365_oauth": _(
        "Office 365 refuses passwords for IMAP and SMTP: save the mailbox, then “Sign in with Microsoft” (OAuth2)."
    ),
    "office365_smtp_auth": _(
        "Authenticated SMTP (SMTP AUTH) must be enabled for the mailbox in the Microsoft 365 admin centre."
    ),
    "gmail_oauth_or_app_password": _(
        "Gmail: “Sign in with Google” (OAuth2), or with 2-Step Verification on, an app password (16 letters) as "
        "the password. The normal Google password is refused."
    ),
}

AUTH_METHOD_LABELS: dict[str, StrOrPromise] = {
    mail_presets.AUTH_PASSWORD: _("Password"),
    mail_presets.AUTH_APP_PASSWORD: _("Authorisation code / app password"),
    mail_presets.AUTH_OAUTH2: _("OAuth2 (sign in with the provider)"),
}

OAUTH_PROVIDER_LABELS: dict[str, StrOrPromise] = {
    "microsoft": _("Sign in with Microsoft"),
    "google": _("Sign in with Google"),
}

STEP_LABELS: dict[str, StrOrPromise] = {
    "imap.connect": _("IMAP: connect"),
    "imap.login": _("IMAP: sign in"),
    "imap.inbox": _("IMAP: open the inbox"),
    "smtp.connect": _("SMTP: connect"),
    "smtp.tls": _("SMTP: encryption"),
    "smtp.auth": _("SMTP: sign in"),
}

RESULT_TEXTS: dict[str, StrOrPromise] = {
    "ok": _("OK"),
    "connected": _("Connected to %(host)s:%(port)s."),
    "tls_ok": _("Encrypted (%(mode)s)."),
    "plain_connection": _("Not encrypted: the password travels in clear text."),
    "logged_in": _("Signed in as %(user)s."),
    "inbox_counted": _("The inbox holds %(count)s messages."),
    "not_configured": _("No server is configured."),
    "skipped": _("Not tried: an earlier step failed."),
    "no_password": _("No password or authorisation code is set."),
    "dns_failed": _("The host name %(host)s does not resolve (DNS). Check the spelling."),
    "refused": _("%(host)s:%(port)s refused the connection: wrong port, or the service is off."),
    "timeout": _("No answer from %(host)s:%(port)s in time (a firewall, or the wrong port)."),
    "unreachable": _("Could not connect to %(host)s:%(port)s."),
    "egress_refused": _(
        "Connecting to %(host)s is not allowed: it is not a public address. An on-premises server must be listed in "
        "PIVOTDESK_EGRESS_ALLOW by the operator."
    ),
    "tls_failed": _("The encrypted connection failed (SSL/TLS): check the port and the security setting."),
    "tls_certificate": _("The server's certificate is not valid for %(host)s."),
    "starttls_unsupported": _("The server does not offer STARTTLS on this port: try SSL on port 465."),
    "auth_failed": _("Sign-in refused: wrong user name or password."),
    "auth_unsupported": _("The server does not accept this sign-in method."),
    "folder_missing": _("The folder %(folder)s could not be opened."),
    "oauth_not_connected": _("OAuth2 is chosen but nobody has signed in with the provider yet."),
    "oauth_failed": _("The access token could not be refreshed: %(reason)s"),
    "protocol_error": _("The server answered unexpectedly."),
}

# Added to an authentication failure: the preset's own hint (authorisation codes), or the general one.
AUTH_HINT_DEFAULT = _(
    "Many providers (QQ, 163/126, Gmail) refuse the login password for IMAP/SMTP and want an authorisation code or "
    "app password; Office 365 wants OAuth2."
)

OAUTH_ERRORS: dict[str, StrOrPromise] = {
    "invalid_grant": _("the provider no longer accepts the sign-in (revoked or expired): sign in again"),
    "invalid_client": _("the OAuth2 client id or secret is wrong"),
    "unauthorized_client": _("the OAuth2 app may not use this flow"),
    "invalid_scope": _("the OAuth2 app lacks the mail permissions"),
    "access_denied": _("the sign-in was cancelled or refused at the provider"),
    "invalid_request": _("the provider refused the request"),
    "no_refresh_token": _("the provider sent no refresh token: sign in again and grant offline access"),
    "not_configured": _("no OAuth2 client id is configured for this provider"),
    "unreachable": _("the token endpoint could not be reached"),
    "bad_response": _("the token endpoint answered with something that is not an OAuth2 response"),
    "state_mismatch": _("the sign-in link expired or was used already: start again"),
    "egress_refused": _("the token endpoint is not a public address (PIVOTDESK_EGRESS_ALLOW)"),
    "server_error": _("the provider had an internal error: it is tried again later"),
    "temporarily_unavailable": _("the provider is temporarily unavailable: it is tried again later"),
    "not_connected": _("nobody has signed in with the provider yet"),
}


def oauth_error_text(code: str) -> str:
    text = OAUTH_ERRORS.get(code)
    return str(text) if text is not None else gettext("the provider answered “%(code)s”") % {"code": code[:64]}


def step_text(step: dict[str, Any], preset_key: str = "") -> str:
    """One stored step worded for the reader: the result's sentence with its facts, plus the authorisation-code
    hint after a refused sign-in."""
    code = str(step.get("code", ""))
    params = {k: v for k, v in dict(step.get("params") or {}).items() if isinstance(v, str | int)}
    template = RESULT_TEXTS.get(code)
    if template is None:
        return gettext("Unexpected result “%(code)s”.") % {"code": code[:40]}
    if code == "oauth_failed":
        params["reason"] = oauth_error_text(str(params.get("reason", "")))
    try:
        text = str(template) % params if "%(" in str(template) else str(template)
    except (KeyError, ValueError, TypeError):
        text = str(template).split("%(")[0].strip()
    if code == "auth_failed":
        text = f"{text} {auth_hint(preset_key)}"
    return text


def auth_hint(preset_key: str) -> str:
    preset = mail_presets.preset_for(preset_key)
    notes = [str(PRESET_NOTES[n]) for n in (preset.notes if preset else ()) if n in PRESET_NOTES]
    return notes[0] if notes else str(AUTH_HINT_DEFAULT)


def preset_label(preset: mail_presets.MailPreset) -> str:
    return str(PRESET_LABELS.get(preset.key, preset.label))
