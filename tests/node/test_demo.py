"""Loading the demo territory (node/demo.py) through the domain services."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.demo import ADMIN_EMAIL, DEMO_PASSWORD, PHASES, load_demo
from node.demo_data import EVENTS, ORGANISATIONS, PEOPLE, PROJECTS, TERRITORY
from node.models import (
    Activity,
    Event,
    Follow,
    Job,
    Organisation,
    Participation,
    Person,
    Project,
    Territory,
)
from node.runtime import Runtime
from node.services import accounts

PARIS = ZoneInfo("Europe/Paris")


def _count(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_demo_loads_through_the_write_path(runtime: Runtime, client: TestClient) -> None:
    seen: list[tuple[str, int, int]] = []
    summary = load_demo(
        runtime, progress=lambda phase, done, total: seen.append((phase, done, total))
    )

    assert summary.loaded
    assert summary.organisations == len(ORGANISATIONS) >= 12
    assert summary.events == len(EVENTS)
    assert summary.projects == len(PROJECTS)
    assert summary.people == len(PEOPLE) + 1  # and the node admin
    assert summary.participations > 0 and summary.follows > 0
    finished = [(phase, done) for phase, done, total in seen if done == total]
    assert [phase for phase, _ in finished] == list(PHASES)
    assert all(0 <= done <= total for _, done, total in seen)

    with runtime.transaction() as session:
        territory = session.scalar(select(Territory))
        assert territory is not None
        assert (territory.name, territory.slug) == (TERRITORY["name"], TERRITORY["slug"])
        assert territory.timezone == "Europe/Paris"
        assert (territory.min_lat, territory.min_lon, territory.max_lat, territory.max_lon) == (
            TERRITORY["bbox"]
        )
        assert "59350" in territory.communes

        # The one write path: an outbox activity and an index job per object created.
        created = Counter(
            session.scalars(select(col(Activity.object_type)).where(col(Activity.type) == "Create"))
        )
        assert created == {
            "organisation": len(ORGANISATIONS),
            "event": len(EVENTS),
            "project": len(PROJECTS),
        }
        index_jobs = list(session.scalars(select(Job).where(col(Job.kind) == "index")))
        assert len(index_jobs) == len(ORGANISATIONS) + len(EVENTS) + len(PROJECTS)
        assert {job.payload["type"] for job in index_jobs} == {"organisation", "event", "project"}
        assert _count(session, Participation) == summary.participations
        assert _count(session, Follow) == summary.follows
        admin = session.scalar(select(Person).where(col(Person.email) == ADMIN_EMAIL))
        assert admin is not None and admin.is_admin
        assert session.scalar(select(func.count()).where(col(Person.is_admin))) == 1

    # Everyone signs in with the documented password.
    for email in (ADMIN_EMAIL, PEOPLE[0]["email"]):
        answer = client.post("/api/v1/tokens", json={"email": email, "password": DEMO_PASSWORD})
        assert answer.status_code == 201, answer.text

    organisations = client.get("/api/v1/organisations", params={"limit": 200})
    assert organisations.status_code == 200, organisations.text
    assert len(organisations.json()["items"]) >= 12

    listed = client.get("/api/v1/events", params={"limit": 200})
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    horizon = datetime.now(UTC) + timedelta(days=61)
    upcoming = [e for e in items if datetime.fromisoformat(e["starts_at"]) <= horizon]
    assert len(upcoming) >= 30
    for event in items:
        assert event["place"] is not None or event["online_url"], event["name"]
        if event["place"] is not None:
            assert event["place"]["latitude"] is not None, event["name"]
            assert event["place"]["longitude"] is not None, event["name"]
    assert sum(1 for e in items if e["place"] is not None) >= 30

    # Co-organisers are there, in the order of the data.
    by_name = {e["name"]: e for e in items}
    names = {o["key"]: o["name"] for o in ORGANISATIONS}
    shared = [r for r in EVENTS if r.get("co_organisers") and r["name"] in by_name]
    assert shared
    for record in shared:
        organisers = [o["name"] for o in by_name[record["name"]]["organisers"]]
        expected = [names[record["organisation"]], *(names[k] for k in record["co_organisers"])]
        assert organisers == expected

    # Loading again does nothing.
    with runtime.transaction() as session:
        before = [_count(session, m) for m in (Activity, Job, Person, Event, Organisation)]
    again = load_demo(runtime)
    assert not again.loaded
    assert "already loaded" in again.describe()
    with runtime.transaction() as session:
        assert [_count(session, m) for m in (Activity, Job, Person, Event, Organisation)] == before
        assert _count(session, Territory) == 1


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: ten demo accounts hash in milliseconds."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.mark.usefixtures("cheap_hashing")
def test_event_times_follow_the_load_day_in_paris(runtime: Runtime) -> None:
    # The last Sunday of March 2031 is the 30th: the day Paris moves to summer time.
    today = date(2031, 3, 29)
    summary = load_demo(runtime, today=today)
    assert summary.loaded

    with runtime.transaction() as session:
        stored = {event.name: event for event in session.scalars(select(Event))}
        for record in EVENTS:
            event = stored[record["name"]]
            local = event.starts_at.astimezone(PARIS)
            assert local.date() == today + timedelta(days=record["day_offset"]), record["name"]
            assert local.strftime("%H:%M") == record["start"], record["name"]
            assert event.ends_at - event.starts_at == timedelta(minutes=record["duration_minutes"])
            assert event.timezone == "Europe/Paris"
        first = stored[min(EVENTS, key=lambda r: r["day_offset"])["name"]]
        assert first.starts_at.astimezone(PARIS).utcoffset() == timedelta(hours=1)
        later = [r for r in EVENTS if r["day_offset"] >= 2]
        assert stored[later[0]["name"]].starts_at.astimezone(PARIS).utcoffset() == timedelta(
            hours=2
        )
        projects = list(session.scalars(select(Project)))
        assert len(projects) == len(PROJECTS)


def test_the_territory_and_themes_are_served(runtime: Runtime, client: TestClient) -> None:
    assert client.get("/api/v1/territory").status_code == 404
    load_demo(runtime)
    territory = client.get("/api/v1/territory").json()
    assert territory["name"] == "Métropole lilloise"
    assert "59350" in territory["communes"]
    min_lat, min_lon, max_lat, max_lon = territory["bbox"]
    assert min_lat < 50.63 < max_lat and min_lon < 3.06 < max_lon
    themes = {t["id"]: t for t in client.get("/api/v1/themes").json()}
    assert themes["sharing"]["fr"] == "Mutualisation"
    assert len(themes) == 16
