"""GET /api/v1/search on a node: writes reach the index through jobs, never inline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from node.models import Territory
from node.runtime import Runtime
from search.backend import SearchBackend
from search.geo import distance_km
from search.indexer import drift, reindex
from search.query import Point
from search.service import SearchService
from tests.conftest import World

SEARCH = "/api/v1/search"


def _search(
    client: TestClient, headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    answer = client.get(SEARCH, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


@pytest.fixture
def published(runtime: Runtime, world: World) -> dict[str, Any]:
    camille = world.account("Camille")
    cofabrik = world.organisation(camille, name="La CoFabrik", themes=["crafts", "sharing"])
    roubaix = world.organisation(
        camille,
        name="Recyclerie de Roubaix",
        themes=["environment"],
        place={"city": "Roubaix", "postal_code": "59100"},
    )
    atelier = world.event(
        camille, cofabrik["id"], name="Atelier Vélo", themes=["mobility"], tags=["velo"]
    )
    return {"account": camille, "cofabrik": cofabrik, "roubaix": roubaix, "atelier": atelier}


def test_writes_are_searchable_once_the_jobs_ran(
    client: TestClient, runtime: Runtime, published: dict[str, Any]
) -> None:
    assert _search(client, q="velo")["total"] == 0  # indexing happens in jobs
    runtime.worker().drain()
    found = _search(client, q="velo")
    assert [h["id"] for h in found["hits"]] == [published["atelier"]["id"]]
    hit = found["hits"][0]
    assert hit["type"] == "event" and hit["url"] == published["atelier"]["url"]
    assert hit["starts_at"] == "2030-05-16T12:00:00Z"


def test_radius_facets_and_distance(
    client: TestClient, runtime: Runtime, published: dict[str, Any]
) -> None:
    runtime.worker().drain()
    near = _search(client, lat=50.6197, lon=3.0672, radius_km=5, sort="distance")
    names = [h["name"] for h in near["hits"]]
    assert "La CoFabrik" in names and "Recyclerie de Roubaix" not in names
    assert all(h["distance_km"] is not None and h["distance_km"] <= 5 for h in near["hits"])
    assert near["facets"]["type"] == {"organisation": 1, "event": 1}
    assert sum(near["facets"]["type"].values()) == near["total"]


def test_a_map_asks_for_no_facets(
    client: TestClient, runtime: Runtime, published: dict[str, Any]
) -> None:
    runtime.worker().drain()
    box = "2.9,50.5,3.3,50.8"
    pins = _search(client, bbox=box, facets="none", limit=200)
    assert pins["facets"] == {} and pins["total"] == 3
    assert pins["hits"] == _search(client, bbox=box, limit=200)["hits"]
    assert client.get(SEARCH, params={"facets": "none,type"}).status_code == 422


def test_deletion_leaves_the_index(
    client: TestClient, runtime: Runtime, published: dict[str, Any]
) -> None:
    runtime.worker().drain()
    headers = World.auth(published["account"])
    assert (
        client.delete(f"/api/v1/events/{published['atelier']['id']}", headers=headers).status_code
        == 204
    )
    runtime.worker().drain()
    assert _search(client, q="velo")["total"] == 0


def test_drift_and_reindex(client: TestClient, runtime: Runtime, published: dict[str, Any]) -> None:
    service: SearchService = runtime.extensions["search"]
    assert drift(runtime, service).missing == 3  # nothing indexed yet
    runtime.worker().drain()
    assert drift(runtime, service).total == 0
    service.backend.clear()
    assert drift(runtime, service).missing == 3
    assert reindex(runtime, service) == 3
    assert drift(runtime, service).total == 0


def test_distance_without_a_point_centres_on_the_territory(
    client: TestClient, runtime: Runtime, published: dict[str, Any]
) -> None:
    runtime.worker().drain()
    with runtime.transaction() as session:
        session.add(
            Territory(
                name="Roubaix",
                slug="roubaix",
                timezone="Europe/Paris",
                min_lat=50.68,
                min_lon=3.16,
                max_lat=50.70,
                max_lon=3.20,
            )
        )
    first = _search(client, sort="distance", types="organisation")["hits"][0]
    assert first["name"] == "Recyclerie de Roubaix"


ROUBAIX_HOME = Point(50.6905, 3.1812)  # a saved place in Roubaix
MOULINS_HOME = Point(50.6197, 3.0672)  # … and one in Lille-Moulins


@pytest.fixture
def on_backend(runtime: Runtime, backend: SearchBackend) -> Iterator[SearchBackend]:
    """The node's search service on each backend of the contract tests in turn."""
    service: SearchService = runtime.extensions["search"]
    own = service.backend
    service.backend, service._ready = backend, False
    yield backend
    service.backend, service._ready = own, False


def _save_place(client: TestClient, account: dict[str, str], place: Point | None) -> None:
    body: dict[str, Any] = {"name": "Camille", "place": None}
    if place is not None:
        body["place"] = {"name": "Chez moi", "latitude": place.lat, "longitude": place.lon}
    answer = client.put("/api/v1/me", json=body, headers=World.auth(account))
    assert answer.status_code == 200, answer.text


def _assert_nearest_first(hits: list[dict[str, Any]], centre: Point) -> None:
    distances = [h["distance_km"] for h in hits]
    assert None not in distances and distances == sorted(distances)
    for hit in hits:
        expected = distance_km(centre, hit["latitude"], hit["longitude"])
        assert hit["distance_km"] == pytest.approx(expected, abs=0.002)


def test_near_me_centres_on_the_saved_place(
    client: TestClient, runtime: Runtime, on_backend: SearchBackend, published: dict[str, Any]
) -> None:
    runtime.worker().drain()
    headers = World.auth(published["account"])
    _save_place(client, published["account"], ROUBAIX_HOME)
    found = _search(client, headers, near="me", sort="distance")
    assert found["hits"][0]["name"] == "Recyclerie de Roubaix"
    assert found["total"] == 3
    _assert_nearest_first(found["hits"], ROUBAIX_HOME)

    within = _search(client, headers, near="me", radius_km=3, sort="distance")
    assert [h["name"] for h in within["hits"]] == ["Recyclerie de Roubaix"]

    _save_place(client, published["account"], MOULINS_HOME)
    found = _search(client, headers, near="me", sort="distance")
    assert found["hits"][-1]["name"] == "Recyclerie de Roubaix"
    _assert_nearest_first(found["hits"], MOULINS_HOME)


def test_distance_without_a_point_prefers_the_saved_place_to_the_territory(
    client: TestClient, runtime: Runtime, on_backend: SearchBackend, published: dict[str, Any]
) -> None:
    runtime.worker().drain()
    with runtime.transaction() as session:
        session.add(
            Territory(
                name="Lille",
                slug="lille",
                timezone="Europe/Paris",
                min_lat=50.60,
                min_lon=3.03,
                max_lat=50.66,
                max_lon=3.10,
            )
        )
    account = published["account"]
    _save_place(client, account, ROUBAIX_HOME)
    mine = _search(client, World.auth(account), sort="distance", types="organisation")
    assert [h["name"] for h in mine["hits"]] == ["Recyclerie de Roubaix", "La CoFabrik"]
    _assert_nearest_first(mine["hits"], ROUBAIX_HOME)

    territory = Point(50.63, 3.065)
    _save_place(client, account, None)  # signed in without a saved place, or anonymous
    for headers in (World.auth(account), None):
        found = _search(client, headers, sort="distance", types="organisation")
        assert [h["name"] for h in found["hits"]] == ["La CoFabrik", "Recyclerie de Roubaix"]
        _assert_nearest_first(found["hits"], territory)
    explicit = _search(client, near="territory", sort="distance", types="organisation")
    assert [h["name"] for h in explicit["hits"]] == ["La CoFabrik", "Recyclerie de Roubaix"]


def test_near_me_needs_a_signed_in_person_with_a_saved_place(
    client: TestClient, world: World
) -> None:
    anonymous = client.get(SEARCH, params={"near": "me", "sort": "distance"})
    assert anonymous.status_code == 422, anonymous.text
    assert "near" in anonymous.json()["error"]["fields"]
    bogus = {"Authorization": "Bearer not-a-token"}
    assert client.get(SEARCH, params={"near": "me"}, headers=bogus).status_code == 422

    camille = world.account("Camille")
    homeless = client.get(SEARCH, params={"near": "me"}, headers=world.auth(camille))
    assert homeless.status_code == 422, homeless.text
    assert "near" in homeless.json()["error"]["fields"]

    _save_place(client, camille, ROUBAIX_HOME)
    assert client.get(SEARCH, params={"near": "me"}, headers=world.auth(camille)).status_code == 200
    both = client.get(
        SEARCH, params={"near": "me", "lat": 50.6, "lon": 3.1}, headers=world.auth(camille)
    )
    assert both.status_code == 422 and "near" in both.json()["error"]["fields"]
    # a node without a territory has no centre to name
    assert "near" in client.get(SEARCH, params={"near": "territory"}).json()["error"]["fields"]


def test_paging_with_the_cursor(
    client: TestClient, runtime: Runtime, published: dict[str, Any]
) -> None:
    runtime.worker().drain()
    first = _search(client, limit=2, sort="date")
    second = _search(client, limit=2, sort="date", cursor=first["next"])
    assert first["total"] == 3 and len(first["hits"]) == 2 and len(second["hits"]) == 1
    assert second["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"types": "event,person"}, "types"),
        ({"themes": "astrology"}, "themes"),
        ({"lat": 200, "lon": 3}, "lat"),
        ({"lat": 50.6}, "lon"),
        ({"radius_km": 5}, "radius_km"),
        ({"near": "work"}, "near"),
        ({"lat": 50.6, "lon": 3, "radius_km": -1}, "radius_km"),
        ({"bbox": "3,50,2"}, "bbox"),
        ({"bbox": "3.1,50.7,3.0,50.6"}, "bbox"),
        ({"start": "demain"}, "start"),
        ({"start": "2030-05-10", "end": "2030-05-01"}, "end"),
        ({"sort": "random"}, "sort"),
        ({"facets": "colour"}, "facets"),
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"tags_mode": "some"}, "tags_mode"),
        ({"origin": "a b"}, "origin"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_invalid_parameters_are_named(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    answer = client.get(SEARCH, params=params)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["error"]["fields"]


def test_the_search_parameters_are_documented(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    parameters = {p["name"] for p in spec["paths"][SEARCH]["get"]["parameters"]}
    assert {
        "q",
        "types",
        "themes",
        "tags",
        "lat",
        "lon",
        "near",
        "radius_km",
        "bbox",
        "start",
        "end",
        "sort",
        "facets",
        "limit",
        "cursor",
        "origin",
    } <= parameters


def test_search_latency_is_measured(client: TestClient, runtime: Runtime) -> None:
    assert client.get("/api/v1/search", params={"q": "vélo"}).status_code == 200
    scraped = runtime.metrics.render().decode()
    assert 'maillon_search_duration_seconds_count{backend="embedded",kind="text"} 1.0' in scraped
