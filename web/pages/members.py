"""An organisation's admins manage its members: invite, accept requests, roles, removal;
a person answers the invitations they received."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.errors import DomainError
from node.models import Membership, MembershipState, Organisation, Person, Role
from node.services import invitations
from node.services import organisations as service
from node.services.common import get_live
from node.services.permissions import require_local, require_org_admin
from web.app import flash
from web.forms import PAGE_ERRORS, FormState, domain_errors, see_other, texts
from web.messages import N_
from web.pages.common import Form, check_id, page_router, signed_in, web_of

router = page_router()
#: the node's refusal, translated where the form shows it
NODE_MESSAGES = (N_("no account of this node has this username"),)
#: what an invitation did, by the invitee's state before it
INVITED: dict[str | None, str] = {
    None: N_("%(name)s is invited."),
    MembershipState.pending: N_("%(name)s had asked to join: now a member."),
    MembershipState.invited: N_("%(name)s is already invited."),
    MembershipState.accepted: N_("%(name)s is already a member."),
}


@router.get("/organisations/{organisation_id}/members")
def members(organisation_id: str, request: Request) -> Response:
    check_id(organisation_id)
    return _members(request, organisation_id, FormState(values={"role": "member"}))


def _members(request: Request, organisation_id: str, form: FormState) -> Response:
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
            {
                "id": p.id,
                "name": p.name,
                "username": p.username,
                "role": m.role,
                "state": m.state,
                "me": p.id == person.id,
            }
            for m, p in rows
        ]
        name = org.name
    translate = web.translate(request)
    values = {
        "organisation_id": organisation_id,
        "name": name,
        "people": [p for p in people if p["state"] != MembershipState.invited],
        "invited": [p for p in people if p["state"] == MembershipState.invited],
        "form": form,
        "roles": [("member", translate("member")), ("admin", translate("admin"))],
    }
    return web.render(request, "forms/members.html", values, status=422 if form.invalid else 200)


@router.post("/organisations/{organisation_id}/invitations")
def invite(organisation_id: str, request: Request, form: Form) -> Response:
    """Invite a person of this node by their username, as a member or an admin."""
    check_id(organisation_id)
    web = web_of(request)
    typed = texts(form, "username", "role")
    role = Role.admin if typed["role"] == "admin" else Role.member
    try:
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            org = get_live(session, Organisation, organisation_id)
            membership, before = invitations.invite_by_username(
                session, person, org, typed["username"], role, web.runtime.urls.host
            )
            invitee = session.get(Person, membership.person_id)
            invitee_name = invitee.name if invitee is not None else typed["username"]
    except DomainError as error:
        if error.status in PAGE_ERRORS:
            raise
        failed = domain_errors(error, web.translate(request))
        state = FormState(values=typed, errors=failed.errors, error=failed.error)
        return _members(request, organisation_id, state)
    message = web.gettext(request, INVITED.get(before, INVITED[None]), name=invitee_name)
    flash(request, message)
    return see_other(f"/organisations/{organisation_id}/members")


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


def waiting_invitations(session: Session, person: Person) -> list[dict[str, str]]:
    """What ``partials/invitations.html`` lists: the invitations awaiting an answer."""
    return [
        {"organisation_id": org.id, "name": org.name, "role": membership.role}
        for membership, org in invitations.invitations_of(session, person)
    ]


@router.get("/invitations")
def my_invitations(request: Request) -> Response:
    """The invitations waiting for my answer."""
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        waiting = waiting_invitations(session, person)
        username = person.username
    values = {"invitations": waiting, "username": username, "host": web.runtime.urls.host}
    return web.render(request, "forms/invitations.html", values)


@router.post("/organisations/{organisation_id}/invitation")
def answer(organisation_id: str, request: Request, form: Form) -> Response:
    """``action``: ``accept`` (become a member) or ``decline``."""
    check_id(organisation_id)
    web = web_of(request)
    accept = form.get("action") == "accept"
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        org = get_live(session, Organisation, organisation_id)
        invitations.answer_invitation(session, person, org, accept=accept)
        name = org.name
    if accept:
        flash(request, web.gettext(request, "You are a member of %(name)s.", name=name))
        return see_other(f"/organisations/{organisation_id}")
    flash(request, web.gettext(request, "You declined the invitation of %(name)s.", name=name))
    return see_other("/invitations")
