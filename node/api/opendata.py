"""Open-data exports of organisations, events and projects: CSV and GeoJSON.

Both formats list every live object, local and remote, in id order (ids are
time-ordered, so that is creation order). Rows are read in chunks of ``CHUNK`` by keyset
on the id, each chunk in its own short transaction with its places and organisations
joined or batch-loaded, and written out as they come: a large node streams its export
without holding a connection for the whole download.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.api.ical import html_to_text
from node.models import Event, EventOrganiser, Organisation, Place, Project, Stored
from node.runtime import Runtime

CHUNK = 500  # rows per query; also the size of the organisers IN list (old SQLite: 999)
LIST_SEPARATOR = "|"
#: a spreadsheet reads a cell starting with one of these as a formula (CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | list[str] | None
Record = dict[str, Cell]
Fetch = Callable[[Session, str, int], list[Record]]

HEAD = "id url origin name"
PLACE = "place_name street postal_code city insee_code country latitude longitude"
TAIL = "created updated"


def _columns(*groups: str) -> tuple[str, ...]:
    """Column names, given as groups of space-separated words."""
    return tuple(name for group in groups for name in group.split())


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    columns: tuple[str, ...]
    fetch: Fetch


def _moment(value: datetime, zone: ZoneInfo | None = None) -> str:
    return (value.astimezone(zone) if zone else value).isoformat(timespec="seconds")


def _common(obj: Stored, name: str, place: Place | None) -> tuple[Record, Record]:
    head: Record = {"id": obj.id, "url": obj.ap_id, "origin": obj.origin or "local", "name": name}
    where: Record = {
        "place_name": place.name if place else None,
        "street": place.street if place else None,
        "postal_code": place.postal_code if place else None,
        "city": place.city if place else None,
        "insee_code": place.insee_code if place else None,
        "country": place.country if place else None,
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "created": _moment(obj.created),
        "updated": _moment(obj.updated),
    }
    return head, where


def _organisations(session: Session, after: str, limit: int) -> list[Record]:
    rows = session.execute(
        select(Organisation, Place)
        .outerjoin(Place, col(Place.id) == col(Organisation.place_id))
        .where(col(Organisation.deleted_at).is_(None), col(Organisation.id) > after)
        .order_by(col(Organisation.id))
        .limit(limit)
    ).all()
    records = []
    for org, place in rows:
        head, where = _common(org, org.name, place)
        records.append(
            head
            | {
                "kind": org.kind,
                "legal_form": org.legal_form,
                "siren": org.siren,
                "rna": org.rna,
                "website": org.website,
                "description": html_to_text(org.description),
                "themes": list(org.themes),
                "tags": list(org.tags),
            }
            | where
        )
    return records


def _organiser_names(session: Session, event_ids: list[str]) -> dict[str, list[str]]:
    names: dict[str, list[str]] = defaultdict(list)
    if event_ids:
        for event_id, name in session.execute(
            select(col(EventOrganiser.event_id), col(Organisation.name))
            .join(Organisation, col(Organisation.id) == col(EventOrganiser.organisation_id))
            .where(col(EventOrganiser.event_id).in_(event_ids))
            .order_by(col(EventOrganiser.event_id), col(EventOrganiser.position))
        ):
            names[event_id].append(name)
    return names


def _events(session: Session, after: str, limit: int) -> list[Record]:
    rows = session.execute(
        select(Event, Place, col(Organisation.name))
        .outerjoin(Place, col(Place.id) == col(Event.place_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Event.organisation_id))
        .where(col(Event.deleted_at).is_(None), col(Event.id) > after)
        .order_by(col(Event.id))
        .limit(limit)
    ).all()
    organisers = _organiser_names(session, [event.id for event, _, _ in rows])
    records = []
    for event, place, main in rows:
        zone = ZoneInfo(event.timezone)
        head, where = _common(event, event.name, place)
        records.append(
            head
            | {
                "organisation_id": event.organisation_id,
                "organisation": main,
                "organisers": organisers.get(event.id) or ([main] if main else []),
                "starts_at": _moment(event.starts_at, zone),
                "ends_at": _moment(event.ends_at, zone),
                "timezone": event.timezone,
                "status": event.status,
                "online_url": event.online_url,
                "capacity": event.capacity,
                "join_mode": event.join_mode,
                "description": html_to_text(event.description),
                "themes": list(event.themes),
                "tags": list(event.tags),
            }
            | where
        )
    return records


def _projects(session: Session, after: str, limit: int) -> list[Record]:
    rows = session.execute(
        select(Project, Place, col(Organisation.name))
        .outerjoin(Place, col(Place.id) == col(Project.place_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Project.organisation_id))
        .where(col(Project.deleted_at).is_(None), col(Project.id) > after)
        .order_by(col(Project.id))
        .limit(limit)
    ).all()
    records = []
    for project, place, main in rows:
        head, where = _common(project, project.name, place)
        records.append(
            head
            | {
                "organisation_id": project.organisation_id,
                "organisation": main,
                "stage": project.stage,
                "description": html_to_text(project.description),
                "themes": list(project.themes),
                "tags": list(project.tags),
            }
            | where
        )
    return records


COLLECTIONS: dict[str, Collection] = {
    "organisations": Collection(
        "organisations",
        _columns(HEAD, "kind legal_form siren rna website description themes tags", PLACE, TAIL),
        _organisations,
    ),
    "events": Collection(
        "events",
        _columns(
            HEAD,
            "organisation_id organisation organisers starts_at ends_at timezone status",
            "online_url capacity join_mode description themes tags",
            PLACE,
            TAIL,
        ),
        _events,
    ),
    "projects": Collection(
        "projects",
        _columns(HEAD, "organisation_id organisation stage description themes tags", PLACE, TAIL),
        _projects,
    ),
}


def chunks(node: Runtime, collection: Collection) -> Iterator[list[Record]]:
    """The live objects, ``CHUNK`` at a time; the first chunk is read at once.

    Reading the first chunk before the response starts means a database failure still
    answers a JSON error rather than a cut download.
    """
    with node.transaction() as session:
        first = collection.fetch(session, "", CHUNK)

    def rest() -> Iterator[list[Record]]:
        records = first
        while True:
            yield records
            if len(records) < CHUNK:
                return
            after = str(records[-1]["id"])
            with node.transaction() as session:
                records = collection.fetch(session, after, CHUNK)

    return rest()


# --- formats -------------------------------------------------------------------------


def csv_cell(value: Cell) -> str | int | float:
    """A CSV cell: lists joined with ``|``, text that a spreadsheet would run as a
    formula prefixed with ``'``. Numbers are written as they are (a negative longitude
    is not a formula)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_lines(columns: tuple[str, ...], batches: Iterator[list[Record]]) -> Iterator[str]:
    """RFC 4180 CSV (CRLF line ends): a header row, then one row per record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for records in batches:
        writer.writerows([csv_cell(r.get(c)) for c in columns] for r in records)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def feature(record: Record) -> dict[str, Any]:
    """A GeoJSON Feature: a Point in [longitude, latitude] order, or a null geometry
    (RFC 7946 §3.2, an "unlocated" feature) when the object has no coordinates."""
    lat, lon = record.get("latitude"), record.get("longitude")
    geometry = None
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        geometry = {"type": "Point", "coordinates": [lon, lat]}
    properties = {k: v for k, v in record.items() if k not in ("latitude", "longitude")}
    return {"type": "Feature", "id": record["id"], "geometry": geometry, "properties": properties}


def geojson_text(batches: Iterator[list[Record]]) -> Iterator[str]:
    """An RFC 7946 FeatureCollection, written feature by feature."""
    yield '{"type":"FeatureCollection","features":['
    separator = ""
    for records in batches:
        parts = []
        for record in records:
            text = json.dumps(
                feature(record), ensure_ascii=False, allow_nan=False, separators=(",", ":")
            )
            parts.append(separator + text)
            separator = ","
        yield "".join(parts)
    yield "]}\n"
