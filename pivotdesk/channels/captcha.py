"""Captcha hook of the public web form: a small registry of verifiers picked by the form's config.

`config["captcha"] = {"provider": "none" | "hcaptcha" | "turnstile" | "recaptcha", "site_key": "…"}` with the
provider's secret in the account's secrets as `captcha_secret`. A verifier takes (secret, the response token the
widget posted, the visitor's IP) and answers True or False; a network error counts as a failed check (the visitor
can submit again), never as a pass. Deployments may register their own with `register_captcha`.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Verifier = Callable[[str, str, str], bool]


@dataclass(frozen=True)
class CaptchaProvider:
    """How a provider's widget is embedded (script, element class, posted field) and how its answer is checked."""

    name: str
    script: str = ""
    element_class: str = ""
    response_field: str = ""
    verify_url: str = ""
    # Origins the provider's widget loads scripts, frames and styles from: the form page's Content-Security-Policy
    # allows them for that page only (pivotdesk.common.csp).
    csp_sources: tuple[str, ...] = ()


PROVIDERS: dict[str, CaptchaProvider] = {
    "none": CaptchaProvider("none"),
    "hcaptcha": CaptchaProvider(
        "hcaptcha",
        "https://js.hcaptcha.com/1/api.js",
        "h-captcha",
        "h-captcha-response",
        "https://hcaptcha.com/siteverify",
        ("https://hcaptcha.com", "https://*.hcaptcha.com"),
    ),
    "turnstile": CaptchaProvider(
        "turnstile",
        "https://challenges.cloudflare.com/turnstile/v0/api.js",
        "cf-turnstile",
        "cf-turnstile-response",
        "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        ("https://challenges.cloudflare.com",),
    ),
    "recaptcha": CaptchaProvider(
        "recaptcha",
        "https://www.google.com/recaptcha/api.js",
        "g-recaptcha",
        "g-recaptcha-response",
        "https://www.google.com/recaptcha/api/siteverify",
        (
            "https://www.google.com/recaptcha/",
            "https://www.gstatic.com/recaptcha/",
            "https://recaptcha.google.com/recaptcha/",
        ),
    ),
}
VERIFIERS: dict[str, Verifier] = {}


def register_captcha(name: str, provider: CaptchaProvider | None = None) -> Callable[[Verifier], Verifier]:
    """Register a verifier (and optionally how its widget is embedded) under a provider name."""

    def wrap(fn: Verifier) -> Verifier:
        VERIFIERS[name] = fn
        if provider is not None:
            PROVIDERS[name] = provider
        return fn

    return wrap


def _siteverify(url: str, secret: str, token: str, remote_ip: str) -> bool:
    """The siteverify protocol shared by hCaptcha, Turnstile and reCAPTCHA: POST secret+response, read `success`."""
    if not (secret and token):
        return False
    body = urllib.parse.urlencode({"secret": secret, "response": token, "remoteip": remote_ip}).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - fixed https URLs above
    try:
        with urllib.request.urlopen(request, timeout=8) as response:  # noqa: S310
            answer = json.loads(response.read().decode() or "{}")
    except (OSError, ValueError) as exc:
        log.warning("captcha check at %s failed: %s", url, exc)
        return False
    return bool(isinstance(answer, dict) and answer.get("success"))


for _name in ("hcaptcha", "turnstile", "recaptcha"):
    _url = PROVIDERS[_name].verify_url
    VERIFIERS[_name] = lambda secret, token, ip, _url=_url: _siteverify(_url, secret, token, ip)  # type: ignore[misc]


def provider_for(config: dict[str, object]) -> CaptchaProvider:
    """The form's captcha provider; an unknown name fails closed (no verifier: every submission is refused)."""
    raw = config.get("captcha")
    name = str(raw.get("provider") or "none") if isinstance(raw, dict) else "none"
    return PROVIDERS.get(name) or CaptchaProvider(name)


def captcha_passes(*, config: dict[str, object], secret: str, posted: dict[str, str], remote_ip: str) -> bool:
    """Whether the submission passes the form's captcha ("none" always passes)."""
    provider = provider_for(config)
    if provider.name == "none":
        return True
    verifier = VERIFIERS.get(provider.name)
    if verifier is None:
        return False
    token = posted.get(provider.response_field or "captcha_response", "") or posted.get("captcha_response", "")
    return verifier(secret, token, remote_ip)
