"""The embedded search backend: SQLite FTS5 + R*Tree, no server (see docs/search.md).

Storage (one SQLite file, or ``:memory:``):

- ``docs``: one narrow row per document — its id, type, version and the columns the
  filters and sorts read (origin, status, starts_at, ends_at, lat, lng, city, name_sort);
  ``bodies`` holds the JSON document, read only for the page;
- ``docs_fts``: FTS5 over name, description, organisation names, tags and city
  (``unicode61 remove_diacritics 2``, prefix indexes of 2 and 3 letters); the name weighs
  most in bm25. A sixth column, ``keys``, holds a token per theme, tag and organisation:
  a text query narrows by them inside the full-text index (intersecting posting lists)
  instead of looking each candidate up;
- ``docs_geo``: an R*Tree of the coordinates, the pre-filter of a radius (its
  :func:`~search.geo.box_around`) or of a bounding box; the exact great-circle distance
  (the formula of :func:`~search.geo.distance_km`, in SQL) decides;
- ``doc_themes``, ``doc_tags``, ``doc_orgs``: (document, value) rows for any-of / all-of
  filters and facet counts;
- ``vocab`` and ``vocab_del``: the vocabulary and its deletion neighbourhoods, for the
  spelling fallback (:mod:`search.embedded_text`).

A search starts from the narrowest index it has — the full-text index with text, else a
side table for a theme/tag/organisation filter, else the R*Tree for a place, else the
table — checks the other filters on the narrow ``docs`` row, materialises every match
(with its sort keys) in a per-connection temporary table, then reads the page and the
facet counts from it with ``GROUP BY``: counts are exact over all matches.

Orders:

- ``relevance``: with text, bm25 (best first) then the date order; without text, the
  date order;
- ``date``: events by start (soonest first, an event already running comes first), then
  organisations and projects by name (accents and case ignored); ties by id;
- ``distance``: nearest first from ``query.point``, items without coordinates last, ties
  by id; without a point, the relevance order (the API fills the territory's centre).

Text: every word must match, the last one as a prefix while the user types (not when the
text ends with a space); accents and case are ignored. When a text query matches nothing,
each word missing from the vocabulary is replaced by its closest known words (one typo,
two for words of 8 letters or more; a transposition is one typo) and the query runs again.
A text without any letter or digit is no text.

Dates are epoch seconds; naive datetimes in a query are taken as UTC.

Concurrency: a file database gives each thread its own connection (WAL, busy timeout);
writes are serialised by a lock and run in one ``BEGIN IMMEDIATE`` transaction per batch.
``:memory:`` uses one connection guarded by a lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from search.backend import Document, SearchUnavailable
from search.embedded_query import MATCHES, Run, respell
from search.embedded_store import (
    SCHEMA,
    SIDE_TABLES,
    TABLES,
    TEXT_COLUMNS,
    docs_row,
    ensure_math,
    facet_values,
    fts_row,
    text_columns,
    update_totals,
    update_vocabulary,
    values,
)
from search.embedded_text import TextQuery, terms
from search.query import SearchQuery, SearchResult

BUSY_TIMEOUT_MS = 10_000
#: SQLite result codes meaning busy, locked, read-only, I/O error, full, cannot open
_UNAVAILABLE = {5, 6, 8, 10, 13, 14}
_INSERT = (
    "INSERT INTO docs (id, type, version, origin, status, starts_at, ends_at, lat, lng, city,"
    " name_sort) VALUES (:id, :type, :version, :origin, :status, :starts_at, :ends_at, :lat,"
    " :lng, :city, :name_sort)"
)
_UPDATE = (
    "UPDATE docs SET type = :type, version = :version, origin = :origin, status = :status,"
    " starts_at = :starts_at, ends_at = :ends_at, lat = :lat, lng = :lng, city = :city,"
    " name_sort = :name_sort WHERE rid = :rid"
)
_IN = "IN (SELECT value FROM json_each(?))"


class EmbeddedBackend:
    """A :class:`~search.backend.SearchBackend` on SQLite, without a server."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._memory = self.path == ":memory:"
        self._lock = threading.RLock()  # the connection of ":memory:"; the registry
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._epoch = 0  # bumped by close(): threads then open new connections
        self._opened: list[sqlite3.Connection] = []
        self._shared: sqlite3.Connection | None = None
        self._ready = False

    # connections -----------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not self._memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")
        conn.executescript(MATCHES)
        ensure_math(conn)
        with self._lock:
            self._opened.append(conn)
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._memory:
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        held = getattr(self._local, "held", None)
        if held is None or held[0] != self._epoch:
            held = (self._epoch, self._open())
            self._local.held = held
        conn: sqlite3.Connection = held[1]
        return conn

    @contextmanager
    def _session(self, write: bool) -> Iterator[sqlite3.Connection]:
        """A connection inside a transaction: writes serialised, reads on a snapshot."""
        guard = self._lock if self._memory else (self._write_lock if write else None)
        try:
            if guard is not None:
                guard.acquire()
            try:
                conn = self._connection()
                if not self._ready:
                    with self._lock:
                        if not self._ready:
                            conn.executescript(SCHEMA)
                            self._ready = True
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                if guard is not None:
                    guard.release()
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", 0) & 0xFF in _UNAVAILABLE:
                raise SearchUnavailable(f"embedded search: {error}") from error
            raise

    # SearchBackend ---------------------------------------------------------------------

    def setup(self) -> None:
        with self._session(write=True):
            pass

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
            self._shared = None
            self._epoch += 1
            if self._memory:
                self._ready = False  # the data went with the connection

    def clear(self) -> None:
        with self._session(write=True) as conn:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")

    def versions(self) -> dict[str, int]:
        with self._session(write=False) as conn:
            return {i: v for i, v in conn.execute("SELECT id, version FROM docs")}

    def delete(self, ids: Sequence[str]) -> None:
        wanted = sorted(set(ids))
        if not wanted:
            return
        with self._session(write=True) as conn:
            tally = _Tally()
            found = _unindex(conn, wanted, tally)
            rids = json.dumps(list(found.values()))
            conn.execute(f"DELETE FROM docs WHERE rid {_IN}", (rids,))
            conn.execute(f"DELETE FROM bodies WHERE rid {_IN}", (rids,))
            tally.save(conn)

    def upsert(self, documents: Sequence[Document]) -> None:
        batch = {doc["id"]: doc for doc in documents}  # the last one of an id wins
        rows = [docs_row(doc) for doc in batch.values()]
        if not rows:
            return
        with self._session(write=True) as conn:
            tally = _Tally()
            kept = _unindex(conn, list(batch), tally)
            bodies: list[tuple[int, str]] = []
            fts: list[tuple[object, ...]] = []
            geo: list[tuple[int, float, float, float, float]] = []
            side: dict[str, list[tuple[int, str]]] = {t: [] for t in SIDE_TABLES.values()}
            for row in rows:
                doc = batch[row["id"]]
                rid = kept.get(row["id"])
                if rid is None:
                    rid = conn.execute(_INSERT, row).lastrowid
                    assert rid is not None
                else:
                    conn.execute(_UPDATE, {**row, "rid": rid})
                bodies.append((rid, row["body"]))
                fts.append(fts_row(rid, doc))
                tally.add(doc, +1)
                if row["lat"] is not None:
                    geo.append((rid, row["lat"], row["lat"], row["lng"], row["lng"]))
                for field, table in SIDE_TABLES.items():
                    side[table].extend((rid, v) for v in values(doc, field))
            conn.executemany("INSERT OR REPLACE INTO bodies (rid, body) VALUES (?, ?)", bodies)
            conn.executemany(
                f"INSERT INTO docs_fts (rowid, {', '.join(TEXT_COLUMNS)}, keys)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                fts,
            )
            conn.executemany("INSERT INTO docs_geo VALUES (?, ?, ?, ?, ?)", geo)
            for table, pairs in side.items():
                conn.executemany(f"INSERT INTO {table} (doc, value) VALUES (?, ?)", pairs)
            tally.save(conn)

    def search(self, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        text = TextQuery.parse(query.text)
        with self._session(write=False) as conn:
            run = Run(conn, query)
            total = run.match(text.match() if text.words else None)
            if total == 0 and text.words:
                corrected = respell(conn, text)
                if corrected is not None:
                    total = run.match(corrected)
            hits = run.hits(bool(text.words))
            counts = run.facets(query.facets)
        took = (time.perf_counter() - started) * 1000
        return SearchResult(hits=hits, total=total, facets=counts, took_ms=round(took, 3))


class _Tally:
    """What a write changes in the vocabulary and in the whole index's facet counts."""

    def __init__(self) -> None:
        self.words: dict[str, int] = {}
        self.facets: dict[tuple[str, str], int] = {}

    def add(self, doc: Document, sign: int) -> None:
        for term in terms(text_columns(doc)):
            self.words[term] = self.words.get(term, 0) + sign
        for pair in facet_values(doc):
            self.facets[pair] = self.facets.get(pair, 0) + sign

    def save(self, conn: sqlite3.Connection) -> None:
        update_vocabulary(conn, self.words)
        update_totals(conn, self.facets)


def _unindex(conn: sqlite3.Connection, ids: list[str], tally: _Tally) -> dict[str, int]:
    """Remove these documents from every index but ``docs`` and ``bodies``, counting them
    out of the tally; return {id: rid} of those found."""
    found: dict[str, int] = {}
    for rid, doc_id, body in conn.execute(
        f"SELECT d.rid, d.id, b.body FROM docs AS d JOIN bodies AS b ON b.rid = d.rid"
        f" WHERE d.id {_IN}",
        (json.dumps(ids),),
    ):
        found[doc_id] = rid
        tally.add(json.loads(body), -1)
    if found:
        rids = json.dumps(list(found.values()))
        conn.execute(f"DELETE FROM docs_fts WHERE rowid {_IN}", (rids,))
        conn.execute(f"DELETE FROM docs_geo WHERE id {_IN}", (rids,))
        for table in SIDE_TABLES.values():
            conn.execute(f"DELETE FROM {table} WHERE doc {_IN}", (rids,))
    return found
