"""API throughput benchmark: the node against a bare Starlette + sqlite3 floor.

Not a test: it prints figures and asserts nothing about timing. What it does:

1. generates a territory (300 organisations, 10,000 events with places, themes, tags,
   co-organisers and registrations) into a temporary SQLite file migrated with
   ``node.db.migrate``. Rows are bulk-inserted straight into the tables: the bench
   bypasses the write path (services, outbox, jobs) **for data generation only**;
2. starts the node as a real process (one uvicorn worker, access log off, no job
   threads) and, in turn, the *floor*: a bare Starlette app (same uvicorn settings)
   whose endpoints answer the same questions from the same file with the stdlib
   ``sqlite3`` module and hand-written SQL;
3. loads each server in turn, never both at once, with the same load: a warm-up, then a
   fixed duration at a fixed number of keep-alive connections, random paths;
4. prints requests/s, p50/p95/p99 latency, errors and the ratio node/floor.

Load generator: ``wrk`` (C, one thread) when installed (``apt-get install wrk``); otherwise
a small asyncio HTTP/1.1 client in a separate process, which itself costs CPU on the
same machine (the figures say which one ran). With two or more CPUs the server is
pinned to one CPU and the load generator to another (``--no-pin`` to disable).

    .venv/bin/python bench/api.py                       # the full run (about 1.5 minutes)
    .venv/bin/python bench/api.py --duration 5 --warmup 1 --events 2000   # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# `python bench/api.py` puts bench/ first on sys.path, where bench/search.py would shadow
# the search package: packages are looked up from the project root instead.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
sys.path.insert(0, str(_BENCH.parent))

from bench.common import HOST, TAG_WORDS, THEME_IDS, get_json, pin_to, serve_process  # noqa: E402

PUBLIC_URL = "http://bench.maillon.test"
API = "/api/v1"
TIMEZONE = "Europe/Paris"
CITIES = (
    ("Lille", "59000", "59350", 50.6292, 3.0573),
    ("Roubaix", "59100", "59512", 50.6942, 3.1746),
    ("Tourcoing", "59200", "59599", 50.7239, 3.1612),
    ("Villeneuve-d'Ascq", "59650", "59009", 50.6233, 3.1450),
    ("Lambersart", "59130", "59328", 50.6500, 3.0250),
    ("Armentières", "59280", "59017", 50.6881, 2.8800),
)
STREETS = ("Nationale", "Gambetta", "Solférino", "de Paris", "Pierre Legrand")
KINDS = ("association", "cooperative", "social-enterprise", "public-body", "informal-group")
MAX_DURATION_S = 60.0
MAX_CONNECTIONS = 256
MAX_EVENTS = 200_000
TARGET = 0.25  # issue 2: the event endpoint at >= 0.25 of the floor on one worker


# --- the generated territory ---------------------------------------------------------


class IdMaker:
    """UUIDv7-shaped ids (what ``node.ids`` makes), drawn from a seeded generator."""

    def __init__(self, rng: random.Random, start: dt.datetime) -> None:
        self.rng = rng
        self.ms = int(start.timestamp() * 1000)

    def __call__(self) -> str:
        self.ms += 1
        value = (self.ms & (2**48 - 1)) << 80
        value |= 0x7 << 76 | self.rng.getrandbits(12) << 64
        value |= 0b10 << 62 | self.rng.getrandbits(62)
        return str(uuid.UUID(int=value))


@dataclass
class Territory:
    path: Path
    event_ids: list[str]
    organisation_ids: list[str]
    counts: dict[str, int]
    seconds: float


def generate(path: Path, n_events: int, n_orgs: int, n_people: int, seed: int) -> Territory:
    """Migrate a fresh SQLite file and bulk-insert a deterministic territory into it."""
    from sqlalchemy import insert, text

    from node.db import make_engine, migrate
    from node.models import (
        Event,
        EventOrganiser,
        Label,
        Organisation,
        Participation,
        Person,
        Place,
    )
    from node.themes import THEMES
    from node.urls import Urls

    assert set(THEME_IDS) <= set(THEMES), "the bench's theme list is out of date"
    started = time.perf_counter()
    rng = random.Random(seed)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    new_id = IdMaker(rng, today - dt.timedelta(days=400))
    urls = Urls(PUBLIC_URL)
    created = today - dt.timedelta(days=200)

    def place() -> dict[str, Any]:
        city, postal, insee, lat, lon = rng.choice(CITIES)
        return {
            "id": new_id(),
            "name": rng.choice(["Salle des fêtes", "Maison de quartier", "Tiers-lieu", None]),
            "street": f"{rng.randint(1, 250)} rue {rng.choice(STREETS)}",
            "postal_code": postal,
            "city": city,
            "insee_code": insee,
            "country": "FR",
            "latitude": round(lat + rng.uniform(-0.02, 0.02), 5),
            "longitude": round(lon + rng.uniform(-0.02, 0.02), 5),
            "precision": "address",
        }

    def labels(
        kind: str, entity_id: str, themes: list[str], tags: list[str]
    ) -> list[dict[str, str]]:
        return [
            {"entity_type": kind, "entity_id": entity_id, "kind": k, "value": v}
            for k, values in (("theme", themes), ("tag", tags))
            for v in values
        ]

    places: list[dict[str, Any]] = []
    orgs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    organisers: list[dict[str, Any]] = []
    label_rows: list[dict[str, str]] = []
    people: list[dict[str, Any]] = []
    participations: list[dict[str, Any]] = []

    for n in range(n_orgs):
        org_place = place()
        places.append(org_place)
        themes = rng.sample(THEME_IDS, rng.randint(1, 3))
        tags = rng.sample(TAG_WORDS, rng.randint(0, 4))
        org_id = new_id()
        orgs.append(
            {
                "id": org_id,
                "ap_id": urls.organisation(org_id),
                "origin": None,
                "created": created,
                "updated": created,
                "deleted_at": None,
                "username": f"org-{n}",
                "name": f"Organisation {n} de {org_place['city']}",
                "kind": rng.choice(KINDS),
                "description": "Une structure de l'économie sociale et solidaire. " * 3,
                "website": f"https://org-{n}.example.org",
                "themes": themes,
                "tags": tags,
                "place_id": org_place["id"],
            }
        )
        label_rows += labels("organisation", org_id, themes, tags)
    org_ids = [o["id"] for o in orgs]

    for n in range(n_people):
        person_id = new_id()
        people.append(
            {
                "id": person_id,
                "ap_id": urls.person(person_id),
                "origin": None,
                "created": created,
                "updated": created,
                "deleted_at": None,
                "username": f"person-{n}",
                "name": f"Personne {n}",
                "bio": "",
                "locale": "fr",
                "public_profile": False,
                "is_admin": False,
            }
        )

    for n in range(n_events):
        event_place = place() if rng.random() < 0.9 else None
        if event_place:
            places.append(event_place)
        starts = today + dt.timedelta(minutes=15 * rng.randint(-90 * 96, 365 * 96))
        ends = starts + dt.timedelta(minutes=30 * rng.randint(2, 16))
        themes = rng.sample(THEME_IDS, rng.randint(1, 3))
        tags = rng.sample(TAG_WORDS, rng.randint(0, 4))
        event_id = new_id()
        main, *co = rng.sample(org_ids, 1 + (rng.random() < 0.3) + (rng.random() < 0.1))
        capacity = rng.choice([None, None, 20, 50, 200])
        events.append(
            {
                "id": event_id,
                "ap_id": urls.event(event_id),
                "origin": None,
                "created": created,
                "updated": created,
                "deleted_at": None,
                "name": f"Rencontre {n} : {themes[0]}",
                "organisation_id": main,
                "description": "<p>Venez nombreux, entrée libre, goûter partagé.</p>" * 4,
                "starts_at": starts,
                "ends_at": ends,
                "timezone": TIMEZONE,
                "place_id": event_place["id"] if event_place else None,
                "online_url": None if event_place else f"https://visio.example.org/{n}",
                "capacity": capacity,
                "join_mode": "free",
                "external_participation_url": None,
                "status": "confirmed",
                "themes": themes,
                "tags": tags,
            }
        )
        organisers += [
            {"event_id": event_id, "organisation_id": org, "position": position}
            for position, org in enumerate([main, *co])
        ]
        label_rows += labels("event", event_id, themes, tags)
        for person in rng.sample(people, min(len(people), rng.randint(0, 5))):
            participations.append(
                {
                    "id": new_id(),
                    "event_id": event_id,
                    "person_id": person["id"],
                    "state": rng.choice(["going", "going", "going", "pending"]),
                    "created": created,
                    "updated": created,
                }
            )

    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        with engine.begin() as connection:
            for model, rows in (
                (Place, places),
                (Organisation, orgs),
                (Person, people),
                (Event, events),
                (EventOrganiser, organisers),
                (Label, label_rows),
                (Participation, participations),
            ):
                if rows:
                    connection.execute(insert(model.__table__), rows)  # type: ignore[union-attr]
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        engine.dispose()
    counts = {
        "organisations": len(orgs),
        "events": len(events),
        "places": len(places),
        "people": len(people),
        "organisers": len(organisers),
        "labels": len(label_rows),
        "participations": len(participations),
    }
    return Territory(
        path=path,
        event_ids=[e["id"] for e in events],
        organisation_ids=org_ids,
        counts=counts,
        seconds=time.perf_counter() - started,
    )


# --- the servers (each runs in its own process) --------------------------------------


def uvicorn_options(port: int) -> dict[str, Any]:
    """The same uvicorn settings for both servers."""
    return {
        "host": HOST,
        "port": port,
        "workers": 1,
        "access_log": False,
        "log_level": "warning",
        "lifespan": "on",
        "timeout_keep_alive": 30,
    }


def serve_node(db: Path, port: int) -> None:
    import uvicorn

    from node.api.app import create_app
    from node.settings import load_settings

    settings = load_settings(database_url=f"sqlite:///{db}", public_url=PUBLIC_URL, workers=0)
    uvicorn.run(create_app(settings, workers=0), **uvicorn_options(port))


EVENT_SQL = """
SELECT e.id, e.ap_id, e.origin, e.created, e.updated, e.name, e.organisation_id,
       e.description, e.starts_at, e.ends_at, e.timezone, e.online_url, e.capacity,
       e.join_mode, e.external_participation_url, e.status, e.themes, e.tags,
       p.id AS place_id, p.name AS place_name, p.street, p.postal_code, p.city,
       p.insee_code, p.country, p.latitude, p.longitude, p.precision,
       (SELECT count(*) FROM participation r
         WHERE r.event_id = e.id AND r.state = 'going') AS going
FROM event e LEFT JOIN place p ON p.id = e.place_id
"""
ORGANISERS_SQL = """
SELECT eo.event_id, o.id, o.ap_id, o.origin, o.name
FROM eventorganiser eo JOIN organisation o ON o.id = eo.organisation_id
WHERE eo.event_id IN ({marks}) ORDER BY eo.event_id, eo.position
"""


def floor_app(db: Path) -> Any:
    """A bare Starlette app: the same answers from the same file, stdlib sqlite3, no ORM.

    Sync endpoints, so Starlette runs them in its thread pool as FastAPI runs the node's;
    one sqlite3 connection per thread.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    local = threading.local()
    zones: dict[str, ZoneInfo] = {}

    def connection() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(db, timeout=30, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            local.conn = conn
        return conn

    def moment(value: str, zone: str) -> str:
        tz = zones.get(zone) or zones.setdefault(zone, ZoneInfo(zone))
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).astimezone(tz).isoformat()

    def utc(value: str) -> str:
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).isoformat()

    def out(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
        ids = [r["id"] for r in rows]
        refs: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            marks = ",".join("?" * len(ids))
            for o in conn.execute(ORGANISERS_SQL.format(marks=marks), ids):
                refs[o[0]].append(
                    {"id": o[1], "url": o[2], "origin": o[3] or "local", "name": o[4]}
                )
        items = []
        for r in rows:
            capacity = r["capacity"]
            place = None
            if r["place_id"]:
                place = {
                    "name": r["place_name"],
                    "street": r["street"],
                    "postal_code": r["postal_code"],
                    "city": r["city"],
                    "insee_code": r["insee_code"],
                    "country": r["country"],
                    "latitude": r["latitude"],
                    "longitude": r["longitude"],
                    "precision": r["precision"],
                }
            items.append(
                {
                    "id": r["id"],
                    "url": r["ap_id"],
                    "origin": r["origin"] or "local",
                    "created": utc(r["created"]),
                    "updated": utc(r["updated"]),
                    "name": r["name"],
                    "organisation_id": r["organisation_id"],
                    "organisers": refs[r["id"]],
                    "starts_at": moment(r["starts_at"], r["timezone"]),
                    "ends_at": moment(r["ends_at"], r["timezone"]),
                    "timezone": r["timezone"],
                    "description": r["description"],
                    "place": place,
                    "online_url": r["online_url"],
                    "capacity": capacity,
                    "remaining_capacity": None
                    if capacity is None
                    else max(0, capacity - r["going"]),
                    "participant_count": r["going"],
                    "join_mode": r["join_mode"],
                    "external_participation_url": r["external_participation_url"],
                    "status": r["status"],
                    "themes": json.loads(r["themes"]),
                    "tags": json.loads(r["tags"]),
                }
            )
        return items

    def event(request: Request) -> JSONResponse:
        conn = connection()
        rows = conn.execute(
            EVENT_SQL + " WHERE e.id = ? AND e.deleted_at IS NULL",
            (request.path_params["event_id"],),
        ).fetchall()
        if not rows:
            return JSONResponse({"error": {"code": "not_found", "message": "no event"}}, 404)
        return JSONResponse(out(conn, rows)[0])

    def events(request: Request) -> JSONResponse:
        conn = connection()
        theme = request.query_params.get("theme")
        limit = min(200, max(1, int(request.query_params.get("limit", "50"))))
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores it
        where = "e.deleted_at IS NULL AND e.ends_at >= ?"
        args: list[Any] = [now]
        if theme:
            where += (
                " AND e.id IN (SELECT entity_id FROM label WHERE entity_type = 'event'"
                " AND kind = 'theme' AND value = ?)"
            )
            args.append(theme)
        # the page of ids first, then the details of those rows only
        sql = (
            f"WITH page AS (SELECT e.id FROM event e WHERE {where}"
            " ORDER BY e.starts_at, e.id LIMIT ?)"
            f"{EVENT_SQL} JOIN page ON page.id = e.id ORDER BY e.starts_at, e.id"
        )
        args.append(limit + 1)
        rows = conn.execute(sql, args).fetchall()
        following = None
        if len(rows) > limit:
            following = f"{rows[limit - 1]['starts_at']}|{rows[limit - 1]['id']}"
        return JSONResponse({"items": out(conn, rows[:limit]), "next": following})

    def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route(f"{API}/events", events),
            Route(f"{API}/events/{{event_id}}", event),
        ]
    )


def serve_floor(db: Path, port: int) -> None:
    import uvicorn

    uvicorn.run(floor_app(db), **uvicorn_options(port))


# --- load generators -------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_s: float = 0.0  # CPU time the server process used while measured
    wall_s: float = 0.0  # the wall time over which server_cpu_s was taken

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_share(self) -> float:
        """Share of one CPU the server used: well under 100 % means it was starved."""
        return self.server_cpu_s / self.wall_s if self.wall_s else 0.0

    @property
    def per_cpu_second(self) -> float:
        """Requests per CPU-second of the server: steadier than req/s on a busy machine."""
        return self.requests / self.server_cpu_s if self.server_cpu_s else 0.0


WRK_SCRIPT = """
local paths = {}
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(tonumber(args[2]))
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, '
    .. '"p50": %d, "p95": %d, "p99": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def percentile(sorted_values: Sequence[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def _python_load(
    port: int, paths: list[str], connections: int, seconds: float, seed: int
) -> dict[str, Any]:
    """Keep-alive HTTP/1.1 GETs over ``connections`` sockets for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    non2xx = 0
    deadline = time.perf_counter() + seconds

    async def one(n: int) -> None:
        nonlocal errors, non2xx
        rng = random.Random(seed * 1000 + n)
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while time.perf_counter() < deadline:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                assert reader is not None
                request = f"GET {rng.choice(paths)} HTTP/1.1\r\nHost: {HOST}\r\n\r\n"
                started = time.perf_counter()
                writer.write(request.encode())
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await asyncio.wait_for(reader.readexactly(length), 10)
                latencies.append(time.perf_counter() - started)
                if not head.startswith(b"HTTP/1.1 2"):
                    non2xx += 1
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.01)
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "errors": errors,
        "non2xx": non2xx,
        "p50": int(percentile(latencies, 50) * 1e6),
        "p95": int(percentile(latencies, 95) * 1e6),
        "p99": int(percentile(latencies, 99) * 1e6),
    }


def python_load_main(
    port: int, paths_file: Path, connections: int, seconds: float, seed: int
) -> None:
    paths = paths_file.read_text().split()
    figures = asyncio.run(_python_load(port, paths, connections, seconds, seed))
    print("BENCH " + json.dumps(figures), flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class LoadGenerator:
    kind: str  # "wrk" or "python"
    workdir: Path
    connections: int
    cpu: int | None
    seed: int
    description: str = field(init=False, default="")

    def __post_init__(self) -> None:
        if self.kind == "wrk":
            (self.workdir / "bench.lua").write_text(WRK_SCRIPT)
            version = (
                subprocess.run(
                    ["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False
                )
                .stdout.split("[")[0]
                .strip()
            )
            self.description = f"{version}, 1 thread, {self.connections} connections"
        else:
            self.description = (
                f"Python asyncio HTTP/1.1 client (wrk not found), {self.connections} "
                "connections; it competes for CPU with the server"
            )

    def run(self, port: int, paths_file: Path, seconds: float, server_pid: int) -> Result:
        seconds = min(seconds, MAX_DURATION_S)
        if self.kind == "wrk":
            command = [
                "wrk",
                "-t1",
                f"-c{self.connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(self.workdir / "bench.lua"),
                f"http://{HOST}:{port}/",
                "--",
                str(paths_file),
                str(self.seed),
            ]
        else:
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "load",
                "--port",
                str(port),
                "--paths",
                str(paths_file),
                "--connections",
                str(self.connections),
                "--seconds",
                str(seconds),
                "--seed",
                str(self.seed),
            ]
        cpu_before, wall_before = cpu_seconds(server_pid), time.perf_counter()
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
            preexec_fn=pin_to(self.cpu),  # no threads in this process
        )
        cpu_used, wall = cpu_seconds(server_pid) - cpu_before, time.perf_counter() - wall_before
        line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(
                f"load generator failed ({completed.returncode}): "
                f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
            )
        figures = json.loads(line.removeprefix("BENCH "))
        elapsed = figures["duration_us"] / 1e6
        return Result(
            requests=figures["requests"],
            seconds=elapsed,
            errors=figures["errors"] + figures["non2xx"],
            p50_ms=figures["p50"] / 1000,
            p95_ms=figures["p95"] / 1000,
            p99_ms=figures["p99"] / 1000,
            server_cpu_s=cpu_used,
            wall_s=wall,
        )


# --- orchestration -------------------------------------------------------------------


def server(
    name: str, db: Path, workdir: Path, cpu: int | None
) -> contextlib.AbstractContextManager[tuple[int, int]]:
    """Run ``serve --app name`` in a child process; yields (port, pid); always stops it."""
    return serve_process(Path(__file__).resolve(), name, db, workdir, cpu)


@dataclass
class Scenario:
    key: str
    title: str
    paths: list[str]


def scenarios(territory: Territory, seed: int) -> list[Scenario]:
    rng = random.Random(seed + 1)
    by_id = [f"{API}/events/{i}" for i in territory.event_ids]
    rng.shuffle(by_id)
    by_theme = [f"{API}/events?theme={t}&limit=20" for t in THEME_IDS]
    return [
        Scenario("event", f"GET {API}/events/{{id}} (random id of {len(by_id)})", by_id),
        Scenario(
            "list",
            f"GET {API}/events?theme={{theme}}&limit=20 (random theme of {len(by_theme)})",
            by_theme,
        ),
    ]


def check_same_answers(node_port: int, floor_port: int, territory: Territory) -> None:
    """The floor must answer what the node answers, or the comparison means nothing."""
    for event_id in territory.event_ids[:: max(1, len(territory.event_ids) // 5)]:
        node = get_json(node_port, f"{API}/events/{event_id}")
        floor = get_json(floor_port, f"{API}/events/{event_id}")
        for key in ("id", "name", "place", "organisers", "participant_count", "themes"):
            if node[key] != floor[key]:
                raise RuntimeError(f"node and floor differ on {key} of event {event_id}")
    for theme in THEME_IDS[:4]:
        node_ids = [
            e["id"] for e in get_json(node_port, f"{API}/events?theme={theme}&limit=20")["items"]
        ]
        floor_ids = [
            e["id"] for e in get_json(floor_port, f"{API}/events?theme={theme}&limit=20")["items"]
        ]
        if node_ids != floor_ids or len(node_ids) != 20:
            raise RuntimeError(f"node and floor list different events for theme {theme}")


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = []
    for package in ("fastapi", "starlette", "uvicorn", "sqlalchemy", "pydantic"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions.append(f"{package} {version(package)}")
    extras = [m for m in ("uvloop", "httptools") if _importable(m)]
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{model}, {os.cpu_count()} CPUs",
        "python": f"{platform.python_implementation()} {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}",
        "stack": ", ".join(versions)
        + f"; uvicorn loop/http: {'+'.join(extras) or 'asyncio + h11'}",
        "os": platform.platform(),
    }


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def prepare(args: argparse.Namespace) -> tuple[str, int | None, int | None]:
    """Check the options, choose the load generator and the CPUs, print the machine:
    ``(loadgen, server CPU, load CPU)`` (shared with bench/web.py)."""
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        raise SystemExit(f"--connections must be 1..{MAX_CONNECTIONS}")
    if not 0 < args.duration <= MAX_DURATION_S or not 0 <= args.warmup <= MAX_DURATION_S:
        raise SystemExit(f"--duration and --warmup are capped at {MAX_DURATION_S:.0f} s")
    if not 1 <= args.rounds <= 5:
        raise SystemExit("--rounds must be 1..5")
    if not 1 <= args.events <= MAX_EVENTS:
        raise SystemExit(f"--events must be 1..{MAX_EVENTS}")
    kind = args.loadgen
    if kind in ("auto", "wrk") and shutil.which("wrk") is None:
        if kind == "wrk":
            raise SystemExit("wrk is not installed (apt-get install wrk); or --loadgen python")
        print(
            "note: wrk not found; falling back to the Python load generator, which costs "
            "CPU beside the server (install wrk for fairer figures)",
            file=sys.stderr,
        )
        kind = "python"
    elif kind == "auto":
        kind = "wrk"
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, load_cpu = (cpus[-1], cpus[0]) if args.pin and len(cpus) >= 2 else (None, None)

    info = machine()
    for key, value in info.items():
        print(f"{key:>8}: {value}")
    return kind, server_cpu, load_cpu


def run(args: argparse.Namespace) -> int:
    kind, server_cpu, load_cpu = prepare(args)

    with tempfile.TemporaryDirectory(prefix="maillon-bench-") as tmp:
        workdir = Path(tmp)
        print(f"\ngenerating {args.events} events, {args.organisations} organisations…", flush=True)
        territory = generate(
            workdir / "territory.db", args.events, args.organisations, args.people, args.seed
        )
        print(
            f"   territory: {', '.join(f'{v} {k}' for k, v in territory.counts.items())} "
            f"in {territory.seconds:.1f} s (bulk insert: the write path is bypassed)"
        )
        loadgen = LoadGenerator(kind, workdir, args.connections, load_cpu, args.seed)
        print(
            f"        load: {loadgen.description}; {args.warmup:g} s warm-up then "
            f"{args.duration:g} s per server, one server at a time"
        )
        print(
            "     pinning: "
            + (
                f"server on CPU {server_cpu}, load generator on CPU {load_cpu}"
                if server_cpu is not None
                else "none"
            )
        )

        with (
            server("node", territory.path, workdir, server_cpu) as (node_port, _),
            server("floor", territory.path, workdir, server_cpu) as (floor_port, _),
        ):
            check_same_answers(node_port, floor_port, territory)
        print("       check: node and floor give the same answers (event, theme lists)")
        print(f"    loadavg: {load_average()} (other work on the machine skews req/s)\n")

        cases = [c for c in scenarios(territory, args.seed) if c.key in args.only]
        results: dict[tuple[str, str], Result] = {}
        for round_ in range(1, args.rounds + 1):
            for case in cases:
                paths_file = workdir / f"{case.key}.paths"
                paths_file.write_text("\n".join(case.paths) + "\n")
                for name in ("node", "floor"):
                    with server(name, territory.path, workdir, server_cpu) as (port, pid):
                        if args.warmup:
                            loadgen.run(port, paths_file, args.warmup, pid)
                        result = loadgen.run(port, paths_file, args.duration, pid)
                    best = results.get((case.key, name))
                    if best is None or result.rps > best.rps:
                        results[(case.key, name)] = result
                    print(
                        f"  round {round_}  {case.key:<5} {name:<5} {result.rps:6.0f} req/s  "
                        f"p50 {result.p50_ms:6.1f} ms  p95 {result.p95_ms:6.1f} ms  "
                        f"errors {result.errors:<3} server CPU {result.cpu_share:4.0%}",
                        flush=True,
                    )

        print_table(cases, results, loadgen, args)
        if args.keep:
            kept = Path(args.keep)
            shutil.copy(territory.path, kept)
            print(f"\nterritory kept at {kept}")
    return 0


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def print_table(
    cases: list[Scenario],
    results: dict[tuple[str, str], Result],
    loadgen: LoadGenerator,
    args: argparse.Namespace,
) -> None:
    best = f", best of {args.rounds} rounds" if args.rounds > 1 else ""
    print(
        f"\n{loadgen.kind}, {args.connections} connections, {args.warmup:g} s warm-up + "
        f"{args.duration:g} s per server{best}\n"
    )
    print(
        "| endpoint | server | req/s | p50 ms | p95 ms | p99 ms | errors | server CPU "
        "| req per CPU-s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for case in cases:
        for name in ("node", "floor"):
            r = results[(case.key, name)]
            print(
                f"| {case.title} | {name} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} "
                f"| {r.p99_ms:.1f} | {r.errors} | {r.cpu_share:.0%} | {r.per_cpu_second:.0f} |"
            )
    print()
    for case in cases:
        node, floor = results[(case.key, "node")], results[(case.key, "floor")]
        ratio = node.rps / floor.rps if floor.rps else 0.0
        per_cpu = node.per_cpu_second / floor.per_cpu_second if floor.per_cpu_second else 0.0
        verdict = ""
        if case.key == "event":
            verdict = "  target ≥ 0.25: " + ("met" if ratio >= TARGET else "NOT met")
        print(
            f"node/floor {case.key:<5}: {ratio:.2f} in req/s, {per_cpu:.2f} in req per CPU-s"
            + verdict
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        parser = argparse.ArgumentParser(prog="bench/api.py serve")
        parser.add_argument("--app", choices=["node", "floor"], required=True)
        parser.add_argument("--db", type=Path, required=True)
        parser.add_argument("--port", type=int, required=True)
        options = parser.parse_args(argv[1:])
        (serve_node if options.app == "node" else serve_floor)(options.db, options.port)
        return 0
    if argv[:1] == ["load"]:
        parser = argparse.ArgumentParser(prog="bench/api.py load")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--paths", type=Path, required=True)
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--seconds", type=float, default=10.0)
        parser.add_argument("--seed", type=int, default=1)
        options = parser.parse_args(argv[1:])
        python_load_main(
            options.port,
            options.paths,
            min(options.connections, MAX_CONNECTIONS),
            min(options.seconds, MAX_DURATION_S),
            options.seed,
        )
        return 0
    parser = argparse.ArgumentParser(
        description="Node API throughput against a bare Starlette + sqlite3 floor."
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--organisations", type=int, default=300)
    parser.add_argument("--people", type=int, default=1_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="do not pin the server and the load generator to separate CPUs",
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat, keep the best (max 5)")
    parser.add_argument("--only", nargs="+", choices=["event", "list"], default=["event", "list"])
    parser.add_argument("--keep", metavar="FILE", help="copy the generated SQLite file here")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
