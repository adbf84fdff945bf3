"""The node's territory and branding, set by the node's administrators.

One write path for the admin pages and ``PATCH /api/v1/territory``: name, time zone,
default language, bounding box, communes, the node's display name, its colours and its
logo. The change is the node's own presentation, not a public object: no activity is
appended and no job enqueued. Readers that cache it (the web pages) are told in this
process once the change commits (:func:`generation`); other processes re-read it after
their cache's short lifetime.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.dbtypes import utcnow
from node.errors import Conflict, DomainError, Invalid
from node.models import Person, Territory, TerritoryLogo
from node.schemas import Input, Name, Text, TimeZone, partial
from node.services import branding
from node.services.common import slugify
from node.services.moderation import require_node_admin

#: INSEE codes a territory may list (France has about 35,000 communes).
MAX_COMMUNES = 40_000
INSEE_FORM = "an INSEE code has 5 characters, such as 59350 or 2A004"
BBOX_ORDER = "the minimum latitude and longitude come before the maximum ones"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _none_if_empty(value: str | None) -> str | None:
    return value or None


def _insee(value: str) -> str:
    code = value.upper()
    if len(code) != 5 or not (code.isdigit() or (code[:2] in ("2A", "2B") and code[2:].isdigit())):
        raise ValueError(INSEE_FORM)
    return code


Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
InseeCode = Annotated[str, BeforeValidator(_strip), Field(max_length=5), AfterValidator(_insee)]
Colour = Annotated[str, BeforeValidator(_strip), Field(max_length=7)]


class TerritoryIn(Input):
    """What the node's administrators set (``PATCH /api/v1/territory`` merges onto it)."""

    name: Name
    node_name: Annotated[
        Annotated[Text, Field(max_length=200)] | None, AfterValidator(_none_if_empty)
    ] = None
    timezone: TimeZone
    default_language: Literal["fr", "en"] = "fr"
    #: min lat, min lon, max lat, max lon
    bbox: tuple[Latitude, Longitude, Latitude, Longitude] | None = None
    communes: Annotated[list[InseeCode], Field(max_length=MAX_COMMUNES)] = Field(
        default_factory=list
    )
    primary_colour: Annotated[Colour, AfterValidator(branding.primary_colour)] | None = None
    accent_colour: Annotated[Colour, AfterValidator(branding.accent_colour)] | None = None

    @field_validator("bbox", mode="after")
    @classmethod
    def _ordered(
        cls, value: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if value is not None and (value[0] >= value[2] or value[1] >= value[3]):
            raise ValueError(BBOX_ORDER)
        return value

    @field_validator("communes", mode="after")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


TerritoryPatch = partial(TerritoryIn)


class LogoTooLarge(DomainError):
    status = 413
    code = "too_large"

    def __init__(self, message: str) -> None:
        super().__init__(f"logo: {message}", {"logo": message})


# --- reading ------------------------------------------------------------------------


def current(session: Session, *, lock: bool = False) -> Territory | None:
    """The node's territory (the first one made), if it has one."""
    query = select(Territory).order_by(col(Territory.created), col(Territory.id)).limit(1)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def bbox_of(territory: Territory) -> tuple[float, float, float, float] | None:
    corners = (territory.min_lat, territory.min_lon, territory.max_lat, territory.max_lon)
    if any(corner is None for corner in corners):
        return None
    return (
        territory.min_lat or 0.0,
        territory.min_lon or 0.0,
        territory.max_lat or 0.0,
        territory.max_lon or 0.0,
    )


def territory_input(
    territory: Territory | None, defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The territory as the input that would set it again (PATCH merges onto this);
    ``defaults`` stand in for a node without a territory yet."""
    if territory is None:
        return dict(defaults or {})
    return {
        "name": territory.name,
        "node_name": territory.node_name,
        "timezone": territory.timezone,
        "default_language": territory.default_language,
        "bbox": bbox_of(territory),
        "communes": territory.communes,
        "primary_colour": territory.primary_colour,
        "accent_colour": territory.accent_colour,
    }


def logo(session: Session) -> tuple[str, str, bytes] | None:
    """The logo's media type, SHA-256 and bytes, if the node has one."""
    row = session.execute(
        select(col(Territory.logo_type), col(Territory.logo_sha256), col(TerritoryLogo.data))
        .join(TerritoryLogo, col(TerritoryLogo.territory_id) == col(Territory.id))
        .order_by(col(Territory.created), col(Territory.id))
        .limit(1)
    ).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return str(row[0]), str(row[1]), base64.b64decode(row[2])


# --- writing ------------------------------------------------------------------------


def update_territory(session: Session, actor: Person, data: TerritoryIn) -> Territory:
    """Set the territory and the node's name and colours (made on first use)."""
    require_node_admin(actor)
    territory = current(session, lock=True)
    if territory is None:
        territory = Territory(name=data.name, slug=_free_slug(session, data.name), timezone="")
        session.add(territory)
    territory.name = data.name
    territory.node_name = data.node_name
    territory.timezone = data.timezone
    territory.default_language = data.default_language
    corners = data.bbox or (None, None, None, None)
    territory.min_lat, territory.min_lon, territory.max_lat, territory.max_lon = corners
    territory.communes = data.communes
    territory.primary_colour = data.primary_colour
    territory.accent_colour = data.accent_colour
    territory.updated = utcnow()
    session.flush()
    _announce(session)
    return territory


def set_logo(session: Session, actor: Person, data: bytes) -> Territory:
    """Replace the logo; its content decides whether it is one (see ``branding``)."""
    require_node_admin(actor)
    try:
        media_type = branding.sniff_logo(data)
    except branding.LogoRefused as refused:
        if refused.too_large:
            raise LogoTooLarge(refused.message) from None
        raise Invalid("logo", refused.message) from None
    territory = _existing(session)
    stored = session.get(TerritoryLogo, territory.id)
    encoded = base64.b64encode(data).decode("ascii")
    if stored is None:
        session.add(TerritoryLogo(territory_id=territory.id, data=encoded))
    else:
        stored.data = encoded
        stored.created = utcnow()
    territory.logo_type = media_type
    territory.logo_sha256 = hashlib.sha256(data).hexdigest()
    territory.updated = utcnow()
    session.flush()
    _announce(session)
    return territory


def remove_logo(session: Session, actor: Person) -> None:
    """Go back to the shipped mark (idempotent)."""
    require_node_admin(actor)
    territory = current(session, lock=True)
    if territory is None or territory.logo_sha256 is None:
        return
    stored = session.get(TerritoryLogo, territory.id)
    if stored is not None:
        session.delete(stored)
    territory.logo_type = None
    territory.logo_sha256 = None
    territory.updated = utcnow()
    session.flush()
    _announce(session)


def _existing(session: Session) -> Territory:
    territory = current(session, lock=True)
    if territory is None:
        raise Conflict("this node has no territory yet: set its name and time zone first")
    return territory


def _free_slug(session: Session, name: str) -> str:
    wanted = slugify(name, "territoire")
    taken = set(session.scalars(select(col(Territory.slug))))
    slug, n = wanted, 2
    while slug in taken:
        slug, n = f"{wanted}-{n}", n + 1
    return slug


# --- telling the readers ------------------------------------------------------------


class _Generation:
    """A number that grows each time a territory change commits in this process."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def bump(self, _session: Session | None = None) -> None:
        with self._lock:
            self._value += 1

    @property
    def value(self) -> int:
        return self._value


_GENERATION = _Generation()


def generation() -> int:
    """Changes once a territory change committed in this process: a cache of it that saw
    another number reads it again (changes made by other processes wait for its expiry)."""
    return _GENERATION.value


def _announce(session: Session) -> None:
    # after the commit, not now: a reader told before it would read the old row again
    # (a second change in the same transaction bumps twice: harmless)
    event.listen(session, "after_commit", _GENERATION.bump, once=True)
