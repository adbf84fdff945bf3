"""Projects of an organisation and the people who contribute to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.dbtypes import utcnow
from node.errors import Forbidden, Invalid, NotFound
from node.models import Contribution, MembershipState, Organisation, Person, Place, Project, Role
from node.sanitize import sanitize_html
from node.schemas import ProjectIn
from node.services.common import make_place, place_input, set_labels
from node.services.context import NodeContext
from node.services.outbox import publish
from node.services.permissions import can_edit_project, require_org_admin, require_project_editor


def create_project(session: Session, node: NodeContext, actor: Person, data: ProjectIn) -> Project:
    """Start a project for an organisation the actor administers; they become its admin."""
    org = session.get(Organisation, data.organisation_id)
    if org is None or org.deleted_at is not None or not org.is_local:
        raise Invalid("organisation_id", f"no local organisation {data.organisation_id}")
    require_org_admin(session, actor, org.id)
    project = Project(
        ap_id="",
        organisation_id=org.id,
        **_fields(data),
        place_id=make_place(session, node, data.place),
    )
    project.ap_id = node.urls.project(project.id)
    session.add(project)
    session.flush()
    session.add(
        Contribution(project_id=project.id, person_id=actor.id, role=Role.admin, state="accepted")
    )
    set_labels(session, "project", project.id, project.themes, project.tags)
    _publish(session, node, "Create", project)
    return project


def project_input(session: Session, project: Project) -> dict[str, Any]:
    place = session.get(Place, project.place_id) if project.place_id else None
    return {
        "name": project.name,
        "organisation_id": project.organisation_id,
        "stage": project.stage,
        "description": project.description,
        "themes": project.themes,
        "tags": project.tags,
        "place": place_input(place),
    }


def update_project(
    session: Session,
    node: NodeContext,
    actor: Person,
    project: Project,
    data: ProjectIn,
    place_changed: bool,
) -> Project:
    require_project_editor(session, actor, project)
    if data.organisation_id != project.organisation_id:
        raise Invalid("organisation_id", "a project stays with its organisation")
    for name, value in _fields(data).items():
        setattr(project, name, value)
    if place_changed:
        project.place_id = make_place(session, node, data.place)
    project.updated = utcnow()
    set_labels(session, "project", project.id, project.themes, project.tags)
    _publish(session, node, "Update", project)
    return project


def delete_project(session: Session, node: NodeContext, actor: Person, project: Project) -> None:
    require_project_editor(session, actor, project)
    _tombstone(session, node, project)


def tombstone_projects_of(session: Session, node: NodeContext, organisation_id: str) -> None:
    for project in session.scalars(
        select(Project).where(
            col(Project.organisation_id) == organisation_id,
            col(Project.deleted_at).is_(None),
            col(Project.origin).is_(None),
        )
    ):
        _tombstone(session, node, project)


def _tombstone(session: Session, node: NodeContext, project: Project) -> None:
    project.deleted_at = utcnow()
    project.updated = project.deleted_at
    set_labels(session, "project", project.id, [], [])
    _publish(session, node, "Delete", project)


def _fields(data: ProjectIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "stage": data.stage.value,
        "description": sanitize_html(data.description),
        "themes": data.themes,
        "tags": data.tags,
    }


def _publish(session: Session, node: NodeContext, verb: str, project: Project) -> None:
    publish(
        session,
        node,
        verb=verb,
        actor=project.ap_id,
        object_type="project",
        object_id=project.id,
        object_url=project.ap_id,
        audience=[project.organisation_id],
    )


# --- contributions -------------------------------------------------------------------


def contribution_of(session: Session, project_id: str, person_id: str) -> Contribution | None:
    return session.scalar(
        select(Contribution).where(
            col(Contribution.project_id) == project_id, col(Contribution.person_id) == person_id
        )
    )


def offer_contribution(session: Session, actor: Person, project: Project) -> Contribution:
    """A person offers to contribute; the project's admins accept."""
    existing = contribution_of(session, project.id, actor.id)
    if existing is not None:
        return existing
    contribution = Contribution(project_id=project.id, person_id=actor.id, state="pending")
    session.add(contribution)
    session.flush()
    return contribution


def decide_contribution(
    session: Session, actor: Person, project: Project, person_id: str, role: Role | None
) -> Contribution:
    require_project_editor(session, actor, project)
    contribution = contribution_of(session, project.id, person_id)
    if contribution is None:
        raise NotFound("no such contribution")
    contribution.state = MembershipState.accepted
    if role is not None:
        contribution.role = role
    contribution.updated = utcnow()
    return contribution


def withdraw_contribution(
    session: Session, actor: Person, project: Project, person_id: str
) -> None:
    if person_id != actor.id and not can_edit_project(session, actor, project):
        raise Forbidden("only the project's admins may remove contributors")
    contribution = contribution_of(session, project.id, person_id)
    if contribution is None:
        raise NotFound("no such contribution")
    session.delete(contribution)
