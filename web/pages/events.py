"""The event page (JSON-LD, map, calendar file, registration) and its actions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.api.ical import FeedRow, calendar, feed_query
from node.api.representations import EventOut, event_out
from node.dbtypes import utcnow
from node.errors import Conflict, Gone, NotFound
from node.models import Event, Organisation
from node.services import events as service
from node.services.common import participation_of
from node.services.permissions import can_edit_event
from web.app import flash
from web.errors import error_page
from web.forms import see_other
from web.pages.common import Form, check_id, page_router, signed_in, viewer, web_of
from web.structured import event_json_ld
from web.views import json_script

router = page_router()
#: ``feed_query`` keeps events that ended after this minus 30 days: all of them
_ANY_TIME = datetime(1971, 1, 1, tzinfo=UTC)


@router.get("/events/{event_id}.ics")
def event_calendar(event_id: str, request: Request) -> Response:
    """One event as an iCalendar file (add it to a calendar)."""
    check_id(event_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        query = feed_query(_ANY_TIME).where(col(Event.id) == event_id)
        rows = [FeedRow(*row) for row in session.execute(query)]
    if not rows:
        raise NotFound("no such event")
    body = calendar(
        rows,
        name=rows[0].event.name,
        timezone=rows[0].event.timezone,
        language=web.language(request),
        stamp=utcnow(),
    )
    return Response(
        body,
        media_type="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="event-{event_id}.ics"'},
    )


@router.get("/events/{event_id}")
def event_page(event_id: str, request: Request) -> Response:
    check_id(event_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = viewer(request, session)
        try:
            event = event_out(session, event_id)
        except Gone:
            return _gone(request, session, event_id)
        participation, editor = None, False
        if person is not None:  # anonymous readers need neither (most page views)
            row = session.get(Event, event_id)
            assert row is not None
            participation = participation_of(session, event_id, person.id)
            editor = can_edit_event(session, person, row)
    values: dict[str, Any] = {
        "event": event,
        "participation": participation.state if participation else None,
        "editor": editor,
        "is_over": event.ends_at <= utcnow(),
        "json_ld": json_script(event_json_ld(event)),
        "pins": json_script(_pins(event)),
        "local_zone": event.timezone == web.territory().timezone,
    }
    return web.render(request, "event.html", values)


@router.post("/events/{event_id}/participation")
def participation(event_id: str, request: Request, form: Form) -> Response:
    """Register (``action=join``) or leave (``action=leave``), then back to the event."""
    check_id(event_id)
    web = web_of(request)
    action = form.get("action")
    try:
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            if action == "leave":
                service.leave_event(session, person, event_id)
                message = web.gettext(request, "You are no longer registered.")
            elif service.join_event(session, person, event_id).state == "going":
                message = web.gettext(request, "You are registered.")
            else:
                message = web.gettext(request, "Your registration awaits the organisers.")
    except Conflict as refused:  # full, over, cancelled: say so on the event's page
        message = web.gettext(request, refused.message)
    flash(request, message)
    return see_other(f"/events/{event_id}")


def _pins(event: EventOut) -> list[dict[str, Any]]:
    place = event.place
    if place is None or place.latitude is None or place.longitude is None:
        return []
    return [
        {
            "id": event.id,
            "type": "event",
            "name": place.name or event.name,
            "path": f"/events/{event.id}",
            "lat": place.latitude,
            "lon": place.longitude,
        }
    ]


def _gone(request: Request, session: Session, event_id: str) -> Response:
    """410, with a way on: the organisers' page and their other events."""
    web = web_of(request)
    links: list[tuple[str, str]] = []
    row = session.execute(
        select(col(Organisation.id), col(Organisation.name))
        .join(Event, col(Event.organisation_id) == col(Organisation.id))
        .where(col(Event.id) == event_id, col(Organisation.deleted_at).is_(None))
    ).first()
    if row is not None:
        links.append(
            (
                f"/organisations/{row[0]}",
                web.gettext(request, "See what %(name)s organises next", name=row[1]),
            )
        )
    message = web.gettext(request, "This event was deleted by its organisers.")
    return error_page(request, 410, message, links=links)
