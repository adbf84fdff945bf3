"""Handling received activities, from the ``inbox`` jobs.

Each stored :class:`~node.models.InboxItem` is dispatched by ``(activity type, object
type)`` to a handler named ``verb_object`` (``federation/handlers/``). A handler first
fetches what it needs from the network (actors, announced objects), then applies the
change in one short transaction through the node's services. Unknown pairs, and
activities a rule refuses (the origin rule, stale updates), are recorded as ``ignored``
with the reason; a peer that cannot be reached makes the job retry later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation.convert import ParseError, object_type
from federation.policy import domain_of, federates_with
from federation.service import Federation, Refused, Unreachable
from node.db import redoable
from node.dbtypes import utcnow
from node.jobs import ClaimedJob, PermanentFailure, RetryLater
from node.models import InboxItem
from node.runtime import Runtime

log = logging.getLogger(__name__)


class Ignored(Exception):
    """The activity is understood but changes nothing (the reason is recorded)."""


@dataclass(frozen=True, slots=True)
class Incoming:
    federation: Federation
    activity: dict[str, Any]
    actor: str
    #: the domain the activity came from (signed for, or the outbox it was read from)
    domain: str

    @property
    def runtime(self) -> Runtime:
        return self.federation.runtime

    @property
    def object(self) -> Any:
        return self.activity.get("object")


Handler = Callable[[Incoming], str | None]
HANDLERS: dict[tuple[str, str | None], Handler] = {}

#: ``(state, note)`` of one handled activity
Outcome = tuple[str, str]
#: Applies prepared activities in the caller's session: one outcome per activity, in
#: order, ``None`` for one to handle alone (it needs a retry or a refusal recorded).
Applier = Callable[[Session], list[Outcome | None]]
#: A handler's batch form: does the network work for many activities at once and
#: returns what writes them all in one transaction.
BulkHandler = Callable[[list[Incoming]], Applier]
BULK: dict[Handler, BulkHandler] = {}


def handles(verb: str, *object_types: str | None) -> Callable[[Handler], Handler]:
    """Register a handler for ``verb`` with each object type (``None``: any/unknown)."""

    def add(handler: Handler) -> Handler:
        for kind in object_types or (None,):
            HANDLERS[(verb, kind)] = handler
        return handler

    return add


def bulk_of(handler: Handler) -> Callable[[BulkHandler], BulkHandler]:
    """Register the batch form of ``handler`` (same effects, one transaction for many)."""

    def add(bulk: BulkHandler) -> BulkHandler:
        BULK[handler] = bulk
        return bulk

    return add


def delivery_key(activity: dict[str, Any], activity_id: str) -> str:
    """What makes a delivery "the same activity": its id, and the version of an embedded
    object (Mobilizon gives an event's Create and every Update one id, ``<event>/activity``)."""
    inner = activity.get("object")
    updated = inner.get("updated") if isinstance(inner, dict) else None
    if not isinstance(updated, str) or not updated:
        return activity_id
    return f"{activity_id}#at={updated[:40]}"[:500]


def handler_for(activity: dict[str, Any]) -> Handler | None:
    verb = str(activity.get("type", ""))
    try:
        kind = object_type(activity.get("object"))
    except ParseError:
        kind = None
    return HANDLERS.get((verb, kind)) or HANDLERS.get((verb, None))


def apply(federation: Federation, activity: dict[str, Any], domain: str) -> tuple[str, str]:
    """Run the handler of one activity: ``(state, note)``; raises Unreachable/Refused."""
    handler = handler_for(activity)
    if handler is None:
        return "ignored", f"no handler for {activity.get('type')}"
    try:
        note = handler(incoming(federation, activity, domain))
    except Ignored as reason:
        return "ignored", str(reason)
    except ParseError as error:
        return "ignored", f"unreadable: {error}"
    return "done", note or ""


def incoming(federation: Federation, activity: dict[str, Any], domain: str) -> Incoming:
    actor = activity.get("actor")
    actor_id = actor if isinstance(actor, str) else str((actor or {}).get("id", ""))
    return Incoming(federation, activity, actor_id, domain)


class InboxProcessor:
    """The ``inbox`` batch job handler.

    The activities of a claimed batch whose handler has a batch form (``Create`` and
    ``Update`` of events: the bulk of what peers send) are written together, with their
    items' states, in one transaction; the others, and any of a batch that fails as a
    whole, are handled one by one.
    """

    def __init__(self, federation: Federation) -> None:
        self.federation = federation

    def __call__(self, jobs: list[ClaimedJob]) -> dict[int, Exception]:
        runtime = self.federation.runtime
        with runtime.transaction() as session:
            items = {
                item.id: item
                for item in session.scalars(
                    select(InboxItem).where(
                        col(InboxItem.id).in_([job.payload["item"] for job in jobs])
                    )
                )
            }
            refused = {
                item.domain
                for item in items.values()
                if not federates_with(session, runtime.settings, item.domain)
            }
        alone: list[ClaimedJob] = []
        groups: dict[BulkHandler, list[tuple[str, Incoming]]] = {}
        for job in jobs:
            item = items.get(job.payload["item"])
            if item is None or item.domain in refused:
                alone.append(job)  # gone, or blocked since: the single path says so
                continue
            if item.state != "pending":
                continue
            activity = dict(item.payload)
            handler = handler_for(activity)
            bulk = BULK.get(handler) if handler is not None else None
            if bulk is None:
                alone.append(job)
            else:
                groups.setdefault(bulk, []).append(
                    (item.id, incoming(self.federation, activity, item.domain))
                )
        by_item = {job.payload["item"]: job for job in jobs}
        for bulk, members in groups.items():
            outcomes = self._bulk(bulk, members)
            for (item_id, _), outcome in zip(members, outcomes, strict=True):
                if outcome is None:
                    alone.append(by_item[item_id])
        failures: dict[int, Exception] = {}
        for job in alone:
            try:
                self.one(job)
            except (RetryLater, PermanentFailure) as error:
                failures[job.id] = error
        return failures

    def _bulk(
        self, bulk: BulkHandler, members: list[tuple[str, Incoming]]
    ) -> list[Outcome | None]:
        """Apply a group in one transaction; ``None`` for each that must go alone."""
        try:
            apply_all = bulk([one for _, one in members])
            with self.federation.runtime.transaction() as session:
                redoable(session)  # the jobs stay undone if a crash loses it
                outcomes = apply_all(session)
                now = utcnow()
                changes = [
                    {
                        "id": item_id,
                        "state": outcome[0],
                        "note": outcome[1][:2000] or None,
                        "processed_at": now,
                    }
                    for (item_id, _), outcome in zip(members, outcomes, strict=True)
                    if outcome is not None
                ]
                if changes:
                    session.execute(update(InboxItem), changes)
            return outcomes
        except Exception:  # the batch as a whole failed: each alone finds which, and why
            log.warning("inbox batch of %d failed; one by one", len(members), exc_info=True)
            return [None] * len(members)

    def one(self, job: ClaimedJob) -> None:
        runtime = self.federation.runtime
        with runtime.transaction() as session:
            item = session.get(InboxItem, job.payload["item"])
            if item is None:
                raise PermanentFailure("the inbox item is gone")
            if item.state != "pending":
                return
            activity, domain = dict(item.payload), item.domain
            blocked = not federates_with(session, runtime.settings, domain)
        try:
            if blocked:  # since it was received: what it says is not applied
                raise Refused(domain)
            state, note = apply(self.federation, activity, domain)
        except Unreachable as error:
            raise RetryLater(60.0 * job.attempts, str(error)) from error
        except Refused as error:
            state, note = "ignored", f"refused domain {error}"
        with runtime.transaction() as session:
            item = session.get_one(InboxItem, job.payload["item"])
            item.state = state
            item.note = note[:2000] or None
            item.processed_at = utcnow()


def same_origin(ap_id: str, domain: str) -> None:
    """The origin rule: only a host's actors create, update or delete its objects."""
    if domain_of(ap_id) != domain:
        raise Ignored(f"origin rule: {domain} may not change {ap_id}")
