"""Generic full-text search documents: any app registers a kind of document; the index is the database's own."""
