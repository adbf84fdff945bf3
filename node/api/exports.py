"""Exports: iCalendar feeds (``/events.ics``, ``/organisations/{id}/events.ics``) and
open data (``/export/{organisations,events,projects}.{csv,geojson}``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.api import deps
from node.api.ical import FeedRow, calendar, feed_etag, feed_query
from node.api.listing import labelled
from node.api.opendata import COLLECTIONS, Collection, Record, chunks, csv_lines, geojson_text
from node.dbtypes import utcnow
from node.errors import NotFound
from node.models import Event, EventOrganiser, Organisation, Territory
from node.schemas import ObjectId, Tags, Themes
from node.services.common import get_live

router = APIRouter(tags=["exports"], dependencies=[Depends(deps.known_path_ids)])


class CalendarResponse(Response):
    media_type = "text/calendar"  # Starlette appends "; charset=utf-8"


class CsvResponse(StreamingResponse):
    media_type = "text/csv"  # Starlette appends "; charset=utf-8"


class GeoJsonResponse(StreamingResponse):
    media_type = "application/geo+json"


def _filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "events"


def _disposition(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _matches(request: Request, etag: str) -> bool:
    """Whether ``If-None-Match`` names this validator (weak comparison, RFC 9110)."""
    wanted = {
        t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")
    }
    return "*" in wanted or etag.removeprefix("W/") in wanted


def _feed(request: Request, session: Session, query: Any, name: str, filename: str) -> Response:
    """The calendar of the events ``query`` selects; 304 when the client's copy is current.

    Rendering is what costs (the icalendar library takes milliseconds per event),
    so the validator is computed from the rows first.
    """
    node = deps.runtime(request)
    zone, language = node.context.timezone, node.settings.language
    rows = [FeedRow(*row) for row in session.execute(query)]
    etag = feed_etag(rows, name, zone, language)
    headers = {"ETag": etag} | _disposition(filename)
    if _matches(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    body = calendar(rows, name=name, timezone=zone, language=language, stamp=utcnow())
    return CalendarResponse(body, headers=headers)


def _organised_by(organisation_id: str) -> Any:
    return select(col(EventOrganiser.event_id)).where(
        col(EventOrganiser.organisation_id) == organisation_id
    )


@router.get("/events.ics", response_class=CalendarResponse)
def agenda(
    request: Request,
    theme: Annotated[Themes, Query()] = [],  # noqa: B006 (FastAPI reads, never mutates)
    tag: Annotated[Tags, Query()] = [],  # noqa: B006
    organisation_id: Annotated[ObjectId | None, Query()] = None,
) -> Response:
    """The node's agenda as an iCalendar feed (RFC 5545) to subscribe to.

    Upcoming events and those of the last 30 days, local and remote, cancelled ones
    included with `STATUS:CANCELLED`. Times carry the event's time zone (`TZID`, with
    its `VTIMEZONE`); `UID` is the event's canonical URL. Filter like `GET /events`:
    theme(s) (any of), tag(s) (any of), organiser.
    """
    node = deps.runtime(request)
    query = feed_query(utcnow())
    if theme:
        query = query.where(col(Event.id).in_(labelled("event", "theme", theme)))
    if tag:
        query = query.where(col(Event.id).in_(labelled("event", "tag", tag)))
    if organisation_id:
        query = query.where(col(Event.id).in_(_organised_by(organisation_id)))
    with node.transaction() as session:
        territory = session.scalar(
            select(col(Territory.name)).order_by(col(Territory.created)).limit(1)
        )
        name = f"{territory or node.urls.host} — agenda"
        return _feed(request, session, query, name, "events.ics")


@router.get("/organisations/{organisation_id}/events.ics", response_class=CalendarResponse)
def organisation_agenda(organisation_id: str, request: Request) -> Response:
    """The events an organisation organises or co-organises, as an iCalendar feed.

    Same window and content as `GET /events.ics`; 404 for an unknown organisation,
    410 for a deleted one.
    """
    with deps.runtime(request).transaction() as session:
        org = get_live(session, Organisation, organisation_id)
        query = feed_query(utcnow()).where(col(Event.id).in_(_organised_by(org.id)))
        return _feed(request, session, query, org.name, f"{_filename(org.username)}-events.ics")


# --- open data -----------------------------------------------------------------------

Render = Callable[[Collection, Iterator[list[Record]]], Iterator[str]]
FORMATS: dict[str, tuple[type[StreamingResponse], Render, str]] = {
    "csv": (
        CsvResponse,
        lambda collection, batches: csv_lines(collection.columns, batches),
        "CSV (UTF-8, comma-separated, header row). Lists (themes, tags, organisers) are "
        "joined with `|`; text cells that a spreadsheet would run as a formula (starting "
        "with `=`, `+`, `-`, `@`, tab or carriage return) are prefixed with `'`.",
    ),
    "geojson": (
        GeoJsonResponse,
        lambda collection, batches: geojson_text(batches),
        "GeoJSON FeatureCollection (RFC 7946): a `Point` geometry in [longitude, latitude] "
        "order, or a `null` geometry for an object without coordinates (RFC 7946 §3.2 "
        "allows unlocated features, so every object is listed); the other columns are "
        "the feature's `properties`, lists as arrays.",
    ),
}


def _export_route(collection: Collection, fmt: str) -> None:
    response_class, render, format_doc = FORMATS[fmt]
    filename = f"{collection.name}.{fmt}"

    def export(request: Request) -> StreamingResponse:
        batches = chunks(deps.runtime(request), collection)
        return response_class(render(collection, batches), headers=_disposition(filename))

    export.__name__ = f"export_{collection.name}_{fmt}"
    router.add_api_route(
        f"/export/{filename}",
        export,
        methods=["GET"],
        response_class=response_class,
        summary=f"Export {collection.name} ({fmt})",
        description=(
            f"Every live {collection.name[:-1]}, local and remote, as open data. "
            f"{format_doc}\n\nColumns: {', '.join(f'`{c}`' for c in collection.columns)}."
        ),
    )


for _collection in COLLECTIONS.values():
    for _fmt in FORMATS:
        _export_route(_collection, _fmt)


@router.get("/export/{name}", include_in_schema=False)
def unknown_export(name: str) -> None:
    """Anything else under /export answers a 404 that names what exists."""
    available = ", ".join(f"{c}.{f}" for c in COLLECTIONS for f in FORMATS)
    raise NotFound(f"no export {name!r}; available: {available}")
