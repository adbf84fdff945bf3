"""iCalendar (RFC 5545) feeds of events, and HTML descriptions as plain text.

A feed holds the live events that end after ``PAST_DAYS`` days ago: upcoming ones and
the recent past, so that a calendar app keeps what just happened. Cancelled events stay
in the feed with ``STATUS:CANCELLED`` so that subscribers see the cancellation.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import Select, func, select
from sqlmodel import col

from node.models import Activity, Event, Organisation, Place
from node.themes import THEMES, theme_label

PRODID = "-//Maillon//Maillon 0.1//FR"
#: part of every feed's ETag: bump it when the rendering changes
RENDERING = "1"
PAST_DAYS = 30
REFRESH = timedelta(hours=1)
_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}

# --- HTML → text ---------------------------------------------------------------------

_HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1\s*>", re.I | re.S)
_LINK = re.compile(
    r"""<a\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>(.*?)</a\s*>""",
    re.I | re.S,
)
_BREAK = re.compile(r"<br\b[^>]*>", re.I)
_ITEM = re.compile(r"<li\b[^>]*>", re.I)
_BLOCK = re.compile(r"</?(?:p|div|blockquote|pre|ul|ol|table|tr|hr|h[1-6])\b[^>]*>", re.I)
_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")
_SPACE = re.compile(r"\s+")
_GAP = re.compile(r"\n{3,}")


def _link(match: re.Match[str]) -> str:
    href = html.unescape(match[1] or match[2] or match[3] or "")
    label = match[4]
    if href.startswith(("http://", "https://")) and href not in html.unescape(_TAG.sub("", label)):
        return f"{label} ({href})"
    return label


def html_to_text(markup: str) -> str:
    """Readable plain text: paragraphs and list items on their own lines, links kept.

    Descriptions are sanitised, well-formed HTML (``node.sanitize``), so regular
    expressions do: this runs once per row of a 100k-row export.
    """
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    text = _SPACE.sub(" ", _HIDDEN.sub("", markup))
    text = _LINK.sub(_link, text)
    text = _BLOCK.sub("\n\n", _ITEM.sub("\n- ", _BREAK.sub("\n", text)))
    text = html.unescape(_TAG.sub("", text))
    lines = [line.strip() for line in text.split("\n")]
    return _GAP.sub("\n\n", "\n".join(lines)).strip()


# --- loading -------------------------------------------------------------------------


class FeedRow(NamedTuple):
    event: Event
    place: Place | None
    organiser: Organisation | None
    sequence: int


def feed_query(now: datetime) -> Select[Any]:
    """Live events ending after ``PAST_DAYS`` ago, soonest first, with what a VEVENT shows.

    Place, main organiser and revision count come in the same query (no N+1).
    """
    updates = (
        select(func.count())
        .where(
            col(Activity.object_id) == col(Event.id),
            col(Activity.object_type) == "event",
            col(Activity.type) == "Update",
        )
        .correlate(Event)
        .scalar_subquery()
    )
    return (
        select(Event, Place, Organisation, updates)
        .outerjoin(Place, col(Place.id) == col(Event.place_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Event.organisation_id))
        .where(
            col(Event.deleted_at).is_(None),
            col(Event.ends_at) >= now - timedelta(days=PAST_DAYS),
        )
        .order_by(col(Event.starts_at), col(Event.id))
    )


def feed_etag(rows: Sequence[FeedRow], *context: str) -> str:
    """A weak validator of a feed: what its rows show changed, or the context did.

    Places are never edited in place (a new place row is made), organisations bump
    ``updated`` when renamed, so ids, ``updated`` and the revision count suffice.
    """
    digest = hashlib.sha256("\0".join((RENDERING, *context)).encode())
    for event, _, organiser, sequence in rows:
        org = f"{organiser.id} {organiser.updated.isoformat()}" if organiser else ""
        digest.update(f"\n{event.id} {event.updated.isoformat()} {sequence} {org}".encode())
    return f'W/"{digest.hexdigest()[:40]}"'


# --- rendering -----------------------------------------------------------------------


def location(place: Place | None, online_url: str | None) -> str | None:
    """``name, street, postal_code city``, or the online URL of an online-only event."""
    if place is not None:
        town = " ".join(p for p in (place.postal_code, place.city) if p)
        parts = [p for p in (place.name, place.street, town) if p]
        if parts:
            return ", ".join(parts)
    return online_url


def _categories(event: Event, language: str) -> list[str]:
    themes = [theme_label(t, language) if t in THEMES else t for t in event.themes]
    return list(dict.fromkeys([*themes, *event.tags]))


def vevent(row: FeedRow, stamp: datetime, language: str) -> Any:
    """One VEVENT: times in the event's own zone (``TZID``), UID = the canonical URL."""
    event, place, organiser, sequence = row
    zone = ZoneInfo(event.timezone)
    component = icalendar.Event()
    component.add("uid", event.ap_id)
    component.add("dtstamp", stamp)
    component.add("created", event.created)
    component.add("last-modified", event.updated)
    component.add("sequence", int(sequence or 0))
    component.add("summary", event.name)
    component.add("dtstart", event.starts_at.astimezone(zone))
    component.add("dtend", event.ends_at.astimezone(zone))
    component.add("status", _STATUS.get(event.status, "CONFIRMED"))
    component.add("url", event.ap_id)
    text = html_to_text(event.description)
    if text:
        component.add("description", text)
    where = location(place, event.online_url)
    if where:
        component.add("location", where)
    if place is not None and place.latitude is not None and place.longitude is not None:
        component.add("geo", (place.latitude, place.longitude))
    categories = _categories(event, language)
    if categories:
        component.add("categories", categories)
    if organiser is not None:
        component.add(
            "organizer", icalendar.vCalAddress(organiser.ap_id), parameters={"cn": organiser.name}
        )
    return component


def calendar(
    rows: Sequence[FeedRow], *, name: str, timezone: str, language: str, stamp: datetime
) -> bytes:
    """The VCALENDAR of these events, with the VTIMEZONE of every zone they use.

    The VTIMEZONE components cover the years the events span, which keeps them short.
    """
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", timezone)
    cal.add("refresh-interval", icalendar.vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(REFRESH))
    for row in rows:
        cal.add_component(vevent(row, stamp, language))
    if rows:
        first = min(r.event.starts_at for r in rows).year
        last = max(r.event.ends_at for r in rows).year
        cal.add_missing_timezones(
            first_date=date(first - 1, 1, 1), last_date=date(last + 1, 12, 31)
        )
    out: bytes = cal.to_ical()
    return out
