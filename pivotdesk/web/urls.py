"""URLs of the agent workspace."""

from django.urls import path

from pivotdesk.web import urls_notifications, urls_routing, urls_sla
from pivotdesk.web.views import account, ai, channels, contacts_merge, customers, links, queue, ticket

app_name = "web"
urlpatterns = [
    path("", queue.home, name="home"),
    path("login/", account.login_view, name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("workspace/switch/", account.switch_workspace, name="switch_workspace"),
    path("presence/", account.set_presence, name="presence"),
    path("tokens/", account.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", account.token_revoke, name="token_revoke"),
    path("queue/", queue.queue, name="queue"),
    path("queue/rows/", queue.queue_rows, name="queue_rows"),
    path("queue/bulk/", queue.bulk_update, name="bulk_update"),
    path("views/new/", queue.saved_view_create, name="saved_view_create"),
    path("views/<int:view_id>/", queue.saved_view_open, name="saved_view"),
    path("views/<int:view_id>/delete/", queue.saved_view_delete, name="saved_view_delete"),
    path("tickets/new/", customers.new_ticket, name="new_ticket"),
    path("tickets/<int:number>/", ticket.ticket_page, name="ticket"),
    path("tickets/<int:number>/conversation/", ticket.conversation, name="conversation"),
    path("tickets/<int:number>/sidebar/", ticket.sidebar, name="sidebar"),
    path("tickets/<int:number>/timeline/", ticket.timeline, name="timeline"),
    path("tickets/<int:number>/reply/", ticket.reply, name="reply"),
    path("tickets/<int:number>/properties/", ticket.update_properties, name="properties"),
    path("tickets/<int:number>/assign-me/", ticket.assign_to_me, name="assign_me"),
    path("tickets/<int:number>/pulse/", ticket.pulse, name="pulse"),
    path("tickets/<int:number>/leave/", ticket.leave, name="leave"),
    path("tickets/<int:number>/links/", links.add_link, name="add_link"),
    path("tickets/<int:number>/merge/", links.merge, name="merge"),
    path("tickets/<int:number>/attachments/<int:attachment_id>/", ticket.attachment, name="attachment"),
    path("tickets/<int:number>/ai/", ai.ai_panel, name="ai_panel"),
    path("tickets/<int:number>/ai/<int:prediction_id>/correct/", ai.ai_correct, name="ai_correct"),
    path("tickets/<int:number>/ai/<int:prediction_id>/confirm/", ai.ai_confirm, name="ai_confirm"),
    path("insights/ai/", ai.ai_insights, name="ai_insights"),
    path("contacts/search/", customers.contact_search, name="contact_search"),
    path("contacts/<int:contact_id>/", customers.contact_page, name="contact"),
    path("contacts/<int:contact_id>/merge/<int:other_id>/", contacts_merge.contact_merge, name="contact_merge"),
    path(
        "tickets/<int:number>/messages/<int:message_id>/retry/",
        contacts_merge.delivery_retry,
        name="delivery_retry",
    ),
    path("settings/channels/", channels.channel_list, name="channels"),
    path("settings/channels/new/", channels.channel_add, name="channel_add"),
    path("settings/channels/<int:account_id>/", channels.channel_edit, name="channel_edit"),
    path("settings/inbound/", channels.inbound_failed, name="inbound_failed"),
    path("settings/inbound/<int:payload_id>/", channels.inbound_payload, name="inbound_payload"),
    path("settings/inbound/<int:payload_id>/raw/", channels.inbound_payload_raw, name="inbound_payload_raw"),
    path("settings/inbound/<int:payload_id>/reprocess/", channels.inbound_reprocess_view, name="inbound_reprocess"),
]

# Areas with their own URL modules (one file each, so parallel work does not collide).
urlpatterns += [*urls_notifications.urlpatterns, *urls_routing.urlpatterns, *urls_sla.urlpatterns]
