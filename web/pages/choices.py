"""Choices forms offer: the organisations a person may publish for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.models import Membership, MembershipState, Organisation, Person, Role


def administered_organisations(session: Session, person: Person) -> list[tuple[str, str]]:
    """(id, name) of the live local organisations this person administers, by name."""
    rows = session.execute(
        select(col(Organisation.id), col(Organisation.name))
        .join(Membership, col(Membership.organisation_id) == col(Organisation.id))
        .where(
            col(Membership.person_id) == person.id,
            col(Membership.role) == Role.admin,
            col(Membership.state) == MembershipState.accepted,
            col(Organisation.deleted_at).is_(None),
            col(Organisation.origin).is_(None),
        )
        .order_by(col(Organisation.name))
    )
    return [(str(i), str(n)) for i, n in rows]
