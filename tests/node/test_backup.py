"""``maillon backup`` / ``maillon restore``: backup → wipe → restore gives back every row
(and, after ``maillon reindex``, the same search results), on SQLite and PostgreSQL and
across them; a non-empty database or a damaged archive changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import SQLModel, col

from node.api.app import create_app
from node.backup import FORMAT, MANIFEST
from node.cli import main
from node.db import head_revision, make_engine, migrate
from node.jobs import enqueue
from node.models import Activity, ActorKey, Job, JobState, Person
from node.runtime import Runtime, build_runtime
from node.settings import Settings
from tests.conftest import PG_URL, PUBLIC_URL, World, _pg_url, _schema_url

SECRET = "test-secret"
Rows = dict[str, list[dict[str, Any]]]
NewDatabase = Callable[..., str]
SEARCHES: list[dict[str, Any]] = [
    {"q": "café"},
    {"q": "jardin"},
    {"themes": "sharing"},
    {"types": "organisation"},
    {"lat": 50.63, "lon": 3.06, "radius_km": 20, "sort": "distance"},
]


# --- fixtures and helpers ----------------------------------------------------------------


def kind_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


@pytest.fixture
def new_database(tmp_path: Path, sqlite_template: Path) -> Iterator[NewDatabase]:
    """``new_database(kind, migrated=True)``: the URL of a new, empty database."""
    schemas: list[str] = []

    def new(kind: str, migrated: bool = True) -> str:
        name = f"restored_{uuid.uuid4().hex[:10]}"
        if kind == "sqlite":
            path = tmp_path / f"{name}.db"
            if migrated:
                shutil.copy(sqlite_template, path)
            return f"sqlite:///{path}"
        if not PG_URL:
            pytest.skip("PostgreSQL tests need MAILLON_TEST_DATABASE_URL (CI sets it)")
        admin = make_engine(_pg_url(PG_URL))
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
        admin.dispose()
        schemas.append(name)
        url = _schema_url(name)
        if migrated:
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
        return url

    yield new
    if schemas:
        admin = make_engine(_pg_url(PG_URL))
        with admin.begin() as connection:
            for name in schemas:
                connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def maillon(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Callable[..., tuple[int, str, str]]:
    """Run the command against the database ``url`` (and a search index of its own)."""
    for name in list(os.environ):
        if name.startswith("MAILLON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)

    def run(url: str, *argv: str, secret: str = SECRET) -> tuple[int, str, str]:
        monkeypatch.setenv("MAILLON_DATABASE_URL", url)
        monkeypatch.setenv("MAILLON_SECRET_KEY", secret)
        monkeypatch.setenv("MAILLON_SEARCH_PATH", str(search_path(tmp_path, url)))
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    return run


def search_path(tmp_path: Path, url: str) -> Path:
    return tmp_path / f"search-{uuid.uuid5(uuid.NAMESPACE_URL, url).hex[:12]}.db"


def rows(url: str) -> Rows:
    """Every table's rows, as dicts, in a stable order (the same on both databases)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found: Rows = {}
            for table in SQLModel.metadata.sorted_tables:
                keys = [column.name for column in table.primary_key.columns]
                listed = [dict(row) for row in connection.execute(select(table)).mappings()]
                found[table.name] = sorted(listed, key=lambda r: [str(r[k]) for k in keys])
            return found
    finally:
        engine.dispose()


def build_world(client: TestClient, runtime: Runtime) -> None:
    """A small node, written through the API and services: organisations, events with
    places, participations, follows, an actor key, activities and jobs of every state."""
    world = World(client)
    alice, bob = world.account("Alice"), world.account("Bob")
    fabrik = world.organisation(alice)
    jardins = world.organisation(
        alice,
        name="Les Jardins partagés",
        kind="cooperative",
        themes=["food", "environment"],
        place={"street": "12 rue de Wazemmes", "postal_code": "59000", "city": "Lille"},
    )
    cafe = world.event(alice, fabrik["id"])
    world.event(alice, jardins["id"], name="Jardin ouvert", themes=["food"], tags=["Potager"])
    world.event(alice, fabrik["id"], name="Atelier vélo", online_url="https://visio.example/v")
    assert client.post(f"/api/v1/events/{cafe['id']}/participation", headers=world.auth(bob))
    follow = client.post(f"/api/v1/organisations/{jardins['id']}/follow", headers=world.auth(bob))
    assert follow.status_code == 204
    with runtime.transaction() as session:
        session.add(
            ActorKey(
                actor=fabrik["url"],
                key_id=f"{fabrik['url']}#backup-test",
                public_pem="-----BEGIN PUBLIC KEY-----\nMIIB…\n-----END PUBLIC KEY-----\n",
                private_pem="encrypted:gAAAAABk…",
            )
        )
        enqueue(session, "deliver", {"inbox": "https://peer.example/inbox"}, delay_seconds=600)
        enqueue(session, "mail", {"to": "alice"}, max_attempts=1)
    [mail] = runtime.queue.claim(["mail"])
    runtime.queue.fail(mail, "no mail server")
    assert runtime.worker(["index"]).drain() > 0  # the search index, and done jobs
    with runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) > 0
        states = set(session.scalars(select(col(Job.state))))
        assert {JobState.pending, JobState.done, JobState.failed} <= states


def search_results(client: TestClient) -> list[Any]:
    found = []
    for params in SEARCHES:
        answer = client.get("/api/v1/search", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        body.pop("took_ms", None)
        found.append(body)
    assert any(body["hits"] for body in found)
    return found


def app_of(url: str, tmp_path: Path) -> tuple[Runtime, TestClient]:
    settings = Settings(
        database_url=url,
        search_path=str(search_path(tmp_path, url)),
        public_url=PUBLIC_URL,
        secret_key=SECRET,
        workers=0,
    )
    runtime = build_runtime(settings)
    return runtime, TestClient(
        create_app(settings, runtime=runtime, workers=0), base_url=PUBLIC_URL
    )


@pytest.fixture
def source(database_url: str, client: TestClient, runtime: Runtime) -> tuple[str, list[Any]]:
    """The fixture world's database, filled, and its search results."""
    build_world(client, runtime)
    return database_url, search_results(client)


# --- backup → wipe → restore ---------------------------------------------------------------


def test_backup_wipe_restore_reindex(
    source: tuple[str, list[Any]],
    new_database: NewDatabase,
    maillon: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    url, searched = source
    before = rows(url)
    archive = tmp_path / "node.zip"
    code, out, _ = maillon(url, "backup", str(archive))
    assert code == 0
    total = sum(len(listed) for listed in before.values())
    assert f"wrote {archive}: {total} rows in" in out
    assert "MAILLON_SECRET_KEY" in out

    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read(MANIFEST))
        names = [table["name"] for table in manifest["tables"]]
        for table in manifest["tables"]:
            assert table["rows"] == len(before[table["name"]])
            assert opened.read(table["file"]).count(b"\n") == table["rows"]
    assert manifest["format"] == FORMAT
    assert manifest["schema_revision"] == head_revision(make_engine(url))
    assert manifest["maillon_version"] and "MAILLON_SECRET_KEY" in manifest["keys_note"]
    assert set(names) == set(before)
    assert names.index("place") < names.index("organisation") < names.index("event")
    assert names.index("event") < names.index("participation")

    target = new_database(kind_of(url))
    code, out, err = maillon(target, "restore", str(archive))
    assert code == 0, err
    assert f"restored {total} rows in {len(names)} tables" in out
    assert "maillon reindex" in out
    assert "warning" not in err  # the same secret
    assert rows(target) == before

    assert maillon(target, "reindex")[0] == 0
    assert maillon(target, "reindex", "--check")[1].startswith("drift: 0")
    runtime, client = app_of(target, tmp_path)
    try:
        with client:
            assert search_results(client) == searched
            # New rows follow the restored ones (PostgreSQL's sequences were reset).
            world = World(client)
            world.organisation(world.account("Chloé"), name="Après la restauration")
    finally:
        runtime.close()
    after = rows(target)
    assert max(a["seq"] for a in after["activity"]) > max(a["seq"] for a in before["activity"])
    assert max(j["id"] for j in after["job"]) > max(j["id"] for j in before["job"])


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("origin", "destination"), [("sqlite", "postgres"), ("postgres", "sqlite")]
)
def test_restore_across_databases(
    new_database: NewDatabase,
    maillon: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
    origin: str,
    destination: str,
) -> None:
    url = new_database(origin)
    runtime, client = app_of(url, tmp_path)
    try:
        with client:
            build_world(client, runtime)
            searched = search_results(client)
    finally:
        runtime.close()
    before = rows(url)
    archive = tmp_path / "node.zip"
    assert maillon(url, "backup", str(archive))[0] == 0
    target = new_database(destination)
    assert maillon(target, "restore", str(archive))[0] == 0
    assert rows(target) == before
    assert maillon(target, "reindex")[0] == 0
    runtime, client = app_of(target, tmp_path)
    try:
        with client:
            assert search_results(client) == searched
    finally:
        runtime.close()


def test_restore_creates_the_schema_of_a_new_database(
    source: tuple[str, list[Any]],
    new_database: NewDatabase,
    maillon: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    url, _ = source
    archive = tmp_path / "node.zip"
    assert maillon(url, "backup", str(archive))[0] == 0
    target = new_database(kind_of(url), migrated=False)
    code, _, err = maillon(target, "restore", str(archive))
    assert code == 0, err
    assert rows(target) == rows(url)


def test_a_different_secret_is_reported(
    source: tuple[str, list[Any]],
    new_database: NewDatabase,
    maillon: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    url, _ = source
    archive = tmp_path / "node.zip"
    assert maillon(url, "backup", str(archive))[0] == 0
    code, _, err = maillon(new_database(kind_of(url)), "restore", str(archive), secret="other")
    assert code == 0
    assert "MAILLON_SECRET_KEY differs" in err


# --- refusals: nothing changes -------------------------------------------------------------


def test_restore_refuses_a_database_with_rows_unless_forced(
    source: tuple[str, list[Any]],
    new_database: NewDatabase,
    maillon: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    url, _ = source
    before = rows(url)
    archive = tmp_path / "node.zip"
    assert maillon(url, "backup", str(archive))[0] == 0

    target = other_node(new_database(kind_of(url)), tmp_path)
    kept = rows(target)
    code, _, err = maillon(target, "restore", str(archive))
    assert code == 1
    assert "the database is not empty: " in err and "person" in err and "--force" in err
    assert rows(target) == kept

    code, out, err = maillon(target, "restore", "--force", str(archive))
    assert code == 0, err
    assert "previous rows replaced" in out
    assert rows(target) == before


def other_node(url: str, tmp_path: Path) -> str:
    """Fill the database at ``url`` with a node of its own (one account)."""
    runtime, client = app_of(url, tmp_path)
    try:
        with client:
            World(client).account("Dominique")
    finally:
        runtime.close()
    return url


def damaged_copies(archive: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Damaged versions of ``archive``, each with the error it must give."""
    data = archive.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = tmp_path / "flipped.zip"
    with zipfile.ZipFile(archive) as opened:
        info = opened.getinfo("tables/event.jsonl")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    flipped.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    edited = rewrite(
        archive, tmp_path / "edited.zip", "person", lambda b: b.replace(b"Bob", b"Rob")
    )
    duplicated = tmp_path / "duplicated.zip"
    rewrite(archive, duplicated, "event", lambda b: b + b.splitlines(keepends=True)[0], fix=True)
    return {
        "truncated": (truncated, "is damaged (truncated or corrupted?)"),
        "flipped": (flipped, "damaged"),
        "edited": (edited, "tables/person.jsonl does not match its checksum"),
        # checksums right, but a row twice: fails inside the transaction, rolled back
        "duplicated": (duplicated, "database error"),
    }


def rewrite(
    archive: Path, copy: Path, table: str, change: Callable[[bytes], bytes], fix: bool = False
) -> Path:
    """``archive`` with a table's file changed (and its manifest entry updated, ``fix``)."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(copy, "w") as target:
        manifest = json.loads(source.read(MANIFEST))
        for info in source.infolist():
            data = source.read(info)
            if info.filename == f"tables/{table}.jsonl":
                data = change(data)
                entry = next(e for e in manifest["tables"] if e["name"] == table)
                if fix:
                    entry["sha256"] = hashlib.sha256(data).hexdigest()
                    entry["rows"] = data.count(b"\n")
            if info.filename != MANIFEST:
                target.writestr(info.filename, data)
        target.writestr(MANIFEST, json.dumps(manifest))
    return copy


def test_a_damaged_archive_changes_nothing(
    source: tuple[str, list[Any]],
    new_database: NewDatabase,
    maillon: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    url, _ = source
    archive = tmp_path / "node.zip"
    assert maillon(url, "backup", str(archive))[0] == 0
    empty = new_database(kind_of(url))
    occupied = other_node(new_database(kind_of(url)), tmp_path)
    kept = rows(occupied)
    nothing = rows(empty)
    for name, (damaged, message) in damaged_copies(archive, tmp_path).items():
        for target, expected, argv in (
            (empty, nothing, ["restore", str(damaged)]),
            (occupied, kept, ["restore", "--force", str(damaged)]),
        ):
            code, _, err = maillon(target, *argv)
            assert code == 1, (name, err)
            assert message in err, (name, err)
            assert rows(target) == expected, name

    code, _, err = maillon(empty, "restore", str(tmp_path / "missing.zip"))
    assert code == 1 and "no such file" in err
    (tmp_path / "notes.zip").write_bytes(b"not a zip at all")
    code, _, err = maillon(empty, "restore", str(tmp_path / "notes.zip"))
    assert code == 1 and "is damaged" in err


def test_an_archive_from_a_newer_maillon_is_refused(
    source: tuple[str, list[Any]],
    new_database: NewDatabase,
    maillon: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    url, _ = source
    archive = tmp_path / "node.zip"
    assert maillon(url, "backup", str(archive))[0] == 0
    newer = tmp_path / "newer.zip"
    with zipfile.ZipFile(archive) as source_zip, zipfile.ZipFile(newer, "w") as target:
        for info in source_zip.infolist():
            data = source_zip.read(info)
            if info.filename == MANIFEST:
                manifest = json.loads(data)
                manifest["schema_revision"] = "9999"
                data = json.dumps(manifest).encode()
            target.writestr(info.filename, data)
    target_url = new_database(kind_of(url), migrated=False)
    code, _, err = maillon(target_url, "restore", str(newer))
    assert code == 1
    assert "schema revision 9999, unknown to this version" in err


def test_backup_needs_a_schema_and_a_writable_place(
    new_database: NewDatabase, maillon: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    url = new_database("sqlite", migrated=False)
    code, _, err = maillon(url, "backup", str(tmp_path / "x.zip"))
    assert code == 1 and "no schema" in err
    assert not (tmp_path / "x.zip").exists()
    assert list(tmp_path.glob(".x.zip.*")) == []  # no partial file left
    code, _, err = maillon(new_database("sqlite"), "backup", "/nonexistent-dir/x.zip")
    assert code == 1 and "cannot write in /nonexistent-dir" in err


def test_restored_people_can_sign_in(
    source: tuple[str, list[Any]],
    new_database: NewDatabase,
    maillon: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    url, _ = source
    archive = tmp_path / "node.zip"
    assert maillon(url, "backup", str(archive))[0] == 0
    target = new_database(kind_of(url))
    assert maillon(target, "restore", str(archive))[0] == 0
    runtime, client = app_of(target, tmp_path)
    try:
        with runtime.transaction() as session:
            emails = list(session.scalars(select(col(Person.email))))
        with client:
            for email in emails:
                answer = client.post(
                    "/api/v1/tokens", json={"email": email, "password": "correct horse"}
                )
                assert answer.status_code == 201
    finally:
        runtime.close()
