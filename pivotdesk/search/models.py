"""The search document table (one row per indexed object of any kind) and the full-text index over its words."""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError, models


class SearchText(models.TextField):  # type: ignore[type-arg]
    """Space-separated search words (see `search.domain.text`); `body__matches=expr` asks the full-text index: an
    FTS5 MATCH on SQLite (expr in FTS5 syntax), the stored `simple` tsvector @@ tsquery on PostgreSQL."""


def _tsv_column(body_sql: str) -> str:
    """The stored tsvector column of the same row as a `body` column reference ('"t"."body"' → '"t"."tsv"')."""
    if not body_sql.endswith('"body"'):
        raise NotSupportedError("Full-text matching needs the document's own body column.")
    return body_sql.removesuffix('"body"') + '"tsv"'


@SearchText.register_lookup
class Matches(models.Lookup):
    """`body__matches=expr`: the database's own full-text match (no other database has one)."""

    lookup_name = "matches"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        params = (*lhs_params, *rhs_params)
        if connection.vendor == "sqlite":
            return f"{lhs} MATCH {rhs}", params
        if connection.vendor == "postgresql":  # the stored tsvector beside the text (migration 0002), GIN-indexed
            return f"{_tsv_column(lhs)} @@ to_tsquery('simple'::regconfig, {rhs})", params
        raise NotSupportedError(f"No full-text index on {connection.vendor}.")


class SearchDocument(models.Model):
    """The words one object is found by (a ticket's subject, messages and attachment text; later an article, a
    contact), cut by `search.domain.text`. Built by `search.services` from the object's registered kind; indexed by
    an SQLite FTS5 table or a PostgreSQL GIN index (migration 0001)."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    body = SearchText(blank=True, default="")
    indexed_at = models.DateTimeField()
    # The object's updated_at the document was built from: older than the object's means stale; the newest one of
    # a kind is how far the sweep has come.
    source_updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_kind_object")]
        indexes = [models.Index(fields=["kind", "source_updated_at"], name="search_document_kind_mark")]

    def __str__(self) -> str:
        return f"search document of {self.kind} {self.object_id}"


class SearchIndex(models.Model):
    """The SQLite FTS5 table over the documents' words (created by migration 0001, kept in step by triggers; not
    present on other databases). Read-only: `rowid` is the document's id."""

    rowid = models.BigIntegerField(primary_key=True, db_column="rowid")
    body = SearchText()

    class Meta:
        managed = False
        db_table = "search_fts"

    def __str__(self) -> str:
        return f"search index row {self.rowid}"
