"""Web fixtures: a browser-like client of the pages (cookies kept), and helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from node.api.app import create_app
from node.runtime import Runtime
from node.settings import Settings
from tests.conftest import PUBLIC_URL

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LANGUAGE_SWITCH = re.compile(r'<form class="language-switch".*?</form>', re.S)
HTML = {"Accept": "text/html,application/xhtml+xml"}


class Browser:
    """Walks the pages like a browser without JavaScript: GET pages, POST their forms."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, url: str, **kwargs: Any) -> Response:
        headers = HTML | kwargs.pop("headers", {})
        return self.client.get(url, headers=headers, **kwargs)

    def csrf(self, page: str = "/") -> str:
        """The session's token from a form of ``page`` (the language switch of a visitor
        carries the node's language token instead: then from the login form, as a
        browser would have it once it showed any other form)."""
        found = CSRF.search(LANGUAGE_SWITCH.sub("", self.get(page).text))
        if found is None:
            found = CSRF.search(LANGUAGE_SWITCH.sub("", self.get("/login").text))
        assert found, "no CSRF token on the page"
        return found.group(1)

    def post(self, url: str, data: dict[str, Any] | None = None, *, page: str = "/") -> Response:
        """POST a form with this session's CSRF token (taken from ``page``)."""
        body = {"csrf": self.csrf(page)} | (data or {})
        return self.client.post(url, data=body, headers=HTML, follow_redirects=False)

    def signup(self, name: str = "Camille", email: str = "camille@lille.example") -> Response:
        answer = self.post(
            "/signup", {"name": name, "email": email, "password": "correct horse"}
        )
        assert answer.status_code == 303, answer.text
        return answer

    def login(self, email: str, password: str = "correct horse") -> Response:
        return self.post("/login", {"email": email, "password": password})

    def logout(self) -> Response:
        return self.post("/logout")


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)


@pytest.fixture
def make_browser(settings: Settings, runtime: Runtime) -> Iterator[Any]:
    """More browsers on the same node (each with its own cookies)."""
    clients: list[TestClient] = []

    def make() -> Browser:
        app = create_app(settings, runtime=runtime, workers=0)
        client = TestClient(app, base_url=PUBLIC_URL, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return Browser(client)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def text_of(html: str) -> str:
    """The visible-ish text of a page, whitespace folded (for assertions)."""
    without_tags = re.sub(r"<[^>]+>", " ", html)
    return " ".join(without_tags.split())


class Content:
    """Publishes through the API as a given account (the pages read what it made)."""

    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime
        self._n = 0

    def account(self, name: str = "Dominique", email: str | None = None) -> dict[str, str]:
        self._n += 1
        email = email or f"publisher{self._n}@lille.example"
        created = self.client.post(
            "/api/v1/accounts", json={"email": email, "password": "correct horse", "name": name}
        )
        assert created.status_code == 201, created.text
        return self.token(email) | {"id": created.json()["id"], "email": email}

    def token(self, email: str) -> dict[str, str]:
        answer = self.client.post(
            "/api/v1/tokens", json={"email": email, "password": "correct horse"}
        )
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def post(self, who: dict[str, str], path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": who["Authorization"]}
        answer = self.client.post(f"/api/v1{path}", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def organisation(self, who: dict[str, str], **fields: Any) -> dict[str, Any]:
        body = {
            "name": "La CoFabrik",
            "kind": "association",
            "themes": ["crafts"],
            "place": {"street": "1 rue Charles Delesalle", "postal_code": "59000", "city": "Lille"},
        } | fields
        return self.post(who, "/organisations", body)

    def event(self, who: dict[str, str], organisation_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Repair café",
            "organisation_id": organisation_id,
            "starts_at": "2030-05-16T14:00:00",
            "ends_at": "2030-05-16T18:00:00",
            "timezone": "Europe/Paris",
            "place": {"name": "Maison de l'ESS", "street": "235 boulevard Paul Painlevé",
                      "postal_code": "59000", "city": "Lille"},
            "themes": ["sharing"],
        } | fields
        return self.post(who, "/events", body)

    def index(self) -> None:
        """Run the index jobs the writes enqueued (no waiting: the worker is stepped)."""
        self.runtime.worker().drain()


@pytest.fixture
def content(client: TestClient, runtime: Runtime) -> Content:
    return Content(client, runtime)
