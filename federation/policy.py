"""Which servers we federate with: blocked domains, and the allow-list mode.

``MAILLON_FEDERATION=open`` federates with every domain not blocked; ``allowlist`` only
with the domains an admin allowed. A domain is a host, with its port when not the
scheme's default (``node.services.outbox.domain_of``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.dbtypes import utcnow
from node.models import Peer
from node.services.outbox import domain_of
from node.settings import Settings

__all__ = ["domain_of", "federates_with", "peer", "peer_state", "revive", "set_policy"]

POLICIES = ("none", "allowed", "blocked")
#: How long a process trusts what it read of a peer's policy. A change made in this
#: process applies at once; one made by another process (``maillon peers block`` beside
#: a running server) within this many seconds.
STATE_SECONDS = 2.0
_STATE_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class PeerState:
    policy: str
    #: deliveries to it failed lately (a message from it revives it)
    failing: bool


_states: WeakKeyDictionary[Engine, dict[str, tuple[float, PeerState | None]]] = (
    WeakKeyDictionary()
)


def _cache(session: Session) -> dict[str, tuple[float, PeerState | None]]:
    return _states.setdefault(session.get_bind().engine, {})


def peer_state(session: Session, domain: str) -> PeerState | None:
    """What we hold of a domain (``None``: nothing), read at most every
    :data:`STATE_SECONDS`: the inbox asks it for every activity received."""
    cache = _cache(session)
    now = time.monotonic()
    hit = cache.get(domain)
    if hit is not None and hit[0] > now:
        return hit[1]
    row = session.execute(
        select(col(Peer.policy), col(Peer.unavailable_since), col(Peer.failure_days)).where(
            col(Peer.domain) == domain
        )
    ).first()
    state = None if row is None else PeerState(row[0], bool(row[1] or row[2]))
    if len(cache) >= _STATE_CACHE_SIZE:
        cache.clear()
    cache[domain] = (now + STATE_SECONDS, state)
    return state


def forget_states(session: Session) -> None:
    """Drop this process's policy cache of the session's database, now and once the
    change commits (a request in between could read the old row again)."""
    cache = _cache(session)
    cache.clear()
    event.listen(session, "after_commit", lambda _: cache.clear(), once=True)


def federates_with(session: Session, settings: Settings, domain: str) -> bool:
    state = peer_state(session, domain)
    if state is not None and state.policy == "blocked":
        return False
    if settings.federation == "allowlist":
        return state is not None and state.policy == "allowed"
    return True


def peer(session: Session, domain: str) -> Peer:
    """The peer row of a domain, created on first mention (when two transactions mention
    it first at once, one insert wins and the other reads the winner's row)."""
    found = session.get(Peer, domain)
    if found is None:
        try:
            with session.begin_nested():
                session.add(Peer(domain=domain))
        except IntegrityError:
            pass
        found = session.get(Peer, domain)
        if found is None:
            raise RuntimeError(f"no peer row for {domain}")
    return found


def set_policy(session: Session, domain: str, policy: str) -> Peer:
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}")
    row = peer(session, domain)
    row.policy = policy
    row.updated = utcnow()
    forget_states(session)
    return row


def revive(row: Peer, when: datetime | None = None) -> None:
    """The peer answered or wrote to us: forget its failure days and unavailability."""
    row.failure_days = []
    row.unavailable_since = None
    row.last_success_at = when or utcnow()
