"""URLs of the customer screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.customers import views as customers

urlpatterns: list[URLPattern] = [
    path("contacts/search/", customers.contact_search, name="contact_search"),
    path("contacts/<int:contact_id>/", customers.contact_page, name="contact"),
    path("contacts/<int:contact_id>/merge/<int:other_id>/", customers.contact_merge, name="contact_merge"),
]
