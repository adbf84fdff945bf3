"""The territory and branding through the API: admins only, fields named, logo sniffed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from sqlmodel import col, select

from node.backup import restore_backup, write_backup
from node.db import make_engine
from node.models import Person, Territory, TerritoryLogo
from node.runtime import Runtime
from node.services import territory as service
from tests.conftest import World
from tests.images import SVG, jpeg, png, webp

TERRITORY = "/api/v1/territory"
LOGO = "/api/v1/territory/logo"


def admin(runtime: Runtime, world: World) -> dict[str, str]:
    account = world.account("Admin")
    with runtime.transaction() as session:
        person = session.get(Person, account["id"])
        assert person is not None
        person.is_admin = True
    return World.auth(account)


def rows(runtime: Runtime) -> list[tuple[Any, ...]]:
    """Every column of the territory rows and the logo rows: to see nothing changed."""
    with runtime.transaction() as session:
        territories = session.scalars(select(Territory).order_by(col(Territory.created))).all()
        logos = session.scalars(select(TerritoryLogo)).all()
        return [tuple(t.model_dump().items()) for t in territories] + [
            tuple(logo.model_dump().items()) for logo in logos
        ]


def test_a_node_admin_sets_the_territory_and_branding(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    assert client.get(TERRITORY).status_code == 404  # no territory yet
    headers = admin(runtime, world)
    made = client.patch(TERRITORY, json={"name": "Métropole lilloise"}, headers=headers)
    assert made.status_code == 200, made.text
    # the settings fill in what a new territory needs
    assert made.json() | {"slug": "?"} == {
        "name": "Métropole lilloise", "slug": "?", "timezone": "Europe/Paris",
        "default_language": "fr", "bbox": None, "communes": [], "node_name": None,
        "primary_colour": None, "accent_colour": None, "logo_url": None,
    }  # fmt: skip
    changed = client.patch(
        TERRITORY,
        json={"node_name": "Lille en commun", "timezone": "Europe/Brussels",
              "default_language": "en", "bbox": [50.5, 2.8, 50.8, 3.3],
              "communes": ["59350", "59350", "2a004"], "primary_colour": "#0B5CAD",
              "accent_colour": "a4161a"},
        headers=headers,
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    shown = client.get(TERRITORY).json()
    assert shown["name"] == "Métropole lilloise"  # untouched by the second PATCH
    assert (shown["node_name"], shown["timezone"], shown["default_language"]) == (
        "Lille en commun",
        "Europe/Brussels",
        "en",
    )
    assert shown["bbox"] == [50.5, 2.8, 50.8, 3.3]
    assert shown["communes"] == ["59350", "2A004"]
    assert (shown["primary_colour"], shown["accent_colour"]) == ("#0b5cad", "#a4161a")
    cleared = client.patch(TERRITORY, json={"node_name": "", "bbox": None}, headers=headers)
    assert (cleared.json()["node_name"], cleared.json()["bbox"]) == (None, None)


def test_only_node_admins_change_it(client: TestClient, world: World, runtime: Runtime) -> None:
    headers = admin(runtime, world)
    assert client.patch(TERRITORY, json={"name": "Lille"}, headers=headers).status_code == 200
    before = rows(runtime)
    citizen = World.auth(world.account("Camille"))
    for method, url, body in (
        ("PATCH", TERRITORY, {"json": {"name": "Pwned"}}),
        ("PUT", LOGO, {"content": png(), "headers": {"Content-Type": "image/png"}}),
        ("DELETE", LOGO, {}),
    ):
        extra_headers = body.pop("headers", {})
        anonymous = client.request(method, url, headers=extra_headers, **body)
        assert anonymous.status_code == 401, (method, url)
        forbidden = client.request(method, url, headers=citizen | extra_headers, **body)
        assert forbidden.status_code == 403, (method, url)
        assert forbidden.json()["error"]["code"] == "forbidden"
    assert rows(runtime) == before


def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    headers = admin(runtime, world)
    assert client.patch(TERRITORY, json={"name": "Lille"}, headers=headers).status_code == 200
    before = rows(runtime)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"name": ""}, "name", "at least 1"),
        ({"timezone": "Europe/Lile"}, "timezone", "unknown IANA time zone"),
        ({"default_language": "de"}, "default_language", "'fr' or 'en'"),
        ({"bbox": [50.8, 2.8, 50.5, 3.3]}, "bbox", "minimum"),
        ({"bbox": [91, 2.8, 92, 3.3]}, "bbox.0", "less than or equal to 90"),
        ({"communes": ["59350", "123"]}, "communes.1", "INSEE"),
        ({"primary_colour": "#ffff00"}, "primary_colour", "too light for white text"),
        ({"primary_colour": "blue"}, "primary_colour", "#rrggbb"),
        ({"accent_colour": "#fafafa"}, "accent_colour", "3:1"),
        ({"node_name": "x" * 201}, "node_name", "at most 200"),
        ({"slug": "mine"}, "slug", "Extra inputs"),
    ]
    for body, field, words in cases:
        answer = client.patch(TERRITORY, json=body, headers=headers)
        assert answer.status_code == 422, (body, answer.text)
        fields = answer.json()["error"]["fields"]
        assert field in fields and words in fields[field], (body, fields)
    assert rows(runtime) == before


def test_the_logo_is_uploaded_served_and_removed(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    headers = admin(runtime, world)
    refused = client.put(LOGO, content=png(), headers=headers | {"Content-Type": "image/png"})
    assert refused.status_code == 409  # no territory to brand yet
    assert client.patch(TERRITORY, json={"name": "Lille"}, headers=headers).status_code == 200
    for image, media_type in ((jpeg(), "image/jpeg"), (webp(), "image/webp"), (png(), "image/png")):
        # the declared type does not matter: the content says what it is
        put = client.put(LOGO, content=image, headers=headers | {"Content-Type": "image/png"})
        assert put.status_code == 200, put.text
        url = put.json()["logo_url"]
        assert url.startswith(LOGO + "?v=")
        served = client.get(url)
        assert served.status_code == 200 and served.content == image
        assert served.headers["content-type"] == media_type
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "immutable" in served.headers["cache-control"]
    assert client.get(TERRITORY).json()["logo_url"] == url
    etag = client.get(LOGO).headers["etag"]
    assert client.get(LOGO, headers={"If-None-Match": etag}).status_code == 304
    assert "immutable" not in client.get(LOGO).headers["cache-control"]

    assert client.delete(LOGO, headers=headers).status_code == 204
    assert client.get(LOGO).status_code == 404
    assert client.get(TERRITORY).json()["logo_url"] is None
    assert client.delete(LOGO, headers=headers).status_code == 204  # idempotent


def test_what_is_not_a_logo_changes_nothing(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    headers = admin(runtime, world)
    assert client.patch(TERRITORY, json={"name": "Lille"}, headers=headers).status_code == 200
    assert client.put(LOGO, content=png(), headers=headers).status_code == 200
    before = rows(runtime)
    for body, status, words in (
        (SVG, 422, "SVG"),
        (b"<html><script>alert(1)</script></html>", 422, "not a PNG, JPEG or WebP"),
        (b"", 422, "empty"),
        (png() + b"\x00" * (512 * 1024), 413, "512 KiB"),
    ):
        answer = client.put(LOGO, content=body, headers=headers | {"Content-Type": "image/png"})
        assert answer.status_code == status, answer.text
        assert words in answer.json()["error"]["fields"]["logo"]
    assert rows(runtime) == before


def test_the_api_documents_the_calls(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"get", "patch"} <= set(paths["/api/v1/territory"])
    logo = paths["/api/v1/territory/logo"]
    assert {"get", "put", "delete"} <= set(logo)
    assert set(logo["put"]["requestBody"]["content"]) == {"image/png", "image/jpeg", "image/webp"}


def test_a_committed_change_is_announced(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    headers = admin(runtime, world)
    seen = service.generation()
    refused = client.patch(TERRITORY, json={"name": ""}, headers=headers)
    assert refused.status_code == 422 and service.generation() == seen  # nothing committed
    assert client.patch(TERRITORY, json={"name": "Lille"}, headers=headers).status_code == 200
    assert service.generation() > seen


def test_a_backup_carries_the_logo(
    client: TestClient, world: World, runtime: Runtime, tmp_path: Path, sqlite_template: Path
) -> None:
    """Why the logo is base64 text in the database: every process serves it, and the
    portable backup (JSON values) carries it, from PostgreSQL to SQLite too."""
    headers = admin(runtime, world)
    assert client.patch(TERRITORY, json={"name": "Lille"}, headers=headers).status_code == 200
    image = png(40, 20)
    assert client.put(LOGO, content=image, headers=headers).status_code == 200
    archive = tmp_path / "backup.zip"
    write_backup(runtime.engine, archive, secret_key="test-secret")
    target = tmp_path / "restored.db"
    shutil.copy(sqlite_template, target)
    engine = make_engine(f"sqlite:///{target}")
    try:
        restore_backup(engine, archive)
        with Session(engine) as session:
            found = service.logo(session)
    finally:
        engine.dispose()
    assert found is not None and found[0] == "image/png" and found[2] == image
