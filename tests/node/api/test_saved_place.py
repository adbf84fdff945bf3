"""A person's saved place: ``PUT /api/v1/me {place}`` ("near me" in search)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World

ME = "/api/v1/me"


def _profile(**fields: Any) -> dict[str, Any]:
    return {"name": "Camille", "bio": "Vélo et compost", "locale": "fr"} | fields


def _put(client: TestClient, account: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    answer = client.put(ME, json=body, headers=World.auth(account))
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_saved_place_is_geocoded_shown_and_kept(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    assert client.get(ME, headers=world.auth(camille)).json()["place"] is None

    saved = _put(client, camille, _profile(place={"postal_code": "59100", "city": "Roubaix"}))
    assert saved["place"]["city"] == "Roubaix"
    assert saved["place"]["insee_code"] == "59512"
    assert saved["place"]["latitude"] is not None and saved["place"]["longitude"] is not None
    assert saved["bio"] == "Vélo et compost" and saved["name"] == "Camille"

    again = client.get(ME, headers=world.auth(camille)).json()
    assert again["place"] == saved["place"]

    # a PUT without `place` leaves it as it is; the other fields are replaced as before
    renamed = _put(client, camille, {"name": "Camille D."})
    assert renamed["place"] == saved["place"]
    assert (renamed["name"], renamed["bio"], renamed["public_profile"]) == ("Camille D.", "", False)


def test_given_coordinates_are_kept_and_null_clears(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    home = {"name": "Chez moi", "latitude": 50.6197, "longitude": 3.0672}
    saved = _put(client, camille, _profile(place=home))
    assert (saved["place"]["latitude"], saved["place"]["longitude"]) == (50.6197, 3.0672)
    assert saved["place"]["precision"] == "exact"

    cleared = _put(client, camille, _profile(place=None))
    assert cleared["place"] is None
    assert client.get(ME, headers=world.auth(camille)).json()["place"] is None


def test_the_saved_place_stays_private(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    _put(client, camille, _profile(public_profile=True, place={"city": "Lille"}))
    public = client.get(f"/api/v1/people/{camille['id']}")
    assert public.status_code == 200, public.text
    assert "place" not in public.json()


@pytest.mark.parametrize(
    ("place", "field"),
    [
        ({}, "place"),
        ({"latitude": 50.6}, "place.longitude"),
        ({"latitude": 95, "longitude": 3}, "place.latitude"),
        ({"city": "Lille", "altitude": 20}, "place.altitude"),
        ("Lille", "place"),
        ({"postal_code": "59000; DROP"}, "place.postal_code"),
    ],
)
def test_an_invalid_place_is_named_and_changes_nothing(
    client: TestClient, world: World, place: Any, field: str
) -> None:
    camille = world.account("Camille")
    before = _put(client, camille, _profile(place={"city": "Lille"}))
    answer = client.put(ME, json=_profile(name="Autre", place=place), headers=world.auth(camille))
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["error"]["fields"]
    assert client.get(ME, headers=world.auth(camille)).json() == before


def test_the_saved_place_needs_a_signed_in_person(client: TestClient) -> None:
    assert client.put(ME, json=_profile(place={"city": "Lille"})).status_code == 401
