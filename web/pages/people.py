"""Projects, people's profiles and "my agenda"."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import func, select
from sqlmodel import col

from node.api.representations import events_out, organisation_refs, projects_out
from node.dbtypes import utcnow
from node.errors import Gone, NotFound
from node.models import (
    Contribution,
    Event,
    Follow,
    FollowState,
    Membership,
    MembershipState,
    Organisation,
    Participation,
    Person,
    Project,
    Role,
)
from node.services import projects as project_service
from node.services.common import get_live
from node.services.permissions import can_edit_project
from web.app import flash
from web.errors import error_page
from web.forms import see_other
from web.pages.common import Form, check_id, page_router, signed_in, viewer, web_of
from web.pages.members import waiting_invitations

router = page_router()


@router.get("/projects/{project_id}")
def project_page(project_id: str, request: Request) -> Response:
    check_id(project_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = viewer(request, session)
        try:
            row = get_live(session, Project, project_id)
        except Gone:
            return error_page(request, 410, web.gettext(request, "This project was deleted."))
        project = projects_out(session, [row])[0]
        contributors = int(
            session.scalar(
                select(func.count())
                .select_from(Contribution)
                .where(
                    col(Contribution.project_id) == row.id,
                    col(Contribution.state) == MembershipState.accepted,
                )
            )
            or 0
        )
        mine = project_service.contribution_of(session, row.id, person.id) if person else None
        editor = can_edit_project(session, person, row) and row.is_local
    values = {
        "project": project,
        "contributors": contributors,
        "contribution": mine.state if mine else None,
        "editor": editor,
    }
    return web.render(request, "project.html", values)


@router.post("/projects/{project_id}/contribution")
def contribute(project_id: str, request: Request, form: Form) -> Response:
    """Offer to contribute (``action=offer``) or withdraw (``action=withdraw``)."""
    check_id(project_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        project = get_live(session, Project, project_id)
        if form.get("action") == "withdraw":
            project_service.withdraw_contribution(session, person, project, person.id)
            message = web.gettext(request, "You no longer contribute to this project.")
        else:
            project_service.offer_contribution(session, person, project)
            message = web.gettext(request, "Your offer was sent to the project's admins.")
    flash(request, message)
    return see_other(f"/projects/{project_id}")


@router.get("/people/{person_id}")
def person_page(person_id: str, request: Request) -> Response:
    """A public profile (404 when private, except for its owner)."""
    check_id(person_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        me = viewer(request, session)
        person = session.get(Person, person_id)
        if person is None or person.deleted_at is not None:
            raise NotFound("no such person")
        if not person.public_profile and (me is None or me.id != person.id):
            raise NotFound("no such person")
        org_ids = set(
            session.scalars(
                select(col(Membership.organisation_id)).where(
                    col(Membership.person_id) == person.id,
                    col(Membership.state) == MembershipState.accepted,
                )
            )
        )
        organisations = sorted(organisation_refs(session, org_ids).values(), key=lambda o: o.name)
        values = {
            "person": {
                "id": person.id,
                "name": person.name,
                "bio": person.bio,
                "origin": person.origin or "local",
                "url": person.ap_id,
                "public": person.public_profile,
            },
            "organisations": organisations,
        }
    return web.render(request, "person.html", values)


@router.get("/agenda")
def agenda(request: Request) -> Response:
    """My agenda: the events I registered for, the organisations I follow or run."""
    web = web_of(request)
    now = utcnow()
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        registered = session.execute(
            select(Event, col(Participation.state))
            .join(Participation, col(Participation.event_id) == col(Event.id))
            .where(col(Participation.person_id) == person.id, col(Event.deleted_at).is_(None))
            .order_by(col(Event.starts_at))
        ).all()
        states = {event.id: state for event, state in registered}
        events = events_out(session, [event for event, _ in registered])
        # a follow of another node's organisation is listed while it waits for its
        # answer, marked pending: the person does not follow it yet
        followed = session.execute(
            select(col(Organisation.id), col(Organisation.name), col(Follow.state))
            .join(Follow, col(Follow.organisation_id) == col(Organisation.id))
            .where(col(Follow.person_id) == person.id, col(Organisation.deleted_at).is_(None))
            .order_by(col(Organisation.name))
        ).all()
        administered = list(
            session.scalars(
                select(Organisation)
                .join(Membership, col(Membership.organisation_id) == col(Organisation.id))
                .where(
                    col(Membership.person_id) == person.id,
                    col(Membership.role) == Role.admin,
                    col(Membership.state) == MembershipState.accepted,
                    col(Organisation.deleted_at).is_(None),
                )
                .order_by(col(Organisation.name))
            )
        )
        values = {
            "upcoming": [e for e in events if e.ends_at >= now],
            "past": [e for e in events if e.ends_at < now][::-1],
            "states": states,
            "followed": [
                {"id": org_id, "name": name, "pending": state == FollowState.pending}
                for org_id, name, state in followed
            ],
            "administered": [{"id": o.id, "name": o.name} for o in administered],
            "invitations": waiting_invitations(session, person),
        }
    return web.render(request, "agenda.html", values)
