"""Meilisearch-specific behaviour, against the real pinned server (see conftest.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from search import meili as meili_module
from search.backend import SearchUnavailable
from search.documents import document_id
from search.geo import box_around, distance_km
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
    """The date order is one request (hits, facets and documents); a radius is two (the
    candidates, then the page's documents); a page past the events fetches the others."""
    start = int(NOW.timestamp()) + 86400
    events = [doc("event", starts_at=start + i % 3, ends_at=start + 10) for i in range(6)]
    others = [doc(name=name, lat=LILLE.lat, lng=LILLE.lon) for name in ("b", "A", "c")]
    meili.upsert([*events, *others])
    sent: list[str] = []
    call = meili._call

    def counted(method: str, path: str, body: Any = None) -> Any:
        sent.append(path.rsplit("/", 1)[-1])
        return call(method, path, body)

    monkeypatch.setattr(meili, "_call", counted)
    result = meili.search(SearchQuery(sort=Sort.date, now=NOW, limit=4))
    assert sent == ["search"] and result.total == 9 and len(result.hits) == 4
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
    meili.search(SearchQuery(point=LILLE, radius_km=1, sort=Sort.distance, now=NOW))
    assert sent == ["search", "fetch"]


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
    assert json.dumps(filters(SearchQuery(bbox=BBox(1e-7, 2, 3, 4), now=NOW))[-1]).count("e-") == 0
