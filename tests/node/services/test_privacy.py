"""The privacy service: export and account deletion, called directly."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.errors import Forbidden, Gone, Invalid
from node.models import (
    Activity,
    Contribution,
    Follow,
    Job,
    Membership,
    MembershipState,
    Organisation,
    Participation,
    Person,
    Role,
    Token,
)
from node.runtime import Runtime
from node.schemas import AccountIn, EventIn, OrganisationIn
from node.services import accounts, events, organisations, privacy

PASSWORD = "correct horse"


def _person(session: Session, runtime: Runtime, name: str, *, admin: bool = False) -> Person:
    email = f"{uuid.uuid4().hex[:8]}@lille.example"
    person = accounts.register(
        session, runtime.context, AccountIn(email=email, password=PASSWORD, name=name)
    )
    person.is_admin = admin
    return person


def _organisation(session: Session, runtime: Runtime, admin: Person) -> Organisation:
    return organisations.create_organisation(
        session, runtime.context, admin, OrganisationIn(name="Les Amis du Vélo", kind="association")
    )


def _membership(
    session: Session, org: Organisation, person: Person, role: Role, state: MembershipState
) -> None:
    session.add(Membership(organisation_id=org.id, person_id=person.id, role=role, state=state))
    session.flush()


def _roles(session: Session, org_id: str) -> dict[str, tuple[str, str]]:
    return {
        m.person_id: (m.role, m.state)
        for m in session.scalars(
            select(Membership).where(col(Membership.organisation_id) == org_id)
        )
    }


def test_check_password(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        person = _person(session, runtime, "Camille")
        privacy.check_password(person, PASSWORD)
        with pytest.raises(Invalid) as refused:
            privacy.check_password(person, "nope")
        assert refused.value.fields == {"password": "wrong password"}
        person.password_hash = None
        with pytest.raises(Invalid):
            privacy.check_password(person, PASSWORD)


def test_export_lists_deleted_objects_and_every_token(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        camille = _person(session, runtime, "Camille")
        org = _organisation(session, runtime, camille)
        event = events.create_event(
            session,
            runtime.context,
            camille,
            EventIn(
                name="Atelier vélo",
                organisation_id=org.id,
                starts_at=datetime(2030, 6, 1, 10, tzinfo=UTC),
                ends_at=datetime(2030, 6, 1, 12, tzinfo=UTC),
                online_url="https://visio.example/atelier",
            ),
        )
        events.join_event(session, camille, event.id)
        accounts.issue_token(session, camille)
        accounts.issue_token(session, camille)
        accounts.revoke_all_tokens(session, camille)
        organisations.tombstone_organisation(session, runtime.context, org)

        export = privacy.export_personal_data(session, runtime.context, camille)
    assert export.node == "http://lille.test"
    assert len(export.tokens) == 2
    assert all(t.revoked_at is not None for t in export.tokens)
    [membership] = export.memberships
    assert membership.organisation.deleted_at is not None
    [participation] = export.participations
    assert participation.event.id == event.id
    assert participation.event.deleted_at is not None
    assert participation.event.starts_at == datetime(2030, 6, 1, 10, tzinfo=UTC)
    assert [o.id for o in export.administered.organisations] == [org.id]
    dumped = export.model_dump_json()
    assert "hash" not in dumped
    assert "$argon2" not in dumped


def test_delete_erases_and_tombstones(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        camille = _person(session, runtime, "Camille")
        karim = _person(session, runtime, "Karim")
        org = _organisation(session, runtime, camille)
        event = events.create_event(
            session,
            runtime.context,
            camille,
            EventIn(
                name="Atelier vélo",
                organisation_id=org.id,
                starts_at=datetime.now(UTC) + timedelta(days=3),
                ends_at=datetime.now(UTC) + timedelta(days=3, hours=2),
                online_url="https://visio.example/atelier",
            ),
        )
        events.join_event(session, karim, event.id)
        organisations.follow(session, karim, org)
        accounts.issue_token(session, karim)
        karim_id = karim.id
        session.execute(Job.__table__.delete())  # type: ignore[attr-defined]

    with runtime.transaction() as session:
        karim = session.get_one(Person, karim_id)
        privacy.delete_account(session, runtime.context, karim)

    with runtime.transaction() as session:
        row = session.get_one(Person, karim_id)
        assert row.deleted_at is not None
        assert (row.email, row.password_hash, row.inbox, row.shared_inbox) == (
            None,
            None,
            None,
            None,
        )
        assert (row.name, row.bio, row.public_profile, row.is_admin) == (
            "Compte supprimé",
            "",
            False,
            False,
        )
        assert row.username == f"deleted-{karim_id.replace('-', '')[-12:]}"
        assert (
            session.scalar(
                select(func.count())
                .select_from(Token)
                .where(
                    col(Token.person_id) == karim_id,
                    col(Token.revoked_at).is_(None),
                )
            )
            == 0
        )
        for column in (
            Participation.person_id,
            Follow.person_id,
            Membership.person_id,
            Contribution.person_id,
        ):
            count = session.scalar(select(func.count()).where(col(column) == karim_id))
            assert count == 0, column
        [delete] = session.scalars(select(Activity).where(col(Activity.actor) == row.ap_id))
        assert (delete.type, delete.object_type, delete.object_id, delete.object_url) == (
            "Delete",
            "person",
            karim_id,
            row.ap_id,
        )
        jobs = {(j.kind, j.key) for j in session.scalars(select(Job))}
        assert ("index", f"event:{event.id}") in jobs
        assert ("index", f"organisation:{org.id}") in jobs
        assert not any(kind == "deliver" for kind, _ in jobs)

    with runtime.transaction() as session:
        karim = session.get_one(Person, karim_id)
        with pytest.raises(Gone):
            privacy.delete_account(session, runtime.context, karim)


def test_usernames_of_deleted_accounts_do_not_collide(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        first = _person(session, runtime, "Camille")
        squatter = _person(session, runtime, "Camille")
        squatter.username = f"deleted-{first.id.replace('-', '')[-12:]}"
        session.flush()
        privacy.delete_account(session, runtime.context, first)
        assert first.username == f"{squatter.username}-2"


def test_remote_accounts_are_not_deleted_here(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        remote = Person(
            ap_id="https://ailleurs.example/users/zoe",
            origin="ailleurs.example",
            username="zoe@ailleurs.example",
            name="Zoé",
        )
        session.add(remote)
        session.flush()
        with pytest.raises(Forbidden):
            privacy.delete_account(session, runtime.context, remote)


def test_node_admins_are_promoted_over_their_existing_membership(runtime: Runtime) -> None:
    """A node admin's pending request becomes an admin membership (no duplicate row);
    a remote member is not made admin of a local organisation."""
    with runtime.transaction() as session:
        camille = _person(session, runtime, "Camille")
        operator = _person(session, runtime, "Opérateur", admin=True)
        other_operator = _person(session, runtime, "Opératrice", admin=True)
        retired = _person(session, runtime, "Ancien", admin=True)
        retired.deleted_at = datetime.now(UTC)
        remote = Person(
            ap_id="https://ailleurs.example/users/zoe",
            origin="ailleurs.example",
            username="zoe@ailleurs.example",
            name="Zoé",
        )
        session.add(remote)
        org = _organisation(session, runtime, camille)
        _membership(session, org, remote, Role.member, MembershipState.accepted)
        _membership(session, org, operator, Role.member, MembershipState.pending)

        privacy.delete_account(session, runtime.context, camille)

        assert _roles(session, org.id) == {
            remote.id: ("member", "accepted"),
            operator.id: ("admin", "accepted"),
            other_operator.id: ("admin", "accepted"),
        }


def test_a_deleting_node_admin_does_not_take_over_their_own_organisation(
    runtime: Runtime,
) -> None:
    with runtime.transaction() as session:
        operator = _person(session, runtime, "Opératrice", admin=True)
        org = _organisation(session, runtime, operator)
        privacy.delete_account(session, runtime.context, operator)
        assert _roles(session, org.id) == {}
        assert org.deleted_at is None


def test_two_admins_deleting_at_once_leave_an_admin(runtime: Runtime) -> None:
    """Each sees the other as 'another admin'; the organisation lock makes the second
    one notice the first has gone and promote the member."""
    with runtime.transaction() as session:
        first = _person(session, runtime, "Camille")
        second = _person(session, runtime, "Léa")
        member = _person(session, runtime, "Karim")
        org = _organisation(session, runtime, first)
        _membership(session, org, second, Role.admin, MembershipState.accepted)
        _membership(session, org, member, Role.member, MembershipState.accepted)
        ids = (first.id, second.id)
        org_id, member_id = org.id, member.id

    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def delete(person_id: str) -> None:
        try:
            with runtime.transaction() as session:
                person = session.get_one(Person, person_id)
                barrier.wait()
                privacy.delete_account(session, runtime.context, person)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=delete, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with runtime.transaction() as session:
        assert _roles(session, org_id) == {member_id: ("admin", "accepted")}
        assert session.get_one(Organisation, org_id).deleted_at is None


def test_concurrent_deletions_of_one_account_delete_it_once(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        person_id = _person(session, runtime, "Camille").id

    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def delete() -> None:
        try:
            with runtime.transaction() as session:
                person = session.get_one(Person, person_id)
                barrier.wait()
                privacy.delete_account(session, runtime.context, person)
            outcomes.append("deleted")
        except Gone:
            outcomes.append("gone")

    threads = [threading.Thread(target=delete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["deleted", "gone"]
    with runtime.transaction() as session:
        deletes = session.scalar(
            select(func.count())
            .select_from(Activity)
            .where(col(Activity.type) == "Delete", col(Activity.object_id) == person_id)
        )
        assert deletes == 1
