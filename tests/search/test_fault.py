"""Meilisearch stops while the node keeps writing: nothing is lost once it is back."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from node.api.app import create_app
from node.dbtypes import utcnow
from node.jobs import JobQueue, Worker
from node.runtime import build_runtime
from node.settings import Settings
from search.indexer import drift
from search.service import SearchService
from tests.conftest import PUBLIC_URL, World
from tests.search.conftest import start_meili, stop_meili


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def test_writes_during_an_outage_are_indexed_after_it(
    meili_bin: Path, tmp_path: Path, database_url: str
) -> None:
    server = start_meili(meili_bin, tmp_path / "meili")
    settings = Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        secret_key="test",
        workers=0,
        search="meilisearch",
        meili_url=server.url,
        meili_key=server.key,
    )
    runtime = build_runtime(settings)
    clock = Clock()
    worker = Worker(JobQueue(runtime.sessions, clock=clock), runtime.registry)
    service: SearchService = runtime.extensions["search"]
    try:
        with TestClient(
            create_app(settings, runtime=runtime, workers=0), base_url=PUBLIC_URL
        ) as client:
            world = World(client)
            camille = world.account("Camille")
            org = world.organisation(camille, name="SuperQuinquin")
            clock.now = utcnow()
            worker.drain()
            assert drift(runtime, service).total == 0

            stop_meili(server)  # the engine goes away…
            events = [
                world.event(camille, org["id"], name=f"Permanence numéro {n}") for n in range(99)
            ]
            assert (
                client.delete(
                    f"/api/v1/events/{events[0]['id']}", headers=World.auth(camille)
                ).status_code
                == 204
            )  # …while 100 writes are acknowledged
            clock.now = utcnow()
            worker.drain()  # every index job fails and is scheduled again
            assert client.get("/api/v1/search", params={"q": "permanence"}).status_code == 503

            port = urlsplit(server.url).port
            server = start_meili(meili_bin, tmp_path / "meili", port=port, key=server.key)
            clock.now = utcnow() + timedelta(minutes=2)  # the retries come due
            worker.drain()

            assert runtime.queue.counts().get(("index", "pending"), 0) == 0
            assert drift(runtime, service).total == 0
            found = client.get("/api/v1/search", params={"q": "permanence", "limit": 200})
            assert found.json()["total"] == 98
            assert events[0]["id"] not in {h["id"] for h in found.json()["hits"]}
    finally:
        runtime.close()
        stop_meili(server)
