"""What an app needs to present the node: its territory, branding and the list of themes.

The node's administrators change the territory and branding here (``PATCH``, the logo
``PUT``/``DELETE``) through :mod:`node.services.territory`, as the admin pages do.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from node.api import deps
from node.api.patching import merge
from node.errors import NotFound
from node.models import Person, Territory
from node.services import branding
from node.services import territory as service
from node.services.moderation import require_node_admin
from node.services.territory import TerritoryIn, TerritoryPatch
from node.themes import THEMES

router = APIRouter(tags=["node"])
LOGO_PATH = "/api/v1/territory/logo"
#: a logo URL carries its content's hash: browsers keep it as long as they like
LOGO_MAX_AGE = 365 * 24 * 3600
_LOGO_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The image itself (PNG, JPEG or WebP, at most 512 KiB, at most "
        f"{branding.MAX_LOGO_SIDE} pixels a side), its type read from its content. "
        "SVG is refused.",
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}}
            for media_type in branding.LOGO_TYPES
        },
    }
}


def logo_url(sha256: str | None) -> str | None:
    """Where the logo is served, versioned by its content (``None`` without a logo)."""
    return f"{LOGO_PATH}?v={sha256[:16]}" if sha256 else None


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
    node_name: str | None
    primary_colour: str | None
    accent_colour: str | None
    logo_url: str | None


def territory_out(found: Territory) -> TerritoryOut:
    return TerritoryOut(
        name=found.name,
        slug=found.slug,
        timezone=found.timezone,
        default_language=found.default_language,
        bbox=service.bbox_of(found),
        communes=found.communes,
        node_name=found.node_name,
        primary_colour=found.primary_colour,
        accent_colour=found.accent_colour,
        logo_url=logo_url(found.logo_sha256),
    )


@router.get("/themes", response_model=list[ThemeOut])
def themes() -> list[ThemeOut]:
    """The fixed theme ids with their French and English labels."""
    return [ThemeOut(id=key, fr=fr, en=en) for key, (fr, en) in THEMES.items()]


@router.get("/territory", response_model=TerritoryOut)
def territory(request: Request) -> TerritoryOut:
    """The node's territory: name, bounding box (min lat, min lon, max lat, max lon),
    INSEE codes of its communes, time zone and language; the node's display name,
    colours (`#rrggbb`) and the URL of its logo."""
    node = deps.runtime(request)
    with node.transaction() as session:
        found = service.current(session)
        if found is None:
            raise NotFound("this node has no territory yet")
        return territory_out(found)


@router.patch("/territory", response_model=TerritoryOut)
def update_territory(patch: TerritoryPatch, request: Request) -> TerritoryOut:  # type: ignore[valid-type]
    """Change some fields (the node's administrators only); the result is validated whole.

    `node_name` is the name the pages show (the territory's `name` when null);
    `primary_colour` must carry white text (contrast at least 4.5:1), `accent_colour`
    stand out on the light header (at least 3:1). A node without a territory gets one
    (`name` is then needed; `timezone` and `default_language` default to the settings).
    """
    node = deps.runtime(request)
    with node.transaction() as session:
        person = _admin(request, session)
        defaults = {"timezone": node.settings.timezone, "default_language": node.settings.language}
        current = service.territory_input(service.current(session, lock=True), defaults)
        data, _ = merge(TerritoryIn, current, patch)
        return territory_out(service.update_territory(session, person, data))


@router.get(
    "/territory/logo",
    response_class=Response,
    responses={200: {"content": {t: {} for t in branding.LOGO_TYPES}}},
)
def get_logo(request: Request, v: str | None = None) -> Response:
    """The node's logo (404 when it has none)."""
    node = deps.runtime(request)
    with node.transaction() as session:
        found = service.logo(session)
    if found is None:
        raise NotFound("this node has no logo")
    media_type, sha256, data = found
    etag = f'"{sha256[:32]}"'
    cache = "public, max-age=300"
    if v is not None and sha256.startswith(v) and len(v) >= 16:
        cache = f"public, max-age={LOGO_MAX_AGE}, immutable"
    headers = {
        "ETag": etag,
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


@router.put("/territory/logo", response_model=TerritoryOut, openapi_extra=_LOGO_BODY)
def put_logo(
    request: Request, logo: Annotated[bytes, Body(media_type="image/png")] = b""
) -> TerritoryOut:
    """Replace the node's logo (administrators only): the image is the request body.

    413 over 512 KiB; 422 (`logo`) when it is not a PNG, JPEG or WebP image, or is SVG;
    409 while the node has no territory (set it with `PATCH /territory` first).
    """
    node = deps.runtime(request)
    with node.transaction() as session:
        return territory_out(service.set_logo(session, _admin(request, session), logo))


@router.delete("/territory/logo", status_code=204)
def delete_logo(request: Request) -> Response:
    """Remove the logo: the pages show the shipped mark again (administrators only)."""
    node = deps.runtime(request)
    with node.transaction() as session:
        service.remove_logo(session, _admin(request, session))
    return Response(status_code=204)


def _admin(request: Request, session: Session) -> Person:
    """The signed-in node administrator: 401 without a token, 403 for anyone else."""
    person = deps.actor(request, session)
    require_node_admin(person)
    return person
