"""Personal data (GDPR): what the node holds about a person, and erasing an account.

- :func:`export_personal_data` gathers every row about a person into one document
  (right of access and portability, articles 15 and 20); secrets are never exported:
  no password hash, no token hash.
- :func:`delete_account` erases an account in the caller's transaction (right to
  erasure, article 17): the profile is blanked, tokens revoked, relations deleted, the
  organisations and projects the person administered handed over, and a public
  ``Delete`` recorded so that federation carries it. The row itself stays, tombstoned,
  so that the person's URL answers 410 Gone.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from node.dbtypes import utcnow
from node.errors import Forbidden, Gone, Invalid
from node.models import (
    Activity,
    Contribution,
    Event,
    EventOrganiser,
    Follow,
    Membership,
    MembershipState,
    Organisation,
    Participation,
    ParticipationState,
    Person,
    Place,
    Project,
    Role,
    Token,
)
from node.services import organisations
from node.services.accounts import revoke_all_tokens, verify_password
from node.services.common import place_input, unique_username
from node.services.context import NodeContext
from node.services.outbox import index, publish

log = logging.getLogger(__name__)

#: bumped when the shape of the export changes in a way a reader must know about.
EXPORT_FORMAT_VERSION = 1
DELETED_NAME = "Compte supprimé"
DELETED_USERNAME_PREFIX = "deleted"


# --- export --------------------------------------------------------------------------


class ObjectRef(BaseModel):
    """An organisation, event or project a relation points to."""

    id: str
    name: str
    url: str
    origin: str
    deleted_at: datetime | None


class EventRef(ObjectRef):
    starts_at: datetime


class AccountData(BaseModel):
    id: str
    url: str
    username: str
    name: str
    email: str | None
    locale: str
    bio: str
    public_profile: bool
    is_admin: bool
    #: the saved place ("near me"), as given
    place: dict[str, object] | None = None
    created: datetime
    updated: datetime


class TokenData(BaseModel):
    """A sign-in token, without its secret."""

    id: str
    created: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class MembershipData(BaseModel):
    organisation: ObjectRef
    role: str
    state: str
    created: datetime
    updated: datetime


class FollowData(BaseModel):
    organisation: ObjectRef
    #: ``pending`` while another node's organisation has not answered, else ``accepted``
    state: str
    created: datetime


class ParticipationData(BaseModel):
    event: EventRef
    state: str
    created: datetime
    updated: datetime


class ContributionData(BaseModel):
    project: ObjectRef
    role: str
    state: str
    created: datetime
    updated: datetime


class AdministeredData(BaseModel):
    """What the person administers: organisations (admin membership), the events those
    organisations organise, the projects they lead or their organisations run."""

    organisations: list[ObjectRef]
    events: list[EventRef]
    projects: list[ObjectRef]


class ActivityData(BaseModel):
    """A public activity of the outbox log whose actor is the person."""

    id: str
    url: str
    type: str
    object_type: str
    object_id: str
    object_url: str
    public: bool
    published: datetime
    payload: dict[str, Any]


class PersonalDataExport(BaseModel):
    format_version: int
    exported_at: datetime
    node: str
    account: AccountData
    tokens: list[TokenData]
    memberships: list[MembershipData]
    follows: list[FollowData]
    participations: list[ParticipationData]
    contributions: list[ContributionData]
    administered: AdministeredData
    activities: list[ActivityData]


def _ref(obj: Organisation | Project) -> ObjectRef:
    return ObjectRef(
        id=obj.id,
        name=obj.name,
        url=obj.ap_id,
        origin=obj.origin or "local",
        deleted_at=obj.deleted_at,
    )


def _event_ref(event: Event) -> EventRef:
    return EventRef(
        id=event.id,
        name=event.name,
        url=event.ap_id,
        origin=event.origin or "local",
        deleted_at=event.deleted_at,
        starts_at=event.starts_at,
    )


def export_personal_data(session: Session, node: NodeContext, person: Person) -> PersonalDataExport:
    """Everything the node stores about ``person`` (deleted related objects included)."""
    account = AccountData(
        id=person.id,
        url=person.ap_id,
        username=person.username,
        name=person.name,
        email=person.email,
        locale=person.locale,
        bio=person.bio,
        public_profile=person.public_profile,
        is_admin=person.is_admin,
        place=place_input(session.get(Place, person.place_id)) if person.place_id else None,
        created=person.created,
        updated=person.updated,
    )
    tokens = [
        TokenData(id=t.id, created=t.created, last_used_at=t.last_used_at, revoked_at=t.revoked_at)
        for t in session.scalars(
            select(Token)
            .where(col(Token.person_id) == person.id)
            .order_by(col(Token.created), col(Token.id))
        )
    ]
    memberships = [
        MembershipData(
            organisation=_ref(org), role=m.role, state=m.state, created=m.created, updated=m.updated
        )
        for m, org in session.execute(
            select(Membership, Organisation)
            .join(Organisation, col(Organisation.id) == col(Membership.organisation_id))
            .where(col(Membership.person_id) == person.id)
            .order_by(col(Membership.created), col(Membership.id))
        )
    ]
    follows = [
        FollowData(organisation=_ref(org), state=f.state, created=f.created)
        for f, org in session.execute(
            select(Follow, Organisation)
            .join(Organisation, col(Organisation.id) == col(Follow.organisation_id))
            .where(col(Follow.person_id) == person.id)
            .order_by(col(Follow.created), col(Follow.id))
        )
    ]
    participations = [
        ParticipationData(
            event=_event_ref(event), state=p.state, created=p.created, updated=p.updated
        )
        for p, event in session.execute(
            select(Participation, Event)
            .join(Event, col(Event.id) == col(Participation.event_id))
            .where(col(Participation.person_id) == person.id)
            .order_by(col(Participation.created), col(Participation.id))
        )
    ]
    contributions = [
        ContributionData(
            project=_ref(project), role=c.role, state=c.state, created=c.created, updated=c.updated
        )
        for c, project in session.execute(
            select(Contribution, Project)
            .join(Project, col(Project.id) == col(Contribution.project_id))
            .where(col(Contribution.person_id) == person.id)
            .order_by(col(Contribution.created), col(Contribution.id))
        )
    ]
    activities = [
        ActivityData(
            id=a.id,
            url=a.ap_id,
            type=a.type,
            object_type=a.object_type,
            object_id=a.object_id,
            object_url=a.object_url,
            public=a.public,
            published=a.created,
            payload=a.payload,
        )
        for a in session.scalars(
            select(Activity).where(col(Activity.actor) == person.ap_id).order_by(col(Activity.seq))
        )
    ]
    return PersonalDataExport(
        format_version=EXPORT_FORMAT_VERSION,
        exported_at=utcnow(),
        node=node.urls.base,
        account=account,
        tokens=tokens,
        memberships=memberships,
        follows=follows,
        participations=participations,
        contributions=contributions,
        administered=_administered(session, person),
        activities=activities,
    )


def _administered(session: Session, person: Person) -> AdministeredData:
    org_ids = _admin_organisation_ids(session, person.id)
    organisations = session.scalars(
        select(Organisation)
        .where(col(Organisation.id).in_(org_ids))
        .order_by(col(Organisation.created), col(Organisation.id))
    )
    organised = select(col(EventOrganiser.event_id)).where(
        col(EventOrganiser.organisation_id).in_(org_ids)
    )
    events = session.scalars(
        select(Event)
        .where(col(Event.id).in_(organised))
        .order_by(col(Event.starts_at), col(Event.id))
    )
    led = select(col(Contribution.project_id)).where(
        col(Contribution.person_id) == person.id,
        col(Contribution.role) == Role.admin,
        col(Contribution.state) == MembershipState.accepted,
    )
    projects = session.scalars(
        select(Project)
        .where(col(Project.id).in_(led) | col(Project.organisation_id).in_(org_ids))
        .order_by(col(Project.created), col(Project.id))
    )
    return AdministeredData(
        organisations=[_ref(o) for o in organisations],
        events=[_event_ref(e) for e in events],
        projects=[_ref(p) for p in projects],
    )


def _admin_organisation_ids(session: Session, person_id: str) -> list[str]:
    """The organisations where the person is an accepted admin."""
    return list(
        session.scalars(
            select(col(Membership.organisation_id)).where(
                col(Membership.person_id) == person_id,
                col(Membership.role) == Role.admin,
                col(Membership.state) == MembershipState.accepted,
            )
        )
    )


def _led_project_ids(session: Session, person_id: str) -> list[str]:
    """The projects where the person is an accepted admin contributor."""
    return list(
        session.scalars(
            select(col(Contribution.project_id)).where(
                col(Contribution.person_id) == person_id,
                col(Contribution.role) == Role.admin,
                col(Contribution.state) == MembershipState.accepted,
            )
        )
    )


# --- deletion ------------------------------------------------------------------------


def check_password(person: Person, password: str) -> None:
    """422 naming ``password`` unless it is the person's current password."""
    if not verify_password(person, password):
        raise Invalid("password", "wrong password")


def delete_account(session: Session, node: NodeContext, person: Person) -> None:
    """Erase a local account, in the caller's transaction.

    The profile is blanked (email and password removed, so the email can register
    again), every token revoked, memberships, follows, participations and
    contributions deleted; organisations and projects the person administered are
    handed over first (see :func:`_hand_over_organisation`, :func:`_hand_over_project`).
    The row stays as a tombstone (``deleted_at``: its URL answers 410) and a public
    ``Delete`` is recorded for federation.
    """
    if not person.is_local:
        raise Forbidden("remote accounts are deleted on their origin node")
    # A conditional write first: it locks the row (PostgreSQL) or the database (SQLite)
    # before anything is decided, and a concurrent deletion of the same account finds
    # nothing left to delete. The hand-over below then reads a state no other deletion
    # changes under it (it also locks the organisations and projects it looks at).
    now = utcnow()
    erased = session.execute(
        update(Person)
        .where(col(Person.id) == person.id, col(Person.deleted_at).is_(None))
        .values(deleted_at=now, updated=now)
        .returning(col(Person.id))
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if erased is None:
        raise Gone(f"person {person.id} was deleted")
    person.deleted_at = now
    person.updated = now
    person.email = None
    person.password_hash = None
    person.name = DELETED_NAME
    person.bio = ""
    person.locale = "fr"
    person.public_profile = False
    person.is_admin = False
    person.place_id = None
    person.inbox = None
    person.shared_inbox = None
    short = person.id.replace("-", "")[-12:]  # the random end of a UUIDv7
    person.username = unique_username(session, Person, f"{DELETED_USERNAME_PREFIX}-{short}")
    session.flush()

    revoke_all_tokens(session, person)
    for org in _locked(session, Organisation, _admin_organisation_ids(session, person.id)):
        _hand_over_organisation(session, org, person)
    for project in _locked(session, Project, _led_project_ids(session, person.id)):
        _hand_over_project(session, project, person)
    _delete_relations(session, node, person)
    publish(
        session,
        node,
        verb="Delete",
        actor=person.ap_id,
        object_type="person",
        object_id=person.id,
        object_url=person.ap_id,
    )
    log.info("account %s deleted", person.id)


Handed = TypeVar("Handed", Organisation, Project)


def _locked(session: Session, model: type[Handed], ids: list[str]) -> list[Handed]:
    """The live local rows with these ids, locked in id order (no deadlock)."""
    if not ids:
        return []
    return list(
        session.scalars(
            select(model)
            .where(
                col(model.id).in_(sorted(set(ids))),
                col(model.deleted_at).is_(None),
                col(model.origin).is_(None),
            )
            .order_by(col(model.id))
            .with_for_update()
        )
    )


def _live_local(person_id: Any) -> ColumnElement[bool]:
    """The row of ``person_id`` (a column) is a live local person."""
    return (
        select(col(Person.id))
        .where(
            col(Person.id) == person_id,
            col(Person.deleted_at).is_(None),
            col(Person.origin).is_(None),
        )
        .exists()
    )


def _hand_over_organisation(session: Session, org: Organisation, leaving: Person) -> None:
    """Keep an admin for ``org`` when ``leaving`` (one of its admins) goes.

    Another accepted admin: nothing to do. Else the longest-standing accepted member
    becomes admin. Else the node's administrators become its admins. Else it keeps no
    admin: it stays published and a warning tells the node's operators.
    """
    accepted_others = select(Membership).where(
        col(Membership.organisation_id) == org.id,
        col(Membership.person_id) != leaving.id,
        col(Membership.state) == MembershipState.accepted,
        _live_local(Membership.person_id),
    )
    if session.scalar(accepted_others.where(col(Membership.role) == Role.admin).limit(1)):
        return
    successor = session.scalar(
        accepted_others.order_by(col(Membership.created), col(Membership.id)).limit(1)
    )
    if successor is not None:
        successor.role = Role.admin
        successor.updated = utcnow()
        log.info(
            "organisation %s: member %s becomes admin (account %s deleted)",
            org.id,
            successor.person_id,
            leaving.id,
        )
        return
    node_admins = list(
        session.scalars(
            select(col(Person.id))
            .where(
                col(Person.is_admin).is_(True),
                col(Person.id) != leaving.id,
                col(Person.deleted_at).is_(None),
                col(Person.origin).is_(None),
            )
            .order_by(col(Person.created), col(Person.id))
        )
    )
    if not node_admins:
        log.warning(
            "organisation %s (%s) has no admin left: account %s was deleted and the node "
            "has no administrator to take over",
            org.id,
            org.name,
            leaving.id,
        )
        return
    existing = {
        m.person_id: m
        for m in session.scalars(
            select(Membership).where(
                col(Membership.organisation_id) == org.id,
                col(Membership.person_id).in_(node_admins),
            )
        )
    }
    now = utcnow()
    for admin_id in node_admins:
        membership = existing.get(admin_id)
        if membership is None:
            session.add(
                Membership(
                    organisation_id=org.id,
                    person_id=admin_id,
                    role=Role.admin,
                    state=MembershipState.accepted,
                )
            )
        else:
            membership.role = Role.admin
            membership.state = MembershipState.accepted
            membership.updated = now
    log.info(
        "organisation %s: the node's administrators take over (account %s deleted)",
        org.id,
        leaving.id,
    )


def _hand_over_project(session: Session, project: Project, leaving: Person) -> None:
    """Another admin contributor: nothing to do. Else the longest-standing accepted
    contributor becomes admin. Else the organisation's admins keep it (they edit it)."""
    accepted_others = select(Contribution).where(
        col(Contribution.project_id) == project.id,
        col(Contribution.person_id) != leaving.id,
        col(Contribution.state) == MembershipState.accepted,
        _live_local(Contribution.person_id),
    )
    if session.scalar(accepted_others.where(col(Contribution.role) == Role.admin).limit(1)):
        return
    successor = session.scalar(
        accepted_others.order_by(col(Contribution.created), col(Contribution.id)).limit(1)
    )
    if successor is not None:
        successor.role = Role.admin
        successor.updated = utcnow()
        log.info(
            "project %s: contributor %s becomes admin (account %s deleted)",
            project.id,
            successor.person_id,
            leaving.id,
        )


def _delete_relations(session: Session, node: NodeContext, person: Person) -> None:
    """Delete the person's relations; refresh the search documents whose counts drop.
    Organisations of other nodes are told, as when the person unfollows or leaves them:
    ``Undo{Follow}`` for a follow (accepted or still pending), ``Leave`` for a
    membership."""
    events = set(
        session.scalars(
            select(col(Participation.event_id)).where(
                col(Participation.person_id) == person.id,
                col(Participation.state) == ParticipationState.going,
            )
        )
    )
    organisations = set(
        session.scalars(
            select(col(Follow.organisation_id)).where(col(Follow.person_id) == person.id)
        )
    )
    organisations |= set(
        session.scalars(
            select(col(Membership.organisation_id)).where(
                col(Membership.person_id) == person.id,
                col(Membership.state) == MembershipState.accepted,
            )
        )
    )
    _tell_remote_organisations(session, node, person)
    session.execute(delete(Participation).where(col(Participation.person_id) == person.id))
    session.execute(delete(Follow).where(col(Follow.person_id) == person.id))
    session.execute(delete(Contribution).where(col(Contribution.person_id) == person.id))
    session.execute(delete(Membership).where(col(Membership.person_id) == person.id))
    for event_id in sorted(events):
        index(session, "event", event_id)
    for org_id in sorted(organisations):
        index(session, "organisation", org_id)


def _tell_remote_organisations(session: Session, node: NodeContext, person: Person) -> None:
    """Undo the person's follows of organisations of other nodes and leave their
    memberships there, through the services that unfollowing and leaving use (each
    activity is delivered by the jobs, signed by the person's key, which stays)."""
    remote = col(Organisation.origin).is_not(None)
    followed = session.scalars(
        select(Organisation)
        .join(Follow, col(Follow.organisation_id) == col(Organisation.id))
        .where(col(Follow.person_id) == person.id, remote)
        .order_by(col(Organisation.id))
    ).all()
    for org in followed:
        organisations.unfollow(session, person, org, node)
    joined = session.execute(
        select(Membership, Organisation)
        .join(Organisation, col(Organisation.id) == col(Membership.organisation_id))
        .where(col(Membership.person_id) == person.id, remote)
        .order_by(col(Organisation.id))
    ).all()
    for membership, org in joined:
        organisations.tell_left(session, node, person, org, membership)
