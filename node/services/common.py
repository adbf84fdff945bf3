"""Helpers shared by the services: loading live objects, places, labels, slugs."""

from __future__ import annotations

import re
import unicodedata
from typing import TypeVar

from sqlalchemy import delete
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.errors import Gone, NotFound
from node.geocoding import PlaceInput
from node.models import Label, Place, Stored
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


def make_place(session: Session, node: NodeContext, data: PlaceIn | None) -> str | None:
    """Geocode and store a place; returns its id (``None`` for no place)."""
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
    place = Place(
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
    session.add(place)
    session.flush()
    return place.id


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
    session.execute(
        delete(Label).where(
            col(Label.entity_type) == entity_type, col(Label.entity_id) == entity_id
        )
    )
    for kind, values in (("theme", themes), ("tag", tags)):
        for value in values:
            session.add(Label(entity_type=entity_type, entity_id=entity_id, kind=kind, value=value))


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
