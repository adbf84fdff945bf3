"""Exports: iCalendar feeds (``/events.ics``, ``/organisations/{id}/events.ics``) and
open data (``/export/{organisations,events,projects}.{csv,geojson}``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.api import deps
from node.api.ical import FeedRow, calendar, feed_query
from node.api.listing import labelled
from node.api.opendata import COLLECTIONS, Collection, Record, chunks, csv_lines, geojson_text
from node.dbtypes import utcnow
from node.errors import NotFound
from node.models import Event, EventOrganiser, Organisation, Territory
from node.runtime import Runtime
from node.schemas import ObjectId, Tags, Themes
from node.services.common import get_live

router = APIRouter(tags=["exports"])


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


def _feed(node: Runtime, session: Session, name: str, query: Any) -> bytes:
    now = utcnow()
    rows = [FeedRow(*row) for row in session.execute(query)]
    return calendar(
        rows,
        name=name,
        timezone=node.context.timezone,
        language=node.settings.language,
        stamp=now,
    )


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
) -> CalendarResponse:
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
        body = _feed(node, session, name, query)
    return CalendarResponse(body, headers=_disposition("events.ics"))


@router.get("/organisations/{organisation_id}/events.ics", response_class=CalendarResponse)
def organisation_agenda(organisation_id: str, request: Request) -> CalendarResponse:
    """The events an organisation organises or co-organises, as an iCalendar feed.

    Same window and content as `GET /events.ics`; 404 for an unknown organisation,
    410 for a deleted one.
    """
    node = deps.runtime(request)
    with node.transaction() as session:
        org = get_live(session, Organisation, organisation_id)
        query = feed_query(utcnow()).where(col(Event.id).in_(_organised_by(org.id)))
        body = _feed(node, session, org.name, query)
        filename = f"{_filename(org.username)}-events.ics"
    return CalendarResponse(body, headers=_disposition(filename))


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
