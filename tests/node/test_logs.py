"""Logs: one JSON object (or text line) per record, each with its request's id; one
access line per request; ``maillon serve`` and ``maillon worker`` log as configured."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import APIRouter
from fastapi.testclient import TestClient

from node import cli
from node.api.app import create_app
from node.jobs import ClaimedJob, enqueue
from node.logs import configured
from node.runtime import Runtime, build_runtime
from node.settings import Settings
from tests.conftest import PUBLIC_URL

inside = logging.getLogger("tests.inside")


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    with configured("json", "INFO", stream):
        yield stream


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    """The records written, but the test client's own (httpx logs each request)."""
    found = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [entry for entry in found if not entry["logger"].startswith("httpx")]


@pytest.fixture
def app_client(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient]:
    """The node (on SQLite: logging is the same on both) with one more route that logs
    while answering."""
    shutil.copy(sqlite_template, tmp_path / "node.db")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'node.db'}",
        search_path=str(tmp_path / "search.db"),
        public_url=PUBLIC_URL,
        workers=0,
    )
    runtime = build_runtime(settings)
    router = APIRouter()

    @router.get("/logging/{word}")
    def log_something(word: str) -> dict[str, str]:
        inside.warning("answering %s", word, extra={"word": word})
        return {"word": word}

    runtime.routers.append(router)
    app = create_app(settings, runtime=runtime, workers=0)
    with TestClient(app, base_url=PUBLIC_URL) as client:
        yield client
    runtime.close()


def test_every_record_of_a_request_carries_its_id(
    app_client: TestClient, logged: io.StringIO
) -> None:
    answer = app_client.get("/api/v1/logging/bonjour?secret=1")
    assert answer.status_code == 200
    identifier = answer.headers["x-request-id"]
    assert len(identifier) == 32 and int(identifier, 16) >= 0  # uuid4 hex

    written, access = records(logged)
    assert written["logger"] == "tests.inside" and written["level"] == "WARNING"
    assert written["message"] == "answering bonjour" and written["word"] == "bonjour"
    assert written["request_id"] == identifier
    assert access["logger"] == "maillon.access"
    assert access["request_id"] == identifier
    assert access["method"] == "GET"
    assert access["route"] == "/api/v1/logging/{word}"
    assert access["path"] == "/api/v1/logging/bonjour"  # never the query string
    assert access["status"] == 200
    assert isinstance(access["duration_ms"], float)
    assert "secret" not in json.dumps(access)
    assert access["time"].endswith("+00:00")


def test_a_request_id_given_is_kept_a_bad_one_replaced(
    app_client: TestClient, logged: io.StringIO
) -> None:
    given = app_client.get("/api/v1/themes", headers={"X-Request-Id": "proxy-7f3a.1"})
    assert given.headers["x-request-id"] == "proxy-7f3a.1"
    for bad in ("has spaces", "x" * 129, "new\\nline"):
        answer = app_client.get("/api/v1/themes", headers={"X-Request-Id": bad})
        assert answer.headers["x-request-id"] != bad
        assert len(answer.headers["x-request-id"]) == 32
    ids = [entry["request_id"] for entry in records(logged)]
    assert ids[0] == "proxy-7f3a.1" and len(set(ids)) == 4


def test_errors_and_unmatched_paths_get_an_access_line(
    app_client: TestClient, logged: io.StringIO
) -> None:
    assert app_client.get("/api/v1/events/nope").status_code == 404
    assert app_client.post("/api/v1/accounts", json={}).status_code == 422
    assert app_client.get("/nowhere/at/all").status_code == 404
    lines = [(e["method"], e["route"], e["status"]) for e in records(logged)]
    assert lines == [
        ("GET", "/api/v1/events/{event_id}", 404),
        ("POST", "/api/v1/accounts", 422),
        ("GET", "unmatched", 404),
    ]


def test_probes_are_logged_at_debug_only(app_client: TestClient) -> None:
    stream = io.StringIO()
    with configured("json", "INFO", stream):
        app_client.get("/healthz")
        app_client.get("/metrics")
    assert records(stream) == []
    with configured("json", "DEBUG", stream):
        app_client.get("/readyz")
    [entry] = [e for e in records(stream) if e["logger"] == "maillon.access"]
    assert entry["route"] == "/readyz" and entry["level"] == "DEBUG"


def test_text_lines_for_people(app_client: TestClient) -> None:
    stream = io.StringIO()
    with configured("text", "INFO", stream):
        answer = app_client.get("/api/v1/logging/salut")
        logging.getLogger("tests.outside").info("no request here")
    identifier = answer.headers["x-request-id"]
    lines = [line for line in stream.getvalue().splitlines() if " httpx" not in line]
    said, access, outside = lines
    assert said.endswith(f"WARNING tests.inside: answering salut [request {identifier}]")
    assert "maillon.access: GET /api/v1/logging/salut 200 " in access
    assert access.endswith(f" ms [request {identifier}]")
    assert outside.endswith("INFO tests.outside: no request here")


def test_exceptions_are_one_json_object() -> None:
    stream = io.StringIO()
    with configured("json", "INFO", stream):
        try:
            raise ValueError("bad value")
        except ValueError:
            logging.getLogger("tests.jobs").exception("job 7 failed")
    [entry] = records(stream)
    assert entry["message"] == "job 7 failed" and "request_id" not in entry
    assert (
        entry["exception"].startswith("Traceback") and "ValueError: bad value" in entry["exception"]
    )


def test_configured_restores_the_logging_it_found() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with configured("json", "DEBUG", io.StringIO()):
        assert root.level == logging.DEBUG and len(root.handlers) == len(handlers) + 1
    assert root.handlers == handlers and root.level == level


def test_log_settings() -> None:
    assert Settings().log_format == "text" and Settings().log_level == "INFO"
    assert Settings(log_level="warning").log_level == "WARNING"
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="xml")


# --- the commands ------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in list(os.environ):
        if name.startswith("MAILLON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'node.db'}"
    monkeypatch.setenv("MAILLON_DATABASE_URL", url)
    monkeypatch.setenv("MAILLON_LOG_FORMAT", "json")
    return url


def test_the_worker_logs_json(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["migrate"]) == 0

    def broken(job: ClaimedJob) -> None:
        raise RuntimeError("peer answered 500")

    def runtime_with_handler(settings: Settings) -> Runtime:
        runtime = build_runtime(settings)
        runtime.registry.register("deliver", broken)
        return runtime

    node = build_runtime(Settings(database_url=env))
    with node.transaction() as session:
        enqueue(session, "deliver", {"inbox": "https://peer.example/inbox"})
    node.close()
    monkeypatch.setattr("node.runtime.build_runtime", runtime_with_handler)
    capsys.readouterr()
    assert cli.main(["worker", "--kinds", "deliver", "--drain"]) == 0
    out, err = capsys.readouterr()
    assert "handled 1 job(s)" in out
    [entry] = [json.loads(line) for line in err.splitlines()]
    assert entry["logger"] == "node.jobs" and entry["level"] == "ERROR"
    assert "RuntimeError: peer answered 500" in entry["exception"]


def test_serve_hands_uvicorn_to_our_logging(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def run(server: uvicorn.Server, sockets: object = None) -> None:
        seen["access_log"] = server.config.access_log
        seen["log_config"] = server.config.log_config
        logging.getLogger("uvicorn.error").info(
            "Uvicorn running", extra={"color_message": "\x1b[1mUvicorn\x1b[0m running"}
        )
        logging.getLogger("uvicorn.access").info("an access line uvicorn would write")

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setattr(cli, "_check_port_free", lambda host, port: None)
    assert cli.main(["serve", "--no-workers"]) == 0
    assert seen == {"access_log": False, "log_config": None}
    err = capsys.readouterr().err
    [entry] = [json.loads(line) for line in err.splitlines()]
    assert entry == entry | {"logger": "uvicorn.error", "message": "Uvicorn running"}
    assert "color_message" not in entry
