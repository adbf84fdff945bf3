"""Upgrading: a database made by the previous schema revision, with rows written as that
version wrote them (plain SQL valid at revision 0002), is migrated to the head and the
node answers for every row; a backup made at that revision restores into a new
database, which is then migrated."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlmodel import SQLModel

from node.api.app import create_app
from node.db import head_revision, make_engine, migrate, schema_revision
from node.ids import new_id
from node.runtime import build_runtime
from node.services.accounts import hash_password
from node.settings import Settings
from node.urls import Urls
from tests.conftest import PUBLIC_URL
from tests.node import test_backup
from tests.node.test_backup import NewDatabase, kind_of

# The fixtures of the backup tests: new empty databases, the command against one.
new_database = test_backup.new_database
maillon = test_backup.maillon

PREVIOUS = "0002"
#: Found by these tests: on SQLite, 0003's batch migration re-creates ``person`` (DROP
#: TABLE, then rename), which SQLite refuses while rows reference it and foreign keys
#: are on, as ``node.db.make_engine`` sets them. ``node.db.migrate`` must turn them off
#: around SQLite migrations (then ``PRAGMA foreign_key_check``). Until then, the SQLite
#: cases check that the bug is still there and stop: remove this once it is fixed.
TOKEN = "a-token-issued-before-the-upgrade"
#: Tables the head adds (revision 0003: federation); empty after the upgrade.
ADDED = {"actorkey", "follower", "inboxitem", "inboxstate", "peer", "remoteactor", "report"}


def moment(kind: str, value: datetime) -> str:
    """A time as the previous version stored it: naive UTC text on SQLite."""
    if kind == "sqlite":
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    return value.isoformat()


class OldNode:
    """Rows inserted as revision 0002 had them, with the ids the checks need."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.kind = kind_of(engine.url.render_as_string(hide_password=False))
        self.urls = Urls(PUBLIC_URL)
        self.ids = {name: new_id() for name in ("alice", "bob", "place", "org", "event", "project")}
        self.counts: dict[str, int] = {}

    def insert(self, table: str, **values: Any) -> None:
        now = datetime.now(UTC)
        for name in ("created", "updated"):
            if name in values and values[name] is None:
                values[name] = moment(self.kind, now)
        for key, value in values.items():
            if isinstance(value, list | dict):
                values[key] = json.dumps(value)
            elif isinstance(value, datetime):
                values[key] = moment(self.kind, value)
        columns = ", ".join(f'"{name}"' for name in values)
        params = ", ".join(f":{name}" for name in values)
        with self.engine.begin() as connection:
            connection.execute(text(f'INSERT INTO "{table}" ({columns}) VALUES ({params})'), values)
        self.counts[table] = self.counts.get(table, 0) + 1

    def fill(self) -> None:
        ids, urls, now = self.ids, self.urls, datetime.now(UTC)
        stored = {"origin": None, "created": None, "updated": None, "deleted_at": None}
        self.insert(
            "territory", id=new_id(), name="Métropole lilloise", slug="lille",
            timezone="Europe/Paris", default_language="fr", min_lat=50.5, min_lon=2.8,
            max_lat=50.8, max_lon=3.3, communes=["59350"], created=None, updated=None,
        )  # fmt: skip
        self.insert(
            "place", id=ids["place"], name="Maison de l'ESS", street="235 boulevard Paul Painlevé",
            postal_code="59000", city="Lille", insee_code="59350", country="France",
            latitude=50.6262, longitude=3.0476, precision="street",
        )  # fmt: skip
        for who, name in (("alice", "Alice"), ("bob", "Bob")):
            self.insert(
                "person", id=ids[who], ap_id=urls.person(ids[who]), **stored, username=who,
                name=name, email=f"{who}@lille.example", password_hash=hash_password("x" * 12),
                bio="", locale="fr", public_profile=True, is_admin=who == "alice", inbox=None,
                shared_inbox=None,
            )  # fmt: skip
        self.insert(
            "token", id=new_id(), person_id=ids["bob"],
            token_hash=hashlib.sha256(TOKEN.encode()).hexdigest(), created=None,
            last_used_at=None, revoked_at=None,
        )  # fmt: skip
        self.insert(
            "organisation", id=ids["org"], ap_id=urls.organisation(ids["org"]), **stored,
            username="la-cofabrik", name="La CoFabrik", kind="association",
            legal_form="association-1901", siren=None, rna=None, description="Atelier partagé",
            website=None, email=None, phone=None, logo_url=None, themes=["crafts"],
            tags=["reemploi"], place_id=ids["place"],
        )  # fmt: skip
        self.insert(
            "membership", id=new_id(), organisation_id=ids["org"], person_id=ids["alice"],
            role="admin", state="accepted", created=None, updated=None,
        )  # fmt: skip
        self.insert(
            "event", id=ids["event"], ap_id=urls.event(ids["event"]), **stored,
            name="Repair café", organisation_id=ids["org"], description="On répare ensemble",
            starts_at=now + timedelta(days=30), ends_at=now + timedelta(days=30, hours=4),
            timezone="Europe/Paris", place_id=ids["place"], online_url=None, capacity=20,
            join_mode="free", external_participation_url=None, status="confirmed",
            themes=["sharing"], tags=["reemploi"],
        )  # fmt: skip
        self.insert("eventorganiser", event_id=ids["event"], organisation_id=ids["org"], position=0)
        self.insert(
            "project", id=ids["project"], ap_id=urls.project(ids["project"]), **stored,
            name="Ressourcerie", organisation_id=ids["org"], stage="idea", description="",
            themes=["sharing"], tags=[], place_id=None,
        )  # fmt: skip
        for entity, entity_id, kind, value in (
            ("organisation", ids["org"], "theme", "crafts"),
            ("organisation", ids["org"], "tag", "reemploi"),
            ("event", ids["event"], "theme", "sharing"),
            ("event", ids["event"], "tag", "reemploi"),
            ("project", ids["project"], "theme", "sharing"),
        ):
            self.insert("label", entity_type=entity, entity_id=entity_id, kind=kind, value=value)
        self.insert(
            "contribution", id=new_id(), project_id=ids["project"], person_id=ids["bob"],
            role="member", state="accepted", created=None, updated=None,
        )  # fmt: skip
        self.insert(
            "follow", id=new_id(), person_id=ids["bob"], organisation_id=ids["org"], created=None
        )
        self.insert(
            "participation", id=new_id(), event_id=ids["event"], person_id=ids["bob"],
            state="going", created=None, updated=None,
        )  # fmt: skip
        for object_type, object_id in (("organisation", ids["org"]), ("event", ids["event"])):
            activity = new_id()
            self.insert(
                "activity", id=activity, ap_id=urls.activity(activity), type="Create",
                actor=urls.organisation(ids["org"]), object_type=object_type,
                object_id=object_id, object_url=urls.of(object_type, object_id), public=True,
                payload={}, created=None,
            )  # fmt: skip
            self.insert(
                "job", kind="index", key=f"{object_type}:{object_id}",
                payload={"type": object_type, "id": object_id}, state="pending", attempts=0,
                max_attempts=1000, next_attempt_at=now, locked_until=None, locked_by=None,
                last_error=None, created=None, updated=None, finished_at=None,
            )  # fmt: skip


def old_node(url: str) -> OldNode:
    engine = make_engine(url)
    migrate(engine, PREVIOUS)
    assert schema_revision(engine) == PREVIOUS
    node = OldNode(engine)
    node.fill()
    return node


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in SQLModel.metadata.sorted_tables
        }


def check_the_node_answers(url: str, node: OldNode, tmp_path: Path) -> None:
    """The upgraded rows, through the API: reads, the old token, the queued jobs, writes."""
    ids = node.ids
    settings = Settings(
        database_url=url,
        search_path=str(tmp_path / f"search-{node.ids['org']}.db"),
        public_url=PUBLIC_URL,
        secret_key="test-secret",
        workers=0,
    )
    runtime = build_runtime(settings)
    try:
        with TestClient(
            create_app(settings, runtime=runtime, workers=0), base_url=PUBLIC_URL
        ) as api:
            assert api.get("/readyz").status_code == 200
            org = api.get(f"/api/v1/organisations/{ids['org']}").json()
            assert org["name"] == "La CoFabrik" and org["place"]["city"] == "Lille"
            event = api.get(f"/api/v1/events/{ids['event']}").json()
            assert event["name"] == "Repair café" and event["themes"] == ["sharing"]
            assert event["place"]["latitude"] == 50.6262
            listed = api.get("/api/v1/events", params={"theme": "sharing"}).json()["items"]
            assert [item["id"] for item in listed] == [ids["event"]]
            project = api.get(f"/api/v1/projects/{ids['project']}")
            assert project.status_code == 200
            changes = api.get("/api/v1/changes").json()["items"]
            assert [change["object_id"] for change in changes] == [ids["org"], ids["event"]]

            bearer = {"Authorization": f"Bearer {TOKEN}"}
            me = api.get("/api/v1/me", headers=bearer)
            assert me.status_code == 200 and me.json()["id"] == ids["bob"]
            assert api.delete(f"/api/v1/events/{ids['event']}/participation", headers=bearer)
            again = api.post(f"/api/v1/events/{ids['event']}/participation", headers=bearer)
            assert again.status_code == 201, again.text

            assert runtime.worker(["index"]).drain() >= 2  # the jobs queued before
            hits = api.get("/api/v1/search", params={"q": "repair"}).json()["hits"]
            assert ids["event"] in [hit["id"] for hit in hits]
    finally:
        runtime.close()


def test_a_database_of_the_previous_revision_upgrades(
    new_database: NewDatabase, database_url: str, tmp_path: Path
) -> None:
    url = new_database(kind_of(database_url), migrated=False)
    node = old_node(url)

    migrate(node.engine)
    assert schema_revision(node.engine) == head_revision(node.engine)
    found = counts(node.engine)
    for table, inserted in node.counts.items():
        assert found[table] == inserted, table
    assert all(found[table] == 0 for table in ADDED)
    with node.engine.connect() as connection:
        assert connection.scalar(text("SELECT place_id FROM person WHERE username = 'bob'")) is None
    node.engine.dispose()
    check_the_node_answers(url, node, tmp_path)


def test_a_backup_of_the_previous_revision_restores_and_upgrades(
    new_database: NewDatabase,
    database_url: str,
    maillon: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    kind = kind_of(database_url)
    node = old_node(new_database(kind, migrated=False))
    archive = tmp_path / "before-upgrade.zip"
    code, out, _ = maillon(
        node.engine.url.render_as_string(hide_password=False), "backup", str(archive)
    )
    assert code == 0 and f"schema revision {PREVIOUS}" in out
    node.engine.dispose()

    target = new_database(kind, migrated=False)
    code, out, err = maillon(target, "restore", str(archive))
    assert code == 0, err
    assert f"schema migrated: {PREVIOUS} → the current revision" in out
    engine = make_engine(target)
    try:
        assert schema_revision(engine) == head_revision(engine)
        found = counts(engine)
    finally:
        engine.dispose()
    assert {table: found[table] for table in node.counts} == node.counts
    check_the_node_answers(target, node, tmp_path)

    # An archive older than a database that already has the head's schema is refused.
    code, _, err = maillon(new_database(kind), "restore", str(archive))
    assert code == 1
    assert f"the archive is at schema revision {PREVIOUS} and the database at" in err
