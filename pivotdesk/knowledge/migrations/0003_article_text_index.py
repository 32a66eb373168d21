"""PostgreSQL: a full-text index over the article documents alone.

The search app's GIN index (search 0002, over the stored tsvector) covers every kind of document. An article search asks for `kind =
'article'` and, for a question in full sentences, any of its words: on a desk with a million tickets that share those
words, the shared index hands back a bitmap of hundreds of thousands of ticket documents for the kind filter to throw
away. This partial index holds the articles' documents only, so the planner reads ten thousand entries, not a million
(`make bench` → knowledge, PostgreSQL scale). SQLite's FTS5 table has no partial form and needs none at its sizes.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS knowledge_article_tsv ON search_searchdocument "
    "USING gin (tsv) WHERE kind = 'article'"
)
DROP = "DROP INDEX IF EXISTS knowledge_article_tsv"


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
