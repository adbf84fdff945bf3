"""Follow, Accept/Reject of our follows, Undo{Follow}, and Flag (reports)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation.convert import ParseError, object_id
from federation.convert import activity as activity_document
from federation.documents import local_actor
from federation.process import Ignored, Incoming, handles
from federation.service import Federation
from node.dbtypes import utcnow
from node.errors import Forbidden
from node.jobs import enqueue
from node.models import Activity, Follower, Participation, Peer, Report
from node.services import remote
from node.services.outbox import publish

SYNC_KEY = "sync:{domain}"


def send(
    session: Session,
    federation: Federation,
    *,
    verb: str,
    actor: str,
    obj: dict[str, Any] | str,
    to: str,
    inbox: str,
    object_type: str,
    object_url: str,
) -> Activity:
    """Publish a non-public activity addressed to one actor, rendered now."""
    record = publish(
        session,
        federation.runtime.context,
        verb=verb,
        actor=actor,
        object_type=object_type,
        object_id=str(uuid.uuid4()),
        object_url=object_url[:500],
        inboxes=[inbox],
        public=False,
    )
    record.payload = {
        "activity": activity_document(
            verb, id=record.ap_id, actor=actor, object=obj, to=[to], cc=[], published=utcnow()
        )
    }
    return record


@handles("Follow")
def follow(incoming: Incoming) -> str | None:
    federation = incoming.federation
    target = object_id(incoming.object)
    with federation.runtime.transaction() as session:
        found = local_actor(session, federation.urls, target)
    if found is None:
        raise Ignored(f"{target} is not an actor of this node")
    followed = target
    follower = federation.actor(incoming.actor)
    inbox = follower.shared_inbox or follower.inbox
    with federation.runtime.transaction() as session:
        remote.add_follower(
            session,
            actor=followed,
            follower=follower.ap_id,
            inbox=inbox,
            follow_id=str(incoming.activity.get("id")),
        )
        send(
            session,
            federation,
            verb="Accept",
            actor=followed,
            obj=_without_context(incoming.activity),
            to=follower.ap_id,
            inbox=follower.inbox,
            object_type="follow",
            object_url=str(incoming.activity.get("id")),
        )
    return f"{follower.ap_id} follows {followed}"


def _without_context(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "@context"}


@handles("Undo", "Follow")
def undo_follow(incoming: Incoming) -> str | None:
    inner = incoming.object
    target = object_id(inner.get("object")) if isinstance(inner, dict) else None
    with incoming.runtime.transaction() as session:
        if target is None:  # Undo of a Follow given by id: find it
            found = session.scalar(
                select(col(Follower.actor)).where(col(Follower.follow_id) == object_id(inner))
            )
            target = found
        if target is None or not remote.remove_follower(
            session, actor=target, follower=incoming.actor
        ):
            raise Ignored("no such follow")
    return f"{incoming.actor} unfollowed {target}"


@handles("Accept", "Follow", None)
@handles("Reject", "Follow", None)
def answer(incoming: Incoming) -> str | None:
    """An answer to our node's Follow of a peer, to a person's Follow of a remote group,
    or to a person's Join of an event. The object is what was answered: its id (Mastodon
    may send only that) or the activity embedded (Mobilizon, Mastodon)."""
    answered = _id_or_none(incoming.object)  # an embedded Follow may have no id
    accepted = incoming.activity.get("type") == "Accept"
    with incoming.runtime.transaction() as session:
        found = select(Peer).where(col(Peer.follow_id) == answered)
        peer = session.scalar(found) if answered else None
        if peer is not None:
            peer.following = "accepted" if accepted else "none"
            peer.updated = utcnow()
            if accepted:
                enqueue(
                    session,
                    "sync",
                    {"domain": peer.domain},
                    key=SYNC_KEY.format(domain=peer.domain),
                )
            return f"{peer.domain} {'accepted' if accepted else 'rejected'} our follow"
        registered = select(Participation).where(col(Participation.activity_id) == answered)
        participation = session.scalar(registered) if answered else None
        if participation is not None:
            participation.state = "going" if accepted else "rejected"
            participation.updated = utcnow()
            return f"registration {participation.id}: {participation.state}"
        inner = incoming.object if isinstance(incoming.object, dict) else {}
        follow = remote.follow_of_remote(
            session,
            activity_id=answered,
            follower=_id_or_none(inner.get("actor")),
            followed=_id_or_none(inner.get("object")) if inner.get("type") == "Follow" else None,
        )
        if follow is not None:
            try:
                org = remote.answer_follow(session, follow, by=incoming.actor, accepted=accepted)
            except Forbidden as error:
                raise Ignored(str(error)) from error
            return f"{org.ap_id} {'accepted' if accepted else 'rejected'} a follow"
    raise Ignored(f"nothing of ours is answered by {answered}")


def _id_or_none(value: Any) -> str | None:
    try:
        return object_id(value) if value else None
    except ParseError:
        return None


@handles("Flag")
def flag(incoming: Incoming) -> str | None:
    raw = incoming.object
    items = raw if isinstance(raw, list) else [raw]
    targets = [object_id(item) for item in items[:20]]
    content = incoming.activity.get("content")
    with incoming.runtime.transaction() as session:
        report = Report(
            reporter=incoming.actor,
            targets=targets,
            content=str(content or "")[:5000],
            domain=incoming.domain,
        )
        session.add(report)
    return f"report {report.id}"
