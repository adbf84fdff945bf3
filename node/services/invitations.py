"""Invitations to join an organisation, as people handle them: by username, and answered.

The membership rules stay in :mod:`node.services.organisations` (``invite_member``,
``request_membership``, ``remove_membership``); this adds what the member pages need
on top: finding a person of this node by the username they give, the invitations a
person has, and answering one (accepting it, or declining it).
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.errors import Invalid, NotFound
from node.models import Membership, MembershipState, Organisation, Person, Role
from node.services import organisations
from node.services.permissions import require_local, require_org_admin

NO_SUCH_USERNAME = "no account of this node has this username"


def local_person(session: Session, username: str, host: str) -> Person:
    """The person of this node with this username: ``camille``, ``@camille`` or
    ``camille@<this node's host>``; 422 (``username``) when there is none."""
    wanted = username.strip().removeprefix("@")
    name, _, domain = wanted.partition("@")
    if domain and domain.lower() != host.lower():
        raise Invalid("username", NO_SUCH_USERNAME)
    person = (
        session.scalar(
            select(Person).where(
                col(Person.username) == name.lower(),
                col(Person.origin).is_(None),
                col(Person.deleted_at).is_(None),
            )
        )
        if name
        else None
    )
    if person is None:
        raise Invalid("username", NO_SUCH_USERNAME)
    return person


def invite_by_username(
    session: Session, actor: Person, org: Organisation, username: str, role: Role, host: str
) -> tuple[Membership, str | None]:
    """Invite a person of this node; also the state they were in before (``None``: not
    a member, nor asking, nor invited). Whoever is not an admin of the organisation is
    refused before any username is looked up."""
    require_local(org)
    require_org_admin(session, actor, org.id)
    invitee = local_person(session, username, host)
    before = organisations.membership_of(session, org.id, invitee.id)
    state = before.state if before is not None else None
    return organisations.invite_member(session, actor, org, invitee.id, role), state


def invitations_of(session: Session, person: Person) -> list[tuple[Membership, Organisation]]:
    """The invitations waiting for this person's answer, the newest first."""
    rows = session.execute(
        select(Membership, Organisation)
        .join(Organisation, col(Organisation.id) == col(Membership.organisation_id))
        .where(
            col(Membership.person_id) == person.id,
            col(Membership.state) == MembershipState.invited,
            col(Organisation.deleted_at).is_(None),
        )
        .order_by(col(Membership.created).desc())
    )
    return [(membership, org) for membership, org in rows]


def answer_invitation(
    session: Session, actor: Person, org: Organisation, *, accept: bool
) -> Membership | None:
    """Accept (a member at once, in the role offered) or decline (forgotten) an
    invitation; 404 when this person has none from this organisation."""
    membership = organisations.membership_of(session, org.id, actor.id)
    if membership is None or membership.state != MembershipState.invited:
        raise NotFound("no invitation from this organisation")
    if accept:
        return organisations.request_membership(session, actor, org)
    organisations.remove_membership(session, actor, org, actor.id)
    return None
