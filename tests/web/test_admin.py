"""Stage 5: node administration — settings, reports, federation peers, people."""

from __future__ import annotations

from sqlmodel import col, select

from node.models import Peer, Person, Report
from node.runtime import Runtime
from tests.web.conftest import Browser, text_of


def make_admin(runtime: Runtime, email: str) -> None:
    with runtime.transaction() as session:
        person = session.scalars(select(Person).where(col(Person.email) == email)).one()
        person.is_admin = True


def test_only_node_admins_enter(browser: Browser, runtime: Runtime) -> None:
    assert browser.get("/admin").status_code == 401
    browser.signup()
    for page in ("/admin", "/admin/reports", "/admin/peers", "/admin/users"):
        assert browser.get(page).status_code == 403, page
    refused = browser.post("/admin/peers", {"domain": "spam.example", "policy": "blocked"})
    assert refused.status_code == 403
    with runtime.transaction() as session:
        assert session.get(Peer, "spam.example") is None
    make_admin(runtime, "camille@lille.example")
    overview = browser.get("/admin")
    assert overview.status_code == 200
    assert "MAILLON_PUBLIC_URL" in overview.text and "http://lille.test" in overview.text
    assert 'href="/admin"' in browser.get("/").text  # the header links to it


def test_an_admin_blocks_a_domain(browser: Browser, runtime: Runtime) -> None:
    browser.signup()
    make_admin(runtime, "camille@lille.example")
    done = browser.post(
        "/admin/peers", {"domain": "Spam.Example", "policy": "blocked"}, page="/admin/peers"
    )
    assert done.status_code == 303
    with runtime.transaction() as session:
        peer = session.get(Peer, "spam.example")
        assert peer is not None and peer.policy == "blocked"
    listed = text_of(browser.get("/admin/peers").text)
    assert "spam.example bloqué" in listed
    bad = browser.post("/admin/peers", {"domain": "not a domain/", "policy": "blocked"})
    assert bad.status_code == 303
    assert "mobilizon.example" in text_of(browser.get("/admin/peers").text)
    browser.post("/admin/peers", {"domain": "spam.example", "policy": "none"})
    with runtime.transaction() as session:
        assert session.get(Peer, "spam.example").policy == "none"  # type: ignore[union-attr]


def test_an_admin_resolves_a_report(browser: Browser, runtime: Runtime) -> None:
    browser.signup()
    make_admin(runtime, "camille@lille.example")
    with runtime.transaction() as session:
        report = Report(
            reporter="https://mastodon.example/users/mod",
            targets=["http://lille.test/events/0000aaaa-0000-0000-0000-000000000000"],
            content="Spam event",
            domain="mastodon.example",
        )
        session.add(report)
        session.flush()
        report_id = report.id
    page = browser.get("/admin/reports")
    assert "Spam event" in page.text
    assert 'href="/events/0000aaaa-0000-0000-0000-000000000000"' in page.text
    done = browser.post(f"/admin/reports/{report_id}/resolve", page="/admin/reports")
    assert done.status_code == 303
    with runtime.transaction() as session:
        stored = session.get(Report, report_id)
        assert stored is not None and stored.state == "resolved"
        assert stored.resolved_by is not None and stored.resolved_at is not None
    assert "résolu" in text_of(browser.get("/admin/reports").text)


def test_an_admin_lists_people(browser: Browser, runtime: Runtime) -> None:
    browser.signup()
    make_admin(runtime, "camille@lille.example")
    page = browser.get("/admin/users")
    assert "camille@lille.example" in page.text
