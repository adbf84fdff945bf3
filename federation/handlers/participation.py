"""Join and Leave from people of other nodes: registrations for our events, memberships
of our organisations (``Join{Group}``, Mobilizon's way to ask)."""

from __future__ import annotations

from sqlmodel import col, select

from federation.convert import object_id, parse_actor
from federation.handlers.follows import send
from federation.process import Ignored, Incoming, handles
from node.errors import Conflict, DomainError
from node.models import Event, Organisation, Participation, Person
from node.services import events, organisations, remote
from node.services.common import participation_of


def _person(incoming: Incoming) -> Person:
    known = incoming.federation.actor(incoming.actor)
    actor = parse_actor(known.data)
    with incoming.runtime.transaction() as session:
        return remote.upsert_person(
            session,
            ap_id=actor.ap_id,
            username=actor.username,
            name=actor.name,
            bio=actor.summary,
            inbox=actor.inbox,
            shared_inbox=actor.shared_inbox,
        )


@handles("Join", "Event", "Group", None)
def join(incoming: Incoming) -> str | None:
    target = object_id(incoming.object)
    with incoming.runtime.transaction() as session:
        event = session.scalar(select(Event).where(col(Event.ap_id) == target))
        org = session.scalar(select(Organisation).where(col(Organisation.ap_id) == target))
    if event is not None and event.is_local and event.deleted_at is None:
        return join_event(incoming, event)
    if org is not None and org.is_local and org.deleted_at is None:
        return join_organisation(incoming, org)
    raise Ignored(f"{target} is no event or organisation of this node")


def join_organisation(incoming: Incoming, org: Organisation) -> str:
    """A membership as the organisation takes members: ``Accept`` at once (open, or the
    person was invited), or pending until an admin decides (``Accept`` or ``Reject``
    then)."""
    person = _person(incoming)
    runtime = incoming.runtime
    with runtime.transaction() as session:
        membership = organisations.request_membership(
            session,
            person,
            session.get_one(Organisation, org.id),
            join_id=str(incoming.activity.get("id")),
            node=runtime.context,
        )
    return f"membership {membership.id}: {membership.state}"


def join_event(incoming: Incoming, event: Event) -> str:
    """Register the person; answer ``Accept`` (going), nothing yet (pending, the
    organisers decide), or ``Reject`` (full, over, cancelled, external)."""
    person = _person(incoming)
    join_id = str(incoming.activity.get("id"))
    runtime = incoming.runtime
    with runtime.transaction() as session:
        try:
            participation: Participation = events.join_event(session, person, event.id)
        except (Conflict, DomainError) as refusal:
            organiser = session.get(Organisation, event.organisation_id)
            send(
                session,
                incoming.federation,
                verb="Reject",
                actor=organiser.ap_id if organiser else runtime.urls.node_actor,
                obj={"id": join_id, "type": "Join", "actor": person.ap_id, "object": event.ap_id},
                to=person.ap_id,
                inbox=person.inbox or person.shared_inbox or "",
                object_type="participation",
                object_url=join_id,
            )
            return f"rejected: {refusal}"
        participation.activity_id = join_id
        if participation.state == "going":
            events.answer_join(session, runtime.context, event, participation)
        return f"registration {participation.id}: {participation.state}"


@handles("Leave", "Event", "Group", None)
def leave(incoming: Incoming) -> str | None:
    target = object_id(incoming.object)
    with incoming.runtime.transaction() as session:
        person = session.scalar(select(Person).where(col(Person.ap_id) == incoming.actor))
        org = session.scalar(select(Organisation).where(col(Organisation.ap_id) == target))
        if person is not None and org is not None and org.is_local:
            try:
                organisations.remove_membership(session, person, org, person.id)
            except DomainError as error:  # not a member, or the last admin
                raise Ignored(str(error)) from error
            return f"{incoming.actor} left {target}"
        event = session.scalar(select(Event).where(col(Event.ap_id) == target))
        if person is None or event is None or not event.is_local:
            raise Ignored("no such registration")
        participation = participation_of(session, event.id, person.id)
        if participation is None:
            raise Ignored("no such registration")
        session.delete(participation)
    return f"{incoming.actor} left {target}"
