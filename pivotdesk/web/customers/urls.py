"""URLs of the customer screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.customers import views as customers
from pivotdesk.web.customers.views import contact_edit, organizations

urlpatterns: list[URLPattern] = [
    path("contacts/", organizations.contact_directory, name="contacts"),
    path("contacts/search/", customers.contact_search, name="contact_search"),
    path("contacts/<int:contact_id>/", customers.contact_page, name="contact"),
    path("contacts/<int:contact_id>/edit/", contact_edit.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/identities/add/", contact_edit.identity_add, name="contact_identity_add"),
    path("contacts/<int:contact_id>/identities/remove/", contact_edit.identity_remove, name="contact_identity_remove"),
    path("contacts/<int:contact_id>/merge/<int:other_id>/", customers.contact_merge, name="contact_merge"),
    path("organizations/", organizations.organization_list, name="organizations"),
    path("organizations/new/", organizations.organization_new, name="organization_new"),
    path("organizations/<int:organization_id>/", organizations.organization_page, name="organization"),
    path("organizations/<int:organization_id>/edit/", organizations.organization_edit, name="organization_edit"),
]
