"""Projects and contributions: ``/projects``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from node.api import deps
from node.api.listing import labelled, ordered
from node.api.pagination import decode_cursor, encode_cursor
from node.api.patching import merge
from node.api.representations import Page, ProjectOut, projects_out
from node.models import Contribution, Project, ProjectStage, Role
from node.schemas import Input, ObjectId, ProjectIn, ProjectPatch, Tags, Themes
from node.services import projects as service
from node.services.common import get_live
from node.services.permissions import require_project_editor

router = APIRouter(
    prefix="/projects", tags=["projects"], dependencies=[Depends(deps.known_path_ids)]
)


@router.get("", response_model=Page[ProjectOut])
def list_projects(
    request: Request,
    organisation_id: Annotated[ObjectId | None, Query()] = None,
    theme: Annotated[Themes, Query()] = [],  # noqa: B006 (FastAPI reads, never mutates)
    tag: Annotated[Tags, Query()] = [],  # noqa: B006
    stage: ProjectStage | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[ProjectOut]:
    """Projects, newest first; filter by organisation, theme(s), tag(s), stage."""
    node = deps.runtime(request)
    query = select(Project).where(col(Project.deleted_at).is_(None))
    if organisation_id:
        query = query.where(col(Project.organisation_id) == organisation_id)
    if theme:
        query = query.where(col(Project.id).in_(labelled("project", "theme", theme)))
    if tag:
        query = query.where(col(Project.id).in_(labelled("project", "tag", tag)))
    if stage:
        query = query.where(col(Project.stage) == stage.value)
    if cursor:
        _, last_id = decode_cursor(cursor, 2)
        query = query.where(col(Project.id) < last_id)
    query = ordered(query, [col(Project.id)], descending=True).limit(limit + 1)
    with node.transaction() as session:
        rows = list(session.scalars(query))
        items = projects_out(session, rows[:limit])
    following = None
    if len(rows) > limit:
        following = encode_cursor(["p", rows[limit - 1].id])
    return Page[ProjectOut](items=items, next=following)


@router.post("", status_code=201, response_model=ProjectOut)
def create_project(data: ProjectIn, request: Request) -> ProjectOut:
    """Start a project for an organisation you administer; you become its admin."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        project = service.create_project(session, node.context, person, data)
        return projects_out(session, [project])[0]


@router.get("/{project_id}", response_model=ProjectOut)
def get_project(project_id: str, request: Request) -> ProjectOut:
    node = deps.runtime(request)
    with node.transaction() as session:
        return projects_out(session, [get_live(session, Project, project_id)])[0]


@router.patch("/{project_id}", response_model=ProjectOut)
def update_project(project_id: str, patch: ProjectPatch, request: Request) -> ProjectOut:  # type: ignore[valid-type]
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        project = get_live(session, Project, project_id, lock=True)
        require_project_editor(session, person, project)  # whatever the body
        data, changed = merge(ProjectIn, service.project_input(session, project), patch)
        service.update_project(session, node.context, person, project, data, "place" in changed)
        return projects_out(session, [project])[0]


@router.delete("/{project_id}", status_code=204)
def delete_project(project_id: str, request: Request) -> Response:
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        project = get_live(session, Project, project_id)
        service.delete_project(session, node.context, person, project)
    return Response(status_code=204)


class ContributionOut(BaseModel):
    project_id: str
    person_id: str
    role: str
    state: str


class ContributionDecisionIn(Input):
    role: Role | None = None


def _contribution_out(c: Contribution) -> ContributionOut:
    return ContributionOut(
        project_id=c.project_id, person_id=c.person_id, role=c.role, state=c.state
    )


@router.post("/{project_id}/contribution", status_code=201, response_model=ContributionOut)
def contribute(project_id: str, request: Request) -> ContributionOut:
    """Offer to contribute (pending until a project admin accepts)."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        c = service.offer_contribution(session, person, get_live(session, Project, project_id))
        return _contribution_out(c)


@router.delete("/{project_id}/contributors/{person_id}", status_code=204)
def withdraw(project_id: str, person_id: str, request: Request) -> Response:
    """Withdraw (your own id) or remove a contributor (project admins)."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        project = get_live(session, Project, project_id)
        service.withdraw_contribution(session, person, project, person_id)
    return Response(status_code=204)


@router.patch("/{project_id}/contributors/{person_id}", response_model=ContributionOut)
def accept_contributor(
    project_id: str, person_id: str, data: ContributionDecisionIn, request: Request
) -> ContributionOut:
    """A project admin accepts a contributor and may set their role."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        project = get_live(session, Project, project_id)
        c = service.decide_contribution(session, person, project, person_id, data.role)
        return _contribution_out(c)
