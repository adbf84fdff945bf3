"""Our objects as ActivityStreams documents, read from the database.

``federation/convert`` knows the shapes; this module finds the rows (places, organisers,
keys, counts) those shapes need, and renders the outbox log's activities — at delivery
time, so a late delivery carries the current version of its object.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation import keys
from federation.convert import (
    ActorUrls,
    application_actor,
    event_object,
    followers_of,
    group_actor,
    person_actor,
    tombstone,
)
from federation.convert import (
    activity as activity_document,
)
from node.models import (
    Activity,
    Event,
    MembershipMode,
    Organisation,
    Participation,
    Person,
    Place,
    Project,
    Stored,
)
from node.services.events import going_count, organiser_ids
from node.urls import Urls

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
#: how an organisation takes members (``join_mode``) → Mobilizon's ``openness`` of a group
OPENNESS: dict[str, str] = {
    MembershipMode.open: "open",
    MembershipMode.restricted: "moderated",
    MembershipMode.invite: "invite_only",
}
FORMER_TYPES = {"event": "Event", "organisation": "Group", "project": "Group", "person": "Person"}
MODELS: dict[str, type[Stored]] = {
    "event": Event,
    "organisation": Organisation,
    "project": Project,
    "person": Person,
}


def local_actor(session: Session, urls: Urls, ap_id: str) -> tuple[str, Stored | None] | None:
    """``(kind, row)`` when ``ap_id`` names one of our live actors — ``("node", None)`` for
    the node's own — else ``None``."""
    if ap_id == urls.node_actor:
        return "node", None
    for kind in ("organisation", "project", "person"):
        model = MODELS[kind]
        row = session.scalar(select(model).where(col(model.ap_id) == ap_id))
        if row is not None and row.is_local and row.deleted_at is None:
            return kind, row
    return None


def project_username(project: Project) -> str:
    return f"project-{project.id}"


def actor_urls(urls: Urls, actor: str, *, upcoming: bool = False) -> ActorUrls:
    return ActorUrls.under(actor, shared_inbox=f"{urls.base}/inbox", upcoming_events=upcoming)


def node_actor(session: Session, urls: Urls, secret: str, name: str) -> dict[str, Any]:
    actor = urls.node_actor
    return application_actor(
        id=actor,
        name=name,
        public_key_pem=keys.public_pem(session, actor, secret),
        urls=actor_urls(urls, actor),
    )


def _place(session: Session, place_id: str | None) -> Place | None:
    return session.get(Place, place_id) if place_id else None


def actor_document(session: Session, urls: Urls, secret: str, row: Stored) -> dict[str, Any]:
    pem = keys.public_pem(session, row.ap_id, secret)
    if isinstance(row, Organisation):
        document = group_actor(
            row,
            place=_place(session, row.place_id),
            public_key_pem=pem,
            kind="organisation",
            urls=actor_urls(urls, row.ap_id, upcoming=True),
        )
        document["openness"] = OPENNESS.get(row.join_mode, OPENNESS[MembershipMode.restricted])
        return document
    if isinstance(row, Project):
        return group_actor(
            row,
            place=_place(session, row.place_id),
            public_key_pem=pem,
            kind="project",
            urls=actor_urls(urls, row.ap_id),
            username=project_username(row),
        )
    if isinstance(row, Person):
        return person_actor(row, public_key_pem=pem, urls=actor_urls(urls, row.ap_id))
    raise TypeError(f"{type(row).__name__} is not an actor")


def organiser_actors(session: Session, event: Event) -> list[str]:
    ids = organiser_ids(session, event.id) or [event.organisation_id]
    rows = {
        org.id: org.ap_id
        for org in session.scalars(select(Organisation).where(col(Organisation.id).in_(ids)))
    }
    return [rows[i] for i in ids if i in rows]


def event_document(session: Session, event: Event) -> dict[str, Any]:
    return event_object(
        event,
        place=_place(session, event.place_id),
        organisers=organiser_actors(session, event),
        url=event.ap_id,
        participant_count=going_count(session, event.id),
    )


def object_document(session: Session, urls: Urls, secret: str, row: Stored) -> dict[str, Any]:
    """A live object's document, or its tombstone when deleted."""
    if row.deleted_at is not None:
        kind = next(k for k, m in MODELS.items() if isinstance(row, m))
        return tombstone(row.ap_id, FORMER_TYPES[kind], row.deleted_at)
    if isinstance(row, Event):
        return event_document(session, row)
    return actor_document(session, urls, secret, row)


def render(session: Session, urls: Urls, secret: str, activity: Activity) -> dict[str, Any] | None:
    """The ActivityStreams form of an outbox entry (``None``: nothing left to send)."""
    ready = activity.payload.get("activity")
    if isinstance(ready, dict):
        return ready
    to: list[str] = [PUBLIC] if activity.public else []
    cc: list[str] = [followers_of(activity.actor)] if activity.public else []
    obj: dict[str, Any] | str
    extra: dict[str, Any] = {}
    if activity.object_type == "membership" and activity.type == "Leave":
        # a person of ours leaves a group of another server
        to, obj = [activity.object_url], activity.object_url
    elif activity.object_type == "membership" and activity.type == "Remove":
        # an admin removed a member of another server. Mobilizon reads the object's id
        # as its member URL (the id of their Join) or as the person's actor URL, and the
        # group from ``origin``
        person = str(activity.payload.get("person", ""))
        to, obj = [person], person
        if activity.object_url != person:
            obj = {
                "id": activity.object_url,
                "type": "Member",
                "actor": person,
                "object": activity.actor,
                "role": str(activity.payload.get("role", "member")),
            }
        extra = {"origin": activity.actor, "target": activity.actor}
    elif activity.type in ("Join", "Leave"):
        to, obj = [_organiser_of(session, activity)], activity.object_url
    elif activity.type in ("Accept", "Reject") and activity.object_type == "participation":
        person = str(activity.payload.get("person", ""))
        to = [person]
        obj = {
            "id": activity.object_url,
            "type": "Join",
            "actor": person,
            "object": _event_url_of_participation(session, activity),
        }
    elif activity.object_type == "follow":  # a person's Follow of a remote group, its Undo
        to, obj = [activity.object_url], activity.object_url
        if activity.type == "Undo":
            obj = {
                "id": str(activity.payload.get("follow", "")),
                "type": "Follow",
                "actor": activity.actor,
                "object": activity.object_url,
            }
    elif activity.object_type == "membership":  # the answer to a Join{Group}
        # Mobilizon finds the membership by the object's id, which is the Join's id
        # (its member URL); the object is a Member as Mobilizon sends it.
        person = str(activity.payload.get("person", ""))
        to = [person]
        obj = {
            "id": activity.object_url,
            "type": "Member",
            "actor": person,
            "object": activity.actor,
            "role": str(activity.payload.get("role", "member")),
        }
    else:
        model = MODELS.get(activity.object_type)
        row = session.get(model, activity.object_id) if model else None
        if row is None:
            return None
        if activity.type == "Delete":
            deleted = row.deleted_at or activity.created
            obj = tombstone(row.ap_id, FORMER_TYPES[activity.object_type], deleted)
        elif row.deleted_at is not None:
            return None  # created or updated, then deleted: the Delete follows
        else:
            obj = object_document(session, urls, secret, row)
    return activity_document(
        activity.type,
        id=activity.ap_id,
        actor=activity.actor,
        object=obj,
        to=to,
        cc=cc,
        published=activity.created,
    ) | extra


def _organiser_of(session: Session, activity: Activity) -> str:
    event = session.get(Event, activity.object_id)
    org = session.get(Organisation, event.organisation_id) if event else None
    return org.ap_id if org else activity.object_url


def _event_url_of_participation(session: Session, activity: Activity) -> str:
    participation = session.get(Participation, activity.object_id)
    event = session.get(Event, participation.event_id) if participation else None
    return event.ap_id if event else ""
