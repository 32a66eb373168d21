"""Public inbound URLs of the channels (webhooks of messaging platforms, raw mail POSTs, forms, widget)."""

from django.urls import path, register_converter

from pivotdesk.channels import views


class KeyConverter:
    """A channel's public key: URL-safe characters only (`secrets.token_urlsafe`), so a NUL or a slash in the path is
    a 404 before any lookup (PostgreSQL cannot even compare a NUL)."""

    regex = r"[A-Za-z0-9_.~-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(KeyConverter, "key")

app_name = "channels"
urlpatterns = [
    path("in/<slug:kind>/<key:key>/", views.inbound_webhook, name="inbound"),
]

# The public web form and the chat widget's JSON API (pivotdesk.channels.public_views).
from pivotdesk.channels import public_views  # noqa: E402

urlpatterns += [
    path("form/<key:key>/", public_views.web_form, name="form"),
    path("form/<key:key>/thanks/<str:token>/", public_views.web_form_thanks, name="form_thanks"),
    path("chat/<key:key>/session/", public_views.chat_session, name="chat_session"),
    path("chat/<key:key>/messages/", public_views.chat_messages, name="chat_messages"),
]
