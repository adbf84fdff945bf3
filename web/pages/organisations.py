"""The organisation page (profile, upcoming events, projects, members) and following."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlmodel import col

from node.api.representations import events_out, organisations_out, projects_out
from node.dbtypes import utcnow
from node.errors import Gone
from node.models import (
    Event,
    EventOrganiser,
    Membership,
    MembershipState,
    Organisation,
    Person,
    Project,
)
from node.services import organisations as service
from node.services.common import get_live
from node.services.permissions import is_org_admin
from web.app import flash
from web.errors import error_page
from web.forms import see_other
from web.pages.common import Form, check_id, page_router, signed_in, viewer, web_of
from web.views import json_script

router = page_router()
UPCOMING = 20


@router.get("/organisations/{organisation_id}")
def organisation_page(organisation_id: str, request: Request) -> Response:
    check_id(organisation_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = viewer(request, session)
        try:
            row = get_live(session, Organisation, organisation_id)
        except Gone:
            message = web.gettext(request, "This organisation was deleted.")
            return error_page(request, 410, message)
        org = organisations_out(session, [row])[0]
        upcoming = list(
            session.scalars(
                select(Event)
                .join(EventOrganiser, col(EventOrganiser.event_id) == col(Event.id))
                .where(
                    col(EventOrganiser.organisation_id) == row.id,
                    col(Event.deleted_at).is_(None),
                    col(Event.ends_at) >= utcnow(),
                )
                .order_by(col(Event.starts_at))
                .limit(UPCOMING)
            )
        )
        projects = list(
            session.scalars(
                select(Project)
                .where(col(Project.organisation_id) == row.id, col(Project.deleted_at).is_(None))
                .order_by(col(Project.name))
            )
        )
        admin = is_org_admin(session, person, row.id)
        members = session.execute(
            select(Person, Membership)
            .join(Membership, col(Membership.person_id) == col(Person.id))
            .where(col(Membership.organisation_id) == row.id)
            .where(
                col(Membership.state) == MembershipState.accepted
                if not admin
                else col(Membership.id).is_not(None)
            )
            .order_by(col(Membership.created))
        ).all()
        followed = service.follow_of(session, person.id, row.id) if person else None
        membership = service.membership_of(session, row.id, person.id) if person else None
        values: dict[str, Any] = {
            "org": org,
            "events": events_out(session, upcoming),
            "projects": projects_out(session, projects),
            "members": [
                {
                    "id": p.id,
                    "name": p.name,
                    "public": p.public_profile,
                    "role": m.role,
                    "state": m.state,
                }
                for p, m in members
            ],
            "admin": admin and row.is_local,
            # None, "pending" (an organisation of another node has not answered) or
            # "accepted"
            "following": followed.state if followed else None,
            "membership": membership.state if membership else None,
            # the role an invitation offers (answered with Accept / Decline)
            "invited_as": (
                membership.role
                if membership is not None and membership.state == MembershipState.invited
                else None
            ),
            "pins": json_script(_pins(org)),
        }
    return web.render(request, "organisation.html", values)


@router.post("/organisations/{organisation_id}/follow")
def follow(organisation_id: str, request: Request, form: Form) -> Response:
    """Follow (``action=follow``) or stop following (``action=unfollow``)."""
    check_id(organisation_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        org = get_live(session, Organisation, organisation_id)
        if form.get("action") == "unfollow":
            service.unfollow(session, person, org, web.runtime.context)
            message = web.gettext(request, "You no longer follow %(name)s.", name=org.name)
        elif service.follow(session, person, org, web.runtime.context).state == "pending":
            # another node's organisation answers our Follow later
            message = web.gettext(request, "Your request was sent to the admins.")
        else:
            message = web.gettext(request, "You follow %(name)s.", name=org.name)
    flash(request, message)
    return see_other(f"/organisations/{organisation_id}")


@router.post("/organisations/{organisation_id}/membership")
def membership(organisation_id: str, request: Request, form: Form) -> Response:
    """Ask to join (or accept an invitation), or leave."""
    check_id(organisation_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        org = get_live(session, Organisation, organisation_id)
        if form.get("action") == "leave":
            service.remove_membership(session, person, org, person.id)
            message = web.gettext(request, "You left %(name)s.", name=org.name)
        else:
            state = service.request_membership(session, person, org).state
            if state == MembershipState.accepted:
                message = web.gettext(request, "You are a member of %(name)s.", name=org.name)
            else:
                message = web.gettext(request, "Your request was sent to the admins.")
    flash(request, message)
    return see_other(f"/organisations/{organisation_id}")


def _pins(org: Any) -> list[dict[str, Any]]:
    place = org.place
    if place is None or place.latitude is None or place.longitude is None:
        return []
    return [
        {
            "id": org.id,
            "type": "organisation",
            "name": org.name,
            "path": f"/organisations/{org.id}",
            "lat": place.latitude,
            "lon": place.longitude,
        }
    ]
