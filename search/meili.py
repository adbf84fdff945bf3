"""The Meilisearch backend: :class:`SearchBackend` over Meilisearch's HTTP API.

Talks to the server through one kept-alive :class:`httpx.Client` that asks for
uncompressed replies (gzip on a kept-alive connection cost ≈40 ms a reply; see
docs/search.md for the measurements behind each choice here).

- **Geo** uses plain numeric ``lat``/``lng`` range filters, never ``_geo`` (whose index
  is rewritten on every write batch): a radius becomes its bounding box in the filter,
  and the exact great-circle distance is computed here. Meilisearch counts the box; only
  its rim and corners (outside a cross drawn inside the circle) are fetched, and those
  beyond the radius taken off the counts; a small ring gives the nearest.
- **Exact orders** are the embedded backend's, ties broken by id. The date order (and
  "relevance" without text) is Meilisearch's own sort on ``starts_at`` then ``id`` in one
  request, with the facets and the page's documents; organisations and projects (by
  folded name) are sorted here when a page reaches them. The distance order is computed
  here over the candidates (ids and coordinates), then the page's documents are fetched.
- **Totals** are the sum of the ``type`` facet (exact, where ``totalHits`` stops at
  ``maxTotalHits``); under a radius, the box's less its corners beyond the radius.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from search.backend import Document, SearchUnavailable
from search.embedded_text import fold
from search.geo import (
    box_around,
    crosses_antimeridian,
    distance_km,
    distances_from,
    inner_cross,
)
from search.query import FACETS, BBox, Hit, Point, SearchQuery, SearchResult, Sort

log = logging.getLogger(__name__)

#: a search answers at most this many candidates (Meilisearch's ``maxTotalHits``)
MAX_TOTAL_HITS = 100_000
BATCH = 10_000
#: the document ids we send: what Meilisearch accepts (no ``:`` nor ``/``), lower case
#: and short, so that its string order (of lowercased values) is their byte order
VALID_ID = re.compile(r"[a-z0-9_-]{1,200}")
#: the date order: events by start then id; documents without a start come last
DATE_SORT = ["starts_at:asc", "id:asc"]
FILTERABLE = "type themes tags origin status starts_at ends_at lat lng organisation_ids city"
SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["name", "organisation_names", "tags", "city", "description"],
    "filterableAttributes": FILTERABLE.split(),
    # ``starts_at`` then ``id``: the date order (ties by id); ``name`` for ad-hoc queries.
    "sortableAttributes": ["id", "name", "starts_at"],
    # "sort" first: a sort asked for is the order, not a tie-breaker after relevance.
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
    "localizedAttributes": [{"attributePatterns": ["*"], "locales": ["fra"]}],
    "typoTolerance": {"disableOnNumbers": True},
    "synonyms": {
        "velo": ["bicyclette"],
        "bicyclette": ["velo"],
        "ess": ["economie sociale et solidaire"],
        "economie sociale et solidaire": ["ess"],
        "repair": ["reparation"],
        "reparation": ["repair"],
        "asso": ["association"],
        "association": ["asso"],
        "covoiturage": ["autopartage"],
        "autopartage": ["covoiturage"],
    },
    "faceting": {"maxValuesPerFacet": 1000},
    # No search inside facet values (we never ask): its index is rebuilt on every write,
    # and with ``id`` sortable it made a one-document write ≈2.5× slower.
    "facetSearch": False,
    "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
}
_UNORDERED = {"filterableAttributes", "sortableAttributes"}
_REPLACED = {"synonyms"}  # compared whole: an extra synonym on the server is a change
_GEO_FIELDS = ["id", "lat", "lng"]
#: the ring a radius's first requests fetch for the distance order, as a share of it
RING_SHARE = 0.25
#: a ring sized from the density is meant to hold this many times the page
RING_DENSITY = 2.5
#: radii (km) of the rings a distance order grows through; the last holds the Earth
RINGS_KM = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 20_100)
_Answer = tuple[list[Hit], int, dict[str, dict[str, int]]]


class MeiliError(SearchUnavailable):
    """Meilisearch answered with an error (``status`` and Meilisearch's ``code``)."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class MeiliBackend:
    """Search documents in one Meilisearch index (see the module docstring)."""

    def __init__(
        self,
        url: str,
        key: str | None,
        *,
        index: str = "maillon",
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        task_timeout: float = 300.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.index = index
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client()
        self._headers = {"Accept-Encoding": "identity", "User-Agent": "maillon-search"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._timeout = timeout
        self._task_timeout = task_timeout
        #: a radius counted by Meilisearch, only its rim and corners fetched (False: every
        #: candidate of its box, as before 2026-12-07; the benchmark's "before" rows)
        self.staircase = True

    def __repr__(self) -> str:
        return f"MeiliBackend({self.url!r}, index={self.index!r})"

    # -- administration ---------------------------------------------------------------

    def setup(self) -> None:
        try:
            self._call("GET", self._path())
        except MeiliError as error:
            if error.code != "index_not_found":
                raise
            try:
                self._wait(self._call("POST", "/indexes", {"uid": self.index, "primaryKey": "id"}))
            except MeiliError as race:
                if race.code != "index_already_exists":
                    raise
        current = self._call("GET", self._path("/settings"))
        changed = {k: v for k, v in SETTINGS.items() if not _same_setting(k, current.get(k), v)}
        if changed:
            self._wait(self._call("PATCH", self._path("/settings"), changed))

    def drop(self) -> None:
        """Delete the whole index (settings too); a missing index is not an error."""
        try:
            self._wait(self._call("DELETE", self._path()))
        except MeiliError as error:
            if error.code != "index_not_found":
                raise

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    # -- documents --------------------------------------------------------------------

    def upsert(self, documents: Sequence[Document]) -> None:
        for doc in documents:
            check_id(doc.get("id"))
        for chunk in _chunks(documents, BATCH):
            self._wait(self._call("POST", self._path("/documents"), chunk))

    def delete(self, ids: Sequence[str]) -> None:
        valid = [i for i in ids if isinstance(i, str) and VALID_ID.fullmatch(i)]
        for chunk in _chunks(valid, BATCH):
            self._wait(self._call("POST", self._path("/documents/delete-batch"), chunk))

    def clear(self) -> None:
        self._wait(self._call("DELETE", self._path("/documents")))

    def versions(self) -> dict[str, int]:
        found: dict[str, int] = {}
        offset = 0
        while True:
            body = {"fields": ["id", "version"], "limit": BATCH, "offset": offset}
            page = self._call("POST", self._path("/documents/fetch"), body)
            for doc in page["results"]:
                found[doc["id"]] = int(doc.get("version") or 0)
            offset += len(page["results"])
            if not page["results"] or offset >= page["total"]:
                return found

    # -- search -----------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        facets = [f for f in FACETS if f in query.facets]
        parts = filters(query)
        order = _order(query)
        radius = query.radius_km if query.point is not None else None
        if radius is not None:
            hits, total, counts = self._within_radius(query, parts, order, radius)
        elif order == "relevance":
            hits, total, counts = self._ranked(query, parts, facets)
        else:
            hits, total, counts = self._ordered(query, parts, order, facets)
        return SearchResult(
            hits=hits,
            total=total,
            facets={f: counts.get(f, {}) for f in query.facets},
            took_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    def _ranked(self, query: SearchQuery, parts: list[str], facets: list[str]) -> _Answer:
        """Text relevance, no radius: Meilisearch ranks and pages."""
        body = _body(query, parts, facets=sorted({"type", *facets}))
        limit, offset = max(0, query.limit), max(0, query.offset)
        if limit == 0 or offset % limit == 0:
            body.update(page=offset // limit + 1 if limit else 1, hitsPerPage=limit)
            skip = 0
        else:  # an offset between pages: the pages up to it, then the tail
            body.update(page=1, hitsPerPage=offset + limit)
            skip = offset
        answer = self._call("POST", self._path("/search"), body)
        counts = answer.get("facetDistribution") or {}
        hits = [_hit(doc, query) for doc in answer["hits"][skip:]]
        return hits, _total(counts), counts

    def _ordered(
        self, query: SearchQuery, parts: list[str], order: str, facets: list[str]
    ) -> _Answer:
        """Date or distance order, no radius: only the first ``offset + limit`` are sought."""
        if order == "date":
            return self._soonest(query, parts, facets)
        assert query.point is not None
        summary = _body(query, parts, limit=0, facets=sorted({"type", *facets}))
        wanted = max(0, query.offset) + max(0, query.limit)
        rings = [
            _body(query, [_box(box_around(query.point, r)), *parts], limit=0, facets=["type"])
            for r in RINGS_KM
        ]
        answer, *counted = self._multi([summary, *rings])
        counts = answer.get("facetDistribution") or {}
        sizes = [_total(ring.get("facetDistribution") or {}) for ring in counted]
        ranked = self._nearest(query, parts, sizes, wanted)
        page = ranked[max(0, query.offset) : wanted]
        return self._page(page, query), _total(counts), counts

    def _soonest(self, query: SearchQuery, parts: list[str], facets: list[str]) -> _Answer:
        """The date order: events by start then id, then the others by folded name then id.

        One request: Meilisearch sorts by ``starts_at`` then ``id`` (``sort`` is the first
        ranking rule; documents without a start come last; our ids are lower case, so its
        order of them is ours) and returns the first ``offset + limit`` documents with the
        facets. Organisations and projects follow by name with accents and case folded,
        which Meilisearch's string order does not reproduce: when the page reaches past
        the events and the answer did not hold every match, they are all fetched (ids and
        names) and sorted here.
        """
        offset, wanted = max(0, query.offset), max(0, query.offset) + max(0, query.limit)
        body = _body(query, parts, limit=wanted, sort=DATE_SORT, facets=sorted({"type", *facets}))
        answer = self._call("POST", self._path("/search"), body)
        counts = answer.get("facetDistribution") or {}
        total = _total(counts)
        found: list[dict[str, Any]] = answer["hits"]
        if len(found) >= wanted and (wanted == 0 or date_key(found[wanted - 1])[0] == 0):
            return [_hit(d, query) for d in found[offset:wanted]], total, counts  # all events
        dated = [d for d in found if date_key(d)[0] == 0]
        others = [d for d in found if date_key(d)[0] != 0]
        if len(found) < total:  # some of the others are missing: all of them, by name
            others = self._all(query, [*parts, 'type != "event"'], ["id", "type", "name"])
        others.sort(key=date_key)
        ranked = (dated + others)[offset:wanted]
        have = {d["id"]: d for d in found}
        missing = self._page([d["id"] for d in ranked if d["id"] not in have], query)
        have.update((hit.id, hit.document) for hit in missing)
        return [_hit(have[d["id"]], query) for d in ranked if d["id"] in have], total, counts

    def _nearest(
        self, query: SearchQuery, parts: list[str], sizes: list[int], wanted: int
    ) -> list[str]:
        """The first ``wanted`` ids by exact distance, then those without coordinates.

        Rings grow until one's circle holds ``wanted`` items: everything outside it is
        farther than everything inside, so sorting the inside is exact — when the ring's
        box holds its whole circle, so a ring cut at the antimeridian is passed over.
        ``sizes`` are the counts of each ring's box, from one multi-search.
        """
        assert query.point is not None
        if wanted == 0:
            return []
        point = query.point
        ranked: list[tuple[float, str]] = []
        for radius, size in zip(RINGS_KM, sizes, strict=True):
            last = radius == RINGS_KM[-1]
            box = box_around(point, radius)
            if not last and (size < wanted or crosses_antimeridian(box)):
                continue
            found = self._all(query, [_box(box), *parts], _GEO_FIELDS)
            ranked = sorted(
                (d, c["id"])
                for c in found
                if (d := _distance(point, c)) is not None and d <= radius
            )
            if len(ranked) >= wanted or last:
                break
        ids = [i for _, i in ranked[:wanted]]
        if len(ids) < wanted:  # past every located item: the others, by id
            unlocated = self._all(query, [*parts, "lat IS NULL OR lat NOT EXISTS"], ["id"])
            ids += sorted(u["id"] for u in unlocated)[: wanted - len(ids)]
        return ids

    def _within_radius(
        self, query: SearchQuery, parts: list[str], order: str, radius: float
    ) -> _Answer:
        """A radius, without fetching the inside of its circle (docs/search.md).

        One multi-search: Meilisearch counts the circle's box (``limit`` 0: the total and
        the facets, exact), and returns the candidates outside a cross of two rectangles
        drawn inside the circle — the box's corners and the circle's rim — with their
        coordinates and facet fields. Those beyond the radius are taken off the box's
        counts. The same multi-search holds what the order needs: for the distance order,
        the candidates of a small ring around the point too (the nearest, when it holds a
        page; else a ring sized from the density is asked for); for the date and relevance
        orders, the first documents of the box in that order (enough once the corners'
        are set aside, else asked for again with as many more as the corners hold).
        """
        assert query.point is not None
        cross = inner_cross(query.point, radius) if self.staircase else []
        if not cross:
            return self._whole_box(query, parts, order, radius)
        point = query.point
        facets = [f for f in FACETS if f in query.facets]
        counted = sorted({"type", *facets})
        fields = [*_GEO_FIELDS, *(f for f in FACETS if f in counted)]
        ring = box_around(point, radius * RING_SHARE)
        outside_cross = "NOT (" + " OR ".join(f"({_box(b)})" for b in cross) + ")"
        count = _body(query, parts, limit=0, facets=counted)
        wanted = max(0, query.offset) + max(0, query.limit)
        if order == "distance":
            rim = _body(
                query, [*parts, f"({outside_cross}) OR ({_box(ring)})"],
                limit=MAX_TOTAL_HITS, attributesToRetrieve=fields,
            )  # fmt: skip
            answer, candidates = self._multi([count, rim])
        else:
            rim = _body(
                query, [*parts, outside_cross], limit=MAX_TOTAL_HITS, attributesToRetrieve=fields
            )
            first = _body(query, parts, limit=wanted + _spare(wanted))
            if order == "date":
                first["sort"] = DATE_SORT
            answer, candidates, ordered = self._multi([count, rim, first])
        distance = distances_from(point)
        beyond: list[dict[str, Any]] = []
        near: list[tuple[float, str]] = []
        near_radius = radius * RING_SHARE
        for candidate in candidates["hits"]:
            away = distance(candidate["lat"], candidate["lng"])
            if away > radius:
                beyond.append(candidate)
            elif away <= near_radius:
                near.append((away, candidate["id"]))
        if len(candidates["hits"]) >= MAX_TOTAL_HITS:
            log.warning("search: %d candidates or more, the counts are approximate", MAX_TOTAL_HITS)
        counts = _subtract(answer.get("facetDistribution") or {}, count_facets(beyond, counted))
        total = _total(counts)
        offset = max(0, query.offset)
        if order == "distance":
            if len(near) >= min(wanted, total):  # the page, or the whole circle
                near.sort()
                return self._page([i for _, i in near[offset:wanted]], query), total, counts
            return self._ring(query, parts, radius, total, wanted), total, counts
        outside = {c["id"] for c in beyond}
        inside = [d for d in ordered["hits"] if d["id"] not in outside]
        if len(inside) < wanted and len(ordered["hits"]) >= first["limit"]:
            first["limit"] = wanted + len(outside)  # at most that many of them precede
            again = self._call("POST", self._path("/search"), first)["hits"]
            inside = [d for d in again if d["id"] not in outside]
        if order == "date":
            return self._dated_in_radius(query, parts, inside, total, radius), total, counts
        return [_hit(d, query) for d in inside[offset:wanted]], total, counts

    def _ring(
        self, query: SearchQuery, parts: list[str], radius: float, total: int, wanted: int
    ) -> list[Hit]:
        """The nearest page inside the radius from rings sized from the density (``total``
        items in the circle), doubled until one holds the page; the last is the circle."""
        assert query.point is not None
        point = query.point
        distance = distances_from(point)
        around = radius * math.sqrt(min(1.0, RING_DENSITY * wanted / max(1, total)))
        around = max(around, 2 * radius * RING_SHARE)
        while True:
            around = min(around, radius)
            ring = [_box(box_around(point, around))] if around < radius else []
            body = _body(query, [*ring, *parts], limit=MAX_TOTAL_HITS)
            found = sorted(
                (away, d["id"], d)
                for d in self._call("POST", self._path("/search"), body)["hits"]
                if (away := distance(d["lat"], d["lng"])) <= around
            )
            if len(found) >= wanted or around >= radius:
                return [_hit(d, query) for _, _, d in found[max(0, query.offset) : wanted]]
            around *= 2

    def _dated_in_radius(
        self,
        query: SearchQuery,
        parts: list[str],
        inside: list[dict[str, Any]],
        total: int,
        radius: float,
    ) -> list[Hit]:
        """The date order's page from the first documents of the circle in Meilisearch's
        order (events by start then id, then the others by id): the others are sorted here
        by folded name, all of the circle's fetched when the page reaches them and the
        documents at hand did not hold them all (as :meth:`_soonest` does)."""
        assert query.point is not None
        offset, wanted = max(0, query.offset), max(0, query.offset) + max(0, query.limit)
        head = inside[:wanted]
        if len(head) >= wanted and (wanted == 0 or date_key(head[-1])[0] == 0):
            return [_hit(d, query) for d in head[offset:]]
        dated = [d for d in inside if date_key(d)[0] == 0]
        others = [d for d in inside if date_key(d)[0] != 0]
        if len(inside) < total:
            distance = distances_from(query.point)
            others = [
                d
                for d in self._all(
                    query, [*parts, 'type != "event"'], ["id", "type", "name", "lat", "lng"]
                )
                if distance(d["lat"], d["lng"]) <= radius
            ]
        others.sort(key=date_key)
        ranked = (dated + others)[offset:wanted]
        have = {d["id"]: d for d in inside}
        missing = self._page([d["id"] for d in ranked if d["id"] not in have], query)
        have.update((hit.id, hit.document) for hit in missing)
        return [_hit(have[d["id"]], query) for d in ranked if d["id"] in have]

    def _whole_box(
        self, query: SearchQuery, parts: list[str], order: str, radius: float
    ) -> _Answer:
        """A radius the cross cannot serve (see :func:`search.geo.inner_cross`): every
        candidate of its box (the fields the cut, the order and the facets need), cut,
        counted and ordered here; then the page's documents. The path of every radius
        before 2026-12-07 (``staircase = False``)."""
        assert query.point is not None
        facets = [f for f in FACETS if f in query.facets]
        fields = [*_GEO_FIELDS, *(["type", "name", "starts_at"] if order == "date" else [])]
        fields += [f for f in facets if f not in fields]
        sort = ["starts_at:asc"] if order == "date" else None
        distance = distances_from(query.point)
        kept: list[tuple[float, dict[str, Any]]] = []
        for candidate in self._all(query, parts, fields, sort=sort):
            lat, lng = candidate.get("lat"), candidate.get("lng")
            if lat is not None and lng is not None and (away := distance(lat, lng)) <= radius:
                kept.append((away, candidate))
        if order == "distance":
            kept.sort(key=lambda pair: (pair[0], pair[1]["id"]))
        elif order == "date":
            kept.sort(key=lambda pair: date_key(pair[1]))
        start = max(0, query.offset)
        page = [c["id"] for _, c in kept[start : start + max(0, query.limit)]]
        counts = count_facets([c for _, c in kept], facets)
        return self._page(page, query), len(kept), counts

    def _all(
        self,
        query: SearchQuery,
        parts: list[str],
        fields: list[str] | None = None,
        sort: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every match's ``fields`` (``id`` and ``starts_at`` by default), in one request."""
        extra: dict[str, Any] = {"sort": sort} if sort else {}
        body = _body(
            query, parts, limit=MAX_TOTAL_HITS,
            attributesToRetrieve=fields or ["id", "type", "starts_at"], **extra,
        )  # fmt: skip
        hits: list[dict[str, Any]] = self._call("POST", self._path("/search"), body)["hits"]
        if len(hits) >= MAX_TOTAL_HITS:
            log.warning("search: %d candidates or more, the order is approximate", len(hits))
        return hits

    def _multi(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        queries = [{"indexUid": self.index, **body} for body in bodies]
        results: list[dict[str, Any]] = self._call("POST", "/multi-search", {"queries": queries})[
            "results"
        ]
        return results

    def _page(self, ids: list[str], query: SearchQuery) -> list[Hit]:
        """The hits of these ids, in this order, with their whole documents."""
        if not ids:
            return []
        body = {"ids": ids, "limit": len(ids)}
        found = {
            d["id"]: d for d in self._call("POST", self._path("/documents/fetch"), body)["results"]
        }
        return [_hit(found[i], query) for i in ids if i in found]

    # -- HTTP -------------------------------------------------------------------------

    def _path(self, tail: str = "") -> str:
        return f"/indexes/{self.index}{tail}"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = self._client.request(
                method, self.url + path, json=body, headers=self._headers, timeout=self._timeout
            )
        except httpx.TimeoutException as error:
            raise SearchUnavailable(
                f"Meilisearch at {self.url} timed out ({method} {path})"
            ) from error
        except httpx.TransportError as error:
            raise SearchUnavailable(f"Meilisearch at {self.url} unreachable: {error}") from error
        if response.status_code >= 400:
            raise _error(response, f"{method} {path}")
        return response.json() if response.content else None

    def _wait(self, task: dict[str, Any]) -> dict[str, Any]:
        """Poll an enqueued task until it is done; its failure raises :class:`MeiliError`."""
        uid = task["taskUid"]
        deadline = time.monotonic() + self._task_timeout
        delay = 0.001
        while True:
            state = self._call("GET", f"/tasks/{uid}")
            if state["status"] == "succeeded":
                return dict(state)
            if state["status"] in ("failed", "canceled"):
                error = state.get("error") or {}
                raise MeiliError(
                    f"Meilisearch task {uid} ({state.get('type')}) {state['status']}: "
                    f"{error.get('message', '')}",
                    code=error.get("code", ""),
                )
            if time.monotonic() > deadline:
                raise SearchUnavailable(
                    f"Meilisearch task {uid} still {state['status']} after {self._task_timeout} s"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.016)


def check_id(doc_id: Any) -> None:
    """Refuse an id we must not send: Meilisearch would fail the whole batch, or order it
    otherwise than by its bytes (see ``VALID_ID``)."""
    if not isinstance(doc_id, str) or not VALID_ID.fullmatch(doc_id):
        raise ValueError(
            f"search document id {doc_id!r} is not a Meilisearch id "
            "(lower-case letters, digits, '-' and '_' only, at most 200)"
        )


def filters(query: SearchQuery) -> list[str]:
    """The query's filter as Meilisearch expressions, all of which must hold.

    The place comes first: Meilisearch evaluates the parts of an ``AND`` in order, each
    within what the previous ones kept, and a box is the narrowest part of a local
    search (measured: 0.2–0.4 ms less per request at 100,000 documents; docs/search.md).
    """
    parts: list[str] = []
    if query.bbox is not None:
        parts.append(_box(query.bbox))
    if query.point is not None and query.radius_km is not None:
        parts.append(_box(box_around(query.point, query.radius_km)))
    if query.types:
        parts.append(f"type IN {_list(sorted(query.types))}")
    if query.themes:
        parts.append(f"themes IN {_list(query.themes)}")
    if query.tags:
        if query.tags_all:
            parts.append(" AND ".join(f"tags = {quote(t)}" for t in query.tags))
        else:
            parts.append(f"tags IN {_list(query.tags)}")
    if query.organisation_id is not None:
        parts.append(f"organisation_ids = {quote(query.organisation_id)}")
    if query.origin != "all":
        parts.append(f"origin = {quote(query.origin)}")
    if not query.include_cancelled:
        parts.append('status != "cancelled"')
    if query.start is not None or query.end is not None:
        window = []
        if query.start is not None:
            window.append(f"({_ends_after(query.start)})")
        if query.end is not None:
            window.append(f"starts_at <= {number(_epoch(query.end))}")
        parts.append(f'type != "event" OR ({" AND ".join(window)})')
    else:
        now = query.now if query.now is not None else datetime.now(UTC)
        parts.append(f'type != "event" OR {_ends_after(now)}')
    return parts


def quote(value: str) -> str:
    """A filter string literal: double quotes, with ``\\`` and ``"`` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def number(value: float) -> str:
    """A filter number, positional (no exponent), exactly the float's shortest form."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    exact = Decimal(repr(float(value)))
    return str(int(exact)) if exact == exact.to_integral_value() else format(exact, "f")


def date_key(doc: dict[str, Any]) -> tuple[int, float, str, str]:
    """Date order: events by start then id; the others after them, by name (accents and
    case ignored, as the embedded backend folds it) then id."""
    if doc.get("type") == "event" and doc.get("starts_at") is not None:
        return (0, float(doc["starts_at"]), "", doc["id"])
    return (1, 0.0, fold(doc.get("name") or ""), doc["id"])


def count_facets(
    docs: Sequence[dict[str, Any]], facets: Iterable[str] = FACETS
) -> dict[str, dict[str, int]]:
    """Facet counts as Meilisearch counts them: each document once per distinct value."""
    counts: dict[str, dict[str, int]] = {}
    for facet in facets:
        counter: dict[str, int] = {}
        get = counter.get
        for doc in docs:
            value = doc.get(facet)
            if value is None:
                continue
            if type(value) is list:
                for one in set(value) if len(value) > 1 else value:
                    if one is not None:
                        counter[one] = get(one, 0) + 1
            else:
                counter[value] = get(value, 0) + 1
        if counter:
            counts[facet] = counter
    return counts


def _body(query: SearchQuery, parts: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "q": query.text.strip(),
        "filter": " AND ".join(f"({part})" for part in parts),
        "matchingStrategy": "all",
        **extra,
    }


def _subtract(
    counts: dict[str, dict[str, int]], less: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """Facet counts less others (values left at zero dropped). A value Meilisearch left out
    (beyond ``maxValuesPerFacet``) stays out."""
    out = {facet: dict(values) for facet, values in counts.items()}
    for facet, values in less.items():
        mine = out.setdefault(facet, {})
        for value, n in values.items():
            if value in mine:
                mine[value] -= n
                if mine[value] <= 0:
                    del mine[value]
    return {facet: values for facet, values in out.items() if values}


def _spare(wanted: int) -> int:
    """How many more than a page the first documents of a radius are asked for: the box's
    corners hold a fifth of it (1 − π/4) and its candidates come in any order there."""
    return 0 if wanted == 0 else wanted // 2 + 5


def _total(counts: dict[str, dict[str, int]]) -> int:
    """Every document has one type: the type facet counts every match (exactly, where
    ``totalHits`` stops at ``maxTotalHits``)."""
    return sum(counts.get("type", {}).values())


def _distance(point: Point, doc: dict[str, Any]) -> float | None:
    if doc.get("lat") is None or doc.get("lng") is None:
        return None
    return distance_km(point, doc["lat"], doc["lng"])


def _order(query: SearchQuery) -> str:
    if query.sort == Sort.date:
        return "date"
    if query.sort == Sort.distance and query.point is not None:
        return "distance"
    return "relevance" if query.text.strip() else "date"  # without text: soonest first


def _hit(doc: Document, query: SearchQuery) -> Hit:
    distance = None
    if query.point is not None and doc.get("lat") is not None and doc.get("lng") is not None:
        distance = round(distance_km(query.point, doc["lat"], doc["lng"]), 3)
    return Hit(
        id=doc["id"],
        type=doc["type"],
        object_id=doc.get("object_id") or "",
        distance_km=distance,
        document=doc,
    )


def _box(box: BBox) -> str:
    return (
        f"lat {number(box.min_lat)} TO {number(box.max_lat)} AND "
        f"lng {number(box.min_lon)} TO {number(box.max_lon)}"
    )


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(quote(v) for v in values) + "]"


def _epoch(moment: datetime) -> int:
    """Whole epoch seconds, as documents hold them (naive datetimes are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _ends_after(moment: datetime) -> str:
    """An event still on at ``moment`` (one without an end lasts no time)."""
    at = number(_epoch(moment))
    return f"ends_at >= {at} OR (ends_at IS NULL AND starts_at >= {at})"


def _chunks(items: Sequence[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _same_setting(name: str, current: Any, desired: Any) -> bool:
    if name in _REPLACED:
        return bool(current == desired)
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(
            _same_setting(name, current.get(k), v) for k, v in desired.items()
        )
    if name in _UNORDERED and isinstance(current, list):
        return sorted(map(str, current)) == sorted(map(str, desired))
    return bool(current == desired)


def _error(response: httpx.Response, what: str) -> MeiliError:
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    message = payload.get("message") or response.text[:200]
    return MeiliError(
        f"Meilisearch refused {what}: {response.status_code} {message}",
        status=response.status_code,
        code=str(payload.get("code", "")),
    )
