"""Organisations: publishing, editing, deleting; members and followers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.dbtypes import utcnow
from node.errors import Conflict, Forbidden, NotFound
from node.geocoding import GeocodedPlace, PlaceInput
from node.models import (
    Follow,
    FollowState,
    Membership,
    MembershipMode,
    MembershipState,
    Organisation,
    Person,
    Place,
    Role,
)
from node.sanitize import sanitize_html
from node.schemas import OrganisationIn
from node.services import remote
from node.services.common import (
    add_with_username,
    get_live,
    make_place,
    place_input,
    set_labels,
    slugify,
)
from node.services.context import NodeContext
from node.services.events import tombstone_events_of
from node.services.outbox import publish
from node.services.permissions import is_org_admin, require_local, require_org_admin
from node.services.projects import tombstone_projects_of
from node.urls import Urls


def create_organisation(
    session: Session, node: NodeContext, actor: Person, data: OrganisationIn
) -> Organisation:
    """Publish an organisation; its creator becomes its admin."""
    org = Organisation(
        ap_id="",
        username="",
        **_fields(data),
        place_id=make_place(session, node, data.place),
    )
    org.ap_id = node.urls.organisation(org.id)
    add_with_username(session, org, slugify(data.name, "organisation"))
    session.add(
        Membership(
            organisation_id=org.id,
            person_id=actor.id,
            role=Role.admin,
            state=MembershipState.accepted,
        )
    )
    set_labels(session, "organisation", org.id, org.themes, org.tags)
    _publish(session, node, "Create", org)
    return org


def organisation_input(session: Session, org: Organisation) -> dict[str, Any]:
    """The organisation as the input that would recreate it (PATCH merges onto this)."""
    place = session.get(Place, org.place_id) if org.place_id else None
    return {
        "name": org.name,
        "kind": org.kind,
        "legal_form": org.legal_form,
        "siren": org.siren,
        "rna": org.rna,
        "description": org.description,
        "website": org.website,
        "email": org.email,
        "phone": org.phone,
        "logo_url": org.logo_url,
        "themes": org.themes,
        "tags": org.tags,
        "place": place_input(place),
        "join_mode": org.join_mode,
    }


def update_organisation(
    session: Session,
    node: NodeContext,
    actor: Person,
    org: Organisation,
    data: OrganisationIn,
    place_changed: bool,
) -> Organisation:
    require_local(org)
    require_org_admin(session, actor, org.id)
    for name, value in _fields(data).items():
        setattr(org, name, value)
    if place_changed:
        org.place_id = make_place(session, node, data.place)
    org.updated = utcnow()
    set_labels(session, "organisation", org.id, org.themes, org.tags)
    _publish(session, node, "Update", org)
    return org


def delete_organisation(
    session: Session, node: NodeContext, actor: Person, org: Organisation
) -> None:
    """Delete (tombstone) an organisation; its events and projects go with it."""
    require_local(org)
    require_org_admin(session, actor, org.id)
    tombstone_organisation(session, node, org)


def tombstone_organisation(session: Session, node: NodeContext, org: Organisation) -> None:
    tombstone_events_of(session, node, org.id)
    tombstone_projects_of(session, node, org.id)
    org.deleted_at = utcnow()
    org.updated = org.deleted_at
    set_labels(session, "organisation", org.id, [], [])
    _publish(session, node, "Delete", org)


def _fields(data: OrganisationIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "kind": data.kind.value,
        "legal_form": data.legal_form.value if data.legal_form else None,
        "siren": data.siren,
        "rna": data.rna,
        "description": sanitize_html(data.description),
        "website": data.website,
        "email": str(data.email) if data.email else None,
        "phone": data.phone,
        "logo_url": data.logo_url,
        "themes": data.themes,
        "tags": data.tags,
        "join_mode": data.join_mode.value,
    }


def _publish(session: Session, node: NodeContext, verb: str, org: Organisation) -> None:
    publish(
        session,
        node,
        verb=verb,
        actor=org.ap_id,
        object_type="organisation",
        object_id=org.id,
        object_url=org.ap_id,
        audience=[org.id],
    )


# --- members -------------------------------------------------------------------------
# A person of another node asks with ``Join{Group}`` (``join_id``); they learn the answer
# from the organisation's actor: ``Accept`` when they become a member, ``Reject`` when an
# admin turns the request down.


def membership_of(session: Session, org_id: str, person_id: str) -> Membership | None:
    return session.scalar(
        select(Membership).where(
            col(Membership.organisation_id) == org_id, col(Membership.person_id) == person_id
        )
    )


def request_membership(
    session: Session,
    actor: Person,
    org: Organisation,
    *,
    join_id: str | None = None,
    node: NodeContext | None = None,
) -> Membership:
    """Ask to join: a member at once when the organisation is open or had invited the
    person, else pending until an admin accepts. ``join_id``: the ``Join`` of a person of
    another node, answered ``Accept`` as soon as they are a member."""
    existing = membership_of(session, org.id, actor.id)
    if existing is None:
        state = MembershipState.pending
        if org.join_mode == MembershipMode.open:
            state = MembershipState.accepted
        existing = Membership(organisation_id=org.id, person_id=actor.id, state=state)
        session.add(existing)
    elif existing.state == MembershipState.invited:
        existing.state = MembershipState.accepted
        existing.updated = utcnow()
    if join_id is not None:
        existing.activity_id = join_id[:500]
        if existing.state == MembershipState.accepted:
            _answer_join(session, node, org, existing, accepted=True)
    return existing


def invite_member(
    session: Session, actor: Person, org: Organisation, person_id: str, role: Role
) -> Membership:
    require_org_admin(session, actor, org.id)
    invitee = get_live(session, Person, person_id)
    existing = membership_of(session, org.id, invitee.id)
    if existing is None:
        existing = Membership(
            organisation_id=org.id, person_id=invitee.id, role=role, state="invited"
        )
        session.add(existing)
    elif existing.state == MembershipState.pending:
        existing.state = MembershipState.accepted
        existing.role = role
        existing.updated = utcnow()
        _answer_join(session, None, org, existing, accepted=True)
    return existing


def decide_membership(
    session: Session,
    actor: Person,
    org: Organisation,
    person_id: str,
    *,
    role: Role | None,
    accept: bool,
    node: NodeContext | None = None,
) -> Membership:
    """An admin accepts a request and/or sets a member's role."""
    require_org_admin(session, actor, org.id)
    membership = membership_of(session, org.id, person_id)
    if membership is None:
        raise NotFound("no such membership")
    if accept and membership.state == MembershipState.pending:
        membership.state = MembershipState.accepted
        _answer_join(session, node, org, membership, accepted=True)
    if role is not None:
        if role != Role.admin and membership.role == Role.admin:
            _keep_one_admin(session, org.id, person_id)
        membership.role = role
    membership.updated = utcnow()
    return membership


def remove_membership(
    session: Session,
    actor: Person,
    org: Organisation,
    person_id: str,
    node: NodeContext | None = None,
) -> None:
    """Leave (oneself) or remove (an admin); the last admin cannot go. For a person of
    another node, an admin removing their pending request turns their ``Join`` down
    (``Reject``), removing them as a member sends ``Remove``. A person of ours leaving an
    organisation of another node tells it (``Leave``)."""
    if person_id != actor.id and not is_org_admin(session, actor, org.id):
        raise Forbidden("only the organisation's admins may remove members")
    membership = membership_of(session, org.id, person_id)
    if membership is None:
        raise NotFound("no such membership")
    if membership.role == Role.admin and membership.state == MembershipState.accepted:
        _keep_one_admin(session, org.id, person_id)
    if person_id == actor.id:
        tell_left(session, node, actor, org, membership)
    elif membership.state == MembershipState.pending:
        _answer_join(session, node, org, membership, accepted=False)
    elif membership.state == MembershipState.accepted:
        _tell_removed(session, node, org, membership)
    session.delete(membership)


def tell_left(
    session: Session,
    node: NodeContext | None,
    person: Person,
    org: Organisation,
    membership: Membership,
) -> None:
    """A person of ours no longer belongs to an organisation of another node (they left
    it, or their account was erased): its actor receives ``Leave``."""
    if org.is_local or not person.is_local:
        return
    inbox = remote.actor_inbox(session, org.ap_id)
    if inbox is None:
        return
    publish(
        session,
        node or _context_of(person),
        verb="Leave",
        actor=person.ap_id,
        object_type="membership",
        object_id=membership.id,
        object_url=org.ap_id,
        inboxes=[inbox],
        public=False,
    )


def _answer_join(
    session: Session,
    node: NodeContext | None,
    org: Organisation,
    membership: Membership,
    *,
    accepted: bool,
) -> None:
    """Tell a person of another node the answer to their ``Join`` of the organisation."""
    if membership.activity_id:
        _tell_member(session, node, org, membership, "Accept" if accepted else "Reject")


def _tell_removed(
    session: Session, node: NodeContext | None, org: Organisation, membership: Membership
) -> None:
    """Tell a member of another node that an admin removed them: ``Remove``, whose object
    is their membership (Mobilizon's member URL, the id of their ``Join``) and whose
    ``origin`` is the group, as Mobilizon sends and reads it."""
    _tell_member(session, node, org, membership, "Remove")


def _tell_member(
    session: Session,
    node: NodeContext | None,
    org: Organisation,
    membership: Membership,
    verb: str,
) -> None:
    """Send ``verb`` about a membership of one of our organisations to the person of
    another node it belongs to (nothing for our own people). The object is the membership
    by the id of the person's ``Join`` (their actor's URL when they sent none)."""
    if not org.is_local:
        return
    person = session.get(Person, membership.person_id)
    if person is None or person.is_local or not (person.inbox or person.shared_inbox):
        return
    publish(
        session,
        node or _context_of(org),
        verb=verb,
        actor=org.ap_id,
        object_type="membership",
        object_id=membership.id,
        object_url=membership.activity_id or person.ap_id,
        inboxes=[person.inbox or person.shared_inbox or ""],
        public=False,
        payload={"person": person.ap_id, "role": membership.role},
    )


def _keep_one_admin(session: Session, org_id: str, leaving: str) -> None:
    # Lock the organisation: two admins leaving at once must not both see the other.
    session.execute(
        select(col(Organisation.id)).where(col(Organisation.id) == org_id).with_for_update()
    )
    others = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(
            col(Membership.organisation_id) == org_id,
            col(Membership.person_id) != leaving,
            col(Membership.role) == Role.admin,
            col(Membership.state) == MembershipState.accepted,
        )
    )
    if not others:
        raise Conflict("an organisation keeps at least one admin")


# --- followers -----------------------------------------------------------------------
# Following an organisation of another node sends our person's ``Follow`` to its actor;
# the follow is pending until its server answers (``remote.answer_follow``), and
# unfollowing sends ``Undo{Follow}``.


def follow_of(session: Session, person_id: str, org_id: str) -> Follow | None:
    return session.scalar(
        select(Follow).where(
            col(Follow.person_id) == person_id, col(Follow.organisation_id) == org_id
        )
    )


def follow(
    session: Session, actor: Person, org: Organisation, node: NodeContext | None = None
) -> Follow:
    existing = follow_of(session, actor.id, org.id)
    if existing is not None:
        return existing
    created = Follow(person_id=actor.id, organisation_id=org.id)
    if not org.is_local:
        require_local(actor)
        inbox = remote.actor_inbox(session, org.ap_id)
        if inbox is None:
            raise Forbidden("this organisation's server cannot be reached")
        activity = publish(
            session,
            node or _context_of(actor),
            verb="Follow",
            actor=actor.ap_id,
            object_type="follow",
            object_id=org.id,
            object_url=org.ap_id,
            inboxes=[inbox],
            public=False,
        )
        created.state = FollowState.pending
        created.activity_id = activity.ap_id
    session.add(created)
    return created


def unfollow(
    session: Session, actor: Person, org: Organisation, node: NodeContext | None = None
) -> None:
    existing = follow_of(session, actor.id, org.id)
    if existing is None:
        return
    session.delete(existing)
    inbox = remote.actor_inbox(session, org.ap_id) if not org.is_local else None
    if existing.activity_id and inbox is not None:
        publish(
            session,
            node or _context_of(actor),
            verb="Undo",
            actor=actor.ap_id,
            object_type="follow",
            object_id=org.id,
            object_url=org.ap_id,
            inboxes=[inbox],
            public=False,
            payload={"follow": existing.activity_id},
        )


class _NoPlaces:
    """The geocoder of :func:`_context_of`: these services store no place."""

    def geocode(self, place: PlaceInput) -> GeocodedPlace:
        raise RuntimeError("the member and follow services store no place")


def _context_of(local: Person | Organisation) -> NodeContext:
    """This node's context for callers that give none (the member pages and API): its
    URLs read back from a local actor's canonical URL, ``<base>/<collection>/<id>``."""
    kind = "person" if isinstance(local, Person) else "organisation"
    suffix = Urls("").of(kind, local.id)
    if not local.is_local or not local.ap_id.endswith(suffix):
        raise ValueError(f"{local.ap_id} is not the URL of a local {kind}")
    return NodeContext(urls=Urls(local.ap_id.removesuffix(suffix)), geocoder=_NoPlaces())
