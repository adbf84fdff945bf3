"""Model ↔ ActivityStreams conversion (federation/convert), against recorded payloads."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from federation.convert import (
    AS_PUBLIC,
    CATEGORY_THEMES,
    THEME_CATEGORIES,
    ActorUrls,
    ParseError,
    RemoteActor,
    RemoteEvent,
    activity,
    application_actor,
    event_object,
    group_actor,
    host_of,
    object_id,
    object_type,
    parse_actor,
    parse_event,
    parse_tombstone,
    person_actor,
    summary_line,
    tombstone,
    unwrap_announce,
    update_id,
)
from node.models import Event, Organisation, Person, Place, Project
from node.sanitize import sanitize_html
from node.themes import THEMES

DATA = Path(__file__).parent / "data"
BASE = "https://lille.maillon.example"
ORG = f"{BASE}/organisations/0193a4f2-6c1d-7e3a-9b2f-4d5e6f708192"
CO_ORG = f"{BASE}/organisations/0193a4f2-aaaa-7e3a-9b2f-4d5e6f708192"
EVENT_ID = f"{BASE}/events/0193a4f3-1b2c-7d4e-8f5a-6b7c8d9e0f1a"
MZ_EVENT = "https://mobilizon.example/events/5e8b1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e"
MZ_GROUP = "https://mobilizon.example/@velo_lille"
MZ_PERSON = "https://mobilizon.example/@dominique"
GANCIO = "https://gancio.example/federation/u/gancio"
PEM = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END PUBLIC KEY-----\n"
PARIS = ZoneInfo("Europe/Paris")


def load(name: str) -> dict[str, Any]:
    document = json.loads((DATA / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def make_event(**changes: Any) -> Event:
    fields: dict[str, Any] = {
        "ap_id": EVENT_ID,
        "name": "Atelier de réparation vélo",
        "organisation_id": "0193a4f2-6c1d-7e3a-9b2f-4d5e6f708192",
        "description": sanitize_html(
            '<p>Venez <strong>réparer</strong> <a href="https://a.example">ici</a></p>'
        ),
        "starts_at": utc(2026, 12, 5, 18),
        "ends_at": utc(2026, 12, 5, 20),
        "timezone": "Europe/Paris",
        "capacity": 20,
        "join_mode": "restricted",
        "status": "confirmed",
        "themes": ["mobility", "sharing"],
        "tags": ["velo-cargo", "reparation"],
        "online_url": "https://visio.example/atelier",
        "created": utc(2026, 11, 1, 9),
        "updated": utc(2026, 11, 2, 10, 30),
    }
    fields.update(changes)
    return Event(**fields)


def make_place(**changes: Any) -> Place:
    fields: dict[str, Any] = {
        "name": "Maison des associations",
        "street": "72 rue Royale",
        "postal_code": "59000",
        "city": "Lille",
        "country": "France",
        "latitude": 50.6412,
        "longitude": 3.0587,
    }
    fields.update(changes)
    return Place(**fields)


def make_org(**changes: Any) -> Organisation:
    fields: dict[str, Any] = {
        "ap_id": ORG,
        "username": "velo-lille",
        "name": "Vélo Lille",
        "kind": "association",
        "description": "<p>Pour le vélo</p>",
        "website": "https://velo-lille.example/?a=1&b=<2>",
        "logo_url": "https://velo-lille.example/logo.png",
        "themes": ["mobility"],
        "tags": ["velo"],
        "created": utc(2025, 1, 1),
    }
    fields.update(changes)
    return Organisation(**fields)


def outgoing(event: Event | None = None, place: Place | None = None, **kw: Any) -> dict[str, Any]:
    event = event or make_event()
    options: dict[str, Any] = {"organisers": [ORG, CO_ORG], "url": event.ap_id}
    options["participant_count"] = 5
    options.update(kw)
    return event_object(event, place=place, **options)


# --- recorded payloads ------------------------------------------------------------------


def test_mastodon_follow_names_our_group() -> None:
    follow = load("mastodon_follow.json")
    assert follow["type"] == "Follow"
    assert object_id(follow) == "https://mastodon.example/8f2c6a1e-4b7d-4e0a-9c3f-5d1b2a7e6f40"
    assert object_id(follow["actor"]) == "https://mastodon.example/users/camille"
    assert object_id(follow["object"]) == ORG
    assert object_type(follow["object"]) is None
    assert host_of(object_id(follow["object"])) == "lille.maillon.example"


def test_mastodon_person() -> None:
    actor = parse_actor(load("mastodon_person.json"))
    assert (actor.ap_id, actor.type, actor.username) == (
        "https://mastodon.example/users/camille",
        "Person",
        "camille",
    )
    assert actor.name == "Camille 🚲"
    assert "<script>" not in actor.summary and "alert" not in actor.summary
    assert 'href="https://mastodon.example/tags/velo"' in actor.summary
    assert actor.url == "https://mastodon.example/@camille"
    assert actor.inbox == "https://mastodon.example/users/camille/inbox"
    assert actor.outbox == "https://mastodon.example/users/camille/outbox"
    assert actor.followers == "https://mastodon.example/users/camille/followers"
    assert actor.following == "https://mastodon.example/users/camille/following"
    assert actor.shared_inbox == "https://mastodon.example/inbox"
    assert actor.public_key_id == "https://mastodon.example/users/camille#main-key"
    assert actor.public_key_pem is not None
    assert actor.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert actor.icon_url is not None and actor.icon_url.endswith("a1b2c3.png")
    assert actor.manually_approves is False


def test_mobilizon_create_event() -> None:
    create = load("mobilizon_create_event.json")
    assert object_type(create["object"]) == "Event"
    event = parse_event(create["object"])
    assert event.ap_id == event.url == MZ_EVENT
    assert event.name == "Atelier de réparation vélo"
    assert event.description == (
        "<p>Venez réparer votre vélo avec nos bénévoles.</p><p>Outils fournis.</p>"
    )
    assert event.starts_at == utc(2026, 12, 5, 18)
    assert event.ends_at == utc(2026, 12, 5, 20, 30)
    assert event.end_inferred is False
    assert event.timezone == "Europe/Paris"
    assert event.place is not None
    assert event.place.name == "La Maison du Vélo"
    assert (event.place.street, event.place.postal_code, event.place.city) == (
        "72 Rue Royale",
        "59000",
        "Lille",
    )
    assert (event.place.region, event.place.country) == ("Hauts-de-France", "France")
    assert (event.place.latitude, event.place.longitude) == (50.6412, 3.0587)
    assert isinstance(event.place.latitude, float)
    assert event.online_url == "https://visio.example/atelier-velo"
    assert event.image_url == "https://mobilizon.example/media/0f1e2d3c4b5a.jpg"
    assert (event.capacity, event.join_mode, event.external_participation_url) == (
        25,
        "restricted",
        None,
    )
    assert event.status == "confirmed"
    # "#mobility" names a theme; WORKSHOPS_SKILL_SHARING implies "sharing"
    assert event.themes == ("mobility", "sharing")
    assert event.tags == ("velo", "reparation")
    assert event.attributed_to == (MZ_GROUP, MZ_PERSON)  # the group, then the organiser
    assert event.published == utc(2026, 11, 20, 10, 15, 30)


def test_mobilizon_update_event() -> None:
    update = load("mobilizon_update_event.json")
    created = parse_event(load("mobilizon_create_event.json")["object"])
    event = parse_event(update["object"])
    assert event.ap_id == created.ap_id
    assert event.name == "Atelier de réparation vélo (complet)"
    assert event.status == "tentative"
    assert event.ends_at == utc(2026, 12, 5, 21)
    assert event.updated is not None and created.updated is not None
    assert event.updated > created.updated
    # Mobilizon reuses "<event>/activity" for Create and Update
    assert object_id(update) == object_id(load("mobilizon_create_event.json"))


@pytest.mark.parametrize("name", ["mobilizon_delete_tombstone.json", "mobilizon_delete_event.json"])
def test_mobilizon_delete(name: str) -> None:
    delete = load(name)
    assert delete["type"] == "Delete"
    assert parse_tombstone(delete["object"]) == (MZ_EVENT, "Event")


def test_delete_by_id_has_no_former_type() -> None:
    assert parse_tombstone(MZ_EVENT) == (MZ_EVENT, None)
    assert parse_tombstone({"id": MZ_EVENT, "type": "Tombstone"}) == (MZ_EVENT, None)


def test_mobilizon_group() -> None:
    group = parse_actor(load("mobilizon_group.json"))
    assert (group.type, group.username, group.name) == ("Group", "velo_lille", "Vélo Lille")
    assert group.inbox == f"{MZ_GROUP}/inbox"
    assert group.shared_inbox == "https://mobilizon.example/inbox"
    assert group.events == f"{MZ_GROUP}/events"
    assert group.upcoming_events is None
    assert group.public_key_id == f"{MZ_GROUP}#main-key"
    assert group.icon_url == "https://mobilizon.example/media/7a8b9c0d1e2f.png"


def test_mobilizon_join_of_our_event() -> None:
    join = load("mobilizon_join.json")
    assert join["type"] == "Join"
    assert object_id(join["actor"]) == MZ_PERSON
    assert object_id(join["object"]) == EVENT_ID
    assert host_of(object_id(join["object"])) == host_of(BASE)


def test_mobilizon_online_event() -> None:
    event = parse_event(load("mobilizon_online_event.json")["object"])
    assert event.place is None
    assert event.online_url == "https://visio.example/velo-hiver"
    assert (event.join_mode, event.capacity) == ("free", None)
    assert event.themes == ("education",)  # category LEARNING
    assert event.starts_at.astimezone(PARIS).hour == 18


def test_gancio_event_without_timezone() -> None:
    create = load("gancio_create_event.json")
    event = parse_event(create["object"])
    assert event.timezone == "Europe/Paris"  # the +01:00 offset is Paris's on that day
    assert event.starts_at == utc(2026, 12, 5, 18)
    assert event.ends_at == utc(2026, 12, 5, 22)
    assert event.url == "https://gancio.example/event/concert-solidaire-a-la-halle"
    assert event.place is not None
    assert (event.place.name, event.place.street) == ("Halle aux Sucres", "Rue de la Halle")
    assert (event.place.postal_code, event.place.city) == ("59000", "Lille")
    assert (event.place.latitude, event.place.longitude) == (50.6413, 3.0568)
    assert event.image_url == "https://gancio.example/media/9d8c7b6a5f4e3d2c.jpg"
    # Gancio has no RSVP: registration happens (if anywhere) on its page
    assert event.join_mode == "external"
    assert event.external_participation_url == event.url
    assert event.tags == ("concert", "solidarite")
    assert event.attributed_to == (GANCIO,)
    assert event.published == datetime(2026, 11, 18, 9, 12, 44, 123000, tzinfo=UTC)


def test_gancio_event_in_utc_is_at_19_paris_time() -> None:
    event = parse_event(load("gancio_create_event_utc.json")["object"])
    assert event.timezone == "Europe/Paris"
    assert event.starts_at == utc(2026, 12, 5, 18)
    local = event.starts_at.astimezone(ZoneInfo(event.timezone))
    assert (local.hour, local.minute) == (19, 0)
    assert event.place is not None  # the first place of the array
    assert (event.place.latitude, event.place.longitude) == (50.6413, 3.0568)
    assert event.place.city == "Lille"


def test_gancio_application_actor() -> None:
    actor = parse_actor(load("gancio_application_actor.json"))
    assert (actor.type, actor.username, actor.name) == ("Application", "gancio", "gancio")
    assert actor.inbox == f"{GANCIO}/inbox"
    assert (actor.shared_inbox, actor.followers, actor.following) == (None, None, None)
    assert actor.public_key_id == f"{GANCIO}#main-key"
    assert actor.icon_url == "https://gancio.example/logo.png"


def test_announce_of_a_create() -> None:
    inner = unwrap_announce(load("announce_create_event.json"))
    assert isinstance(inner, dict)
    assert parse_event(inner).ap_id == MZ_EVENT


def test_announce_of_an_id() -> None:
    assert unwrap_announce(load("announce_id_only.json")) == MZ_EVENT


def test_announces_of_announces() -> None:
    relayed = load("announce_create_event.json")
    twice = {"type": "Announce", "object": {"type": "Announce", "object": relayed}}
    inner = unwrap_announce(twice)  # four wrappers: Announce, Announce, Announce, Create
    assert isinstance(inner, dict) and inner["id"] == MZ_EVENT


def test_fep8a8e_hybrid_event() -> None:
    event = parse_event(load("fep8a8e_hybrid_event.json"))
    assert event.place is not None
    assert event.place.name == "Tiers-lieu du Fediverse"
    assert (event.place.street, event.place.postal_code, event.place.city) == (
        "15 rue du Fediverse",
        "59800",
        "Lille",
    )
    assert event.online_url == "https://bbb.events.example/salle-1"
    assert event.status == "confirmed"
    assert event.themes == ("digital",)
    # mailto: is no http(s) URL: registration at the event's page (its id)
    assert (event.join_mode, event.external_participation_url) == ("external", event.ap_id)


def test_place_with_an_address_url_is_online() -> None:
    document = load("fep8a8e_hybrid_event.json")
    document["location"] = {
        "type": "Place",
        "name": "Visio",
        "address": {"type": "PostalAddress", "url": "https://visio.example/r"},
    }
    event = parse_event(document)
    assert (event.place, event.online_url) == (None, "https://visio.example/r")


# --- time zones and times ---------------------------------------------------------------


def _timed(start: str, **extra: Any) -> RemoteEvent:
    document = load("fep8a8e_hybrid_event.json")
    document.pop("timezone")
    document.pop("endTime")
    document.update(startTime=start, **extra)
    return parse_event(document)


@pytest.mark.parametrize(
    ("start", "zone"),
    [
        ("2026-07-01T19:00:00+02:00", "Europe/Paris"),  # Paris's summer offset
        ("2026-12-05T19:00:00.123+01:00", "Europe/Paris"),
        ("2026-12-05T18:00:00Z", "Europe/Paris"),  # UTC notation: no local offset known
        ("2026-12-05T19:00:00", "Europe/Paris"),  # naive: read in the default zone
        ("2026-07-01T19:00:00+01:00", "Etc/GMT-1"),  # not Paris in July
        ("2026-07-01T19:00:00-05:00", "Etc/GMT+5"),
        ("2026-07-01T19:00:00+05:30", "UTC"),  # no whole hour: no fixed Etc zone
    ],
)
def test_time_zone_from_the_offset(start: str, zone: str) -> None:
    event = _timed(start)
    assert event.timezone == zone
    local = event.starts_at.astimezone(ZoneInfo(zone))
    assert local.hour == (19 if zone != "UTC" else 13)


def test_declared_time_zone_wins_and_a_bad_one_is_ignored() -> None:
    assert _timed("2026-07-01T19:00:00-04:00", timezone="America/Toronto").timezone == (
        "America/Toronto"
    )
    assert _timed("2026-07-01T19:00:00+02:00", timezone="Mars/Olympus").timezone == "Europe/Paris"


def test_default_time_zone_is_a_parameter() -> None:
    document = load("gancio_create_event_utc.json")["object"]
    event = parse_event(document, default_timezone="America/Martinique")
    assert event.timezone == "America/Martinique"
    with pytest.raises(ValueError) as raised:
        parse_event(document, default_timezone="Nowhere/City")
    assert not isinstance(raised.value, ParseError)  # our configuration, not the peer


@pytest.mark.parametrize(
    "end", [None, "not a date", "2026-12-05T17:00:00+01:00", "9999-12-31T23:59:59-05:00"]
)
def test_missing_or_bad_end_is_one_hour_after_start(end: str | None) -> None:
    event = _timed("2026-12-05T19:00:00+01:00", endTime=end)
    assert event.ends_at - event.starts_at == timedelta(hours=1)
    assert event.end_inferred is True


def test_end_is_at_most_a_year_after_start() -> None:
    event = _timed("2026-12-05T19:00:00+01:00", endTime="2030-01-01T00:00:00+01:00")
    assert event.ends_at - event.starts_at == timedelta(days=366)
    assert event.end_inferred is False


@pytest.mark.parametrize(
    "start", [None, "", "soon", "1969-12-31T23:00:00Z", "9999-12-31T23:59:59-05:00", 1733421600]
)
def test_unusable_start_is_a_parse_error(start: Any) -> None:
    with pytest.raises(ParseError):
        _timed(start)


# --- text -------------------------------------------------------------------------------


def test_markdown_content_is_treated_as_text() -> None:
    document = load("gancio_create_event.json")["object"]
    document.update(mediaType="text/markdown", content="**Gras** <script>x</script>\n\nFin")
    event = parse_event(document)
    assert event.description == "<p>**Gras** &lt;script&gt;x&lt;/script&gt;</p><p>Fin</p>"


def test_language_maps_prefer_french_then_english() -> None:
    document = load("gancio_create_event.json")["object"]
    del document["name"], document["content"]
    document["nameMap"] = {"en": "Concert", "fr-FR": "Concert solidaire", "de": "Konzert"}
    document["contentMap"] = {"de": "<p>Hallo</p>", "en": "<p>Hello</p>"}
    event = parse_event(document)
    assert (event.name, event.description) == ("Concert solidaire", "<p>Hello</p>")
    document["contentMap"] = {"de": "<p>Hallo</p>"}
    assert parse_event(document).description == "<p>Hallo</p>"


def test_name_falls_back_to_the_summary_first_line() -> None:
    document = load("gancio_create_event.json")["object"]
    del document["name"]
    document["summary"] = "<p>📍 Halle aux Sucres<br>📅 samedi</p>"
    assert parse_event(document).name == "📍 Halle aux Sucres"
    del document["summary"]
    with pytest.raises(ParseError):
        parse_event(document)


def test_huge_and_dirty_values_are_cut_or_dropped() -> None:
    document = load("mobilizon_create_event.json")["object"]
    long_url = "https://visio.example/" + "x" * 600
    document["name"] = "A\x00B\x07C " + "n" * 10_000
    document["content"] = "<p>" + "é" * 50_000 + "</p>"
    document["attachment"] = [{"type": "Link", "name": "Website", "href": long_url}]
    document["location"]["address"]["streetAddress"] = "s" * 5_000
    document["location"]["address"]["postalCode"] = "59000<script>"
    document["location"]["latitude"] = 123.0  # out of range: both coordinates dropped
    document["tag"] = [{"type": "Hashtag", "name": "#" + "t" * 5_000}] + [
        {"type": "Hashtag", "name": f"#tag{n}"} for n in range(100)
    ]
    document["maximumAttendeeCapacity"] = 10**9
    event = parse_event(document)
    assert event.name.startswith("ABC n") and len(event.name) == 200
    assert len(event.description) <= 20_000 and event.description.startswith("<p>éé")
    assert event.online_url is None
    assert event.place is not None
    assert event.place.street is not None and len(event.place.street) == 300
    assert event.place.postal_code is None
    assert (event.place.latitude, event.place.longitude) == (None, None)
    assert len(event.tags) == 30
    assert event.capacity is None


def test_an_id_too_long_is_a_parse_error() -> None:
    document = load("mobilizon_create_event.json")["object"]
    document["id"] = "https://mobilizon.example/" + "x" * 500
    with pytest.raises(ParseError):
        parse_event(document)


# --- our events on the wire --------------------------------------------------------------


def test_event_shape() -> None:
    document = outgoing(place=make_place(latitude=50, longitude=3))
    assert document["type"] == "Event"
    assert document["id"] == document["url"] == EVENT_ID
    assert document["startTime"] == "2026-12-05T19:00:00+01:00"
    assert document["endTime"] == "2026-12-05T21:00:00+01:00"
    assert document["timezone"] == "Europe/Paris"
    assert document["mediaType"] == "text/html"
    assert document["status"] == "CONFIRMED"
    assert document["category"] == document["category"].upper() == "COMMUNITY"
    location = document["location"]
    assert isinstance(location, dict)  # one Place, never an array
    assert location["type"] == "Place"
    assert location["id"].startswith(f"{EVENT_ID}#place-")
    assert location["address"] == {
        "type": "PostalAddress",
        "streetAddress": "72 rue Royale",
        "postalCode": "59000",
        "addressLocality": "Lille",
        "addressCountry": "France",
    }
    assert isinstance(location["latitude"], float) and isinstance(location["longitude"], float)
    assert {
        "type": "Link",
        "mediaType": "text/html",
        "name": "Website",
        "href": "https://visio.example/atelier",
    } in document["attachment"]
    assert document["isOnline"] is False
    assert (document["maximumAttendeeCapacity"], document["remainingAttendeeCapacity"]) == (20, 15)
    assert document["participantCount"] == 5
    assert document["joinMode"] == "restricted"
    assert document["attributedTo"] == ORG
    assert document["to"] == [AS_PUBLIC]
    assert document["cc"] == [f"{ORG}/followers", f"{CO_ORG}/followers"]
    assert (document["commentsEnabled"], document["anonymousParticipationEnabled"]) == (
        False,
        False,
    )
    assert document["published"] == "2026-11-01T09:00:00Z"
    assert document["updated"] == "2026-11-02T10:30:00Z"
    assert {tag["name"] for tag in document["tag"]} == {
        "#velo_cargo",
        "#reparation",
        "#mobility",
        "#sharing",
    }
    assert {"type": "Hashtag", "name": "#velo_cargo", "href": f"{BASE}/tags/velo-cargo"} in (
        document["tag"]
    )
    hosts = {host_of(document[key]) for key in ("id", "url", "attributedTo")}
    assert hosts == {"lille.maillon.example"}
    json.dumps(document)  # serialisable as is


def test_summary_is_one_line_with_date_time_zone_and_place() -> None:
    place = make_place(name="Maison\ndes associations")
    summary = outgoing(place=place)["summary"]
    assert "\n" not in summary
    assert summary == (
        "samedi 5 décembre 2026 19:00–21:00 (Europe/Paris, UTC+01:00)"
        " · Maison des associations, Lille"
    )


@pytest.mark.parametrize(
    ("changes", "place", "language", "expected"),
    [
        ({}, None, "fr", "samedi 5 décembre 2026 19:00–21:00 (Europe/Paris, UTC+01:00) · en ligne"),
        (
            {
                "status": "cancelled",
                "online_url": None,
                "starts_at": utc(2026, 6, 30, 20),
                "ends_at": utc(2026, 7, 1, 1),
            },
            make_place(name=None),
            "fr",
            "Annulé · mardi 30 juin 2026 22:00–mercredi 1er juillet 2026 03:00"
            " (Europe/Paris, UTC+02:00) · Lille",
        ),
        (
            {"status": "tentative", "timezone": "UTC"},
            None,
            "en",
            "To be confirmed · Saturday 5 December 2026 18:00–20:00 (UTC) · online",
        ),
    ],
)
def test_summary_variants(
    changes: dict[str, Any], place: Place | None, language: str, expected: str
) -> None:
    assert summary_line(make_event(**changes), place, language=language) == expected


def test_remaining_capacity_is_never_negative_and_absent_without_capacity() -> None:
    assert outgoing(participant_count=30)["remainingAttendeeCapacity"] == 0
    document = outgoing(make_event(capacity=None))
    assert "maximumAttendeeCapacity" not in document
    assert "remainingAttendeeCapacity" not in document


def test_online_only_event() -> None:
    document = outgoing(make_event(), place=None)
    assert "location" not in document
    assert document["isOnline"] is True


#: Mobilizon's built-in categories (lib/mobilizon/events/categories.ex) and FEP-8a8e's list.
MOBILIZON_CATEGORIES = {
    *("ARTS", "BOOK_CLUBS", "BUSINESS", "CAUSES", "COMEDY", "CRAFTS", "FOOD_DRINK"),
    *("HEALTH", "MUSIC", "AUTO_BOAT_AIR", "COMMUNITY", "FAMILY_EDUCATION", "FASHION_BEAUTY"),
    *("FILM_MEDIA", "GAMES", "LANGUAGE_CULTURE", "LEARNING", "LGBTQ", "MOVEMENTS_POLITICS"),
    *("NETWORKING", "PARTY", "PERFORMING_VISUAL_ARTS", "PETS", "PHOTOGRAPHY"),
    *("OUTDOORS_ADVENTURE", "SPIRITUALITY_RELIGION_BELIEFS", "SCIENCE_TECH", "SPORTS"),
    *("THEATRE", "MEETING"),
}
FEP_CATEGORIES = (MOBILIZON_CATEGORIES - {"HEALTH"}) | {
    *("CLIMATE_ENVIRONMENT", "CREATIVE_JAM", "DIY_MAKER_SPACES", "FESTIVALS"),
    *("INCLUSIVE_SPACES", "MEDITATION_WELLBEING", "WORKSHOPS_SKILL_SHARING"),
}


def test_category_mapping() -> None:
    assert set(THEME_CATEGORIES) == set(THEMES)
    sent = set(THEME_CATEGORIES.values()) | {"MEETING"}
    assert sent <= MOBILIZON_CATEGORIES
    assert sent - FEP_CATEGORIES == {"HEALTH"}  # no health category is in both lists
    assert set(CATEGORY_THEMES) <= MOBILIZON_CATEGORIES | FEP_CATEGORIES
    assert set(CATEGORY_THEMES.values()) <= set(THEMES)
    assert outgoing(make_event(themes=["culture", "food"]))["category"] == "ARTS"
    assert outgoing(make_event(themes=[]))["category"] == "MEETING"


def test_an_event_needs_an_organiser() -> None:
    with pytest.raises(ValueError):
        outgoing(organisers=[])


ROUND_TRIPS = [
    pytest.param({}, make_place(), id="place-and-online"),
    pytest.param({"online_url": None, "capacity": None, "themes": []}, make_place(), id="place"),
    pytest.param({"join_mode": "free", "status": "cancelled"}, None, id="online-cancelled"),
    pytest.param(
        {
            "join_mode": "external",
            "external_participation_url": "https://billets.example/e/1",
            "timezone": "America/Martinique",
            "themes": ["energy", "solidarity", "social-economy"],
            "tags": [],
            "status": "tentative",
        },
        make_place(name=None, latitude=None, longitude=None, country=None),
        id="external-martinique",
    ),
]


@pytest.mark.parametrize(("changes", "place"), ROUND_TRIPS)
def test_round_trip(changes: dict[str, Any], place: Place | None) -> None:
    event = make_event(**changes)
    parsed = parse_event(json.loads(json.dumps(outgoing(event, place=place))))
    assert parsed.ap_id == parsed.url == event.ap_id
    assert (parsed.name, parsed.description) == (event.name, event.description)
    assert (parsed.starts_at, parsed.ends_at, parsed.end_inferred) == (
        event.starts_at,
        event.ends_at,
        False,
    )
    assert parsed.timezone == event.timezone
    assert parsed.online_url == event.online_url
    assert parsed.capacity == event.capacity
    assert parsed.join_mode == event.join_mode
    assert parsed.external_participation_url == event.external_participation_url
    assert parsed.status == event.status
    assert list(parsed.themes) == event.themes
    assert list(parsed.tags) == event.tags
    assert parsed.attributed_to == (ORG,)
    assert (parsed.published, parsed.updated) == (event.created, event.updated)
    if place is None:
        assert parsed.place is None
    else:
        assert parsed.place is not None
        assert (parsed.place.name, parsed.place.street, parsed.place.postal_code) == (
            place.name,
            place.street,
            place.postal_code,
        )
        assert (parsed.place.city, parsed.place.country) == (place.city, place.country)
        assert (parsed.place.latitude, parsed.place.longitude) == (place.latitude, place.longitude)


def test_urls_derive_from_the_id_under_a_path_prefix() -> None:
    event = make_event(ap_id="https://h.example/lille/events/e1", online_url=None)
    document = outgoing(
        event, place=make_place(), organisers=["https://h.example/lille/organisations/o"]
    )
    assert document["tag"][0]["href"] == "https://h.example/lille/tags/velo-cargo"
    assert document["location"]["id"].startswith("https://h.example/lille/events/e1#place-")
    assert document["cc"] == ["https://h.example/lille/organisations/o/followers"]


def test_a_moved_place_gets_a_new_id() -> None:
    before = outgoing(place=make_place())["location"]["id"]
    assert outgoing(place=make_place())["location"]["id"] == before
    assert outgoing(place=make_place(street="1 place du Théâtre"))["location"]["id"] != before


# --- actors -----------------------------------------------------------------------------

URLS = ActorUrls.under(ORG, shared_inbox=f"{BASE}/inbox", upcoming_events=True)


def test_group_actor() -> None:
    document = group_actor(
        make_org(), place=make_place(), public_key_pem=PEM, kind="organisation", urls=URLS
    )
    assert (document["type"], document["id"], document["url"]) == ("Group", ORG, ORG)
    assert document["preferredUsername"] == "velo-lille"
    assert document["publicKey"] == {"id": f"{ORG}#main-key", "owner": ORG, "publicKeyPem": PEM}
    assert document["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert document["inbox"] == f"{ORG}/inbox"
    assert document["followers"] == f"{ORG}/followers"
    assert document["upcomingEvents"] == f"{ORG}/upcoming-events"
    assert (document["manuallyApprovesFollowers"], document["discoverable"]) == (False, True)
    assert document["indexable"] is True
    assert document["summary"] == "<p>Pour le vélo</p>"
    assert document["icon"] == {"type": "Image", "url": "https://velo-lille.example/logo.png"}
    assert document["attachment"][0]["type"] == "PropertyValue"
    assert "&lt;2&gt;" in document["attachment"][0]["value"]  # escaped in the HTML value
    assert document["location"]["type"] == "Place"
    assert [t["name"] for t in document["tag"]] == ["#velo", "#mobility"]
    assert "@context" in document
    parsed = parse_actor(json.loads(json.dumps(document)))
    assert isinstance(parsed, RemoteActor)
    assert (parsed.username, parsed.inbox, parsed.shared_inbox) == (
        "velo-lille",
        f"{ORG}/inbox",
        f"{BASE}/inbox",
    )
    assert (parsed.public_key_id, parsed.public_key_pem) == (f"{ORG}#main-key", PEM)
    assert parsed.upcoming_events == f"{ORG}/upcoming-events"


def test_project_actor_needs_a_username() -> None:
    project = Project(ap_id=f"{BASE}/projects/p1", name="Jardin", organisation_id="o1")
    urls = ActorUrls.under(project.ap_id)
    document = group_actor(
        project, place=None, public_key_pem=PEM, kind="project", urls=urls, username="jardin"
    )
    assert (document["preferredUsername"], document["type"]) == ("jardin", "Group")
    assert "endpoints" not in document and "upcomingEvents" not in document
    with pytest.raises(ValueError):
        group_actor(project, place=None, public_key_pem=PEM, kind="project", urls=urls)
    with pytest.raises(ValueError):
        group_actor(project, place=None, public_key_pem=PEM, kind="organisation", urls=urls)


def test_person_and_application_actors() -> None:
    person = Person(
        ap_id=f"{BASE}/people/u1", username="camille", name="Camille", bio="<b>moi</b>\nici"
    )
    document = person_actor(person, public_key_pem=PEM, urls=ActorUrls.under(person.ap_id))
    assert (document["type"], document["preferredUsername"]) == ("Person", "camille")
    assert document["summary"] == "<p>&lt;b&gt;moi&lt;/b&gt;<br>ici</p>"
    assert document["discoverable"] is False  # no public profile
    assert document["publicKey"]["id"] == f"{BASE}/people/u1#main-key"
    node = application_actor(
        id=f"{BASE}/actor",
        name="Maillon Lille",
        public_key_pem=PEM,
        urls=ActorUrls.under(f"{BASE}/actor", shared_inbox=f"{BASE}/inbox"),
    )
    assert (node["type"], node["preferredUsername"], node["url"]) == ("Application", "relay", BASE)
    assert node["publicKey"]["owner"] == f"{BASE}/actor"
    prefixed = application_actor(
        id="https://h.example/lille/actor",
        name="Maillon",
        public_key_pem=PEM,
        urls=ActorUrls.under("https://h.example/lille/actor"),
    )
    assert prefixed["url"] == "https://h.example/lille"


# --- tombstones and activities ----------------------------------------------------------


def test_tombstone_and_delete() -> None:
    gone = tombstone(EVENT_ID, "Event", utc(2026, 12, 1, 8))
    assert gone["type"] == "Tombstone"
    assert (gone["formerType"], gone["deleted"]) == ("Event", "2026-12-01T08:00:00Z")
    delete = activity(
        "Delete",
        id=f"{EVENT_ID}#delete",
        actor=ORG,
        object=gone,
        to=[AS_PUBLIC],
        cc=[],
        published=utc(2026, 12, 1, 8),
    )
    assert "@context" in delete and "@context" not in delete["object"]
    assert "@context" in gone  # the original is not changed
    assert parse_tombstone(delete["object"]) == (EVENT_ID, "Event")


def test_activity_and_update_id() -> None:
    moment = datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=UTC)
    update = activity(
        "Update",
        id=update_id(EVENT_ID, moment),
        actor=ORG,
        object=EVENT_ID,
        to=(AS_PUBLIC,),
        cc=[f"{ORG}/followers"],
        published=moment,
    )
    assert update["id"] == f"{EVENT_ID}#update-1796112000123"
    assert (update["object"], update["to"], update["published"]) == (
        EVENT_ID,
        [AS_PUBLIC],
        "2026-12-01T08:00:00Z",
    )
    assert update_id(EVENT_ID, moment.replace(tzinfo=None)) == update["id"]
    assert update_id(EVENT_ID, moment + timedelta(milliseconds=1)) != update["id"]


# --- the envelope -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Mobilizon.Example/@x", "mobilizon.example"),
        ("https://h.example:443/a", "h.example"),
        ("http://h.example:80/a", "h.example"),
        ("https://h.example:8443/a", "h.example:8443"),
        ("http://127.0.0.1:8001/a?b=1", "127.0.0.1:8001"),
        ("http://[::1]:8080/", "[::1]:8080"),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize("url", ["not a url", "", "http://h.example:99999/", "mailto:a@b.example"])
def test_host_of_refuses(url: str) -> None:
    with pytest.raises(ValueError):
        host_of(url)


def test_object_id_and_type() -> None:
    assert object_id(MZ_EVENT) == MZ_EVENT
    assert object_id({"id": MZ_EVENT, "type": "Event"}) == MZ_EVENT
    assert object_id([MZ_EVENT]) == MZ_EVENT
    assert object_type({"id": MZ_EVENT, "type": ["Event", "sc:Event"]}) == "Event"
    assert object_type(MZ_EVENT) is None
    for bad in (
        None,
        42,
        "",
        "ftp://h.example/x",
        {"id": 5},
        {"type": "Event"},
        [],
        [1, 2],
        "https://h.example/" + "x" * 600,
        "https://h.example/a b",
    ):
        with pytest.raises(ParseError):
            object_id(bad)


def test_unwrap_announce_refuses_what_it_cannot_use() -> None:
    nested: dict[str, Any] = {"type": "Announce", "object": MZ_EVENT}
    for _ in range(20):
        nested = {"type": "Announce", "id": "https://r.example/a", "object": nested}
    for bad in (
        nested,
        {"type": "Create", "object": MZ_EVENT},
        {"type": "Announce"},
        {"type": "Announce", "object": 5},
        {"type": "Announce", "object": {"type": "Note"}},
        "https://r.example/a",
        None,
    ):
        with pytest.raises(ParseError):
            unwrap_announce(bad)


# --- robustness -------------------------------------------------------------------------

WEIRD: list[Any] = [
    None,
    42,
    -1,
    3.5,
    float("nan"),
    True,
    "",
    " ",
    "x" * 100_000,
    "\x00\x07",
    [],
    {},
    [None],
    [{}],
    {"id": 5},
    {"type": "Place"},
    ["a", 1, None, {"href": 2}],
    "9999-99-99",
]
EVENT_FIXTURES = [
    load("mobilizon_create_event.json")["object"],
    load("mobilizon_online_event.json")["object"],
    load("gancio_create_event.json")["object"],
    load("gancio_create_event_utc.json")["object"],
    load("fep8a8e_hybrid_event.json"),
]


def _mutations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document with each key (and each key of its place) removed or replaced."""
    variants = []
    for key in document:
        removed = copy.deepcopy(document)
        del removed[key]
        variants.append(removed)
        for value in WEIRD:
            changed = copy.deepcopy(document)
            changed[key] = value
            variants.append(changed)
    location = document.get("location")
    place = location[0] if isinstance(location, list) else location
    if isinstance(place, dict):
        for key in [*place, "address"]:
            for value in WEIRD[:12]:
                changed = copy.deepcopy(document)
                target = changed["location"]
                (target[0] if isinstance(target, list) else target)[key] = value
                variants.append(changed)
    return variants


def _sane(event: RemoteEvent) -> None:
    assert 0 < len(event.name) <= 200 and "\x00" not in event.name
    assert len(event.description) <= 20_000
    assert event.starts_at.tzinfo is not None and event.starts_at < event.ends_at
    assert event.ends_at - event.starts_at <= timedelta(days=366)
    ZoneInfo(event.timezone)
    for link in (
        event.url,
        event.online_url,
        event.external_participation_url,
        event.image_url,
        *event.attributed_to,
    ):
        assert link is None or (len(link) <= 500 and re.match(r"https?://", link))
    assert event.join_mode in ("free", "restricted", "external")
    assert event.status in ("confirmed", "tentative", "cancelled")
    assert set(event.themes) <= set(THEMES) and len(event.tags) <= 30
    assert event.capacity is None or 1 <= event.capacity <= 1_000_000
    if event.place is not None:
        lat, lon = event.place.latitude, event.place.longitude
        assert (lat is None) == (lon is None)
        assert lat is None or isinstance(lat, float)


@pytest.mark.parametrize("index", range(len(EVENT_FIXTURES)))
def test_mutated_events_parse_or_fail_cleanly(index: int) -> None:
    for variant in _mutations(EVENT_FIXTURES[index]):
        try:
            event = parse_event(variant)
        except ParseError:
            continue
        _sane(event)


@pytest.mark.parametrize(
    "name", ["mastodon_person.json", "mobilizon_group.json", "gancio_application_actor.json"]
)
def test_mutated_actors_parse_or_fail_cleanly(name: str) -> None:
    for variant in _mutations(load(name)):
        try:
            actor = parse_actor(variant)
        except ParseError:
            continue
        assert actor.inbox.startswith("http") and len(actor.name) <= 200
        assert actor.public_key_pem is None or actor.public_key_pem.startswith("-----BEGIN")


@pytest.mark.parametrize(
    "name",
    [
        "announce_create_event.json",
        "announce_id_only.json",
        "mobilizon_delete_tombstone.json",
        "mobilizon_delete_event.json",
        "mastodon_follow.json",
        "mobilizon_join.json",
    ],
)
def test_mutated_activities_parse_or_fail_cleanly(name: str) -> None:
    document = load(name)
    inner = document["object"]
    for variant in [document, *_mutations(document)]:
        for reader in (unwrap_announce, object_id, object_type):
            with contextlib.suppress(ParseError):
                reader(variant)
    for variant in [inner, *(_mutations(inner) if isinstance(inner, dict) else [])]:
        with contextlib.suppress(ParseError):
            parse_tombstone(variant)


@pytest.mark.parametrize("value", WEIRD)
def test_anything_given_as_a_whole_document(value: Any) -> None:
    for reader in (parse_event, parse_actor, parse_tombstone, unwrap_announce):
        with pytest.raises(ParseError):
            reader(value)
