"""URLs of the channel screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.channels import views as channels

urlpatterns: list[URLPattern] = [
    path("settings/channels/", channels.channel_list, name="channels"),
    path("settings/channels/new/", channels.channel_add, name="channel_add"),
    path("settings/channels/<int:account_id>/", channels.channel_edit, name="channel_edit"),
    path("settings/inbound/", channels.inbound_failed, name="inbound_failed"),
    path("settings/inbound/<int:payload_id>/", channels.inbound_payload, name="inbound_payload"),
    path("settings/inbound/<int:payload_id>/raw/", channels.inbound_payload_raw, name="inbound_payload_raw"),
    path("settings/inbound/<int:payload_id>/reprocess/", channels.inbound_reprocess_view, name="inbound_reprocess"),
    path("tickets/<int:number>/messages/<int:message_id>/retry/", channels.delivery_retry, name="delivery_retry"),
]
