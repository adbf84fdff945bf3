"""One write path: rows, the outbox Activity and the jobs land together or not at all."""

from __future__ import annotations

import pytest
from sqlmodel import col, func, select

from node.errors import Forbidden
from node.models import Activity, Event, Follower, Job, Organisation, Person
from node.runtime import Runtime
from node.schemas import AccountIn, EventIn, OrganisationIn
from node.services.accounts import register
from node.services.events import create_event
from node.services.organisations import create_organisation


def _count(runtime: Runtime, model: type) -> int:
    with runtime.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _setup(runtime: Runtime) -> tuple[Person, Organisation]:
    with runtime.transaction() as session:
        person = register(
            session,
            runtime.context,
            AccountIn(email="camille@lille.example", password="correct horse", name="Camille"),
        )
        org = create_organisation(
            session,
            runtime.context,
            person,
            OrganisationIn(name="SuperQuinquin", kind="cooperative", themes=["food"]),  # type: ignore[arg-type]
        )
    return person, org


def _remote_follower(runtime: Runtime, org: Organisation, host: str, n: int) -> None:
    with runtime.transaction() as session:
        remote = Person(
            ap_id=f"https://{host}/users/u{n}",
            origin=host,
            username=f"u{n}@{host}",
            name=f"U{n}",
            inbox=f"https://{host}/users/u{n}/inbox",
            shared_inbox=f"https://{host}/inbox" if host != "solo.example" else None,
        )
        session.add(remote)
        session.flush()
        session.add(
            Follower(
                actor=org.ap_id,
                follower=remote.ap_id,
                inbox=remote.shared_inbox or remote.inbox or "",
            )
        )


EVENT = {
    "name": "Disco soupe",
    "starts_at": "2030-06-01T12:00:00",
    "ends_at": "2030-06-01T15:00:00",
    "place": {"city": "Lille", "postal_code": "59800"},
}


def test_a_publication_writes_the_activity_the_index_job_and_one_delivery_per_inbox(
    runtime: Runtime,
) -> None:
    person, org = _setup(runtime)
    for n in range(3):  # three followers on one Mastodon: one shared inbox
        _remote_follower(runtime, org, "mastodon.example", n)
    _remote_follower(runtime, org, "solo.example", 9)
    with runtime.transaction() as session:
        event = create_event(
            session, runtime.context, person, EventIn(organisation_id=org.id, **EVENT)
        )
    with runtime.transaction() as session:
        activity = session.scalars(select(Activity).where(Activity.object_id == event.id)).one()
        assert (activity.type, activity.actor) == ("Create", org.ap_id)
        jobs = list(session.scalars(select(Job).order_by(col(Job.id))))
    deliveries = sorted(j.payload["inbox"] for j in jobs if j.kind == "deliver")
    assert deliveries == [
        "https://mastodon.example/inbox",
        "https://solo.example/users/u9/inbox",
    ]
    assert all(j.payload["activity_id"] == activity.id for j in jobs if j.kind == "deliver")
    assert {"type": "event", "id": event.id} in [j.payload for j in jobs if j.kind == "index"]


def test_a_refused_change_leaves_nothing_behind(runtime: Runtime) -> None:
    _, org = _setup(runtime)
    before = [_count(runtime, m) for m in (Event, Activity, Job)]
    with pytest.raises(Forbidden), runtime.transaction() as session:
        stranger = register(
            session,
            runtime.context,
            AccountIn(email="karim@lille.example", password="correct horse", name="Karim"),
        )
        create_event(session, runtime.context, stranger, EventIn(organisation_id=org.id, **EVENT))
    assert [_count(runtime, m) for m in (Event, Activity, Job)] == before
    assert _count(runtime, Person) == 1  # the account made in the failed transaction is gone
