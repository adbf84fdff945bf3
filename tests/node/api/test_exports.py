"""Exports: the iCalendar feeds and the open-data CSV / GeoJSON files, parsed back."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from fastapi.testclient import TestClient

from node.api import opendata
from node.api.ical import html_to_text
from node.models import Event, Organisation
from node.runtime import Runtime
from tests.conftest import World


def _calendar(client: TestClient, path: str, **params: Any) -> Any:
    answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert ".ics" in answer.headers["content-disposition"]
    return icalendar.Calendar.from_ical(answer.content)


def _events(cal: Any) -> dict[str, Any]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def _csv(client: TestClient, name: str) -> list[dict[str, str]]:
    answer = client.get(f"/api/v1/export/{name}.csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="{name}.csv"' in answer.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(answer.text)))


def _geojson(client: TestClient, name: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/export/{name}.geojson")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/geo+json"
    result: dict[str, Any] = json.loads(answer.text)
    assert result["type"] == "FeatureCollection"
    return result


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def test_agenda_is_icalendar_with_zones_places_and_organisers(
    client: TestClient, world: World
) -> None:
    camille = world.account()
    org = world.organisation(camille)
    event = world.event(
        camille,
        org["id"],
        description='<p>Apportez vos objets &amp; vos outils.</p><p>Voir <a href="https://'
        'cofabrik.example/rc">le programme</a>.</p>',
    )
    online = world.event(
        camille,
        org["id"],
        name="Webinaire",
        place=None,
        online_url="https://visio.example/r",
        timezone="America/Montreal",
        starts_at="2030-06-01T09:30:00",
        ends_at="2030-06-01T11:00:00",
    )

    cal = _calendar(client, "/api/v1/events.ics")
    assert str(cal["prodid"]) == "-//Maillon//Maillon 0.1//FR"
    assert str(cal["version"]) == "2.0"
    assert str(cal["x-wr-calname"]) == "lille.test — agenda"
    assert {str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")} == {"Europe/Paris", "America/Montreal"}
    found = _events(cal)
    assert set(found) == {event["url"], online["url"]}

    vevent = found[event["url"]]
    assert str(vevent["summary"]) == "Repair café"
    assert vevent["dtstart"].params["TZID"] == "Europe/Paris"
    assert vevent.decoded("dtstart").replace(tzinfo=None) == datetime(2030, 5, 16, 14)
    assert vevent.decoded("dtend").replace(tzinfo=None) == datetime(2030, 5, 16, 18)
    assert vevent.decoded("dtstart") == datetime.fromisoformat(event["starts_at"])
    assert str(vevent["description"]) == (
        "Apportez vos objets & vos outils.\n\nVoir le programme (https://cofabrik.example/rc)."
    )
    assert str(vevent["location"]) == ("Maison de l'ESS, 235 boulevard Paul Painlevé, 59000 Lille")
    assert vevent["geo"].latitude == pytest.approx(event["place"]["latitude"])
    assert vevent["geo"].longitude == pytest.approx(event["place"]["longitude"])
    assert str(vevent["url"]) == event["url"]
    assert [str(c) for c in vevent["categories"].cats] == ["Mutualisation", "reemploi"]
    assert str(vevent["status"]) == "CONFIRMED"
    assert str(vevent["organizer"]) == org["url"]
    assert vevent["organizer"].params["CN"] == org["name"]
    assert vevent.decoded("sequence") == 0
    updated = datetime.fromisoformat(event["updated"]).replace(microsecond=0)
    assert vevent.decoded("last-modified") == updated  # iCalendar keeps whole seconds
    assert "dtstamp" in vevent

    webinar = found[online["url"]]
    assert webinar["dtstart"].params["TZID"] == "America/Montreal"
    assert webinar.decoded("dtstart").replace(tzinfo=None) == datetime(2030, 6, 1, 9, 30)
    assert str(webinar["location"]) == "https://visio.example/r"
    assert "geo" not in webinar


def test_cancelled_events_stay_marked_deleted_and_old_ones_leave(
    client: TestClient, world: World
) -> None:
    camille = world.account()
    org = world.organisation(camille)
    headers = world.auth(camille)
    cancelled = world.event(camille, org["id"], name="Annulé")
    deleted = world.event(camille, org["id"], name="Supprimé")
    now = datetime.now(UTC)
    recent = world.event(
        camille,
        org["id"],
        name="Récent",
        timezone="UTC",
        starts_at=_local(now - timedelta(days=10)),
        ends_at=_local(now - timedelta(days=9)),
    )
    old = world.event(
        camille,
        org["id"],
        name="Ancien",
        timezone="UTC",
        starts_at=_local(now - timedelta(days=40)),
        ends_at=_local(now - timedelta(days=39)),
    )
    patched = client.patch(
        f"/api/v1/events/{cancelled['id']}", json={"status": "cancelled"}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert client.delete(f"/api/v1/events/{deleted['id']}", headers=headers).status_code == 204

    found = _events(_calendar(client, "/api/v1/events.ics"))
    assert set(found) == {cancelled["url"], recent["url"]}
    assert str(found[cancelled["url"]]["status"]) == "CANCELLED"
    assert found[cancelled["url"]].decoded("sequence") == 1
    assert old["url"] not in found

    rows = {r["id"]: r for r in _csv(client, "events")}
    assert set(rows) == {cancelled["id"], recent["id"], old["id"]}
    assert rows[cancelled["id"]]["status"] == "cancelled"


def test_agenda_filters_like_the_event_list(client: TestClient, world: World) -> None:
    camille = world.account()
    first = world.organisation(camille)
    second = world.organisation(camille, name="Vélo Cité", themes=["mobility"])
    repair = world.event(camille, first["id"])
    ride = world.event(camille, second["id"], name="Balade", themes=["mobility"], tags=["vélo"])

    def uids(**params: Any) -> set[str]:
        return set(_events(_calendar(client, "/api/v1/events.ics", **params)))

    assert uids(theme="mobility") == {ride["url"]}
    assert uids(theme=["mobility", "sharing"]) == {ride["url"], repair["url"]}
    assert uids(tag="Vélo") == {ride["url"]}
    assert uids(organisation_id=first["id"]) == {repair["url"]}
    bad = client.get("/api/v1/events.ics", params={"theme": "astrology"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid"


def test_organisation_feed(client: TestClient, world: World) -> None:
    camille = world.account()
    org = world.organisation(camille)
    other = world.organisation(camille, name="Autre")
    own = world.event(camille, org["id"])
    shared = world.event(camille, other["id"], name="Ensemble", co_organiser_ids=[org["id"]])
    world.event(camille, other["id"], name="Ailleurs")

    answer = client.get(f"/api/v1/organisations/{org['id']}/events.ics")
    assert f'filename="{org["username"]}-events.ics"' in answer.headers["content-disposition"]
    cal = _calendar(client, f"/api/v1/organisations/{org['id']}/events.ics")
    assert str(cal["x-wr-calname"]) == org["name"]
    found = _events(cal)
    assert set(found) == {own["url"], shared["url"]}
    assert found[shared["url"]]["organizer"].params["CN"] == "Autre"

    for missing in ("0000-0000", "x' OR 1=1 --"):
        unknown = client.get(f"/api/v1/organisations/{missing}/events.ics")
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "not_found"
    assert (
        client.delete(
            f"/api/v1/organisations/{other['id']}", headers=world.auth(camille)
        ).status_code
        == 204
    )
    gone = client.get(f"/api/v1/organisations/{other['id']}/events.ics")
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "gone"


def test_feeds_answer_304_until_something_changes(client: TestClient, world: World) -> None:
    camille = world.account()
    org = world.organisation(camille)
    event = world.event(camille, org["id"])
    path = f"/api/v1/organisations/{org['id']}/events.ics"
    etag = client.get(path).headers["etag"]
    assert etag.startswith('W/"')
    assert client.get(path).headers["etag"] == etag
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get("/api/v1/events.ics", headers={"If-None-Match": etag}).status_code == 200

    renamed = client.patch(
        f"/api/v1/organisations/{org['id']}", json={"name": "CoFab"}, headers=world.auth(camille)
    )
    assert renamed.status_code == 200, renamed.text
    after_rename = client.get(path, headers={"If-None-Match": etag})
    assert after_rename.status_code == 200
    assert (
        _events(icalendar.Calendar.from_ical(after_rename.content))[event["url"]][
            "organizer"
        ].params["CN"]
        == "CoFab"
    )
    etag = after_rename.headers["etag"]
    client.patch(
        f"/api/v1/events/{event['id']}", json={"name": "Autre"}, headers=world.auth(camille)
    )
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_event_routes_are_not_captured(client: TestClient, world: World) -> None:
    camille = world.account()
    event = world.event(camille, world.organisation(camille)["id"])
    assert client.get(f"/api/v1/events/{event['id']}").json()["id"] == event["id"]
    assert client.get("/api/v1/events.ics").headers["content-type"].startswith("text/calendar")
    assert client.get("/api/v1/events").json()["items"][0]["id"] == event["id"]


def test_events_csv(client: TestClient, world: World) -> None:
    camille = world.account()
    org = world.organisation(camille)
    event = world.event(camille, org["id"], capacity=12, description="<p>Un <b>atelier</b></p>")
    evil = world.event(camille, org["id"], name='=HYPERLINK("http://evil")', tags=["a", "b"])

    rows = {r["id"]: r for r in _csv(client, "events")}
    row = rows[event["id"]]
    assert list(row)[:4] == ["id", "url", "origin", "name"]
    assert row["url"] == event["url"]
    assert row["origin"] == "local"
    assert row["organisation_id"] == org["id"]
    assert row["organisation"] == org["name"]
    assert row["organisers"] == org["name"]
    assert row["starts_at"] == "2030-05-16T14:00:00+02:00"
    assert row["ends_at"] == "2030-05-16T18:00:00+02:00"
    assert row["timezone"] == "Europe/Paris"
    assert row["status"] == "confirmed"
    assert row["capacity"] == "12"
    assert row["join_mode"] == "free"
    assert row["online_url"] == ""
    assert row["description"] == "Un atelier"
    assert row["themes"] == "sharing"
    assert row["tags"] == "reemploi"
    assert row["place_name"] == "Maison de l'ESS"
    assert row["postal_code"] == "59000"
    assert row["city"] == "Lille"
    assert row["insee_code"] == "59350"
    assert float(row["latitude"]) == pytest.approx(event["place"]["latitude"])
    assert float(row["longitude"]) == pytest.approx(event["place"]["longitude"])
    assert datetime.fromisoformat(row["created"]).tzinfo is not None
    assert rows[evil["id"]]["name"] == '\'=HYPERLINK("http://evil")'
    assert rows[evil["id"]]["tags"] == "a|b"


def test_organisations_and_projects_csv(client: TestClient, world: World) -> None:
    camille = world.account()
    rennes = world.organisation(
        camille,
        name="+Breizh",
        tags=["vélo", "atelier"],
        place={"city": "Rennes", "latitude": 48.1113, "longitude": -1.6800},
    )
    bare = world.organisation(camille, name="@Sans lieu", place=None)
    project = client.post(
        "/api/v1/projects",
        json={
            "name": "-Jardin partagé",
            "organisation_id": rennes["id"],
            "stage": "launched",
            "themes": ["food"],
        },
        headers=world.auth(camille),
    )
    assert project.status_code == 201, project.text

    orgs = {r["id"]: r for r in _csv(client, "organisations")}
    assert orgs[rennes["id"]]["name"] == "'+Breizh"
    assert orgs[rennes["id"]]["longitude"] == "-1.68"  # a number, not a formula
    assert orgs[rennes["id"]]["tags"] == "velo|atelier"
    assert orgs[rennes["id"]]["kind"] == "association"
    assert orgs[bare["id"]]["name"] == "'@Sans lieu"
    assert orgs[bare["id"]]["latitude"] == ""

    projects = _csv(client, "projects")
    assert [p["id"] for p in projects] == [project.json()["id"]]
    assert projects[0]["name"] == "'-Jardin partagé"
    assert projects[0]["organisation"] == "'+Breizh"
    assert projects[0]["stage"] == "launched"
    assert projects[0]["themes"] == "food"


def test_geojson(client: TestClient, world: World) -> None:
    camille = world.account()
    org = world.organisation(
        camille, place={"city": "Rennes", "latitude": 48.1113, "longitude": -1.68}
    )
    bare = world.organisation(camille, name="Sans lieu", place=None)
    event = world.event(camille, org["id"], name="=1+1")

    features = {f["id"]: f for f in _geojson(client, "organisations")["features"]}
    assert features[org["id"]]["type"] == "Feature"
    assert features[org["id"]]["geometry"] == {"type": "Point", "coordinates": [-1.68, 48.1113]}
    assert features[org["id"]]["properties"]["name"] == org["name"]
    assert features[org["id"]]["properties"]["themes"] == ["crafts"]
    assert "latitude" not in features[org["id"]]["properties"]
    assert features[bare["id"]]["geometry"] is None

    [feature] = _geojson(client, "events")["features"]
    lon, lat = feature["geometry"]["coordinates"]
    assert (lat, lon) == (
        pytest.approx(event["place"]["latitude"]),
        pytest.approx(event["place"]["longitude"]),
    )
    properties = feature["properties"]
    assert properties["name"] == "=1+1"  # no spreadsheet guard in JSON
    assert properties["starts_at"] == "2030-05-16T14:00:00+02:00"
    assert properties["organisers"] == [org["name"]]
    assert properties["capacity"] is None
    assert _geojson(client, "projects")["features"] == []


def test_exports_read_in_chunks_and_include_remote_objects(
    client: TestClient, world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    camille = world.account()
    org = world.organisation(camille)
    ids = [world.event(camille, org["id"], name=f"Séance {n}")["id"] for n in range(4)]
    with runtime.transaction() as session:
        remote_org = Organisation(
            ap_id="https://mobilizon.test/@velo",
            origin="mobilizon.test",
            username="velo@mobilizon.test",
            name="Vélo",
            kind="association",
        )
        session.add(remote_org)
        session.flush()
        start = datetime(2030, 7, 1, 8, tzinfo=UTC)
        remote = Event(
            ap_id="https://mobilizon.test/events/1",
            origin="mobilizon.test",
            name="Balade",
            organisation_id=remote_org.id,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            timezone="Europe/Paris",
            online_url="https://mobilizon.test/events/1",
        )
        session.add(remote)
        session.flush()
        ids.append(remote.id)
    monkeypatch.setattr(opendata, "CHUNK", 2)

    rows = _csv(client, "events")
    assert [r["id"] for r in rows] == sorted(ids)
    assert {r["origin"] for r in rows} == {"local", "mobilizon.test"}
    assert [f["id"] for f in _geojson(client, "events")["features"]] == sorted(ids)
    assert "https://mobilizon.test/events/1" in _events(_calendar(client, "/api/v1/events.ics"))


@pytest.mark.parametrize(
    "path", ["/api/v1/export/people.csv", "/api/v1/export/events.xml", "/api/v1/export/events"]
)
def test_unknown_exports_are_json_404(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_exports_are_documented(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    expected = ["/api/v1/events.ics", "/api/v1/organisations/{organisation_id}/events.ics"] + [
        f"/api/v1/export/{c}.{f}"
        for c in ("organisations", "events", "projects")
        for f in ("csv", "geojson")
    ]
    for path in expected:
        assert paths[path]["get"]["tags"] == ["exports"], path
        assert paths[path]["get"]["description"], path
    assert not any("{name}" in p for p in paths)


def test_html_to_text() -> None:
    assert html_to_text("") == ""
    assert html_to_text("plain  text") == "plain text"
    assert html_to_text("<ul><li>un</li><li>deux</li></ul><p>a<br>b</p>") == "- un\n- deux\n\na\nb"
    link = '<a href="https://x.example">https://x.example</a>'
    assert html_to_text(link) == "https://x.example"
    assert html_to_text("<script>alert(1)</script>ok &lt;3") == "ok <3"
    assert html_to_text("<p>Un\n  <b>atelier</b></p>\n<h3>Où ?</h3>") == "Un atelier\n\nOù ?"
    ampersand = "<a href='https://a.example/?x=1&amp;y=2'>ici</a>"
    assert html_to_text(ampersand) == "ici (https://a.example/?x=1&y=2)"
    assert html_to_text("<a href='mailto:a@b.example'>écrire</a>") == "écrire"
