# Tickets' search documents move to the generic search app (pivotdesk.search, kind "ticket"). The existing words are
# copied in one INSERT … SELECT (the search app's triggers fill its FTS5 table on SQLite; its GIN index covers them
# on PostgreSQL), so search keeps working right after the upgrade without waiting for the sweep; then the old table
# and its FTS5 table, triggers and index are dropped. Reversible: the documents are copied back.

from django.db import migrations

COPY = (
    "INSERT INTO search_searchdocument (workspace_id, kind, object_id, body, indexed_at, source_updated_at) "
    "SELECT workspace_id, 'ticket', ticket_id, body, indexed_at, source_updated_at FROM tickets_ticketsearchdocument"
)
COPY_BACK = (
    "INSERT INTO tickets_ticketsearchdocument (ticket_id, workspace_id, body, indexed_at, source_updated_at) "
    "SELECT d.object_id, d.workspace_id, d.body, d.indexed_at, d.source_updated_at FROM search_searchdocument AS d "
    "WHERE d.kind = 'ticket' AND EXISTS (SELECT 1 FROM tickets_ticket AS t WHERE t.id = d.object_id)"
)
UNCOPY = "DELETE FROM search_searchdocument WHERE kind = 'ticket'"
OLD_SQLITE = [
    "CREATE VIRTUAL TABLE tickets_search_fts USING fts5(body, content='tickets_ticketsearchdocument', "
    "content_rowid='ticket_id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_search_ai AFTER INSERT ON tickets_ticketsearchdocument BEGIN "
    "INSERT INTO tickets_search_fts(rowid, body) VALUES (new.ticket_id, new.body); END",
    "CREATE TRIGGER tickets_search_ad AFTER DELETE ON tickets_ticketsearchdocument BEGIN "
    "INSERT INTO tickets_search_fts(tickets_search_fts, rowid, body) VALUES ('delete', old.ticket_id, old.body); END",
    "CREATE TRIGGER tickets_search_au AFTER UPDATE ON tickets_ticketsearchdocument BEGIN "
    "INSERT INTO tickets_search_fts(tickets_search_fts, rowid, body) VALUES ('delete', old.ticket_id, old.body); "
    "INSERT INTO tickets_search_fts(rowid, body) VALUES (new.ticket_id, new.body); END",
]
OLD_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS tickets_search_au",
    "DROP TRIGGER IF EXISTS tickets_search_ad",
    "DROP TRIGGER IF EXISTS tickets_search_ai",
    "DROP TABLE IF EXISTS tickets_search_fts",
]
OLD_POSTGRESQL = [
    "CREATE INDEX tickets_search_tsv ON tickets_ticketsearchdocument USING gin (to_tsvector('simple', body))",
]
OLD_POSTGRESQL_DROP = ["DROP INDEX IF EXISTS tickets_search_tsv"]


def _run(statements, everywhere=()):
    def run(apps, schema_editor):
        for sql in [*everywhere, *statements.get(schema_editor.connection.vendor, [])]:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('search', '0001_initial'),
        ('tickets', '0006_search_document'),
    ]

    operations = [
        migrations.RunPython(_run({}, [COPY]), _run({}, [COPY_BACK, UNCOPY])),
        migrations.RunPython(
            _run({"sqlite": OLD_SQLITE_DROP, "postgresql": OLD_POSTGRESQL_DROP}),
            _run({"sqlite": OLD_SQLITE, "postgresql": OLD_POSTGRESQL}),
        ),
        migrations.DeleteModel(name='TicketSearchIndex'),
        migrations.DeleteModel(name='TicketSearchDocument'),
    ]
