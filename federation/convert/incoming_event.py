"""Events received from peers → :class:`RemoteEvent` (plain data, no database).

Tolerant by design: Mobilizon, Gancio and FEP-8a8e implementations disagree on shapes
(see ``tests/federation/data/README.md``). Decisions:

- **End time**: missing, unreadable, or not after the start → start + 1 hour, and
  ``end_inferred`` is set (FEP-8a8e: show no end then). An end more than a year after the
  start is cut to a year (the most :mod:`node.services.events` accepts).
- **Time zone**: the ``timezone`` property when it is a known IANA zone. Otherwise, from
  the start time's offset: no offset, a zero offset (``Z``: UTC notation carries no local
  offset — JavaScript's ``toISOString()`` writes it whatever the zone) or the offset of
  ``default_timezone`` at that instant → ``default_timezone``; another whole-hour offset
  → the fixed zone ``Etc/GMT±N`` (POSIX signs: UTC+2 is ``Etc/GMT-2``); else ``UTC``.
- **Join mode**: ``free`` → free; ``restricted`` and ``invite`` → restricted;
  ``external``, FEP-8a8e's ``none`` (the origin answers ``Join`` with ``Ignore``), a
  missing or unknown value (peers without RSVP, Gancio) → external, registration at
  ``externalParticipationUrl`` or else at the event's page.
- **Limits**: text is cut to the model's lengths (name 200, street 300…); a URL too long
  for its column is dropped, not cut; an id too long is a :class:`ParseError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from typing import Any, Final
from zoneinfo import ZoneInfo, available_timezones

from federation.convert.incoming_place import RemotePlace, read_location
from federation.convert.values import (
    ParseError,
    clean_text,
    first,
    html_to_text,
    integer,
    language_value,
    moment,
    object_id,
    safe_html,
    text_to_html,
    type_names,
    url,
)
from federation.convert.vocab import (
    CATEGORY_THEMES,
    DESCRIPTION_MAX,
    NAME_MAX,
    ORGANISERS_MAX,
    TAGS_MAX,
    TIMEZONE_MAX,
)
from node.models import EventStatus, JoinMode
from node.schemas import FIRST_YEAR, LAST_YEAR
from node.services.events import EARLIEST, LATEST, MAX_DURATION
from node.themes import THEMES, normalise_tags

DEFAULT_TIMEZONE: Final = "Europe/Paris"
DEFAULT_DURATION: Final = timedelta(hours=1)
MAX_CAPACITY: Final = 1_000_000
MAX_THEMES: Final = 16
#: How many items of a list (``tag``, ``attachment``…) are looked at.
MAX_ITEMS: Final = 50

_STATUS: Final = {
    "confirmed": EventStatus.confirmed,
    "eventscheduled": EventStatus.confirmed,
    "eventrescheduled": EventStatus.confirmed,
    "eventmovedonline": EventStatus.confirmed,
    "tentative": EventStatus.tentative,
    "eventtentative": EventStatus.tentative,
    "eventpostponed": EventStatus.tentative,
    "cancelled": EventStatus.cancelled,
    "canceled": EventStatus.cancelled,
    "eventcancelled": EventStatus.cancelled,
}


@dataclass(frozen=True, slots=True)
class RemoteEvent:
    ap_id: str
    url: str
    name: str
    #: sanitised HTML
    description: str
    #: aware, UTC
    starts_at: datetime
    ends_at: datetime
    #: the peer sent no usable end: ``ends_at`` is a guess, not to be shown
    end_inferred: bool
    timezone: str
    place: RemotePlace | None
    online_url: str | None
    capacity: int | None
    #: a :class:`node.models.JoinMode` value
    join_mode: str
    external_participation_url: str | None
    #: a :class:`node.models.EventStatus` value
    status: str
    themes: tuple[str, ...]
    tags: tuple[str, ...]
    #: organiser actor ids, main first
    attributed_to: tuple[str, ...]
    published: datetime | None
    updated: datetime | None
    image_url: str | None


def parse_event(obj: Any, *, default_timezone: str = DEFAULT_TIMEZONE) -> RemoteEvent:
    """Read a peer's ``Event`` object; :class:`ParseError` when it cannot be used.

    ``default_timezone`` (the node's territory's zone) is used when the event names none
    and its offset does not contradict it (see the module's notes).
    """
    if _zone_name(default_timezone) is None:
        raise ValueError(f"unknown default_timezone {default_timezone!r}")
    if not isinstance(obj, dict):
        raise ParseError("an Event is a JSON object")
    if "Event" not in type_names(obj):
        raise ParseError("not an Event")
    ap_id = object_id(obj)
    page = url(obj.get("url")) or ap_id
    zone, starts_at, ends_at, end_inferred = _times(obj, default_timezone)
    place, online_from_location = read_location(obj.get("location"))
    join_mode, external_url = _participation(obj, page)
    themes, tags = _labels(obj)
    return RemoteEvent(
        ap_id=ap_id,
        url=page,
        name=_name(obj),
        description=_description(obj),
        starts_at=starts_at,
        ends_at=ends_at,
        end_inferred=end_inferred,
        timezone=zone,
        place=place,
        online_url=online_from_location or _online_attachment(obj),
        capacity=_capacity(obj.get("maximumAttendeeCapacity")),
        join_mode=join_mode,
        external_participation_url=external_url,
        status=_status(obj),
        themes=themes,
        tags=tags,
        attributed_to=_organisers(obj),
        published=_timestamp(obj.get("published")),
        updated=_timestamp(obj.get("updated")),
        image_url=_image(obj),
    )


# --- text --------------------------------------------------------------------------------


def _name(obj: dict[str, Any]) -> str:
    name = clean_text(language_value(obj, "name"), NAME_MAX)
    if name:
        return name
    summary = language_value(obj, "summary")
    if isinstance(summary, str):
        for line in html_to_text(summary[:DESCRIPTION_MAX]).splitlines():
            found = clean_text(line, NAME_MAX)
            if found:
                return found
    raise ParseError("an Event needs a name")


def _description(obj: dict[str, Any]) -> str:
    content = language_value(obj, "content")
    if not isinstance(content, str):
        return ""
    media_type = obj.get("mediaType")
    if isinstance(media_type, str) and media_type.split(";")[0].strip().lower() in {
        "text/markdown",
        "text/plain",
    }:
        content = text_to_html(content[:DESCRIPTION_MAX])
    return safe_html(content, DESCRIPTION_MAX)


# --- time --------------------------------------------------------------------------------


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone_name(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > TIMEZONE_MAX:
        return None
    name = value.strip()
    return name if name in _zones() else None


def _in_range(value: datetime) -> bool:
    return FIRST_YEAR <= value.year <= LAST_YEAR


def _times(obj: dict[str, Any], default: str) -> tuple[str, datetime, datetime, bool]:
    start = moment(obj.get("startTime"))
    if start is None:
        raise ParseError("startTime missing or not ISO 8601")
    if not _in_range(start):
        raise ParseError(f"startTime out of range ({FIRST_YEAR}-{LAST_YEAR})")
    zone_name = _zone_name(obj.get("timezone")) or _zone_from_offset(start, default)
    zone = ZoneInfo(zone_name)
    starts_at = _utc(start, zone)
    if not EARLIEST <= starts_at < LATEST:
        raise ParseError(f"startTime out of range ({FIRST_YEAR}-{LAST_YEAR})")
    end = moment(obj.get("endTime"))
    ends_at = _utc(end, zone) if end is not None and _in_range(end) else None
    if ends_at is None or ends_at <= starts_at:
        return zone_name, starts_at, starts_at + DEFAULT_DURATION, True
    return zone_name, starts_at, min(ends_at, starts_at + MAX_DURATION), False


def _utc(value: datetime, zone: tzinfo) -> datetime:
    """A time as aware UTC; a naive one is read in ``zone``."""
    local = value.replace(tzinfo=zone) if value.tzinfo is None else value
    return local.astimezone(UTC)


def _zone_from_offset(start: datetime, default: str) -> str:
    offset = start.utcoffset()
    if offset is None or not offset:
        return default
    if start.astimezone(ZoneInfo(default)).utcoffset() == offset:
        return default
    hours, rest = divmod(offset, timedelta(hours=1))
    if not rest and -12 <= hours <= 14:
        return f"Etc/GMT{-hours:+d}"
    return "UTC"


def _timestamp(value: Any) -> datetime | None:
    found = moment(value)
    if found is None or not _in_range(found):
        return None
    return _utc(found, UTC)


# --- attachments -------------------------------------------------------------------------


def _attachments(obj: dict[str, Any]) -> list[dict[str, Any]]:
    value = obj.get("attachment")
    items = value[:MAX_ITEMS] if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def _online_attachment(obj: dict[str, Any]) -> str | None:
    """Mobilizon's ``Link`` named ``Website``, else any HTML ``Link`` (Gancio)."""
    links = [
        a
        for a in _attachments(obj)
        if "Link" in type_names(a) and a.get("mediaType") in (None, "text/html")
    ]
    for link in sorted(links, key=lambda link: link.get("name") != "Website"):
        found = url(link.get("href"))
        if found:
            return found
    return None


def _image(obj: dict[str, Any]) -> str | None:
    """The banner (an ``Image``/``Document`` attachment, ``Banner`` first), else ``image``."""
    images = []
    for item in _attachments(obj):
        media_type = item.get("mediaType")
        if {"Image", "Document"} & set(type_names(item)) and (
            media_type is None or (isinstance(media_type, str) and media_type.startswith("image/"))
        ):
            images.append(item)
    for item in sorted(images, key=lambda item: item.get("name") != "Banner"):
        found = url(item.get("url"))
        if found:
            return found
    return url(obj.get("image"))


# --- participation, status, labels, organisers -------------------------------------------


def _participation(obj: dict[str, Any], page: str) -> tuple[str, str | None]:
    mode = obj.get("joinMode")
    external = url(obj.get("externalParticipationUrl"))
    if isinstance(mode, dict):  # a Link to where one registers
        external, mode = external or url(mode), "external"
    mode = mode.strip().lower() if isinstance(mode, str) else None
    if mode == "free":
        return JoinMode.free.value, external
    if mode in ("restricted", "invite"):
        return JoinMode.restricted.value, external
    return JoinMode.external.value, external or page


def _status(obj: dict[str, Any]) -> str:
    for key in ("eventStatus", "status", "ical:status"):
        value = first(obj.get(key))
        if isinstance(value, str) and len(value) <= 200:
            word = re.split(r"[/#:]", value.strip())[-1].lower()
            if word in _STATUS:
                return _STATUS[word].value
    return EventStatus.confirmed.value


def _capacity(value: Any) -> int | None:
    found = integer(value)
    return found if found is not None and 1 <= found <= MAX_CAPACITY else None


def _labels(obj: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Themes (from hashtags naming a theme, then the category) and the other tags."""
    value = obj.get("tag")
    names: list[str] = []
    for item in value[: MAX_ITEMS * 2] if isinstance(value, list) else [value]:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or len(name) > 200:
            continue
        kinds = type_names(item)
        # a Hashtag, or an untyped "#name" (Mobilizon accepts bare strings too)
        if "Hashtag" in kinds or (not kinds and name.startswith("#")):
            names.append(name)
    folded = normalise_tags(names)
    categories = obj.get("category")
    category_list = categories[:10] if isinstance(categories, list) else [categories]
    from_category = [
        CATEGORY_THEMES[c.strip().upper()]
        for c in category_list
        if isinstance(c, str) and c.strip().upper() in CATEGORY_THEMES
    ]
    themes = list(dict.fromkeys([t for t in folded if t in THEMES] + from_category))
    tags = [t for t in folded if t not in THEMES]
    return tuple(themes[:MAX_THEMES]), tuple(tags[:TAGS_MAX])


def _organisers(obj: dict[str, Any]) -> tuple[str, ...]:
    """``attributedTo``, then FEP-8a8e ``organizers``, then the object's ``actor``."""
    found: dict[str, None] = {}
    for source in (
        obj.get("attributedTo"),
        _collection_items(obj.get("organizers")),
        obj.get("actor"),
    ):
        for item in source[:MAX_ITEMS] if isinstance(source, list) else [source]:
            candidate = item.get("id") if isinstance(item, dict) else item
            actor_id = url(candidate) if isinstance(candidate, str) else None
            if actor_id:
                found.setdefault(actor_id, None)
    return tuple(found)[:ORGANISERS_MAX]


def _collection_items(value: Any) -> list[Any]:
    if not isinstance(value, dict):
        return value if isinstance(value, list) else []
    for page in (value, value.get("first")):
        if isinstance(page, dict):
            for key in ("orderedItems", "items"):
                items = page.get(key)
                if isinstance(items, list):
                    return items
    return []
