"""What an app needs to present the node: its territory and the list of themes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlmodel import col, select

from node.api import deps
from node.errors import NotFound
from node.models import Territory
from node.themes import THEMES

router = APIRouter(tags=["node"])


class ThemeOut(BaseModel):
    id: str
    fr: str
    en: str


class TerritoryOut(BaseModel):
    name: str
    slug: str
    timezone: str
    default_language: str
    bbox: tuple[float, float, float, float] | None
    communes: list[str]


@router.get("/themes", response_model=list[ThemeOut])
def themes() -> list[ThemeOut]:
    """The fixed theme ids with their French and English labels."""
    return [ThemeOut(id=key, fr=fr, en=en) for key, (fr, en) in THEMES.items()]


@router.get("/territory", response_model=TerritoryOut)
def territory(request: Request) -> TerritoryOut:
    """The node's territory: name, bounding box (min lat, min lon, max lat, max lon),
    INSEE codes of its communes, time zone and language."""
    node = deps.runtime(request)
    with node.transaction() as session:
        found = session.scalars(select(Territory).order_by(col(Territory.created))).first()
    if found is None:
        raise NotFound("this node has no territory yet")
    bbox = None
    if None not in (found.min_lat, found.min_lon, found.max_lat, found.max_lon):
        bbox = (
            found.min_lat or 0.0,
            found.min_lon or 0.0,
            found.max_lat or 0.0,
            found.max_lon or 0.0,
        )
    return TerritoryOut(
        name=found.name,
        slug=found.slug,
        timezone=found.timezone,
        default_language=found.default_language,
        bbox=bbox,
        communes=found.communes,
    )
