"""Meilisearch-specific behaviour, against the real pinned server (see conftest.py)."""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from search import meili as meili_module
from search.backend import SearchUnavailable
from search.documents import document_id
from search.geo import (
    EARTH_RADIUS_KM,
    box_around,
    crosses_antimeridian,
    distance_km,
    inner_cross,
)
from search.meili import SETTINGS, VALID_ID, MeiliBackend, MeiliError, filters, quote
from search.query import BBox, Point, SearchQuery, Sort
from tests.search.conftest import start_meili, stop_meili

NOW = datetime(2026, 6, 1, tzinfo=UTC)
LILLE = Point(50.6292, 3.0573)


def doc(kind: str = "organisation", **fields: Any) -> dict[str, Any]:
    object_id = fields.pop("object_id", str(uuid.uuid4()))
    base: dict[str, Any] = {
        "id": document_id(kind, object_id),
        "type": kind,
        "object_id": object_id,
        "url": f"http://lille.test/{kind}s/{object_id}",
        "origin": "local",
        "name": f"{kind} {object_id[:8]}",
        "description": "",
        "themes": [],
        "tags": [],
        "organisation_ids": [],
        "organisation_names": [],
        "city": None,
        "postal_code": None,
        "insee_code": None,
        "lat": None,
        "lng": None,
        "starts_at": None,
        "ends_at": None,
        "status": None,
        "kind": None,
        "stage": None,
        "version": 1,
    }
    if kind == "event":
        base.update(starts_at=int(NOW.timestamp()) + 3600, status="confirmed")
        base["ends_at"] = base["starts_at"] + 7200
    base.update(fields)
    return base


@pytest.fixture
def meili(meili_server: tuple[str, str]) -> Iterator[MeiliBackend]:
    url, key = meili_server
    backend = MeiliBackend(url, key, index=f"test_{uuid.uuid4().hex[:16]}")
    backend.setup()
    yield backend
    backend.drop()
    backend.close()


def raw(meili: MeiliBackend, method: str, path: str, body: Any = None) -> Any:
    return meili._call(method, path, body)


def ids(meili: MeiliBackend, query: SearchQuery) -> list[str]:
    return [hit.id for hit in meili.search(query).hits]


# -- settings and ids ---------------------------------------------------------------------


def test_setup_applies_the_settings_once(meili: MeiliBackend) -> None:
    tasks_before = raw(meili, "GET", f"/tasks?indexUids={meili.index}")["total"]
    meili.setup()
    meili.setup()
    assert raw(meili, "GET", f"/tasks?indexUids={meili.index}")["total"] == tasks_before
    current = raw(meili, "GET", f"/indexes/{meili.index}/settings")
    assert current["rankingRules"][0] == "sort"
    assert set(current["filterableAttributes"]) == set(SETTINGS["filterableAttributes"])
    assert current["pagination"]["maxTotalHits"] == SETTINGS["pagination"]["maxTotalHits"]
    assert current["typoTolerance"]["disableOnNumbers"] is True
    assert current["facetSearch"] is False
    assert raw(meili, "GET", f"/indexes/{meili.index}")["primaryKey"] == "id"


def test_setup_restores_a_changed_setting(meili: MeiliBackend) -> None:
    changed = raw(meili, "PATCH", f"/indexes/{meili.index}/settings", {"synonyms": {"a": ["b"]}})
    meili._wait(changed)
    meili.setup()
    synonyms = raw(meili, "GET", f"/indexes/{meili.index}/settings/synonyms")
    assert synonyms == SETTINGS["synonyms"]


def test_an_id_meilisearch_would_refuse_is_refused_before_sending(meili: MeiliBackend) -> None:
    good = doc()
    with pytest.raises(ValueError, match="not a Meilisearch id"):
        meili.upsert([good, doc(object_id="https://peer.example/e/1")])
    with pytest.raises(ValueError):
        meili.upsert([doc(id="event:1")])
    with pytest.raises(ValueError, match="lower-case"):  # Meilisearch would order it otherwise
        meili.upsert([doc(id="event-ABC")])
    assert meili.versions() == {}  # nothing of the batch was sent
    meili.delete(["event:1", "a/b"])  # cannot exist: ignored, no error


def test_document_ids_are_always_valid_meilisearch_ids() -> None:
    for kind in ("organisation", "event", "project"):
        assert VALID_ID.fullmatch(document_id(kind, str(uuid.uuid4())))


# -- availability -------------------------------------------------------------------------


def test_a_stopped_server_raises_search_unavailable(meili_bin: Path, tmp_path: Path) -> None:
    server = start_meili(meili_bin, tmp_path / "short-lived")
    backend = MeiliBackend(server.url, server.key, index="gone", timeout=2.0)
    try:
        backend.setup()
        backend.upsert([doc()])
        assert backend.search(SearchQuery(now=NOW)).total == 1
    finally:
        stop_meili(server)
    with pytest.raises(SearchUnavailable, match="unreachable"):
        backend.search(SearchQuery(now=NOW))
    with pytest.raises(SearchUnavailable):
        backend.upsert([doc()])
    backend.close()


def test_errors_and_headers_through_a_mock_transport() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/search"):
            return httpx.Response(503, json={"message": "overloaded", "code": "busy"})
        return httpx.Response(
            404, json={"message": "Index `x` not found.", "code": "index_not_found"}
        )

    client = httpx.Client(transport=httpx.MockTransport(answer))
    backend = MeiliBackend("http://meili.test/", "secret", index="x", client=client)
    with pytest.raises(SearchUnavailable, match="503 overloaded"):
        backend.search(SearchQuery(text="jardin", now=NOW))
    with pytest.raises(MeiliError) as refused:
        backend.clear()
    assert refused.value.status == 404 and refused.value.code == "index_not_found"
    assert seen[0].headers["accept-encoding"] == "identity"
    assert seen[0].headers["authorization"] == "Bearer secret"
    assert str(seen[0].url) == "http://meili.test/indexes/x/search"
    backend.close()
    assert not client.is_closed  # an injected client belongs to the caller


def test_a_timeout_raises_search_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    backend = MeiliBackend(
        "http://meili.test", None, client=httpx.Client(transport=httpx.MockTransport(slow))
    )
    with pytest.raises(SearchUnavailable, match="timed out"):
        backend.versions()


# -- totals, facets, radius ---------------------------------------------------------------


def test_totals_beyond_the_default_1000_are_exact(meili: MeiliBackend) -> None:
    docs = [doc(name=f"jardin {i}", themes=["food"]) for i in range(1500)]
    meili.upsert(docs)
    assert meili.search(SearchQuery(now=NOW, limit=5)).total == 1500
    assert meili.search(SearchQuery(text="jardin", now=NOW, limit=5)).total == 1500
    assert meili.search(SearchQuery(sort=Sort.date, now=NOW, limit=5)).total == 1500
    # Beyond maxTotalHits, totalHits stops; the total (from the type facet) does not.
    small = {"pagination": {"maxTotalHits": 100}}
    meili._wait(raw(meili, "PATCH", f"/indexes/{meili.index}/settings", small))
    result = meili.search(SearchQuery(text="jardin", now=NOW, limit=5, offset=20))
    assert result.total == 1500 and len(result.hits) == 5
    assert result.facets["themes"] == {"food": 1500}


def test_facets_count_every_match_not_just_the_page(meili: MeiliBackend) -> None:
    meili.upsert(
        [
            doc(themes=["food", "culture"], tags=["bio"], city="Lille"),
            doc(themes=["food"], tags=["bio", "vrac"], city="Lille"),
            doc("project", themes=["energy"], tags=[], city="Roubaix"),
            doc("event", themes=["food"], tags=["bio"], city=None),
        ]
    )
    result = meili.search(SearchQuery(now=NOW, limit=1, facets=("type", "themes", "tags", "city")))
    assert result.total == 4 and len(result.hits) == 1
    assert result.facets == {
        "type": {"organisation": 2, "project": 1, "event": 1},
        "themes": {"food": 3, "culture": 1, "energy": 1},
        "tags": {"bio": 3, "vrac": 1},
        "city": {"Lille": 2, "Roubaix": 1},
    }
    only = meili.search(SearchQuery(themes=("food",), now=NOW, facets=("city",)))
    assert only.facets == {"city": {"Lille": 2}} and only.total == 3


def test_radius_is_exact_with_totals_facets_and_order(meili: MeiliBackend) -> None:
    radius = 5.0
    box = box_around(LILLE, radius)
    corner = doc(name="corner", lat=box.max_lat - 0.001, lng=box.max_lon - 0.001, themes=["x"])
    assert distance_km(LILLE, corner["lat"], corner["lng"]) > radius  # in the box, not the circle
    near = doc(name="near", lat=LILLE.lat + 0.01, lng=LILLE.lon, themes=["food"], city="Lille")
    twin_a = doc(object_id="0" + str(uuid.uuid4())[1:], lat=LILLE.lat, lng=LILLE.lon + 0.02)
    twin_b = doc(object_id="f" + str(uuid.uuid4())[1:], lat=LILLE.lat, lng=LILLE.lon + 0.02)
    edge = doc(name="edge", lat=LILLE.lat + 0.0449, lng=LILLE.lon, city="Lille")  # ≈4.99 km
    far = doc(name="far", lat=48.8566, lng=2.3522)
    nowhere = doc(name="nowhere")
    meili.upsert([corner, near, twin_a, twin_b, edge, far, nowhere])
    assert distance_km(LILLE, edge["lat"], edge["lng"]) < radius

    query = SearchQuery(point=LILLE, radius_km=radius, sort=Sort.distance, now=NOW, limit=2)
    result = meili.search(query)
    assert result.total == 4
    assert [h.id for h in result.hits] == [near["id"], twin_a["id"]]
    assert result.hits[0].distance_km == round(distance_km(LILLE, near["lat"], near["lng"]), 3)
    assert result.facets["themes"] == {"food": 1}  # not the corner's "x"
    assert result.facets["city"] == {"Lille": 2}
    assert result.facets["type"] == {"organisation": 4}
    rest = meili.search(SearchQuery(point=LILLE, radius_km=radius, sort=Sort.distance, offset=2))
    assert [h.id for h in rest.hits] == [twin_b["id"], edge["id"]]

    # Distance order without a radius: every item, those without coordinates last.
    everything = ids(meili, SearchQuery(point=LILLE, sort=Sort.distance, now=NOW))
    assert everything[-2:] == [far["id"], nowhere["id"]]
    assert corner["id"] in everything


def test_distance_order_grows_rings_and_puts_the_unlocated_last(meili: MeiliBackend) -> None:
    # 0.5 km, 3 km, 30 km, 300 km and 3000 km away: each page needs a wider ring
    steps = [0.0045, 0.027, 0.27, 2.7, 27.0]
    located = [doc(lat=LILLE.lat + step, lng=LILLE.lon) for step in steps]
    unlocated = sorted((doc() for _ in range(3)), key=lambda d: str(d["id"]))
    meili.upsert([*located, *unlocated])
    everything = [d["id"] for d in located] + [d["id"] for d in unlocated]
    for offset in range(len(everything)):
        query = SearchQuery(point=LILLE, sort=Sort.distance, now=NOW, offset=offset, limit=2)
        result = meili.search(query)
        assert [h.id for h in result.hits] == everything[offset : offset + 2]
        assert result.total == len(everything)


def test_bbox_is_an_exact_range(meili: MeiliBackend) -> None:
    inside = doc(lat=50.5, lng=3.0)
    on_edge = doc(lat=50.6, lng=3.1)
    outside = doc(lat=50.61, lng=3.0)
    meili.upsert([inside, on_edge, outside, doc()])
    box = BBox(min_lat=50.4, min_lon=2.9, max_lat=50.6, max_lon=3.1)
    assert set(ids(meili, SearchQuery(bbox=box, now=NOW))) == {inside["id"], on_edge["id"]}


# -- sorts and filters --------------------------------------------------------------------


def test_date_sort_is_exact_with_ties_by_id(meili: MeiliBackend) -> None:
    start = int(NOW.timestamp()) + 86400
    late = doc("event", starts_at=start + 10, ends_at=start + 20)
    tie_a = doc("event", object_id="0" + str(uuid.uuid4())[1:], starts_at=start, ends_at=start + 5)
    tie_b = doc("event", object_id="f" + str(uuid.uuid4())[1:], starts_at=start, ends_at=start + 5)
    # names with accents and case folded (as the embedded backend does), then ids
    elan_a = doc(object_id="0" + str(uuid.uuid4())[1:], name="élan")
    elan_b = doc("project", object_id="f" + str(uuid.uuid4())[1:], name="Elan")
    upper = doc(name="Zèbre")
    lower = doc(name="abeille")
    project = doc("project", name="Bourse")
    meili.upsert([lower, late, elan_b, project, tie_b, upper, tie_a, elan_a])
    order = ids(meili, SearchQuery(sort=Sort.date, now=NOW))
    assert order == [
        *(tie_a["id"], tie_b["id"], late["id"]),
        *(lower["id"], project["id"], elan_a["id"], elan_b["id"], upper["id"]),
    ]
    page = ids(meili, SearchQuery(sort=Sort.date, now=NOW, offset=2, limit=2))
    assert page == [late["id"], lower["id"]]
    # a page that ends inside a tie: Meilisearch breaks it by id, as we do
    later = [
        doc("event", object_id="f" + str(uuid.uuid4())[1:], starts_at=start, ends_at=start + 5)
        for _ in range(3)
    ]
    meili.upsert(later)  # ids after tie_a's, in any order with tie_b's
    assert ids(meili, SearchQuery(sort=Sort.date, now=NOW, limit=1)) == [tie_a["id"]]
    tied = sorted([tie_b["id"], *(d["id"] for d in later)])
    assert ids(meili, SearchQuery(sort=Sort.date, now=NOW, offset=1, limit=2)) == tied[:2]
    assert ids(meili, SearchQuery(sort=Sort.date, now=NOW, offset=5, limit=3)) == order[2:5]
    assert ids(meili, SearchQuery(sort=Sort.date, now=NOW, offset=9)) == order[6:]
    # without text, "relevance" is the date order (soonest first)
    soonest = ids(meili, SearchQuery(now=NOW, limit=3))
    assert soonest == ids(meili, SearchQuery(sort=Sort.date, now=NOW, limit=3))
    assert soonest[0] == tie_a["id"]


def test_requests_per_search(meili: MeiliBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The date order is one request (hits, facets and documents); a page past the events
    fetches the others; a radius is one multi-search, and the page's documents or a ring."""
    start = int(NOW.timestamp()) + 86400
    events = [doc("event", starts_at=start + i % 3, ends_at=start + 10) for i in range(6)]
    others = [doc(name=name, lat=LILLE.lat, lng=LILLE.lon) for name in ("b", "A", "c")]
    farther = [doc("project", lat=LILLE.lat + 0.005, lng=LILLE.lon) for _ in range(2)]  # 0.6 km
    meili.upsert([*events, *others, *farther])
    sent: list[str] = []
    call = meili._call

    def counted(method: str, path: str, body: Any = None) -> Any:
        sent.append(path.rsplit("/", 1)[-1])
        return call(method, path, body)

    monkeypatch.setattr(meili, "_call", counted)
    result = meili.search(SearchQuery(sort=Sort.date, now=NOW, limit=4))
    assert sent == ["search"] and result.total == 11 and len(result.hits) == 4
    assert result.hits[0].document == min(events, key=lambda e: (e["starts_at"], e["id"]))
    sent.clear()
    page = meili.search(SearchQuery(sort=Sort.date, now=NOW, offset=5, limit=3))
    assert [h.document["name"] for h in page.hits[1:]] == ["A", "b"]
    # the others' names, then those of their documents the first answer did not hold
    assert sent[:2] == ["search", "search"] and set(sent[2:]) <= {"fetch"}
    sent.clear()
    meili.search(SearchQuery(sort=Sort.date, now=NOW, limit=20))  # every match in one answer
    assert sent == ["search"]
    sent.clear()
    # a radius: one multi-search (the box counted, its rim and corners, and a ring around
    # the point or the first documents), then the page's documents when the ring held them
    near = SearchQuery(point=LILLE, radius_km=1, sort=Sort.distance, now=NOW, limit=3)
    assert [h.id for h in meili.search(near).hits] == sorted(d["id"] for d in others)
    assert sent == ["multi-search", "fetch"]  # the ring (250 m) held the page
    sent.clear()
    result = meili.search(replace(near, limit=20))
    assert result.total == 5 and [h.id for h in result.hits[3:]] == sorted(
        d["id"] for d in farther
    )
    assert sent == ["multi-search", "search"]  # it did not: a ring sized from the density
    sent.clear()
    assert len(meili.search(replace(near, sort=Sort.date)).hits) == 3
    assert sent == ["multi-search"]


def test_event_windows_upcoming_and_cancelled(meili: MeiliBackend) -> None:
    day = 86400
    t0 = int(NOW.timestamp())
    past = doc("event", starts_at=t0 - 3 * day, ends_at=t0 - 2 * day)
    running = doc("event", starts_at=t0 - day, ends_at=t0 + day)
    next_week = doc("event", starts_at=t0 + 7 * day, ends_at=t0 + 7 * day + 3600)
    cancelled = doc("event", starts_at=t0 + day, ends_at=t0 + day + 3600, status="cancelled")
    organisation = doc()
    instant = doc("event", starts_at=t0 + day, ends_at=None)  # no end: lasts no time
    gone = doc("event", starts_at=t0 - day, ends_at=None)
    meili.upsert([past, running, next_week, cancelled, organisation, instant, gone])

    upcoming = set(ids(meili, SearchQuery(now=NOW)))
    assert upcoming == {running["id"], next_week["id"], organisation["id"], instant["id"]}
    with_cancelled = set(ids(meili, SearchQuery(now=NOW, include_cancelled=True)))
    assert with_cancelled == upcoming | {cancelled["id"]}
    window = SearchQuery(
        start=datetime.fromtimestamp(t0 - 2 * day - 1, UTC),
        end=datetime.fromtimestamp(t0 - day, UTC),
        now=NOW,
    )
    assert set(ids(meili, window)) == {past["id"], running["id"], gone["id"], organisation["id"]}
    # the window's ends are inclusive
    touching = SearchQuery(start=datetime.fromtimestamp(t0 - 2 * day, UTC), end=None, now=NOW)
    assert past["id"] in ids(meili, touching)


def test_filter_values_are_quoted_safely(meili: MeiliBackend) -> None:
    odd = doc(tags=['say "hi"', "back\\slash"], origin='peer.example" OR type = "event')
    plain = doc(tags=["hi"])
    meili.upsert([odd, plain])
    assert ids(meili, SearchQuery(tags=('say "hi"',), now=NOW)) == [odd["id"]]
    assert ids(meili, SearchQuery(tags=("back\\slash",), now=NOW)) == [odd["id"]]
    assert ids(meili, SearchQuery(origin='peer.example" OR type = "event', now=NOW)) == [odd["id"]]
    assert ids(meili, SearchQuery(origin='x" OR origin != "x', now=NOW)) == []
    assert quote('a"b\\c') == '"a\\"b\\\\c"'


def test_tags_any_and_all_origin_and_organisation(meili: MeiliBackend) -> None:
    org = str(uuid.uuid4())
    both = doc(tags=["bio", "vrac"], organisation_ids=[org])
    one = doc("project", tags=["bio"], origin="peer.example")
    meili.upsert([both, one])
    assert set(ids(meili, SearchQuery(tags=("bio", "vrac"), now=NOW))) == {both["id"], one["id"]}
    assert ids(meili, SearchQuery(tags=("bio", "vrac"), tags_all=True, now=NOW)) == [both["id"]]
    assert ids(meili, SearchQuery(origin="local", now=NOW)) == [both["id"]]
    assert ids(meili, SearchQuery(origin="peer.example", now=NOW)) == [one["id"]]
    assert ids(meili, SearchQuery(organisation_id=org, now=NOW)) == [both["id"]]
    assert ids(meili, SearchQuery(types=frozenset({"project"}), now=NOW)) == [one["id"]]


def test_french_text_with_synonyms_and_an_offset_between_pages(meili: MeiliBackend) -> None:
    bikes = [doc(name=f"Atelier vélo {i}") for i in range(5)]
    meili.upsert([*bikes, doc(name="Concert")])
    assert len(ids(meili, SearchQuery(text="bicyclette", now=NOW))) == 5
    assert len(ids(meili, SearchQuery(text="velo", now=NOW))) == 5
    every = ids(meili, SearchQuery(text="atelier velo", now=NOW))
    assert ids(meili, SearchQuery(text="atelier velo", now=NOW, offset=1, limit=3)) == every[1:4]
    result = meili.search(SearchQuery(text="atelier velo", now=NOW, limit=0))
    assert result.hits == [] and result.total == 5


# -- documents ----------------------------------------------------------------------------


def test_upsert_delete_clear_and_versions(
    meili: MeiliBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(meili_module, "BATCH", 7)  # page through versions() and batches
    docs = [doc(version=i) for i in range(20)]
    meili.upsert(docs)
    assert meili.versions() == {d["id"]: i for i, d in enumerate(docs)}
    hit = meili.search(SearchQuery(text=docs[3]["name"], now=NOW)).hits[0]
    assert hit.document == docs[3] and hit.object_id == docs[3]["object_id"]
    meili.upsert([{**docs[3], "version": 99}])
    meili.delete([docs[0]["id"], "organisation-unknown"])
    versions = meili.versions()
    assert len(versions) == 19 and versions[docs[3]["id"]] == 99
    meili.clear()
    assert meili.versions() == {}
    assert meili.search(SearchQuery(now=NOW)).total == 0


def test_the_filter_is_built_from_the_query() -> None:
    query = SearchQuery(types=frozenset({"event"}), themes=("food",), now=NOW)
    t = int(NOW.timestamp())
    assert filters(query) == [
        'type IN ["event"]',
        'themes IN ["food"]',
        'status != "cancelled"',
        f'type != "event" OR ends_at >= {t} OR (ends_at IS NULL AND starts_at >= {t})',
    ]
    assert json.dumps(filters(SearchQuery(bbox=BBox(1e-7, 2, 3, 4), now=NOW))[0]).count("e-") == 0
    # the place first: Meilisearch evaluates each part within what the previous ones kept
    near = SearchQuery(point=LILLE, radius_km=2, themes=("food",), now=NOW)
    assert filters(near)[0].startswith("lat ") and filters(near)[1] == 'themes IN ["food"]'


# -- geometry -----------------------------------------------------------------------------


def _destination(centre: Point, km: float, bearing: float) -> tuple[float, float]:
    d, theta = km / EARTH_RADIUS_KM, math.radians(bearing)
    phi1, lam1 = math.radians(centre.lat), math.radians(centre.lon)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
    east = math.sin(theta) * math.sin(d) * math.cos(phi1)
    lam2 = lam1 + math.atan2(east, math.cos(d) - math.sin(phi1) * math.sin(phi2))
    return math.degrees(phi2), math.degrees(lam2)


@pytest.mark.parametrize("lat", [0.0, 45.0, 50.6292, -70.0, 84.0])
@pytest.mark.parametrize("km", [0.5, 10.0, 300.0, 1000.0, 3000.0, 9000.0])
def test_the_box_of_a_radius_holds_its_whole_circle(lat: float, km: float) -> None:
    centre = Point(lat, 3.0573)
    box = box_around(centre, km)
    for step in range(720):
        on_lat, on_lon = _destination(centre, km, step / 2)
        if -180 <= on_lon <= 180:  # the box does not follow a circle past ±180°
            assert box.contains(on_lat, on_lon), (step / 2, on_lat, on_lon, box)
    assert crosses_antimeridian(box) == ((box.min_lon == -180) != (box.max_lon == 180))


def test_a_circle_around_a_pole_spans_every_longitude() -> None:
    box = box_around(Point(85.0, 10.0), 600)
    assert (box.min_lon, box.max_lon, box.max_lat) == (-180.0, 180.0, 90.0)
    assert not crosses_antimeridian(box)
    assert crosses_antimeridian(box_around(Point(0.0, 179.9), 50))
    assert not crosses_antimeridian(box_around(LILLE, 10))


# -- a radius: the box counted, its rim and corners fetched -------------------------------


def _scatter(seed: int, n: int) -> list[dict[str, Any]]:
    """Documents around Lille: dense near the point, in the box's corners, on the rim of a
    3 km circle, farther, and without coordinates; events, organisations and projects."""
    rng = random.Random(seed)
    names = ["Atelier vélo", "atelier Cuisine", "Élan", "elan", "Zèbre", "abeille", "Bourse"]
    out = []
    start = int(NOW.timestamp()) + 3600
    for i in range(n):
        kind = rng.choice(["event", "event", "organisation", "project"])
        spot = rng.random()
        if spot < 0.05:
            lat = lng = None
        else:
            spread = 0.01 if spot < 0.5 else 0.035  # ≈ 1 km, then ≈ 3–4 km
            lat = round(LILLE.lat + rng.uniform(-spread, spread), 6)
            lng = round(LILLE.lon + rng.uniform(-1.6 * spread, 1.6 * spread), 6)
        fields: dict[str, Any] = {
            "name": f"{rng.choice(names)} {i}",
            "lat": lat,
            "lng": lng,
            "themes": rng.sample(["food", "culture", "mobility", "energy"], rng.randint(1, 2)),
            "tags": rng.sample(["bio", "vrac", "velo"], rng.randint(0, 2)),
            "city": rng.choice(["Lille", "Lomme", None]),
        }
        if kind == "event":
            begins = start + rng.randrange(5) * 86400  # ties on the start, broken by id
            fields.update(starts_at=begins, ends_at=begins + 7200, status="confirmed")
        out.append(doc(kind, **fields))
    return out


def test_a_radius_answers_as_every_candidate_of_its_box_did(meili: MeiliBackend) -> None:
    """The same answers as the path before (every candidate of the box, cut here): ids in
    order, documents, distances, totals and facets, in every order, page after page."""
    meili.upsert(_scatter(3, 400))
    rng = random.Random(4)
    for _ in range(60):
        query = SearchQuery(
            text=rng.choice(["", "", "atelier", "elan"]),
            point=LILLE,
            radius_km=rng.choice([0.4, 1.0, 2.5, 3.0]),
            sort=rng.choice(list(Sort)),
            themes=rng.choice([(), ("food",)]),
            facets=rng.choice([("type", "themes", "tags", "city"), (), ("tags",)]),
            limit=rng.choice([0, 1, 7, 20, 50]),
            offset=rng.choice([0, 0, 3, 30]),
            now=NOW,
        )
        meili.staircase = True
        new = meili.search(query)
        meili.staircase = False
        old = meili.search(query)
        meili.staircase = True
        assert [(h.id, h.document, h.distance_km) for h in new.hits] == [
            (h.id, h.document, h.distance_km) for h in old.hits
        ], query
        assert (new.total, new.facets) == (old.total, old.facets), query


def test_orders_of_a_radius_look_past_the_corners(
    meili: MeiliBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first documents of the box in the date (or relevance) order may all lie in its
    corners: they are asked for again with as many more as the corners hold."""
    radius = 2.0
    box = box_around(LILLE, radius)
    start = int(NOW.timestamp()) + 3600
    corners = [
        doc("event", lat=box.max_lat - 0.0005, lng=box.min_lon + 0.0005, starts_at=start + i,
            ends_at=start + 7200, name="atelier atelier")
        for i in range(30)
    ]  # fmt: skip
    inside = [
        doc("event", lat=LILLE.lat, lng=LILLE.lon + 0.001 * i, starts_at=start + 100 + i,
            ends_at=start + 7200, name=f"atelier {i}")
        for i in range(5)
    ]  # fmt: skip
    meili.upsert([*corners, *inside])
    sent: list[str] = []
    call = meili._call

    def counted(method: str, path: str, body: Any = None) -> Any:
        sent.append(path.rsplit("/", 1)[-1])
        return call(method, path, body)

    monkeypatch.setattr(meili, "_call", counted)
    soonest = SearchQuery(point=LILLE, radius_km=radius, sort=Sort.date, now=NOW, limit=3)
    assert ids(meili, soonest) == [d["id"] for d in inside[:3]]
    assert sent == ["multi-search", "search"]
    relevant = meili.search(replace(soonest, text="atelier", sort=Sort.relevance, limit=5))
    assert {h.id for h in relevant.hits} == {d["id"] for d in inside} and relevant.total == 5


def test_a_radius_the_cross_cannot_serve_fetches_its_whole_box(meili: MeiliBackend) -> None:
    pole, antimeridian = Point(89.5, 0.0), Point(10.0, 179.99)
    meili.upsert([
        doc(lat=89.9, lng=170.0), doc(lat=89.6, lng=-90.0),  # across the pole: 66, 71 km
        doc(lat=10.0, lng=179.995), doc(lat=10.001, lng=179.98),
    ])  # fmt: skip
    assert inner_cross(pole, 100) == [] and inner_cross(antimeridian, 5) == []
    assert meili.search(SearchQuery(point=pole, radius_km=100, now=NOW)).total == 2
    near_line = SearchQuery(point=antimeridian, radius_km=5, sort=Sort.distance, now=NOW)
    located = ((10.0, 179.995), (10.001, 179.98))
    assert [h.distance_km for h in meili.search(near_line).hits] == sorted(
        round(distance_km(antimeridian, lat, lng), 3) for lat, lng in located
    )


def test_the_cross_lies_inside_its_circle() -> None:
    for lat in (0.0, 45.0, 50.6292, -70.0, 80.0):
        for km in (0.001, 0.5, 10.0, 300.0, 4000.0):
            centre = Point(lat, 3.0573)
            cross = inner_cross(centre, km)
            box = box_around(centre, km)
            if box.min_lon <= -180 or box.max_lon >= 180:  # around a pole
                assert cross == []
                continue
            assert len(cross) == 2, (lat, km)
            for rect in cross:
                assert box.min_lat <= rect.min_lat and rect.max_lat <= box.max_lat
                assert box.min_lon <= rect.min_lon and rect.max_lon <= box.max_lon
                for corner_lat in (rect.min_lat, rect.max_lat):
                    for corner_lon in (rect.min_lon, rect.max_lon):
                        assert distance_km(centre, corner_lat, corner_lon) < km
            # it covers most of the circle: 79 % for a small one
            area = sum((r.max_lat - r.min_lat) * (r.max_lon - r.min_lon) for r in cross)
            overlap = (cross[0].max_lat - cross[0].min_lat) * (cross[1].max_lon - cross[1].min_lon)
            square = (box.max_lat - box.min_lat) * (box.max_lon - box.min_lon)
            if km <= 10:
                assert 0.60 < (area - overlap) / square < 0.63
