"""Paged ``OrderedCollection``s: outboxes, followers, following, upcoming events.

A collection answers ``{totalItems, first}``; its pages (``?page=1``, then
``?before=<seq>``) are ``OrderedCollectionPage``s, newest first, with ``partOf``,
``next`` and ``orderedItems``. Outbox items are whole activities (so a peer catching up
needs no second request per item); Deletes carry a Tombstone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation.convert import context
from federation.documents import event_document, render
from node.dbtypes import utcnow
from node.models import (
    Activity,
    Event,
    EventOrganiser,
    Follow,
    Follower,
    FollowState,
    Organisation,
    Peer,
    Person,
)
from node.urls import Urls

PAGE_SIZE = 20


def collection(url: str, total: int, *, first: str | None = None) -> dict[str, Any]:
    return {
        "@context": context(),
        "id": url,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": first or f"{url}?page=1",
    }


def page(url: str, items: list[Any], *, part_of: str, next_url: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": context(),
        "id": url,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if next_url:
        document["next"] = next_url
    return document


def _outbox_query(actor: str | None) -> Any:
    query = select(Activity).where(col(Activity.public).is_(True))
    if actor is not None:
        query = query.where(col(Activity.actor) == actor)
    return query


def outbox(
    session: Session, urls: Urls, secret: str, url: str, actor: str | None, before: int | None,
    paged: bool,
) -> dict[str, Any]:
    """``actor=None``: the node's outbox, every public activity of the node."""
    if not paged:
        total = session.scalar(
            select(func.count()).select_from(_outbox_query(actor).subquery())
        )
        return collection(url, int(total or 0))
    query = _outbox_query(actor)
    if before is not None:
        query = query.where(col(Activity.seq) < before)
    rows = list(session.scalars(query.order_by(col(Activity.seq).desc()).limit(PAGE_SIZE)))
    items = [doc for row in rows if (doc := render(session, urls, secret, row)) is not None]
    next_url = f"{url}?before={rows[-1].seq}" if len(rows) == PAGE_SIZE else None
    here = f"{url}?before={before}" if before is not None else f"{url}?page=1"
    return page(here, items, part_of=url, next_url=next_url)


def followers(
    session: Session, url: str, actor: str, organisation_id: str | None, paged: bool
) -> dict[str, Any]:
    remote = list(
        session.scalars(
            select(col(Follower.follower)).where(col(Follower.actor) == actor).order_by(
                col(Follower.created)
            )
        )
    )
    local: list[str] = []
    if organisation_id is not None:
        local = list(
            session.scalars(
                select(col(Person.ap_id))
                .join(Follow, col(Follow.person_id) == col(Person.id))
                .where(
                    col(Follow.organisation_id) == organisation_id,
                    col(Follow.state) == FollowState.accepted,
                    col(Person.public_profile).is_(True),
                    col(Person.deleted_at).is_(None),
                )
            )
        )
    everyone = local + remote
    if not paged:
        return collection(url, len(everyone))
    return page(f"{url}?page=1", everyone, part_of=url, next_url=None)


def following(
    session: Session, url: str, is_node: bool, paged: bool, person_id: str | None = None
) -> dict[str, Any]:
    """The node's: the peers that accepted its follow. A person's (``person_id``): the
    organisations whose follow is accepted (not one still waiting for another server's
    answer), when the profile is public, as the followers collections show people."""
    items: list[str] = []
    if is_node:
        items = [
            actor
            for actor in session.scalars(
                select(col(Peer.actor)).where(col(Peer.following) == "accepted")
            )
            if actor
        ]
    elif person_id is not None:
        items = list(
            session.scalars(
                select(col(Organisation.ap_id))
                .join(Follow, col(Follow.organisation_id) == col(Organisation.id))
                .join(Person, col(Person.id) == col(Follow.person_id))
                .where(
                    col(Follow.person_id) == person_id,
                    col(Follow.state) == FollowState.accepted,
                    col(Organisation.deleted_at).is_(None),
                    col(Person.public_profile).is_(True),
                )
                .order_by(col(Follow.created), col(Follow.id))
            )
        )
    if not paged:
        return collection(url, len(items))
    return page(f"{url}?page=1", items, part_of=url, next_url=None)


def upcoming_events(
    session: Session, url: str, organisation_id: str, paged: bool
) -> dict[str, Any]:
    """FEP-8a8e ``upcomingEvents``: the organisation's events not over yet, soonest first."""
    query = (
        select(Event)
        .join(EventOrganiser, col(EventOrganiser.event_id) == col(Event.id))
        .where(
            col(EventOrganiser.organisation_id) == organisation_id,
            col(Event.deleted_at).is_(None),
            col(Event.ends_at) > utcnow(),
        )
        .order_by(col(Event.starts_at))
    )
    events = list(session.scalars(query.limit(200)))
    if not paged:
        return collection(url, len(events))
    items = [event_document(session, event) for event in events]
    return page(f"{url}?page=1", items, part_of=url, next_url=None)
