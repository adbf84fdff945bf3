"""The ``maillon`` command: in-process for each command, one real ``maillon serve --demo``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlmodel import col

from node import plugins
from node.cli import main
from node.db import head_revision, make_engine
from node.demo import ADMIN_EMAIL, DEMO_PASSWORD
from node.demo_data import EVENTS
from node.jobs import ClaimedJob, enqueue
from node.models import Person
from node.runtime import Runtime, build_runtime
from node.services import accounts
from node.settings import Settings
from tests.ports import free_port

SERVE_DEADLINE_SECONDS = 60.0


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite file in MAILLON_DATABASE_URL; no other MAILLON_* setting applies."""
    for name in list(os.environ):
        if name.startswith("MAILLON_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no ./maillon.toml
    url = f"sqlite:///{tmp_path / 'node.db'}"
    monkeypatch.setenv("MAILLON_DATABASE_URL", url)
    return url


@pytest.fixture
def node(db_url: str) -> Iterator[Runtime]:
    """The same database, to look at what the commands did."""
    runtime = build_runtime(Settings(database_url=db_url))
    yield runtime
    runtime.close()


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_migrate_reports_the_revision(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    head = head_revision(make_engine(db_url))
    code, out, _ = run(capsys, "migrate")
    assert code == 0
    assert f"schema migrated: empty database → {head}" in out
    code, out, _ = run(capsys, "migrate")
    assert code == 0
    assert f"schema up to date at revision {head}" in out


def test_commands_ask_for_a_migrated_database(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["jobs"], ["demo", "load"], ["worker", "--drain"]):
        code, _, err = run(capsys, *argv)
        assert code == 1, argv
        assert "run `maillon migrate` first" in err


@pytest.mark.usefixtures("cheap_hashing")
def test_admin_create_user(
    node: Runtime,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(capsys, "migrate")[0] == 0
    code, out, _ = run(
        capsys,
        "admin", "create-user", "--email", "Ada@Lille.example", "--name", "Ada Lovelace",
        "--password", "correct horse", "--admin",
    )  # fmt: skip
    assert code == 0
    assert "created account ada@lille.example @ada-lovelace (node administrator)" in out

    code, _, err = run(
        capsys, "admin", "create-user", "--email", "ada@lille.example", "--name", "Ada",
        "--password", "another horse",
    )  # fmt: skip
    assert code == 1
    assert "an account exists with this email" in err

    code, _, err = run(
        capsys, "admin", "create-user", "--email", "not-an-email", "--name", "", "--password", "x"
    )
    assert code == 2
    assert "--email:" in err and "--password:" in err and "--name:" in err

    # Without --password: asked twice on the terminal.
    answers = iter(["prompted secret", "prompted secret"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    code, out, _ = run(
        capsys, "admin", "create-user", "--email", "bob@lille.example", "--name", "Bob"
    )
    assert code == 0
    assert "@bob" in out and "administrator" not in out

    answers = iter(["one secret", "another one"])
    code, _, err = run(
        capsys, "admin", "create-user", "--email", "eve@lille.example", "--name", "Eve"
    )
    assert code == 2
    assert "the two passwords differ" in err

    with node.transaction() as session:
        people = {p.email: p for p in session.scalars(select(Person))}
        assert set(people) == {"ada@lille.example", "bob@lille.example"}
        assert people["ada@lille.example"].is_admin
        assert not people["bob@lille.example"].is_admin
        accounts.authenticate(session, "bob@lille.example", "prompted secret")


@pytest.mark.usefixtures("cheap_hashing")
def test_demo_load_then_jobs(node: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "migrate")[0] == 0
    code, out, _ = run(capsys, "demo", "load")
    assert code == 0
    for phase in ("people", "organisations", "projects", "events"):
        assert f"loading {phase}" in out
    assert f"{len(EVENTS)} events" in out
    assert ADMIN_EMAIL in out and DEMO_PASSWORD in out

    code, out, _ = run(capsys, "demo", "load")
    assert code == 0
    assert "already loaded" in out

    with node.transaction() as session:
        admin = session.scalar(select(Person).where(col(Person.email) == ADMIN_EMAIL))
        assert admin is not None and admin.is_admin
        enqueue(session, "deliver", {"inbox": "https://peer.test/inbox"}, max_attempts=1)
    [claimed] = node.queue.claim(["deliver"])
    node.queue.fail(claimed, "ConnectError: peer.test unreachable")

    code, out, _ = run(capsys, "jobs")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["KIND", "PENDING", "RUNNING", "DONE", "FAILED"]
    assert ["deliver", "0", "0", "0", "1"] in [line.split() for line in lines]
    index = next(line.split() for line in lines if line.startswith("index"))
    assert int(index[1]) > 0  # one per organisation, event and project, none run yet
    assert "last failures" in out
    assert "ConnectError: peer.test unreachable" in out

    code, out, _ = run(capsys, "jobs", "--retry-failed", "deliver")
    assert code == 0
    assert "put 1 failed deliver job(s) back in the queue" in out
    assert ["deliver", "1", "0", "0", "0"] in [line.split() for line in out.splitlines()]


@pytest.mark.usefixtures("cheap_hashing")
def test_demo_load_refuses_a_clash_and_writes_nothing(
    node: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "migrate")[0] == 0
    argv = ["admin", "create-user", "--email", ADMIN_EMAIL, "--name", "Me", "--password", "x" * 8]
    assert run(capsys, *argv)[0] == 0
    code, _, err = run(capsys, "demo", "load")
    assert code == 1
    assert "cannot load the demo: an account exists with this email" in err
    with node.transaction() as session:
        assert list(session.scalars(select(col(Person.email)))) == [ADMIN_EMAIL]


def test_worker_says_what_it_can_run(
    node: Runtime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plugins, "installed", lambda: ())  # a node with no plugin
    assert run(capsys, "migrate")[0] == 0
    code, out, _ = run(capsys, "worker", "--kinds", "deliver,index", "--drain")
    assert code == 0
    assert "job kinds with a handler: none yet" in out
    assert "no handler for deliver, index" in out
    assert "handled 0 job(s)" in out


def test_worker_runs_handlers_until_stopped(
    node: Runtime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The long-running loop, with a handler registered and the signal replaced."""
    assert run(capsys, "migrate")[0] == 0
    with node.transaction() as session:
        for n in range(5):
            enqueue(session, "index", {"type": "event", "id": str(n)})
    handled: list[str] = []
    done = threading.Event()

    def handler(job: ClaimedJob) -> None:
        handled.append(job.payload["id"])
        if len(handled) == 5:
            done.set()

    def runtime_with_handler(settings: Settings) -> Runtime:
        runtime = build_runtime(settings)
        runtime.registry.register("index", handler)
        return runtime

    @contextmanager
    def stop_when_done(stop: threading.Event) -> Iterator[None]:
        def wait() -> None:
            done.wait(timeout=30)
            stop.set()

        waiter = threading.Thread(target=wait)
        waiter.start()
        yield
        waiter.join()

    monkeypatch.setattr("node.runtime.build_runtime", runtime_with_handler)
    monkeypatch.setattr("node.cli._stop_on_signals", stop_when_done)
    code, out, _ = run(capsys, "worker", "--kinds", "index,mail", "--concurrency", "2")
    assert code == 0
    assert "job kinds with a handler: " in out and "index" in out.splitlines()[0]
    assert "no handler for mail" in out
    assert "running index in 2 thread(s)" in out
    assert out.rstrip().endswith("stopped")
    assert sorted(handled) == ["0", "1", "2", "3", "4"]
    assert node.queue.counts() == {("index", "done"): 5}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required: COMMAND"),
        (["serve", "--port", "http"], "not a whole number"),
        (["serve", "--port", "70000"], "not a port"),
        (["serve", "--workers", "2", "--no-workers"], "not allowed with"),
        (["worker", "--concurrency", "0"], "at least 1"),
        (["worker", "--kinds", ","], "at least one job kind"),
        (["admin"], "required: TASK"),
        (["admin", "create-user", "--name", "X"], "--email"),
        (["demo", "unload"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2(
    db_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for command in ("serve", "migrate", "worker", "jobs", "admin", "demo"):
        assert command in out


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MAILLON_WORKERS", "many", "workers (MAILLON_WORKERS): Input should be a valid integer"),
        ("MAILLON_SEARCH", "grep", "search (MAILLON_SEARCH)"),
        ("MAILLON_DATABASE_URL", "nosuchdb://x", "MAILLON_DATABASE_URL 'nosuchdb://x'"),
    ],
)
def test_bad_settings_exit_2(
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    code, _, err = run(capsys, "migrate")
    assert code == 2
    assert message in err


def test_broken_maillon_toml_exit_2(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "maillon.toml").write_text("workers = [\n", encoding="utf-8")
    code, _, err = run(capsys, "migrate")
    assert code == 2
    assert "maillon.toml" in err


def test_unreachable_database_exit_1(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILLON_DATABASE_URL", "sqlite:////nonexistent-dir/maillon/node.db")
    code, _, err = run(capsys, "migrate")
    assert code == 1
    assert "database error: unable to open database file" in err


def test_serve_says_when_the_port_is_taken(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run(capsys, "serve", "--port", str(port))
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in err



def test_serve_demo_end_to_end(tmp_path: Path) -> None:
    """`maillon serve --demo` as a real process: health, then the demo's events."""
    executable = Path(sys.executable).with_name("maillon")
    assert executable.exists(), f"{executable} missing: pip install -e . first"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLON_")}
    env["MAILLON_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(executable), "serve", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            with httpx.Client(base_url=base, timeout=5.0) as http:
                _wait_healthy(http, process, log_path)
                assert http.get("/readyz").status_code == 200
                answer = http.get("/api/v1/events", params={"limit": 200})
                assert answer.status_code == 200, answer.text
                items = answer.json()["items"]
                assert len(items) >= 30
                names = {item["name"] for item in items}
                assert {EVENTS[1]["name"], EVENTS[-1]["name"]} <= names
                assert all(item["url"].startswith(f"{base}/events/") for item in items)
        finally:
            process.terminate()
            try:
                returncode = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert returncode == 0, output
    assert "Traceback" not in output
    assert f"Maillon node on {base}" in output
    assert f"password for all: {DEMO_PASSWORD}" in output


def _wait_healthy(http: httpx.Client, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVE_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"maillon serve exited with {process.returncode}:\n{log}")
        try:
            if http.get("/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    log = log_path.read_text(encoding="utf-8", errors="replace")
    pytest.fail(f"/healthz did not answer within {SERVE_DEADLINE_SECONDS:.0f} s:\n{log}")
