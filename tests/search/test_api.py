"""GET /api/v1/search on a node: writes reach the index through jobs, never inline."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from node.models import Territory
from node.runtime import Runtime
from search.indexer import drift, reindex
from search.service import SearchService
from tests.conftest import World

SEARCH = "/api/v1/search"


def _search(client: TestClient, **params: Any) -> dict[str, Any]:
    answer = client.get(SEARCH, params=params)
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
