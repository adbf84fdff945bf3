"""Events and participation: ``/events``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from node.api import deps
from node.api.listing import after, labelled, ordered
from node.api.pagination import decode_cursor, encode_cursor
from node.api.patching import merge
from node.api.representations import EventOut, Page, event_out, events_out
from node.dbtypes import utcnow
from node.errors import Invalid
from node.models import Event, EventOrganiser, Participation, ParticipationState, Person
from node.schemas import ORIGIN_PATTERN, EventIn, EventPatch, Input, ObjectId, Tags, Themes
from node.services import events as service
from node.services.common import get_live
from node.services.permissions import require_event_editor

router = APIRouter(prefix="/events", tags=["events"], dependencies=[Depends(deps.known_path_ids)])


class When(StrEnum):
    upcoming = "upcoming"
    past = "past"
    all = "all"


@router.get("", response_model=Page[EventOut])
def list_events(
    request: Request,
    organisation_id: Annotated[ObjectId | None, Query()] = None,
    theme: Annotated[Themes, Query()] = [],  # noqa: B006 (FastAPI reads, never mutates)
    tag: Annotated[Tags, Query()] = [],  # noqa: B006
    when: When = When.upcoming,
    origin: Annotated[str | None, Query(max_length=255, pattern=ORIGIN_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[EventOut]:
    """Upcoming events soonest first (default), past events latest first, or all.

    Filter by organiser, theme(s) (any of), tag(s) (any of), origin (`local` or a host).
    """
    node = deps.runtime(request)
    query = select(Event).where(col(Event.deleted_at).is_(None))
    now = utcnow()
    if when == When.upcoming:
        query = query.where(col(Event.ends_at) >= now)
    elif when == When.past:
        query = query.where(col(Event.ends_at) < now)
    if organisation_id:
        query = query.where(
            col(Event.id).in_(
                select(col(EventOrganiser.event_id)).where(
                    col(EventOrganiser.organisation_id) == organisation_id
                )
            )
        )
    if theme:
        query = query.where(col(Event.id).in_(labelled("event", "theme", theme)))
    if tag:
        query = query.where(col(Event.id).in_(labelled("event", "tag", tag)))
    if origin == "local":
        query = query.where(col(Event.origin).is_(None))
    elif origin:
        query = query.where(col(Event.origin) == origin)
    descending = when == When.past
    columns = [col(Event.starts_at), col(Event.id)]
    if cursor:
        moment, last_id = decode_cursor(cursor, 2)
        try:
            starts = datetime.fromisoformat(moment)
        except ValueError:
            raise Invalid("cursor", "not a cursor this node gave") from None
        if starts.tzinfo is None:
            raise Invalid("cursor", "not a cursor this node gave")
        query = query.where(after(columns, [starts, last_id], descending))
    query = ordered(query, columns, descending).limit(limit + 1)
    with node.transaction() as session:
        rows = list(session.scalars(query))
        items = events_out(session, rows[:limit])
    following = None
    if len(rows) > limit:
        last = rows[limit - 1]
        following = encode_cursor([last.starts_at.isoformat(), last.id])
    return Page[EventOut](items=items, next=following)


@router.post("", status_code=201, response_model=EventOut)
def create_event(data: EventIn, request: Request) -> EventOut:
    """Publish an event for an organisation you administer.

    Times without an offset are read in `timezone` (the territory's by default).
    """
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        event = service.create_event(session, node.context, person, data)
        return events_out(session, [event])[0]


@router.get("/{event_id}", response_model=EventOut)
def get_event(event_id: str, request: Request) -> EventOut:
    node = deps.runtime(request)
    with node.transaction() as session:
        return event_out(session, event_id)


@router.patch("/{event_id}", response_model=EventOut)
def update_event(event_id: str, patch: EventPatch, request: Request) -> EventOut:  # type: ignore[valid-type]
    """Change some fields (organisers' admins only); set `status` to cancel."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        event = get_live(session, Event, event_id, lock=True)
        require_event_editor(session, person, event)
        data, changed = merge(EventIn, service.event_input(session, event), patch)
        service.update_event(session, node.context, person, event, data, "place" in changed)
        return events_out(session, [event])[0]


@router.delete("/{event_id}", status_code=204)
def delete_event(event_id: str, request: Request) -> Response:
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        service.delete_event(session, node.context, person, get_live(session, Event, event_id))
    return Response(status_code=204)


class ParticipationOut(BaseModel):
    event_id: str
    person_id: str
    state: str


class ParticipantOut(BaseModel):
    person_id: str
    name: str
    state: str
    registered: datetime


class DecisionIn(Input):
    state: ParticipationState


@router.post("/{event_id}/participation", status_code=201, response_model=ParticipationOut)
def join(event_id: str, request: Request) -> ParticipationOut:
    """Register: `going`, or `pending` when the organisers approve each registration.

    409 when the event is full, cancelled, over, or registers elsewhere (`external`).
    """
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        participation = service.register_for(session, node.context, person, event_id)
        return ParticipationOut(
            event_id=participation.event_id, person_id=person.id, state=participation.state
        )


@router.delete("/{event_id}/participation", status_code=204)
def leave(event_id: str, request: Request) -> Response:
    node = deps.runtime(request)
    with node.transaction() as session:
        service.withdraw_from(session, node.context, deps.actor(request, session), event_id)
    return Response(status_code=204)


@router.get("/{event_id}/participants", response_model=list[ParticipantOut])
def participants(event_id: str, request: Request) -> list[ParticipantOut]:
    """Who registered (organisers' admins only)."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        event = get_live(session, Event, event_id)
        require_event_editor(session, person, event)
        rows = session.execute(
            select(Participation, Person)
            .join(Person, col(Person.id) == col(Participation.person_id))
            .where(col(Participation.event_id) == event.id)
            .order_by(col(Participation.created))
        )
        return [
            ParticipantOut(person_id=p.id, name=p.name, state=r.state, registered=r.created)
            for r, p in rows
        ]


@router.patch("/{event_id}/participants/{person_id}", response_model=ParticipationOut)
def decide(event_id: str, person_id: str, data: DecisionIn, request: Request) -> ParticipationOut:
    """Accept (`going`) or decline (`rejected`) a registration; capacity is honoured."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        event = get_live(session, Event, event_id)
        participation = service.decide_participation(
            session, person, event, person_id, data.state, node.context
        )
        return ParticipationOut(event_id=event.id, person_id=person_id, state=participation.state)
