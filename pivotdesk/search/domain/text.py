"""Search text: the words a document (a ticket, later an article or a contact) is indexed under and the words a
query asks for, cut the same way.

Chinese has no spaces, so a full-text index over raw text sees one "word" per sentence. Both sides go through
jieba's search mode (`lcut_for_search`: 退款申请 → 退款, 申请, 退款申请), and the words are joined with spaces;
the index then needs only a plain word tokenizer (SQLite FTS5 `unicode61`, PostgreSQL's `simple` configuration).
A query word matches as a prefix, so 退 finds 退款 and 2026112 finds the order number 20261121.

Pure Python: no Django here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pivotdesk.common.segment import jieba

MAX_DOCUMENT_CHARS = 200_000  # a document's indexed text; a mail thread longer than this is cut (its start is kept)
MAX_QUERY_TERMS = 12

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A word: letters and digits of any script. Everything else (punctuation, symbols, spaces, underscore) separates.
_WORD = re.compile(r"[^\W_]+")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def _normalise(text: str) -> str:
    """NFKC (full-width ＡＢＣ１２３ → ABC123), lower case, NUL removed."""
    return unicodedata.normalize("NFKC", text.replace("\x00", " ")).lower()


def _cjk_words(run: str) -> list[str]:
    return [w for w in jieba().lcut_for_search(run) if w.strip()]


def words(text: str) -> list[str]:
    """The words of a text, in order, repeats kept: Latin words and numbers as they are, Chinese runs cut by jieba
    (search mode, so compounds are followed by their parts)."""
    out: list[str] = []
    for token in _WORD.findall(_normalise(text)):
        if not _CJK.search(token):
            out.append(token)
            continue
        # A token may mix scripts ("pd100扫码枪"): Chinese runs go to jieba, the rest stays whole.
        pos = 0
        for m in _CJK_RUN.finditer(token):
            if m.start() > pos:
                out.append(token[pos : m.start()])
            out.extend(_cjk_words(m.group()))
            pos = m.end()
        if pos < len(token):
            out.append(token[pos:])
    return out


def document(parts: Iterable[str]) -> str:
    """The indexed text of an object from its parts (a ticket's subject, messages, attachment text), cut to a
    bounded size."""
    text = "\n".join(p for p in parts if p)[:MAX_DOCUMENT_CHARS]
    return " ".join(words(text))


def query_terms(query: str) -> list[str]:
    """The distinct words of a query, in order, at most MAX_QUERY_TERMS. Every term is made of word characters
    only, so it is safe inside an FTS5 string or a PostgreSQL tsquery."""
    seen: dict[str, None] = {}
    for w in words(query):
        if w not in seen:
            seen[w] = None
    terms = list(seen)
    # jieba's search mode gives a Chinese compound and its parts (退款申请 → 退款, 申请, 退款申请); the document has
    # the parts wherever it has the compound, so the parts are asked for and the compound is dropped.
    parts = [t for t in terms if not (_CJK.search(t) and any(o != t and _CJK.search(o) and o in t for o in terms))]
    return parts[:MAX_QUERY_TERMS]


# Words too common to tell documents apart when any word may match (a question in full sentences).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


def any_terms(terms: list[str]) -> list[str]:
    """The terms worth matching one by one: English stop words and single Latin letters left out (a term that is
    all such words keeps them, so a query never becomes empty)."""
    kept = [t for t in terms if _CJK.search(t) or t.isdigit() or (len(t) > 1 and t not in STOPWORDS)]
    return kept or terms


def fts5_match(terms: list[str], *, any_term: bool = False) -> str:
    """An SQLite FTS5 MATCH expression: every term, each as a prefix ("退款"* AND "e"*); with `any_term`, a
    document with any of them ("退款"* OR "e"*), which bm25 then ranks by how many and how rare."""
    return (" OR " if any_term else " AND ").join(f'"{t}"*' for t in terms)


def tsquery(terms: list[str], *, any_term: bool = False) -> str:
    """A PostgreSQL to_tsquery('simple', …) expression: every term, each as a prefix (退款:* & e:*); with
    `any_term`, any of them (退款:* | e:*)."""
    return (" | " if any_term else " & ").join(f"{t}:*" for t in terms)
