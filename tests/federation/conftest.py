"""Several nodes in one process, each with its own database, joined by a :class:`Network`.

``nodes`` gives three nodes — ``lille.test``, ``roubaix.test``, ``tourcoing.test`` — on
SQLite files, and on PostgreSQL schemas when ``MAILLON_TEST_DATABASE_URL`` is set. Work
happens only when a test steps the workers (:meth:`Nodes.settle`): no sleeps.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update
from sqlmodel import SQLModel, col

import federation.plugin
import search.plugin
from federation.service import Federation
from node.api.app import create_app
from node.db import make_engine, migrate
from node.dbtypes import utcnow
from node.models import InboxState, Job
from node.runtime import Runtime, build_runtime, register_plugins
from node.settings import Settings
from tests.conftest import PG_URL, _pg_url
from tests.federation.network import Network, network

HOSTS = ("lille.test", "roubaix.test", "tourcoing.test")
PASSWORD = "correct horse"


class Node:
    def __init__(self, host: str, runtime: Runtime, network: Network) -> None:
        self.host = host
        self.url = f"http://{host}"
        self.runtime = runtime
        self.app = create_app(runtime.settings, runtime=runtime, workers=0)
        self.http = httpx.Client(transport=network, base_url=self.url)
        self.federation: Federation = runtime.extensions["federation"]
        self.federation.use_transport(network)
        self._n = 0

    def api(self, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, f"/api/v1{path}", headers=headers, **kw)

    def account(self, name: str = "Camille") -> tuple[str, str]:
        """(token, person id) of a new account."""
        self._n += 1
        email = f"p{self._n}-{uuid.uuid4().hex[:6]}@{self.host.split('.')[0]}.example"
        made = self.api(
            "POST", "/accounts", json={"email": email, "password": PASSWORD, "name": name}
        )
        assert made.status_code == 201, made.text
        token = self.api("POST", "/tokens", json={"email": email, "password": PASSWORD})
        return token.json()["token"], made.json()["id"]

    def organisation(self, token: str, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "La CoFabrik",
            "kind": "association",
            "themes": ["crafts"],
            "place": {"city": "Lille", "postal_code": "59000"},
        } | fields
        made = self.api("POST", "/organisations", token, json=body)
        assert made.status_code == 201, made.text
        result: dict[str, Any] = made.json()
        return result

    def event(self, token: str, organisation_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Repair café",
            "organisation_id": organisation_id,
            "starts_at": "2030-05-16T14:00:00",
            "ends_at": "2030-05-16T18:00:00",
            "timezone": "Europe/Paris",
            "place": {
                "name": "Maison de l'ESS",
                "street": "235 boulevard Paul Painlevé",
                "postal_code": "59000",
                "city": "Lille",
            },
            "themes": ["sharing"],
        } | fields
        made = self.api("POST", "/events", token, json=body)
        assert made.status_code == 201, made.text
        result: dict[str, Any] = made.json()
        return result

    def run_jobs(self) -> int:
        return self.runtime.worker().drain()

    def make_due(self) -> None:
        """Bring every waiting retry forward to now (time passing, without waiting)."""
        past = utcnow() - timedelta(seconds=1)
        with self.runtime.transaction() as session:
            session.execute(
                update(Job).where(col(Job.state) == "pending").values(next_attempt_at=past)
            )
            session.execute(
                update(InboxState)
                .where(col(InboxState.open_until).is_not(None))
                .values(open_until=past)
            )

    def search(self, **params: Any) -> dict[str, Any]:
        answer = self.api("GET", "/search", params=params)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


class Nodes:
    def __init__(self, nodes: list[Node], network: Network) -> None:
        self.all = nodes
        self.network = network
        self.lille, self.roubaix, self.tourcoing = nodes

    def settle(self, rounds: int = 50) -> None:
        """Run every node's due jobs until none is left to run now."""
        for _ in range(rounds):
            if sum(node.run_jobs() for node in self.all) == 0:
                return
        raise AssertionError("the nodes did not settle")


def _sqlite_urls(tmp_path: Path, template: Path) -> list[str]:
    urls = []
    for host in HOSTS:
        path = tmp_path / f"{host}.db"
        shutil.copy(template, path)
        urls.append(f"sqlite:///{path}")
    return urls


@pytest.fixture(scope="session")
def pg_node_schemas() -> Iterator[list[str]]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need MAILLON_TEST_DATABASE_URL (CI sets it)")
    admin = make_engine(_pg_url(PG_URL))
    schemas = [f"maillon_fed_{uuid.uuid4().hex[:8]}" for _ in HOSTS]
    urls = []
    for schema in schemas:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        base = _pg_url(PG_URL)
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        urls.append(url)
    yield urls
    with admin.begin() as connection:
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def node_database_urls(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> list[str]:
    if request.param == "sqlite":
        return _sqlite_urls(tmp_path, sqlite_template)
    urls: list[str] = request.getfixturevalue("pg_node_schemas")
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    for url in urls:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    return urls


def node_settings(host: str, database_url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=database_url,
        search_path=str(tmp_path / f"{host}.search.db"),
        public_url=f"http://{host}",
        secret_key=f"secret-of-{host}",
        workers=0,
        federation_allow_private=True,
        **extra,
    )


def make_runtime(settings: Settings) -> Runtime:
    """A node with the federation and search plugins (not the web pages)."""
    runtime = build_runtime(settings, plugins=False)
    register_plugins(runtime, [federation.plugin, search.plugin])
    return runtime


@pytest.fixture
def nodes(node_database_urls: list[str], tmp_path: Path) -> Iterator[Nodes]:
    with network() as net:
        runtimes = [
            make_runtime(node_settings(host, url, tmp_path))
            for host, url in zip(HOSTS, node_database_urls, strict=True)
        ]
        made = [Node(host, runtime, net) for host, runtime in zip(HOSTS, runtimes, strict=True)]
        for node in made:
            net.add(node.host, node.app)
        try:
            yield Nodes(made, net)
        finally:
            for node in made:
                node.http.close()
                node.runtime.close()
