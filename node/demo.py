"""Load the demo territory (``node/demo_data.py``) into a node, through the domain services.

Nothing is written around the write path: accounts, organisations, projects, events,
participations and follows are created by the same services the API calls, from inputs
validated by the same schemas, so the demo has its outbox activities and its index jobs
like any other content. Everything is loaded in one transaction: a node has the whole
demo or none of it, and the Territory row (written first: its slug is unique, so a
concurrent loader waits, then finds it) says which.

Every demo person (and the node admin, ``admin@demo.maillon.example``) signs in with the
password :data:`DEMO_PASSWORD`.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from node.demo_data import (
    EVENTS,
    ORGANISATIONS,
    PEOPLE,
    PROJECTS,
    TERRITORY,
    EventData,
    OrganisationData,
    PersonData,
    ProjectData,
)
from node.models import Event, EventStatus, JoinMode, Organisation, Person, Territory
from node.runtime import Runtime
from node.schemas import AccountIn, EventIn, OrganisationIn, ProjectIn
from node.services import accounts, events, organisations, projects
from node.services.context import NodeContext

#: The password of every demo account (printed by ``maillon serve --demo``).
DEMO_PASSWORD = "maillon-demo"
#: The demo's node administrator (``Person.is_admin``): may edit every organisation.
ADMIN_EMAIL = "admin@demo.maillon.example"
ADMIN_NAME = "Administration de la démo"

Progress = Callable[[str, int, int], None]

#: Phases reported to ``progress``, in order.
PHASES = ("people", "organisations", "projects", "events", "participations", "follows")


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What :func:`load_demo` did."""

    loaded: bool  # False: the territory was already there, nothing was written
    territory: str
    people: int = 0
    organisations: int = 0
    projects: int = 0
    events: int = 0
    participations: int = 0
    follows: int = 0
    seconds: float = 0.0
    admin_email: str = ADMIN_EMAIL
    password: str = DEMO_PASSWORD

    def describe(self) -> str:
        if not self.loaded:
            return f"demo territory « {self.territory} » already loaded: nothing to do"
        return (
            f"demo territory « {self.territory} » loaded in {self.seconds:.1f} s: "
            f"{self.people} people, {self.organisations} organisations, "
            f"{self.projects} projects, {self.events} events, "
            f"{self.participations} participations, {self.follows} follows"
        )


def has_demo(session: Session) -> bool:
    """Whether the demo territory is in this database."""
    found = session.scalar(
        select(col(Territory.id)).where(col(Territory.slug) == TERRITORY["slug"])
    )
    return found is not None


def load_demo(
    runtime: Runtime,
    *,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Load the demo territory unless it is there already (then nothing is written).

    Event dates are ``today + day_offset`` (today in the territory's time zone by default)
    at the local ``start`` time; ``progress(phase, done, total)`` is called as it goes.
    """
    started = clock.monotonic()
    name = TERRITORY["name"]
    with runtime.transaction() as session:
        if has_demo(session):
            return DemoSummary(loaded=False, territory=name)
    zone = ZoneInfo(TERRITORY["timezone"])
    day = today or datetime.now(zone).date()
    report: Progress = progress or _silent
    try:
        with runtime.transaction() as session:
            loader = _Loader(session, runtime.context, day, zone, report)
            loader.run()
    except IntegrityError:
        # Another process loaded it at the same time (the territory slug is unique).
        with runtime.transaction() as session:
            if has_demo(session):
                return DemoSummary(loaded=False, territory=name)
        raise
    return DemoSummary(
        loaded=True,
        territory=name,
        people=len(loader.people) + 1,
        organisations=len(loader.organisations),
        projects=loader.projects,
        events=len(loader.events),
        participations=loader.participations,
        follows=loader.follows,
        seconds=clock.monotonic() - started,
    )


def _silent(phase: str, done: int, total: int) -> None:
    return None


def event_times(record: EventData, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local start and end of a demo event loaded on ``day``."""
    local = datetime.combine(
        day + timedelta(days=record["day_offset"]), time.fromisoformat(record["start"]), zone
    )
    # Add the duration in absolute time: an event across a DST change lasts what it says.
    ends = (local.astimezone(UTC) + timedelta(minutes=record["duration_minutes"])).astimezone(zone)
    return local, ends


class _Loader:
    def __init__(
        self, session: Session, node: NodeContext, day: date, zone: ZoneInfo, progress: Progress
    ) -> None:
        self.session = session
        self.node = node
        self.day = day
        self.zone = zone
        self.progress = progress
        self.people: dict[str, Person] = {}
        self.organisations: dict[str, Organisation] = {}
        self.admins: dict[str, Person] = {}  # organisation id → its demo admin
        self.events: list[tuple[EventData, Event]] = []
        self.projects = 0
        self.participations = 0
        self.follows = 0

    def run(self) -> None:
        self._territory()
        admin = self._people()
        self._organisations()
        self.projects = self._projects()
        self._events(admin)
        self.participations = self._participations()
        self.follows = self._follows()

    def _steps(self, phase: str, items: Sequence[Any]) -> Iterator[Any]:
        total = len(items)
        self.progress(phase, 0, total)
        for done, item in enumerate(items, start=1):
            yield item
            self.progress(phase, done, total)

    def _people(self) -> Person:
        admin_record: PersonData = {"key": "admin", "name": ADMIN_NAME, "email": ADMIN_EMAIL}
        admin: Person | None = None
        for record in self._steps("people", [admin_record, *PEOPLE]):
            data = AccountIn(email=record["email"], password=DEMO_PASSWORD, name=record["name"])
            person = accounts.register(self.session, self.node, data)
            if record is admin_record:
                person.is_admin = True
                admin = person
            else:
                self.people[record["key"]] = person
        assert admin is not None
        return admin

    def _organisations(self) -> None:
        record: OrganisationData
        for record in self._steps("organisations", ORGANISATIONS):
            fields = {k: v for k, v in record.items() if k not in ("key", "admin")}
            data = OrganisationIn.model_validate(fields)
            actor = self.people[record["admin"]]
            org = organisations.create_organisation(self.session, self.node, actor, data)
            self.organisations[record["key"]] = org
            self.admins[org.id] = actor

    def _projects(self) -> int:
        record: ProjectData
        for record in self._steps("projects", PROJECTS):
            org = self.organisations[record["organisation"]]
            fields = {k: v for k, v in record.items() if k != "organisation"}
            data = ProjectIn.model_validate(fields | {"organisation_id": org.id})
            projects.create_project(self.session, self.node, self._admin_of(org), data)
        return len(PROJECTS)

    def _events(self, node_admin: Person) -> None:
        record: EventData
        for record in self._steps("events", EVENTS):
            org = self.organisations[record["organisation"]]
            partners = [self.organisations[k] for k in record.get("co_organisers", [])]
            starts_at, ends_at = event_times(record, self.day, self.zone)
            skipped = ("organisation", "co_organisers", "day_offset", "start", "duration_minutes")
            fields = {k: v for k, v in record.items() if k not in skipped}
            data = EventIn.model_validate(
                fields
                | {
                    "organisation_id": org.id,
                    "co_organiser_ids": [p.id for p in partners],
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "timezone": TERRITORY["timezone"],
                }
            )
            # Co-organising needs the rights of an admin of every organiser: the main
            # organiser's admin when they hold them all, the node admin otherwise.
            actor = self._admin_of(org)
            if any(self._admin_of(p) is not actor for p in partners):
                actor = node_admin
            event = events.create_event(self.session, self.node, actor, data)
            self.events.append((record, event))

    def _participations(self) -> int:
        """People register for upcoming events (1 to 3 each, spread deterministically)."""
        now = datetime.now(UTC)
        open_events = [
            event
            for _, event in self.events
            if event.join_mode != JoinMode.external
            and event.status != EventStatus.cancelled
            and event.ends_at > now
            and event.starts_at > now
        ]
        people = list(self.people.values())
        pairs = [
            (people[(index * 3 + k) % len(people)], event)
            for index, event in enumerate(open_events)
            for k in range(1 + index % 3)
        ]
        for person, event in self._steps("participations", pairs):
            events.join_event(self.session, person, event.id)
        return len(pairs)

    def _follows(self) -> int:
        """Each person follows three organisations (spread deterministically)."""
        orgs = list(self.organisations.values())
        pairs = [
            (person, orgs[(index * 2 + k) % len(orgs)])
            for index, person in enumerate(self.people.values())
            for k in range(3)
        ]
        for person, org in self._steps("follows", pairs):
            organisations.follow(self.session, person, org)
        return len(pairs)

    def _territory(self) -> None:
        min_lat, min_lon, max_lat, max_lon = TERRITORY["bbox"]
        self.session.add(
            Territory(
                name=TERRITORY["name"],
                slug=TERRITORY["slug"],
                timezone=TERRITORY["timezone"],
                default_language=TERRITORY["default_language"],
                min_lat=min_lat,
                min_lon=min_lon,
                max_lat=max_lat,
                max_lon=max_lon,
                communes=list(TERRITORY["communes"]),
            )
        )
        self.session.flush()

    def _admin_of(self, org: Organisation) -> Person:
        return self.admins[org.id]
