"""PostgreSQL: the documents' tsvector is stored, not computed at query time.

Ranking (`ts_rank`) read each candidate's words again from `body` — a document parsed per candidate per search, most
of a search's time on a large desk. A generated column keeps the parsed words beside the text (PostgreSQL computes
it on every insert and update; Django never writes it), and the GIN index moves onto it. SQLite is unchanged: FTS5
keeps its own copy of the words.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE search_searchdocument ADD COLUMN tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, body)) STORED",
    "DROP INDEX IF EXISTS search_document_tsv",
    "CREATE INDEX search_document_tsv ON search_searchdocument USING gin (tsv)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS search_document_tsv",
    "ALTER TABLE search_searchdocument DROP COLUMN IF EXISTS tsv",
    "CREATE INDEX search_document_tsv ON search_searchdocument USING gin (to_tsvector('simple', body))",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
