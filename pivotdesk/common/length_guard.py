"""Text longer than its column is a validation error, on every database.

SQLite stores a 10,000-character name in a `varchar(120)`; PostgreSQL refuses it with a `DataError`, which
surfaces as a 500 and, inside a transaction, poisons it for every later query. A `pre_save` check on every model of
our apps turns an over-long value into a `ValidationFailed` (4xx, translated, naming the field) before anything is
written, wherever the value came from (a form, the API, an import). Bulk writes (`QuerySet.update`, `bulk_create`)
do not send `pre_save`; the services that use them write values they made themselves.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.signals import pre_save
from django.utils.translation import gettext

from pivotdesk.common.errors import ValidationFailed


def _check_lengths(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not applies_to(sender):
        return
    update_fields = kwargs.get("update_fields")
    for field in sender._meta.concrete_fields:
        limit = getattr(field, "max_length", None)
        if not limit or not isinstance(field, models.CharField):
            continue
        if update_fields is not None and field.name not in update_fields:
            continue
        value = getattr(instance, field.attname, None)
        if isinstance(value, str) and len(value) > limit:
            raise ValidationFailed(
                gettext("“%(field)s” is at most %(max)d characters (%(length)d given).")
                % {"field": str(field.verbose_name), "max": limit, "length": len(value)},
                details={"field": field.name, "max_length": limit},
            )


def install() -> None:
    """Check every model of PivotDesk's own apps (called from `CommonConfig.ready`)."""
    pre_save.connect(_check_lengths, dispatch_uid="pivotdesk-length-guard")


def applies_to(sender: type[models.Model]) -> bool:
    return sender.__module__.startswith("pivotdesk.")
