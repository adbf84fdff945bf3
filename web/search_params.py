"""The search page's query string: shareable, forgiving, turned into a ``SearchQuery``.

Every filter lives in the URL (``q``, ``theme``, ``type``, ``when``, ``near``, ``lat``,
``lon``, ``radius``, ``bbox``, ``view``, ``sort``, ``page``), so a search is a link to
share. A value that makes no sense (a mangled link) is dropped with a notice rather
than refused: a citizen always gets results.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from node.geocoding import Geocoder, PlaceInput
from node.themes import THEMES
from search.query import TYPES, BBox, Point, SearchQuery, Sort
from web.messages import N_

PAGE_SIZE = 20
MAX_PAGE = 250
RADII = (2, 5, 10, 25, 50, 100)
PRESETS = ("week", "weekend", "month")
VIEWS = ("list", "map", "agenda")
SORTS = tuple(s.value for s in Sort)


@dataclass
class SearchParams:
    q: str = ""
    themes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    when: str = ""
    start: date | None = None  # "from" day (overrides ``when``)
    end: date | None = None  # "to" day, included
    near: str = ""
    lat: float | None = None
    lon: float | None = None
    radius: int | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    view: str = "list"
    sort: str = ""
    page: int = 1
    notices: list[str] = field(default_factory=list)

    def query_string(self, **changes: object) -> str:
        """This search as a query string, with some parameters changed (``None`` drops)."""
        values: dict[str, object] = {
            "q": self.q,
            "theme": self.themes,
            "type": self.types,
            "when": self.when,
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "near": self.near if self.lat is None or self.near else "",
            "lat": "" if self.lat is None else f"{self.lat:.5f}",
            "lon": "" if self.lon is None else f"{self.lon:.5f}",
            "radius": self.radius or "",
            "bbox": ",".join(f"{v:.5f}" for v in self.bbox) if self.bbox else "",
            "view": "" if self.view == "list" else self.view,
            "sort": self.sort,
            "page": "" if self.page == 1 else self.page,
        }
        values.update(changes)
        pairs: list[tuple[str, str]] = []
        for key, value in values.items():
            if isinstance(value, list):
                pairs.extend((key, str(v)) for v in value)
            elif value not in (None, ""):
                pairs.append((key, str(value)))
        return urlencode(pairs)


def parse(params: QueryParams) -> SearchParams:
    found = SearchParams()
    found.q = params.get("q", "").strip()[:200]
    found.themes = [t for t in dict.fromkeys(params.getlist("theme")) if t in THEMES][:16]
    found.types = [t for t in dict.fromkeys(params.getlist("type")) if t in TYPES]
    when = params.get("when", "")
    found.when = when if when in PRESETS else ""
    found.start = _day(params.get("start"))
    found.end = _day(params.get("end"))
    if found.start and found.end and found.end < found.start:
        found.start, found.end = found.end, found.start
    found.near = params.get("near", "").strip()[:100]
    found.view = params.get("view", "list") if params.get("view") in VIEWS else "list"
    sort = params.get("sort", "")
    found.sort = sort if sort in SORTS else ""
    found.lat = _number(params.get("lat"), -90, 90)
    found.lon = _number(params.get("lon"), -180, 180)
    if (found.lat is None) != (found.lon is None):
        found.lat = found.lon = None
        found.notices.append(N_("The position in the link was incomplete; it was ignored."))
    radius = _number(params.get("radius"), 1, 500)
    found.radius = int(radius) if radius is not None else None
    found.bbox = _bbox(params.get("bbox", ""))
    if params.get("bbox") and found.bbox is None:
        found.notices.append(N_("The map area in the link was not understood; it was ignored."))
    page = _number(params.get("page"), 1, MAX_PAGE)
    found.page = int(page) if page is not None else 1
    return found


def _number(value: str | None, low: float, high: float) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or not low <= number <= high:  # NaN or out of range
        return None
    return number


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return day if 1970 <= day.year <= 2199 else None


def _bbox(value: str) -> tuple[float, float, float, float] | None:
    parts = value.split(",")
    if len(parts) != 4:
        return None
    numbers = [_number(p, -180, 180) for p in parts]
    if any(n is None for n in numbers):
        return None
    west, south, east, north = (n or 0.0 for n in numbers)
    if not (west <= east and -90 <= south <= north <= 90):
        return None
    return west, south, east, north


def locate(params: SearchParams, geocoder: Geocoder) -> SearchParams:
    """Give ``near`` (a commune or postal code) its coordinates, once."""
    if not params.near or params.lat is not None:
        return params
    text = params.near
    is_code = text.replace(" ", "").isdigit()
    place = geocoder.geocode(
        PlaceInput(
            postal_code=text.replace(" ", "") if is_code else None,
            city=None if is_code else text,
        )
    )
    if place.latitude is None or place.longitude is None:
        return replace(
            params, notices=[*params.notices, N_("This place was not found; try a commune name.")]
        )
    return replace(params, lat=place.latitude, lon=place.longitude, radius=params.radius or 10)


def window(preset: str, timezone: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The dates of a preset in the territory's zone: from now to the end of the week, of
    the weekend (Saturday and Sunday, this one when it is already the weekend), of the
    month."""
    zone = ZoneInfo(timezone)
    moment = (now or datetime.now(UTC)).astimezone(zone)
    today = moment.date()
    if preset == "weekend":
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() == 6:  # Sunday: this weekend's end
            saturday = today - timedelta(days=1)
        start = max(moment, _at(saturday, zone))
        return start, _at(saturday + timedelta(days=2), zone)
    if preset == "week":
        return moment, _at(today + timedelta(days=7 - today.weekday()), zone)
    first_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return moment, _at(first_next, zone)


def _at(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone)


def to_query(params: SearchParams, timezone: str, now: datetime | None = None) -> SearchQuery:
    """The backend query of these parameters (the agenda view: events by date)."""
    start = end = None
    if params.when:
        start, end = window(params.when, timezone, now)
    if params.start or params.end:
        zone = ZoneInfo(timezone)
        start = _at(params.start, zone) if params.start else None
        end = _at(params.end + timedelta(days=1), zone) if params.end else None
    types = frozenset(params.types)
    sort = Sort(params.sort) if params.sort else Sort.relevance
    if params.view == "agenda":
        types, sort = frozenset({"event"}), Sort.date
    point = None
    if params.lat is not None and params.lon is not None:
        point = Point(params.lat, params.lon)
    bbox = None
    if params.bbox is not None:
        west, south, east, north = params.bbox
        bbox = BBox(min_lat=south, min_lon=west, max_lat=north, max_lon=east)
    return SearchQuery(
        text=params.q,
        types=types,
        themes=tuple(params.themes),
        point=point,
        radius_km=float(params.radius) if point is not None and params.radius else None,
        bbox=bbox,
        start=start,
        end=end,
        sort=sort,
        facets=("type", "themes"),
        limit=PAGE_SIZE,
        offset=(params.page - 1) * PAGE_SIZE,
    )
