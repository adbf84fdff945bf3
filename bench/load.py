"""Load benchmark: a node deployed at scale (PostgreSQL, Meilisearch, web and worker
processes) under a mixed citizen workload, on one and on two web processes.

Not a test: it prints figures and asserts nothing about timing. What it does:

1. creates a fresh PostgreSQL database (``maillon_bench_<random>``, dropped at the end)
   on the server of ``--database-url`` (default ``MAILLON_TEST_DATABASE_URL``), runs
   ``maillon migrate`` and ``maillon demo load``, then bulk-inserts a territory
   (``--organisations``, ``--events``, ``--people`` with registrations, 300 citizens
   with API tokens, one publisher admin per organisation). The bulk insert bypasses the
   write path **for data generation only**; ``maillon reindex`` then fills Meilisearch;
2. starts Meilisearch (the pinned binary, ``make meili``) and ``--worker-processes``
   ``maillon worker --concurrency N`` processes, which stay up for the whole run;
3. for 1, then 2 web processes (``maillon serve --no-workers`` on their own ports, same
   ``MAILLON_PUBLIC_URL``): starts them, and runs the load generator — a separate
   process, asyncio over raw keep-alive HTTP/1.1 sockets, ``--connections`` spread over
   the web processes — for ``--warmup`` then ``--duration`` seconds. Each request is
   drawn from this mix:

   - 80 % reads: ``GET /api/v1/search`` with varied parameters (40 %), ``GET
     /api/v1/events/{id}`` (20 %), the HTML pages ``/events/{id}`` (12 %) and ``/``
     (8 %, half of them with a query);
   - 15 % registrations and joins: a registration (``POST /api/v1/accounts`` then
     ``POST /api/v1/tokens``, 3 % — two requests) or a join (``POST
     /api/v1/events/{id}/participation`` with a citizen's token, 12 %);
   - 5 % publications: ``POST /api/v1/events`` by an organisation's admin.

   Meanwhile the orchestrator samples the job queue every 0.5 s (count and age of the
   oldest job not done); after the run, the database tells for each event published
   during it how long it took from its creation to the end of the index job that
   carried it to Meilisearch (publication → searchable: the handler waits for
   Meilisearch's task, so the search finds the event from then on);
4. prints requests/s, p50/p95/p99 and the error rate (transport errors, 5xx and
   unexpected 4xx over all requests), per configuration and per kind of request, the
   queue lag, the CPU each role used, and the machine.

    MAILLON_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/load.py                        # about 2-3 minutes
    .venv/bin/python bench/load.py --duration 10 --warmup 2 --events 1000   # quicker
    .venv/bin/python bench/load.py --help

Everything runs on this machine: the web processes, the workers, PostgreSQL,
Meilisearch and the load generator share its CPUs (see the figures' notes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

# `python bench/load.py` puts bench/ first on sys.path, where bench/search.py would
# shadow the search package: packages are looked up from the project root instead.
_BENCH = Path(__file__).resolve().parent
ROOT = _BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
sys.path.insert(0, str(ROOT))

from bench.common import HOST, free_port  # noqa: E402
from bench.common import TAG_WORDS as TAGS  # noqa: E402
from bench.common import THEME_IDS as THEMES  # noqa: E402

PUBLIC_URL = "http://bench.maillon.test"
MAILLON = Path(sys.executable).with_name("maillon")
MEILI_VERSION = "1.21.0"
DEFAULT_MEILI = ROOT / ".cache" / "meilisearch" / f"meilisearch-{MEILI_VERSION}"
START_TIMEOUT_S = 180.0
MAX_DURATION_S = 120.0
MAX_CONNECTIONS = 256
PASSWORD = "correct horse battery"
WORDS = (
    "atelier", "repair", "velo", "compost", "concert", "jardin", "conference", "marche",
    "rencontre", "quartier", "lille", "roubaix", "numerique", "formation", "solidaire",
)  # fmt: skip
CITIES = (
    ("Lille", "59000", "59350", 50.6292, 3.0573),
    ("Roubaix", "59100", "59512", 50.6942, 3.1746),
    ("Tourcoing", "59200", "59599", 50.7239, 3.1612),
    ("Villeneuve-d'Ascq", "59650", "59009", 50.6233, 3.1450),
    ("Lambersart", "59130", "59328", 50.6500, 3.0250),
    ("Armentières", "59280", "59017", 50.6881, 2.8800),
)
FIRST_NAMES = ("Camille", "Nadia", "Louis", "Inès", "Hugo", "Léa", "Karim", "Manon")
KINDS = ("association", "cooperative", "social-enterprise", "public-body", "informal-group")
#: the mix, in per cent of operations (a registration is two requests)
MIX = {
    "search": 40.0,
    "event_api": 20.0,
    "event_html": 12.0,
    "home_html": 8.0,
    "register": 1.5,
    "join": 12.0,
    "publish": 5.0,
}
MIX_TITLES = {
    "search": "GET /api/v1/search (varied)",
    "event_api": "GET /api/v1/events/{id}",
    "event_html": "GET /events/{id} (HTML)",
    "home_html": "GET / (HTML)",
    "register": "POST /api/v1/accounts",
    "token": "POST /api/v1/tokens",
    "join": "POST /api/v1/events/{id}/participation",
    "publish": "POST /api/v1/events",
}


# --- the territory, bulk-inserted -------------------------------------------------------


@dataclass
class Territory:
    event_ids: list[str]
    citizens: list[str]  # API tokens
    publishers: list[tuple[str, str]]  # (token, organisation id)
    counts: dict[str, int]
    seconds: float


def seed(database_url: str, n_orgs: int, n_events: int, n_people: int, rng_seed: int) -> Territory:
    """Bulk-insert organisations, events, people, registrations, tokens and admins."""
    from sqlalchemy import insert

    from node.db import make_engine
    from node.models import (
        Event,
        EventOrganiser,
        Label,
        Membership,
        Organisation,
        Participation,
        Person,
        Place,
        Token,
    )
    from node.themes import THEMES as KNOWN
    from node.urls import Urls

    assert set(THEMES) <= set(KNOWN), "the bench's theme list is out of date"
    started = time.perf_counter()
    rng = random.Random(rng_seed)
    urls = Urls(PUBLIC_URL)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.replace(hour=0, minute=0, second=0)
    created = now - dt.timedelta(days=30)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def place() -> dict[str, Any]:
        city, postal, insee, lat, lon = rng.choice(CITIES)
        return {
            "id": new_id(),
            "name": rng.choice(["Salle des fêtes", "Maison de quartier", "Tiers-lieu", None]),
            "street": f"{rng.randint(1, 250)} rue {rng.choice(['Nationale', 'Gambetta'])}",
            "postal_code": postal,
            "city": city,
            "insee_code": insee,
            "country": "FR",
            "latitude": round(lat + rng.uniform(-0.02, 0.02), 5),
            "longitude": round(lon + rng.uniform(-0.02, 0.02), 5),
            "precision": "address",
        }

    def stored(kind: str, object_id: str) -> dict[str, Any]:
        return {
            "id": object_id,
            "ap_id": urls.of(kind, object_id),
            "origin": None,
            "created": created,
            "updated": created,
            "deleted_at": None,
        }

    def labels(
        kind: str, object_id: str, themes: list[str], tags: list[str]
    ) -> list[dict[str, str]]:
        return [
            {"entity_type": kind, "entity_id": object_id, "kind": k, "value": v}
            for k, values in (("theme", themes), ("tag", tags))
            for v in values
        ]

    rows: dict[Any, list[dict[str, Any]]] = {
        m: [] for m in (Place, Organisation, Person, Token, Membership, Event, EventOrganiser)
    }
    rows[Label] = []
    rows[Participation] = []

    def person(n: int, label: str, token: bool) -> tuple[str, str | None]:
        """A person row (and an API token when asked): (person id, token)."""
        person_id = new_id()
        rows[Person].append(
            stored("person", person_id)
            | {
                "username": f"bench-{label}-{n}",
                "name": f"{rng.choice(FIRST_NAMES)} {label} {n}",
                "email": f"bench-{label}-{n}@bench.maillon.test",
                "password_hash": None,
                "bio": "",
                "locale": "fr",
                "public_profile": False,
                "is_admin": False,
            }
        )
        if not token:
            return person_id, None
        secret = secrets.token_urlsafe(32)
        rows[Token].append(
            {
                "id": new_id(),
                "person_id": person_id,
                "token_hash": hashlib.sha256(secret.encode()).hexdigest(),
                "created": created,
            }
        )
        return person_id, secret

    org_ids: list[str] = []
    publishers: list[tuple[str, str]] = []
    citizens: list[str] = []
    for n in range(n_orgs):
        where = place()
        rows[Place].append(where)
        themes = rng.sample(THEMES, rng.randint(1, 3))
        tags = rng.sample(TAGS, rng.randint(0, 3))
        org_id = new_id()
        org_ids.append(org_id)
        rows[Organisation].append(
            stored("organisation", org_id)
            | {
                "username": f"bench-org-{n}",
                "name": f"Collectif {n} de {where['city']}",
                "kind": rng.choice(KINDS),
                "description": "Une structure de l'économie sociale et solidaire. " * 3,
                "website": f"https://org-{n}.example.org",
                "themes": themes,
                "tags": tags,
                "place_id": where["id"],
            }
        )
        rows[Label] += labels("organisation", org_id, themes, tags)
        admin, admin_token = person(n, "publisher", token=True)
        publishers.append((str(admin_token), org_id))
        rows[Membership].append(
            {
                "id": new_id(),
                "organisation_id": org_id,
                "person_id": admin,
                "role": "admin",
                "state": "accepted",
                "created": created,
                "updated": created,
            }
        )
    people: list[str] = []
    for n in range(n_people):
        person_id, token = person(n, "citizen", token=n < 300)
        people.append(person_id)
        if token:
            citizens.append(token)

    event_ids: list[str] = []
    for n in range(n_events):
        venue = place() if rng.random() < 0.9 else None
        if venue:
            rows[Place].append(venue)
        starts = today + dt.timedelta(minutes=15 * rng.randint(96, 365 * 96))
        themes = rng.sample(THEMES, rng.randint(1, 3))
        tags = rng.sample(TAGS, rng.randint(0, 3))
        event_id = new_id()
        event_ids.append(event_id)
        main, *co = rng.sample(org_ids, 1 + (rng.random() < 0.3))
        rows[Event].append(
            stored("event", event_id)
            | {
                "name": f"{rng.choice(WORDS).capitalize()} {n} : {themes[0]}",
                "organisation_id": main,
                "description": "<p>Venez nombreux, entrée libre, goûter partagé.</p>" * 3,
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(minutes=30 * rng.randint(2, 12)),
                "timezone": "Europe/Paris",
                "place_id": venue["id"] if venue else None,
                "online_url": None if venue else f"https://visio.example.org/{n}",
                "capacity": None,
                "join_mode": "free",
                "external_participation_url": None,
                "status": "confirmed",
                "themes": themes,
                "tags": tags,
            }
        )
        rows[EventOrganiser] += [
            {"event_id": event_id, "organisation_id": org, "position": position}
            for position, org in enumerate([main, *co])
        ]
        rows[Label] += labels("event", event_id, themes, tags)
        for person_id in rng.sample(people, min(len(people), rng.randint(0, 5))):
            rows[Participation].append(
                {
                    "id": new_id(),
                    "event_id": event_id,
                    "person_id": person_id,
                    "state": "going",
                    "created": created,
                    "updated": created,
                }
            )

    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for model, batch in rows.items():
                for start in range(0, len(batch), 5000):
                    connection.execute(insert(model.__table__), batch[start : start + 5000])
    finally:
        engine.dispose()
    counts = {
        "organisations": n_orgs,
        "events": n_events,
        "places": len(rows[Place]),
        "people": len(rows[Person]),
        "labels": len(rows[Label]),
        "registrations": len(rows[Participation]),
    }
    return Territory(event_ids, citizens, publishers, counts, time.perf_counter() - started)


# --- processes -------------------------------------------------------------------------



def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(database_url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving this database (a local server)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as db:
        pids = [
            int(row[0])
            for row in db.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    return {pid: cpu_seconds(pid) for pid in pids}


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Proc:
    name: str
    command: list[str]
    env: dict[str, str]
    workdir: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_ready(self, path: str = "/readyz") -> None:
        import httpx

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = (self.workdir / f"{self.name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{tail}")
            if self.port is None:
                if "running " in (self.workdir / f"{self.name}.log").read_text(errors="replace"):
                    return
            else:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://{HOST}:{self.port}{path}", timeout=2).status_code == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {START_TIMEOUT_S:.0f} s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def maillon(env: dict[str, str], workdir: Path, *args: str) -> str:
    done = subprocess.run(
        [str(MAILLON), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"maillon {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def database(server_url: str) -> Iterator[str]:
    """A fresh database on that PostgreSQL server, dropped at the end."""
    import psycopg

    server = urlsplit(server_url.replace("postgresql+psycopg://", "postgresql://"))
    admin = server._replace(path="/postgres").geturl()
    name = f"maillon_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the load generator (its own process) ------------------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection (Content-Length or chunked answers)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: Any = None, token: str | None = None,
        accept: str = "application/json",
    ) -> tuple[int, bytes]:  # fmt: skip
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}", f"Accept: {accept}"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 60)
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            content = await asyncio.wait_for(
                self.reader.readexactly(int(headers["content-length"])), 60
            )
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            content = b"".join(parts)
        else:
            content = await self.reader.read()
            self.close()
        if headers.get("connection") == "close":
            self.close()
        return status, content


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    transport: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)  # an answer per error status

    def add(self, kind: str, seconds: float, status: int) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        self.statuses.setdefault(kind, Counter())[status] += 1


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class Workload:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.events: list[str] = list(plan["event_ids"])
        self.citizens: list[str] = list(plan["citizens"])
        self.publishers: list[list[str]] = plan["publishers"]
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]
        self.stats = Stats()

    def search_params(self, rng: random.Random) -> dict[str, Any]:
        _, _, _, lat, lon = rng.choice(CITIES)
        params: dict[str, Any] = {"limit": rng.choice([10, 20, 20, 50])}
        shape = rng.randrange(8)
        if shape == 0:
            params["q"] = rng.choice(WORDS)
        elif shape == 1:
            params |= {"q": rng.choice(WORDS), "types": "event", "sort": "date"}
        elif shape == 2:
            params |= {"themes": rng.choice(THEMES), "types": "event"}
        elif shape == 3:
            params |= {"lat": lat, "lon": lon, "radius_km": rng.choice([1, 2, 5, 10, 20])}
        elif shape == 4:
            params |= {"lat": lat, "lon": lon, "sort": "distance", "types": "event"}
        elif shape == 5:
            params["bbox"] = f"{lon - 0.05:.4f},{lat - 0.03:.4f},{lon + 0.05:.4f},{lat + 0.03:.4f}"
        elif shape == 6:
            start = dt.date.today() + dt.timedelta(days=rng.randrange(60))
            end = start + dt.timedelta(days=rng.choice([1, 7, 30]))
            params |= {"start": start.isoformat(), "end": end.isoformat(), "sort": "date"}
        else:
            params |= {"tags": rng.choice(TAGS), "types": rng.choice(["event", "organisation"])}
        return params

    async def step(self, http: Http, rng: random.Random, measuring: bool, n: int) -> None:
        kind = rng.choices(self.kinds, self.weights)[0]
        calls: list[tuple[str, str, str, Any, str | None, str]] = []
        if kind == "search":
            path = "/api/v1/search?" + urlencode(self.search_params(rng))
            calls.append((kind, "GET", path, None, None, "application/json"))
        elif kind == "event_api":
            calls.append((kind, "GET", f"/api/v1/events/{rng.choice(self.events)}", None, None,
                          "application/json"))  # fmt: skip
        elif kind == "event_html":
            calls.append((kind, "GET", f"/events/{rng.choice(self.events)}", None, None,
                          "text/html"))  # fmt: skip
        elif kind == "home_html":
            path = "/" if rng.random() < 0.5 else "/?" + urlencode({"q": rng.choice(WORDS)})
            calls.append((kind, "GET", path, None, None, "text/html"))
        elif kind == "join":
            path = f"/api/v1/events/{rng.choice(self.events)}/participation"
            calls.append((kind, "POST", path, None, rng.choice(self.citizens), "application/json"))
        elif kind == "publish":
            token, org_id = self.publishers[n % len(self.publishers)]
            city, postal, _, _, _ = rng.choice(CITIES)
            starts = dt.date.today() + dt.timedelta(days=1 + rng.randrange(200))
            body = {
                "name": f"{rng.choice(WORDS).capitalize()} publié {uuid.uuid4().hex[:8]}",
                "organisation_id": org_id,
                "starts_at": f"{starts.isoformat()}T18:00:00",
                "ends_at": f"{starts.isoformat()}T20:00:00",
                "timezone": "Europe/Paris",
                "description": "Rencontre ouverte à toutes et tous.",
                "place": {"name": "Maison de quartier", "city": city, "postal_code": postal},
                "themes": rng.sample(THEMES, 2),
                "tags": rng.sample(TAGS, 2),
            }
            calls.append((kind, "POST", "/api/v1/events", body, token, "application/json"))
        else:  # register, then sign in
            email = f"load-{uuid.uuid4().hex[:12]}@bench.maillon.example.org"
            body = {"email": email, "password": PASSWORD, "name": rng.choice(FIRST_NAMES)}
            calls.append(("register", "POST", "/api/v1/accounts", body, None, "application/json"))
            calls.append(("token", "POST", "/api/v1/tokens", {"email": email, "password": PASSWORD},
                          None, "application/json"))  # fmt: skip
        for name, method, path, payload, bearer, accept in calls:
            started = time.perf_counter()
            status, content = await http.request(method, path, payload, bearer, accept)
            if measuring:
                self.stats.add(name, time.perf_counter() - started, status)
                if status >= 400:
                    self.stats.samples.setdefault(f"{name} {status}", content[:300].decode())
            if status >= 300:
                return
            if name == "token":
                self.citizens.append(json.loads(content)["token"])
            elif name == "publish":
                self.events.append(json.loads(content)["id"])

    async def connection(self, n: int, port: int, warm_until: float, until: float) -> None:
        rng = random.Random(self.plan["seed"] * 1000 + n)
        http = Http(port)
        while (now := time.perf_counter()) < until:
            measuring = now >= warm_until
            try:
                await self.step(http, rng, measuring, n)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
                if measuring:
                    self.stats.transport[type(error).__name__] += 1
                http.close()
                await asyncio.sleep(0.05)
        http.close()

    async def run(self) -> dict[str, Any]:
        ports: list[int] = self.plan["ports"]
        started = time.perf_counter()
        warm_until = started + self.plan["warmup"]
        cpu_start = time.process_time()
        until = warm_until + self.plan["duration"]
        await asyncio.gather(
            *(
                self.connection(n, ports[n % len(ports)], warm_until, until)
                for n in range(self.plan["connections"])
            )
        )
        kinds = {}
        everything: list[float] = []
        for kind, values in self.stats.latencies.items():
            everything += values
            kinds[kind] = {
                "requests": len(values),
                "statuses": {str(k): v for k, v in sorted(self.stats.statuses[kind].items())},
                "p50": percentile(values, 50) * 1000,
                "p95": percentile(values, 95) * 1000,
                "p99": percentile(values, 99) * 1000,
            }
        return {
            "seconds": self.plan["duration"],
            "requests": len(everything),
            "p50": percentile(everything, 50) * 1000,
            "p95": percentile(everything, 95) * 1000,
            "p99": percentile(everything, 99) * 1000,
            "transport_errors": dict(self.stats.transport),
            "error_samples": self.stats.samples,
            "cpu": (time.process_time() - cpu_start) / (time.perf_counter() - started),
            "kinds": kinds,
        }


def load_main(plan_file: Path) -> None:
    plan = json.loads(plan_file.read_text())
    figures = asyncio.run(Workload(plan).run())
    print("BENCH " + json.dumps(figures), flush=True)


# --- what the orchestrator watches during a run -------------------------------------------


class QueueSampler(threading.Thread):
    """Every 0.5 s: jobs not done, and the age of the oldest (the queue lag)."""

    def __init__(self, database_url: str) -> None:
        super().__init__(name="queue-sampler", daemon=True)
        self.database_url = database_url
        self.stop = threading.Event()
        self.samples: list[tuple[int, float]] = []

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as db:
            while not self.stop.wait(0.5):
                row = db.execute(
                    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created)), 0) "
                    "FROM job WHERE state IN ('pending', 'running') AND next_attempt_at <= now()"
                ).fetchone()
                if row is not None:
                    self.samples.append((int(row[0]), float(row[1])))


def searchable_lags(database_url: str, since: dt.datetime, until: dt.datetime) -> list[float]:
    """For each event published in the window, the seconds from its creation to the end
    of the first index job that carried it: Meilisearch had applied the document then
    (the index handler waits for its task), so a search found it from that moment."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as db:
        rows = db.execute(
            "SELECT extract(epoch FROM min(j.finished_at) - e.created) FROM event e "
            "JOIN job j ON j.kind = 'index' AND j.payload->>'type' = 'event' "
            "AND j.payload->>'id' = e.id AND j.state = 'done' AND j.finished_at >= e.created "
            "WHERE e.created >= %s AND e.created < %s GROUP BY e.id, e.created",
            (since, until),
        ).fetchall()
    return sorted(float(row[0]) for row in rows)


def meili_tasks(url: str, key: str, since: dt.datetime, until: dt.datetime) -> list[float]:
    """Seconds from enqueued to finished of Meilisearch's document writes in the window."""
    import httpx

    def moment(value: str) -> dt.datetime:
        head, _, fraction = value.rstrip("Z").partition(".")
        return dt.datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}+00:00")

    params: dict[str, str | int] = {
        "types": "documentAdditionOrUpdate",
        "afterEnqueuedAt": since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "beforeEnqueuedAt": until.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "limit": 1000,
    }
    answer = httpx.get(
        f"{url}/tasks", params=params, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    answer.raise_for_status()
    return sorted(
        (moment(task["finishedAt"]) - moment(task["enqueuedAt"])).total_seconds()
        for task in answer.json()["results"]
        if task.get("finishedAt")
    )


def db_now(database_url: str) -> dt.datetime:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as db:
        row = db.execute("SELECT now()").fetchone()
    assert row is not None
    moment: dt.datetime = row[0]
    return moment


# --- orchestration -------------------------------------------------------------------------


@dataclass
class Run:
    webs: int
    figures: dict[str, Any]
    queue: list[tuple[int, float]]
    searchable: list[float]
    meili_tasks: list[float]
    cpu: dict[str, float]
    drain_s: float
    loadavg: str


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    versions = []
    for package in ("fastapi", "uvicorn", "sqlalchemy", "psycopg"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions.append(f"{package} {version(package)}")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{model}, {os.cpu_count()} CPUs",
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "stack": ", ".join(versions),
        "os": platform.platform(),
    }


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def wait_drained(database_url: str, timeout: float = 300.0) -> float:
    import psycopg

    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as db:
        while True:
            row = db.execute(
                "SELECT count(*) FROM job WHERE state IN ('pending', 'running')"
            ).fetchone()
            if row is not None and row[0] == 0:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the job queue did not drain in {timeout:.0f} s")
            time.sleep(0.25)


def run_config(
    n_webs: int, env: dict[str, str], workdir: Path, database_url: str, territory: Territory,
    others: dict[str, Proc], args: argparse.Namespace, meili_url: str, meili_key: str,
) -> Run:  # fmt: skip
    ports = [free_port() for _ in range(n_webs)]
    webs = [
        Proc(f"web{n_webs}-{i + 1}", [str(MAILLON), "serve", "--no-workers", "--port", str(p)],
             env, workdir, port=p)
        for i, p in enumerate(ports)
    ]  # fmt: skip
    try:
        for web in webs:
            web.start()
        for web in webs:
            web.wait_ready()
        plan = {
            "ports": ports,
            "event_ids": territory.event_ids,
            "citizens": territory.citizens,
            "publishers": territory.publishers,
            "connections": args.connections,
            "duration": args.duration,
            "warmup": args.warmup,
            "seed": args.seed + n_webs,
        }
        plan_file = workdir / f"plan-{n_webs}.json"
        plan_file.write_text(json.dumps(plan))
        loadavg = load_average()
        generator = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "load", "--plan", str(plan_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(args.warmup)
        sampler = QueueSampler(database_url)
        since = db_now(database_url)
        watched = {w.name: w.pid for w in webs} | {k: p.pid for k, p in others.items()}
        cpu_before = {name: cpu_seconds(pid) for name, pid in watched.items()}
        pg_before = postgres_cpu(database_url)
        busy_before = machine_busy()
        wall_before = time.monotonic()
        sampler.start()
        try:
            stdout, stderr = generator.communicate(timeout=args.duration + 300)
        finally:
            wall = time.monotonic() - wall_before
            cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / wall
                   for name, pid in watched.items()}  # fmt: skip
            busy_after = machine_busy()
            pg_after = postgres_cpu(database_url)
            cpu["postgres (this database)"] = (
                sum(used - pg_before.get(pid, 0.0) for pid, used in pg_after.items()) / wall
            )
            cpu["machine busy"] = (
                (busy_after[0] - busy_before[0])
                / max(1, busy_after[1] - busy_before[1])
                * (os.cpu_count() or 1)
            )
            sampler.stop.set()
            sampler.join()
            until = db_now(database_url)
        line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"the load generator failed:\n{stdout[-2000:]}{stderr[-3000:]}")
        figures = json.loads(line.removeprefix("BENCH "))
        cpu["load generator"] = figures["cpu"]
        drain = wait_drained(database_url)
        return Run(
            webs=n_webs,
            figures=figures,
            queue=sampler.samples,
            searchable=searchable_lags(database_url, since, until),
            meili_tasks=meili_tasks(meili_url, meili_key, since, until),
            cpu=cpu,
            drain_s=drain,
            loadavg=loadavg,
        )
    finally:
        for web in webs:
            web.stop()


def errors_of(figures: dict[str, Any]) -> tuple[int, int]:
    """(errors, 4xx): transport errors and 5xx, and the unexpected 4xx."""
    errors = sum(figures["transport_errors"].values())
    client = 0
    for kind in figures["kinds"].values():
        for status, n in kind["statuses"].items():
            if int(status) >= 500:
                errors += n
            elif int(status) >= 400:
                client += n
    return errors, client


def print_runs(runs: list[Run], args: argparse.Namespace) -> None:
    print(
        f"\n{args.connections} connections, {args.warmup:g} s warm-up + {args.duration:g} s "
        f"measured per configuration; {args.worker_processes} worker process(es) x "
        f"{args.worker_concurrency} threads\n"
    )
    print(
        "| web processes | req/s | p50 ms | p95 ms | p99 ms | error rate | queue lag max "
        "(p95) | jobs waiting max | publish → searchable p50 / p95 / max (events) "
        "| drain after |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        f = run.figures
        errors, client = errors_of(f)
        rate = (errors + client) / f["requests"] if f["requests"] else 0.0
        ages = sorted(age for _, age in run.queue) or [0.0]
        waiting = max((n for n, _ in run.queue), default=0)
        seen = run.searchable or [0.0]
        print(
            f"| {run.webs} | {f['requests'] / f['seconds']:.0f} | {f['p50']:.0f} | "
            f"{f['p95']:.0f} | {f['p99']:.0f} | {rate:.2%} ({errors} err, {client} 4xx) | "
            f"{ages[-1]:.1f} s ({percentile(ages, 95):.1f} s) | {waiting} | "
            f"{percentile(seen, 50):.2f} / {percentile(seen, 95):.2f} / {seen[-1]:.2f} s "
            f"({len(run.searchable)}) | {run.drain_s:.1f} s |"
        )
    for run in runs:
        f = run.figures
        print(f"\n{run.webs} web process(es) — load average at start {run.loadavg}")
        print("| request | share | req/s | p50 ms | p95 ms | p99 ms | statuses |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for kind in MIX_TITLES:
            k = f["kinds"].get(kind)
            if not k:
                continue
            print(
                f"| {MIX_TITLES[kind]} | {k['requests'] / f['requests']:.1%} | "
                f"{k['requests'] / f['seconds']:.1f} | {k['p50']:.0f} | {k['p95']:.0f} | "
                f"{k['p99']:.0f} | {', '.join(f'{s}: {n}' for s, n in k['statuses'].items())} |"
            )
        tasks = run.meili_tasks or [0.0]
        print(
            f"Meilisearch document writes: {len(run.meili_tasks)}, enqueued → done p50 "
            f"{percentile(tasks, 50):.2f} s, p95 {percentile(tasks, 95):.2f} s, "
            f"max {tasks[-1]:.2f} s"
        )
        if f["transport_errors"]:
            print(f"transport errors: {f['transport_errors']}")
        for what, body in f["error_samples"].items():
            print(f"an answer {what}: {body}")
        print(
            "CPU (cores used on average): "
            + ", ".join(f"{name} {share:.2f}" for name, share in run.cpu.items())
        )


def run(args: argparse.Namespace) -> int:
    if not 0 < args.duration <= MAX_DURATION_S or not 0 <= args.warmup <= 30:
        raise SystemExit(f"--duration is capped at {MAX_DURATION_S:.0f} s, --warmup at 30 s")
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        raise SystemExit(f"--connections must be 1..{MAX_CONNECTIONS}")
    if not args.database_url:
        raise SystemExit("give --database-url (a PostgreSQL server) or MAILLON_TEST_DATABASE_URL")
    meili_bin = Path(args.meili_bin)
    if not meili_bin.is_file():
        raise SystemExit(f"no Meilisearch binary at {meili_bin}: run `make meili`")
    info = machine()
    for key, value in info.items():
        print(f"{key:>8}: {value}")
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maillon-load-")))
        database_url = stack.enter_context(database(args.database_url))
        import psycopg

        with psycopg.connect(database_url) as db:
            row = db.execute("SHOW server_version").fetchone()
            print(f"postgres: {row[0] if row else '?'} (local, shared with other work)")
        meili_port, meili_key = free_port(), secrets.token_urlsafe(24)
        meili = Proc(
            "meilisearch",
            [str(meili_bin), "--http-addr", f"{HOST}:{meili_port}", "--no-analytics",
             "--db-path", str(workdir / "data.ms"), "--dump-dir", str(workdir / "dumps"),
             f"--master-key={meili_key}", "--env", "development"],
            {k: v for k, v in os.environ.items() if not k.startswith("MAILLON_")}, workdir,
            port=meili_port,
        )  # fmt: skip
        meili.start()
        stack.callback(meili.stop)
        meili.wait_ready("/health")
        print(f"   meili: Meilisearch {MEILI_VERSION}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLON_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # every process start imports the node
        env |= {
            "PYTHONPYCACHEPREFIX": str(workdir / "pycache"),
            "MAILLON_DATABASE_URL": database_url,
            "MAILLON_PUBLIC_URL": PUBLIC_URL,
            "MAILLON_SECRET_KEY": "bench-load-secret",
            "MAILLON_SEARCH": "meilisearch",
            "MAILLON_MEILI_URL": f"http://{HOST}:{meili_port}",
            "MAILLON_MEILI_KEY": meili_key,
            "MAILLON_LOG_LEVEL": "WARNING",
        }
        print("\nseeding: maillon migrate, maillon demo load, bulk insert, maillon reindex…",
              flush=True)  # fmt: skip
        maillon(env, workdir, "migrate")
        maillon(env, workdir, "demo", "load")
        territory = seed(
            database_url.replace("postgresql://", "postgresql+psycopg://", 1),
            args.organisations, args.events, args.people, args.seed,
        )  # fmt: skip
        started = time.perf_counter()
        reindexed = maillon(env, workdir, "reindex").strip().splitlines()[-1]
        print(
            f"   territory: demo + {', '.join(f'{v} {k}' for k, v in territory.counts.items())}"
            f" (bulk insert {territory.seconds:.1f} s; {reindexed} in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        workers = {
            f"worker{i + 1}": Proc(
                f"worker{i + 1}",
                [str(MAILLON), "worker", "--concurrency", str(args.worker_concurrency)],
                env,
                workdir,
            )
            for i in range(args.worker_processes)
        }
        for worker in workers.values():
            worker.start()
            stack.callback(worker.stop)
        for worker in workers.values():
            worker.wait_ready()
        wait_drained(database_url)
        runs = []
        for n_webs in args.webs:
            print(f"\nrunning with {n_webs} web process(es)…", flush=True)
            watched = {**workers, "meilisearch": meili}
            result = run_config(
                n_webs, env, workdir, database_url, territory, watched, args,
                f"http://{HOST}:{meili_port}", meili_key,
            )  # fmt: skip
            runs.append(result)
            f = result.figures
            print(f"   {f['requests'] / f['seconds']:.0f} req/s, p50 {f['p50']:.0f} ms, "
                  f"p95 {f['p95']:.0f} ms", flush=True)  # fmt: skip
        print_runs(runs, args)
        for path in sorted(workdir.glob("*.log")):
            text = path.read_text(errors="replace")
            if "Traceback" in text:
                print(f"\nnote: {path.name} logged {text.count('Traceback')} traceback(s); "
                      f"the first:\n" + text[text.index("Traceback"):][:2500])  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["load"]:
        parser = argparse.ArgumentParser(prog="bench/load.py load")
        parser.add_argument("--plan", type=Path, required=True)
        load_main(parser.parse_args(argv[1:]).plan)
        return 0
    parser = argparse.ArgumentParser(
        description="Mixed citizen workload on 1 and 2 web processes (PostgreSQL, "
        "Meilisearch, separate workers): req/s, latency, errors, queue lag."
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured (30)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--webs", type=int, nargs="+", default=[1, 2], help="web processes")
    parser.add_argument("--worker-processes", type=int, default=1)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--organisations", type=int, default=300)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("MAILLON_TEST_DATABASE_URL", ""),
        help="a PostgreSQL server where a database may be created (MAILLON_TEST_DATABASE_URL)",
    )
    parser.add_argument(
        "--meili-bin", default=os.environ.get("MAILLON_MEILI_BIN") or str(DEFAULT_MEILI)
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
