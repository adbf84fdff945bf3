"""The node's search service: the configured backend, set up lazily, with the centre
of "near me": a distance order without a point centres on the caller's saved place
(``Person.place_id``) when they are signed in and have one, else on the territory's."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.models import Person, Place, Territory
from node.runtime import Runtime
from node.settings import Settings
from search.backend import SearchBackend
from search.embedded import EmbeddedBackend
from search.meili import MeiliBackend
from search.query import Point, SearchQuery, SearchResult, Sort


def embedded_path(settings: Settings) -> Path:
    """Where the embedded index lives: the setting, else beside a SQLite database."""
    if settings.search_path:
        return Path(settings.search_path)
    url = settings.database_url
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        database = Path(url.removeprefix("sqlite:///"))
        return database.with_name(f"{database.stem}.search.db")
    return Path("maillon-search.db")


def make_backend(settings: Settings) -> SearchBackend:
    if settings.search == "meilisearch":
        return MeiliBackend(settings.meili_url, settings.meili_key)
    return EmbeddedBackend(embedded_path(settings))


class SearchService:
    """Sets the backend up on first use (an engine down at start must not stop the node)."""

    def __init__(self, runtime: Runtime, backend: SearchBackend) -> None:
        self.runtime = runtime
        self.backend = backend
        self._ready = False
        self._lock = threading.Lock()
        self._centre: Point | None = None

    def ready(self) -> SearchBackend:
        """The backend, set up (raises SearchUnavailable while the engine is away)."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.backend.setup()
                    self._ready = True
        return self.backend

    def territory_centre(self) -> Point | None:
        if self._centre is None:
            with self.runtime.transaction() as session:
                territory = session.scalars(
                    select(Territory).order_by(col(Territory.created))
                ).first()
            if territory is not None and None not in (
                territory.min_lat,
                territory.min_lon,
                territory.max_lat,
                territory.max_lon,
            ):
                self._centre = Point(
                    ((territory.min_lat or 0.0) + (territory.max_lat or 0.0)) / 2,
                    ((territory.min_lon or 0.0) + (territory.max_lon or 0.0)) / 2,
                )
        return self._centre

    @staticmethod
    def saved_place(session: Session, person: Person | None) -> Point | None:
        """The person's saved place, when it has coordinates."""
        if person is None or person.place_id is None:
            return None
        row = session.execute(
            select(col(Place.latitude), col(Place.longitude)).where(
                col(Place.id) == person.place_id
            )
        ).first()
        if row is None or row[0] is None or row[1] is None:
            return None
        return Point(float(row[0]), float(row[1]))

    def default_centre(self, saved_place: Point | None = None) -> Point | None:
        """Where "near me" is without a point: the saved place, else the territory's centre."""
        return saved_place if saved_place is not None else self.territory_centre()

    def search(self, query: SearchQuery, *, saved_place: Point | None = None) -> SearchResult:
        """Answer a query. Sorting by distance without a point centres on the caller's
        ``saved_place`` when given, else on the territory's centre (see
        :meth:`default_centre`); the hits then carry their distance from it."""
        if query.sort == Sort.distance and query.point is None:
            centre = self.default_centre(saved_place)
            if centre is not None:
                query = replace(query, point=centre)
        started = time.perf_counter()
        result = self.ready().search(query)
        self.runtime.metrics.search_duration.labels(
            self.runtime.settings.search, "text" if query.text else "filter"
        ).observe(time.perf_counter() - started)
        return result

    def close(self) -> None:
        self.backend.close()
