"""Events: publishing (with several organisers), editing, cancelling, deleting, participation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.dbtypes import utcnow
from node.errors import Conflict, Forbidden, Invalid, NotFound
from node.models import (
    Event,
    EventOrganiser,
    JoinMode,
    Organisation,
    Participation,
    ParticipationState,
    Person,
    Place,
)
from node.sanitize import sanitize_html
from node.schemas import EventIn
from node.services import remote
from node.services.common import get_live, make_place, participation_of, place_input, set_labels
from node.services.context import NodeContext
from node.services.outbox import publish
from node.services.permissions import (
    is_org_admin,
    require_event_editor,
    require_local,
    require_org_admin,
)
from node.urls import Urls

MAX_DURATION = timedelta(days=366)
CO_ORGANISER_ADD = "only an organisation's admins may make it a co-organiser"
CO_ORGANISER_DROP = "only an organisation's admins may withdraw it from an event"
CO_ORGANISER_UNKNOWN = "no organisation found: give its name, @username or the address of its page"
CO_ORGANISER_AMBIGUOUS = "several organisations have this name: give the address of its page"
_OBJECT_ID = re.compile(r"[0-9a-f-]{1,36}")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def create_event(session: Session, node: NodeContext, actor: Person, data: EventIn) -> Event:
    """Publish an event for an organisation the actor administers."""
    organisers = _organisers(session, actor, data)
    timezone = data.timezone or node.timezone
    event = Event(
        ap_id="",
        organisation_id=data.organisation_id,
        **_fields(data, timezone),
        place_id=make_place(session, node, data.place),
    )
    event.ap_id = node.urls.event(event.id)
    session.add(event)
    session.flush()
    _set_organisers(session, event.id, organisers)
    set_labels(session, "event", event.id, event.themes, event.tags)
    _publish(session, node, "Create", event, organisers)
    return event


def event_input(session: Session, event: Event) -> dict[str, Any]:
    """The event as the input that would recreate it (PATCH merges onto this)."""
    place = session.get(Place, event.place_id) if event.place_id else None
    zone = ZoneInfo(event.timezone)
    return {
        "name": event.name,
        "organisation_id": event.organisation_id,
        "co_organiser_ids": organiser_ids(session, event.id)[1:],
        "starts_at": event.starts_at.astimezone(zone),
        "ends_at": event.ends_at.astimezone(zone),
        "timezone": event.timezone,
        "description": event.description,
        "place": place_input(place),
        "online_url": event.online_url,
        "capacity": event.capacity,
        "join_mode": event.join_mode,
        "external_participation_url": event.external_participation_url,
        "status": event.status,
        "themes": event.themes,
        "tags": event.tags,
    }


def update_event(
    session: Session,
    node: NodeContext,
    actor: Person,
    event: Event,
    data: EventIn,
    place_changed: bool,
) -> Event:
    require_event_editor(session, actor, event)
    organisers = _organisers(session, actor, data, current=organiser_ids(session, event.id))
    for name, value in _fields(data, data.timezone or event.timezone).items():
        setattr(event, name, value)
    event.organisation_id = data.organisation_id
    if place_changed:
        event.place_id = make_place(session, node, data.place)
    event.updated = utcnow()
    _set_organisers(session, event.id, organisers)
    set_labels(session, "event", event.id, event.themes, event.tags)
    _publish(session, node, "Update", event, organisers)
    return event


def delete_event(session: Session, node: NodeContext, actor: Person, event: Event) -> None:
    require_event_editor(session, actor, event)
    _tombstone(session, node, event)


def tombstone_events_of(session: Session, node: NodeContext, organisation_id: str) -> None:
    """Delete the events an organisation organises alone (it is being deleted)."""
    for event in session.scalars(
        select(Event).where(
            col(Event.organisation_id) == organisation_id,
            col(Event.deleted_at).is_(None),
            col(Event.origin).is_(None),
        )
    ):
        others = [o for o in organiser_ids(session, event.id) if o != organisation_id]
        if others:  # a co-organiser carries on with it
            event.organisation_id = others[0]
            _set_organisers(session, event.id, others)
            event.updated = utcnow()
            _publish(session, node, "Update", event, others)
        else:
            _tombstone(session, node, event)
    session.execute(
        delete(EventOrganiser).where(col(EventOrganiser.organisation_id) == organisation_id)
    )


def _tombstone(session: Session, node: NodeContext, event: Event) -> None:
    audience = organiser_ids(session, event.id)
    event.deleted_at = utcnow()
    event.updated = event.deleted_at
    set_labels(session, "event", event.id, [], [])
    _publish(session, node, "Delete", event, audience)


def organiser_ids(session: Session, event_id: str) -> list[str]:
    """The main organiser first, then the co-organisers in their order."""
    return list(
        session.scalars(
            select(col(EventOrganiser.organisation_id))
            .where(col(EventOrganiser.event_id) == event_id)
            .order_by(col(EventOrganiser.position))
        )
    )


def _organisers(
    session: Session, actor: Person, data: EventIn, current: list[str] | None = None
) -> list[str]:
    """Check the organisers: the actor administers each local one added or removed.

    Taking the main role from an organisation counts as removing it.
    """
    wanted = list(dict.fromkeys([data.organisation_id, *data.co_organiser_ids]))
    previous = current or []
    dropped = {o for o in previous if o not in wanted}
    if previous and previous[0] != wanted[0]:
        dropped.add(previous[0])
    for org_id in sorted(dropped):
        org = session.get(Organisation, org_id)
        if org is not None and org.is_local and org.deleted_at is None:
            if org_id == previous[0]:
                require_org_admin(session, actor, org_id)
            elif not is_org_admin(session, actor, org_id):
                raise Forbidden(CO_ORGANISER_DROP, {"co_organiser_ids": CO_ORGANISER_DROP})
    for index, org_id in enumerate(wanted):
        field = "organisation_id" if index == 0 else "co_organiser_ids"
        org = session.get(Organisation, org_id)
        if org is None or org.deleted_at is not None:
            raise Invalid(field, f"no organisation {org_id}")
        if index == 0:
            require_local(org)
        if org.is_local and org_id not in previous:
            if index == 0:
                require_org_admin(session, actor, org_id)
            elif not is_org_admin(session, actor, org_id):
                # a refusal a form shows next to the co-organisers (still a 403)
                raise Forbidden(CO_ORGANISER_ADD, {"co_organiser_ids": CO_ORGANISER_ADD})
    return wanted


def find_organisation(session: Session, reference: str, urls: Urls) -> Organisation:
    """The organisation a person means when they name a co-organiser: the address of
    its page (here or on its node, when this node knows it), its id, its username
    (``@velo-cite``, ``velo@gancio.example``) or its exact name when only one has it.
    422 (``co_organiser``) when none or several match."""
    text = reference.strip()
    live = select(Organisation).where(col(Organisation.deleted_at).is_(None))
    found: list[Organisation] = []
    if text.startswith(("http://", "https://", "/organisations/")):
        local = text.removeprefix(urls.base).rstrip("/")
        if local.startswith("/organisations/"):
            object_id = local.removeprefix("/organisations/")
            found = list(session.scalars(live.where(col(Organisation.id) == object_id)))
        if not found:
            found = list(session.scalars(live.where(col(Organisation.ap_id) == text)))
    elif _OBJECT_ID.fullmatch(text):
        found = list(session.scalars(live.where(col(Organisation.id) == text)))
    if not found and text:
        username = text.removeprefix("@").removesuffix(f"@{urls.host}").lower()
        found = list(session.scalars(live.where(func.lower(Organisation.username) == username)))
    if not found and text:
        found = list(
            session.scalars(live.where(func.lower(Organisation.name) == text.lower()).limit(2))
        )
    if len(found) > 1:
        raise Invalid("co_organiser", CO_ORGANISER_AMBIGUOUS)
    if not found:
        raise Invalid("co_organiser", CO_ORGANISER_UNKNOWN)
    return found[0]


def _set_organisers(session: Session, event_id: str, organisers: list[str]) -> None:
    session.execute(delete(EventOrganiser).where(col(EventOrganiser.event_id) == event_id))
    for position, org_id in enumerate(organisers):
        session.add(EventOrganiser(event_id=event_id, organisation_id=org_id, position=position))


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive time is read in the event's time zone; the result is UTC."""
    local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
    return local.astimezone(UTC)


def _fields(data: EventIn, timezone: str) -> dict[str, Any]:
    zone = ZoneInfo(timezone)
    starts_at = _aware(data.starts_at, zone)
    ends_at = _aware(data.ends_at, zone)
    if not EARLIEST <= starts_at < LATEST:
        raise Invalid("starts_at", "out of range (1970-2199)")
    if ends_at <= starts_at:
        raise Invalid("ends_at", "must be after starts_at")
    if ends_at - starts_at > MAX_DURATION:
        raise Invalid("ends_at", "an event lasts at most a year")
    return {
        "name": data.name,
        "description": sanitize_html(data.description),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": timezone,
        "online_url": data.online_url,
        "capacity": data.capacity,
        "join_mode": data.join_mode.value,
        "external_participation_url": data.external_participation_url,
        "status": data.status.value,
        "themes": data.themes,
        "tags": data.tags,
    }


def _publish(
    session: Session, node: NodeContext, verb: str, event: Event, audience: list[str]
) -> None:
    main = session.get(Organisation, event.organisation_id)
    publish(
        session,
        node,
        verb=verb,
        actor=main.ap_id if main else node.urls.node_actor,
        object_type="event",
        object_id=event.id,
        object_url=event.ap_id,
        audience=audience,
    )


# --- participation -------------------------------------------------------------------


def going_count(session: Session, event_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Participation)
            .where(
                col(Participation.event_id) == event_id,
                col(Participation.state) == ParticipationState.going,
            )
        )
        or 0
    )


def join_event(session: Session, actor: Person, event_id: str) -> Participation:
    """Register: going (free), pending (restricted); 409 when full, past or cancelled."""
    event = get_live(session, Event, event_id, lock=True)  # row lock: capacity is exact
    existing = participation_of(session, event.id, actor.id)
    if existing is not None and existing.state != ParticipationState.rejected:
        return existing
    if existing is not None:
        raise Conflict("the organisers declined this registration")
    _check_open(event)
    state = ParticipationState.going
    if event.join_mode == JoinMode.restricted:
        state = ParticipationState.pending
    elif event.capacity is not None and going_count(session, event.id) >= event.capacity:
        raise Conflict("this event is full", {"capacity": "full"})
    participation = Participation(event_id=event.id, person_id=actor.id, state=state)
    session.add(participation)
    session.flush()
    return participation


def register_for(
    session: Session, node: NodeContext, actor: Person, event_id: str
) -> Participation:
    """Register for an event of this node or of another one (federated ``Join``)."""
    event = get_live(session, Event, event_id)
    if event.is_local:
        return join_event(session, actor, event_id)
    _check_open(event)
    return remote.join_remote_event(session, node, actor, event)


def withdraw_from(session: Session, node: NodeContext, actor: Person, event_id: str) -> None:
    """Leave an event of this node or of another one (federated ``Leave``)."""
    event = get_live(session, Event, event_id)
    if event.is_local:
        leave_event(session, actor, event_id)
    else:
        remote.leave_remote_event(session, node, actor, event)


def _check_open(event: Event) -> None:
    if event.join_mode == JoinMode.external:
        raise Conflict(
            f"registration happens on {event.external_participation_url}",
            {"join_mode": "external"},
        )
    if event.status == "cancelled":
        raise Conflict("this event is cancelled")
    if event.ends_at <= utcnow():
        raise Conflict("this event is over")


def leave_event(session: Session, actor: Person, event_id: str) -> None:
    event = get_live(session, Event, event_id)
    existing = participation_of(session, event.id, actor.id)
    if existing is None:
        raise NotFound("not registered for this event")
    session.delete(existing)


def decide_participation(
    session: Session,
    actor: Person,
    event: Event,
    person_id: str,
    state: ParticipationState,
    node: NodeContext | None = None,
) -> Participation:
    """An organiser accepts (going) or declines (rejected) a registration; a person of
    another node learns the answer (``Accept``/``Reject`` of their ``Join``)."""
    require_event_editor(session, actor, event)
    if state == ParticipationState.pending:
        raise Invalid("state", "an organiser answers with 'going' or 'rejected'")
    session.execute(select(col(Event.id)).where(col(Event.id) == event.id).with_for_update())
    participation = participation_of(session, event.id, person_id)
    if participation is None:
        raise NotFound("no such registration")
    if (
        state == ParticipationState.going
        and participation.state != ParticipationState.going
        and event.capacity is not None
        and going_count(session, event.id) >= event.capacity
    ):
        raise Conflict("this event is full", {"capacity": "full"})
    changed = participation.state != state
    participation.state = state
    participation.updated = utcnow()
    if changed and node is not None and participation.activity_id:
        answer_join(session, node, event, participation)
    return participation


def answer_join(
    session: Session, node: NodeContext, event: Event, participation: Participation
) -> None:
    """Tell a remote person the state of their registration (their ``Join`` answered)."""
    person = session.get(Person, participation.person_id)
    if person is None or person.is_local or not (person.shared_inbox or person.inbox):
        return
    main = session.get(Organisation, event.organisation_id)
    publish(
        session,
        node,
        verb="Accept" if participation.state == ParticipationState.going else "Reject",
        actor=main.ap_id if main else node.urls.node_actor,
        object_type="participation",
        object_id=participation.id,
        object_url=participation.activity_id or "",
        inboxes=[person.inbox or person.shared_inbox or ""],
        public=False,
        payload={"join": participation.activity_id, "person": person.ap_id},
    )
