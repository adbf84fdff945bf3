"""Our events → the ``Event`` of FEDERATION.md ("Events on the wire").

Every URL comes from the caller or from the event's ``ap_id`` (built by
:mod:`node.urls`); nothing here knows the node's host.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from federation.convert.outgoing_actor import followers_of
from federation.convert.outgoing_parts import (
    aware,
    context,
    hashtags,
    local_iso,
    place_object,
    utc_iso,
    zone_of,
)
from federation.convert.vocab import AS_PUBLIC, base_of, category_of
from node.models import Event, EventStatus, Place

_DAYS: Final = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS: Final = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

_WORDS: Final = {
    "fr": {
        "online": "en ligne",
        "cancelled": "Annulé",
        "tentative": "À confirmer",
    },
    "en": {
        "online": "online",
        "cancelled": "Cancelled",
        "tentative": "To be confirmed",
    },
}


def event_object(
    event: Event,
    *,
    place: Place | None,
    organisers: Sequence[str],
    url: str,
    participant_count: int,
    language: str = "fr",
    followers: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The ``Event`` of FEDERATION.md ("Events on the wire").

    ``organisers`` are the organiser actors' ids, main first (``attributedTo``);
    ``followers`` the collections to ``cc`` (by default each organiser's
    :func:`followers_of`); ``url`` the HTML page (the event's id, content-negotiated).
    """
    if not organisers:
        raise ValueError("an event has at least one organiser")
    zone = zone_of(event.timezone)
    attachment: list[dict[str, Any]] = []
    if event.online_url:
        attachment.append(
            {"type": "Link", "mediaType": "text/html", "name": "Website", "href": event.online_url}
        )
    document: dict[str, Any] = {
        "@context": context(),
        "id": event.ap_id,
        "type": "Event",
        "url": url,
        "name": event.name,
        "summary": summary_line(event, place, language=language),
        "content": event.description,
        "contentMap": {language: event.description},
        "mediaType": "text/html",
        "inLanguage": language,
        "startTime": local_iso(event.starts_at, zone),
        "endTime": local_iso(event.ends_at, zone),
        "timezone": event.timezone,
        "status": str(event.status).upper(),
        "category": category_of(event.themes),
        "joinMode": str(event.join_mode),
        "participantCount": participant_count,
        "commentsEnabled": False,
        "anonymousParticipationEnabled": False,
        "isOnline": bool(event.online_url) and place is None,
        "attachment": attachment,
        "tag": hashtags(event.tags, event.themes, base=base_of(event.ap_id)),
        "attributedTo": organisers[0],
        "published": utc_iso(event.created),
        "updated": utc_iso(event.updated),
        "to": [AS_PUBLIC],
        "cc": list(followers if followers is not None else map(followers_of, organisers)),
    }
    if event.external_participation_url:
        document["externalParticipationUrl"] = event.external_participation_url
    if event.capacity is not None:
        document["maximumAttendeeCapacity"] = event.capacity
        document["remainingAttendeeCapacity"] = max(0, event.capacity - participant_count)
    if place is not None:
        document["location"] = place_object(place, owner=event.ap_id)
    return document


def summary_line(event: Event, place: Place | None, *, language: str = "fr") -> str:
    """One line for readers that show only name + summary (Mastodon):
    ``samedi 5 décembre 2026 19:00–21:00 (Europe/Paris, UTC+01:00) · Salle X, Lille``."""
    lang = language if language in _DAYS else "fr"
    words = _WORDS[lang]
    zone = zone_of(event.timezone)
    start, end = aware(event.starts_at).astimezone(zone), aware(event.ends_at).astimezone(zone)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{_long_date(end, lang)} {end:%H:%M}"
    offset = _offset(start)
    zone_label = offset if event.timezone == offset else f"{event.timezone}, {offset}"
    line = f"{_long_date(start, lang)} {start:%H:%M}–{until} ({zone_label})"
    where = _place_label(place) if place is not None else None
    if where or event.online_url:
        line += f" · {where or words['online']}"
    if event.status == EventStatus.cancelled:
        line = f"{words['cancelled']} · {line}"
    elif event.status == EventStatus.tentative:
        line = f"{words['tentative']} · {line}"
    return " ".join(line.split())


def _offset(local: datetime) -> str:
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    sign = "+" if offset > timedelta(0) else "-"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _long_date(local: datetime, language: str) -> str:
    day = "1er" if language == "fr" and local.day == 1 else str(local.day)
    weekday, month = _DAYS[language][local.weekday()], _MONTHS[language][local.month - 1]
    return f"{weekday} {day} {month} {local.year}"


def _place_label(place: Place) -> str | None:
    parts = [p for p in (place.name, place.city) if p] or [p for p in (place.street,) if p]
    return ", ".join(dict.fromkeys(parts)) or None
