"""Organisations, their members and followers: ``/organisations``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.api import deps
from node.api.listing import after, labelled, ordered
from node.api.pagination import decode_cursor, encode_cursor
from node.api.patching import merge
from node.api.representations import OrganisationOut, Page, organisations_out
from node.models import (
    Membership,
    MembershipState,
    Organisation,
    OrganisationKind,
    Person,
    Role,
)
from node.schemas import (
    ORIGIN_PATTERN,
    Input,
    ObjectId,
    OrganisationIn,
    OrganisationPatch,
    Tags,
    Themes,
)
from node.services import organisations as service
from node.services.common import get_live
from node.services.permissions import is_org_admin, require_local, require_org_admin

router = APIRouter(
    prefix="/organisations", tags=["organisations"], dependencies=[Depends(deps.known_path_ids)]
)


@router.get("", response_model=Page[OrganisationOut])
def list_organisations(
    request: Request,
    theme: Annotated[Themes, Query()] = [],  # noqa: B006 (FastAPI reads, never mutates)
    tag: Annotated[Tags, Query()] = [],  # noqa: B006
    kind: OrganisationKind | None = None,
    origin: Annotated[str | None, Query(max_length=255, pattern=ORIGIN_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[OrganisationOut]:
    """Organisations by name; filter by theme(s), tag(s), kind, origin (`local` or a host)."""
    node = deps.runtime(request)
    query = select(Organisation).where(col(Organisation.deleted_at).is_(None))
    if theme:
        query = query.where(col(Organisation.id).in_(labelled("organisation", "theme", theme)))
    if tag:
        query = query.where(col(Organisation.id).in_(labelled("organisation", "tag", tag)))
    if kind:
        query = query.where(col(Organisation.kind) == kind.value)
    if origin == "local":
        query = query.where(col(Organisation.origin).is_(None))
    elif origin:
        query = query.where(col(Organisation.origin) == origin)
    columns = [col(Organisation.name), col(Organisation.id)]
    if cursor:
        query = query.where(after(columns, decode_cursor(cursor, 2), descending=False))
    query = ordered(query, columns, descending=False).limit(limit + 1)
    with node.transaction() as session:
        rows = list(session.scalars(query))
        items = organisations_out(session, rows[:limit])
    following = None
    if len(rows) > limit:
        following = encode_cursor([rows[limit - 1].name, rows[limit - 1].id])
    return Page[OrganisationOut](items=items, next=following)


@router.post("", status_code=201, response_model=OrganisationOut)
def create_organisation(data: OrganisationIn, request: Request) -> OrganisationOut:
    """Publish an organisation; the caller becomes its admin."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        org = service.create_organisation(session, node.context, person, data)
        return organisations_out(session, [org])[0]


@router.get("/{organisation_id}", response_model=OrganisationOut)
def get_organisation(organisation_id: str, request: Request) -> OrganisationOut:
    node = deps.runtime(request)
    with node.transaction() as session:
        return organisations_out(session, [get_live(session, Organisation, organisation_id)])[0]


@router.patch("/{organisation_id}", response_model=OrganisationOut)
def update_organisation(
    organisation_id: str, patch: OrganisationPatch, request: Request  # type: ignore[valid-type]
) -> OrganisationOut:
    """Change some fields (admins only); the result is validated as a whole."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        org = get_live(session, Organisation, organisation_id, lock=True)
        require_local(org)  # a foreign edit is refused whatever its body
        require_org_admin(session, person, org.id)
        data, changed = merge(OrganisationIn, service.organisation_input(session, org), patch)
        service.update_organisation(session, node.context, person, org, data, "place" in changed)
        return organisations_out(session, [org])[0]


@router.delete("/{organisation_id}", status_code=204)
def delete_organisation(organisation_id: str, request: Request) -> Response:
    """Delete an organisation with the events it organises alone and its projects."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        org = get_live(session, Organisation, organisation_id, lock=True)
        service.delete_organisation(session, node.context, person, org)
    return Response(status_code=204)


@router.post("/{organisation_id}/follow", status_code=204)
def follow(organisation_id: str, request: Request) -> Response:
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        service.follow(session, person, get_live(session, Organisation, organisation_id))
    return Response(status_code=204)


@router.delete("/{organisation_id}/follow", status_code=204)
def unfollow(organisation_id: str, request: Request) -> Response:
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        service.unfollow(session, person, get_live(session, Organisation, organisation_id))
    return Response(status_code=204)


class MemberOut(BaseModel):
    person_id: str
    name: str
    role: str
    state: str


class InviteIn(Input):
    person_id: ObjectId
    role: Role = Role.member


class MemberDecisionIn(Input):
    accept: bool = True
    role: Role | None = None


def _member_out(session: Session, membership: Membership) -> MemberOut:
    person = session.get(Person, membership.person_id)
    return MemberOut(
        person_id=membership.person_id,
        name=person.name if person else "",
        role=membership.role,
        state=membership.state,
    )


@router.get("/{organisation_id}/members", response_model=list[MemberOut])
def list_members(organisation_id: str, request: Request) -> list[MemberOut]:
    """Accepted members for everyone; admins also see pending requests and invitations."""
    node = deps.runtime(request)
    with node.transaction() as session:
        org = get_live(session, Organisation, organisation_id)
        viewer = deps.optional_actor(request, session)
        query = select(Membership, Person).join(
            Person, col(Person.id) == col(Membership.person_id)
        )
        query = query.where(col(Membership.organisation_id) == org.id)
        if not is_org_admin(session, viewer, org.id):
            query = query.where(col(Membership.state) == MembershipState.accepted)
        return [
            MemberOut(person_id=p.id, name=p.name, role=m.role, state=m.state)
            for m, p in session.execute(query.order_by(col(Membership.created)))
        ]


@router.post("/{organisation_id}/members", status_code=201, response_model=MemberOut)
def join_organisation(organisation_id: str, request: Request) -> MemberOut:
    """Ask to join (pending until an admin accepts) or accept an invitation."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        org = get_live(session, Organisation, organisation_id)
        membership = service.request_membership(session, person, org)
        session.flush()
        return _member_out(session, membership)


@router.post("/{organisation_id}/invitations", status_code=201, response_model=MemberOut)
def invite(organisation_id: str, data: InviteIn, request: Request) -> MemberOut:
    """An admin invites a person (accepted at once if they had asked to join)."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        org = get_live(session, Organisation, organisation_id)
        membership = service.invite_member(session, person, org, data.person_id, data.role)
        session.flush()
        return _member_out(session, membership)


@router.patch("/{organisation_id}/members/{person_id}", response_model=MemberOut)
def decide_member(
    organisation_id: str, person_id: str, data: MemberDecisionIn, request: Request
) -> MemberOut:
    """An admin accepts a request and/or changes a member's role."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        org = get_live(session, Organisation, organisation_id)
        membership = service.decide_membership(
            session, person, org, person_id, role=data.role, accept=data.accept
        )
        return _member_out(session, membership)


@router.delete("/{organisation_id}/members/{person_id}", status_code=204)
def remove_member(organisation_id: str, person_id: str, request: Request) -> Response:
    """Leave (your own id) or remove a member (admins); the last admin stays."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        org = get_live(session, Organisation, organisation_id)
        service.remove_membership(session, person, org, person_id)
    return Response(status_code=204)
