"""Reading the index: which objects of a kind match a query (for `pk__in` / a UNION), best matches first, and the
position in a ranked list as an expression a list can order by."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import F, Func, IntegerField, QuerySet, Value

from pivotdesk.search import registry
from pivotdesk.search.domain import text
from pivotdesk.search.models import SearchDocument, SearchIndex

RANKED_LIMIT = 250  # the best matches (five pages of 50) ordered by rank; the rest follow by last update
RANK_CANDIDATES = 2_000  # PostgreSQL: how many matches ts_rank looks at
ANY_TERM_CANDIDATES = 400  # … for a match on any word (a sentence): many more documents match, each cheaply


# PostgreSQL's ranked match: the candidates through the shared index on the stored tsvector, or (a kind with its own
# index) through the expression that index is built over (`registry.OWN_INDEX_EXPRESSION`); ranked by the stored one.
_PG_RANKED = (
    "SELECT object_id FROM (SELECT object_id, tsv FROM search_searchdocument "
    "WHERE kind = %s AND workspace_id = %s AND tsv @@ to_tsquery('simple'::regconfig, %s) LIMIT %s) AS candidates "
    "ORDER BY ts_rank(tsv, to_tsquery('simple'::regconfig, %s)) DESC, object_id DESC LIMIT %s"
)
_PG_RANKED_OWN_INDEX = (
    "SELECT object_id FROM (SELECT object_id, tsv FROM search_searchdocument "
    "WHERE kind = %s AND workspace_id = %s AND to_tsvector('simple'::regconfig, body) @@ "
    "to_tsquery('simple'::regconfig, %s) LIMIT %s) AS candidates "
    "ORDER BY ts_rank(tsv, to_tsquery('simple'::regconfig, %s)) DESC, object_id DESC LIMIT %s"
)


def matching_ids(*, kind: str, workspace_id: int, query: str) -> QuerySet[Any] | None:
    """The ids of the objects of `kind` in the workspace whose document has every word of the query, each as a
    prefix; None when the query has no words. A query of ids (one column), for `pk__in` or a UNION: the database
    answers it from the index first, and the caller then fetches rows by id."""
    terms = text.query_terms(query)
    if not terms:
        return None
    docs = SearchDocument.objects.filter(kind=kind, workspace_id=workspace_id)
    vendor = connection.vendor
    if vendor == "sqlite":
        hits = SearchIndex.objects.filter(body__matches=text.fts5_match(terms)).values("rowid")
        return docs.filter(pk__in=hits).values_list("object_id")
    if vendor == "postgresql":
        return docs.filter(body__matches=text.tsquery(terms)).values_list("object_id")
    for term in terms:  # no full-text index on this database: every word somewhere in the document
        docs = docs.filter(body__icontains=term)
    return docs.values_list("object_id")


def ranked_ids(
    *, kind: str, workspace_id: int, query: str, limit: int = RANKED_LIMIT, any_term: bool = False
) -> list[int]:
    """The ids of the objects of `kind` whose document matches the query, best match first (SQLite FTS5's bm25,
    PostgreSQL's ts_rank over the same words). At most `limit`; empty on a database without a full-text index.
    `any_term`: a document with any of the query's words (a question in full sentences: knowledge retrieval) rather
    than all of them (a search box)."""
    terms = text.query_terms(query)
    if any_term:
        terms = text.any_terms(terms)
    if not terms:
        return []
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute(
                "SELECT d.object_id FROM search_fts JOIN search_searchdocument AS d ON d.id = search_fts.rowid "
                "WHERE search_fts MATCH %s AND d.kind = %s AND d.workspace_id = %s "
                "ORDER BY bm25(search_fts) LIMIT %s",
                [text.fts5_match(terms, any_term=any_term), kind, workspace_id, limit],
            )
        elif vendor == "postgresql":
            tsquery = text.tsquery(terms, any_term=any_term)
            # ts_rank reads the stored tsvector (migration 0002); it ranks at most RANK_CANDIDATES matches (for a
            # broad query, an arbitrary subset of them), so a query matching half the desk does not rank half the desk.
            # A kind with an index of its own is matched through it (see `registry.DocumentKind.own_index`).
            cursor.execute(
                _PG_RANKED_OWN_INDEX if registry.has_own_index(kind) else _PG_RANKED,
                [kind, workspace_id, tsquery, ANY_TERM_CANDIDATES if any_term else RANK_CANDIDATES, tsquery, limit],
            )
        else:
            return []
        return [row[0] for row in cursor.fetchall()]


class _Position(Func):
    """The 1-based position of a row's id in a list of ids (in a unit that grows with the position), NULL when
    absent: one function call per row, not a CASE of hundreds of branches. The id column is an ordinary expression,
    so it follows the query's table alias (the list pages a search through a subquery)."""

    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        ids, column = self.get_source_expressions()
        ids_sql, ids_params = compiler.compile(ids)
        column_sql, column_params = compiler.compile(column)
        # Where ",id," first occurs in ",3,1,2,": grows with the rank.
        return f"NULLIF(instr({ids_sql}, ',' || {column_sql} || ','), 0)", (*ids_params, *column_params)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        ids, column = self.get_source_expressions()
        ids_sql, ids_params = compiler.compile(ids)
        column_sql, column_params = compiler.compile(column)
        return f"array_position({ids_sql}::bigint[], {column_sql})", (*ids_params, *column_params)


def rank_position(ranked: list[int], *, field: str = "pk") -> Func | None:
    """An expression: the position of the row's `field` in `ranked` (1-based, in any unit that grows with the
    position), NULL for a row not in it. None when there is nothing to rank or no way to on this database."""
    if not ranked:
        return None
    vendor = connection.vendor
    if vendor == "sqlite":
        ids: Any = "," + ",".join(str(int(pk)) for pk in ranked) + ","
    elif vendor == "postgresql":
        ids = [int(pk) for pk in ranked]
    else:
        return None
    return _Position(Value(ids), F(field))
