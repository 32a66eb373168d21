"""Mailbox presets (issue 18): the IMAP and SMTP servers, ports, security and sign-in method of the mail providers
Chinese and international teams use most, so an admin picks "163" instead of looking up host names.

Pure data and two small functions (no Django): the notes are codes, their bilingual wording lives in
`pivotdesk.channels.mail_texts`. Host names and ports are the providers' published values; the comment above each
entry names the provider's help page the values come from (providers rarely change them, and an admin can always
edit the filled fields).
"""

from __future__ import annotations

from dataclasses import dataclass

# How a mailbox signs in: the account password, a provider-issued authorisation code / app password (typed into the
# same password field), or OAuth2 (XOAUTH2 SASL with an access token from the provider's token endpoint).
AUTH_PASSWORD = "password"  # noqa: S105 - a method name, not a secret
AUTH_APP_PASSWORD = "app_password"  # noqa: S105 - a method name, not a secret
AUTH_OAUTH2 = "oauth2"
AUTH_METHODS = (AUTH_PASSWORD, AUTH_APP_PASSWORD, AUTH_OAUTH2)

SMTP_SSL = "ssl"
SMTP_STARTTLS = "starttls"


@dataclass(frozen=True)
class MailPreset:
    """One provider's servers. `auth_methods` lists what the provider accepts, the first being the recommended one;
    `oauth_provider` names the OAuth2 endpoints (`microsoft`, `google`) when OAuth2 is one of them."""

    key: str
    label: str  # the provider's own name, the same in both languages
    imap_host: str = ""
    imap_port: int = 993
    imap_ssl: bool = True
    smtp_host: str = ""
    smtp_port: int = 465
    smtp_security: str = SMTP_SSL
    auth_methods: tuple[str, ...] = (AUTH_PASSWORD,)
    oauth_provider: str = ""
    oauth_required: bool = False
    notes: tuple[str, ...] = ()  # codes, worded in mail_texts.PRESET_NOTES
    domains: tuple[str, ...] = ()  # address domains that mean this provider

    @property
    def auth_method(self) -> str:
        return self.auth_methods[0] if self.auth_methods else AUTH_PASSWORD

    def server_config(self) -> dict[str, object]:
        """The ChannelAccount config keys this preset fills (the mailbox form's server fields)."""
        if not self.imap_host:
            return {}
        return {
            "imap_host": self.imap_host,
            "imap_port": self.imap_port,
            "imap_ssl": self.imap_ssl,
            "smtp_host": self.smtp_host,
            "smtp_port": self.smtp_port,
            "smtp_security": self.smtp_security,
            "auth_method": self.auth_method,
        }


PRESETS: tuple[MailPreset, ...] = (
    # 腾讯企业邮箱帮助中心 "如何设置IMAP、POP3/SMTP及其SSL加密方式" (imap.exmail.qq.com 993, smtp.exmail.qq.com 465),
    # "什么是客户端专用密码" (with 安全登录 / WeChat binding on, clients sign in with a client-only password).
    MailPreset(
        key="exmail",
        label="QQ 企业邮箱 (exmail.qq.com)",
        imap_host="imap.exmail.qq.com",
        smtp_host="smtp.exmail.qq.com",
        auth_methods=(AUTH_APP_PASSWORD, AUTH_PASSWORD),
        notes=("exmail_client_password", "enable_imap_exmail"),
    ),
    # QQ邮箱帮助中心 "如何设置IMAP服务" / "什么是授权码，它又是如何设置？" (imap.qq.com 993, smtp.qq.com 465 SSL).
    MailPreset(
        key="qq",
        label="QQ 邮箱",
        imap_host="imap.qq.com",
        smtp_host="smtp.qq.com",
        auth_methods=(AUTH_APP_PASSWORD,),
        notes=("qq_auth_code",),
        domains=("qq.com", "foxmail.com", "vip.qq.com"),
    ),
    # 网易邮箱帮助 "什么是客户端授权密码" / "163免费邮客户端设置的POP3、SMTP、IMAP地址" (imap.163.com 993,
    # smtp.163.com 465 SSL; IMAP/SMTP must be switched on in 设置 → POP3/SMTP/IMAP).
    MailPreset(
        key="163",
        label="网易 163",
        imap_host="imap.163.com",
        smtp_host="smtp.163.com",
        auth_methods=(AUTH_APP_PASSWORD,),
        notes=("netease_auth_code",),
        domains=("163.com",),
    ),
    # 网易邮箱帮助 "126免费邮客户端设置的POP3、SMTP、IMAP地址" (imap.126.com 993, smtp.126.com 465 SSL).
    MailPreset(
        key="126",
        label="网易 126",
        imap_host="imap.126.com",
        smtp_host="smtp.126.com",
        auth_methods=(AUTH_APP_PASSWORD,),
        notes=("netease_auth_code",),
        domains=("126.com",),
    ),
    # 阿里邮箱帮助中心 "阿里邮箱POP、SMTP、IMAP地址和端口信息" (imap.qiye.aliyun.com 993, smtp.qiye.aliyun.com 465
    # SSL); "三方客户端安全密码" when the organisation requires it.
    MailPreset(
        key="aliyun",
        label="阿里企业邮箱 (qiye.aliyun.com)",
        imap_host="imap.qiye.aliyun.com",
        smtp_host="smtp.qiye.aliyun.com",
        auth_methods=(AUTH_PASSWORD, AUTH_APP_PASSWORD),
        notes=("aliyun_client_password",),
    ),
    # Microsoft Learn "POP, IMAP, and SMTP settings for Outlook.com" (outlook.office365.com 993 SSL,
    # smtp.office365.com 587 STARTTLS) and "Authenticate an IMAP, POP or SMTP connection using OAuth" (basic
    # authentication is turned off for Exchange Online: XOAUTH2 only).
    MailPreset(
        key="office365",
        label="Microsoft 365 / Office 365",
        imap_host="outlook.office365.com",
        smtp_host="smtp.office365.com",
        smtp_port=587,
        smtp_security=SMTP_STARTTLS,
        auth_methods=(AUTH_OAUTH2,),
        oauth_provider="microsoft",
        oauth_required=True,
        notes=("office365_oauth", "office365_smtp_auth"),
        domains=("outlook.com", "hotmail.com", "live.com", "onmicrosoft.com"),
    ),
    # Google Workspace Admin Help / Gmail Help "Read Gmail messages on other email clients using POP/IMAP"
    # (imap.gmail.com 993 SSL, smtp.gmail.com 465 SSL) and "Sign in with app passwords" (2-Step Verification);
    # Google for Developers "OAuth 2.0 Mechanism" (XOAUTH2, scope https://mail.google.com/).
    MailPreset(
        key="gmail",
        label="Gmail / Google Workspace",
        imap_host="imap.gmail.com",
        smtp_host="smtp.gmail.com",
        auth_methods=(AUTH_OAUTH2, AUTH_APP_PASSWORD),
        oauth_provider="google",
        notes=("gmail_oauth_or_app_password",),
        domains=("gmail.com", "googlemail.com"),
    ),
    MailPreset(
        key="other",
        label="",
        imap_host="",
        smtp_host="",
        smtp_port=587,
        smtp_security=SMTP_STARTTLS,
        auth_methods=(AUTH_PASSWORD, AUTH_APP_PASSWORD, AUTH_OAUTH2),
    ),
)

BY_KEY: dict[str, MailPreset] = {p.key: p for p in PRESETS}
OTHER = BY_KEY["other"]


def preset_for(key: str) -> MailPreset | None:
    return BY_KEY.get(key)


def guess_preset(address: str) -> MailPreset | None:
    """The preset an address's domain names (`wang@163.com` → 163), or None when the domain tells nothing (a
    company domain may sit on any provider: QQ 企业邮箱 and Aliyun host custom domains)."""
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    if not domain or "@" not in address:
        return None
    for preset in PRESETS:
        if any(domain == d or domain.endswith("." + d) for d in preset.domains):
            return preset
    return None


def preset_matching(config: dict[str, object]) -> MailPreset | None:
    """The preset a stored mailbox's servers match (to pre-select it when the form opens), else None."""
    imap = str(config.get("imap_host") or "").strip().lower()
    smtp = str(config.get("smtp_host") or "").strip().lower()
    for preset in PRESETS:
        if preset.imap_host and imap == preset.imap_host and (not smtp or smtp == preset.smtp_host):
            return preset
    return None
