"""Helpers shared by the services: loading live objects, places, labels, slugs."""

from __future__ import annotations

import re
import unicodedata
from typing import TypeVar

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.errors import Gone, NotFound
from node.geocoding import PlaceInput
from node.models import Label, Participation, Place, Stored
from node.schemas import PlaceIn
from node.services.context import NodeContext

T = TypeVar("T", bound=Stored)


def get_live(session: Session, model: type[T], object_id: str, *, lock: bool = False) -> T:
    """The object with this id; 404 when unknown, 410 when deleted."""
    query = select(model).where(model.id == object_id)
    if lock:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"no {model.__name__.lower()} {object_id}")
    if found.deleted_at is not None:
        raise Gone(f"{model.__name__.lower()} {object_id} was deleted")
    return found


def participation_of(session: Session, event_id: str, person_id: str) -> Participation | None:
    """A person's registration for an event, if any."""
    return session.scalar(
        select(Participation).where(
            col(Participation.event_id) == event_id, col(Participation.person_id) == person_id
        )
    )


def make_place(session: Session, node: NodeContext, data: PlaceIn | None) -> str | None:
    """Geocode and store a place; returns its id (``None`` for no place)."""
    place = new_place(node, data)
    if place is None:
        return None
    session.add(place)
    session.flush()
    return place.id


def new_place(node: NodeContext, data: PlaceIn | None) -> Place | None:
    """A geocoded place, not yet added to a session (its id is already set)."""
    if data is None:
        return None
    geocoded = node.geocoder.geocode(
        PlaceInput(
            name=data.name,
            street=data.street,
            postal_code=data.postal_code,
            city=data.city,
            country=data.country,
            latitude=data.latitude,
            longitude=data.longitude,
        )
    )
    return Place(
        name=geocoded.name,
        street=geocoded.street,
        postal_code=geocoded.postal_code,
        city=geocoded.city,
        insee_code=geocoded.insee_code,
        country=geocoded.country,
        latitude=geocoded.latitude,
        longitude=geocoded.longitude,
        precision=geocoded.precision,
    )


def place_input(place: Place | None) -> dict[str, object] | None:
    """A stored place as the input it came from (for PATCH merges)."""
    if place is None:
        return None
    return {
        "name": place.name,
        "street": place.street,
        "postal_code": place.postal_code,
        "city": place.city,
        "country": place.country,
        "latitude": place.latitude,
        "longitude": place.longitude,
    }


def set_labels(
    session: Session, entity_type: str, entity_id: str, themes: list[str], tags: list[str]
) -> None:
    """Replace the theme and tag rows used to filter lists."""
    set_labels_of(session, entity_type, {entity_id: (themes, tags)})


def set_labels_of(
    session: Session, entity_type: str, labels: dict[str, tuple[list[str], list[str]]]
) -> None:
    """:func:`set_labels` for many entities at once: one delete, one insert."""
    if not labels:
        return
    session.execute(
        delete(Label).where(
            col(Label.entity_type) == entity_type, col(Label.entity_id).in_(list(labels))
        )
    )
    session.add_all(
        Label(entity_type=entity_type, entity_id=entity_id, kind=kind, value=value)
        for entity_id, (themes, tags) in labels.items()
        for kind, values in (("theme", themes), ("tag", tags))
        for value in values
    )


_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, fallback: str = "compte") -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    slug = _SLUG.sub("-", ascii_only).strip("-")[:40].strip("-")
    return slug or fallback


def unique_username(session: Session, model: type[Stored], wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… whichever is free in that table."""
    column = model.username  # type: ignore[attr-defined]
    taken = set(session.scalars(select(column).where(column.like(f"{wanted}%"))))
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


def add_with_username(session: Session, obj: Stored, wanted: str, *, tries: int = 50) -> None:
    """Add ``obj`` (flushed) under the username ``wanted`` or the next free one.

    Two transactions may pick the same free name at once (two « Camille » registering
    together): on PostgreSQL the second insert then fails on the unique index, inside a
    savepoint, and that transaction picks again instead of failing the request. Not on
    SQLite, where pysqlite opens no transaction before a SAVEPOINT (its RELEASE would
    commit the row even if the request then fails): a plain insert there.
    """
    model = type(obj)
    if session.get_bind().dialect.name != "postgresql":
        obj.username = unique_username(session, model, wanted)
        session.add(obj)
        session.flush()
        return
    column = model.username  # type: ignore[attr-defined]
    for _ in range(tries):
        obj.username = unique_username(session, model, wanted)
        try:
            with session.begin_nested():
                session.add(obj)
            return
        except IntegrityError:
            taken = select(col(model.id)).where(column == obj.username)  # type: ignore[attr-defined]
            if session.scalar(taken) is None:
                raise  # another unique column: not ours to retry
    raise RuntimeError(f"no free username near {wanted!r} after {tries} tries")
