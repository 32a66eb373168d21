"""URLs of the desk screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.desk.views import composer, links, new_ticket, queue, ticket

urlpatterns: list[URLPattern] = [
    path("", queue.home, name="home"),
    path("queue/", queue.queue, name="queue"),
    path("queue/rows/", queue.queue_rows, name="queue_rows"),
    path("queue/counts/", queue.queue_counts, name="queue_counts"),
    path("queue/columns/", queue.queue_columns, name="queue_columns"),
    path("queue/bulk/", queue.bulk_update, name="bulk_update"),
    path("views/new/", queue.saved_view_create, name="saved_view_create"),
    path("views/<int:view_id>/", queue.saved_view_open, name="saved_view"),
    path("views/<int:view_id>/delete/", queue.saved_view_delete, name="saved_view_delete"),
    path("tickets/new/", new_ticket.new_ticket, name="new_ticket"),
    path("tickets/<int:number>/", ticket.ticket_page, name="ticket"),
    path("tickets/<int:number>/conversation/", ticket.conversation, name="conversation"),
    path("tickets/<int:number>/sidebar/", ticket.sidebar, name="sidebar"),
    path("tickets/<int:number>/timeline/", ticket.timeline, name="timeline"),
    path("tickets/<int:number>/reply/", ticket.reply, name="reply"),
    path("tickets/<int:number>/draft/", ticket.draft, name="draft"),
    path("tickets/<int:number>/uploads/", composer.upload, name="reply_upload"),
    path("tickets/<int:number>/mentionable/", ticket.mentionable, name="mentionable"),
    path("tickets/<int:number>/properties/", ticket.update_properties, name="properties"),
    path("tickets/<int:number>/assign-me/", ticket.assign_to_me, name="assign_me"),
    path("tickets/<int:number>/pulse/", ticket.pulse, name="pulse"),
    path("tickets/<int:number>/leave/", ticket.leave, name="leave"),
    path("tickets/<int:number>/links/", links.add_link, name="add_link"),
    path("tickets/<int:number>/merge/", links.merge, name="merge"),
    path("tickets/<int:number>/attachments/<int:attachment_id>/", ticket.attachment, name="attachment"),
]
