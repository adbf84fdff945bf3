"""In a real browser: an admin blocks a domain and resolves a report; a remote event
(stored as federation stores it) is found and shown with its origin node."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session
from sqlmodel import select

from node.db import make_engine
from node.demo import ADMIN_EMAIL
from node.models import Event, EventOrganiser, Organisation, Peer, Report
from node.services.outbox import index
from tests.web.browser.conftest import Node, poll


@pytest.fixture
def database(node: Node) -> Iterator[Session]:
    """The node's own database, to set up what a peer would have sent and check results."""
    engine = make_engine(node.database_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def sign_in_as_admin(page: Any, node: Node) -> None:
    page.goto(node.url("/login"))
    page.get_by_label("Courriel").fill(ADMIN_EMAIL)
    page.get_by_label("Mot de passe").fill(node.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/agenda")


def test_an_admin_blocks_a_domain_and_resolves_a_report(
    page: Any, node: Node, database: Session
) -> None:
    content = f"Spam {uuid.uuid4().hex[:6]}"
    with database.begin():
        database.add(
            Report(reporter="https://mastodon.example/users/mod", content=content,
                   domain="mastodon.example", targets=[node.url("/events/unknown")])
        )  # fmt: skip
    sign_in_as_admin(page, node)
    page.get_by_role("link", name="Administration").first.click()
    page.get_by_role("link", name="Fédération").click()
    page.get_by_label("Domaine").fill("spam.example")
    page.get_by_label("Règle").select_option("blocked")
    page.get_by_role("button", name="Enregistrer la règle").click()
    assert page.get_by_text("La règle pour spam.example est enregistrée.").is_visible()
    assert page.get_by_role("cell", name="bloqué").first.is_visible()
    with database.begin():
        peer = database.get(Peer, "spam.example", populate_existing=True)
        assert peer is not None and peer.policy == "blocked"
    page.get_by_role("link", name="Signalements").click()
    item = page.locator("li.result", has_text=content)
    item.get_by_role("button", name="Marquer comme résolu").click()
    assert page.get_by_text("Le signalement est résolu.").is_visible()
    with database.begin():
        stored = database.scalars(select(Report).where(Report.content == content)).one()
        assert stored.state == "resolved"


def test_a_remote_event_shows_its_origin(page: Any, node: Node, database: Session) -> None:
    name = f"Vélorution {uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC) + timedelta(days=2)
    with database.begin():
        org = Organisation(
            ap_id=f"https://gancio.example/u/{uuid.uuid4().hex[:8]}", origin="gancio.example",
            username=f"velo-{uuid.uuid4().hex[:8]}@gancio.example", name="Atelier vélo",
            kind="association",
        )  # fmt: skip
        database.add(org)
        database.flush()
        event = Event(
            ap_id=f"https://gancio.example/event/{uuid.uuid4().hex[:8]}", origin="gancio.example",
            name=name, organisation_id=org.id, starts_at=start,
            ends_at=start + timedelta(hours=2), timezone="Europe/Paris",
            online_url="https://gancio.example/live",
        )  # fmt: skip
        database.add(event)
        database.flush()
        database.add(EventOrganiser(event_id=event.id, organisation_id=org.id))
        index(database, "event", event.id)  # as federation does for what peers send
        event_id, original = event.id, event.ap_id

    def searchable() -> bool:
        page.goto(node.url(f"/search?q={name.split()[1]}"))
        return bool(page.locator(f'li.result[data-id="{event_id}"]').count() == 1)

    poll(searchable, 30, "the remote event is searchable")
    hit = page.locator(f'li.result[data-id="{event_id}"]')
    assert hit.get_by_text("de gancio.example").is_visible()
    hit.get_by_role("link", name=name).click()
    page.wait_for_url(re.compile(rf".*/events/{event_id}$"))
    assert page.get_by_text("Publié sur gancio.example.").is_visible()
    link = page.get_by_role("link", name="Voir la page d’origine").first
    assert link.get_attribute("href") == original
