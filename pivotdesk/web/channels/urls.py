"""URLs of the channel screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.channels import views as channels
from pivotdesk.web.channels import views_mailbox as mailboxes

urlpatterns: list[URLPattern] = [
    path("settings/channels/", channels.channel_list, name="channels"),
    path("settings/channels/new/", channels.channel_add, name="channel_add"),
    path("settings/channels/<int:account_id>/", channels.channel_edit, name="channel_edit"),
    path("settings/channels/probe/", mailboxes.mailbox_probe_new, name="mailbox_probe"),
    path("settings/channels/<int:account_id>/probe/", mailboxes.mailbox_probe_saved, name="mailbox_probe_saved"),
    path("settings/channels/<int:account_id>/oauth/start/", mailboxes.mailbox_oauth_start, name="mailbox_oauth_start"),
    path(
        "settings/channels/<int:account_id>/oauth/disconnect/",
        mailboxes.mailbox_oauth_disconnect,
        name="mailbox_oauth_disconnect",
    ),
    # The providers' redirect back (register this URL with the OAuth2 app); beside the public channel URLs.
    path("channels/oauth/callback/", mailboxes.mailbox_oauth_callback, name="mailbox_oauth_callback"),
    path("settings/inbound/", channels.inbound_failed, name="inbound_failed"),
    path("settings/inbound/<int:payload_id>/", channels.inbound_payload, name="inbound_payload"),
    path("settings/inbound/<int:payload_id>/raw/", channels.inbound_payload_raw, name="inbound_payload_raw"),
    path("settings/inbound/<int:payload_id>/reprocess/", channels.inbound_reprocess_view, name="inbound_reprocess"),
    path("tickets/<int:number>/messages/<int:message_id>/retry/", channels.delivery_retry, name="delivery_retry"),
]
