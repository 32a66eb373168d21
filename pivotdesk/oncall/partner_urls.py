"""The partner link's pages (included at /partner/): addressed by the link's secret, never by a session."""

from django.urls import URLPattern, path

from pivotdesk.oncall import partner_views

app_name = "partner"

urlpatterns: list[URLPattern] = [
    path("<str:token>/", partner_views.ticket_page, name="page"),
    path("<str:token>/reply/", partner_views.reply, name="reply"),
    path("<str:token>/parts/", partner_views.parts_dispatched, name="parts"),
    path("<str:token>/ack/", partner_views.acknowledge, name="ack"),
    path("<str:token>/files/<int:attachment_id>/", partner_views.attachment, name="file"),
]
