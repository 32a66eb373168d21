"""Public inbound URLs of the channels (webhooks of messaging platforms, raw mail POSTs, forms, widget)."""

from django.urls import path

from pivotdesk.channels import views

app_name = "channels"
urlpatterns = [
    path("in/<slug:kind>/<str:key>/", views.inbound_webhook, name="inbound"),
]

# The public web form and the chat widget's JSON API (pivotdesk.channels.public_views).
from pivotdesk.channels import public_views  # noqa: E402

urlpatterns += [
    path("form/<str:key>/", public_views.web_form, name="form"),
    path("form/<str:key>/thanks/<str:token>/", public_views.web_form_thanks, name="form_thanks"),
    path("chat/<str:key>/session/", public_views.chat_session, name="chat_session"),
    path("chat/<str:key>/messages/", public_views.chat_messages, name="chat_messages"),
]
