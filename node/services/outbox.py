"""The outbox log and the jobs a public change enqueues (delivery, indexing)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, text
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.jobs import enqueue
from node.models import Activity, Follow, Person
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
    payload: dict[str, Any] | None = None,
) -> Activity:
    """Append a public activity, one index job, one delivery job per distinct inbox.

    ``audience`` lists the organisations whose followers receive it.
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
        payload=payload or {},
    )
    activity.ap_id = node.urls.activity(activity.id)
    session.add(activity)
    session.flush()
    if object_type in SEARCHABLE:
        index(session, object_type, object_id)
    for inbox in delivery_inboxes(session, audience or []):
        enqueue(session, "deliver", {"activity_id": activity.id, "inbox": inbox})
    return activity


def index(session: Session, object_type: str, object_id: str) -> None:
    """Ask the indexer to refresh one search document (debounced per document)."""
    enqueue(
        session,
        "index",
        {"type": object_type, "id": object_id},
        key=f"{object_type}:{object_id}",
        max_attempts=INDEX_MAX_ATTEMPTS,
    )


def delivery_inboxes(session: Session, organisation_ids: list[str]) -> list[str]:
    """Distinct inboxes of the remote followers of these organisations (shared first)."""
    if not organisation_ids:
        return []
    inbox = func.coalesce(col(Person.shared_inbox), col(Person.inbox))
    rows = session.scalars(
        select(inbox)
        .join(Follow, col(Follow.person_id) == col(Person.id))
        .where(
            col(Follow.organisation_id).in_(organisation_ids),
            col(Person.origin).is_not(None),
            inbox.is_not(None),
        )
        .distinct()
    )
    return sorted(rows)
