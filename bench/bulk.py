"""Fast bulk inserts for loading benchmark data: one executemany per batch, below the ORM.

bulk_create spends most of its time in Python per field value (about 3 ms a ticket here); the benchmarks load
100,000 tickets per system and database, so they insert prepared rows directly. Used by PivotDesk's worker and by
the django-helpdesk harness alike (it needs only Django). Columns not given take the field's default.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts keyed by field attname) into the model's table in one executemany."""
    if not rows:
        return
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_db_prep_save(f.get_default(), connection) for f in fields}
    adapt = connection.ops.adapt_datetimefield_value
    columns = [f.attname for f in fields]
    values = []
    for row in rows:
        out = []
        for name in columns:
            if name in row:
                v = row[name]
                out.append(adapt(v) if isinstance(v, dt.datetime) else v)
            else:
                out.append(defaults[name])
        values.append(out)
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        qn(model._meta.db_table),
        ", ".join(qn(_column(model, c)) for c in columns),
        ", ".join(["%s"] * len(columns)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _column(model: Any, attname: str) -> str:
    for f in model._meta.concrete_fields:
        if f.attname == attname:
            return str(f.column)
    raise KeyError(attname)
