"""iCalendar (RFC 5545) feeds of events, and HTML descriptions as plain text.

A feed holds the live events that end after ``PAST_DAYS`` days ago: upcoming ones and
the recent past, so that a calendar app keeps what just happened. Cancelled events stay
in the feed with ``STATUS:CANCELLED`` so that subscribers see the cancellation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import Select, func, select
from sqlmodel import col

from node.models import Activity, Event, Organisation, Place
from node.themes import THEMES, theme_label

PRODID = "-//Maillon//Maillon 0.1//FR"
PAST_DAYS = 30
REFRESH = timedelta(hours=1)
_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}

# --- HTML → text ---------------------------------------------------------------------

_BLOCKS = frozenset(
    {"p", "div", "blockquote", "pre", "ul", "ol", "table", "tr", "hr",
     "h1", "h2", "h3", "h4", "h5", "h6"}
)
_HIDDEN = frozenset({"script", "style", "template"})


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:])
            if href and href.startswith(("http://", "https://")) and href not in label:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text: paragraphs and list items on their own lines, links kept."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


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
