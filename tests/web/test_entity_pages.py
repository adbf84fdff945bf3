"""Stage 2: event, organisation, project, person pages; registration, follow, my agenda."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from node.models import Event, EventOrganiser, Organisation
from node.runtime import Runtime
from tests.web.conftest import Browser, Content, text_of

JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def test_event_page(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    event = content.event(admin, org["id"], description="<p>Bring <b>your</b> toaster</p>")
    page = browser.get(f"/events/{event['id']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Repair café" in text and "jeudi 16 mai 2030, 14:00 – 18:00" in text
    assert "Maison de l'ESS" in page.text or "Maison de l&#39;ESS" in page.text
    assert f'href="/organisations/{org["id"]}"' in page.text
    assert "<b>your</b>" in page.text  # sanitised HTML is kept
    assert "0 personne inscrite" in text
    assert 'href="/login?next=/events/' in page.text  # sign in to register
    data = json.loads(JSON_LD.search(page.text).group(1))  # type: ignore[union-attr]
    assert data["@type"] == "Event" and data["name"] == "Repair café"
    assert data["startDate"] == "2030-05-16T14:00:00+02:00"
    assert data["location"]["address"]["addressLocality"] == "Lille"
    assert data["organizer"][0]["name"] == "La CoFabrik"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"


def test_event_page_in_english_keeps_the_event_zone(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    event = content.event(admin, org["id"], timezone="America/Montreal")
    page = browser.get(f"/events/{event['id']}", headers={"Accept-Language": "en"})
    text = text_of(page.text)
    assert "Thursday, May 16, 2030, 2:00" in text  # 14:00 in Montréal, as typed
    assert "America/Montreal" in text


def test_the_ics_file(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    event = content.event(admin, org["id"])
    answer = browser.client.get(f"/events/{event['id']}.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    body = answer.text
    assert "BEGIN:VEVENT" in body and "SUMMARY:Repair café" in body
    assert "DTSTART;TZID=Europe/Paris:20300516T140000" in body
    assert browser.client.get("/events/00000000-0000-0000-0000-000000000000.ics").status_code == 404


def test_register_and_leave(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    event = content.event(admin, org["id"], capacity=1)
    browser.signup()
    page = f"/events/{event['id']}"
    joined = browser.post(f"{page}/participation", {"action": "join"}, page=page)
    assert joined.status_code == 303 and joined.headers["location"] == page
    text = text_of(browser.get(page).text)
    assert "Vous êtes inscrit·e." in text and "1 personne inscrite" in text
    assert "0 place restante" in text
    agenda = browser.get("/agenda")
    assert event["name"] in agenda.text and f'href="/events/{event["id"]}.ics"' in agenda.text
    left = browser.post(f"{page}/participation", {"action": "leave"}, page=page)
    assert left.status_code == 303
    assert "0 personne inscrite" in text_of(browser.get(page).text)


def test_a_full_event_says_so(browser: Browser, content: Content, make_browser: object) -> None:
    admin = content.account()
    org = content.organisation(admin)
    event = content.event(admin, org["id"], capacity=1)
    page = f"/events/{event['id']}"
    browser.signup()
    browser.post(f"{page}/participation", {"action": "join"}, page=page)
    other: Browser = make_browser()  # type: ignore[operator]
    other.signup("Sam", "sam@lille.example")
    refused = other.post(f"{page}/participation", {"action": "join"}, page=page)
    assert refused.status_code == 303
    assert "cet événement est complet" in text_of(other.get(page).text)


def test_registration_needs_a_session_and_a_token(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    event = content.event(admin, org["id"])
    page = f"/events/{event['id']}"
    assert browser.post(f"{page}/participation", {"action": "join"}, page=page).status_code == 401
    browser.signup()
    forged = browser.client.post(f"{page}/participation", data={"action": "join"})
    assert forged.status_code == 403
    assert "0 personne inscrite" in text_of(browser.get(page).text)


def test_a_deleted_event_is_gone_with_a_way_on(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    event = content.event(admin, org["id"])
    deleted = content.client.delete(
        f"/api/v1/events/{event['id']}", headers={"Authorization": admin["Authorization"]}
    )
    assert deleted.status_code == 204
    page = browser.get(f"/events/{event['id']}")
    assert page.status_code == 410
    assert f'href="/organisations/{org["id"]}"' in page.text
    assert browser.get("/events/not-an-id!").status_code == 404
    assert browser.get("/events/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_remote_event_shows_its_origin(browser: Browser, runtime: Runtime) -> None:
    with runtime.transaction() as session:
        org = Organisation(
            ap_id="https://gancio.example/u/atelier", origin="gancio.example",
            username="atelier@gancio.example", name="Atelier vélo", kind="association",
        )
        session.add(org)
        session.flush()
        start = datetime.now(UTC) + timedelta(days=3)
        event = Event(
            ap_id="https://gancio.example/event/42", origin="gancio.example", name="Vélorution",
            organisation_id=org.id, starts_at=start, ends_at=start + timedelta(hours=2),
            timezone="Europe/Paris", online_url="https://gancio.example/live",
        )
        session.add(event)
        session.flush()
        session.add(EventOrganiser(event_id=event.id, organisation_id=org.id))
        event_id, org_id = event.id, org.id
    page = browser.get(f"/events/{event_id}")
    assert page.status_code == 200
    assert "Publié sur gancio.example" in text_of(page.text)
    assert 'href="https://gancio.example/event/42"' in page.text
    assert "de gancio.example" in text_of(page.text)  # the organiser's origin
    assert 'action="/events/' not in page.text.split("<main", 1)[1]  # no local registration
    org_page = browser.get(f"/organisations/{org_id}")
    assert "Publié sur gancio.example" in text_of(org_page.text)


def test_organisation_page_follow_and_feed(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin, description="<p>Un atelier partagé</p>")
    event = content.event(admin, org["id"])
    page = f"/organisations/{org['id']}"
    html = browser.get(page).text
    assert "La CoFabrik" in html and "Un atelier partagé" in html
    assert f'href="/events/{event["id"]}"' in html
    assert f'href="/api/v1/organisations/{org["id"]}/events.ics"' in html
    assert "Dominique" in html  # its admin, a member
    browser.signup()
    assert browser.post(f"{page}/follow", {"action": "follow"}, page=page).status_code == 303
    assert "1 abonné·e" in text_of(browser.get(page).text)
    assert "La CoFabrik" in browser.get("/agenda").text
    browser.post(f"{page}/follow", {"action": "unfollow"}, page=page)
    assert "0 abonné·e" in text_of(browser.get(page).text)


def test_project_page(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    project = content.post(
        admin, "/projects", {"name": "Ressourcerie", "organisation_id": org["id"],
                             "stage": "launched", "description": "<p>Réemploi</p>"},
    )
    page = f"/projects/{project['id']}"
    text = text_of(browser.get(page).text)
    assert "Ressourcerie" in text and "Lancé" in text and "Porté par La CoFabrik" in text
    browser.signup()
    offered = browser.post(f"{page}/contribution", {"action": "offer"}, page=page)
    assert offered.status_code == 303
    assert "Votre proposition attend les admins du projet." in text_of(browser.get(page).text)


def test_person_profiles_are_private_unless_public(
    browser: Browser, content: Content, make_browser: object
) -> None:
    browser.signup()
    me = browser.get("/agenda")
    assert me.status_code == 200
    account = content.account("Alex")
    other: Browser = make_browser()  # type: ignore[operator]
    assert other.get(f"/people/{account['id']}").status_code == 404
    shown = content.client.put(
        "/api/v1/me",
        json={"name": "Alex", "bio": "<b>Cyclist</b>", "public_profile": True},
        headers={"Authorization": account["Authorization"]},
    )
    assert shown.status_code == 200
    page = other.get(f"/people/{account['id']}")
    assert page.status_code == 200
    assert "&lt;b&gt;Cyclist&lt;/b&gt;" in page.text  # a bio is text, never HTML


def test_my_agenda_needs_a_session(browser: Browser) -> None:
    page = browser.get("/agenda")
    assert page.status_code == 401
    assert 'href="/login?next=/agenda"' in page.text
