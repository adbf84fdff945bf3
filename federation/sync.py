"""Pull catch-up: read a followed peer's outbox and apply what push did not bring.

Push can be lost (a peer that delivers once, a node that was down), so a node pages the
outbox of every peer it follows — on the peer's Accept and then every
``SYNC_INTERVAL_SECONDS`` — newest first, until a page holds nothing new or the page
budget is spent, then applies the new activities oldest first. Activities already seen
(pushed or pulled) are recorded by id, so each is applied once. Collections may link or
embed their pages, and list ``items`` or ``orderedItems``, as ids or objects.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from federation.convert import ParseError, object_id
from federation.policy import domain_of
from federation.process import apply, delivery_key
from federation.service import Federation, Refused, Unreachable
from node.dbtypes import utcnow
from node.jobs import ClaimedJob, RetryLater, enqueue
from node.models import InboxItem, Peer

PAGE_BUDGET = 10
SYNC_INTERVAL_SECONDS = 900.0


def _items(page: dict[str, Any]) -> list[Any]:
    items = page.get("orderedItems", page.get("items", []))
    return items if isinstance(items, list) else [items]


def _link(value: Any) -> str | dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    return value if isinstance(value, str) and value else None


class Sync:
    def __init__(self, federation: Federation) -> None:
        self.federation = federation

    def __call__(self, job: ClaimedJob) -> None:
        domain = str(job.payload["domain"])
        try:
            applied = self.catch_up(domain)
        except Unreachable as error:
            raise RetryLater(60.0 * 2 ** min(job.attempts, 8), str(error)) from error
        except Refused:
            return
        with self.federation.runtime.transaction() as session:
            peer = session.get(Peer, domain)
            if peer is None or peer.following != "accepted":
                return
            peer.synced_at = utcnow()
            enqueue(
                session,
                "sync",
                {"domain": domain},
                key=f"sync:{domain}",
                delay_seconds=SYNC_INTERVAL_SECONDS,
            )
        del applied

    def outbox_of(self, domain: str) -> str | None:
        with self.federation.runtime.transaction() as session:
            peer = session.get(Peer, domain)
            actor, outbox = (peer.actor, peer.outbox) if peer else (None, None)
        if outbox:
            return outbox
        if actor:
            return self.federation.actor(actor).outbox
        return None

    def catch_up(self, domain: str) -> int:
        """Apply what the peer's outbox holds that we have not seen; the count applied."""
        outbox = self.outbox_of(domain)
        if outbox is None:
            return 0
        fresh: list[dict[str, Any]] = []
        collection = self.federation.fetch(outbox)
        current: str | dict[str, Any] | None = _link(collection.get("first")) or collection
        pages = 0
        while current is not None and pages < PAGE_BUDGET:
            page = self.federation.fetch(current) if isinstance(current, str) else current
            pages += 1
            new = self._unseen(domain, _items(page))
            fresh.extend(new)
            if not new and pages > 1:
                break
            current = _link(page.get("next"))
            if current == page.get("id"):
                break
        applied = 0
        for activity in reversed(fresh):  # oldest first
            state, note = apply(self.federation, activity, domain)
            applied += state == "done"
            self._record(activity, domain, state, note)
        return applied

    def _unseen(self, domain: str, items: list[Any]) -> list[dict[str, Any]]:
        activities = []
        for item in items:
            activity = self.federation.fetch(item) if isinstance(item, str) else item
            try:
                ap_id = object_id(activity)
            except ParseError:
                continue
            if domain_of(ap_id) == domain and isinstance(activity, dict):
                activities.append(activity)
        if not activities:
            return []
        ids = [delivery_key(a, a["id"]) for a in activities]
        with self.federation.runtime.transaction() as session:
            seen = set(
                session.scalars(
                    select(col(InboxItem.activity_id)).where(col(InboxItem.activity_id).in_(ids))
                )
            )
        return [a for a in activities if delivery_key(a, a["id"]) not in seen]

    def _record(self, activity: dict[str, Any], domain: str, state: str, note: str) -> None:
        """Remember a pulled activity (push may have delivered it meanwhile: fine)."""
        actor = activity.get("actor")
        try:
            with self.federation.runtime.transaction() as session:
                session.add(
                    InboxItem(
                        activity_id=delivery_key(activity, activity["id"]),
                        actor=str(actor if isinstance(actor, str) else domain)[:500],
                        domain=domain,
                        type=str(activity.get("type", ""))[:32],
                        payload={},
                        state=state,
                        note=f"pulled from the outbox; {note}"[:2000],
                        processed_at=utcnow(),
                    )
                )
        except IntegrityError:
            return
