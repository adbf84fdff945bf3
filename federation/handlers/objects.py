"""Create, Update, Delete and Announce of events and groups: keeping copies in step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete
from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation.convert import (
    ParseError,
    RemoteEvent,
    RemotePlace,
    object_id,
    parse_actor,
    parse_event,
    parse_tombstone,
    unwrap_announce,
)
from federation.convert import (
    RemoteActor as ParsedActor,
)
from federation.policy import domain_of
from federation.process import (
    Applier,
    Ignored,
    Incoming,
    Outcome,
    apply,
    bulk_of,
    handles,
    same_origin,
)
from federation.service import Federation, Refused, Unreachable
from node.errors import Forbidden
from node.models import Event, Follower, Organisation, RemoteActor
from node.runtime import Runtime
from node.schemas import PlaceIn
from node.services import remote
from node.themes import THEMES

ACTOR_TYPES = ("Group", "Person", "Application", "Service", "Organization")


def place_in(place: RemotePlace | None) -> PlaceIn | None:
    if place is None:
        return None
    try:
        return PlaceIn(
            name=place.name,
            street=place.street,
            postal_code=place.postal_code,
            city=place.city,
            country=place.country,
            latitude=place.latitude,
            longitude=place.longitude,
        )
    except ValidationError:
        return None


def organisation_data(actor: ParsedActor) -> remote.RemoteOrganisationData:
    return remote.RemoteOrganisationData(
        ap_id=actor.ap_id,
        username=actor.username or domain_of(actor.ap_id),
        name=actor.name,
        description=actor.summary,
        website=actor.url if actor.url and actor.url != actor.ap_id else None,
        logo_url=actor.icon_url,
    )


Organisers = list[tuple[ParsedActor, datetime]]


def organisers_of(
    federation: Federation,
    event: RemoteEvent,
    fallback: str,
    known: dict[str, tuple[ParsedActor, datetime]] | None = None,
) -> Organisers:
    """The organiser actors of a remote event (fetched when unknown), on its origin, with
    when we last fetched each; ``known`` keeps them across the events of one batch."""
    origin = domain_of(event.ap_id)
    wanted = [a for a in event.attributed_to if domain_of(a) == origin] or [fallback]
    known = {} if known is None else known
    found: Organisers = []
    for ap_id in dict.fromkeys(wanted):
        if domain_of(ap_id) != origin:
            continue
        if ap_id not in known:
            row: RemoteActor = federation.actor(ap_id)
            known[ap_id] = (parse_actor(row.data), row.fetched_at)
        found.append(known[ap_id])
    if not found:
        raise Ignored("no organiser on the event's own host")
    return found


@dataclass(frozen=True, slots=True)
class Parsed:
    """A received event read and its organisers found, ready to be written."""

    event: RemoteEvent
    organisers: Organisers


def event_data(event: RemoteEvent) -> remote.RemoteEventData:
    return remote.RemoteEventData(
        ap_id=event.ap_id,
        name=event.name,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        timezone=event.timezone,
        description=event.description,
        place=place_in(event.place),
        online_url=event.online_url,
        capacity=event.capacity,
        join_mode=event.join_mode,
        external_participation_url=event.external_participation_url,
        status=event.status,
        themes=[t for t in event.themes if t in THEMES],
        tags=list(event.tags),
        updated=event.updated,
    )


def store_events(
    session: Session, runtime: Runtime, events: list[tuple[RemoteEvent, Organisers]]
) -> list[Event | str]:
    """Write the copies of parsed remote events (and of organisers fetched since their
    copy was written), in order: each stored event, or why it was not."""
    wanted = {actor.ap_id for _, organisers in events for actor, _ in organisers}
    orgs: dict[str, Organisation | None] = {
        org.ap_id: org
        for org in session.scalars(
            select(Organisation).where(col(Organisation.ap_id).in_(sorted(wanted)))
        )
        if org.ap_id
    }
    outcomes: list[Event | str] = []
    to_store: list[tuple[remote.RemoteEventData, list[Organisation]]] = []
    for event, organisers in events:
        live: list[Organisation] = []
        for actor, fetched in organisers:
            org = orgs.get(actor.ap_id)
            if org is None or (org.deleted_at is None and org.updated < fetched):
                # unknown, or the actor was fetched since the copy was written
                org = orgs[actor.ap_id] = (
                    remote.upsert_organisation(session, runtime.context, organisation_data(actor))
                    or org
                )
            if org is not None and org.deleted_at is None:
                live.append(org)
        if live:
            to_store.append((event_data(event), live))
        outcomes.append("" if live else "the organiser was deleted")
    stored = iter(remote.upsert_events(session, runtime.context, to_store) if to_store else [])
    return [reason or next(stored) or "stale, deleted or not a copy" for reason in outcomes]


def upsert_event(federation: Federation, document: dict[str, Any], fallback: str) -> str:
    runtime = federation.runtime
    event = parse_event(document, default_timezone=runtime.settings.timezone)
    organisers = organisers_of(federation, event, fallback)
    with runtime.transaction() as session:
        [stored] = store_events(session, runtime, [(event, organisers)])
    if isinstance(stored, str):
        raise Ignored(stored)
    return f"event {stored.id}"


@handles("Create", "Event")
@handles("Update", "Event")
def create_event(incoming: Incoming) -> str | None:
    document = incoming.object
    if not isinstance(document, dict):
        raise Ignored("Create needs the object embedded")
    same_origin(object_id(document), incoming.domain)
    return upsert_event(incoming.federation, document, incoming.actor)


@bulk_of(create_event)
def create_events(incomings: list[Incoming]) -> Applier:
    """Many ``Create``/``Update{Event}`` at once: the organisers are looked up (fetched
    when unknown) first, then every copy is written in the caller's one transaction."""
    known: dict[str, tuple[ParsedActor, datetime]] = {}
    parsed: list[Parsed | Outcome | None] = []
    for incoming in incomings:
        try:
            document = incoming.object
            if not isinstance(document, dict):
                raise Ignored("Create needs the object embedded")
            same_origin(object_id(document), incoming.domain)
            federation = incoming.federation
            event = parse_event(document, default_timezone=federation.settings.timezone)
            parsed.append(Parsed(event, organisers_of(federation, event, incoming.actor, known)))
        except Ignored as reason:
            parsed.append(("ignored", str(reason)))
        except ParseError as error:
            parsed.append(("ignored", f"unreadable: {error}"))
        except (Unreachable, Refused):
            parsed.append(None)  # one by one: it retries, or records the refusal

    def apply_all(session: Session) -> list[Outcome | None]:
        events = [(item.event, item.organisers) for item in parsed if isinstance(item, Parsed)]
        stored = iter(store_events(session, incomings[0].runtime, events))
        outcomes: list[Outcome | None] = []
        for item in parsed:
            if not isinstance(item, Parsed):
                outcomes.append(item)
                continue
            result = next(stored)
            outcomes.append(
                ("ignored", result) if isinstance(result, str) else ("done", f"event {result.id}")
            )
        return outcomes

    return apply_all


@handles("Create", *ACTOR_TYPES)
@handles("Update", *ACTOR_TYPES)
def update_actor(incoming: Incoming) -> str | None:
    document = incoming.object
    if not isinstance(document, dict):
        raise Ignored("the actor must be embedded")
    same_origin(object_id(document), incoming.domain)
    federation = incoming.federation
    actor = parse_actor(document)
    federation.remember(document)  # keys may have rotated
    runtime = federation.runtime
    with runtime.transaction() as session:
        existing = session.scalar(
            select(Organisation).where(col(Organisation.ap_id) == actor.ap_id)
        )
        if existing is None and actor.type != "Group":
            return "actor refreshed"
        org = remote.upsert_organisation(session, runtime.context, organisation_data(actor))
    return f"organisation {org.id}" if org else "stale"


@handles("Delete")
def delete_object(incoming: Incoming) -> str | None:
    target = incoming.object
    ap_id, _ = parse_tombstone(target) if isinstance(target, dict) else (object_id(target), None)
    same_origin(ap_id, incoming.domain)
    runtime = incoming.runtime
    with runtime.transaction() as session:
        try:
            kind = remote.delete_copy(session, ap_id, incoming.domain)
        except Forbidden as error:
            raise Ignored(str(error)) from error
        if ap_id == incoming.actor:  # an actor deleted itself: it follows nothing of ours
            session.execute(delete(Follower).where(col(Follower.follower) == ap_id))
            session.execute(delete(RemoteActor).where(col(RemoteActor.ap_id) == ap_id))
            incoming.federation.forget_actor(ap_id)
    return f"deleted {kind}" if kind else "nothing to delete"


@handles("Announce")
def announce(incoming: Incoming) -> str | None:
    """A relayed object: fetched again from its origin (the relay only points at it)."""
    inner = unwrap_announce(incoming.activity)
    if isinstance(inner, dict) and inner.get("type") in ("Create", "Update"):
        inner = inner.get("object", {})
    target = object_id(inner)
    if isinstance(inner, dict) and inner.get("type") == "Delete":
        target = object_id(inner.get("object"))
    federation = incoming.federation
    try:
        document = federation.fetch(target)
    except ParseError as error:
        raise Ignored(str(error)) from error
    if object_id(document) != target:
        raise Ignored("the announced object answered with another id")
    origin = domain_of(target)
    if document.get("type") == "Tombstone":
        _, note = apply(
            federation,
            {"type": "Delete", "id": f"{target}#delete", "actor": target, "object": document},
            origin,
        )
    elif document.get("type") == "Event":
        return upsert_event(federation, document, incoming.actor)
    else:
        raise Ignored(f"announced {document.get('type')} is not handled")
    return note
