"""Node-to-node relations: follow a peer node, list peers, block (and purge), allow.

Nodes follow each other through their instance actors (``Application``, Mobilizon's
relay model): once a peer accepts, it delivers us every public activity and we page its
outbox to catch up (``federation/sync.py``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation import keys
from federation.documents import local_actor
from federation.handlers.follows import send
from federation.policy import domain_of, federates_with, peer, set_policy
from federation.service import Federation, Refused
from node.dbtypes import utcnow
from node.jobs import ClaimedJob, enqueue
from node.models import Follower, Peer
from node.runtime import Runtime
from node.services import remote
from node.services.outbox import publish
from node.services.remote import Purged

log = logging.getLogger(__name__)
ACTOR_LINK = "https://www.w3.org/ns/activitystreams#Application"
PURGE_KEY = "purge:{domain}"
#: rows of one kind per purge transaction, and transactions per ``purge`` job
PURGE_BATCH = 200
PURGE_BATCHES_PER_JOB = 10


class PeerError(Exception):
    """The peer could not be resolved or followed (message for the operator)."""


def resolve(federation: Federation, target: str) -> str:
    """The actor URL of a handle (``relay@host``), an actor URL or a node's base URL."""
    target = target.strip()
    if "://" not in target:
        name, _, host = target.lstrip("@").rpartition("@")
        if not name or not host:
            raise PeerError(f"{target!r} is neither a URL nor a handle like relay@host")
        scheme = "https"
        if federation.settings.federation_allow_private:  # tests and closed networks
            scheme = urlsplit(federation.urls.base).scheme
        finger = federation.fetch_any(
            f"{scheme}://{host}/.well-known/webfinger?resource=acct:{name}@{host}"
        )
        for link in finger.get("links", []):
            if isinstance(link, dict) and link.get("rel") == "self" and link.get("href"):
                return str(link["href"])
        raise PeerError(f"{target}: WebFinger names no actor")
    parts = urlsplit(target)
    if parts.path in ("", "/"):
        base = f"{parts.scheme}://{parts.netloc}"
        links = federation.fetch_any(f"{base}/.well-known/nodeinfo").get("links", [])
        for link in links:
            if isinstance(link, dict) and link.get("rel") == ACTOR_LINK and link.get("href"):
                return str(link["href"])
        raise PeerError(f"{base} does not name its instance actor (FEP-2677)")
    return target


def follow(federation: Federation, target: str) -> Peer:
    """Send our node's Follow to a peer node's actor; pending until it accepts."""
    actor_url = resolve(federation, target)
    domain = domain_of(actor_url)
    with federation.runtime.transaction() as session:
        if not federates_with(session, federation.settings, domain):
            raise PeerError(f"{domain} is blocked or not on the allow-list")
    try:
        actor = federation.actor(actor_url, refresh=True)
    except Refused as error:
        raise PeerError(str(error)) from error
    with federation.runtime.transaction() as session:
        row = peer(session, domain)
        row.actor = actor.ap_id
        row.inbox = actor.shared_inbox or actor.inbox
        row.outbox = actor.outbox
        row.following = "pending" if row.following != "accepted" else row.following
        row.updated = utcnow()
        record = send(
            session,
            federation,
            verb="Follow",
            actor=federation.urls.node_actor,
            obj=actor.ap_id,
            to=actor.ap_id,
            inbox=actor.inbox,
            object_type="peer",
            object_url=actor.ap_id,
        )
        row.follow_id = record.ap_id
        return row


def listing(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(Peer).order_by(col(Peer.domain)))
    followers = {domain_of(f) for f in session.scalars(select(col(Follower.follower)))}
    return [
        {
            "domain": p.domain,
            "policy": p.policy,
            "following": p.following,
            "follows_us": p.domain in followers,
            "unavailable": p.unavailable_since is not None,
            "synced_at": p.synced_at.isoformat() if p.synced_at else "",
        }
        for p in rows
    ]


def block(session: Session, domain: str) -> Peer:
    """Refuse the domain from now on and forget what we stored of it: its copies go in
    bounded batches, by a ``purge`` job committed with the block (``maillon peers block``
    also purges at once, see :func:`purge`). Blocking again purges again (idempotent)."""
    row = set_policy(session, domain.lower(), "blocked")
    enqueue(session, "purge", {"domain": row.domain}, key=PURGE_KEY.format(domain=row.domain))
    return row


def purge(
    runtime: Runtime, domain: str, *, batches: int | None = None, size: int = PURGE_BATCH
) -> tuple[Purged, bool]:
    """Delete a blocked domain's copies (``remote.purge_origin``), one transaction per
    batch of at most ``size`` rows, through the node's write path (index jobs drop them
    from search). Stops after ``batches`` batches, or when the domain is no longer
    blocked; returns what was removed and whether nothing is left."""
    domain = domain.lower()
    total = Purged()
    done = 0
    while batches is None or done < batches:
        with runtime.transaction() as session:
            row = session.get(Peer, domain)
            if row is None or row.policy != "blocked":
                return total, True
            removed = remote.purge_origin(session, domain, size)
        if not removed:
            return total, True
        total += removed
        done += 1
    return total, False


class Purger:
    """The ``purge`` job: a few batches per run, then a new job for the rest, so that a
    domain with thousands of copies never holds a worker (or the database) for long."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __call__(self, job: ClaimedJob) -> None:
        domain = str(job.payload["domain"])
        removed, finished = purge(self.runtime, domain, batches=PURGE_BATCHES_PER_JOB)
        if removed:
            log.info("purged %s: %s", domain, purged_text(removed))
        if not finished:
            with self.runtime.transaction() as session:
                enqueue(session, "purge", {"domain": domain}, key=PURGE_KEY.format(domain=domain))


def purged_text(removed: Purged) -> str:
    """``events 12, organisations 3, …``: the non-zero counts (``nothing`` when none)."""
    counts = removed.as_dict().items()
    said = [f"{name.replace('_', ' ')} {count}" for name, count in counts if count]
    return ", ".join(said) or "nothing"


def unblock(session: Session, domain: str) -> Peer:
    return set_policy(session, domain.lower(), "none")


def allow(session: Session, domain: str) -> Peer:
    return set_policy(session, domain.lower(), "allowed")


def rotate_key(federation: Federation, actor: str) -> str:
    """Give a local actor a new key pair and tell its followers (``Update`` of the actor,
    carrying the new public key); peers verifying an old signature re-fetch the actor."""
    with federation.runtime.transaction() as session:
        found = local_actor(session, federation.urls, actor)
        if found is None:
            raise PeerError(f"{actor} is not an actor of this node")
        kind, row = found
        keys.rotate(session, actor, federation.settings.secret_key)
        if row is not None:
            publish(
                session,
                federation.runtime.context,
                verb="Update",
                actor=actor,
                object_type=kind,
                object_id=row.id,
                object_url=actor,
                audience=[row.id] if kind == "organisation" else [],
            )
    return actor
