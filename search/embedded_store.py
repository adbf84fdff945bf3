"""Storage of the embedded search backend: the schema and the rows of a document."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Callable
from typing import Any

from search.backend import Document
from search.embedded_text import deletions, fold, fuzzy_indexable

SCHEMA_VERSION = 1
#: list fields kept in side tables (any-of / all-of filters, facet counts)
SIDE_TABLES = {"themes": "doc_themes", "tags": "doc_tags", "organisation_ids": "doc_orgs"}
#: the letter of a list field's tokens in the full-text ``keys`` column
KEY_LETTERS = {"themes": "t", "tags": "g", "organisation_ids": "o"}
#: searchable columns of ``docs_fts`` (``keys`` only narrows, it is never searched)
TEXT_COLUMNS = ("name", "description", "organisation_names", "tags", "city")
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


def key_token(field: str, value: str) -> str:
    """The full-text token standing for ``value`` of a list field (letters and digits)."""
    digest = hashlib.blake2b(value.encode(), digest_size=8).hexdigest()
    return KEY_LETTERS[field] + digest


def text_columns(doc: Document) -> tuple[str, str, str, str, str]:
    return (
        doc.get("name") or "",
        doc.get("description") or "",
        " ".join(doc.get("organisation_names") or []),
        " ".join(doc.get("tags") or []),
        doc.get("city") or "",
    )


def values(doc: Document, field: str) -> list[str]:
    return list(dict.fromkeys(str(v) for v in doc.get(field) or []))


def fts_row(rid: int, doc: Document) -> tuple[Any, ...]:
    keys = [key_token(f, v) for f in KEY_LETTERS for v in values(doc, f)]
    return (rid, *text_columns(doc), " ".join(keys))


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
