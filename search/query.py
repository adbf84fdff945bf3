"""One query model for every search backend (see docs/search.md).

A :class:`SearchQuery` is what a citizen asks — text, types, themes, tags, a place
(point + radius, or a map's bounding box), a date window, an organisation, an origin —
and :class:`SearchResult` what every backend answers, with the same observable
results: the contract tests run the same cases against each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

TYPES = ("organisation", "event", "project")
FACETS = ("type", "themes", "tags", "city")
MAX_LIMIT = 200


class Sort(StrEnum):
    relevance = "relevance"  # text relevance; without text, soonest/nearest first
    distance = "distance"  # nearest first (from the point, else the territory's centre)
    date = "date"  # events soonest first; organisations and projects after, by name


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class BBox:
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What to find. Empty filters match everything.

    - ``types``: any of ``organisation``, ``event``, ``project`` (empty: all).
    - ``themes``: any of; ``tags``: any of (``tags_all``: all of).
    - ``point`` + ``radius_km`` keep items within the radius (exact great-circle
      distance); ``bbox`` keeps items inside the box. Items without coordinates are
      excluded by either.
    - ``start``/``end``: events overlapping the window (an event that began before
      ``start`` and ends after it counts). Without a window, events that ended before
      ``now`` are excluded (``upcoming``). Organisations and projects have no dates and
      are not filtered by them.
    - ``include_cancelled``: cancelled events are excluded unless asked.
    - ``origin``: ``all``, ``local`` or a host (remote items from that node).
    - ``facets``: which facet counts to compute, over every match (not just the page).
    """

    text: str = ""
    types: frozenset[str] = frozenset()
    themes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    tags_all: bool = False
    point: Point | None = None
    radius_km: float | None = None
    bbox: BBox | None = None
    start: datetime | None = None
    end: datetime | None = None
    organisation_id: str | None = None
    origin: str = "all"
    include_cancelled: bool = False
    sort: Sort = Sort.relevance
    facets: tuple[str, ...] = FACETS
    limit: int = 20
    offset: int = 0
    #: the reference time of "upcoming" (injectable for tests)
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    id: str  # the search document id, "<type>-<object id>"
    type: str
    object_id: str
    distance_km: float | None
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    took_ms: float = 0.0
