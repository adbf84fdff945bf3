"""Stage 1: the layout, static files, sessions, CSRF, error pages, templates override."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from node.api.app import create_app
from node.runtime import build_runtime
from node.settings import Settings
from tests.web.conftest import HTML, Browser, text_of
from web.sessions import COOKIE


def test_home_has_the_layout(browser: Browser) -> None:
    page = browser.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="fr">' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert 'role="search"' in html and 'action="/search"' in html
    assert 'action="/language"' in html
    assert 'href="/login?next=/"' in html
    assert page.headers["content-language"] == "fr"


def test_reading_pages_makes_no_session(browser: Browser) -> None:
    for page in ("/", "/search"):
        assert "set-cookie" not in browser.get(page).headers


def test_a_visitor_switches_language_with_the_nodes_token_a_member_with_theirs(
    browser: Browser, make_browser: Any
) -> None:
    home = browser.get("/").text
    token = re.search(r'name="csrf" value="([^"]+)"', home)
    assert token is not None
    form = {"csrf": token.group(1), "language": "en", "next": "/"}
    answer = browser.client.post("/language", data=form, headers=HTML, follow_redirects=False)
    assert answer.status_code == 303 and "maillon_lang=en" in answer.headers["set-cookie"]
    forged = form | {"csrf": "x" * len(token.group(1))}
    refused = browser.client.post("/language", data=forged, headers=HTML)
    assert refused.status_code == 403
    member: Browser = make_browser()
    member.signup("Dominique", "dominique@lille.example")
    # the visitors' token does not change an account's language
    taken = member.client.post("/language", data=form, headers=HTML)
    assert taken.status_code == 403


def test_the_session_cookie_is_signed_httponly_lax(browser: Browser) -> None:
    cookie = browser.get("/login").headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # http public URL


def test_the_cookie_is_secure_behind_https(settings: Settings) -> None:
    secure = settings.model_copy(update={"public_url": "https://lille.example"})
    runtime = build_runtime(secure)
    try:
        app = create_app(secure, runtime=runtime, workers=0)
        with TestClient(app, base_url="https://lille.example") as client:
            cookie = client.get("/login", headers=HTML).headers["set-cookie"]
        assert "secure" in cookie.lower()
    finally:
        runtime.close()


def test_api_requests_get_no_session_cookie(browser: Browser) -> None:
    answer = browser.client.get("/api/v1/themes")
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers


def test_static_files_are_served_with_a_versioned_url(browser: Browser) -> None:
    html = browser.get("/").text
    assert "/static/css/maillon.css?v=" in html
    css = browser.client.get("/static/css/maillon.css")
    assert css.status_code == 200
    assert "max-age" in css.headers["cache-control"]
    assert browser.client.get("/static/../pyproject.toml").status_code == 404


def test_an_unknown_page_answers_the_html_404_page(browser: Browser) -> None:
    page = browser.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in page.text
    assert 'action="/search"' in page.text  # a way on


def test_the_api_keeps_its_json_errors(browser: Browser) -> None:
    answer = browser.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    plain = browser.client.get("/no/such/page")  # no Accept: text/html
    assert plain.headers["content-type"].startswith("application/json")


def test_a_form_without_the_csrf_token_is_refused(browser: Browser) -> None:
    browser.get("/")
    for body in ({}, {"csrf": "forged"}):
        answer = browser.client.post(
            "/signup",
            data=body | {"name": "Eve", "email": "eve@lille.example", "password": "12345678"},
            headers=HTML,
        )
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("text/html")
    # nothing was created: signing up with that email still works
    browser.signup("Eve", "eve@lille.example")


def test_sign_up_sign_out_sign_in(browser: Browser) -> None:
    answer = browser.signup()
    assert answer.headers["location"] == "/agenda"
    home = browser.get("/")
    assert "Se déconnecter" in home.text
    old_cookie = browser.client.cookies[COOKIE]
    assert browser.logout().status_code == 303
    assert "Se connecter" in browser.get("/").text
    # the signed-out session's token is revoked: replaying the old cookie is anonymous
    browser.client.cookies.set(COOKIE, old_cookie, domain="lille.test")
    assert "Se déconnecter" not in browser.get("/").text
    browser.client.cookies.clear()
    signed = browser.login("camille@lille.example")
    assert signed.status_code == 303
    assert "Se déconnecter" in browser.get("/").text


def test_sign_up_rejects_invalid_input_and_keeps_it(browser: Browser) -> None:
    answer = browser.post("/signup", {"name": "Camille", "email": "not-an-email", "password": "x"})
    assert answer.status_code == 422
    html = answer.text
    assert 'value="Camille"' in html and 'value="not-an-email"' in html
    assert 'id="f-email-error"' in html and 'id="f-password-error"' in html
    assert 'aria-invalid="true"' in html
    assert "au moins 8 caractères" in text_of(html)


def test_sign_up_twice_names_the_email(browser: Browser) -> None:
    browser.signup()
    browser.logout()
    again = browser.post(
        "/signup", {"name": "Other", "email": "camille@lille.example", "password": "another one"}
    )
    assert again.status_code == 422
    assert 'id="f-email-error"' in again.text


def test_login_failures_are_rate_limited(browser: Browser) -> None:
    browser.signup()
    browser.logout()
    for _ in range(10):
        wrong = browser.login("camille@lille.example", "wrong password")
        assert wrong.status_code == 401
        assert 'value="camille@lille.example"' in wrong.text
    limited = browser.login("camille@lille.example")
    assert limited.status_code == 429
    assert limited.headers["retry-after"]


def test_login_goes_on_only_to_a_local_page(browser: Browser) -> None:
    browser.signup()
    browser.logout()
    for target, expected in (
        ("https://evil.example/", "/agenda"),
        ("//evil.example/x", "/agenda"),
        ("/search?q=v%C3%A9lo", "/search?q=v%C3%A9lo"),
    ):
        answer = browser.post(
            "/login",
            {"email": "camille@lille.example", "password": "correct horse", "next": target},
        )
        assert answer.headers["location"] == expected
        browser.logout()


def test_password_change(browser: Browser, make_browser: object) -> None:
    browser.signup()
    other = make_browser()  # type: ignore[operator]
    other.login("camille@lille.example")
    assert "Se déconnecter" in other.get("/").text
    wrong = browser.post(
        "/account/password",
        {"current_password": "nope", "new_password": "a new password"},
        page="/account/password",
    )
    assert wrong.status_code == 422
    assert 'id="f-current_password-error"' in wrong.text
    done = browser.post(
        "/account/password",
        {"current_password": "correct horse", "new_password": "a new password"},
        page="/account/password",
    )
    assert done.status_code == 303
    assert "Se déconnecter" in browser.get("/").text  # this session carries on
    assert "Se déconnecter" not in other.get("/").text  # the others are signed out
    browser.logout()
    assert browser.login("camille@lille.example", "a new password").status_code == 303


def test_password_page_needs_a_session(browser: Browser) -> None:
    page = browser.get("/account/password")
    assert page.status_code == 401
    assert 'href="/login?next=/account/password"' in page.text


def test_language_from_the_browser_then_the_switch(browser: Browser) -> None:
    english = browser.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    switched = browser.post("/language", {"language": "fr", "next": "/search"})
    assert switched.status_code == 303 and switched.headers["location"] == "/search"
    again = browser.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in again.text


def test_the_switch_sets_the_account_language(browser: Browser, make_browser: object) -> None:
    browser.signup()
    browser.post("/language", {"language": "en"})
    other = make_browser()  # type: ignore[operator]
    other.login("camille@lille.example")
    assert '<html lang="en">' in other.get("/").text  # the account's language


def test_an_unexpected_failure_answers_the_500_page(
    browser: Browser, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("web.pages.search.viewer", broken)
    with caplog.at_level(logging.ERROR):
        page = browser.get("/")
    assert page.status_code == 500
    assert "boom" not in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert any("unhandled error on page" in r.message for r in caplog.records)


def test_a_node_overrides_templates(settings: Settings, tmp_path: Path) -> None:
    override = tmp_path / "branding"
    (override / "static").mkdir(parents=True)
    (override / "branding_logo.html").write_text(
        '<img src="{{ asset(\'logo.svg\') }}" alt="" class="logo">'
    )
    (override / "static" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    runtime = build_runtime(settings)
    runtime.extensions["web_templates"] = str(override)
    try:
        # the static route reads the override when the plugin registers: rebuild it
        app = create_app(settings, runtime=runtime, workers=0)
        with TestClient(app, base_url="http://lille.test") as client:
            html = client.get("/", headers=HTML).text
            assert '<img src="/static/logo.svg?v=' in html
    finally:
        runtime.close()
