"""The Content-Security-Policy of every page we serve: our own scripts and styles only, no inline code, no eval.

Built on Django's own CSP machinery (`django.middleware.csp`, `django.utils.csp.build_policy`) with the policy kept
here, in code, rather than in settings: it is a property of our templates and static files, which are written for
it (no inline `<script>`, `on*=` handlers, `style="…"` attributes or `hx-on`; see docs/security.md). A response that
already carries a Content-Security-Policy keeps it (user files set their own sandbox policy); a view that needs more
(the public form's captcha provider) widens the policy for its own response with `csp_allow`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csp import ContentSecurityPolicyMiddleware as DjangoCSPMiddleware
from django.utils.csp import CSP

# img-src allows any https image: remote images in customer mail are shown when the agent clicks "Show images"
# (pivotdesk/web/templatetags/message_body.py holds them back until then); data: for small inline icons.
POLICY: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "https:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-src": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

_CONFIG_ATTR = "_csp_config"  # the attribute Django's middleware and its csp_override decorator read


def policy_for(response: HttpResponseBase) -> dict[str, list[str]]:
    """The policy this response will be sent with (a copy of the default until a view widens it)."""
    config = getattr(response, _CONFIG_ATTR, None)
    return {k: list(v) for k, v in (config if isinstance(config, dict) else POLICY).items()}


def csp_allow(response: HttpResponseBase, sources: dict[str, Iterable[str]]) -> HttpResponseBase:
    """Widen the policy of one response: add sources to some directives (e.g. a captcha provider's origins)."""
    config = policy_for(response)
    for directive, extra in sources.items():
        values = config.setdefault(directive, [])
        values.extend(s for s in extra if s not in values)
    setattr(response, _CONFIG_ATTR, config)
    return response


class ContentSecurityPolicyMiddleware(DjangoCSPMiddleware):
    """Send POLICY on every response that has no Content-Security-Policy yet (a view's own header is kept)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not hasattr(response, _CONFIG_ATTR):
            setattr(response, _CONFIG_ATTR, POLICY)
        return super().process_response(request, response)
