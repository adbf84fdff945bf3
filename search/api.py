"""``GET /api/v1/search``: the whole query model over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from node.api.deps import bearer_token, optional_actor
from node.api.pagination import decode_cursor, encode_cursor
from node.errors import DomainError, Invalid
from node.schemas import Tags, Themes
from search.backend import SearchUnavailable
from search.query import FACETS, MAX_LIMIT, TYPES, BBox, Hit, Point, SearchQuery, Sort
from search.service import SearchService

router = APIRouter(tags=["search"])


class Unavailable(DomainError):
    status = 503
    code = "search_unavailable"


class Near(StrEnum):
    """An explicit centre instead of ``lat``+``lon``."""

    me = "me"  # the signed-in caller's saved place (PUT /api/v1/me)
    territory = "territory"  # the centre of the node's territory


class HitOut(BaseModel):
    id: str
    type: str
    url: str
    origin: str
    name: str
    description: str
    themes: list[str]
    tags: list[str]
    organisation_ids: list[str]
    organisation_names: list[str]
    city: str | None
    latitude: float | None
    longitude: float | None
    starts_at: datetime | None
    ends_at: datetime | None
    status: str | None
    distance_km: float | None


class SearchOut(BaseModel):
    hits: list[HitOut]
    total: int
    facets: dict[str, dict[str, int]]
    took_ms: float
    next: str | None


def _csv(value: str | None, allowed: tuple[str, ...], field: str) -> tuple[str, ...]:
    if not value:
        return ()
    items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [v for v in items if v not in allowed]
    if unknown:
        raise Invalid(field, f"unknown value {unknown[0]!r}; known: {', '.join(allowed)}")
    return items


def _moment(value: str | None, field: str, end_of_day: bool = False) -> datetime | None:
    """An ISO date-time (UTC when naive) or a date (its start, or its end for ``end``)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end_of_day else time.min, UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(field, "an ISO 8601 date or date-time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _bbox(value: str | None) -> BBox | None:
    """``west,south,east,north`` (min lon, min lat, max lon, max lat), as in GeoJSON."""
    if not value:
        return None
    try:
        west, south, east, north = (float(v) for v in value.split(","))
    except ValueError:
        raise Invalid("bbox", "four numbers: west,south,east,north") from None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise Invalid("bbox", "west ≤ east in [-180, 180], south ≤ north in [-90, 90]")
    return BBox(min_lat=south, min_lon=west, max_lat=north, max_lon=east)


def _saved_place(request: Request, service: SearchService) -> tuple[bool, Point | None]:
    """Whether the caller is signed in, and their saved place (with coordinates).

    Without a bearer token nothing is read from the database."""
    if bearer_token(request) is None:
        return False, None
    with service.runtime.transaction() as session:
        person = optional_actor(request, session)
        return person is not None, service.saved_place(session, person)


def _centre(near: Near, request: Request, service: SearchService) -> Point:
    """The point ``near`` names; 422 ``near`` when there is none."""
    if near == Near.me:
        signed_in, place = _saved_place(request, service)
        if not signed_in:
            raise Invalid("near", "near=me needs a signed-in person (Authorization: Bearer)")
        if place is None:
            raise Invalid("near", "no saved place with coordinates: set one with PUT /api/v1/me")
        return place
    centre = service.territory_centre()
    if centre is None:
        raise Invalid("near", "this node has no territory with bounds")
    return centre


def _hit(hit: Hit) -> HitOut:
    doc: dict[str, Any] = hit.document

    def when(seconds: Any) -> datetime | None:
        return None if seconds is None else datetime.fromtimestamp(int(seconds), UTC)

    return HitOut(
        id=hit.object_id,
        type=hit.type,
        url=doc.get("url", ""),
        origin=doc.get("origin", "local"),
        name=doc.get("name", ""),
        description=str(doc.get("description", ""))[:300],
        themes=doc.get("themes", []),
        tags=doc.get("tags", []),
        organisation_ids=doc.get("organisation_ids", []),
        organisation_names=doc.get("organisation_names", []),
        city=doc.get("city"),
        latitude=doc.get("lat"),
        longitude=doc.get("lng"),
        starts_at=when(doc.get("starts_at")),
        ends_at=when(doc.get("ends_at")),
        status=doc.get("status"),
        distance_km=hit.distance_km,
    )


@router.get("/search", response_model=SearchOut)
def search(
    request: Request,
    q: Annotated[
        str,
        Query(max_length=200, description="words to find (accents, case and one typo forgiven)"),
    ] = "",
    types: Annotated[
        str | None,
        Query(
            max_length=100, description="comma-separated: organisation,event,project (default: all)"
        ),
    ] = None,
    themes: Annotated[Themes, Query(description="any of these theme ids")] = [],  # noqa: B006
    tags: Annotated[Tags, Query(description="these tags (any of, or all of)")] = [],  # noqa: B006
    tags_mode: Annotated[str, Query(pattern="^(any|all)$")] = "any",
    lat: Annotated[
        float | None,
        Query(ge=-90, le=90, allow_inf_nan=False, description="a point: latitude (with lon)"),
    ] = None,
    lon: Annotated[
        float | None,
        Query(ge=-180, le=180, allow_inf_nan=False, description="… and longitude (with lat)"),
    ] = None,
    near: Annotated[
        Near | None,
        Query(
            description="the point instead of lat+lon: `me` (your saved place; sign in and "
            "set it with PUT /api/v1/me) or `territory` (the node's centre)"
        ),
    ] = None,
    radius_km: Annotated[
        float | None,
        Query(
            gt=0, le=20_000, allow_inf_nan=False, description="within this distance of the point"
        ),
    ] = None,
    bbox: Annotated[
        str | None, Query(max_length=100, description="map area: west,south,east,north")
    ] = None,
    start: Annotated[
        str | None,
        Query(
            max_length=40, description="events overlapping the window from this date or date-time"
        ),
    ] = None,
    end: Annotated[str | None, Query(max_length=40, description="… to this one")] = None,
    organisation_id: Annotated[str | None, Query(max_length=36, pattern="^[0-9a-f-]+$")] = None,
    origin: Annotated[
        str,
        Query(
            max_length=255,
            pattern=r"^[A-Za-z0-9.:\[\]-]+$",
            description="all, local, or a node's host",
        ),
    ] = "all",
    include_cancelled: bool = False,
    sort: Annotated[
        Sort,
        Query(
            description="relevance, distance (from the point; without one, from your saved "
            "place when signed in, else the territory's centre) or date"
        ),
    ] = Sort.relevance,
    facets: Annotated[
        str | None,
        Query(
            max_length=100,
            description="comma-separated: type,themes,tags,city (default: all); `none` for "
            "no facet counts (a map's pins: counting facets costs more than the pins)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SearchOut:
    """Search organisations, events and projects by text, place, themes, tags and dates.

    The point is `lat`+`lon`, or `near=me` (the signed-in caller's saved place: 422 when
    not signed in or without one) or `near=territory`; hits then carry `distance_km`, and
    with `radius_km` only what lies within it. `sort=distance` without a point centres on
    the caller's saved place when signed in with one, else on the territory's centre.
    Without a date window, past events are left out; cancelled events are left out unless
    `include_cancelled`. `total` and `facets` count every match; page with `limit` and
    the returned `next` as `cursor`.
    """
    if (lat is None) != (lon is None):
        raise Invalid("lon" if lon is None else "lat", "lat and lon go together")
    if near is not None and lat is not None:
        raise Invalid("near", "give near or lat and lon, not both")
    if radius_km is not None and lat is None and near is None:
        raise Invalid("radius_km", "needs lat and lon, or near")
    window_start = _moment(start, "start")
    window_end = _moment(end, "end", end_of_day=True)
    if window_start and window_end and window_end < window_start:
        raise Invalid("end", "must not be before start")
    offset = 0
    if cursor:
        (raw,) = decode_cursor(cursor, 1)
        if not raw.isdigit() or int(raw) > 100_000:
            raise Invalid("cursor", "not a cursor this node gave")
        offset = int(raw)
    service: SearchService = request.app.state.runtime.extensions["search"]
    point = Point(lat, lon) if lat is not None and lon is not None else None
    saved_place = None
    if near is not None:
        point = _centre(near, request, service)
    elif point is None and sort == Sort.distance:
        saved_place = _saved_place(request, service)[1]
    query = SearchQuery(
        text=q.strip(),
        types=frozenset(_csv(types, TYPES, "types")),
        themes=tuple(themes),
        tags=tuple(tags),
        tags_all=tags_mode == "all",
        point=point,
        radius_km=radius_km,
        bbox=_bbox(bbox),
        start=window_start,
        end=window_end,
        organisation_id=organisation_id,
        origin=origin,
        include_cancelled=include_cancelled,
        sort=sort,
        facets=() if facets == "none" else _csv(facets, FACETS, "facets") or FACETS,
        limit=limit,
        offset=offset,
    )
    try:
        result = service.search(query, saved_place=saved_place)
    except SearchUnavailable as error:
        raise Unavailable(f"search is unavailable: {error}") from None
    following = offset + limit
    return SearchOut(
        hits=[_hit(h) for h in result.hits],
        total=result.total,
        facets=result.facets,
        took_ms=round(result.took_ms, 2),
        next=encode_cursor([str(following)]) if following < result.total else None,
    )
