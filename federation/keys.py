"""Our actors' key pairs: made on first need, stored encrypted, rotated on demand.

Each local actor (group, person, the node's Application actor) signs with its own
RSA-2048 key, published in its actor document as ``<actor>#main-key``. The private half
is stored encrypted with the node secret (``MAILLON_SECRET_KEY``). Rotation retires the
current key and makes a new one under the same key id (peers re-fetch the actor when a
signature stops verifying, and receive an ``Update`` of the actor).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation.signatures import (
    PrivateKey,
    decrypt_private_key,
    encrypt_private_key,
    generate_rsa_key,
    load_private_key,
    private_key_pem,
    public_key_pem,
)
from node.dbtypes import utcnow
from node.models import ActorKey


@dataclass(frozen=True, slots=True)
class SigningKey:
    key_id: str
    private_key: PrivateKey
    public_pem: str


def key_id_of(actor: str) -> str:
    return f"{actor}#main-key"


def current(session: Session, actor: str) -> ActorKey | None:
    return session.scalar(
        select(ActorKey).where(col(ActorKey.actor) == actor, col(ActorKey.retired_at).is_(None))
    )


def ensure(session: Session, actor: str, secret: str) -> ActorKey:
    """The actor's current key, made (and stored) if it has none yet."""
    found = current(session, actor)
    if found is not None:
        return found
    key = generate_rsa_key()
    row = ActorKey(
        actor=actor,
        key_id=key_id_of(actor),
        public_pem=public_key_pem(key),
        private_pem=encrypt_private_key(private_key_pem(key), secret),
    )
    try:
        with session.begin_nested():  # two first requests at once: one key wins
            session.add(row)
    except IntegrityError:
        winner = current(session, actor)
        if winner is None:
            raise
        return winner
    return row


def signing_key(session: Session, actor: str, secret: str) -> SigningKey:
    return load(ensure(session, actor, secret), secret)


def load(row: ActorKey, secret: str) -> SigningKey:
    return SigningKey(
        key_id=row.key_id,
        private_key=load_private_key(decrypt_private_key(row.private_pem, secret)),
        public_pem=row.public_pem,
    )


def public_pem(session: Session, actor: str, secret: str) -> str:
    return ensure(session, actor, secret).public_pem


def rotate(session: Session, actor: str, secret: str) -> ActorKey:
    """Retire the actor's key and make a new one (same key id, new material)."""
    old = current(session, actor)
    if old is not None:
        old.retired_at = utcnow()
        old.key_id = f"{old.key_id}~retired-{old.id}"
        session.flush()
    return ensure(session, actor, secret)
