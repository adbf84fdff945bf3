"""The shared fixture world: a migrated database (SQLite, and PostgreSQL when
``MAILLON_TEST_DATABASE_URL`` is set), a runtime, an API client and helpers."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import SQLModel

from node.api.app import create_app
from node.db import make_engine, migrate
from node.runtime import Runtime, build_runtime
from node.services import accounts
from node.settings import Settings

PUBLIC_URL = "http://lille.test"
PG_URL = os.environ.get("MAILLON_TEST_DATABASE_URL", "")


def _pg_url(url: str) -> str:
    return Settings(database_url=url).database_url


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """argon2 with its production cost is most of a test's time; the tests hash weakly."""
    saved = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = saved


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need MAILLON_TEST_DATABASE_URL (CI sets it)")
    schema = f"maillon_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(_pg_url(PG_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _schema_url(schema)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _schema_url(schema: str) -> str:
    base = _pg_url(PG_URL)
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "node.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_schema")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        search_path=str(tmp_path / "search.db"),
        public_url=PUBLIC_URL,
        secret_key="test-secret",
        workers=0,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    node = build_runtime(settings)
    yield node
    node.close()


@pytest.fixture
def client(settings: Settings, runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(settings, runtime=runtime, workers=0)
    with TestClient(app, base_url=PUBLIC_URL, raise_server_exceptions=False) as test_client:
        yield test_client


class World:
    """Helpers that walk the API like an app would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._n = 0

    def account(self, name: str = "Camille") -> dict[str, str]:
        """Register and sign in; returns the auth header (and the person id under 'id')."""
        self._n += 1
        email = f"person{self._n}-{uuid.uuid4().hex[:6]}@lille.example"
        created = self.client.post(
            "/api/v1/accounts", json={"email": email, "password": "correct horse", "name": name}
        )
        assert created.status_code == 201, created.text
        token = self.client.post(
            "/api/v1/tokens", json={"email": email, "password": "correct horse"}
        )
        assert token.status_code == 201, token.text
        return {"Authorization": f"Bearer {token.json()['token']}", "id": created.json()["id"]}

    @staticmethod
    def auth(account: dict[str, str]) -> dict[str, str]:
        return {"Authorization": account["Authorization"]}

    def organisation(self, account: dict[str, str], **fields: Any) -> dict[str, Any]:
        body = {
            "name": "La CoFabrik",
            "kind": "association",
            "themes": ["crafts"],
            "place": {"street": "1 bis rue Charles Delesalle", "postal_code": "59000",
                      "city": "Lille"},
        } | fields
        answer = self.client.post("/api/v1/organisations", json=body, headers=self.auth(account))
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def event(self, account: dict[str, str], organisation_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Repair café",
            "organisation_id": organisation_id,
            "starts_at": "2030-05-16T14:00:00",
            "ends_at": "2030-05-16T18:00:00",
            "timezone": "Europe/Paris",
            "place": {"name": "Maison de l'ESS", "street": "235 boulevard Paul Painlevé",
                      "postal_code": "59000", "city": "Lille"},
            "themes": ["sharing"],
            "tags": ["Réemploi"],
        } | fields
        answer = self.client.post("/api/v1/events", json=body, headers=self.auth(account))
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result


@pytest.fixture
def world(client: TestClient) -> World:
    return World(client)
