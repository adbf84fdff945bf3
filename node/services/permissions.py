"""Who may do what: the same rules for the API, the web pages and federation."""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.errors import Forbidden
from node.models import (
    Contribution,
    Event,
    EventOrganiser,
    Membership,
    MembershipState,
    Person,
    Project,
    Role,
    Stored,
)


def is_org_admin(session: Session, person: Person | None, organisation_id: str) -> bool:
    if person is None:
        return False
    if person.is_admin:
        return True
    return (
        session.scalar(
            select(col(Membership.id)).where(
                col(Membership.organisation_id) == organisation_id,
                col(Membership.person_id) == person.id,
                col(Membership.role) == Role.admin,
                col(Membership.state) == MembershipState.accepted,
            )
        )
        is not None
    )


def require_local(obj: Stored) -> None:
    if not obj.is_local:
        raise Forbidden("remote objects are edited on their origin node")


def require_org_admin(session: Session, person: Person, organisation_id: str) -> None:
    if not is_org_admin(session, person, organisation_id):
        raise Forbidden("only the organisation's admins may do this")


def can_edit_event(session: Session, person: Person | None, event: Event) -> bool:
    if person is None:
        return False
    organisers = session.scalars(
        select(col(EventOrganiser.organisation_id)).where(col(EventOrganiser.event_id) == event.id)
    )
    return any(is_org_admin(session, person, org_id) for org_id in organisers)


def require_event_editor(session: Session, person: Person, event: Event) -> None:
    require_local(event)
    if not can_edit_event(session, person, event):
        raise Forbidden("only the admins of an organiser may do this")


def can_edit_project(session: Session, person: Person | None, project: Project) -> bool:
    if person is None:
        return False
    if is_org_admin(session, person, project.organisation_id):
        return True
    return (
        session.scalar(
            select(col(Contribution.id)).where(
                col(Contribution.project_id) == project.id,
                col(Contribution.person_id) == person.id,
                col(Contribution.role) == Role.admin,
                col(Contribution.state) == MembershipState.accepted,
            )
        )
        is not None
    )


def require_project_editor(session: Session, person: Person, project: Project) -> None:
    require_local(project)
    if not can_edit_project(session, person, project):
        raise Forbidden("only the project's admins may do this")
