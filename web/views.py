"""What pages show, as plain data built from the node's rows or search hits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from search.query import Hit

COLLECTIONS = {"event": "events", "organisation": "organisations", "project": "projects"}


def path_of(kind: str, object_id: str) -> str:
    """The page of an object on this node (remote ones too: shown with their origin)."""
    return f"/{COLLECTIONS[kind]}/{object_id}"


@dataclass(frozen=True, slots=True)
class HitView:
    id: str
    type: str
    path: str
    url: str
    origin: str
    name: str
    summary: str
    themes: list[str]
    city: str | None
    lat: float | None
    lon: float | None
    starts_at: datetime | None
    ends_at: datetime | None
    timezone: str | None
    status: str | None
    organisers: list[str]
    distance_km: float | None

    @property
    def remote(self) -> bool:
        return self.origin != "local"


def _moment(seconds: Any) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(int(seconds), UTC)


def hit_view(hit: Hit) -> HitView:
    doc = hit.document
    summary = str(doc.get("description") or "")
    if len(summary) > 220:
        summary = summary[:220].rsplit(" ", 1)[0] + "…"
    return HitView(
        id=hit.object_id,
        type=hit.type,
        path=path_of(hit.type, hit.object_id),
        url=str(doc.get("url") or ""),
        origin=str(doc.get("origin") or "local"),
        name=str(doc.get("name") or ""),
        summary=summary,
        themes=list(doc.get("themes") or []),
        city=doc.get("city"),
        lat=doc.get("lat"),
        lon=doc.get("lng"),
        starts_at=_moment(doc.get("starts_at")),
        ends_at=_moment(doc.get("ends_at")),
        timezone=doc.get("timezone"),
        status=doc.get("status"),
        organisers=list(doc.get("organisation_names") or []),
        distance_km=hit.distance_km,
    )


def pins_json(items: Sequence[HitView]) -> Markup:
    """The map's pins (the list's items that have coordinates), as JSON safe in a <script>."""
    pins = [
        {"id": h.id, "type": h.type, "name": h.name, "path": h.path, "lat": h.lat, "lon": h.lon}
        for h in items
        if h.lat is not None and h.lon is not None
    ]
    return json_script(pins)


def json_script(value: Any) -> Markup:
    """JSON to embed in ``<script type="application/json">`` (no ``</script>`` break-out)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)
