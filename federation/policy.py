"""Which servers we federate with: blocked domains, and the allow-list mode.

``MAILLON_FEDERATION=open`` federates with every domain not blocked; ``allowlist`` only
with the domains an admin allowed. A domain is a host, with its port when not the
scheme's default (``node.services.outbox.domain_of``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node.dbtypes import utcnow
from node.models import Peer
from node.services.outbox import domain_of
from node.settings import Settings

__all__ = ["domain_of", "federates_with", "peer", "revive", "set_policy"]

POLICIES = ("none", "allowed", "blocked")


def federates_with(session: Session, settings: Settings, domain: str) -> bool:
    found = session.get(Peer, domain)
    if found is not None and found.policy == "blocked":
        return False
    if settings.federation == "allowlist":
        return found is not None and found.policy == "allowed"
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
    return row


def revive(row: Peer, when: datetime | None = None) -> None:
    """The peer answered or wrote to us: forget its failure days and unavailability."""
    row.failure_days = []
    row.unavailable_since = None
    row.last_success_at = when or utcnow()
