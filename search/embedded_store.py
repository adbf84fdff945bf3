"""Storage of the embedded search backend: the schema and the rows of a document."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sqlite3
from collections.abc import Callable
from typing import Any

from search.backend import Document
from search.embedded_text import deletions, fold, fuzzy_indexable, words

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
#: list fields kept in side tables (any-of / all-of filters, facet counts)
SIDE_TABLES = {"themes": "doc_themes", "tags": "doc_tags", "organisation_ids": "doc_orgs"}
#: the letter of a list field's tokens in the full-text ``keys`` column
KEY_LETTERS = {"themes": "t", "tags": "g", "organisation_ids": "o"}
#: searchable columns of ``docs_fts`` (``keys`` — tokens of themes, tags, organisations
#: and weeks — only narrows, it is never searched)
TEXT_COLUMNS = ("name", "description", "organisation_names", "tags", "city")
#: weeks (epoch seconds // WEEK) in ``keys``: events by the weeks they overlap
WEEK = 7 * 86400
MAX_WEEKS = 60
WEEKS_ANY = "wany"
WEEKS_LONG = "wlong"
#: bm25 weights of the columns of ``docs_fts``
WEIGHTS = (10.0, 1.0, 3.0, 4.0, 2.0, 0.0)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS docs (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    version INTEGER NOT NULL,
    origin TEXT NOT NULL,
    status TEXT,
    starts_at INTEGER,
    ends_at INTEGER,
    lat REAL,
    lng REAL,
    city TEXT,
    name_sort TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_date_order ON docs (
    type <> 'event', starts_at, CASE WHEN type = 'event' THEN NULL ELSE name_sort END, id,
    type, status, ends_at, origin
);
-- places: a range on lat, then every filter of a map or radius read in the index
CREATE INDEX IF NOT EXISTS docs_place ON docs (lat, lng, type, status, ends_at, starts_at, origin);
CREATE TABLE IF NOT EXISTS bodies (rid INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5 (
    {", ".join(TEXT_COLUMNS)}, keys,
    tokenize = "unicode61 remove_diacritics 2", prefix = '2 3'
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_geo USING rtree (id, min_lat, max_lat, min_lng, max_lng);
CREATE TABLE IF NOT EXISTS facet_totals (
    facet TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (facet, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vocab (term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vocab_del (
    key TEXT NOT NULL, term TEXT NOT NULL, PRIMARY KEY (key, term)
) WITHOUT ROWID;
PRAGMA user_version = {SCHEMA_VERSION};
""" + "".join(
    f"""
CREATE TABLE IF NOT EXISTS {table} (
    doc INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (doc, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {table}_value ON {table} (value, doc);
"""
    for table in SIDE_TABLES.values()
)
TABLES = (
    "docs",
    "bodies",
    "docs_fts",
    "docs_geo",
    "facet_totals",
    "vocab",
    "vocab_del",
    *SIDE_TABLES.values(),
)


def create_schema(conn: sqlite3.Connection) -> None:
    """Create what is missing. An index of another schema version is dropped first: it
    holds derived data only, ``maillon reindex`` fills it again."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found not in (0, SCHEMA_VERSION):
        log.warning("search index schema %s, expected %s: rebuilt empty", found, SCHEMA_VERSION)
        for table in TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.executescript(SCHEMA)


def key_token(field: str, value: str) -> str:
    """The full-text token standing for ``value`` of a list field (letters and digits)."""
    digest = hashlib.blake2b(value.encode(), digest_size=8).hexdigest()
    return KEY_LETTERS[field] + digest


def text_columns(doc: Document) -> tuple[str, ...]:
    """The searchable columns, as the full-text index holds them: folded words separated
    by spaces (:func:`~search.embedded_text.words`). The index then holds exactly the
    vocabulary's terms, which lets a query spell a prefix out as the terms it covers."""
    return (
        " ".join(words(doc.get("name") or "")),
        " ".join(words(doc.get("description") or "")),
        " ".join(words(" ".join(doc.get("organisation_names") or []))),
        " ".join(words(" ".join(doc.get("tags") or []))),
        " ".join(words(doc.get("city") or "")),
    )


def column_terms(columns: tuple[str, ...]) -> set[str]:
    return set(" ".join(columns).split())


def values(doc: Document, field: str) -> list[str]:
    return list(dict.fromkeys(str(v) for v in doc.get(field) or []))


def fts_row(rid: int, doc: Document, columns: tuple[str, ...]) -> tuple[Any, ...]:
    keys = [key_token(f, v) for f in KEY_LETTERS for v in values(doc, f)]
    keys.extend(week_tokens(doc))
    return (rid, *columns, " ".join(keys))


def week_token(week: int) -> str:
    return f"w{week}" if week >= 0 else f"wm{-week}"


def week_tokens(doc: Document) -> list[str]:
    """The weeks an event overlaps (``WEEKS_ANY`` for what is not an event, ``WEEKS_LONG``
    for very long events): a text query with a date window narrows by them."""
    if doc["type"] != "event":
        return [WEEKS_ANY]
    starts, ends = doc.get("starts_at"), doc.get("ends_at")
    if starts is None:
        return []
    first, last = int(starts) // WEEK, max(int(starts), int(ends or starts)) // WEEK
    if last - first >= MAX_WEEKS:
        return [WEEKS_LONG]
    return [week_token(week) for week in range(first, last + 1)]


def coordinates(doc: Document) -> tuple[float, float] | None:
    lat, lng = doc.get("lat"), doc.get("lng")
    if lat is None or lng is None:
        return None
    return float(lat), float(lng)


def docs_row(doc: Document) -> dict[str, Any]:
    """The ``docs`` columns of a document, and its JSON body (validated)."""
    if not isinstance(doc.get("id"), str) or not isinstance(doc.get("type"), str):
        raise ValueError(f"a search document needs a string id and type: {doc.get('id')!r}")
    event = doc["type"] == "event"
    starts, ends = doc.get("starts_at"), doc.get("ends_at")
    where = coordinates(doc)
    return {
        "id": doc["id"],
        "type": doc["type"],
        "body": json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        "version": int(doc.get("version") or 0),
        "origin": doc.get("origin") or "local",
        "status": doc.get("status"),
        "starts_at": starts if event else None,
        # an event without an end lasts an instant
        "ends_at": (ends if ends is not None else starts) if event else None,
        "lat": where[0] if where else None,
        "lng": where[1] if where else None,
        "city": doc.get("city"),
        "name_sort": fold(doc.get("name") or ""),
    }


def facet_values(doc: Document) -> list[tuple[str, str]]:
    """The (facet, value) pairs a document adds to the facet counts."""
    found = [("type", str(doc["type"]))]
    if doc.get("city") is not None:
        found.append(("city", str(doc["city"])))
    found.extend(("themes", v) for v in values(doc, "themes"))
    found.extend(("tags", v) for v in values(doc, "tags"))
    return found


def update_totals(conn: sqlite3.Connection, counts: dict[tuple[str, str], int]) -> None:
    """Apply changes to ``facet_totals`` (the facet counts of the whole index)."""
    changed = [(facet, value, n) for (facet, value), n in counts.items() if n]
    conn.executemany(
        "INSERT INTO facet_totals (facet, value, n) VALUES (?, ?, ?)"
        " ON CONFLICT (facet, value) DO UPDATE SET n = n + excluded.n",
        changed,
    )
    if any(n < 0 for _, _, n in changed):
        conn.execute("DELETE FROM facet_totals WHERE n <= 0")


def update_vocabulary(conn: sqlite3.Connection, counts: dict[str, int]) -> None:
    """Apply document-count changes to ``vocab``; keep ``vocab_del`` in step."""
    changed = {term: n for term, n in counts.items() if n}
    if not changed:
        return
    existing = {
        term
        for (term,) in conn.execute(
            "SELECT term FROM vocab WHERE term IN (SELECT value FROM json_each(?))",
            (json.dumps(list(changed)),),
        )
    }
    conn.executemany(
        "INSERT INTO vocab (term, n) VALUES (?, ?)"
        " ON CONFLICT (term) DO UPDATE SET n = n + excluded.n",
        changed.items(),
    )
    born = [t for t in changed if t not in existing and fuzzy_indexable(t)]
    conn.executemany(
        "INSERT OR IGNORE INTO vocab_del (key, term) VALUES (?, ?)",
        ((key, term) for term in born for key in deletions(term)),
    )
    shrunk = [t for t, n in changed.items() if n < 0]
    if shrunk:
        gone = [
            term
            for (term,) in conn.execute(
                "SELECT term FROM vocab WHERE term IN (SELECT value FROM json_each(?)) AND n <= 0",
                (json.dumps(shrunk),),
            )
        ]
        conn.executemany("DELETE FROM vocab WHERE term = ?", ((t,) for t in gone))
        conn.executemany(
            "DELETE FROM vocab_del WHERE key = ? AND term = ?",
            ((key, term) for term in gone for key in deletions(term)),
        )


def ensure_math(conn: sqlite3.Connection) -> None:
    """SQLite built without its math functions gets Python's (same libm, same doubles)."""
    try:
        conn.execute("SELECT sin(0), pow(2, 2), radians(0)")
    except sqlite3.OperationalError:
        for name in ("sin", "cos", "asin", "sqrt", "radians"):
            conn.create_function(name, 1, _nullable(getattr(math, name)), deterministic=True)
        conn.create_function("pow", 2, _nullable(math.pow), deterministic=True)


def _nullable(function: Callable[..., float]) -> Callable[..., float | None]:
    def call(*args: float | None) -> float | None:
        return None if any(a is None for a in args) else function(*args)

    return call
