"""What the API answers: output schemas and builders that load related rows in batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Table, bindparam, func, select
from sqlalchemy.orm import Mapped, Session
from sqlmodel import col

from node.errors import Gone, NotFound
from node.models import (
    Event,
    EventOrganiser,
    Follow,
    FollowState,
    Membership,
    MembershipState,
    Organisation,
    Participation,
    ParticipationState,
    Person,
    Place,
    Project,
)

T = TypeVar("T")
EVENT_TABLE: Table = Event.__table__  # type: ignore[attr-defined]
EVENT_PLACE: Table = Place.__table__  # type: ignore[attr-defined]


class PlaceOut(BaseModel):
    name: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    insee_code: str | None
    country: str | None
    latitude: float | None
    longitude: float | None
    precision: str


class ObjectOut(BaseModel):
    id: str
    url: str
    origin: str
    created: datetime
    updated: datetime


class PersonOut(ObjectOut):
    username: str
    name: str
    bio: str
    public_profile: bool


class MeOut(PersonOut):
    email: str | None
    locale: str
    is_admin: bool
    #: the saved place ("near me" in search); only its owner sees it
    place: PlaceOut | None


class OrganisationRef(BaseModel):
    id: str
    url: str
    origin: str
    name: str


class OrganisationOut(ObjectOut):
    username: str
    name: str
    kind: str
    legal_form: str | None
    siren: str | None
    rna: str | None
    description: str
    website: str | None
    email: str | None
    phone: str | None
    logo_url: str | None
    themes: list[str]
    tags: list[str]
    place: PlaceOut | None
    #: how it takes members (``open``, ``restricted``, ``invite``); ``None`` for an
    #: organisation of another node, whose server decides
    join_mode: str | None
    #: people whose follow is accepted (a follow of another node's organisation waits
    #: for its answer: not counted until then)
    followers_count: int
    members_count: int


class EventOut(ObjectOut):
    name: str
    organisation_id: str
    organisers: list[OrganisationRef]
    starts_at: datetime
    ends_at: datetime
    timezone: str
    description: str
    place: PlaceOut | None
    online_url: str | None
    capacity: int | None
    remaining_capacity: int | None
    participant_count: int
    join_mode: str
    external_participation_url: str | None
    status: str
    themes: list[str]
    tags: list[str]


class ProjectOut(ObjectOut):
    name: str
    organisation: OrganisationRef
    stage: str
    description: str
    themes: list[str]
    tags: list[str]
    place: PlaceOut | None


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None


def origin_of(obj: Organisation | Event | Project | Person) -> str:
    return obj.origin or "local"


def _places(session: Session, ids: Sequence[str | None]) -> dict[str, PlaceOut]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.scalars(select(Place).where(col(Place.id).in_(wanted)))
    return {p.id: PlaceOut.model_validate(p, from_attributes=True) for p in rows}


def _counts(
    session: Session, column: Mapped[str], where: ColumnElement[bool], ids: list[str]
) -> dict[str, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(column, func.count()).where(column.in_(ids), where).group_by(column)
    )
    return {key: int(n) for key, n in rows}


def person_out(person: Person) -> PersonOut:
    return PersonOut(
        id=person.id,
        url=person.ap_id,
        origin=origin_of(person),
        created=person.created,
        updated=person.updated,
        username=person.username,
        name=person.name,
        bio=person.bio,
        public_profile=person.public_profile,
    )


def me_out(session: Session, person: Person) -> MeOut:
    """The signed-in person's own view, with the saved place."""
    place = session.get(Place, person.place_id) if person.place_id else None
    return MeOut(
        **person_out(person).model_dump(),
        email=person.email,
        locale=person.locale,
        is_admin=person.is_admin,
        place=PlaceOut.model_validate(place, from_attributes=True) if place else None,
    )


def organisations_out(session: Session, orgs: Sequence[Organisation]) -> list[OrganisationOut]:
    ids = [o.id for o in orgs]
    places = _places(session, [o.place_id for o in orgs])
    followers = _counts(
        session, col(Follow.organisation_id), col(Follow.state) == FollowState.accepted, ids
    )
    members = _counts(
        session,
        col(Membership.organisation_id),
        col(Membership.state) == MembershipState.accepted,
        ids,
    )
    return [
        OrganisationOut(
            id=o.id,
            url=o.ap_id,
            origin=origin_of(o),
            created=o.created,
            updated=o.updated,
            username=o.username,
            name=o.name,
            kind=o.kind,
            legal_form=o.legal_form,
            siren=o.siren,
            rna=o.rna,
            description=o.description,
            website=o.website,
            email=o.email,
            phone=o.phone,
            logo_url=o.logo_url,
            themes=o.themes,
            tags=o.tags,
            place=places.get(o.place_id or ""),
            join_mode=o.join_mode if o.is_local else None,
            followers_count=followers.get(o.id, 0),
            members_count=members.get(o.id, 0),
        )
        for o in orgs
    ]


def organisation_refs(session: Session, ids: set[str]) -> dict[str, OrganisationRef]:
    if not ids:
        return {}
    rows = session.scalars(select(Organisation).where(col(Organisation.id).in_(ids)))
    return {
        o.id: OrganisationRef(id=o.id, url=o.ap_id, origin=origin_of(o), name=o.name) for o in rows
    }


_GOING = (
    select(func.count())
    .where(
        col(Participation.event_id) == Event.id,
        col(Participation.state) == ParticipationState.going,
    )
    .scalar_subquery()
)
_PLACE_FIELDS = tuple(PlaceOut.model_fields)
# built once: no statement construction nor cache-key computation per request; columns,
# not entities (run on the connection: the ORM's execution and loading cost more than
# SQLite's work for this one row)
_EVENT_BY_ID = (
    select(
        *EVENT_TABLE.columns,
        *(EVENT_PLACE.columns[name].label(f"place_{name}") for name in _PLACE_FIELDS),
        col(Place.id).label("place_row_id"),
        _GOING.label("going"),
    )
    .select_from(EVENT_TABLE)
    .outerjoin(EVENT_PLACE, EVENT_PLACE.columns["id"] == EVENT_TABLE.columns["place_id"])
    .where(EVENT_TABLE.columns["id"] == bindparam("event_id"))
)
_ORGANISER_REFS = (
    select(
        col(Organisation.id),
        col(Organisation.ap_id),
        col(Organisation.origin),
        col(Organisation.name),
    )
    .join(EventOrganiser, col(EventOrganiser.organisation_id) == col(Organisation.id))
    .where(col(EventOrganiser.event_id) == bindparam("event_id"))
    .order_by(col(EventOrganiser.position))
)


def event_out(session: Session, event_id: str) -> EventOut:
    """One event by id in two queries: event + place + going count, then organisers."""
    row = session.connection().execute(_EVENT_BY_ID, {"event_id": event_id}).first()
    if row is None:
        raise NotFound(f"no event {event_id}")
    if row.deleted_at is not None:
        raise Gone(f"event {event_id} was deleted")
    event: Event = row  # type: ignore[assignment]  # a row with the event's columns
    count = row.going
    refs = [
        OrganisationRef(id=i, url=u, origin=o or "local", name=n)
        for i, u, o, n in session.execute(_ORGANISER_REFS, {"event_id": event_id})
    ]
    if not refs:
        refs = list(organisation_refs(session, {event.organisation_id}).values())
    places = (
        {row.place_row_id: PlaceOut(**{n: row._mapping[f"place_{n}"] for n in _PLACE_FIELDS})}
        if row.place_row_id
        else {}
    )
    return events_out(
        session, [event], places=places, going={event.id: int(count)}, organisers={event.id: refs}
    )[0]


def events_out(
    session: Session,
    events: Sequence[Event],
    *,
    places: dict[str, PlaceOut] | None = None,
    going: dict[str, int] | None = None,
    organisers: dict[str, list[OrganisationRef]] | None = None,
) -> list[EventOut]:
    ids = [e.id for e in events]
    if places is None:
        places = _places(session, [e.place_id for e in events])
    refs_of: dict[str, list[OrganisationRef]] = defaultdict(list)
    if organisers is not None:
        refs_of.update(organisers)
    elif ids:
        for event_id, org_id, ap_id, origin, name in session.execute(
            select(
                col(EventOrganiser.event_id),
                col(Organisation.id),
                col(Organisation.ap_id),
                col(Organisation.origin),
                col(Organisation.name),
            )
            .join(Organisation, col(Organisation.id) == col(EventOrganiser.organisation_id))
            .where(
                col(EventOrganiser.event_id) == ids[0]
                if len(ids) == 1
                else col(EventOrganiser.event_id).in_(ids)
            )
            .order_by(col(EventOrganiser.event_id), col(EventOrganiser.position))
        ):
            refs_of[event_id].append(
                OrganisationRef(id=org_id, url=ap_id, origin=origin or "local", name=name)
            )
    # events without organiser rows fall back on their main organisation
    fallback = organisation_refs(
        session, {e.organisation_id for e in events if e.id not in refs_of}
    )
    if going is None:
        going = _counts(
            session,
            col(Participation.event_id),
            col(Participation.state) == ParticipationState.going,
            ids,
        )
    out = []
    for e in events:
        zone = ZoneInfo(e.timezone)
        count = going.get(e.id, 0)
        refs = refs_of.get(e.id) or [
            r for r in [fallback.get(e.organisation_id)] if r is not None
        ]
        out.append(
            EventOut(
                id=e.id,
                url=e.ap_id,
                origin=origin_of(e),
                created=e.created,
                updated=e.updated,
                name=e.name,
                organisation_id=e.organisation_id,
                organisers=refs,
                starts_at=e.starts_at.astimezone(zone),
                ends_at=e.ends_at.astimezone(zone),
                timezone=e.timezone,
                description=e.description,
                place=places.get(e.place_id or ""),
                online_url=e.online_url,
                capacity=e.capacity,
                remaining_capacity=None if e.capacity is None else max(0, e.capacity - count),
                participant_count=count,
                join_mode=e.join_mode,
                external_participation_url=e.external_participation_url,
                status=e.status,
                themes=e.themes,
                tags=e.tags,
            )
        )
    return out


def projects_out(session: Session, projects: Sequence[Project]) -> list[ProjectOut]:
    places = _places(session, [p.place_id for p in projects])
    refs = organisation_refs(session, {p.organisation_id for p in projects})
    return [
        ProjectOut(
            id=p.id,
            url=p.ap_id,
            origin=origin_of(p),
            created=p.created,
            updated=p.updated,
            name=p.name,
            organisation=refs[p.organisation_id],
            stage=p.stage,
            description=p.description,
            themes=p.themes,
            tags=p.tags,
            place=places.get(p.place_id or ""),
        )
        for p in projects
    ]
