"""The embedded search backend: SQLite FTS5 + R*Tree, no server (see docs/search.md).

Storage (one SQLite file, or ``:memory:``; the modules ``search.embedded_*`` hold the
parts):

- ``docs``: one narrow row per document — id, type, version and the columns filters and
  orders read (origin, status, starts_at, ends_at, lat, lng, city, name_sort); ``bodies``
  holds the JSON document, read for the page only;
- ``docs_fts``: FTS5 (``unicode61 remove_diacritics 2``, prefix indexes of 2 and 3
  letters) over name, description, organisation names, tags and city — stored as their
  folded words, so that the index holds exactly the terms of ``vocab`` — and ``keys``: a
  token per theme, tag, organisation and week (events) that a text query narrows by
  inside the index (posting lists intersected) instead of checking candidates one by one.
  bm25 weighs the name most, then tags, organisation names, city, description;
- ``docs_place``: an index of ``docs`` on (lat, lng) covering every column a filter
  reads: a bounding box or a radius (its :func:`~search.geo.box_around`) is a range of
  it, filtered and counted without reading the table; the exact great-circle distance
  (:func:`~search.geo.distance_km`'s formula, in SQL, the same doubles) decides;
- ``docs_geo``: an R*Tree of the coordinates, for nearest-first walks ring by ring;
- ``doc_themes``, ``doc_tags``, ``doc_orgs``: (document, value) rows for any-of / all-of
  filters and facet counts; ``facet_totals``: the facet counts of the whole index;
- ``vocab`` (every term, with its document count) and ``vocab_del`` (deletion
  neighbourhoods) for prefixes and the spelling fallback (:mod:`search.embedded_spelling`).

A search starts from the narrowest index it has — the full-text index with text, else a
side table for a theme/tag/organisation filter, else ``docs_place`` for an area, else a
scan of ``docs`` — checks the other filters on the narrow row, and materialises every
match with its sort keys in a per-connection temporary table, from which the page and the
facet counts (``GROUP BY``, exact over all matches) are read. A scan matching more than
half of the index materialises its misses instead: the page comes in index order (date)
or ring by ring around the point (distance), the facet counts are the whole index's minus
the misses'. Without text and without facets (a map's pins) nothing is materialised: the
matches are counted, and the page is read in date-index order when they are dense enough,
else sorted, or ring by ring around the point.

Orders (ties always broken by the document id):

- ``relevance``: with text, bm25 (best first) then the date order; without text, the
  date order;
- ``date``: events by start (soonest first: an event already running comes first), then
  organisations and projects by name, accents and case ignored (``name_sort``);
- ``distance``: nearest first from ``query.point``, items without coordinates last;
  without a point, the relevance order (the API fills the territory's centre).

Text: every word must match (AND), the last one as a prefix while the user types (not
when the text ends with a space); accents and case are ignored; user input never reaches
FTS5 syntax (words only, each quoted). When a text query matches nothing, each word
missing from the vocabulary is replaced by its closest known words — one typo, two for
words of 8 letters or more, a transposition counting as one; for the last word, a typo in
what was typed so far — and the query runs again. A text without letters or digits is no
text.

Dates are epoch seconds; naive datetimes in a query are taken as UTC. An event without an
end lasts an instant.

Concurrency: a file database gives each thread its own connection (WAL, busy timeout,
closed with the thread); writes are serialised by a lock and run in one ``BEGIN
IMMEDIATE`` transaction per batch; a search reads one snapshot. ``:memory:`` has one
connection guarded by a lock. A busy, locked, read-only or failing database raises
:class:`~search.backend.SearchUnavailable`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from search.backend import Document, SearchUnavailable
from search.embedded_query import MATCHES, Run
from search.embedded_spelling import expression, respell
from search.embedded_store import (
    SIDE_TABLES,
    TABLES,
    TEXT_COLUMNS,
    column_terms,
    coordinates,
    create_schema,
    docs_row,
    ensure_math,
    facet_values,
    fts_row,
    text_columns,
    update_totals,
    update_vocabulary,
    values,
)
from search.embedded_text import TextQuery
from search.query import SearchQuery, SearchResult

BUSY_TIMEOUT_MS = 10_000
#: SQLite result codes meaning busy, locked, read-only, I/O error, full, cannot open
_UNAVAILABLE = {5, 6, 8, 10, 13, 14}
_WRITE = (
    "INSERT OR REPLACE INTO docs (rid, id, type, version, origin, status, starts_at, ends_at,"
    " lat, lng, city, name_sort) VALUES (:rid, :id, :type, :version, :origin, :status,"
    " :starts_at, :ends_at, :lat, :lng, :city, :name_sort)"
)
_IN = "IN (SELECT value FROM json_each(?))"


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced."""


class _Held:
    """A thread's connection, closed when the thread ends (its locals go)."""

    __slots__ = ("conn", "epoch")

    def __init__(self, epoch: int, conn: sqlite3.Connection) -> None:
        self.epoch, self.conn = epoch, conn

    def __del__(self) -> None:
        self.conn.close()


class EmbeddedBackend:
    """A :class:`~search.backend.SearchBackend` on SQLite, without a server."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._memory = self.path == ":memory:"
        self._lock = threading.RLock()  # the connection of ":memory:"; the registry
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._epoch = 0  # bumped by close(): threads then open new connections
        #: open connections, to close them all; a thread's goes when the thread ends
        self._opened: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
        self._shared: sqlite3.Connection | None = None
        self._ready = False

    # connections -----------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            factory=_Connection,
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
            self._opened.add(conn)
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._memory:
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        held: _Held | None = getattr(self._local, "held", None)
        if held is None or held.epoch != self._epoch:
            held = self._local.held = _Held(self._epoch, self._open())
        return held.conn

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
                            create_schema(conn)
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
            for conn in list(self._opened):
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
            found, _ = _unindex(conn, wanted, tally)
            rids = json.dumps(list(found.values()))
            conn.execute(f"DELETE FROM docs WHERE rid {_IN}", (rids,))
            conn.execute(f"DELETE FROM bodies WHERE rid {_IN}", (rids,))
            tally.save(conn)

    def upsert(self, documents: Sequence[Document]) -> None:
        rows = {row["id"]: row for row in map(docs_row, documents)}  # the last of an id wins
        batch = {doc["id"]: doc for doc in documents}
        if not rows:
            return
        columns_of = {doc_id: text_columns(batch[doc_id]) for doc_id in rows}
        with self._session(write=True) as conn:
            tally = _Tally()
            replacing = {doc_id: (batch[doc_id], columns_of[doc_id]) for doc_id in rows}
            kept, unchanged = _unindex(conn, list(rows), tally, replacing)
            (fresh,) = conn.execute("SELECT coalesce(max(rid), 0) + 1 FROM docs").fetchone()
            bodies: list[tuple[int, str]] = []
            fts: list[tuple[object, ...]] = []
            geo: list[tuple[int, float, float, float, float]] = []
            side: dict[str, list[tuple[int, str]]] = {t: [] for t in SIDE_TABLES.values()}
            for doc_id, row in rows.items():
                doc = batch[doc_id]
                rid = kept.get(doc_id)
                if rid is None:  # the write lock is held: these ids are ours
                    rid, fresh = fresh, fresh + 1
                row["rid"] = rid
                bodies.append((rid, row["body"]))
                columns = columns_of[doc_id]
                if ("fts", rid) not in unchanged:
                    fts.append(fts_row(rid, doc, columns))
                tally.add(doc, columns, +1)
                if row["lat"] is not None and ("geo", rid) not in unchanged:
                    geo.append((rid, row["lat"], row["lat"], row["lng"], row["lng"]))
                for field, table in SIDE_TABLES.items():
                    if (table, rid) not in unchanged:
                        side[table].extend((rid, v) for v in values(doc, field))
            conn.executemany(_WRITE, rows.values())
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
            total = run.match(expression(conn, text) if text.words else None)
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

    def add(self, doc: Document, columns: tuple[str, ...], sign: int) -> None:
        for term in column_terms(columns):
            self.words[term] = self.words.get(term, 0) + sign
        for pair in facet_values(doc):
            self.facets[pair] = self.facets.get(pair, 0) + sign

    def save(self, conn: sqlite3.Connection) -> None:
        update_vocabulary(conn, self.words)
        update_totals(conn, self.facets)


def _unindex(
    conn: sqlite3.Connection,
    ids: list[str],
    tally: _Tally,
    replacing: dict[str, tuple[Document, tuple[str, ...]]] | None = None,
) -> tuple[dict[str, int], set[tuple[str, int]]]:
    """Remove these documents from every index but ``docs`` and ``bodies``, counting them
    out of the tally. The parts that ``replacing`` (id → new document and its text
    columns) leaves as they are stay in place (a rename rewrites neither the R*Tree nor
    the side tables). Return {id: rid} of those found, and the (part, rid) left in place
    — parts: ``fts``, ``geo`` and the side tables' names."""
    found: dict[str, int] = {}
    unchanged: set[tuple[str, int]] = set()
    for rid, doc_id, body in conn.execute(
        f"SELECT d.rid, d.id, b.body FROM docs AS d JOIN bodies AS b ON b.rid = d.rid"
        f" WHERE d.id {_IN}",
        (json.dumps(ids),),
    ):
        found[doc_id] = rid
        doc = json.loads(body)
        columns = text_columns(doc)
        tally.add(doc, columns, -1)
        if replacing and doc_id in replacing:
            new, new_columns = replacing[doc_id]
            if fts_row(rid, doc, columns) == fts_row(rid, new, new_columns):
                unchanged.add(("fts", rid))
            if coordinates(doc) == coordinates(new):
                unchanged.add(("geo", rid))
            unchanged.update(
                (table, rid)
                for field, table in SIDE_TABLES.items()
                if values(doc, field) == values(new, field)
            )
    parts = {"fts": "docs_fts WHERE rowid", "geo": "docs_geo WHERE id"}
    parts.update({table: f"{table} WHERE doc" for table in SIDE_TABLES.values()})
    for part, where in parts.items():
        rids = [rid for rid in found.values() if (part, rid) not in unchanged]
        if rids:
            conn.execute(f"DELETE FROM {where} {_IN}", (json.dumps(rids),))
    return found, unchanged
