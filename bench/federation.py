"""Federation benchmark: inbox throughput, fan-out and convergence, each beside a floor.

Not a test: it prints figures beside a floor measured in the same run and the targets of
issue 4, and asserts nothing about timing (it does check that the work was really done:
every activity stored and applied, every delivery received, every event found). What
it measures:

1. **Inbox throughput on one worker.** A remote ``Group`` (a real RSA-2048 key, served
   as an actor document) sends distinct signed ``Create{Event}`` activities to a node's
   shared inbox. The first one fetches and caches the key and is not counted. Then:

   - *receive*: ``--activities`` POSTs, pre-signed before the clock starts, sent by
     ``--concurrency`` client threads; each is checked (size, JSON, policy, draft-cavage
     signature, origin), stored and answered 202;
   - *apply*: ONE worker drains the ``inbox`` jobs (parse, origin rule, upsert of the
     organiser and the event copy, the ``index`` job it enqueues);
   - *end-to-end*: a fresh batch sent while one worker runs, from the first POST to the
     last ``inbox`` job done. The ``index`` jobs are drained afterwards and timed apart.
     Over http the senders run in a child process (started before the clock), as the
     peers would be other machines: in this process they would take the worker
     thread's share of the GIL.

   Floor: ``federation.signatures.verify_request`` (key already loaded) + ``json.loads``
   of the same signed requests, in this process. Beside the rates per wall-clock second:
   rates per CPU-second (receive: the server process's over http, this whole process's,
   senders included, over asgi; apply: the worker thread's, the database server's
   excluded) and the SQL statements and commits per activity, which move less when
   other work shares the machine. Two transports (``--inbox-transport``): ``http`` —
   the node is a real ``maillon serve --no-workers`` process on a loopback port, the
   peer's actor document is served by uvicorn from a thread of this process on another
   port, the clients use keep-alive httpx, and the worker runs in this process (as
   ``maillon worker`` would, beside the server); ``asgi`` — everything in this process
   through the in-process ``Network`` of ``tests/federation/network.py`` (the apps are
   called through an ASGI transport: no sockets, one GIL for all).
2. **Fan-out.** An organisation of node A has 1,000 remote followers on 100 peer hosts
   (10 per host, sharing the host's shared inbox, so 100 deliveries); the follower rows
   are inserted directly. The peers are one trivial ASGI app answering 202, registered
   under the 100 hosts of the in-process ``Network``. Timed: the API write (``POST
   /api/v1/events``) until every job it caused is done, with one worker
   (``runtime.worker().drain()``), then with ``--fanout-threads`` worker threads. Floor:
   the same 100 signed POSTs (signing included) sent straight by one httpx client
   through the same transport.
3. **Convergence.** Node B follows node A (``federation.peers.follow``), in process on
   the ``Network``. Each node runs one worker thread continuously
   (``run_forever(stop, idle_seconds=0.01)``; ``--idle-ms 500`` is what ``maillon serve``'s
   workers do). ``--events`` events are written on A one by one, each named with a unique
   random word; each is timed from the write to its first appearance in B's ``GET
   /api/v1/search?q=<word>``, polled every ``--poll-ms``. B's search is embedded, and
   with ``--meili`` also a real Meilisearch (the pinned binary, started in a temporary
   directory and always stopped). The job timestamps in both databases split each time
   into stages (A's delivery, B's inbox and apply, B's indexing, the poll). Floor: one
   search request on B.

Databases: SQLite files by default; ``--database-url postgresql://…`` gives each node its
own schema in that database, created for the run and dropped after.

    .venv/bin/python bench/federation.py --quick                  # a small run (~2 min)
    .venv/bin/python bench/federation.py --meili                  # everything, SQLite
    .venv/bin/python bench/federation.py --only inbox \\
        --database-url postgresql://postgres@127.0.0.1:5432/test  # the PostgreSQL target
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import platform
import random
import secrets
import shutil
import sqlite3
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# `python bench/federation.py` puts bench/ first on sys.path, where this very file would
# shadow the federation package (and bench/search.py the search package): packages are
# looked up from the project root instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import event, func, text  # noqa: E402
from sqlmodel import col, select  # noqa: E402

import federation.plugin  # noqa: E402
import search.plugin  # noqa: E402
from bench import common  # noqa: E402
from bench.common import free_port  # noqa: E402
from federation import peers  # noqa: E402
from federation.service import Federation  # noqa: E402
from federation.signatures import (  # noqa: E402
    PrivateKey,
    PublicKey,
    SignatureAuth,
    generate_rsa_key,
    load_public_key,
    public_key_pem,
    sign_headers,
    verify_request,
)
from node.api.app import create_app  # noqa: E402
from node.db import make_engine, migrate  # noqa: E402
from node.models import Activity, Event, Follower, InboxItem, Job, Peer  # noqa: E402
from node.runtime import Runtime, build_runtime, register_plugins  # noqa: E402
from node.settings import Settings  # noqa: E402
from tests.federation.network import Network  # noqa: E402

HOST = "127.0.0.1"  # everything stays on loopback
MEILI_VERSION = "1.21.0"
MEILI_BIN = ROOT / ".cache" / "meilisearch" / f"meilisearch-{MEILI_VERSION}"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
PASSWORD = "correct horse battery"
START_DEADLINE_S = 60.0
SETTLE_DEADLINE_S = 120.0
MAX_ACTIVITIES = 20_000
MAX_EVENTS = 1_000
#: issue 4's targets
TARGET_INBOX_PER_S = 500.0  # on one worker, judged on PostgreSQL
TARGET_FANOUT_S = 5.0
TARGET_CONVERGENCE_S = {"embedded": 0.5, "meilisearch": 1.5}


# --- the machine -------------------------------------------------------------------------


def machine(database_url: str | None) -> None:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"    machine: {cpu}, {os.cpu_count()} cores ({usable} usable), RAM {ram}")
    print(
        f"     system: {platform.system()} {platform.release()}; Python "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(f"     SQLite: {sqlite3.sqlite_version}")
    if database_url:
        engine = make_engine(_driver_url(database_url))
        with engine.connect() as connection:
            version = connection.scalar(text("SHOW server_version"))
        engine.dispose()
        print(f" PostgreSQL: {version} ({_safe(database_url)})")
    print(f"    loadavg: {load_average()} (other work on the machine skews every figure)")
    print(f"       date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _driver_url(url: str) -> str:
    """``postgresql://`` means psycopg 3, as the node's settings read it."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def _safe(url: str) -> str:
    head, _, tail = url.rpartition("@")
    return f"{head.split('://')[0]}://…@{tail}" if head else url


# --- databases and in-process nodes -----------------------------------------------------


@contextlib.contextmanager
def databases(base_url: str | None, names: list[str], workdir: Path) -> Iterator[list[str]]:
    """One migrated database per name: SQLite files, or PostgreSQL schemas dropped after."""
    if not base_url:
        template = workdir / "template.db"
        if not template.exists():
            engine = make_engine(f"sqlite:///{template}")
            migrate(engine)
            with engine.connect() as connection:
                connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            engine.dispose()
        urls = []
        for name in names:
            path = workdir / f"{name}-{uuid.uuid4().hex[:6]}.db"
            shutil.copy(template, path)
            urls.append(f"sqlite:///{path}")
        yield urls
        return
    driver = _driver_url(base_url)
    admin = make_engine(driver)
    schemas = [f"bench_fed_{uuid.uuid4().hex[:8]}" for _ in names]
    try:
        urls = []
        for schema in schemas:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{driver}{'&' if '?' in driver else '?'}options=-csearch_path%3D{schema}"
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
            urls.append(url)
        yield urls
    finally:
        with admin.begin() as connection:
            for schema in schemas:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def settings_for(public_url: str, database_url: str, workdir: Path, **extra: Any) -> Settings:
    host = public_url.split("://", 1)[1].replace(":", "_")
    return Settings(
        database_url=database_url,
        search_path=str(workdir / f"{host}.search.db"),
        public_url=public_url,
        secret_key=f"bench-secret-of-{host}",
        workers=0,
        federation_allow_private=True,
        **extra,
    )


def make_runtime(settings: Settings) -> Runtime:
    """A node with the federation and search plugins (not the web pages)."""
    runtime = build_runtime(settings, plugins=False)
    register_plugins(runtime, [federation.plugin, search.plugin])
    return runtime


class Node:
    """A node in this process, reached through the in-process ``Network``."""

    def __init__(self, host: str, runtime: Runtime, network: Network) -> None:
        self.host = host
        self.runtime = runtime
        self.app = create_app(runtime.settings, runtime=runtime, workers=0)
        self.http = httpx.Client(transport=network, base_url=f"http://{host}", timeout=60)
        self.federation: Federation = runtime.extensions["federation"]
        self.federation.use_transport(network)
        network.add(host, self.app)

    def api(self, method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(method, f"/api/v1{path}", headers=headers, **kw)

    def organiser(self, name: str) -> tuple[str, dict[str, Any]]:
        """(token, organisation) of a new account's new organisation."""
        email = f"bench-{uuid.uuid4().hex[:8]}@{self.host.split('.')[0]}.example"
        made = self.api(
            "POST", "/accounts", json={"email": email, "password": PASSWORD, "name": "Bench"}
        )
        _expect(made, 201)
        token = str(
            self.api("POST", "/tokens", json={"email": email, "password": PASSWORD}).json()["token"]
        )
        org = self.api("POST", "/organisations", token, json={
            "name": name, "kind": "association", "themes": ["crafts"],
            "place": {"city": "Lille", "postal_code": "59000"},
        })  # fmt: skip
        _expect(org, 201)
        return token, org.json()

    def event(self, token: str, organisation_id: str, name: str) -> httpx.Response:
        return self.api("POST", "/events", token, json={
            "name": name,
            "organisation_id": organisation_id,
            "starts_at": "2030-05-16T14:00:00",
            "ends_at": "2030-05-16T18:00:00",
            "timezone": "Europe/Paris",
            "place": {"name": "Maison de l'ESS", "street": "235 boulevard Paul Painlevé",
                      "postal_code": "59000", "city": "Lille"},
            "themes": ["sharing"],
        })  # fmt: skip

    def close(self) -> None:
        self.http.close()
        self.runtime.close()


def _expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.url} answered {response.status_code}: {response.text[:500]}"
        )


@contextlib.contextmanager
def in_process_network() -> Iterator[Network]:
    net = Network()
    net.start()
    try:
        yield net
    finally:
        net.stop()


def pending_jobs(runtime: Runtime, kinds: list[str] | None = None) -> int:
    with runtime.transaction() as session:
        query = (
            select(func.count()).select_from(Job).where(col(Job.state).in_(["pending", "running"]))
        )
        if kinds:
            query = query.where(col(Job.kind).in_(kinds))
        return int(session.scalar(query) or 0)


def settle(nodes: list[Node]) -> None:
    """Run every node's due jobs until none is left to run now."""
    deadline = time.monotonic() + SETTLE_DEADLINE_S
    while time.monotonic() < deadline:
        if sum(node.runtime.worker().drain() for node in nodes) == 0:
            return
    raise RuntimeError("the nodes did not settle")


# --- 1. inbox throughput -----------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    url: str
    headers: dict[str, str]
    body: bytes


class RemoteGroup:
    """A remote organisation with a real key: its actor document and signed activities."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.key: PrivateKey = generate_rsa_key()
        self.public: PublicKey = load_public_key(public_key_pem(self.key))
        self.ap_id = f"{base}/groups/atelier"
        self.key_id = f"{self.ap_id}#main-key"
        self.run = uuid.uuid4().hex[:8]

    def document(self) -> dict[str, Any]:
        return {
            "@context": CONTEXT,
            "id": self.ap_id,
            "type": "Group",
            "preferredUsername": "atelier",
            "name": "L'Atelier partagé",
            "summary": "<p>Un atelier de réparation associatif.</p>",
            "inbox": f"{self.ap_id}/inbox",
            "outbox": f"{self.ap_id}/outbox",
            "followers": f"{self.ap_id}/followers",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.ap_id,
                          "publicKeyPem": public_key_pem(self.key)},
        }  # fmt: skip

    def app(self) -> Any:
        """A Starlette app serving the actor document (and 202 to anything posted)."""
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route

        document = self.document()

        async def get(request: Request) -> Response:
            if request.url.path != "/groups/atelier":
                return JSONResponse({"error": "not found"}, 404)
            return JSONResponse(document, media_type="application/activity+json")

        async def post(request: Request) -> Response:
            await request.body()
            return Response(status_code=202)

        return Starlette(
            routes=[
                Route("/{path:path}", get, methods=["GET"]),
                Route("/{path:path}", post, methods=["POST"]),
            ]
        )

    def create_event(self, n: int) -> dict[str, Any]:
        """A ``Create{Event}`` in the shape FEDERATION.md gives (a distinct event per n)."""
        event_id = f"{self.base}/events/{self.run}-{n}"
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        start = dt.datetime(2030, 3, 1, 18, tzinfo=dt.timezone(dt.timedelta(hours=1)))
        start += dt.timedelta(days=n % 365)
        return {
            "@context": CONTEXT,
            "id": f"{event_id}/activity",
            "type": "Create",
            "actor": self.ap_id,
            "published": now,
            "to": [AS_PUBLIC],
            "cc": [f"{self.ap_id}/followers"],
            "object": {
                "id": event_id,
                "type": "Event",
                "name": f"Repair café n°{n}",
                "content": "<p>Venez réparer vos objets avec nos bénévoles.</p>",
                "mediaType": "text/html",
                "summary": "Repair café — 18:00, Maison de l'ESS, Lille",
                "startTime": start.isoformat(),
                "endTime": (start + dt.timedelta(hours=3)).isoformat(),
                "timezone": "Europe/Paris",
                "location": {
                    "type": "Place",
                    "name": "Maison de l'ESS",
                    "address": {"type": "PostalAddress",
                                "streetAddress": "235 boulevard Paul Painlevé",
                                "postalCode": "59000", "addressLocality": "Lille",
                                "addressCountry": "FR"},
                    "latitude": 50.6265,
                    "longitude": 3.0773,
                },
                "joinMode": "free",
                "status": "CONFIRMED",
                "category": "WORKSHOPS_SKILL_SHARING",
                "tag": [{"type": "Hashtag", "name": "#reparation",
                         "href": f"{self.base}/tags/reparation"}],
                "attributedTo": self.ap_id,
                "published": now,
                "updated": now,
                "to": [AS_PUBLIC],
                "cc": [f"{self.ap_id}/followers"],
            },
        }  # fmt: skip

    def sign(self, inbox: str, activity: dict[str, Any]) -> Signed:
        body = json.dumps(activity, ensure_ascii=False).encode()
        base = {"Content-Type": "application/activity+json"}
        signed = sign_headers("POST", inbox, base, body, self.key_id, self.key)
        return Signed(inbox, base | signed, body)

    def batch(self, inbox: str, start: int, count: int) -> list[Signed]:
        return [self.sign(inbox, self.create_event(n)) for n in range(start, start + count)]


@dataclass
class Sent:
    seconds: float
    statuses: Counter[int]


def post_all(clients: list[httpx.Client], requests: list[Signed]) -> Sent:
    """POST every pre-signed request, one thread per client; the wall time of it all."""
    cursor = iter(requests)
    lock = threading.Lock()
    statuses: Counter[int] = Counter()
    failures: list[BaseException] = []

    def work(client: httpx.Client) -> None:
        try:
            while True:
                with lock:
                    item = next(cursor, None)
                if item is None:
                    return
                answer = client.post(item.url, content=item.body, headers=item.headers)
                with lock:
                    statuses[answer.status_code] += 1
        except BaseException as error:  # reported after the run
            failures.append(error)

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} sender(s) failed: {failures[0]!r}")
    return Sent(elapsed, statuses)


@contextlib.contextmanager
def sender_process() -> Iterator[Any]:
    """A child process, started and warmed before any clock runs, to send from: the
    senders stand for other machines and do not take the worker thread's GIL."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(_post_with_new_clients, ([], 1))
        yield pool


def _post_with_new_clients(requests: list[Signed], concurrency: int) -> Sent:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.Client(timeout=60, limits=limits) for _ in range(concurrency)]
    try:
        return post_all(clients, requests)
    finally:
        for client in clients:
            client.close()


def verify_floor(requests: list[Signed], key: PublicKey) -> float:
    """Requests per second: ``verify_request`` with the key in hand + ``json.loads``."""
    prepared = [(r.url, httpx.Headers(r.headers), r.body) for r in requests]

    def get_key(key_id: str, refresh: bool) -> PublicKey | None:
        return key

    best = 0.0
    for _ in range(2):  # the better of two passes: the machine is shared
        started = time.perf_counter()
        for url, headers, body in prepared:
            verify_request("POST", url, headers, body, get_key, max_skew=3600)
            json.loads(body)
        best = max(best, len(prepared) / (time.perf_counter() - started))
    return best


class SqlCounter:
    """Statements and commits this process sends through an engine (all threads)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements = 0
        self.commits = 0
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_: Any) -> None:
        with self._lock:
            self.statements += 1

    def _commit(self, *_: Any) -> None:
        with self._lock:
            self.commits += 1

    def take(self) -> tuple[int, int]:
        """(statements, commits) since the last take."""
        with self._lock:
            taken = self.statements, self.commits
            self.statements = self.commits = 0
        return taken

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


@dataclass
class InboxFigures:
    transport: str
    database: str
    count: int
    concurrency: int
    receive_per_s: float = 0.0
    #: activities per CPU-second: of the server process (http) or of this whole process,
    #: senders included (asgi); steadier than wall time on a shared machine
    receive_per_cpu_s: float = 0.0
    apply_per_s: float = 0.0
    #: activities per CPU-second of the worker's thread (the database server's excluded)
    apply_per_cpu_s: float = 0.0
    end_to_end_per_s: float = 0.0
    end_to_end_receive_per_s: float = 0.0
    index_per_s: float = 0.0
    floor_per_s: float = 0.0
    #: SQL statements and commits per activity, from this process (receive: asgi only)
    receive_sql: tuple[float, float] | None = None
    apply_sql: tuple[float, float] = (0.0, 0.0)
    states: dict[str, int] = field(default_factory=dict)


def check_applied(runtime: Runtime, group: RemoteGroup, expected: int) -> dict[str, int]:
    prefix = f"{group.base}/events/{group.run}-"
    with runtime.transaction() as session:
        states = dict(
            session.execute(
                select(col(InboxItem.state), func.count())
                .where(col(InboxItem.activity_id).startswith(prefix))
                .group_by(col(InboxItem.state))
            ).all()
        )
        copies = session.scalar(
            select(func.count()).select_from(Event).where(col(Event.ap_id).startswith(prefix))
        )
    if states.get("done", 0) != expected or copies != expected:
        raise RuntimeError(
            f"expected {expected} applied activities and event copies, found "
            f"{states} and {copies} copies"
        )
    return {str(k): int(v) for k, v in states.items()}


def run_inbox_phases(
    figures: InboxFigures,
    runtime: Runtime,
    group: RemoteGroup,
    inbox: str,
    clients: list[httpx.Client],
    server_pid: int | None = None,
) -> None:
    """Warm-up, receive, apply, end-to-end, index: fills ``figures``."""
    count = figures.count
    # warm-up: the key is fetched and cached, the organiser's copy made; not counted
    warm = post_all(clients[:1], group.batch(inbox, 0, 1))
    if warm.statuses != Counter({202: 1}):
        raise RuntimeError(f"warm-up refused: {dict(warm.statuses)}")
    runtime.worker().drain()

    batch = group.batch(inbox, 1, count)
    sql = SqlCounter(runtime.engine)
    try:
        cpu = cpu_seconds(server_pid)
        sent = post_all(clients, batch)
        receive_cpu = cpu_seconds(server_pid) - cpu
        statements, commits = sql.take()
        if figures.transport == "asgi":  # the inbox ran in this process
            figures.receive_sql = (statements / count, commits / count)
        if sent.statuses != Counter({202: count}):
            raise RuntimeError(f"the inbox answered {dict(sent.statuses)}")
        worker = runtime.worker(kinds=["inbox"])
        started, cpu = time.perf_counter(), time.thread_time()
        applied = worker.drain(max_rounds=count)
        apply_s, apply_cpu = time.perf_counter() - started, time.thread_time() - cpu
        statements, commits = sql.take()
        figures.apply_sql = (statements / count, commits / count)
    finally:
        sql.close()
    if applied != count:
        raise RuntimeError(f"one worker applied {applied} inbox jobs, not {count}")
    started = time.perf_counter()
    runtime.worker(kinds=["index"]).drain(max_rounds=count)
    index_s = time.perf_counter() - started

    second = group.batch(inbox, 1 + count, count)
    senders = contextlib.ExitStack()
    pool = senders.enter_context(sender_process()) if figures.transport == "http" else None
    stop = threading.Event()
    thread = threading.Thread(
        target=runtime.worker(kinds=["inbox"]).run_forever,
        args=(stop,),
        kwargs={"idle_seconds": 0.01},
        daemon=True,
    )
    started = time.perf_counter()
    thread.start()
    try:
        if pool is not None:  # the senders in their own process
            both = pool.apply(_post_with_new_clients, (second, len(clients)))
        else:
            both = post_all(clients, second)
        deadline = time.monotonic() + SETTLE_DEADLINE_S + count / 10
        while pending_jobs(runtime, ["inbox"]) and time.monotonic() < deadline:
            time.sleep(0.01)
        end_to_end_s = time.perf_counter() - started
    finally:
        stop.set()
        thread.join()
        senders.close()
    if both.statuses != Counter({202: count}):
        raise RuntimeError(f"the inbox answered {dict(both.statuses)}")
    runtime.worker(kinds=["index"]).drain(max_rounds=count)
    figures.states = check_applied(runtime, group, 2 * count + 1)
    figures.receive_per_s = count / sent.seconds
    figures.receive_per_cpu_s = count / receive_cpu
    figures.apply_per_s = count / apply_s
    figures.apply_per_cpu_s = count / apply_cpu
    figures.end_to_end_per_s = count / end_to_end_s
    figures.end_to_end_receive_per_s = count / both.seconds
    figures.index_per_s = count / index_s


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of a process by pid, or of this process."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def inbox_asgi(args: argparse.Namespace, workdir: Path, count: int) -> InboxFigures:
    figures = InboxFigures("asgi", _db_name(args), count, args.concurrency)
    with (
        databases(args.database_url, ["inbox"], workdir) as [url],
        in_process_network() as net,
    ):
        group = RemoteGroup("http://peer.test")
        net.add("peer.test", group.app())
        runtime = make_runtime(settings_for("http://inbox.test", url, workdir))
        node = Node("inbox.test", runtime, net)
        clients = [httpx.Client(transport=net, timeout=60) for _ in range(args.concurrency)]
        try:
            run_inbox_phases(figures, runtime, group, "http://inbox.test/inbox", clients)
            figures.floor_per_s = verify_floor(
                group.batch("http://inbox.test/inbox", 10**6, min(count, 300)), group.public
            )
        finally:
            node.close()
    return figures



@contextlib.contextmanager
def uvicorn_thread(app: Any, port: int) -> Iterator[None]:
    """Serve ``app`` from a thread of this process (the peer's actor document)."""
    import uvicorn

    config = uvicorn.Config(
        app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="peer", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_DEADLINE_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the peer's uvicorn did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def maillon_serve(settings: Settings, port: int, log: Path) -> Iterator[tuple[str, int]]:
    """``maillon serve --no-workers`` for these settings (``bench.common.maillon_serve``)."""
    with common.maillon_serve(
        {
            "MAILLON_DATABASE_URL": settings.database_url,
            "MAILLON_PUBLIC_URL": settings.public_url,
            "MAILLON_SECRET_KEY": settings.secret_key,
            "MAILLON_SEARCH_PATH": str(settings.search_path),
            "MAILLON_FEDERATION_ALLOW_PRIVATE": "true",
            "MAILLON_WORKERS": "0",
        },
        port,
        log,
    ) as started:
        yield started


def inbox_http(args: argparse.Namespace, workdir: Path, count: int) -> InboxFigures:
    figures = InboxFigures("http", _db_name(args), count, args.concurrency)
    node_port, peer_port = free_port(), free_port()
    public = f"http://{HOST}:{node_port}"
    with databases(args.database_url, ["inbox-http"], workdir) as [url]:
        settings = settings_for(public, url, workdir)
        group = RemoteGroup(f"http://{HOST}:{peer_port}")
        with (
            uvicorn_thread(group.app(), peer_port),
            maillon_serve(settings, node_port, workdir / "maillon-serve.log") as (base, pid),
        ):
            # the worker runs here, on the same database, as `maillon worker` would
            runtime = make_runtime(settings)
            limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
            clients = [httpx.Client(timeout=60, limits=limits) for _ in range(args.concurrency)]
            try:
                run_inbox_phases(figures, runtime, group, f"{base}/inbox", clients, pid)
                figures.floor_per_s = verify_floor(
                    group.batch(f"{base}/inbox", 10**6, min(count, 300)), group.public
                )
            finally:
                for client in clients:
                    client.close()
                runtime.close()
    return figures


def _db_name(args: argparse.Namespace) -> str:
    return "PostgreSQL" if args.database_url else "SQLite"


def print_inbox(figures: list[InboxFigures]) -> None:
    print(
        "\n| transport | database | activities | receive /s | receive per CPU-s "
        "| apply /s (1 worker) | apply per worker CPU-s | end-to-end /s "
        "| floor /s (verify + json) | receive/floor | then index /s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in figures:
        print(
            f"| {f.transport} | {f.database} | {f.count} | {f.receive_per_s:.0f} "
            f"| {f.receive_per_cpu_s:.0f} | {f.apply_per_s:.0f} | {f.apply_per_cpu_s:.0f} "
            f"| {f.end_to_end_per_s:.0f} | {f.floor_per_s:.0f} "
            f"| {f.receive_per_s / f.floor_per_s:.3f} | {f.index_per_s:.0f} |"
        )
    for f in figures:
        verdict = "met" if f.end_to_end_per_s >= TARGET_INBOX_PER_S else "NOT met"
        judged = " (judged on PostgreSQL)" if f.database == "SQLite" else ""
        receive = (
            f"receive {f.receive_sql[0]:.1f} statements / {f.receive_sql[1]:.1f} commits, "
            if f.receive_sql
            else ""
        )
        cpu = "server process" if f.transport == "http" else "whole process, senders included"
        print(
            f"  {f.transport}/{f.database}: end-to-end {f.end_to_end_per_s:.0f}/s (receiving "
            f"{f.end_to_end_receive_per_s:.0f}/s meanwhile) — target ≥ "
            f"{TARGET_INBOX_PER_S:.0f}/s on one worker: {verdict}{judged}"
        )
        print(
            f"    per activity: {receive}apply {f.apply_sql[0]:.1f} statements / "
            f"{f.apply_sql[1]:.1f} commits; receive CPU = {cpu}; inbox items {f.states}"
        )


# --- 2. fan-out --------------------------------------------------------------------------


class Sink:
    """A trivial peer: reads the body, answers 202, counts per host (one event loop)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.bodies: list[bytes] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        host = dict(scope["headers"]).get(b"host", b"").decode()
        self.received[host] += 1
        if len(self.bodies) < 1:
            self.bodies.append(body)
        await send(
            {"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"0")]}
        )
        await send({"type": "http.response.body", "body": b""})


@dataclass
class FanoutRun:
    workers: int
    write_s: float
    total_s: float
    deliveries: int
    #: CPU seconds of this process over the write and the drain (the workers, the peers,
    #: the transport; the database server's excluded)
    cpu_s: float
    #: SQL statements and commits over the write and the drain, per delivery
    statements: float
    commits: float


def fanout(args: argparse.Namespace, workdir: Path) -> tuple[list[FanoutRun], float, int]:
    hosts, per_host = args.peers, args.followers_per_peer
    with (
        databases(args.database_url, ["fanout"], workdir) as [url],
        in_process_network() as net,
    ):
        node = Node(
            "fanout.test", make_runtime(settings_for("http://fanout.test", url, workdir)), net
        )
        sink = Sink()
        inboxes = [f"http://peer{h}.test/inbox" for h in range(hosts)]
        for h in range(hosts):
            net.add(f"peer{h}.test", sink)
        try:
            token, org = node.organiser("La CoFabrik")
            _expect(node.event(token, org["id"], "Échauffement"), 201)  # warm-up, no followers
            node.runtime.worker().drain()
            with node.runtime.transaction() as session:  # the key exists in steady state
                node.federation.signer(session, org["url"])
                session.add_all(
                    Follower(actor=org["url"], follower=f"http://peer{h}.test/users/u{k}",
                             inbox=inboxes[h])
                    for h in range(hosts) for k in range(per_host)
                )  # fmt: skip
            runs = []
            for workers in sorted({1, args.fanout_threads}):
                runs.append(fanout_once(node, sink, token, org["id"], workers, len(inboxes)))
            floor = fanout_floor(node, net, sink.bodies[0], org["url"], inboxes)
        finally:
            node.close()
    return runs, floor, hosts * per_host


def fanout_once(
    node: Node, sink: Sink, token: str, org_id: str, workers: int, expected: int
) -> FanoutRun:
    before = sum(sink.received.values())
    sql = SqlCounter(node.runtime.engine)
    started, cpu = time.perf_counter(), time.process_time()
    _expect(node.event(token, org_id, f"Fête de quartier ({workers} worker(s))"), 201)
    written = time.perf_counter()
    if workers == 1:
        node.runtime.worker().drain()
    else:
        threads = [threading.Thread(target=node.runtime.worker().drain) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        node.runtime.worker().drain()  # a thread may stop while another still claims
    finished, cpu = time.perf_counter(), time.process_time() - cpu
    statements, commits = sql.take()
    sql.close()
    delivered = sum(sink.received.values()) - before
    if delivered != expected or pending_jobs(node.runtime):
        raise RuntimeError(
            f"{delivered} deliveries of {expected}; {pending_jobs(node.runtime)} jobs left"
        )
    return FanoutRun(
        workers,
        written - started,
        finished - started,
        delivered,
        cpu,
        statements / max(1, delivered),
        commits / max(1, delivered),
    )


def fanout_floor(node: Node, net: Network, body: bytes, actor: str, inboxes: list[str]) -> float:
    """Seconds for the same signed POSTs sent straight by one httpx client (signing included)."""
    with node.runtime.transaction() as session:
        key = node.federation.signer(session, actor)
    auth = SignatureAuth(key.key_id, key.private_key)
    client = httpx.Client(transport=net, timeout=60)
    started = time.perf_counter()
    for inbox in inboxes:
        answer = client.post(
            inbox, content=body, auth=auth, headers={"Content-Type": "application/activity+json"}
        )
        _expect(answer, 202)
    return time.perf_counter() - started


def print_fanout(runs: list[FanoutRun], floor: float, followers: int, hosts: int) -> None:
    print(
        f"\n{followers} followers on {hosts} hosts → {runs[0].deliveries} deliveries "
        "(shared inboxes)\n"
    )
    print(
        "| workers | API write ms | write → every job done s | CPU s (this process) "
        "| SQL statements / commits per delivery | floor s (same POSTs, signed, one client) "
        "| target |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|")
    for run in runs:
        verdict = "met" if run.total_s <= TARGET_FANOUT_S else "NOT met"
        print(
            f"| {run.workers} | {run.write_s * 1000:.0f} | {run.total_s:.2f} | {run.cpu_s:.2f} "
            f"| {run.statements:.1f} / {run.commits:.1f} | {floor:.2f} "
            f"| ≤ {TARGET_FANOUT_S:.0f} s: {verdict} |"
        )


# --- 3. convergence ---------------------------------------------------------------------


@dataclass
class MeiliServer:
    url: str
    key: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def meilisearch(binary: Path, workdir: Path) -> Iterator[MeiliServer]:
    """A Meilisearch on a free loopback port, ready on entry and always stopped."""
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise RuntimeError(f"no Meilisearch binary at {binary} (make meili, or MAILLON_MEILI_BIN)")
    home = workdir / "meilisearch"
    home.mkdir(exist_ok=True)
    key, port = secrets.token_urlsafe(24), free_port()
    with (home / "meilisearch.log").open("ab") as out:
        process = subprocess.Popen(
            [str(binary), "--http-addr", f"{HOST}:{port}", "--no-analytics",
             "--db-path", str(home / "data.ms"), "--dump-dir", str(home / "dumps"),
             f"--master-key={key}", "--env", "development"],
            cwd=home, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    server = MeiliServer(f"http://{HOST}:{port}", key, process)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        with httpx.Client(timeout=2.0) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"Meilisearch exited with {process.returncode}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{server.url}/health").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("Meilisearch did not become healthy")
                time.sleep(0.02)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def unique_word(rng: random.Random) -> str:
    """A word no other event shares, even with one typo forgiven."""
    return "".join(rng.choices(string.ascii_lowercase, k=10))


@dataclass
class Sample:
    word: str
    event_id: str
    at: dt.datetime  # wall clock of the write (the job timestamps are wall clock too)
    write_s: float
    seen_s: float


@dataclass
class ConvergenceFigures:
    backend: str
    samples: list[Sample]
    timeouts: int
    stages: dict[str, list[float]]
    poll_floor_ms: float
    #: Meilisearch alone: one of B's documents (renamed) upserted straight into a scratch
    #: index with the same settings, until a search finds it (seconds)
    engine_floor_s: list[float] = field(default_factory=list)


def converge(
    args: argparse.Namespace,
    workdir: Path,
    backend: str,
    extra_b: dict[str, Any],
    meili: MeiliServer | None = None,
) -> ConvergenceFigures:
    rng = random.Random(args.seed)
    with (
        databases(args.database_url, ["a", "b"], workdir) as [url_a, url_b],
        in_process_network() as net,
    ):
        work = workdir / backend
        work.mkdir(exist_ok=True)
        a = Node("a.test", make_runtime(settings_for("http://a.test", url_a, work)), net)
        b = Node("b.test", make_runtime(settings_for("http://b.test", url_b, work, **extra_b)), net)
        stop = threading.Event()
        threads: list[threading.Thread] = []
        try:
            peers.follow(b.federation, "http://a.test")
            settle([a, b])
            with b.runtime.transaction() as session:
                peer = session.get(Peer, "a.test")
                if peer is None or peer.following != "accepted":
                    raise RuntimeError("node B's follow of node A was not accepted")
            token, org = a.organiser("Vélo Lille")
            threads = [
                threading.Thread(target=node.runtime.worker().run_forever, args=(stop,),
                                 kwargs={"idle_seconds": args.idle_ms / 1000},
                                 name=f"worker-{node.host}",
                                 daemon=True)
                for node in (a, b)
            ]  # fmt: skip
            for thread in threads:
                thread.start()
            poll = args.poll_ms / 1000
            samples: list[Sample] = []
            timeouts = 0
            for n in range(args.warmup_events + args.events):
                word = unique_word(rng)
                at = dt.datetime.now(dt.UTC)
                started = time.perf_counter()
                made = a.event(token, org["id"], f"Atelier {word}")
                written = time.perf_counter()
                _expect(made, 201)
                deadline = started + args.deadline
                seen = None
                while time.perf_counter() < deadline:
                    found = b.api("GET", "/search", params={"q": word, "types": "event"})
                    if found.status_code == 200 and any(
                        word in hit["name"] for hit in found.json()["hits"]
                    ):
                        seen = time.perf_counter()
                        break
                    time.sleep(poll)
                if n < args.warmup_events:
                    continue
                if seen is None:
                    timeouts += 1
                    continue
                samples.append(
                    Sample(word, made.json()["id"], at, written - started, seen - started)
                )
            poll_floor = search_cost_ms(b)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        stages = convergence_stages(a, b, samples)
        a.close()
        b.close()
    engine_floor = meili_floor(meili, min(args.events, 30), rng) if meili else []
    return ConvergenceFigures(backend, samples, timeouts, stages, poll_floor, engine_floor)


def meili_floor(server: MeiliServer, count: int, rng: random.Random) -> list[float]:
    """Seconds from ``POST /documents`` of one document to a search that finds it."""
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.key}"}, timeout=30
    ) as http:

        def done(answer: httpx.Response) -> None:
            uid = answer.json()["taskUid"]
            deadline = time.monotonic() + START_DEADLINE_S
            while http.get(f"/tasks/{uid}").json()["status"] in ("enqueued", "processing"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Meilisearch task {uid} did not finish")
                time.sleep(0.005)

        settings = http.get("/indexes/maillon/settings").json()
        template = http.get("/indexes/maillon/documents", params={"limit": 1}).json()
        [document] = template["results"]
        done(http.post("/indexes", json={"uid": "floor", "primaryKey": "id"}))
        done(http.patch("/indexes/floor/settings", json=settings))
        times = []
        for _ in range(count):
            word = unique_word(rng)
            doc = document | {"id": uuid.uuid4().hex, "name": f"Atelier {word}"}
            started = time.perf_counter()
            answer = http.post("/indexes/floor/documents", json=[doc])
            answer.raise_for_status()
            deadline = started + 30
            while time.perf_counter() < deadline:
                found = http.post("/indexes/floor/search", json={"q": word, "limit": 1})
                if found.json().get("hits"):
                    times.append(time.perf_counter() - started)
                    break
                time.sleep(0.01)
        return times


def search_cost_ms(node: Node) -> float:
    """Median time of one search request on B (what one poll costs), idle workers."""
    times = []
    for _ in range(20):
        started = time.perf_counter()
        node.api("GET", "/search", params={"q": "atelier", "types": "event"})
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def convergence_stages(a: Node, b: Node, samples: list[Sample]) -> dict[str, list[float]]:
    """Per event, the seconds of each stage, read from the job and inbox timestamps."""
    stages: dict[str, list[float]] = {
        "write → A's delivery done": [],
        "→ B's inbox item applied": [],
        "→ B's index job done": [],
        "→ found by the poll": [],
    }
    with a.runtime.transaction() as session:
        deliveries = {
            str(job.payload.get("activity_id")): job.finished_at
            for job in session.scalars(select(Job).where(col(Job.kind) == "deliver"))
        }
        activities = {
            row.object_id: (row.id, row.ap_id)
            for row in session.scalars(
                select(Activity).where(col(Activity.type) == "Create",
                                       col(Activity.object_type) == "event")
            )
        }  # fmt: skip
    with b.runtime.transaction() as session:
        items = {
            row.activity_id.split("#", 1)[0]: row.processed_at
            for row in session.scalars(select(InboxItem))
        }
        copies = {row.ap_id: row.id for row in session.scalars(select(Event))}
        indexed = {
            str(job.payload.get("id")): job.finished_at
            for job in session.scalars(select(Job).where(col(Job.kind) == "index"))
        }
    for sample in samples:
        activity_id, activity_url = activities.get(sample.event_id, ("", ""))
        delivered = deliveries.get(activity_id)
        applied = items.get(activity_url)
        copy = copies.get(a.runtime.urls.event(sample.event_id))
        done = indexed.get(copy or "")
        if not (delivered and applied and done):
            continue
        stages["write → A's delivery done"].append((delivered - sample.at).total_seconds())
        stages["→ B's inbox item applied"].append((applied - delivered).total_seconds())
        stages["→ B's index job done"].append((done - applied).total_seconds())
        found = sample.at + dt.timedelta(seconds=sample.seen_s)
        stages["→ found by the poll"].append((found - done).total_seconds())
    return stages


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def print_convergence(figures: list[ConvergenceFigures], poll_ms: float, idle_ms: float) -> None:
    print(
        f"\npolled every {poll_ms:g} ms, workers idle {idle_ms:g} ms between empty claims; "
        "times from the API write on A to the first search on B that finds the event\n"
    )
    print(
        "| B's search | events | p50 s | p95 s | max s | API write p50 ms | timeouts "
        "| one search on B ms (floor of a poll) | target p95 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for f in figures:
        seen = [s.seen_s for s in f.samples]
        target = TARGET_CONVERGENCE_S[f.backend]
        verdict = "met" if seen and percentile(seen, 95) <= target and not f.timeouts else "NOT met"
        print(
            f"| {f.backend} | {len(seen)} | {percentile(seen, 50):.3f} "
            f"| {percentile(seen, 95):.3f} | {max(seen, default=float('nan')):.3f} "
            f"| {statistics.median([s.write_s for s in f.samples]) * 1000:.0f} "
            f"| {f.timeouts} | {f.poll_floor_ms:.1f} | ≤ {target} s: {verdict} |"
        )
    for f in figures:
        parts = ", ".join(
            f"{name} p50 {percentile(v, 50):.3f} s / p95 {percentile(v, 95):.3f} s"
            for name, v in f.stages.items()
            if v
        )
        print(f"  {f.backend} stages (job timestamps): {parts}")
        if f.engine_floor_s:
            floor = f.engine_floor_s
            print(
                f"  {f.backend} alone (floor): one of B's documents upserted straight into a "
                f"scratch index with the same settings, found by a search after p50 "
                f"{percentile(floor, 50):.3f} s / p95 {percentile(floor, 95):.3f} s "
                f"(max {max(floor):.3f} s, {len(floor)} tries)"
            )


# --- main ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    print("Federation benchmark (bench/federation.py)\n")
    machine(args.database_url)
    with tempfile.TemporaryDirectory(prefix="maillon-bench-fed-") as tmp:
        workdir = Path(tmp)
        if "inbox" in args.only:
            print(
                f"== 1. inbox: {args.activities} signed Create{{Event}} per phase, "
                f"{args.concurrency} sender threads, {_db_name(args)}",
                flush=True,
            )
            figures = []
            transports = (
                ["http", "asgi"] if args.inbox_transport == "both" else [args.inbox_transport]
            )
            for transport in transports:
                make = inbox_http if transport == "http" else inbox_asgi
                figures.append(make(args, workdir, args.activities))
                print(f"   {transport} done", flush=True)
            print_inbox(figures)
        if "fanout" in args.only:
            print(
                f"\n== 2. fan-out: {args.peers} peer hosts × {args.followers_per_peer} "
                f"followers, {_db_name(args)}",
                flush=True,
            )
            runs, floor, followers = fanout(args, workdir)
            print_fanout(runs, floor, followers, args.peers)
        if "convergence" in args.only:
            print(
                f"\n== 3. convergence: {args.events} events (+{args.warmup_events} warm-up) "
                f"A → B, {_db_name(args)}",
                flush=True,
            )
            results = [converge(args, workdir, "embedded", {})]
            if args.meili:
                binary = Path(os.environ.get("MAILLON_MEILI_BIN") or MEILI_BIN)
                with meilisearch(binary, workdir) as meili:
                    extra = {"search": "meilisearch", "meili_url": meili.url,
                             "meili_key": meili.key}  # fmt: skip
                    results.append(converge(args, workdir, "meilisearch", extra, meili))
            print_convergence(results, args.poll_ms, args.idle_ms)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Federation: inbox throughput, fan-out and convergence, beside floors."
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["inbox", "fanout", "convergence"],
        default=["inbox", "fanout", "convergence"],
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL (a schema per node is made and dropped); default: SQLite files",
    )
    parser.add_argument("--quick", action="store_true", help="a small run of everything")
    parser.add_argument(
        "--activities", type=int, default=1000, help="signed activities per inbox phase (1000)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="inbox sender threads (4)")
    parser.add_argument(
        "--inbox-transport",
        choices=["http", "asgi", "both"],
        default="both",
        help="http: a real `maillon serve`; asgi: the in-process Network",
    )
    parser.add_argument("--peers", type=int, default=100, help="fan-out peer hosts (100)")
    parser.add_argument("--followers-per-peer", type=int, default=10)
    parser.add_argument(
        "--fanout-threads", type=int, default=4, help="worker threads of the second fan-out run (4)"
    )
    parser.add_argument("--events", type=int, default=50, help="convergence samples (50)")
    parser.add_argument("--warmup-events", type=int, default=2)
    parser.add_argument("--poll-ms", type=float, default=10.0, help="search poll interval")
    parser.add_argument(
        "--idle-ms",
        type=float,
        default=10.0,
        help="convergence: a worker's sleep when it finds no due job (10; "
        "`maillon serve` workers sleep 500)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=30.0,
        help="seconds before an event counts as not converged",
    )
    parser.add_argument(
        "--meili",
        action="store_true",
        help="also measure convergence with Meilisearch as B's search",
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.quick:
        args.activities = min(args.activities, 150)
        args.peers = min(args.peers, 20)
        args.events = min(args.events, 10)
    args.activities = max(1, min(args.activities, MAX_ACTIVITIES))
    args.events = max(1, min(args.events, MAX_EVENTS))
    args.concurrency = max(1, min(args.concurrency, 32))
    args.fanout_threads = max(1, min(args.fanout_threads, 16))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
