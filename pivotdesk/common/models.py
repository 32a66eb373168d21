"""Base models shared by every app: the workspace-scoped base and timestamps."""

from __future__ import annotations

from django.db import models


class TimeStamped(models.Model):
    """Adds created_at / updated_at, both timezone-aware."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkspaceScoped(TimeStamped):
    """Every domain row belongs to exactly one workspace (the tenant); selectors always filter by it."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
