"""Accounts: registration, passwords (argon2), bearer tokens, profiles."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.dbtypes import utcnow
from node.errors import Conflict, Invalid, Unauthenticated
from node.models import Person, Token
from node.schemas import AccountIn, PasswordChangeIn, ProfileIn
from node.services.common import add_with_username, make_place, slugify
from node.services.context import NodeContext
from node.services.outbox import publish

_hasher = PasswordHasher()
#: verified against when the account does not exist, so timing does not tell.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def register(session: Session, node: NodeContext, data: AccountIn) -> Person:
    """Create a local account; 409 when the email is taken."""
    email = data.email.lower()
    if session.scalar(select(col(Person.id)).where(col(Person.email) == email)) is not None:
        raise Conflict("an account exists with this email", {"email": "already registered"})
    person = Person(
        ap_id="",
        username="",
        name=data.name,
        email=email,
        password_hash=hash_password(data.password),
        locale=data.locale,
    )
    person.ap_id = node.urls.person(person.id)
    try:
        add_with_username(session, person, slugify(data.name, "membre"))
    except IntegrityError:  # the same email registered at the same moment
        if session.scalar(select(col(Person.id)).where(col(Person.email) == email)) is None:
            raise
        raise Conflict(
            "an account exists with this email", {"email": "already registered"}
        ) from None
    return person


def authenticate(session: Session, email: str, password: str) -> Person:
    """The account for these credentials; 401 otherwise (same answer either way)."""
    person = session.scalar(
        select(Person).where(col(Person.email) == email.lower(), col(Person.deleted_at).is_(None))
    )
    stored = person.password_hash if person and person.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("wrong email or password") from None
    if person is None or person.password_hash is None:
        raise Unauthenticated("wrong email or password")
    if _hasher.check_needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    return person


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, person: Person) -> str:
    """A new bearer token for this person; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(Token(person_id=person.id, token_hash=_digest(token)))
    return token


def person_for_token(session: Session, token: str) -> Person | None:
    """The live person a bearer token belongs to, if it is valid and not revoked."""
    if not token or len(token) > 200:
        return None
    return session.scalar(
        select(Person)
        .join(Token, col(Token.person_id) == col(Person.id))
        .where(
            col(Token.token_hash) == _digest(token),
            col(Token.revoked_at).is_(None),
            col(Person.deleted_at).is_(None),
        )
    )


def revoke_token(session: Session, token: str) -> None:
    session.execute(
        update(Token).where(col(Token.token_hash) == _digest(token)).values(revoked_at=utcnow())
    )


def revoke_all_tokens(session: Session, person: Person) -> None:
    session.execute(
        update(Token)
        .where(col(Token.person_id) == person.id, col(Token.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def update_profile(session: Session, node: NodeContext, person: Person, data: ProfileIn) -> Person:
    """Replace the profile's fields; the saved place changes only when ``place`` is given
    (geocoded like an organisation's; ``null`` clears it). The place is never published."""
    was_public = person.public_profile
    person.name = data.name
    person.bio = data.bio
    person.locale = data.locale
    person.public_profile = data.public_profile
    if "place" in data.model_fields_set:
        person.place_id = make_place(session, node, data.place)
    person.updated = utcnow()
    if data.public_profile or was_public:
        publish(
            session,
            node,
            verb="Update",
            actor=person.ap_id,
            object_type="person",
            object_id=person.id,
            object_url=person.ap_id,
        )
    return person


def verify_password(person: Person, password: str) -> bool:
    """Whether ``password`` is the person's current password (constant work either way)."""
    try:
        return _hasher.verify(person.password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(session: Session, person: Person, data: PasswordChangeIn) -> None:
    """Check the current password, set the new one and revoke every other token."""
    if not verify_password(person, data.current_password):
        raise Invalid("current_password", "wrong password")
    person.password_hash = hash_password(data.new_password)
    person.updated = utcnow()
    revoke_all_tokens(session, person)
