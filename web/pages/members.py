"""An organisation's admins manage its members: accept requests, roles, removal."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import select
from sqlmodel import col

from node.errors import DomainError
from node.models import Membership, Organisation, Person, Role
from node.services import organisations as service
from node.services.common import get_live
from node.services.permissions import require_local, require_org_admin
from web.app import flash
from web.forms import see_other
from web.pages.common import Form, check_id, page_router, signed_in, web_of

router = page_router()


@router.get("/organisations/{organisation_id}/members")
def members(organisation_id: str, request: Request) -> Response:
    check_id(organisation_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        org = get_live(session, Organisation, organisation_id)
        require_local(org)
        require_org_admin(session, person, org.id)
        rows = session.execute(
            select(Membership, Person)
            .join(Person, col(Person.id) == col(Membership.person_id))
            .where(col(Membership.organisation_id) == org.id)
            .order_by(col(Membership.state), col(Membership.created))
        ).all()
        people = [
            {"id": p.id, "name": p.name, "role": m.role, "state": m.state, "me": p.id == person.id}
            for m, p in rows
        ]
        name = org.name
    values = {"organisation_id": organisation_id, "name": name, "people": people}
    return web.render(request, "forms/members.html", values)


@router.post("/organisations/{organisation_id}/members/{person_id}")
def decide(organisation_id: str, person_id: str, request: Request, form: Form) -> Response:
    """``action``: ``accept``, ``admin``, ``member`` (the role) or ``remove``."""
    check_id(organisation_id)
    check_id(person_id)
    web = web_of(request)
    action = form.get("action")
    try:
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            org = get_live(session, Organisation, organisation_id)
            require_org_admin(session, person, org.id)
            if action == "remove":
                service.remove_membership(session, person, org, person_id)
            elif action in ("admin", "member"):
                role = Role.admin if action == "admin" else Role.member
                service.decide_membership(session, person, org, person_id, role=role, accept=False)
            else:
                service.decide_membership(session, person, org, person_id, role=None, accept=True)
        flash(request, web.gettext(request, "The members are updated."))
    except DomainError as error:
        if error.status in (401, 403):
            raise
        flash(request, web.gettext(request, error.message))
    return see_other(f"/organisations/{organisation_id}/members")
