"""Stage 5: node administration — settings, reports, federation peers, people."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import event
from sqlmodel import col, select

from node.api.app import create_app
from node.api.limits import LARGER_BODY
from node.models import Peer, Person, Report, Territory
from node.runtime import Runtime, build_runtime
from node.services import branding
from node.services import territory as territory_service
from node.settings import Settings
from tests.images import SVG, png
from tests.web.conftest import HTML, Browser, text_of
from web.app import TERRITORY_TTL
from web.pages import admin


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



# --- settings: the node's name, territory, colours and logo ------------------------------

SETTINGS = {"node_name": "Lille en commun", "name": "Métropole lilloise",
            "timezone": "Europe/Paris", "default_language": "fr", "min_lat": "50,5",
            "min_lon": "2.8", "max_lat": "50.8", "max_lon": "3.3",
            "communes": "59350, 59009", "primary_colour": "#0B5CAD",
            "accent_colour": "#a4161a"}  # fmt: skip
NO_FILE = ("", b"", "application/octet-stream")  # what a browser sends for no file


def post_settings(
    browser: Browser, data: dict[str, str], logo: tuple[str, bytes, str] = NO_FILE
) -> Response:
    """The settings form as a browser sends it (multipart, with its file field)."""
    body = {"csrf": browser.csrf("/")} | data
    return browser.client.post(
        "/admin/settings", data=body, files={"logo": logo}, headers=HTML, follow_redirects=False
    )


def stored(runtime: Runtime) -> tuple[dict[str, Any] | None, bool]:
    """The territory row (but its ``updated``) and whether a logo row exists."""
    with runtime.transaction() as session:
        found = territory_service.current(session)
        logo = territory_service.logo(session) is not None
        return (None if found is None else found.model_dump(exclude={"updated"})), logo


def test_only_node_admins_change_the_settings(browser: Browser, runtime: Runtime) -> None:
    assert browser.get("/admin/settings").status_code == 401
    browser.signup()
    assert browser.get("/admin/settings").status_code == 403
    refused = post_settings(browser, SETTINGS, ("logo.png", png(), "image/png"))
    assert refused.status_code == 403
    assert stored(runtime) == (None, False)
    make_admin(runtime, "camille@lille.example")
    without_token = browser.client.post(
        "/admin/settings", data=SETTINGS, headers=HTML, follow_redirects=False
    )
    assert without_token.status_code == 403  # an admin's form needs its CSRF token too
    assert stored(runtime) == (None, False)
    assert 'href="/admin/settings"' in browser.get("/admin").text  # the admin nav links it


def test_an_admin_names_and_brands_the_node(browser: Browser, runtime: Runtime) -> None:
    browser.signup()
    make_admin(runtime, "camille@lille.example")
    home = browser.get("/").text
    assert "<title>Maillon</title>" in home and 'class="brand-mark"' in home
    form = browser.get("/admin/settings")
    assert form.status_code == 200
    assert 'value="Europe/Paris"' in form.text  # a new territory starts from the settings
    assert 'enctype="multipart/form-data"' in form.text

    saved = post_settings(browser, SETTINGS, ("logo.png", png(), "image/png"))
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == "/admin/settings"
    territory, has_logo = stored(runtime)
    assert territory is not None and has_logo
    assert (territory["node_name"], territory["name"]) == ("Lille en commun", "Métropole lilloise")
    assert (territory["min_lat"], territory["max_lon"]) == (50.5, 3.3)
    assert territory["communes"] == ["59350", "59009"]
    assert (territory["primary_colour"], territory["accent_colour"]) == ("#0b5cad", "#a4161a")

    page = browser.get("/admin/settings").text
    assert "Les réglages sont enregistrés." in text_of(page)
    assert 'value="Lille en commun"' in page and 'value="#0b5cad"' in page
    assert 'value="50.5"' in page and "59350 59009" in page

    home = browser.get("/").text  # every page shows it at once (this process was told)
    assert '<span class="brand-name">Lille en commun</span>' in home
    assert "<title>Lille en commun</title>" in home  # the header's name, not twice
    assert "<title>Rechercher · Lille en commun</title>" in browser.get("/search").text
    assert "--accent: #0b5cad;" in home and "--brand-accent: #a4161a;" in home
    logo = re.search(r'<img class="brand-logo" src="([^"]+)"', home)
    assert logo and 'class="brand-mark"' not in home
    served = browser.get(logo.group(1))
    assert served.status_code == 200 and served.content == png()

    # the logo stays when the form is saved without a file; the box removes it
    assert post_settings(browser, SETTINGS).status_code == 303
    assert stored(runtime)[1]
    assert post_settings(browser, SETTINGS | {"remove_logo": "yes"}).status_code == 303
    assert stored(runtime)[1] is False
    assert 'class="brand-mark"' in browser.get("/").text
    # emptied, the node's name falls back to the territory's; colours go back to the CSS
    emptied = SETTINGS | {"node_name": "", "primary_colour": "", "accent_colour": ""}
    assert post_settings(browser, emptied).status_code == 303
    home = browser.get("/").text
    assert '<span class="brand-name">Métropole lilloise</span>' in home
    assert "<title>Métropole lilloise · Maillon</title>" in home
    assert "--accent:" not in home


def test_invalid_settings_are_shown_next_to_their_fields(
    browser: Browser, runtime: Runtime
) -> None:
    browser.signup()
    make_admin(runtime, "camille@lille.example")
    assert post_settings(browser, SETTINGS).status_code == 303
    before = stored(runtime)
    typed = SETTINGS | {"name": "", "timezone": "Europe/Lile", "primary_colour": "#ffff00",
                        "accent_colour": "bleu", "communes": "59350 123",
                        "node_name": "Nouveau nom"}  # fmt: skip
    answer = post_settings(browser, typed)
    assert answer.status_code == 422
    html = answer.text
    for field in ("name", "timezone", "primary_colour", "accent_colour", "communes"):
        assert f'id="f-{field}-error"' in html, field
    shown = text_of(html)
    assert "trop claire pour un texte blanc" in shown
    assert "une couleur s’écrit #rrggbb" in shown
    assert "fuseau horaire inconnu" in shown
    assert "un code INSEE a 5 caractères" in shown
    # what was typed is kept
    assert 'value="#ffff00"' in html and 'value="Nouveau nom"' in html and "59350 123" in html
    assert stored(runtime) == before

    for corners, words in (
        ({"max_lat": ""}, "Donnez les quatre limites"),
        ({"min_lat": "50.9"}, "minimales viennent avant"),
        ({"min_lat": "nord"}, "saisir un nombre"),
    ):
        answer = post_settings(browser, SETTINGS | corners)
        assert answer.status_code == 422
        assert 'id="f-bbox-error"' in answer.text and words in text_of(answer.text), corners
    assert stored(runtime) == before


def test_a_logo_that_is_not_one_changes_nothing(browser: Browser, runtime: Runtime) -> None:
    browser.signup()
    make_admin(runtime, "camille@lille.example")
    assert post_settings(browser, SETTINGS).status_code == 303
    before = stored(runtime)
    renamed = SETTINGS | {"node_name": "Autre nom"}
    for logo, words in (
        (("logo.svg", SVG, "image/svg+xml"), "SVG"),
        (("logo.png", b"<html><script>alert(1)</script>", "image/png"), "pas une image PNG"),
        (("logo.png", png() + b"\0" * (512 * 1024), "image/png"), "plus de 512 Kio"),
    ):
        answer = post_settings(browser, renamed, logo)
        assert answer.status_code == 422, logo[0]
        assert 'id="f-logo-error"' in answer.text and words in text_of(answer.text)
        assert 'value="Autre nom"' in answer.text
    assert stored(runtime) == before  # the other fields were not saved either


def test_pages_read_the_branding_once_in_a_while(
    browser: Browser, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No territory query per page: a change in this process shows at once, one made
    by another process once the cached copy is TERRITORY_TTL seconds old."""
    browser.signup()
    make_admin(runtime, "camille@lille.example")
    assert post_settings(browser, SETTINGS).status_code == 303
    queries: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM territory" in statement:
            queries.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        browser.get("/")
        queries.clear()
        for path in ("/", "/search?q=velo", "/agenda", "/admin"):
            assert browser.get(path).status_code == 200
        assert queries == []

        with runtime.transaction() as session:  # as another process would write it
            row = territory_service.current(session)
            assert row is not None
            row.node_name = "Écrit ailleurs"
        queries.clear()
        assert "Écrit ailleurs" not in browser.get("/").text
        later = time.monotonic() + TERRITORY_TTL + 1
        monkeypatch.setattr("web.app.time.monotonic", lambda: later)
        assert '<span class="brand-name">Écrit ailleurs</span>' in browser.get("/").text
        assert len(queries) == 1
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)


def test_a_template_override_still_wins(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    override = tmp_path / "branding"
    override.mkdir()
    (override / "branding_logo.html").write_text('<span class="their-logo">L</span>')
    (override / "branding_head.html").write_text("<style>:root { --accent: #123456; }</style>")
    runtime.extensions["web_templates"] = str(override)
    with runtime.transaction() as session:
        session.add(Territory(name="Lille", slug="lille", timezone="Europe/Paris",
                              primary_colour="#0b5cad", logo_type="image/png",
                              logo_sha256="ab" * 32))  # fmt: skip
    app = create_app(settings, runtime=runtime, workers=0)
    with TestClient(app, base_url="http://lille.test") as client:
        html = client.get("/", headers=HTML).text
    assert '<span class="their-logo">L</span>' in html and "brand-logo" not in html
    # the node's colour is set first, the override's rules come after it: they win
    assert html.index("--accent: #0b5cad;") < html.index("--accent: #123456;")


def test_the_services_refusals_are_translated() -> None:
    """The territory service's messages are listed for translation word for word."""
    refusals = {
        value
        for name, value in vars(branding).items()
        if name.startswith("LOGO_") and isinstance(value, str)
    }
    refusals |= {branding.COLOUR_FORM, branding.PRIMARY_TOO_LIGHT, branding.ACCENT_TOO_LIGHT}
    refusals |= {territory_service.INSEE_FORM, territory_service.BBOX_ORDER}
    assert refusals == set(admin.NODE_MESSAGES)


def test_the_territory_language_is_the_pages_default(
    browser: Browser, make_browser: Any, runtime: Runtime, settings: Settings
) -> None:
    """Without a choice (cookie, account) or a browser language the node speaks, pages
    are in the territory's language; MAILLON_LANGUAGE until there is a territory."""
    browser.signup()
    make_admin(runtime, "camille@lille.example")
    visitor: Browser = make_browser()
    assert '<html lang="fr">' in visitor.get("/").text  # no territory: MAILLON_LANGUAGE
    form = text_of(browser.get("/admin/settings").text)
    assert "La langue des pages pour qui n’en a choisi aucune" in form
    assert "MAILLON_LANGUAGE" not in form

    assert post_settings(browser, SETTINGS | {"default_language": "en"}).status_code == 303
    page = visitor.get("/")
    assert '<html lang="en">' in page.text and "Sign in" in page.text
    assert page.headers["content-language"] == "en"
    assert '<html lang="en">' in visitor.get("/search", headers={"Accept-Language": "de"}).text
    french = visitor.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr">' in french.text  # the browser's language comes first
    visitor.post("/language", {"language": "fr"})
    assert '<html lang="fr">' in visitor.get("/").text  # and the switch before it

    # a language the node does not speak is refused next to its field, the rest kept
    before = stored(runtime)
    refused = post_settings(browser, SETTINGS | {"default_language": "de", "name": "Lille"})
    assert refused.status_code == 422
    assert 'id="f-default_language-error"' in refused.text and 'value="Lille"' in refused.text
    assert stored(runtime) == before
    assert '<html lang="en">' in make_browser().get("/").text


def test_without_territory_the_setting_decides(settings: Settings, runtime: Runtime) -> None:
    english = settings.model_copy(update={"language": "en"})
    node = build_runtime(english)
    try:
        with TestClient(create_app(english, runtime=node, workers=0)) as client:
            assert '<html lang="en">' in client.get("/", headers=HTML).text
    finally:
        node.close()


def test_a_logo_over_the_body_limit_is_refused_next_to_its_field(
    browser: Browser, make_browser: Any, runtime: Runtime, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A photo larger than the node's body limit: the settings form reads it (the page
    declares a larger body), says so next to the logo field and keeps what was typed; the
    API still answers its JSON 413 before reading."""
    browser.signup()
    make_admin(runtime, "camille@lille.example")
    assert post_settings(browser, SETTINGS).status_code == 303
    before = stored(runtime)
    photo = ("photo.png", png() + b"\0" * (settings.max_body_bytes + 1), "image/png")
    typed = SETTINGS | {"node_name": "Autre nom", "accent_colour": "#222222"}
    answer = post_settings(browser, typed, photo)
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("text/html")
    assert 'id="f-logo-error"' in answer.text and "plus de 512 Kio" in text_of(answer.text)
    assert 'value="Autre nom"' in answer.text and 'value="#222222"' in answer.text
    assert stored(runtime) == before

    token = browser.client.post(
        "/api/v1/tokens", json={"email": "camille@lille.example", "password": "correct horse"}
    ).json()["token"]
    api = browser.client.put(
        "/api/v1/territory/logo",
        content=photo[1],
        headers={"Authorization": f"Bearer {token}", "Content-Type": "image/png"},
    )
    assert api.status_code == 413 and api.json()["error"]["code"] == "too_large"
    assert stored(runtime) == before

    # whoever is not a node admin is refused before the body is read: the CSRF token in
    # it is not even looked at (401, 403 rather than the CSRF refusal)
    visitor: Browser = make_browser()
    body = {"csrf": "forged"} | typed
    for expected in (401, 403):
        if expected == 403:
            visitor.signup("Eve", "eve@lille.example")
        refused = visitor.client.post(
            "/admin/settings", data=body, files={"logo": photo}, headers=HTML
        )
        assert refused.status_code == expected
    assert stored(runtime) == before

    # past the form's own bound, or sent without a length, the node's 413 answers
    monkeypatch.setattr(admin.save_settings, LARGER_BODY, 2 * settings.max_body_bytes)
    huge = ("huge.png", png() + b"\0" * 2 * settings.max_body_bytes, "image/png")
    assert post_settings(browser, SETTINGS, huge).status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(settings.max_body_bytes // 100_000 + 2):
            yield b"\0" * 100_000

    chunked = browser.client.post(
        "/admin/settings", content=chunks(), headers=HTML | {"Content-Type": "text/plain"}
    )
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "too_large"
    assert stored(runtime) == before
