"""Every routing model is in the Django admin and its change list answers."""

from __future__ import annotations

import pytest
from django.contrib import admin

import pivotdesk.routing.admin  # noqa: F401 - registers the models

MODELS = [m for m in admin.site._registry if m._meta.app_label == "routing"]


def test_all_routing_models_are_registered():
    assert len(MODELS) == 8  # leave moved to workforce


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_answers_for_a_superuser(admin_client, model):
    assert admin_client.get(f"/admin/routing/{model._meta.model_name}/").status_code == 200
