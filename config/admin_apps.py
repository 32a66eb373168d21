"""The Django admin's app config: its default site is `config.admin_site.OperatorAdminSite` (superusers only).

Kept apart from the site's module, which imports auth forms and models that may not load while apps are set up."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class OperatorAdminConfig(AdminConfig):
    default_site = "config.admin_site.OperatorAdminSite"
