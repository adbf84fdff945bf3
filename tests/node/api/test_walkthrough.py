"""The API walk-through of issue 2: register → token → organisation → event → join."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World


def test_register_publish_join_and_see_it_everywhere(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    assert org["origin"] == "local"
    assert org["url"] == f"http://lille.test/organisations/{org['id']}"
    assert org["place"]["insee_code"] == "59350"

    event = world.event(camille, org["id"], capacity=2)
    assert event["starts_at"] == "2030-05-16T14:00:00+02:00"
    assert event["tags"] == ["reemploi"]
    assert event["place"]["latitude"] is not None
    assert event["organisers"][0]["id"] == org["id"]

    karim = world.account("Karim")
    joined = client.post(f"/api/v1/events/{event['id']}/participation", headers=world.auth(karim))
    assert joined.status_code == 201, joined.text
    assert joined.json()["state"] == "going"

    fetched = client.get(f"/api/v1/events/{event['id']}").json()
    assert fetched["participant_count"] == 1
    assert fetched["remaining_capacity"] == 1

    listed = client.get("/api/v1/events").json()
    assert [e["id"] for e in listed["items"]] == [event["id"]]

    feed = client.get("/api/v1/changes").json()
    kinds = [(c["type"], c["object_type"], c["object_id"]) for c in feed["items"]]
    assert ("Create", "organisation", org["id"]) in kinds
    assert ("Create", "event", event["id"]) in kinds
    assert client.get("/api/v1/changes", params={"since": feed["next"]}).json()["items"] == []


def test_the_published_event_is_in_the_calendar_and_the_open_data(
    client: TestClient, world: World
) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    event = world.event(camille, org["id"], name="Atelier vélo")

    calendar = client.get("/api/v1/events.ics")
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert f"UID:{event['url']}" in calendar.text.replace("\r\n ", "")
    assert "SUMMARY:Atelier vélo" in calendar.text

    geojson = client.get("/api/v1/export/events.geojson").json()
    [feature] = [f for f in geojson["features"] if f["properties"]["id"] == event["id"]]
    assert feature["geometry"]["coordinates"] == [
        event["place"]["longitude"],
        event["place"]["latitude"],
    ]
