"""Objects received from other nodes: read-only copies, kept in step with their origin.

The federation layer parses what peers send and calls these services; like every other
change they run in the caller's transaction and enqueue the index jobs that follow.
They enforce the two rules of copies: a copy is only changed by its origin (the host of
its id), and an older version never replaces a newer one (``updated`` orders them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.dbtypes import utcnow
from node.errors import Conflict, Forbidden
from node.models import (
    Contribution,
    Event,
    EventOrganiser,
    Follow,
    Follower,
    FollowState,
    InboxItem,
    Job,
    Label,
    Membership,
    Organisation,
    Participation,
    ParticipationState,
    Person,
    Place,
    Project,
    RemoteActor,
    Stored,
    Token,
)
from node.schemas import PlaceIn
from node.services.common import (
    make_place,
    new_place,
    participation_of,
    set_labels,
    set_labels_of,
    unique_username,
)
from node.services.context import NodeContext
from node.services.outbox import domain_of, index, publish


@dataclass(frozen=True, slots=True)
class RemoteOrganisationData:
    ap_id: str
    username: str
    name: str
    description: str = ""
    website: str | None = None
    logo_url: str | None = None
    themes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    place: PlaceIn | None = None
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class RemoteEventData:
    ap_id: str
    name: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    description: str = ""
    place: PlaceIn | None = None
    online_url: str | None = None
    capacity: int | None = None
    join_mode: str = "free"
    external_participation_url: str | None = None
    status: str = "confirmed"
    themes: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    updated: datetime | None = None


def _require_origin(ap_id: str, origin: str) -> None:
    if domain_of(ap_id) != origin:
        raise Forbidden(f"{origin} may not speak for {ap_id}")


def _is_stale(row: Stored, updated: datetime | None) -> bool:
    return updated is not None and row.updated is not None and updated < row.updated


def upsert_person(
    session: Session,
    *,
    ap_id: str,
    username: str | None,
    name: str,
    bio: str = "",
    inbox: str | None = None,
    shared_inbox: str | None = None,
) -> Person:
    """The local copy of a remote person (created or refreshed)."""
    origin = domain_of(ap_id)
    person = session.scalar(select(Person).where(col(Person.ap_id) == ap_id))
    if person is None:
        handle = f"{username or 'person'}@{origin}"[:255]
        person = Person(
            ap_id=ap_id,
            origin=origin,
            username=unique_username(session, Person, handle),
            name=name[:200] or handle,
        )
        session.add(person)
    elif not person.is_local:
        person.name = name[:200] or person.name
    person.bio = bio
    person.inbox = inbox
    person.shared_inbox = shared_inbox
    person.updated = utcnow()
    session.flush()
    return person


def upsert_organisation(
    session: Session, node: NodeContext, data: RemoteOrganisationData
) -> Organisation | None:
    """Create or update the copy of a remote group; ``None`` when the update is stale or
    the group was deleted (a tombstone is not brought back)."""
    origin = domain_of(data.ap_id)
    org = session.scalar(select(Organisation).where(col(Organisation.ap_id) == data.ap_id))
    if org is not None and (org.is_local or org.deleted_at is not None):
        return None
    if org is not None and _is_stale(org, data.updated):
        return None
    if org is None:
        handle = f"{data.username}@{origin}"[:255]
        org = Organisation(
            ap_id=data.ap_id,
            origin=origin,
            username=unique_username(session, Organisation, handle),
            name=data.name[:200],
            kind="informal-group",
        )
        session.add(org)
    org.name = data.name[:200] or org.username
    org.description = data.description
    org.website = data.website
    org.logo_url = data.logo_url
    org.themes = data.themes
    org.tags = data.tags
    org.place_id = make_place(session, node, data.place)
    org.updated = data.updated or utcnow()
    session.flush()
    set_labels(session, "organisation", org.id, org.themes, org.tags)
    index(session, "organisation", org.id)
    return org


def upsert_event(
    session: Session,
    node: NodeContext,
    data: RemoteEventData,
    organisers: list[Organisation],
) -> Event | None:
    """Create or update the copy of a remote event organised by ``organisers`` (copies of
    remote groups, main first); ``None`` when stale, deleted or not remote."""
    return upsert_events(session, node, [(data, organisers)])[0]


def upsert_events(
    session: Session,
    node: NodeContext,
    items: list[tuple[RemoteEventData, list[Organisation]]],
) -> list[Event | None]:
    """:func:`upsert_event` for many at once, in order (a later version of the same event
    in ``items`` applies after the earlier one): one look-up of the existing copies, one
    flush, one replacement of organisers and labels, one index enqueue."""
    if any(not organisers for _, organisers in items):
        raise ValueError("a remote event needs an organiser")
    wanted = list(dict.fromkeys(data.ap_id for data, _ in items))
    known: dict[str, Event] = {
        event.ap_id: event
        for event in session.scalars(select(Event).where(col(Event.ap_id).in_(wanted)))
        if event.ap_id
    }
    # the places first, flushed: the models declare no relationships for the flush to
    # order the event rows after the place rows they point to
    places: list[Place | None] = []
    for data, _ in items:
        event = known.get(data.ap_id)
        fresh = event is None or not (
            event.is_local or event.deleted_at is not None or _is_stale(event, data.updated)
        )
        places.append(new_place(node, data.place) if fresh else None)
    session.add_all(place for place in places if place is not None)
    session.flush()
    results: list[Event | None] = []
    organisers_of: dict[str, list[str]] = {}
    for (data, organisers), place in zip(items, places, strict=True):
        event = known.get(data.ap_id)
        if event is not None and (event.is_local or event.deleted_at is not None):
            results.append(None)
            continue
        if event is not None and _is_stale(event, data.updated):
            results.append(None)
            continue
        fields: dict[str, Any] = {
            "name": data.name[:200],
            "organisation_id": organisers[0].id,
            "description": data.description,
            "starts_at": data.starts_at,
            "ends_at": data.ends_at,
            "timezone": data.timezone,
            "online_url": data.online_url,
            "capacity": data.capacity,
            "join_mode": data.join_mode,
            "external_participation_url": data.external_participation_url,
            "status": data.status,
            "themes": data.themes,
            "tags": data.tags,
            "place_id": place.id if place is not None else None,
            "updated": data.updated or utcnow(),
        }
        if event is None:
            event = known[data.ap_id] = Event(
                ap_id=data.ap_id, origin=domain_of(data.ap_id), **fields
            )
            session.add(event)
        else:
            for name, value in fields.items():
                setattr(event, name, value)
        organisers_of[event.id] = list(dict.fromkeys(o.id for o in organisers))
        results.append(event)
    if not organisers_of:
        return results
    session.flush()
    session.execute(
        delete(EventOrganiser).where(col(EventOrganiser.event_id).in_(list(organisers_of)))
    )
    session.add_all(
        EventOrganiser(event_id=event_id, organisation_id=organiser_id, position=position)
        for event_id, organiser_ids in organisers_of.items()
        for position, organiser_id in enumerate(organiser_ids)
    )
    changed = {event.id: event for event in results if event is not None}
    set_labels_of(session, "event", {i: (event.themes, event.tags) for i, event in changed.items()})
    index(session, "event", *changed)
    return results


def delete_copy(session: Session, ap_id: str, origin: str) -> str | None:
    """Tombstone the copy of a remote object at the request of its origin; returns the
    kind deleted (``event``, ``organisation``, ``person``) or ``None`` when unknown."""
    _require_origin(ap_id, origin)
    for kind, model in (
        ("event", Event),
        ("organisation", Organisation),
        ("project", Project),
        ("person", Person),
    ):
        row: Stored | None = session.scalar(select(model).where(col(model.ap_id) == ap_id))
        if row is None or row.is_local:
            continue
        if row.deleted_at is None:
            row.deleted_at = row.updated = utcnow()
            set_labels(session, kind, row.id, [], [])
            if kind == "organisation":
                for event_id in session.scalars(
                    select(col(Event.id)).where(
                        col(Event.organisation_id) == row.id, col(Event.deleted_at).is_(None)
                    )
                ):
                    _tombstone_event(session, event_id)
            if kind in ("event", "organisation", "project"):
                index(session, kind, row.id)
        return kind
    return None


def _tombstone_event(session: Session, event_id: str) -> None:
    event = session.get_one(Event, event_id)
    event.deleted_at = event.updated = utcnow()
    set_labels(session, "event", event.id, [], [])
    index(session, "event", event.id)


# --- followers of our actors --------------------------------------------------------------


def add_follower(
    session: Session, *, actor: str, follower: str, inbox: str, follow_id: str | None
) -> Follower:
    """Record that a remote actor follows one of ours (idempotent)."""
    existing = session.scalar(
        select(Follower).where(col(Follower.actor) == actor, col(Follower.follower) == follower)
    )
    if existing is not None:
        existing.inbox = inbox
        existing.follow_id = follow_id or existing.follow_id
        return existing
    created = Follower(actor=actor, follower=follower, inbox=inbox, follow_id=follow_id)
    session.add(created)
    session.flush()
    return created


def remove_follower(session: Session, *, actor: str, follower: str) -> bool:
    result = session.execute(
        delete(Follower).where(col(Follower.actor) == actor, col(Follower.follower) == follower)
    )
    return bool(getattr(result, "rowcount", 0))


# --- registrations across nodes -------------------------------------------------------------


def organiser_inbox(session: Session, event: Event) -> str | None:
    """Where a remote event's organiser receives activities (shared inbox first)."""
    org = session.get(Organisation, event.organisation_id)
    if org is None:
        return None
    actor = session.scalar(select(RemoteActor).where(col(RemoteActor.ap_id) == org.ap_id))
    if actor is None:
        return None
    return actor.shared_inbox or actor.inbox


def join_remote_event(
    session: Session, node: NodeContext, person: Person, event: Event
) -> Participation:
    """A local person registers for a remote event: pending until its organiser answers
    our ``Join`` with ``Accept`` (going) or ``Reject``."""
    existing = participation_of(session, event.id, person.id)
    if existing is not None and existing.state != ParticipationState.rejected:
        return existing
    if existing is not None:
        raise Conflict("the organisers declined this registration")
    inbox = organiser_inbox(session, event)
    if inbox is None:
        raise Forbidden("the organiser of this event cannot be reached")
    activity = publish(
        session,
        node,
        verb="Join",
        actor=person.ap_id,
        object_type="event",
        object_id=event.id,
        object_url=event.ap_id,
        inboxes=[inbox],
        public=False,
    )
    if existing is None:
        existing = Participation(event_id=event.id, person_id=person.id)
        session.add(existing)
    existing.state = ParticipationState.pending
    existing.activity_id = activity.ap_id
    existing.updated = utcnow()
    session.flush()
    return existing


def leave_remote_event(session: Session, node: NodeContext, person: Person, event: Event) -> None:
    """Withdraw from a remote event: the organiser receives ``Leave``."""
    existing = participation_of(session, event.id, person.id)
    if existing is not None:
        session.delete(existing)
    inbox = organiser_inbox(session, event)
    if inbox is not None:
        publish(
            session,
            node,
            verb="Leave",
            actor=person.ap_id,
            object_type="event",
            object_id=event.id,
            object_url=event.ap_id,
            inboxes=[inbox],
            public=False,
        )


# --- local people following remote organisations -------------------------------------------


def actor_inbox(session: Session, ap_id: str) -> str | None:
    """Where a remote actor receives what is addressed to it alone (its own inbox first)."""
    actor = session.scalar(select(RemoteActor).where(col(RemoteActor.ap_id) == ap_id))
    if actor is None:
        return None
    return actor.inbox or actor.shared_inbox


def follow_of_remote(
    session: Session,
    *,
    activity_id: str | None = None,
    follower: str | None = None,
    followed: str | None = None,
) -> Follow | None:
    """A local person's follow of a remote organisation: by the id of our ``Follow``, or
    by who follows whom (for a peer that answers with a ``Follow`` of its own making)."""
    if activity_id:
        found = session.scalar(select(Follow).where(col(Follow.activity_id) == activity_id))
        if found is not None:
            return found
    if not (follower and followed):
        return None
    return session.scalar(
        select(Follow)
        .join(Person, col(Person.id) == col(Follow.person_id))
        .join(Organisation, col(Organisation.id) == col(Follow.organisation_id))
        .where(
            col(Person.ap_id) == follower,
            col(Person.origin).is_(None),
            col(Organisation.ap_id) == followed,
            col(Follow.activity_id).is_not(None),
        )
    )


def answer_follow(session: Session, follow: Follow, *, by: str, accepted: bool) -> Organisation:
    """The organisation's server answered: ``Accept`` makes the follow active, ``Reject``
    drops it (also an accepted one: the group removed its follower). Only the
    organisation's own server answers for it."""
    org = session.get_one(Organisation, follow.organisation_id)
    _require_origin(org.ap_id, domain_of(by))
    if accepted:
        follow.state = FollowState.accepted
    else:
        session.delete(follow)
    return org


# --- forgetting a server ----------------------------------------------------------------------


@dataclass
class Purged:
    """What a purge removed: the copies of one server's objects, its actors, its followers
    of ours and its unprocessed activities — and the relations that pointed at them."""

    events: int = 0
    projects: int = 0
    organisations: int = 0
    people: int = 0
    actors: int = 0
    followers: int = 0
    inbox_items: int = 0
    #: registrations for its events (local people's) and its people's for ours
    participations: int = 0
    memberships: int = 0
    follows: int = 0
    contributions: int = 0

    def __iadd__(self, other: Purged) -> Purged:
        for name in self.as_dict():
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def __bool__(self) -> bool:
        return any(self.as_dict().values())

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def purge_origin(session: Session, origin: str, limit: int = 200) -> Purged:
    """Delete one batch of what came from ``origin`` (a domain): at most ``limit`` rows of
    the first kind that has some left, with what refers to them. Call again until the
    answer is empty. Copies are deleted, not tombstoned, so that they may come back if the
    server is federated with again; the search documents go through index jobs."""
    purged = Purged()
    for step in (
        _purge_inbox,
        _purge_events,
        _purge_projects,
        _purge_organisations,
        _purge_people,
        _purge_followers,
        _purge_actors,
    ):
        step(session, origin, limit, purged)
        if purged:
            break
    return purged


def _copies(session: Session, model: type[Stored], origin: str, limit: int) -> list[str]:
    return list(
        session.scalars(
            select(col(model.id))
            .where(col(model.origin) == origin)
            .order_by(col(model.id))
            .limit(limit)
        )
    )


def _delete(session: Session, model: type[Any], *where: Any) -> int:
    result = session.execute(delete(model).where(*where))
    return int(getattr(result, "rowcount", 0) or 0)


def _referring(session: Session, column: Any, where: Any) -> set[str]:
    return set(session.scalars(select(column).where(where)))


def _forget(session: Session, kind: str, model: type[Stored], ids: Sequence[str]) -> None:
    """Delete copies with their labels and places; their search documents go (as for a
    ``Delete`` received: ``delete_copy``, an index job per object)."""
    places = _referring(session, col(model.place_id), col(model.id).in_(ids))  # type: ignore[attr-defined]
    session.execute(
        delete(Label).where(col(Label.entity_type) == kind, col(Label.entity_id).in_(ids))
    )
    session.execute(delete(model).where(col(model.id).in_(ids)))
    _drop_places(session, {p for p in places if p})
    if kind in ("event", "organisation", "project"):
        for object_id in ids:
            index(session, kind, object_id)


def _drop_places(session: Session, ids: set[str]) -> None:
    """Delete these places unless something still stands there."""
    if not ids:
        return
    used: set[str] = set()
    for model in (Organisation, Event, Project, Person):
        used |= _referring(session, col(model.place_id), col(model.place_id).in_(ids))
    free = sorted(ids - used)
    if free:
        session.execute(delete(Place).where(col(Place.id).in_(free)))


def _drop_events(session: Session, ids: Sequence[str], purged: Purged) -> None:
    purged.participations += _delete(session, Participation, col(Participation.event_id).in_(ids))
    session.execute(delete(EventOrganiser).where(col(EventOrganiser.event_id).in_(ids)))
    _forget(session, "event", Event, ids)
    purged.events += len(ids)


def _drop_projects(session: Session, ids: Sequence[str], purged: Purged) -> None:
    purged.contributions += _delete(session, Contribution, col(Contribution.project_id).in_(ids))
    _forget(session, "project", Project, ids)
    purged.projects += len(ids)


def _purge_inbox(session: Session, origin: str, limit: int, purged: Purged) -> None:
    """Activities received from it and not handled yet, with their waiting jobs."""
    ids = list(
        session.scalars(
            select(col(InboxItem.id))
            .where(col(InboxItem.domain) == origin, col(InboxItem.state) == "pending")
            .limit(limit)
        )
    )
    if not ids:
        return
    session.execute(
        delete(Job).where(
            col(Job.kind) == "inbox",
            col(Job.state) == "pending",
            col(Job.locked_by).is_(None),
            col(Job.payload)["item"].as_string().in_(ids),
        )
    )
    purged.inbox_items += _delete(session, InboxItem, col(InboxItem.id).in_(ids))


def _purge_events(session: Session, origin: str, limit: int, purged: Purged) -> None:
    ids = _copies(session, Event, origin, limit)
    if ids:
        _drop_events(session, ids, purged)


def _purge_projects(session: Session, origin: str, limit: int, purged: Purged) -> None:
    ids = _copies(session, Project, origin, limit)
    if ids:
        _drop_projects(session, ids, purged)


def _purge_organisations(session: Session, origin: str, limit: int, purged: Purged) -> None:
    ids = _copies(session, Organisation, origin, limit)
    if not ids:
        return
    # Copies they organise (of their own server, by the origin rule) go with them.
    organised = col(Event.organisation_id).in_(ids) & col(Event.origin).is_not(None)
    events = sorted(_referring(session, col(Event.id), organised))
    if events:
        _drop_events(session, events, purged)
    run = col(Project.organisation_id).in_(ids) & col(Project.origin).is_not(None)
    projects = sorted(_referring(session, col(Project.id), run))
    if projects:
        _drop_projects(session, projects, purged)
    # Local events they co-organised carry on without them.
    coorganised = _referring(
        session, col(EventOrganiser.event_id), col(EventOrganiser.organisation_id).in_(ids)
    )
    session.execute(delete(EventOrganiser).where(col(EventOrganiser.organisation_id).in_(ids)))
    for event_id in sorted(coorganised):
        index(session, "event", event_id)
    purged.memberships += _delete(session, Membership, col(Membership.organisation_id).in_(ids))
    purged.follows += _delete(session, Follow, col(Follow.organisation_id).in_(ids))
    _forget(session, "organisation", Organisation, ids)
    purged.organisations += len(ids)


def _purge_people(session: Session, origin: str, limit: int, purged: Purged) -> None:
    """Its people, with their registrations for our events and memberships of our
    organisations (whose counts change: their documents are refreshed)."""
    ids = _copies(session, Person, origin, limit)
    if not ids:
        return
    events = _referring(session, col(Participation.event_id), col(Participation.person_id).in_(ids))
    organisations = _referring(
        session, col(Membership.organisation_id), col(Membership.person_id).in_(ids)
    )
    projects = _referring(
        session, col(Contribution.project_id), col(Contribution.person_id).in_(ids)
    )
    purged.participations += _delete(session, Participation, col(Participation.person_id).in_(ids))
    purged.memberships += _delete(session, Membership, col(Membership.person_id).in_(ids))
    purged.contributions += _delete(session, Contribution, col(Contribution.person_id).in_(ids))
    purged.follows += _delete(session, Follow, col(Follow.person_id).in_(ids))
    session.execute(delete(Token).where(col(Token.person_id).in_(ids)))
    _forget(session, "person", Person, ids)
    purged.people += len(ids)
    touched = {"event": events, "organisation": organisations, "project": projects}
    for kind, object_ids in touched.items():
        for object_id in sorted(object_ids):
            index(session, kind, object_id)


def _purge_followers(session: Session, origin: str, limit: int, purged: Purged) -> None:
    on_origin = or_(
        *(
            col(Follower.follower).startswith(f"{scheme}://{origin}/", autoescape=True)
            for scheme in ("https", "http")
        )
    )
    ids = list(session.scalars(select(col(Follower.id)).where(on_origin).limit(limit)))
    if ids:
        purged.followers += _delete(session, Follower, col(Follower.id).in_(ids))


def _purge_actors(session: Session, origin: str, limit: int, purged: Purged) -> None:
    ids = list(
        session.scalars(
            select(col(RemoteActor.id)).where(col(RemoteActor.domain) == origin).limit(limit)
        )
    )
    if ids:
        purged.actors += _delete(session, RemoteActor, col(RemoteActor.id).in_(ids))
