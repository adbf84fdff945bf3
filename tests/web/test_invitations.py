"""Inviting a member from the members page; the invited person accepts or declines."""

from __future__ import annotations

import re

from sqlmodel import col, select

from node.models import Membership, Person
from node.runtime import Runtime
from tests.web.conftest import HTML, Browser, text_of
from tests.web.test_forms import publish_org


def username_of(runtime: Runtime, email: str) -> str:
    with runtime.transaction() as session:
        person = session.scalars(select(Person).where(col(Person.email) == email)).one()
        return person.username


def states(runtime: Runtime, org_id: str) -> dict[str, tuple[str, str]]:
    with runtime.transaction() as session:
        rows = session.execute(
            select(Person.email, Membership.role, Membership.state)
            .join(Membership, col(Membership.person_id) == col(Person.id))
            .where(col(Membership.organisation_id) == org_id)
        ).all()
        return {str(email): (role, state) for email, role, state in rows}


def test_an_admin_invites_and_the_person_accepts(
    browser: Browser, make_browser: object, runtime: Runtime
) -> None:
    browser.signup()
    org_id = publish_org(browser)
    members = f"/organisations/{org_id}/members"
    guest: Browser = make_browser()  # type: ignore[operator]
    guest.signup("Sam", "sam@lille.example")
    mine = guest.get("/invitations").text
    username = username_of(runtime, "sam@lille.example")
    assert f"@{username}" in mine  # where a person learns the name to give
    assert "Aucune invitation n’attend votre réponse." in text_of(mine)

    invited = browser.post(
        f"/organisations/{org_id}/invitations",
        {"username": f"@{username}", "role": "admin"},
        page=members,
    )
    assert invited.status_code == 303
    page = browser.get(members).text
    assert "Sam est invité·e." in text_of(page)
    assert "Invitations en attente de réponse" in page and f"(@{username})" in page
    assert states(runtime, org_id)["sam@lille.example"] == ("admin", "invited")
    again = browser.post(
        f"/organisations/{org_id}/invitations", {"username": username, "role": "admin"}
    )
    assert again.status_code == 303
    assert "Sam est déjà invité·e." in text_of(browser.get(members).text)

    waiting = guest.get("/invitations").text
    assert "vous invite à la rejoindre comme administrateur·rice." in text_of(waiting)
    accepted = guest.post(f"/organisations/{org_id}/invitation", {"action": "accept"})
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/organisations/{org_id}"
    assert states(runtime, org_id)["sam@lille.example"] == ("admin", "accepted")
    assert guest.get(f"/organisations/{org_id}/edit").status_code == 200  # an admin now
    assert "Aucune invitation" in text_of(guest.get("/invitations").text)
    assert 'href="/invitations"' in guest.get("/").text  # the header links it


def test_the_person_declines_and_the_admin_cancels(
    browser: Browser, make_browser: object, runtime: Runtime
) -> None:
    browser.signup()
    org_id = publish_org(browser)
    members = f"/organisations/{org_id}/members"
    guest: Browser = make_browser()  # type: ignore[operator]
    guest.signup("Sam", "sam@lille.example")
    username = username_of(runtime, "sam@lille.example")
    browser.post(f"/organisations/{org_id}/invitations", {"username": username}, page=members)
    declined = guest.post(f"/organisations/{org_id}/invitation", {"action": "decline"})
    assert declined.status_code == 303
    assert "Vous avez décliné l’invitation de Vélo Cité." in text_of(guest.get("/invitations").text)
    assert "sam@lille.example" not in states(runtime, org_id)
    nothing = guest.post(f"/organisations/{org_id}/invitation", {"action": "accept"})
    assert nothing.status_code == 404

    browser.post(f"/organisations/{org_id}/invitations", {"username": username}, page=members)
    page = browser.get(members).text
    assert "Annuler l’invitation" in page
    with runtime.transaction() as session:
        person_id = session.scalars(
            select(col(Person.id)).where(col(Person.email) == "sam@lille.example")
        ).one()
    assert f'action="/organisations/{org_id}/members/{person_id}"' in page
    cancelled = browser.post(f"{members}/{person_id}", {"action": "remove"})
    assert cancelled.status_code == 303
    assert "sam@lille.example" not in states(runtime, org_id)


def test_a_wrong_username_is_shown_next_to_the_field(
    browser: Browser, make_browser: object, runtime: Runtime
) -> None:
    browser.signup()
    org_id = publish_org(browser)
    members = f"/organisations/{org_id}/members"
    before = states(runtime, org_id)
    answer = browser.post(
        f"/organisations/{org_id}/invitations",
        {"username": "@personne-inconnue", "role": "admin"},
        page=members,
    )
    assert answer.status_code == 422
    assert 'id="f-username-error"' in answer.text
    assert "aucun compte de ce nœud n’a ce nom d’utilisateur" in text_of(answer.text)
    assert 'value="@personne-inconnue"' in answer.text  # kept
    assert '<option value="admin" selected>' in answer.text
    assert states(runtime, org_id) == before

    stranger: Browser = make_browser()  # type: ignore[operator]
    stranger.signup("Eve", "eve@lille.example")
    refused = stranger.post(
        f"/organisations/{org_id}/invitations", {"username": "eve", "role": "admin"}
    )
    assert refused.status_code == 403
    assert stranger.get(members).status_code == 403
    assert states(runtime, org_id) == before


def test_the_invited_person_answers_on_the_organisation_page(
    browser: Browser, make_browser: object, runtime: Runtime
) -> None:
    browser.signup()
    org_id = publish_org(browser)
    members, org_page = f"/organisations/{org_id}/members", f"/organisations/{org_id}"
    guest: Browser = make_browser()  # type: ignore[operator]
    guest.signup("Sam", "sam@lille.example")
    username = username_of(runtime, "sam@lille.example")
    invite = f"/organisations/{org_id}/invitations"
    browser.post(invite, {"username": username, "role": "admin"}, page=members)

    page = guest.get(org_page).text
    shown = text_of(page)
    assert "Vous êtes invité·e à rejoindre l’organisation" in shown
    assert "Vélo Cité vous invite à la rejoindre comme administrateur·rice." in shown
    assert "Retirer ma demande" not in shown  # it used to decline the invitation unsaid
    answers = re.findall(
        rf'<form method="post" action="/organisations/{org_id}/invitation".*?</form>', page, re.S
    )
    assert len(answers) == 2 and all('name="csrf"' in form for form in answers)
    assert 'value="accept"' in answers[0] and ">Accepter<" in answers[0]
    assert 'value="decline"' in answers[1] and ">Refuser<" in answers[1]
    guest.post("/language", {"language": "en"})
    english = text_of(guest.get(org_page).text)
    guest.post("/language", {"language": "fr"})
    assert "You are invited to join" in english
    assert "Vélo Cité invites you to join as an admin." in english
    assert "Accept" in english and "Decline" in english

    # without the form's token nothing changes
    forged = guest.client.post(
        f"/organisations/{org_id}/invitation", data={"action": "accept"}, headers=HTML
    )
    assert forged.status_code == 403
    assert states(runtime, org_id)["sam@lille.example"] == ("admin", "invited")

    declined = guest.post(
        f"/organisations/{org_id}/invitation", {"action": "decline"}, page=org_page
    )
    assert declined.status_code == 303
    assert "sam@lille.example" not in states(runtime, org_id)
    page = text_of(guest.get(org_page).text)
    assert "invité·e" not in page and "Demander à devenir membre" in page

    browser.post(invite, {"username": username, "role": "member"}, page=members)
    assert "Vélo Cité vous invite à la rejoindre comme membre." in text_of(guest.get(org_page).text)
    accepted = guest.post(
        f"/organisations/{org_id}/invitation", {"action": "accept"}, page=org_page
    )
    assert accepted.status_code == 303 and accepted.headers["location"] == org_page
    assert states(runtime, org_id)["sam@lille.example"] == ("member", "accepted")
    page = text_of(guest.get(org_page).text)
    assert "Vous êtes membre de Vélo Cité." in page
    assert "Vous êtes invité·e" not in page and "Quitter cette organisation" in page


def test_my_agenda_lists_the_invitations_to_answer(
    browser: Browser, make_browser: object, runtime: Runtime
) -> None:
    browser.signup()
    org_id = publish_org(browser)
    guest: Browser = make_browser()  # type: ignore[operator]
    guest.signup("Sam", "sam@lille.example")
    assert "vous invite" not in text_of(guest.get("/agenda").text)
    username = username_of(runtime, "sam@lille.example")
    browser.post(
        f"/organisations/{org_id}/invitations",
        {"username": username, "role": "member"},
        page=f"/organisations/{org_id}/members",
    )
    agenda = guest.get("/agenda").text
    assert "vous invite à la rejoindre comme membre." in text_of(agenda)
    assert f'action="/organisations/{org_id}/invitation"' in agenda
    answered = guest.post(
        f"/organisations/{org_id}/invitation", {"action": "accept"}, page="/agenda"
    )
    assert answered.status_code == 303
    assert states(runtime, org_id)["sam@lille.example"] == ("member", "accepted")
    assert "vous invite" not in text_of(guest.get("/agenda").text)
