"""Search documents: what the index holds for an organisation, event or project.

Built from the database in batches (no N+1). A document's ``id`` is
``<type>-<object id>`` — object ids are our own UUIDs, for remote objects too, so the
id never holds ``:`` or ``/`` (Meilisearch refuses them). ``version`` is the object's
``updated`` time in milliseconds: ``reindex --check`` compares it with the database.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.models import Event, EventOrganiser, Organisation, Place, Project, Stored

Document = dict[str, Any]
MODELS: dict[str, type[Stored]] = {
    "organisation": Organisation,
    "event": Event,
    "project": Project,
}
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def document_id(kind: str, object_id: str) -> str:
    return f"{kind}-{object_id}"


def parse_document_id(doc_id: str) -> tuple[str, str]:
    kind, _, object_id = doc_id.partition("-")
    return kind, object_id


def plain_text(description: str, limit: int = 2000) -> str:
    """Sanitised HTML to searchable text."""
    text = html.unescape(_TAG.sub(" ", description))
    return _SPACE.sub(" ", text).strip()[:limit]


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def version_of(obj: Stored) -> int:
    """The object's ``updated`` time in milliseconds."""
    return int(obj.updated.timestamp() * 1000)


def build(session: Session, kind: str, ids: Iterable[str]) -> tuple[list[Document], list[str]]:
    """Documents for the live objects among ``ids``, and the document ids to delete."""
    model = MODELS[kind]
    wanted = sorted(set(ids))
    rows = list(session.scalars(select(model).where(col(model.id).in_(wanted)))) if wanted else []
    live = [r for r in rows if r.deleted_at is None]
    gone = sorted(set(wanted) - {r.id for r in live})
    return documents(session, kind, live), [document_id(kind, i) for i in gone]


def documents(session: Session, kind: str, objects: Sequence[Stored]) -> list[Document]:
    """Documents for these live objects of one kind."""
    places = _places(session, [getattr(o, "place_id", None) for o in objects])
    organisers = _organisers(session, kind, objects)
    names = _organisation_names(session, {o for ids in organisers.values() for o in ids})
    out: list[Document] = []
    for obj in objects:
        place = places.get(getattr(obj, "place_id", None) or "")
        org_ids = organisers.get(obj.id, [])
        doc: Document = {
            "id": document_id(kind, obj.id),
            "type": kind,
            "object_id": obj.id,
            "url": obj.ap_id,
            "origin": obj.origin or "local",
            "name": getattr(obj, "name", ""),
            "description": plain_text(getattr(obj, "description", "")),
            "themes": list(getattr(obj, "themes", [])),
            "tags": list(getattr(obj, "tags", [])),
            "organisation_ids": org_ids,
            "organisation_names": [names[o] for o in org_ids if o in names],
            "city": place.city if place else None,
            "postal_code": place.postal_code if place else None,
            "insee_code": place.insee_code if place else None,
            "lat": place.latitude if place else None,
            "lng": place.longitude if place else None,
            "starts_at": None,
            "ends_at": None,
            "status": None,
            "kind": None,
            "stage": None,
            "version": version_of(obj),
        }
        if isinstance(obj, Event):
            doc.update(
                starts_at=_epoch(obj.starts_at),
                ends_at=_epoch(obj.ends_at),
                status=obj.status,
                timezone=obj.timezone,
                online_url=obj.online_url,
            )
        elif isinstance(obj, Organisation):
            doc["kind"] = obj.kind
        elif isinstance(obj, Project):
            doc["stage"] = obj.stage
        out.append(doc)
    return out


def _places(session: Session, ids: Sequence[str | None]) -> dict[str, Place]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Place).where(col(Place.id).in_(wanted)))}


def _organisers(session: Session, kind: str, objects: Sequence[Stored]) -> dict[str, list[str]]:
    if kind == "organisation":
        return {o.id: [o.id] for o in objects}
    if kind == "project":
        return {o.id: [getattr(o, "organisation_id", "")] for o in objects}
    found: dict[str, list[str]] = defaultdict(list)
    ids = [o.id for o in objects]
    if ids:
        rows = session.execute(
            select(col(EventOrganiser.event_id), col(EventOrganiser.organisation_id))
            .where(col(EventOrganiser.event_id).in_(ids))
            .order_by(col(EventOrganiser.event_id), col(EventOrganiser.position))
        )
        for event_id, org_id in rows:
            found[event_id].append(org_id)
    return found


def _organisation_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(col(Organisation.id), col(Organisation.name)).where(col(Organisation.id).in_(ids))
    )
    return {i: n for i, n in rows}


def live_versions(session: Session, kind: str) -> dict[str, int]:
    """Document id → version of every live object of a kind (for the drift check)."""
    model = MODELS[kind]
    rows = session.execute(
        select(col(model.id), col(model.updated)).where(col(model.deleted_at).is_(None))
    )
    return {document_id(kind, i): int(updated.timestamp() * 1000) for i, updated in rows}


def all_ids(session: Session, kind: str) -> list[str]:
    """Ids of every live object of a kind (for reindexing)."""
    model = MODELS[kind]
    return list(session.scalars(select(col(model.id)).where(col(model.deleted_at).is_(None))))
