"""Invitations by username, a person's invitations, and their answer."""

from __future__ import annotations

import pytest
from sqlmodel import select

from node.errors import Forbidden, Invalid, NotFound
from node.models import Membership, MembershipState, Organisation, Person, Role
from node.runtime import Runtime
from node.schemas import AccountIn, OrganisationIn
from node.services import invitations
from node.services.accounts import register
from node.services.organisations import create_organisation, membership_of

HOST = "lille.test"


def people(runtime: Runtime) -> tuple[Person, Person, Organisation]:
    """An admin (Alice) of an organisation, and Bruno, a person of the node."""
    with runtime.transaction() as session:
        alice, bruno = (
            register(
                session,
                runtime.context,
                AccountIn(email=f"{name.lower()}@lille.example", password="x" * 12, name=name),
            )
            for name in ("Alice", "Bruno")
        )
        org = create_organisation(
            session,
            runtime.context,
            alice,
            OrganisationIn(name="SuperQuinquin", kind="cooperative"),  # type: ignore[arg-type]
        )
    return alice, bruno, org


def memberships(runtime: Runtime) -> list[tuple[str, str, str, str]]:
    with runtime.transaction() as session:
        rows = session.scalars(select(Membership)).all()
        return sorted((m.organisation_id, m.person_id, m.role, m.state) for m in rows)


def test_invite_by_username_then_accept(runtime: Runtime) -> None:
    alice, bruno, org = people(runtime)
    for written in (bruno.username, f"@{bruno.username.upper()}", f"{bruno.username}@{HOST}"):
        with runtime.transaction() as session:
            found = invitations.local_person(session, written, HOST)
            assert found.id == bruno.id, written
    with runtime.transaction() as session:
        membership, before = invitations.invite_by_username(
            session, alice, org, f"@{bruno.username}", Role.admin, HOST
        )
        assert before is None
        assert (membership.role, membership.state) == (Role.admin, MembershipState.invited)
    with runtime.transaction() as session:
        waiting = invitations.invitations_of(session, bruno)
        assert [(m.role, o.id) for m, o in waiting] == [(Role.admin, org.id)]
        assert invitations.invitations_of(session, alice) == []
        accepted = invitations.answer_invitation(session, bruno, org, accept=True)
        assert accepted is not None and accepted.state == MembershipState.accepted
    with runtime.transaction() as session:
        assert invitations.invitations_of(session, bruno) == []
        membership = membership_of(session, org.id, bruno.id)
        assert membership is not None and membership.role == Role.admin
        with pytest.raises(NotFound):  # nothing left to answer
            invitations.answer_invitation(session, bruno, org, accept=False)


def test_decline_forgets_the_invitation(runtime: Runtime) -> None:
    alice, bruno, org = people(runtime)
    with runtime.transaction() as session:
        invitations.invite_by_username(session, alice, org, bruno.username, Role.member, HOST)
    with runtime.transaction() as session:
        assert invitations.answer_invitation(session, bruno, org, accept=False) is None
    with runtime.transaction() as session:
        assert membership_of(session, org.id, bruno.id) is None


def test_a_request_to_join_is_accepted_by_an_invitation(runtime: Runtime) -> None:
    alice, bruno, org = people(runtime)
    with runtime.transaction() as session:
        session.add(Membership(organisation_id=org.id, person_id=bruno.id, state="pending"))
    with runtime.transaction() as session:
        membership, before = invitations.invite_by_username(
            session, alice, org, bruno.username, Role.member, HOST
        )
        assert (before, membership.state) == (MembershipState.pending, MembershipState.accepted)


def test_what_is_refused(runtime: Runtime) -> None:
    alice, bruno, org = people(runtime)
    before = memberships(runtime)
    with runtime.transaction() as session:
        with pytest.raises(Forbidden):  # only the organisation's admins invite
            invitations.invite_by_username(session, bruno, org, alice.username, Role.admin, HOST)
        for unknown in ("nobody", "", "@", f"{bruno.username}@elsewhere.example"):
            with pytest.raises(Invalid) as refused:
                invitations.invite_by_username(session, alice, org, unknown, Role.member, HOST)
            assert refused.value.fields == {"username": invitations.NO_SUCH_USERNAME}
        with pytest.raises(NotFound):  # no invitation to answer
            invitations.answer_invitation(session, bruno, org, accept=True)
    with runtime.transaction() as session:
        remote = Person(ap_id="https://mastodon.example/users/zoe", origin="mastodon.example",
                        username="zoe@mastodon.example", name="Zoé")  # fmt: skip
        session.add(remote)
    with runtime.transaction() as session, pytest.raises(Invalid):
        invitations.invite_by_username(
            session, alice, org, "zoe@mastodon.example", Role.member, HOST
        )
    assert memberships(runtime) == before
