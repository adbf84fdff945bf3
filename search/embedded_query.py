"""How the embedded backend answers a :class:`~search.query.SearchQuery` in SQL.

A :class:`Plan` is the SQL that finds every match; a :class:`Run` executes it on one
connection and reads the page and the facet counts.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from search.embedded_store import (
    SIDE_TABLES,
    TEXT_COLUMNS,
    WEEK,
    WEEKS_ANY,
    WEEKS_LONG,
    WEIGHTS,
    coordinates,
    key_token,
    week_token,
)
from search.embedded_text import quote
from search.geo import EARTH_RADIUS_KM, box_around, distance_km
from search.query import FACETS, TYPES, Hit, Point, SearchQuery, Sort

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
#: the date order over ``docs`` (the expressions of the index ``docs_date_order``)
DOCS_DATE_ORDER = (
    "d.type <> 'event', d.starts_at,"
    " CASE WHEN d.type = 'event' THEN NULL ELSE d.name_sort END, d.id"
)
#: the date order over ``matches``: events by start, then the others by name, then id
DATE_ORDER = "grp, starts_at, name_sort, id"
#: matches found through an index are counted from the misses beyond this share
MISSES_SHARE = 0.75
#: a text query narrows by week inside the full-text index for windows up to this long
MAX_WINDOW_WEEKS = 12
#: the radius (km) of the first ring of a nearest-first walk
FIRST_RING_KM = 0.5
#: without facets, a date page walks the date index when (offset + limit) × documents ≤
#: matches² × this (the walk reads ≈ documents / matches rows per match it keeps), else
#: the matches are sorted
WALK_FACTOR = 4


def epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@dataclass
class Plan:
    """The SQL that finds every match of a query."""

    source: str = "docs AS d"  # FROM
    where: list[str] = field(default_factory=list)  # all must hold
    params: dict[str, Any] = field(default_factory=dict)
    score: str = "NULL"
    dist: str = "NULL"
    radius: bool = False  # the exact distance must be within ``:radius``
    scan: bool = False  # no index leads: a scan of ``docs``

    def condition(self) -> str:
        """The whole condition (the exact distance included)."""
        terms = [*self.where, f"{DISTANCE_SQL} <= :radius"] if self.radius else self.where
        return " AND ".join(terms) or "1"

    def select(self) -> str:
        """The matches with their sort keys (the columns of ``matches``)."""
        sql = (
            f"SELECT d.rid AS r, d.type AS type, d.city AS city, {self.score} AS score,"
            f" {self.dist} AS dist, d.type <> 'event' AS grp, d.starts_at AS starts_at,"
            " CASE WHEN d.type = 'event' THEN NULL ELSE d.name_sort END AS name_sort,"
            f" d.id AS id FROM {self.source} WHERE {' AND '.join(self.where) or '1'}"
        )
        if self.radius:  # LIMIT -1 keeps the subquery whole: the distance is computed once
            sql = f"SELECT * FROM ({sql} LIMIT -1) WHERE dist <= :radius"
        return sql


def plan(query: SearchQuery, text: str | None) -> Plan:
    """How to find the matches of ``query`` (``text``: an FTS5 expression over the
    searchable columns, or ``None``)."""
    found = Plan()
    where, params = found.where, found.params
    circle = None
    if query.point is not None and query.radius_km is not None:
        circle = box_around(query.point, query.radius_km)
    area = query.bbox or circle
    lists = list_filters(query)
    if text is not None:  # the full-text index also narrows by themes, tags, organisation
        found.source = "docs_fts CROSS JOIN docs AS d ON d.rid = docs_fts.rowid"
        parts = ["{" + " ".join(TEXT_COLUMNS) + "} : (" + text + ")"]
        for name, wanted in lists:
            tokens = " OR ".join(quote(key_token(name, v)) for v in wanted)
            parts.append(f"keys : ({tokens})")
        if query.start is not None and query.end is not None:
            first, last = epoch(query.start) // WEEK, epoch(query.end) // WEEK
            if 0 <= last - first < MAX_WINDOW_WEEKS:
                weeks = [WEEKS_ANY, WEEKS_LONG, *map(week_token, range(first, last + 1))]
                parts.append("keys : ({})".format(" OR ".join(map(quote, weeks))))
        where.append("docs_fts MATCH :match")
        params["match"] = " AND ".join(parts)
        by = Sort(query.sort)
        if by is Sort.relevance or (by is Sort.distance and query.point is None):
            found.score = "bm25(docs_fts, {})".format(", ".join(map(str, WEIGHTS)))
        lists = []
    elif lists:  # a side table leads (list filters are usually selective): see below
        pass
    elif area is not None:  # a range of the covering index of places, read in the index
        found.source = "docs AS d INDEXED BY docs_place"
        found.scan = True
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
            params.update(_box_params(name, box))
    for i, (name, wanted) in enumerate(lists):
        params[f"list{i}"] = json.dumps(wanted)
        where.append(
            f"d.rid IN (SELECT doc FROM {SIDE_TABLES[name]}"
            f" WHERE value IN (SELECT value FROM json_each(:list{i})))"
        )
    if query.point is not None:
        found.dist = DISTANCE_SQL
        params.update(_point_params(query.point))
        if query.radius_km is not None:
            found.radius = True
            params["radius"] = query.radius_km
    return found


_SIZE = "SELECT coalesce(sum(n), 0) FROM facet_totals WHERE facet = 'type'"
_RTREE_BOX = (
    "g.max_lat >= :g_min_lat AND g.min_lat <= :g_max_lat"
    " AND g.max_lng >= :g_min_lon AND g.min_lng <= :g_max_lon"
)


def _box_params(name: str, box: Any) -> dict[str, float]:
    return {
        f"{name}_min_lat": box.min_lat,
        f"{name}_max_lat": box.max_lat,
        f"{name}_min_lon": box.min_lon,
        f"{name}_max_lon": box.max_lon,
    }


def _point_params(point: Point) -> dict[str, float]:
    phi1 = math.radians(point.lat)
    return {"earth": EARTH_RADIUS_KM, "phi1": phi1, "cos1": math.cos(phi1), "plon": point.lon}


def list_filters(query: SearchQuery) -> list[tuple[str, list[str]]]:
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

    The matches usually go to the temporary table ``matches``. When a plain scan finds
    more than half of the index, only its *misses* are materialised (``misses``): the
    page is then read in index order (date) or ring by ring around the point (distance),
    and the facet counts are those of the whole index (``facet_totals``) minus the
    misses'. Very many matches found through an index are also counted from their misses.
    Without text and without facets (a map's pins) nothing is materialised: the matches
    are counted, and the page is read from the indexes (``lazy``).
    """

    def __init__(self, conn: sqlite3.Connection, query: SearchQuery) -> None:
        self.conn, self.query = conn, query
        # every document has one type: the whole index's type counts add up to its size
        # (a count(*) of ``docs`` took ≈5 ms at 100,000 documents; this reads 3 rows)
        self.size: int = conn.execute(_SIZE).fetchone()[0]
        self.plan = Plan()
        self.total = 0
        self.scanned = False  # dense scan: the misses were materialised, not the matches
        self.lazy = False  # only counted: the page is read from the indexes

    def match(self, text: str | None) -> int:
        """Find every match (``text``: an FTS5 expression, or ``None``); return how many."""
        self.plan = found = plan(self.query, text)
        self.scanned = False
        self.lazy = text is None and not any(n in FACETS for n in self.query.facets)
        if self.lazy:
            sql = f"SELECT count(*) FROM {found.source} WHERE {found.condition()}"
            self.total = self.conn.execute(sql, found.params).fetchone()[0]
            return self.total
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

    # the page ---------------------------------------------------------------------------

    def hits(self, has_text: bool) -> list[Hit]:
        """The requested page, in the requested order."""
        query = self.query
        limit, offset = max(0, query.limit), max(0, query.offset)
        if limit == 0 or self.total == 0:
            return []
        nearest = Sort(query.sort) is Sort.distance and query.point is not None
        if self.lazy:
            if nearest:
                assert query.point is not None
                rids = self._nearest(query.point, limit, offset)
            else:  # without text, every order but distance is the date order
                rids = self._in_date_order(limit, offset)
        elif not self.scanned:
            relevance = ("score, " if has_text else "") + DATE_ORDER
            order = "dist IS NULL, dist, id" if nearest else relevance
            if Sort(query.sort) is Sort.date:
                order = DATE_ORDER
            sql = f"SELECT r FROM temp.matches ORDER BY {order} LIMIT :limit OFFSET :offset"
            rids = self._rids(sql, {"limit": limit, "offset": offset})
        elif nearest:
            assert query.point is not None
            rids = self._nearest(query.point, limit, offset)
        else:  # the date order (relevance without text is the date order too)
            sql = (
                f"SELECT d.rid FROM docs AS d INDEXED BY docs_date_order"
                f" WHERE {self.plan.condition()} ORDER BY {DOCS_DATE_ORDER}"
                " LIMIT :limit OFFSET :offset"
            )
            rids = self._rids(sql, {**self.plan.params, "limit": limit, "offset": offset})
        return self._documents(rids)

    def _in_date_order(self, limit: int, offset: int) -> list[int]:
        """A date page of unmaterialised matches: walked from the date index when the
        matches are dense enough, else sorted from the narrowest index."""
        found, params = self.plan, {"limit": limit, "offset": offset}
        source = found.source
        if (limit + offset) * self.size <= self.total * self.total * WALK_FACTOR:
            source = "docs AS d INDEXED BY docs_date_order"
        sql = (
            f"SELECT d.rid FROM {source} WHERE {found.condition()}"
            f" ORDER BY {DOCS_DATE_ORDER} LIMIT :limit OFFSET :offset"
        )
        return self._rids(sql, {**found.params, **params})

    def _rids(self, sql: str, params: dict[str, Any]) -> list[int]:
        return [r for (r,) in self.conn.execute(sql, params)]

    def _nearest(self, point: Point, limit: int, offset: int) -> list[int]:
        """Nearest first over a dense scan or unmaterialised matches: rings of growing
        radius through the R*Tree, until one holds the whole page; a full scan when none
        does."""
        params = {**self.plan.params, **_point_params(point), "limit": limit, "offset": offset}
        condition = self.plan.condition()
        radius = FIRST_RING_KM
        while radius < math.pi * EARTH_RADIUS_KM:
            box = box_around(point, radius)
            if box.min_lon <= -180 or box.max_lon >= 180 or box.min_lat <= -90:
                break  # the box is clipped (pole, antimeridian): it may miss the circle
            if box.max_lat >= 90:
                break
            sql = (
                f"SELECT r FROM (SELECT d.rid AS r, d.id AS id, {DISTANCE_SQL} AS dist"
                f" FROM docs_geo AS g CROSS JOIN docs AS d ON d.rid = g.id"
                f" WHERE {_RTREE_BOX} AND {condition} LIMIT -1)"
                " WHERE dist <= :ring ORDER BY dist, id LIMIT :need"
            )
            need = limit + offset
            ring = {**params, **_box_params("g", box), "ring": radius, "need": need}
            rids = self._rids(sql, ring)
            if len(rids) == need:  # everything farther lies outside the ring
                return rids[offset:]
            radius *= 4
        sql = (
            f"SELECT r FROM (SELECT d.rid AS r, d.id AS id, {DISTANCE_SQL} AS dist"
            f" FROM docs AS d WHERE {condition} LIMIT -1)"
            " ORDER BY dist IS NULL, dist, id LIMIT :limit OFFSET :offset"
        )
        return self._rids(sql, params)

    def _documents(self, rids: list[int]) -> list[Hit]:
        bodies = dict(
            self.conn.execute(
                "SELECT rid, body FROM bodies WHERE rid IN (SELECT value FROM json_each(?))",
                (json.dumps(rids),),
            ).fetchall()
        )
        point = self.query.point
        hits = []
        for rid in rids:
            doc = json.loads(bodies[rid])
            where = coordinates(doc)
            away = None
            if point is not None and where is not None:
                away = round(distance_km(point, *where), 3)
            hits.append(Hit(doc["id"], doc["type"], doc.get("object_id") or "", away, doc))
        return hits

    # facets -----------------------------------------------------------------------------

    def facets(self, names: tuple[str, ...]) -> dict[str, dict[str, int]]:
        """Exact counts of the requested facets over every match (unknown names ignored),
        most frequent first."""
        wanted = [n for n in dict.fromkeys(names) if n in FACETS]
        counts: dict[str, dict[str, int]] = {name: {} for name in wanted}
        if self.total and wanted:
            if self.scanned or self.total > self.size * MISSES_SHARE:
                self._count_from_misses(wanted, counts)
            else:
                self._count(wanted, "temp.matches", counts)
        return {
            name: dict(sorted(found.items(), key=lambda vc: (-vc[1], vc[0])))
            for name, found in counts.items()
        }

    def _count(self, wanted: list[str], table: str, counts: dict[str, dict[str, int]]) -> None:
        """Add the facet counts of the rows of ``table`` (``matches`` or ``misses``)."""
        rows, alias = f"{table} AS m", "m"
        if table != "temp.matches":  # misses hold ids only
            rows, alias = f"{table} AS m CROSS JOIN docs AS d ON d.rid = m.r", "d"
        if "type" in wanted:  # sums in one pass: cheaper than sorting for GROUP BY
            sums = ", ".join(f"sum({alias}.type = '{kind}')" for kind in TYPES)
            found = self.conn.execute(f"SELECT count(*), {sums} FROM {rows}").fetchone()
            if found[0] == sum(n or 0 for n in found[1:]):
                counts["type"].update((k, n) for k, n in zip(TYPES, found[1:], strict=True) if n)
            else:  # a type outside TYPES
                sql = f"SELECT {alias}.type, count(*) FROM {rows} GROUP BY 1"
                counts["type"].update(self.conn.execute(sql).fetchall())
        if "city" in wanted:
            sql = (
                f"SELECT {alias}.city, count(*) FROM {rows}"
                f" WHERE {alias}.city IS NOT NULL GROUP BY 1"
            )
            counts["city"].update(self.conn.execute(sql).fetchall())
        for name in ("themes", "tags"):
            if name in wanted:
                sql = (
                    f"SELECT x.value, count(*) FROM {table} AS m"
                    f" CROSS JOIN {SIDE_TABLES[name]} AS x ON x.doc = m.r GROUP BY 1"
                )
                counts[name].update(self.conn.execute(sql).fetchall())

    def _count_from_misses(self, wanted: list[str], counts: dict[str, dict[str, int]]) -> None:
        """Facet counts as those of the whole index minus those of the misses."""
        if not self.scanned:
            self.conn.execute("DELETE FROM temp.misses")
            self.conn.execute(
                "INSERT INTO temp.misses (r) SELECT rid FROM docs"
                " WHERE rid NOT IN (SELECT r FROM temp.matches)"
            )
        misses: dict[str, dict[str, int]] = {name: {} for name in wanted}
        self._count(wanted, "temp.misses", misses)
        for name in wanted:
            sql = "SELECT value, n FROM facet_totals WHERE facet = ?"
            for value, n in self.conn.execute(sql, (name,)):
                left = n - misses[name].get(value, 0)
                if left > 0:
                    counts[name][value] = left
