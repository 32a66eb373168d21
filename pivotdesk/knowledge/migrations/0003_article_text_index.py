"""PostgreSQL: a full-text index over the article documents alone.

The search app's GIN index (search 0002, over the stored tsvector) covers every kind of document. Asked for articles
with a word a million tickets also have, it reads the word's whole posting list and the kind filter throws nearly
all of it away: 100-1,400 ms for a sentence on the knowledge bench, against 2 ms through an index of the articles
alone. The planner prices both alike, so the article kind declares `own_index` and its searches are written so that
only this index can answer them (`search.registry.own_index_sql`). SQLite's FTS5 table needs none at its sizes.
"""

from django.db import migrations

from pivotdesk.search.registry import own_index_sql

CREATE, DROP = own_index_sql("article")


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0002_graph_rootcause_bot"),
        ("search", "0002_stored_tsvector"),
    ]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
