"""An organiser answers a registration from another node on the participants page: the
person's node hears it (``Accept`` or ``Reject`` of their ``Join``), as through the API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

import web.plugin
from federation import peers
from node.api.app import create_app
from node.models import Participation, Person
from tests.federation.conftest import PASSWORD, Node, Nodes
from tests.web.conftest import HTML, Browser


@pytest.fixture
def organiser(nodes: Nodes) -> Iterator[Browser]:
    """Camille, signed in on Lille's pages (Lille's runtime with the web plugin)."""
    lille = nodes.lille
    web.plugin.register(lille.runtime)
    app = create_app(lille.runtime.settings, runtime=lille.runtime, workers=0)
    with TestClient(app, base_url=lille.url) as client:
        browser = Browser(client)
        browser.signup("Camille", "camille@lille.example")
        yield browser


def restricted_event(nodes: Nodes) -> tuple[str, str]:
    """Camille's event on Lille, where organisers accept each registration, and its
    copy on Roubaix (which follows Lille): (Lille's id, Roubaix's id)."""
    lille, roubaix = nodes.lille, nodes.roubaix
    peers.follow(roubaix.federation, lille.url)
    nodes.settle()
    answer = lille.api(
        "POST", "/tokens", json={"email": "camille@lille.example", "password": PASSWORD}
    )
    token = answer.json()["token"]
    org = lille.organisation(token, name="Vélo Cité")
    event = lille.event(token, org["id"], name="Atelier réparation", join_mode="restricted")
    nodes.settle()
    [copy] = roubaix.search(q="reparation")["hits"]
    return event["id"], copy["id"]


def join_from_roubaix(nodes: Nodes, copy_id: str, name: str) -> tuple[str, str]:
    """A person of Roubaix registers (pending); (their id on Roubaix, on Lille)."""
    token, person_id = nodes.roubaix.account(name)
    joined = nodes.roubaix.api("POST", f"/events/{copy_id}/participation", token)
    assert joined.status_code == 201 and joined.json()["state"] == "pending", joined.text
    nodes.settle()  # the Join reaches Lille, which waits for the organisers
    with nodes.lille.runtime.transaction() as session:
        remote_id = session.scalars(
            select(col(Person.id)).where(
                col(Person.origin) == "roubaix.test", col(Person.name) == name
            )
        ).one()
    return person_id, remote_id


def state_on(node: Node, event_id: str, person_id: str) -> str | None:
    with node.runtime.transaction() as session:
        found = session.scalar(
            select(Participation).where(
                col(Participation.event_id) == event_id,
                col(Participation.person_id) == person_id,
            )
        )
        return None if found is None else str(found.state)


def answers_to_roubaix(nodes: Nodes) -> list[str]:
    """What Lille posted to Roubaix's inboxes in answer to a ``Join``."""
    found = []
    for request in nodes.network.requests:
        if request.method == "POST" and request.url.host == "roubaix.test":
            body = json.loads(request.content or b"{}")
            answered = body.get("object")
            of = answered.get("type") if isinstance(answered, dict) else None
            if body.get("type") in ("Accept", "Reject") and of != "Follow":
                found.append(body["type"])
    return found


def test_the_organiser_accepts_and_rejects_remote_people_on_the_page(
    nodes: Nodes, organiser: Browser
) -> None:
    event_id, copy_id = restricted_event(nodes)
    nadia, nadia_on_lille = join_from_roubaix(nodes, copy_id, "Nadia")
    karim, karim_on_lille = join_from_roubaix(nodes, copy_id, "Karim")
    assert state_on(nodes.lille, event_id, nadia_on_lille) == "pending"
    assert answers_to_roubaix(nodes) == []

    page = f"/events/{event_id}/participants"
    listed = organiser.get(page).text
    assert "Nadia" in listed and "Karim" in listed

    # a form without its token changes nothing and tells nobody
    forged = organiser.client.post(
        f"{page}/{nadia_on_lille}", data={"state": "going"}, headers=HTML
    )
    assert forged.status_code == 403
    nodes.settle()
    assert state_on(nodes.lille, event_id, nadia_on_lille) == "pending"
    assert answers_to_roubaix(nodes) == []

    accepted = organiser.post(f"{page}/{nadia_on_lille}", {"state": "going"}, page=page)
    assert accepted.status_code == 303, accepted.text
    rejected = organiser.post(f"{page}/{karim_on_lille}", {"state": "rejected"}, page=page)
    assert rejected.status_code == 303, rejected.text
    nodes.settle()

    assert state_on(nodes.lille, event_id, nadia_on_lille) == "going"
    assert state_on(nodes.lille, event_id, karim_on_lille) == "rejected"
    assert sorted(answers_to_roubaix(nodes)) == ["Accept", "Reject"]
    # Roubaix applied the answers to its people's registrations
    assert state_on(nodes.roubaix, copy_id, nadia) == "going"
    assert state_on(nodes.roubaix, copy_id, karim) == "rejected"
