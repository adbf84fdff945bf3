"""Stage 3: publishing forms — invalid input shown next to its field and kept; management."""

from __future__ import annotations

import re

from tests.web.conftest import Browser, Content, text_of

ORG = {"name": "Vélo Cité", "kind": "association", "place.street": "10 rue de Paris",
       "place.postal_code": "59000", "place.city": "Lille", "themes": ["mobility"]}  # fmt: skip
EVENT = {"name": "Atelier réparation", "starts_on": "2030-06-01", "starts_time": "10:00",
         "ends_time": "12:00", "place.city": "Lille", "place.postal_code": "59000"}  # fmt: skip


def created_id(answer: object, kind: str) -> str:
    location = answer.headers["location"]  # type: ignore[attr-defined]
    found = re.fullmatch(rf"/{kind}/([0-9a-f-]+)", location)
    assert found, location
    return found.group(1)


def publish_org(browser: Browser, **changes: object) -> str:
    answer = browser.post("/organisations/new", ORG | changes, page="/organisations/new")
    assert answer.status_code == 303, answer.text
    return created_id(answer, "organisations")


def test_forms_need_a_session(browser: Browser) -> None:
    for page in ("/organisations/new", "/events/new", "/projects/new"):
        assert browser.get(page).status_code == 401


def test_create_an_organisation(browser: Browser) -> None:
    browser.signup()
    org_id = publish_org(browser)
    page = browser.get(f"/organisations/{org_id}")
    assert "Vélo Cité" in page.text
    assert "La page de votre organisation est publiée." in text_of(page.text)
    assert f'href="/organisations/{org_id}/edit"' in page.text
    assert "Vélo Cité" in browser.get("/agenda").text


def test_an_invalid_organisation_is_shown_again_with_its_errors(browser: Browser) -> None:
    browser.signup()
    answer = browser.post(
        "/organisations/new",
        ORG | {"name": "", "siren": "123", "website": "not a url", "place.latitude": "91",
               "place.longitude": "3"},
        page="/organisations/new",
    )
    assert answer.status_code == 422
    html = answer.text
    for field in ("name", "siren", "website", "place-latitude"):
        assert f'id="f-{field}-error"' in html, field
    assert 'value="10 rue de Paris"' in html and 'value="not a url"' in html
    assert 'value="mobility" checked' in html
    assert "un SIREN a 9 chiffres" in text_of(html)


def test_edit_an_organisation(browser: Browser, make_browser: object) -> None:
    browser.signup()
    org_id = publish_org(browser)
    form = browser.get(f"/organisations/{org_id}/edit")
    assert form.status_code == 200 and 'value="Vélo Cité"' in form.text
    saved = browser.post(
        f"/organisations/{org_id}/edit",
        ORG | {"name": "Vélo Cité Lille", "description": "Ateliers\n\nBalades"},
        page=f"/organisations/{org_id}/edit",
    )
    assert saved.status_code == 303
    page = browser.get(f"/organisations/{org_id}").text
    assert "Vélo Cité Lille" in page and "<p>Ateliers</p><p>Balades</p>" in page
    stranger: Browser = make_browser()  # type: ignore[operator]
    stranger.signup("Eve", "eve@lille.example")
    assert stranger.get(f"/organisations/{org_id}/edit").status_code == 403
    refused = stranger.post(
        f"/organisations/{org_id}/edit", ORG | {"name": "Hijacked"}, page="/"
    )
    assert refused.status_code == 403
    assert "Hijacked" not in browser.get(f"/organisations/{org_id}").text


def test_an_organisation_chooses_who_becomes_a_member(browser: Browser) -> None:
    browser.signup()
    form = browser.get("/organisations/new").text
    assert '<option value="restricted" selected>Les admins acceptent chaque demande' in form
    assert "Toute personne qui le demande devient membre" in form
    org_id = publish_org(browser, join_mode="open")
    api = f"/api/v1/organisations/{org_id}"
    assert browser.client.get(api).json()["join_mode"] == "open"
    edit = f"/organisations/{org_id}/edit"
    assert '<option value="open" selected>' in browser.get(edit).text
    saved = browser.post(edit, ORG | {"join_mode": "invite"}, page=edit)
    assert saved.status_code == 303, saved.text
    assert browser.client.get(api).json()["join_mode"] == "invite"

    refused = browser.post(edit, ORG | {"join_mode": "everyone"}, page=edit)
    assert refused.status_code == 422
    assert 'id="f-join_mode-error"' in refused.text
    assert browser.client.get(api).json()["join_mode"] == "invite"


def test_publish_an_event_that_then_appears_in_search(
    browser: Browser, content: Content
) -> None:
    browser.signup()
    org_id = publish_org(browser)
    form = browser.get("/events/new")
    assert 'value="Europe/Paris"' in form.text  # the territory's zone by default
    answer = browser.post("/events/new", EVENT | {"organisation_id": org_id}, page="/events/new")
    assert answer.status_code == 303, answer.text
    event_id = created_id(answer, "events")
    page = browser.get(f"/events/{event_id}")
    assert "samedi 1 juin 2030, 10:00 – 12:00" in text_of(page.text)
    content.index()
    found = browser.get("/search?q=réparation")
    assert f'data-id="{event_id}"' in found.text


def test_an_invalid_event_keeps_what_was_typed(browser: Browser) -> None:
    browser.signup()
    org_id = publish_org(browser)
    answer = browser.post(
        "/events/new",
        {"organisation_id": org_id, "name": "", "starts_on": "2030-06-01",
         "starts_time": "14:00", "ends_time": "12:00", "capacity": "lots",
         "description": "Bring tools"},
        page="/events/new",
    )
    assert answer.status_code == 422
    html = answer.text
    for field in ("name", "capacity", "place"):
        assert f'id="f-{field}-error"' in html or 'id="f-place-error"' in html, field
    assert 'value="lots"' in html and "Bring tools" in html and 'value="14:00"' in html
    ends = browser.post(
        "/events/new",
        EVENT | {"organisation_id": org_id, "starts_time": "14:00", "ends_time": "12:00"},
        page="/events/new",
    )
    assert ends.status_code == 422
    assert 'id="f-ends_time-error"' in ends.text
    assert "doit être après le début" in text_of(ends.text)


def test_edit_cancel_and_delete_an_event(browser: Browser) -> None:
    browser.signup()
    org_id = publish_org(browser)
    answer = browser.post("/events/new", EVENT | {"organisation_id": org_id}, page="/events/new")
    event_id = created_id(answer, "events")
    form = browser.get(f"/events/{event_id}/edit")
    assert 'value="2030-06-01"' in form.text and 'value="10:00"' in form.text
    saved = browser.post(
        f"/events/{event_id}/edit",
        EVENT | {"organisation_id": org_id, "status": "cancelled", "name": "Atelier annulé"},
        page=f"/events/{event_id}/edit",
    )
    assert saved.status_code == 303
    page = text_of(browser.get(f"/events/{event_id}").text)
    assert "Atelier annulé" in page and "Annulé" in page
    kept = browser.post(f"/events/{event_id}/delete", {}, page=f"/events/{event_id}/edit")
    assert kept.status_code == 303 and browser.get(f"/events/{event_id}").status_code == 200
    gone = browser.post(
        f"/events/{event_id}/delete", {"confirm": "yes"}, page=f"/events/{event_id}/edit"
    )
    assert gone.status_code == 303
    assert browser.get(f"/events/{event_id}").status_code == 410


def test_manage_participants(browser: Browser, make_browser: object) -> None:
    browser.signup()
    org_id = publish_org(browser)
    answer = browser.post(
        "/events/new",
        EVENT | {"organisation_id": org_id, "join_mode": "restricted"},
        page="/events/new",
    )
    event_id = created_id(answer, "events")
    guest: Browser = make_browser()  # type: ignore[operator]
    guest.signup("Sam", "sam@lille.example")
    page = f"/events/{event_id}"
    guest.post(f"{page}/participation", {"action": "join"}, page=page)
    assert "Votre inscription attend les organisateurs." in text_of(guest.get(page).text)
    assert guest.get(f"{page}/participants").status_code == 403
    listed = browser.get(f"{page}/participants")
    assert "Sam" in listed.text and "en attente de votre réponse" in text_of(listed.text)
    person = re.search(rf'action="/events/{event_id}/participants/([0-9a-f-]+)"', listed.text)
    assert person
    accepted = browser.post(
        f"{page}/participants/{person.group(1)}", {"state": "going"}, page=f"{page}/participants"
    )
    assert accepted.status_code == 303
    assert "Vous êtes inscrit·e." in text_of(guest.get(page).text)


def test_manage_members(browser: Browser, make_browser: object) -> None:
    browser.signup()
    org_id = publish_org(browser)
    page = f"/organisations/{org_id}"
    joiner: Browser = make_browser()  # type: ignore[operator]
    joiner.signup("Sam", "sam@lille.example")
    joiner.post(f"{page}/membership", {"action": "join"}, page=page)
    listed = browser.get(f"{page}/members")
    assert "demande à rejoindre" in text_of(listed.text)
    person = re.search(rf'action="/organisations/{org_id}/members/([0-9a-f-]+)"[^>]*>\s*'
                       r'<input type="hidden" name="csrf" value="[^"]+"><input type="hidden" '
                       r'name="action" value="accept">', listed.text)
    assert person
    sam = person.group(1)
    browser.post(f"{page}/members/{sam}", {"action": "accept"}, page=f"{page}/members")
    browser.post(f"{page}/members/{sam}", {"action": "admin"}, page=f"{page}/members")
    assert joiner.get(f"{page}/edit").status_code == 200  # now an admin
    browser.post(f"{page}/members/{sam}", {"action": "remove"}, page=f"{page}/members")
    assert joiner.get(f"{page}/edit").status_code == 403


def test_create_and_edit_a_project(browser: Browser) -> None:
    browser.signup()
    org_id = publish_org(browser)
    invalid = browser.post(
        "/projects/new", {"organisation_id": org_id, "name": "", "stage": "idea"},
        page="/projects/new",
    )
    assert invalid.status_code == 422 and 'id="f-name-error"' in invalid.text
    answer = browser.post(
        "/projects/new",
        {"organisation_id": org_id, "name": "Vélo-école", "stage": "idea", "themes": "mobility"},
        page="/projects/new",
    )
    assert answer.status_code == 303, answer.text
    project_id = created_id(answer, "projects")
    saved = browser.post(
        f"/projects/{project_id}/edit",
        {"organisation_id": org_id, "name": "Vélo-école", "stage": "launched"},
        page=f"/projects/{project_id}/edit",
    )
    assert saved.status_code == 303
    assert "Lancé" in text_of(browser.get(f"/projects/{project_id}").text)
