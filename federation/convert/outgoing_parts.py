"""The pieces every outgoing document shares: the context, places, hashtags, times,
tombstones and the activity around an object. Pure functions, no database, no network.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from federation.convert.vocab import CONTEXT
from node.models import Place

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def context() -> list[Any]:
    """A fresh copy of our ``@context``."""
    return copy.deepcopy(CONTEXT)


def place_object(place: Place, *, owner: str) -> dict[str, Any]:
    """A ``Place`` with a schema.org ``PostalAddress`` and float coordinates.

    Its id is ``<owner>#place-<digest of the place>``: Mobilizon keeps an address it has
    seen under an id and ignores later changes to it, so a moved place needs a new id.
    """
    fields = (
        place.name,
        place.street,
        place.postal_code,
        place.city,
        place.country,
        place.latitude,
        place.longitude,
    )
    digest = hashlib.sha256(repr(fields).encode()).hexdigest()[:12]
    address = {
        key: value
        for key, value in (
            ("type", "PostalAddress"),
            ("streetAddress", place.street),
            ("postalCode", place.postal_code),
            ("addressLocality", place.city),
            ("addressCountry", place.country),
        )
        if value
    }
    document: dict[str, Any] = {"id": f"{owner}#place-{digest}", "type": "Place"}
    if place.name:
        document["name"] = place.name
    document["address"] = address
    if place.latitude is not None and place.longitude is not None:
        document["latitude"] = float(place.latitude)
        document["longitude"] = float(place.longitude)
    return document


def hashtags(tags: Sequence[str], themes: Sequence[str], *, base: str) -> list[dict[str, Any]]:
    """``Hashtag`` objects for tags then themes. Names use ``_`` where our slugs have
    ``-`` (Mastodon's hashtags have no hyphen; ``normalise_tag`` folds ``_`` back)."""
    slugs = list(dict.fromkeys([*tags, *themes]))
    return [
        {"type": "Hashtag", "name": f"#{slug.replace('-', '_')}", "href": f"{base}/tags/{slug}"}
        for slug in slugs
    ]


def tombstone(ap_id: str, former_type: str, deleted: datetime) -> dict[str, Any]:
    """What a deleted object's URL answers (410) and what ``Delete`` carries."""
    return {
        "@context": context(),
        "id": ap_id,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": utc_iso(deleted),
    }


def activity(
    verb: str,
    *,
    id: str,
    actor: str,
    object: dict[str, Any] | str,
    to: Sequence[str],
    cc: Sequence[str],
    published: datetime,
) -> dict[str, Any]:
    """An activity around an object (embedded without its own ``@context``) or an id."""
    inner: dict[str, Any] | str = object
    if isinstance(object, dict):
        inner = {key: value for key, value in object.items() if key != "@context"}
    return {
        "@context": context(),
        "id": id,
        "type": verb,
        "actor": actor,
        "object": inner,
        "to": list(to),
        "cc": list(cc),
        "published": utc_iso(published),
    }


def update_id(object_id: str, updated: datetime) -> str:
    """A fresh id for an ``Update``: ``<object>#update-<milliseconds since 1970>``."""
    return f"{object_id}#update-{(aware(updated) - _EPOCH) // timedelta(milliseconds=1)}"


# --- times ---------------------------------------------------------------------------------


def utc_iso(moment: datetime) -> str:
    """``2026-12-05T18:00:00Z`` (a naive time is taken as UTC)."""
    return aware(moment).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def zone_of(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_iso(moment: datetime, zone: tzinfo) -> str:
    """ISO 8601 with the local offset: ``2026-12-05T19:00:00+01:00``."""
    return aware(moment).astimezone(zone).isoformat(timespec="seconds")
