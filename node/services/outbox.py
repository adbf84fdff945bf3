"""The outbox log and the jobs a public change enqueues (delivery, indexing)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.jobs import enqueue, enqueue_keyed
from node.models import Activity, Follower, Organisation, Peer
from node.services.context import NodeContext

#: pg_advisory_xact_lock key: activities are appended one transaction at a time, so the
#: order of ``seq`` is the commit order and a changes reader never skips a late commit.
_OUTBOX_LOCK = 7_311_403
SEARCHABLE = frozenset({"organisation", "event", "project"})
#: Index jobs wait out a search engine that is down (retries capped at a minute apart):
#: about 16 hours before an operator must look (``maillon jobs``; ``reindex`` repairs).
INDEX_MAX_ATTEMPTS = 1000


def publish(
    session: Session,
    node: NodeContext,
    *,
    verb: str,
    actor: str,
    object_type: str,
    object_id: str,
    object_url: str,
    audience: list[str] | None = None,
    inboxes: list[str] | None = None,
    public: bool = True,
    payload: dict[str, Any] | None = None,
) -> Activity:
    """Append an activity, one index job, one delivery job per distinct inbox.

    ``audience`` lists the organisations whose followers receive it (the node's own
    followers — peer nodes — receive every public activity); ``inboxes`` adds direct
    recipients (e.g. the organiser of a remote event a person joins). ``payload`` may
    carry the finished ActivityStreams document under ``"activity"``; otherwise the
    federation layer renders the activity from the object when it delivers.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _OUTBOX_LOCK})
    activity = Activity(
        ap_id="",
        type=verb,
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        object_url=object_url,
        public=public,
        payload=payload or {},
    )
    activity.ap_id = node.urls.activity(activity.id)
    session.add(activity)
    session.flush()
    if object_type in SEARCHABLE:
        index(session, object_type, object_id)
    targets = set(inboxes or [])
    if public:
        targets.update(delivery_inboxes(session, node, audience or []))
    for inbox in sorted(_deliverable(session, targets)):
        enqueue(session, "deliver", {"activity_id": activity.id, "inbox": inbox})
    return activity


def index(session: Session, object_type: str, *object_ids: str) -> None:
    """Ask the indexer to refresh these search documents (debounced per document)."""
    if len(object_ids) == 1:
        enqueue(
            session,
            "index",
            {"type": object_type, "id": object_ids[0]},
            key=f"{object_type}:{object_ids[0]}",
            max_attempts=INDEX_MAX_ATTEMPTS,
        )
        return
    payloads = {f"{object_type}:{i}": {"type": object_type, "id": i} for i in object_ids}
    enqueue_keyed(session, "index", payloads, max_attempts=INDEX_MAX_ATTEMPTS)


def delivery_inboxes(session: Session, node: NodeContext, organisation_ids: list[str]) -> set[str]:
    """Distinct inboxes (shared ones stand for all their actors) of the remote followers
    of these organisations and of the node itself."""
    actors = [node.urls.node_actor]
    if organisation_ids:
        actors += session.scalars(
            select(col(Organisation.ap_id)).where(col(Organisation.id).in_(organisation_ids))
        )
    return set(session.scalars(select(col(Follower.inbox)).where(col(Follower.actor).in_(actors))))


def _deliverable(session: Session, inboxes: set[str]) -> set[str]:
    """Drop the inboxes of blocked domains (their follows stay, nothing is sent)."""
    if not inboxes:
        return inboxes
    blocked = set(session.scalars(select(col(Peer.domain)).where(col(Peer.policy) == "blocked")))
    return {inbox for inbox in inboxes if domain_of(inbox) not in blocked}


def domain_of(url: str) -> str:
    """The host of a URL, lower case, with its port when not the scheme's default: how
    peers are named (``http://127.0.0.1:8001/a`` → ``127.0.0.1:8001``); ``""`` when the URL
    has no host. An invalid port raises ``ValueError``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return host if parts.port in (None, default) else f"{host}:{parts.port}"
