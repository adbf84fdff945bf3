"""How the embedded backend answers a :class:`~search.query.SearchQuery` in SQL."""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from search.embedded_store import (
    SIDE_TABLES,
    TEXT_COLUMNS,
    WEIGHTS,
    coordinates,
    key_token,
)
from search.embedded_text import (
    MAX_ALTERNATIVES,
    MIN_FUZZY_WORD,
    TextQuery,
    distance,
    edits,
    lookup_keys,
    match_expression,
    quote,
    typos_allowed,
)
from search.geo import EARTH_RADIUS_KM, box_around, distance_km
from search.query import FACETS, TYPES, Hit, SearchQuery, Sort

MATCHES = """
CREATE TEMP TABLE IF NOT EXISTS matches (
    r INTEGER PRIMARY KEY, type TEXT, city TEXT, score REAL, dist REAL,
    grp INTEGER, starts_at INTEGER, name_sort TEXT, id TEXT
);
CREATE TEMP TABLE IF NOT EXISTS misses (r INTEGER PRIMARY KEY);
"""
#: the haversine of search.geo.distance_km, operation for operation (same doubles)
DISTANCE_SQL = (
    "(2 * :earth * asin(min(1.0, sqrt("
    "pow(sin((radians(d.lat) - :phi1) / 2), 2)"
    " + :cos1 * cos(radians(d.lat)) * pow(sin(radians(d.lng - :plon) / 2), 2)))))"
)
#: events by start, then the others by name (``name_sort`` is NULL for events), then id
DATE_ORDER = "grp, starts_at, name_sort, id"
_TOP = chr(0x10FFFF)  # sorts after any text: "term >= w AND term < w || _TOP" is a prefix


def epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@dataclass
class Plan:
    """The SQL that finds every match of a query."""

    source: str  # FROM
    where: list[str]  # all must hold
    params: dict[str, Any]
    score: str = "NULL"
    dist: str = "NULL"
    scan: bool = False  # no index to start from: a scan of ``docs``

    def condition(self) -> str:
        return " AND ".join(self.where) or "1"

    def select(self) -> str:
        return (
            f"SELECT d.rid AS r, d.type AS type, d.city AS city, {self.score} AS score,"
            f" {self.dist} AS dist, d.type <> 'event' AS grp, d.starts_at AS starts_at,"
            " CASE WHEN d.type = 'event' THEN NULL ELSE d.name_sort END AS name_sort,"
            f" d.id AS id FROM {self.source} WHERE {self.condition()}"
        )


def plan(query: SearchQuery, text: str | None) -> Plan:
    """How to find the matches of ``query`` (``text``: an FTS5 expression over the
    searchable columns, or ``None``)."""
    found = Plan(source="docs AS d", where=[], params={})
    where, params = found.where, found.params
    circle = None
    if query.point is not None and query.radius_km is not None:
        circle = box_around(query.point, query.radius_km)
    area = query.bbox or circle
    lists = _list_filters(query)
    if text is not None:  # the full-text index also narrows by themes, tags, organisation
        found.source = "docs_fts CROSS JOIN docs AS d ON d.rid = docs_fts.rowid"
        parts = ["{" + " ".join(TEXT_COLUMNS) + "} : (" + text + ")"]
        for field, wanted in lists:
            tokens = " OR ".join(quote(key_token(field, v)) for v in wanted)
            parts.append(f"keys : ({tokens})")
        where.append("docs_fts MATCH :match")
        params["match"] = " AND ".join(parts)
        by = Sort(query.sort)
        if by is Sort.relevance or (by is Sort.distance and query.point is None):
            found.score = "bm25(docs_fts, {})".format(", ".join(map(str, WEIGHTS)))
        lists = []
    elif lists:  # the side table of a list filter (usually selective) leads: see below
        pass
    elif area is not None:
        found.source = "docs_geo AS g CROSS JOIN docs AS d ON d.rid = g.id"
        where.append(
            "g.max_lat >= :g_min_lat AND g.min_lat <= :g_max_lat"
            " AND g.max_lng >= :g_min_lon AND g.min_lng <= :g_max_lon"
        )
        params.update(g_min_lat=area.min_lat, g_max_lat=area.max_lat)
        params.update(g_min_lon=area.min_lon, g_max_lon=area.max_lon)
    else:
        found.scan = True

    if query.types and not set(TYPES) <= set(query.types):
        names = sorted(query.types)
        where.append("d.type IN ({})".format(", ".join(f":type{i}" for i in range(len(names)))))
        params.update({f"type{i}": name for i, name in enumerate(names)})
    if query.origin != "all":
        where.append("d.origin = :origin")
        params["origin"] = query.origin
    if not query.include_cancelled:
        where.append("d.status IS NOT 'cancelled'")
    if query.start is not None or query.end is not None:
        window = []
        if query.start is not None:
            window.append("d.ends_at >= :start")
            params["start"] = epoch(query.start)
        if query.end is not None:
            window.append("d.starts_at <= :end")
            params["end"] = epoch(query.end)
        where.append("(d.type <> 'event' OR ({}))".format(" AND ".join(window)))
    else:  # upcoming: events not over yet
        where.append("(d.type <> 'event' OR d.ends_at >= :now)")
        params["now"] = epoch(query.now or datetime.now(UTC))
    for name, box in (("bbox", query.bbox), ("circle", circle)):
        if box is not None:
            where.append(
                f"d.lat BETWEEN :{name}_min_lat AND :{name}_max_lat"
                f" AND d.lng BETWEEN :{name}_min_lon AND :{name}_max_lon"
            )
            params.update({f"{name}_min_lat": box.min_lat, f"{name}_max_lat": box.max_lat})
            params.update({f"{name}_min_lon": box.min_lon, f"{name}_max_lon": box.max_lon})
    for i, (field, wanted) in enumerate(lists):
        params[f"list{i}"] = json.dumps(wanted)
        where.append(
            f"d.rid IN (SELECT doc FROM {SIDE_TABLES[field]}"
            f" WHERE value IN (SELECT value FROM json_each(:list{i})))"
        )
    if query.point is not None:
        found.dist = DISTANCE_SQL
        phi1 = math.radians(query.point.lat)
        params.update(earth=EARTH_RADIUS_KM, phi1=phi1, cos1=math.cos(phi1), plon=query.point.lon)
        if query.radius_km is not None:
            where.append(f"{DISTANCE_SQL} <= :radius")
            params["radius"] = query.radius_km
    return found


def _list_filters(query: SearchQuery) -> list[tuple[str, list[str]]]:
    """(field, any of these values) filters, all of which must hold."""
    lists: list[tuple[str, list[str]]] = []
    if query.organisation_id is not None:
        lists.append(("organisation_ids", [query.organisation_id]))
    if query.themes:
        lists.append(("themes", list(dict.fromkeys(query.themes))))
    if query.tags and query.tags_all:
        lists.extend(("tags", [tag]) for tag in dict.fromkeys(query.tags))
    elif query.tags:
        lists.append(("tags", list(dict.fromkeys(query.tags))))
    return lists


class Run:
    """One search on one connection: the matches, then their page and facet counts.

    The matches go to the temporary table ``matches`` — except when a plain scan finds
    more than half of the index: then only the *misses* are materialised (``misses``), the
    page is read straight from the scan, and the facet counts are the whole index's
    (``facet_totals``) minus the misses'. Many matches found through an index also have
    their facets counted from the misses.
    """

    def __init__(self, conn: sqlite3.Connection, query: SearchQuery) -> None:
        self.conn, self.query = conn, query
        self.size: int = conn.execute("SELECT count(*) FROM docs").fetchone()[0]
        self.plan = plan(query, None)
        self.total = 0
        self.scanned = False  # the matches were not materialised (dense scan)

    def match(self, text: str | None) -> int:
        """Find the matches (``text``: an FTS5 expression, or ``None``)."""
        self.plan = found = plan(self.query, text)
        self.scanned = False
        if found.scan:
            sql = f"SELECT count(*) FROM docs AS d WHERE {found.condition()}"
            self.total = self.conn.execute(sql, found.params).fetchone()[0]
            if self.total * 2 > self.size:
                self.scanned = True
                self.conn.execute("DELETE FROM temp.misses")
                self.conn.execute(
                    "INSERT INTO temp.misses (r) SELECT d.rid FROM docs AS d"
                    f" WHERE NOT coalesce(({found.condition()}), 0)",
                    found.params,
                )
                return self.total
        self.conn.execute("DELETE FROM temp.matches")
        insert = f"INSERT INTO temp.matches {found.select()}"
        self.total = self.conn.execute(insert, found.params).rowcount
        return self.total

    def hits(self, has_text: bool) -> list[Hit]:
        """The requested page, in the requested order."""
        query = self.query
        relevance = ("score, " if has_text else "") + DATE_ORDER
        order = {
            Sort.relevance: relevance,
            Sort.date: DATE_ORDER,
            Sort.distance: "dist IS NULL, dist, id" if query.point is not None else relevance,
        }[Sort(query.sort)]
        limit, offset = max(0, query.limit), max(0, query.offset)
        if limit == 0 or self.total == 0:
            return []
        source = f"({self.plan.select()})" if self.scanned else "temp.matches"
        sql = f"SELECT r FROM {source} ORDER BY {order} LIMIT :limit OFFSET :offset"
        params = {**self.plan.params, "limit": limit, "offset": offset}
        rids = [r for (r,) in self.conn.execute(sql, params)]
        bodies = dict(
            self.conn.execute(
                "SELECT rid, body FROM bodies WHERE rid IN (SELECT value FROM json_each(?))",
                (json.dumps(rids),),
            ).fetchall()
        )
        hits = []
        for rid in rids:
            doc = json.loads(bodies[rid])
            where = coordinates(doc)
            away = None
            if query.point is not None and where is not None:
                away = round(distance_km(query.point, *where), 3)
            hits.append(Hit(doc["id"], doc["type"], doc.get("object_id") or "", away, doc))
        return hits

    def facets(self, names: tuple[str, ...]) -> dict[str, dict[str, int]]:
        """Exact counts of the requested facets over every match (unknown names ignored)."""
        wanted = [n for n in dict.fromkeys(names) if n in FACETS]
        counts: dict[str, dict[str, int]] = {name: {} for name in wanted}
        if self.total and wanted:
            if self.scanned or self.total * 2 > self.size:
                self._count_from_misses(wanted, counts)
            else:
                self._count(wanted, "temp.matches", counts)
        return {
            name: dict(sorted(c.items(), key=lambda vc: (-vc[1], vc[0])))
            for name, c in counts.items()
        }

    def _count(self, wanted: list[str], table: str, counts: dict[str, dict[str, int]]) -> None:
        """Add the facet counts of the rows of ``table`` (``matches`` or ``misses``)."""
        if "type" in wanted or "city" in wanted:
            join = "" if table == "temp.matches" else " CROSS JOIN docs AS d ON d.rid = m.r"
            cols = "m.type, m.city" if not join else "d.type, d.city"
            sql = f"SELECT {cols}, count(*) FROM {table} AS m{join} GROUP BY 1, 2"
            for kind, city, n in self.conn.execute(sql):
                if "type" in counts:
                    counts["type"][kind] = counts["type"].get(kind, 0) + n
                if "city" in counts and city is not None:
                    counts["city"][city] = counts["city"].get(city, 0) + n
        for name in ("themes", "tags"):
            if name in wanted:
                sql = (
                    f"SELECT x.value, count(*) FROM {table} AS m"
                    f" CROSS JOIN {SIDE_TABLES[name]} AS x ON x.doc = m.r GROUP BY 1"
                )
                counts[name].update(self.conn.execute(sql).fetchall())

    def _count_from_misses(self, wanted: list[str], counts: dict[str, dict[str, int]]) -> None:
        if not self.scanned:
            self.conn.execute("DELETE FROM temp.misses")
            self.conn.execute(
                "INSERT INTO temp.misses (r) SELECT rid FROM docs"
                " WHERE rid NOT IN (SELECT r FROM temp.matches)"
            )
        misses: dict[str, dict[str, int]] = {name: {} for name in wanted}
        self._count(wanted, "temp.misses", misses)
        for name in wanted:
            for value, n in self.conn.execute(
                "SELECT value, n FROM facet_totals WHERE facet = ?", (name,)
            ):
                left = n - misses[name].get(value, 0)
                if left > 0:
                    counts[name][value] = left


# spelling --------------------------------------------------------------------------------


def respell(conn: sqlite3.Connection, text: TextQuery) -> str | None:
    """The text's FTS5 expression with each unknown word replaced by its closest known
    words; ``None`` when nothing changes or a word has no close match."""
    groups: list[list[tuple[str, bool]]] = []
    changed = False
    for index, word in enumerate(text.words):
        prefix = text.is_prefix(index)
        if _known(conn, word, prefix):
            groups.append([(word, prefix)])
            continue
        alternatives = _alternatives(conn, word, prefix)
        if not alternatives:
            return None
        groups.append(alternatives)
        changed = True
    return match_expression(groups) if changed else None


def _known(conn: sqlite3.Connection, word: str, prefix: bool) -> bool:
    if prefix:
        sql = "SELECT 1 FROM vocab WHERE term >= ? AND term < ? LIMIT 1"
        return conn.execute(sql, (word, word + _TOP)).fetchone() is not None
    return conn.execute("SELECT 1 FROM vocab WHERE term = ?", (word,)).fetchone() is not None


def _alternatives(conn: sqlite3.Connection, word: str, prefix: bool) -> list[tuple[str, bool]]:
    """The closest vocabulary words (FTS alternatives) within the typos allowed."""
    allowed = typos_allowed(word)
    if allowed == 0:
        return []
    ranked: list[tuple[int, bool, int, str]] = []
    rows = conn.execute(
        "SELECT DISTINCT v.term, v.n FROM vocab_del AS x CROSS JOIN vocab AS v"
        " ON v.term = x.term WHERE x.key IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(lookup_keys(word, allowed))),),
    )
    for term, n in rows:
        typos = distance(word, term, allowed)
        if typos <= allowed:
            ranked.append((typos, False, -n, term))
    if prefix:  # one typo in what has been typed so far
        starts = sorted(v for v in edits(word) if len(v) >= MIN_FUZZY_WORD)
        for (variant,) in conn.execute(
            "SELECT s.value FROM json_each(?) AS s WHERE EXISTS (SELECT 1 FROM vocab"
            " WHERE term >= s.value AND term < s.value || ?)",
            (json.dumps(starts), _TOP),
        ):
            ranked.append((1, True, 0, variant))
    if not ranked:
        return []
    best = min(r[0] for r in ranked)
    chosen = sorted(r for r in ranked if r[0] == best)[:MAX_ALTERNATIVES]
    return [(term, prefix) for _, _, _, term in chosen]
