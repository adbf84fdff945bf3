"""A node deployed as a municipality would, on loopback, under load and faults.

Real processes: the local PostgreSQL (a fresh database), a Meilisearch, node A as two web
processes (``maillon serve --no-workers``) and two worker processes (``maillon worker``),
and node B (``maillon serve``, SQLite, embedded search) that follows A. Client threads
drive a bounded mixed load — registrations, organisations and events, joins, searches;
federation deliveries to B follow from it — while fault threads kill (SIGKILL) one worker,
one web process and Meilisearch at fixed times and restart them with the same commands.

Then: every acknowledged write is in A's database exactly once, A's job queue drains with
no failed job (and no job ever erred but for the outages), ``maillon reindex --check``
finds no drift, B holds and finds every event of A, and no request got a 5xx (nor a 4xx)
unless it overlapped the outage of a process it depended on. A POST whose connection
died with its process is "unknown": it may be stored, at most once.

Needs ``MAILLON_TEST_DATABASE_URL`` (a PostgreSQL server where we may create databases)
and the Meilisearch binary (``make meili`` or ``MAILLON_MEILI_BIN``); skipped loudly
without them (failed in CI). ``pytest -s -m topology`` prints a summary.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from node.services.outbox import domain_of
from tests.ports import free_port
from tests.search.conftest import DEFAULT_BIN, MeiliServer, start_meili

pytestmark = pytest.mark.topology

MAILLON = Path(sys.executable).with_name("maillon")
PG_URL = os.environ.get("MAILLON_TEST_DATABASE_URL", "")
LOAD_SECONDS = 32.0
CLIENT_THREADS = 4
START_DEADLINE = 180.0
DRAIN_DEADLINE = 120.0
FAULTS_DEADLINE = 240.0
AFTER_FAULTS_SECONDS = 4.0
CONVERGE_DEADLINE = 90.0
#: a killed worker's claimed jobs come back after this lease (production: 300 s)
LEASE_SECONDS = 10
#: the faults, in seconds after the load starts: when killed, when restarted
KILL_WORKER_AT, RESTART_WORKER_AT = 6.0, 9.0
KILL_WEB_AT, RESTART_WEB_AT = 12.0, 15.0
KILL_MEILI_AT, RESTART_MEILI_AT = 21.0, 23.0
PASSWORD = "correct horse battery"
FIRST_NAMES = ("Camille", "Nadia", "Louis", "Inès")
SEARCH_WORDS = ("atelier", "velo", "repair", "compost", "concert", "jardin", "topo", "quartier")
THEMES = ("food", "culture", "sharing", "mobility", "environment", "solidarity", "sport")
CITIES = (
    ("Lille", "59000", 50.6292, 3.0573),
    ("Roubaix", "59100", 50.6942, 3.1746),
    ("Tourcoing", "59200", 50.7239, 3.1612),
    ("Villeneuve-d'Ascq", "59650", 50.6233, 3.1450),
)


#: the errors a job may meet during the outages (then succeed when retried): the search
#: engine away, a delivery timing out while a process starves (B is never down: a 5xx
#: from its inbox is a bug)
EXPECTED_JOB_ERROR = re.compile(
    r"search: Meilisearch (at \S+ (unreachable|timed out)|refused .*: 5\d\d)"
    r"|https?://\S+: (timed out|.*(Connect|Read|Write|Pool)(Error|Timeout))"
    r"|circuit open"
)


def _missing(reason: str) -> None:
    message = f"!!! TOPOLOGY TEST NOT RUN: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " CI must run it.", pytrace=False)
    pytest.skip(message)


# --- processes ---------------------------------------------------------------------------



def _until(
    check: Callable[[], bool],
    what: str,
    deadline_s: float,
    step: float = 0.1,
    detail: Callable[[], str] | None = None,
) -> float:
    """Poll ``check`` until true; the seconds it took, or fail after ``deadline_s``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > deadline_s:
            more = f": {detail()}" if detail else ""
            pytest.fail(f"{what} did not happen within {deadline_s:.0f} s{more}", pytrace=False)
        time.sleep(step)
    return time.monotonic() - started


@dataclass
class Proc:
    """One ``maillon`` process, restartable with the same command and environment."""

    name: str
    args: list[str]
    env: dict[str, str]
    workdir: Path
    url: str | None = None  # a web process: its base URL
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n=== start {self.starts}: maillon {' '.join(self.args)}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [str(MAILLON), *self.args], cwd=self.workdir, env=self.env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ready(self) -> bool:
        if not self.alive():
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])
            raise AssertionError(
                f"{self.name} exited ({self.process and self.returncode()}):\n{tail}"
            )
        if self.url is None:  # a worker: up once it says it runs
            marker = f"=== start {self.starts}:"
            text = self.log.read_text(errors="replace")
            return "running " in text[text.rfind(marker) :]
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2.0).status_code == 200
        except httpx.TransportError:
            return False

    def returncode(self) -> int | None:
        return self.process.poll() if self.process else None

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_ready(procs: list[Proc], deadline_s: float = START_DEADLINE) -> None:
    _until(
        lambda: all(p.ready() for p in procs),
        ", ".join(p.name for p in procs) + " ready",
        deadline_s,
        step=0.2,
    )


def _maillon(env: dict[str, str], workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAILLON), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )


# --- the load's record -------------------------------------------------------------------


@dataclass
class Outages:
    """When each process was down: (name, from, to) in monotonic seconds."""

    windows: list[tuple[str, float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, start: float, end: float) -> None:
        with self.lock:
            self.windows.append((name, start, end))

    def overlapping(self, names: set[str], start: float, end: float) -> list[str]:
        with self.lock:
            return [n for n, a, b in self.windows if n in names and start <= b and end >= a]


@dataclass
class Answer:
    started: float
    ended: float
    target: str  # web1 / web2 / b
    method: str
    route: str
    status: int
    body: str = ""


@dataclass
class Record:
    answers: list[Answer] = field(default_factory=list)
    connect_errors: Counter[str] = field(default_factory=Counter)
    retried_reads: int = 0
    accounts: dict[str, str] = field(default_factory=dict)  # email -> person id
    organisations: set[str] = field(default_factory=set)
    events: dict[str, str] = field(default_factory=dict)  # id -> name
    joins: set[tuple[str, str]] = field(default_factory=set)  # (event id, person id)
    #: POSTs whose answer was lost (the connection broke after sending): 0 or 1 row each
    unknown: list[tuple[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)


class Lost(Exception):
    """A POST whose outcome is unknown: the connection broke after it was sent."""


class Client:
    """One load thread's HTTP client: spreads requests across A's web processes; a
    connection refused (a killed process) is counted and the request goes to the other."""

    def __init__(self, webs: list[Proc], record: Record, rng: random.Random) -> None:
        self.webs = webs
        self.record = record
        self.rng = rng
        self.http = {w.name: httpx.Client(base_url=w.url or "", timeout=60.0) for w in webs}
        self.turn = itertools.cycle(range(len(webs)))

    def close(self) -> None:
        for http in self.http.values():
            http.close()

    def call(
        self, method: str, path: str, route: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        first = next(self.turn)
        order = [self.webs[(first + n) % len(self.webs)] for n in range(len(self.webs))]
        for attempt in range(40):
            web = order[attempt % len(order)]
            started = time.monotonic()
            try:
                response = self.http[web.name].request(method, path, headers=headers, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                with self.record.lock:
                    self.record.connect_errors[web.name] += 1
                if attempt % len(order) == len(order) - 1:
                    time.sleep(0.2)  # every web process refused: wait a little
                continue
            except httpx.TransportError as error:  # the process died with our request
                if method != "GET":
                    raise Lost(f"{method} {route} on {web.name}: {error!r}") from None
                with self.record.lock:
                    self.record.retried_reads += 1
                continue
            body = response.text if response.status_code >= 400 else ""
            self.record.answer(
                Answer(started, time.monotonic(), web.name, method, route,
                       response.status_code, body[:300])
            )  # fmt: skip
            return response
        raise AssertionError(f"{method} {route}: no web process answered in 40 attempts")


# --- the workload ------------------------------------------------------------------------


@dataclass
class Shared:
    """What the load threads share: the citizens and events acknowledged so far."""

    citizens: list[tuple[str, str]] = field(default_factory=list)  # (person id, token)
    events: list[str] = field(default_factory=list)
    tried_joins: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class LoadThread(threading.Thread):
    def __init__(
        self, n: int, client: Client, shared: Shared, record: Record, stop: threading.Event
    ) -> None:
        super().__init__(name=f"load-{n}", daemon=True)
        self.n = n
        self.client = client
        self.shared = shared
        self.record = record
        self.stop = stop
        self.rng = client.rng
        self.error: BaseException | None = None
        self.creator: tuple[str, str] | None = None  # (token, organisation id)
        self.made = 0

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    self.step()
                except Lost as lost:
                    with self.record.lock:
                        self.record.unknown.append((str(lost), None))
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.client.close()

    def step(self) -> None:
        roll = self.rng.random()
        if self.creator is None:
            self.setup_creator()
        elif roll < 0.20:
            self.register()
        elif roll < 0.40:
            self.create_event()
        elif roll < 0.65:
            self.join_event()
        else:
            self.search()

    def register(self) -> tuple[str, str] | None:
        email = f"topo-{uuid.uuid4().hex[:12]}@lille.example"
        # common first names: the threads register the same names at the same moments
        body = {"email": email, "password": PASSWORD, "name": self.rng.choice(FIRST_NAMES)}
        try:
            made = self.client.call("POST", "/api/v1/accounts", "POST /accounts", json=body)
        except Lost:
            with self.record.lock:
                self.record.unknown.append(("account", email))
            return None
        if made.status_code != 201:
            return None
        with self.record.lock:
            self.record.accounts[email] = made.json()["id"]
        login = {"email": email, "password": PASSWORD}
        token = self.client.call("POST", "/api/v1/tokens", "POST /tokens", json=login)
        if token.status_code != 201:
            return None
        person = (made.json()["id"], token.json()["token"])
        with self.shared.lock:
            self.shared.citizens.append(person)
        return person

    def setup_creator(self) -> None:
        person = self.register()
        if person is None:
            return
        city, postal, _, _ = self.rng.choice(CITIES)
        body = {
            "name": f"Collectif topo {self.n} {uuid.uuid4().hex[:6]}",
            "kind": "association",
            "themes": self.rng.sample(THEMES, 2),
            "place": {"city": city, "postal_code": postal},
        }
        try:
            org = self.client.call(
                "POST", "/api/v1/organisations", "POST /organisations", token=person[1], json=body
            )
        except Lost:
            with self.record.lock:
                self.record.unknown.append(("organisation", body["name"]))
            return
        if org.status_code == 201:
            with self.record.lock:
                self.record.organisations.add(org.json()["id"])
            self.creator = (person[1], org.json()["id"])

    def create_event(self) -> None:
        assert self.creator is not None
        token, org_id = self.creator
        self.made += 1
        city, postal, _, _ = self.rng.choice(CITIES)
        starts = f"2030-0{1 + self.rng.randrange(9)}-{1 + self.rng.randrange(27):02d}"
        name = (
            f"{self.rng.choice(SEARCH_WORDS).capitalize()} topo {self.n}-{self.made} "
            f"{uuid.uuid4().hex[:6]}"
        )
        body = {
            "name": name,
            "organisation_id": org_id,
            "starts_at": f"{starts}T18:00:00",
            "ends_at": f"{starts}T20:00:00",
            "timezone": "Europe/Paris",
            "description": "Rencontre ouverte à toutes et tous.",
            "place": {"name": "Maison de quartier", "city": city, "postal_code": postal},
            "themes": self.rng.sample(THEMES, 1 + self.rng.randrange(2)),
            "tags": ["topologie"],
        }
        try:
            made = self.client.call(
                "POST", "/api/v1/events", "POST /events", token=token, json=body
            )
        except Lost:
            with self.record.lock:
                self.record.unknown.append(("event", name))
            return
        if made.status_code == 201:
            event_id = made.json()["id"]
            with self.record.lock:
                self.record.events[event_id] = name
            with self.shared.lock:
                self.shared.events.append(event_id)

    def join_event(self) -> None:
        with self.shared.lock:
            if not self.shared.citizens or not self.shared.events:
                pair = None
            else:
                for _ in range(10):
                    person_id, token = self.rng.choice(self.shared.citizens)
                    event_id = self.rng.choice(self.shared.events)
                    if (event_id, person_id) not in self.shared.tried_joins:
                        self.shared.tried_joins.add((event_id, person_id))
                        pair = (event_id, person_id, token)
                        break
                else:
                    pair = None
        if pair is None:
            self.search()
            return
        event_id, person_id, token = pair
        try:
            joined = self.client.call(
                "POST", f"/api/v1/events/{event_id}/participation", "POST /participation",
                token=token,
            )  # fmt: skip
        except Lost:
            with self.record.lock:
                self.record.unknown.append(("join", (event_id, person_id)))
            return
        if joined.status_code == 201:
            with self.record.lock:
                self.record.joins.add((event_id, person_id))

    def search(self) -> None:
        _, _, lat, lon = self.rng.choice(CITIES)
        params: dict[str, Any] = {"limit": self.rng.choice([10, 20, 50])}
        kind = self.rng.randrange(5)
        if kind == 0:
            params["q"] = self.rng.choice(SEARCH_WORDS)
        elif kind == 1:
            params |= {"themes": self.rng.choice(THEMES), "sort": "date"}
        elif kind == 2:
            params |= {"lat": lat, "lon": lon, "radius_km": self.rng.choice([2, 5, 10])}
        elif kind == 3:
            params |= {"q": "topo", "types": "event", "sort": "date", "start": "2030-01-01"}
        else:
            params |= {"lat": lat, "lon": lon, "sort": "distance", "types": "event"}
        self.client.call("GET", "/api/v1/search", "GET /search", params=params)


# --- the faults --------------------------------------------------------------------------


class Fault(threading.Thread):
    """At ``kill_at`` s after ``t0``, SIGKILL a process; at ``restart_at``, start it again
    with the same command; its outage lasts until it is ready again."""

    def __init__(
        self, name: str, t0: float, kill_at: float, restart_at: float,
        kill: Callable[[], None], restart: Callable[[], None], outages: Outages,
    ) -> None:  # fmt: skip
        super().__init__(name=f"fault-{name}", daemon=True)
        self.target_name = name
        self.t0 = t0
        self.kill_at = kill_at
        self.restart_at = restart_at
        self.kill = kill
        self.restart = restart
        self.outages = outages
        self.error: BaseException | None = None
        self.log: list[str] = []

    def at(self, seconds: float) -> None:
        delay = self.t0 + seconds - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def note(self, what: str) -> None:
        self.log.append(f"{what} at {time.monotonic() - self.t0:.1f} s")

    def run(self) -> None:
        try:
            self.at(self.kill_at)
            down = time.monotonic()
            self.kill()
            self.note(f"kill -9 {self.target_name}")
            self.at(self.restart_at)
            self.note("restart")
            self.restart()  # returns once ready
            self.outages.add(self.target_name, down, time.monotonic())
            self.note("ready")
        except BaseException as error:
            self.error = error


def _faults(
    t0: float, worker: Proc, web: Proc, meili: list[MeiliServer], meili_bin: Path,
    meili_dir: Path, outages: Outages,
) -> list[Fault]:  # fmt: skip
    def restart(proc: Proc) -> Callable[[], None]:
        def run() -> None:
            proc.start()
            _wait_ready([proc])

        return run

    def kill_meili() -> None:
        meili[-1].process.send_signal(signal.SIGKILL)
        meili[-1].process.wait()

    def restart_meili() -> None:
        port = urlsplit(meili[-1].url).port
        meili.append(start_meili(meili_bin, meili_dir, port=port, key=meili[-1].key))

    return [
        Fault(worker.name, t0, KILL_WORKER_AT, RESTART_WORKER_AT, worker.kill9,
              restart(worker), outages),
        Fault(web.name, t0, KILL_WEB_AT, RESTART_WEB_AT, web.kill9, restart(web), outages),
        Fault("meilisearch", t0, KILL_MEILI_AT, RESTART_MEILI_AT, kill_meili, restart_meili,
              outages),
    ]  # fmt: skip


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def meili_binary() -> Path:
    override = os.environ.get("MAILLON_MEILI_BIN")
    path = Path(override) if override else DEFAULT_BIN
    if not (path.is_file() and os.access(path, os.X_OK)):
        _missing(f"no Meilisearch binary at {path}: run `make meili` or set MAILLON_MEILI_BIN.")
    return path


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the server of MAILLON_TEST_DATABASE_URL, dropped after."""
    if not PG_URL:
        _missing("it needs PostgreSQL: set MAILLON_TEST_DATABASE_URL (CI sets it).")
    import psycopg

    server = urlsplit(PG_URL.replace("postgresql+psycopg://", "postgresql://"))
    admin_url = server._replace(path="/postgres").geturl()
    name = f"maillon_topo_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _base_env(pycache: Path) -> dict[str, str]:
    """No MAILLON_* from outside; compiled modules cached (every restart imports the
    whole node: without a cache, as with PYTHONDONTWRITEBYTECODE, that is seconds of CPU)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLON_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


# --- the test ----------------------------------------------------------------------------


def test_node_topology_holds_load_and_faults(
    tmp_path: Path, meili_binary: Path, pg_database: str
) -> None:
    assert MAILLON.exists(), f"{MAILLON} missing: pip install -e . first"
    import psycopg

    timings: dict[str, float] = {}
    started = time.monotonic()
    meili_dir = tmp_path / "meili"
    meili: list[MeiliServer] = [start_meili(meili_binary, meili_dir)]  # the last one runs
    web_ports = [free_port(), free_port()]
    a_url = f"http://127.0.0.1:{web_ports[0]}"
    a_env = _base_env(tmp_path / "pycache") | {
        "MAILLON_DATABASE_URL": pg_database,
        "MAILLON_PUBLIC_URL": a_url,
        "MAILLON_SECRET_KEY": "topology-secret-a",
        "MAILLON_SEARCH": "meilisearch",
        "MAILLON_MEILI_URL": meili[0].url,
        "MAILLON_MEILI_KEY": meili[0].key,
        "MAILLON_FEDERATION_ALLOW_PRIVATE": "true",
        "MAILLON_FEDERATION_TIMEOUT_SECONDS": "5",
        "MAILLON_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "MAILLON_LOG_LEVEL": "WARNING",
    }
    b_port = free_port()
    b_url = f"http://127.0.0.1:{b_port}"
    b_db = tmp_path / "b.db"
    b_env = _base_env(tmp_path / "pycache") | {
        "MAILLON_DATABASE_URL": f"sqlite:///{b_db}",
        "MAILLON_PUBLIC_URL": b_url,
        "MAILLON_SECRET_KEY": "topology-secret-b",
        "MAILLON_FEDERATION_ALLOW_PRIVATE": "true",
        "MAILLON_WORKERS": "1",
        "MAILLON_LOG_LEVEL": "WARNING",
    }
    a_workdir = tmp_path / "a"
    b_workdir = tmp_path / "b"
    a_workdir.mkdir()
    b_workdir.mkdir()
    webs = [
        Proc(f"web{n + 1}", ["serve", "--no-workers", "--port", str(port)], a_env, a_workdir,
             url=f"http://127.0.0.1:{port}")
        for n, port in enumerate(web_ports)
    ]  # fmt: skip
    workers = [
        Proc(f"worker{n + 1}", ["worker", "--concurrency", "2"], a_env, a_workdir) for n in range(2)
    ]
    node_b = Proc("b", ["serve", "--port", str(b_port)], b_env, b_workdir, url=b_url)
    everything = [*webs, *workers, node_b]
    outages = Outages()
    record = Record()
    stop = threading.Event()  # the load threads run until it is set
    try:
        migrated = _maillon(a_env, a_workdir, "migrate")
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        for proc in everything:
            proc.start()
        _wait_ready(everything)
        timings["start"] = time.monotonic() - started
        print(f"\ntopology: processes ready after {timings['start']:.1f} s", flush=True)

        followed = _maillon(b_env, b_workdir, "peers", "follow", a_url)
        assert followed.returncode == 0, followed.stdout + followed.stderr
        a_domain = domain_of(a_url)

        def accepted() -> bool:  # B's peer row for A (the CLI would cost seconds a poll)
            with sqlite3.connect(f"file:{b_db}?mode=ro", uri=True, timeout=30) as b:
                row = b.execute("SELECT following FROM peer WHERE domain = ?", (a_domain,))
                return row.fetchone() == ("accepted",)

        timings["follow accepted"] = _until(accepted, "A accepting B's follow", 60, step=0.2)
        print(f"topology: B follows A after {timings['follow accepted']:.1f} s", flush=True)

        # --- the load, with the faults -------------------------------------------------
        shared = Shared()
        t0 = time.monotonic()
        threads = [
            LoadThread(n, Client(webs, record, random.Random(n)), shared, record, stop)
            for n in range(CLIENT_THREADS)
        ]
        faults = _faults(t0, workers[0], webs[1], meili, meili_binary, meili_dir, outages)
        for thread in [*threads, *faults]:
            thread.start()
        # The load lasts LOAD_SECONDS, and goes on AFTER_FAULTS_SECONDS once everything
        # killed is back (restarts are slow on a busy machine).
        for fault in faults:
            fault.join(timeout=FAULTS_DEADLINE)
            assert not fault.is_alive(), f"{fault.name} took over {FAULTS_DEADLINE} s"
            if fault.error is not None:
                raise fault.error
        time.sleep(max(AFTER_FAULTS_SECONDS, t0 + LOAD_SECONDS - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
            assert not thread.is_alive(), f"{thread.name} did not finish"
        for thread in threads:
            if thread.error is not None:
                raise thread.error
        timings["load"] = time.monotonic() - t0

        # --- drain: every job of A done -------------------------------------------------
        with psycopg.connect(pg_database, autocommit=True) as db:

            def waiting() -> list[tuple[Any, ...]]:
                return db.execute(
                    "SELECT kind, state, count(*), max(attempts), max(next_attempt_at) "
                    "FROM job WHERE state IN ('pending', 'running') GROUP BY 1, 2"
                ).fetchall()

            drain_started = time.monotonic()
            _until(
                lambda: not waiting(),
                "A's job queue draining",
                DRAIN_DEADLINE,
                step=0.25,
                detail=lambda: repr(waiting()),
            )
            timings["drain"] = time.monotonic() - drain_started
            job_counts = dict(
                ((kind, state), n)
                for kind, state, n in db.execute(
                    "SELECT kind, state, count(*) FROM job GROUP BY kind, state ORDER BY 1, 2"
                )
            )
            failed = db.execute(
                "SELECT id, kind, attempts, last_error FROM job WHERE state = 'failed'"
            ).fetchall()
            retried = db.execute(
                "SELECT kind, attempts, count(*) FROM job WHERE attempts > 1 "
                "GROUP BY kind, attempts ORDER BY 1, 2"
            ).fetchall()
            errors = db.execute(
                "SELECT kind, left(last_error, 120), count(*) FROM job "
                "WHERE last_error IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 8"
            ).fetchall()
            # A job's last error stays after it succeeds: any but the outages' is a bug
            # (e.g. a unique violation between two workers), even when a retry hid it.
            unexpected = [
                (kind, error)
                for kind, error in db.execute(
                    "SELECT kind, last_error FROM job WHERE last_error IS NOT NULL"
                )
                if not EXPECTED_JOB_ERROR.match(error)
            ]

            # --- every acknowledged write, exactly once --------------------------------
            problems: list[str] = []
            emails = list(record.accounts)
            found = dict(
                db.execute(
                    "SELECT email, count(*) FROM person WHERE email = ANY(%s) GROUP BY email",
                    (emails,),
                ).fetchall()
            )
            problems += [f"account {e}: {found.get(e, 0)} rows" for e in emails
                         if found.get(e, 0) != 1]  # fmt: skip
            by_name = dict(
                db.execute(
                    "SELECT name, count(*) FROM event WHERE deleted_at IS NULL "
                    "AND origin IS NULL GROUP BY name"
                ).fetchall()
            )
            present = {
                row[0]
                for row in db.execute(
                    "SELECT id FROM event WHERE id = ANY(%s)", (list(record.events),)
                )
            }
            for event_id, name in record.events.items():
                if event_id not in present or by_name.get(name, 0) != 1:
                    problems.append(f"event {event_id} {name!r}: {by_name.get(name, 0)} rows")
            orgs = {
                row[0]
                for row in db.execute(
                    "SELECT id FROM organisation WHERE id = ANY(%s)", (list(record.organisations),)
                )
            }
            problems += [f"organisation {o} missing" for o in record.organisations - orgs]
            joined = Counter(
                (event_id, person_id)
                for event_id, person_id in db.execute(
                    "SELECT event_id, person_id FROM participation WHERE event_id = ANY(%s)",
                    (list(record.events),),
                )
            )
            problems += [f"participation {pair}: {joined[pair]} rows" for pair in record.joins
                         if joined[pair] != 1]  # fmt: skip
            problems += [f"participation {pair}: {n} rows" for pair, n in joined.items() if n > 1]
            a_events = {
                row[0]
                for row in db.execute(
                    "SELECT ap_id FROM event WHERE origin IS NULL AND deleted_at IS NULL"
                )
            }

        # --- search drift ---------------------------------------------------------------
        check = _maillon(a_env, a_workdir, "reindex", "--check")

        # --- B converged ------------------------------------------------------------------
        def b_copies() -> set[str]:
            with sqlite3.connect(f"file:{b_db}?mode=ro", uri=True, timeout=30) as b:
                return {
                    row[0]
                    for row in b.execute(
                        "SELECT ap_id FROM event WHERE origin = ? AND deleted_at IS NULL",
                        (a_domain,),
                    )
                }

        def b_searchable() -> int:
            params = {"types": "event", "origin": a_domain, "limit": 1, "start": "2030-01-01"}
            found = httpx.get(f"{b_url}/api/v1/search", params=params, timeout=30)
            assert found.status_code == 200, found.text
            total: int = found.json()["total"]
            return total

        converge_started = time.monotonic()
        _until(
            lambda: a_events <= b_copies() and b_searchable() == len(a_events),
            f"B holding and finding A's {len(a_events)} events",
            CONVERGE_DEADLINE,
            step=0.5,
            detail=lambda: (
                f"{len(a_events - b_copies())} missing in B's database, "
                f"{b_searchable()} found by B's search"
            ),
        )
        timings["converge"] = time.monotonic() - converge_started
        with sqlite3.connect(f"file:{b_db}?mode=ro", uri=True, timeout=30) as b:
            b_failed = b.execute(
                "SELECT id, kind, attempts, last_error FROM job WHERE state = 'failed'"
            ).fetchall()
            unexpected += [
                (f"{kind} on B", error)
                for kind, error in b.execute(
                    "SELECT kind, last_error FROM job WHERE last_error IS NOT NULL"
                )
                if not EXPECTED_JOB_ERROR.match(error)
            ]

        # --- 5xx only while a process they needed was down --------------------------------
        needs: dict[str, set[str]] = {"GET /search": {"meilisearch"}}
        excused: Counter[str] = Counter()
        unexcused: list[Answer] = []
        status_counts: Counter[int] = Counter(a.status for a in record.answers)
        for answer in record.answers:
            if answer.status < 500:
                continue
            why = outages.overlapping(
                {answer.target, *needs.get(answer.route, set())}, answer.started, answer.ended
            )
            if why:
                excused[f"{answer.status} {answer.route} ({'+'.join(why)} down)"] += 1
            else:
                unexcused.append(answer)
        client_errors = [a for a in record.answers if 400 <= a.status < 500]

        # --- summary ----------------------------------------------------------------------
        total_s = time.monotonic() - started
        per_route = Counter(a.route for a in record.answers)
        latency = {}
        for route in sorted(per_route):
            ms = sorted((a.ended - a.started) * 1000 for a in record.answers if a.route == route)
            latency[route] = f"p50 {ms[len(ms) // 2]:.0f} / p95 {ms[int(len(ms) * 0.95)]:.0f} ms"
        lines = [
            "",
            "topology: A = PostgreSQL + Meilisearch + 2 web processes + 2 workers x 2 threads; "
            f"B (SQLite, embedded search) following A as {a_domain}",
            f"load: {CLIENT_THREADS} threads for {timings['load']:.1f} s, "
            f"{len(record.answers)} answers ({len(record.answers) / timings['load']:.0f}/s): "
            + ", ".join(f"{r} {n}" for r, n in sorted(per_route.items())),
            "latency: " + "; ".join(f"{r} {v}" for r, v in latency.items()),
            f"acknowledged: {len(record.accounts)} accounts, {len(record.organisations)} "
            f"organisations, {len(record.events)} events, {len(record.joins)} joins; "
            f"unknown outcome (connection lost after sending): {len(record.unknown)}",
            f"statuses: {dict(sorted(status_counts.items()))}; 5xx excused: {dict(excused)}; "
            f"connection refused (retried on the other web): {dict(record.connect_errors)}; "
            f"reads retried: {record.retried_reads}",
            "faults: " + "; ".join(", ".join(f.log) for f in faults),
            "jobs on A: "
            + ", ".join(f"{k}/{s} {n}" for (k, s), n in job_counts.items())
            + "; tries>1: "
            + ", ".join(f"{k} x{a}: {n}" for k, a, n in retried),
            "errors seen by jobs: " + "; ".join(f"{k} {n}x {e!r}" for k, e, n in errors),
            f"reindex --check: {check.stdout.strip()} (exit {check.returncode})",
            f"B holds {len(b_copies())} events of {a_domain} (A has {len(a_events)})",
            "timings: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
            + f"; total {total_s:.1f} s",
        ]
        print("\n".join(lines))

        assert not problems, "acknowledged writes not there exactly once:\n" + "\n".join(
            problems[:50]
        )
        for kind, what in record.unknown:
            if kind == "event":
                assert by_name.get(what, 0) <= 1, f"event {what!r} stored {by_name[what]} times"
        assert not failed, "failed jobs on A:\n" + "\n".join(
            f"  {job_id} {kind} after {n} tries: {error}" for job_id, kind, n, error in failed
        )
        assert not b_failed, "failed jobs on B:\n" + "\n".join(
            f"  {job_id} {kind} after {n} tries: {error}" for job_id, kind, n, error in b_failed
        )
        assert not unexpected, "jobs failed for other reasons than the outages:\n" + "\n".join(
            f"  {kind}: {error[:500]}" for kind, error in unexpected[:10]
        )
        assert check.returncode == 0 and "drift: 0 " in check.stdout, check.stdout + check.stderr
        assert not unexcused, "5xx while every process was up:\n" + "\n".join(
            f"  {a.status} {a.route} on {a.target} at t={a.started - t0:.1f}s: {a.body}"
            for a in unexcused[:20]
        )
        assert not client_errors, "4xx on valid requests:\n" + "\n".join(
            f"  {a.status} {a.route} on {a.target}: {a.body}" for a in client_errors[:20]
        )
        assert record.events and record.joins and record.accounts, "the load wrote nothing"
    finally:
        stop.set()
        for proc in everything:
            proc.stop()
        for server in meili:
            if server.process.poll() is None:
                server.process.terminate()
                try:
                    server.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.process.kill()
                    server.process.wait()
