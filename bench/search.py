"""Search benchmark: both backends at 100,000 items, each beside its raw engine.

Not a test: it prints figures and checks them against the targets of issue 3, but
asserts nothing. What it does:

1. generates ``--items`` search documents (default 100,000: 60 % events, 20 %
   organisations, 20 % projects) straight as dicts — French names and descriptions from
   word lists, 16 themes, tags, coordinates clustered around Lille, Roubaix, Tourcoing,
   Villeneuve-d'Ascq and a few other French cities, events over a year. Deterministic
   (``--seed``). No database: the figures are the search layer's;
2. indexes them into the embedded backend (a temporary SQLite file) and into
   Meilisearch (the pinned binary, started on a free loopback port in a temporary
   directory and always stopped), in batches, and prints the indexing times;
3. for each query kind, sends ``--queries`` varied queries through our backend
   (``backend.search(SearchQuery(...))``, the layer under ``GET /api/v1/search``; **not**
   through HTTP) and, alternately, the same question straight to the engine: for
   Meilisearch the very request bodies our backend sends (written out by hand here, and
   checked against what ours sends through an httpx request hook), through a bare httpx
   client (keep-alive, identity encoding); for SQLite hand-written SQL on the same file
   with the stdlib ``sqlite3``. For text+geo on Meilisearch it also times one request
   for the circle's box with 20 hits and facets (not an exact circle nor a distance
   order) as a reference: the least such a query asks of the engine. For text+geo and
   map on Meilisearch, "before" rows time our backend as it was before 2026-12-07 (every
   candidate of a radius's box, the place last in the filter: :func:`code_before`) and
   its raw requests, in the same rounds, and the answers of both are compared;
4. "api" rows: the same questions through HTTP, ``GET /api/v1/search`` on a real node
   (``maillon serve --no-workers``: one uvicorn worker, log level WARNING so no access
   line, a fresh SQLite database that ``serve`` migrates, its search settings pointing at
   the index filled here — the same Meilisearch server, key and index uid, or the same
   SQLite index file), timed at the client end to end (one keep-alive httpx client,
   identity encoding), in the same rounds as the other rows. A few answers per kind are
   compared with ours (total, ids in order, distances, facets) outside the timings. The
   map asks for ``facets=none`` as ours does; the API's "upcoming" is the node's clock,
   so a window from the run's reference time stands for it (the same filter);
5. freshness: an upsert of one changed document, then searches until it is found;
6. prints p50/p95 beside each other and the targets with pass/fail.

Query kinds:

- ``text+geo``: one word + 10 km around a point + one theme + a 30-day window, sorted by
  distance, 20 per page, all facets;
- ``map``: a bounding box (a town's size), 200 pins, no facets, default (date) order;
- ``facets``: no filter (upcoming only), all facets over the whole index, 20 per page;
- ``freshness``: write one document, poll the search for its new word.

    .venv/bin/python bench/search.py                              # the full run
    .venv/bin/python bench/search.py --items 10000 --queries 50  # quicker
    .venv/bin/python bench/search.py --backend meilisearch        # one backend only
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import random
import secrets
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# `python bench/search.py` puts bench/ first on sys.path, where this very file would
# shadow the search package: packages are looked up from the project root instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.common import TAG_WORDS as TAGS  # noqa: E402
from bench.common import THEME_IDS, free_port, maillon_serve  # noqa: E402
from node.settings import load_settings  # noqa: E402
from search import meili as meili_module  # noqa: E402
from search.embedded import EmbeddedBackend  # noqa: E402
from search.embedded_store import key_token  # noqa: E402
from search.geo import EARTH_RADIUS_KM, box_around, distances_from, inner_cross  # noqa: E402
from search.meili import (  # noqa: E402
    MAX_TOTAL_HITS,
    RING_DENSITY,
    RING_SHARE,
    MeiliBackend,
    count_facets,
)
from search.query import FACETS, BBox, Point, SearchQuery, SearchResult, Sort  # noqa: E402
from search.service import make_backend  # noqa: E402

MEILI_VERSION = "1.21.0"
MEILI_BIN = ROOT / ".cache" / "meilisearch" / f"meilisearch-{MEILI_VERSION}"
#: the index uid a node reads (``make_backend``: MeiliBackend's default), so that the node
#: of the "api" rows searches the index filled here (checked in :func:`run`)
INDEX = "maillon"
HOST = "127.0.0.1"
START_DEADLINE_S = 60.0
FRESHNESS_DEADLINE_S = 10.0
BATCH = 5_000
MAX_ITEMS = 500_000
MAX_QUERIES = 2_000
#: text+geo queries whose answer is compared with the one before (outside the timings)
SAME_ANSWER_CHECKS = 50
#: queries per kind whose API answer is compared with ours (outside the timings)
API_CHECKS = 5
#: the reference "now" of the run (upcoming events, the dates of the generated events)
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
DAY = 86_400

#: (city, latitude, longitude, weight, spread in degrees)
CITIES = (
    ("Lille", 50.6292, 3.0573, 30, 0.020),
    ("Roubaix", 50.6942, 3.1746, 12, 0.012),
    ("Tourcoing", 50.7239, 3.1612, 10, 0.012),
    ("Villeneuve-d'Ascq", 50.6233, 3.1450, 10, 0.015),
    ("Lambersart", 50.6500, 3.0250, 4, 0.008),
    ("Armentières", 50.6881, 2.8800, 3, 0.008),
    ("Paris", 48.8566, 2.3522, 12, 0.040),
    ("Lyon", 45.7640, 4.8357, 6, 0.030),
    ("Nantes", 47.2184, -1.5536, 4, 0.025),
    ("Marseille", 43.2965, 5.3698, 4, 0.035),
    ("Strasbourg", 48.5734, 7.7521, 3, 0.020),
    ("Rennes", 48.1173, -1.6778, 2, 0.020),
)
LILLE_AREA = CITIES[:6]
NOUNS = (
    "atelier", "jardin", "repair", "café", "marché", "fête", "conférence", "chantier",
    "ressourcerie", "cuisine", "bibliothèque", "vélo", "compost", "forum", "collecte",
    "balade", "concert", "permanence", "formation", "rencontre", "épicerie", "friperie",
    "coopérative", "théâtre", "potager", "troc", "lecture", "projection", "débat", "brocante",
)  # fmt: skip
QUALIFIERS = (
    "partagé", "solidaire", "citoyen", "participatif", "zéro déchet", "du quartier",
    "des voisins", "en famille", "numérique", "de saison", "bio", "populaire", "collectif",
    "ouvert", "intergénérationnel", "éco-responsable", "de l'été", "d'hiver",
)  # fmt: skip
ORG_WORDS = (
    "Association", "Collectif", "Coopérative", "Maison", "Amicale", "Réseau", "Fabrique",
    "Comité", "Atelier", "Union",
)  # fmt: skip
PLACES = (
    "Fives", "Wazemmes", "Moulins", "Vauban", "Saint-Maurice", "Hellemmes", "Bois-Blancs",
    "l'Épeule", "Alma", "Pont-de-Bois", "Triolo", "Flers", "Croix", "Mons", "la Bourgogne",
)  # fmt: skip
FILLER = (
    "pour", "avec", "les", "habitants", "ensemble", "chaque", "semaine", "venez", "partager",
    "apprendre", "réparer", "cultiver", "découvrir", "gratuit", "ouvert", "à", "tous",
    "et", "toutes", "autour", "d'un", "goûter", "bénévoles", "accueil", "convivial",
)  # fmt: skip
WORDS = [w for w in NOUNS if " " not in w]


# -- data ---------------------------------------------------------------------------------


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _place(rng: random.Random, weights: list[int]) -> tuple[str, float | None, float | None]:
    city, lat, lng, _, spread = rng.choices(CITIES, weights=weights)[0]
    if rng.random() < 0.03:  # online-only: no coordinates
        return city, None, None
    return city, round(rng.gauss(lat, spread), 6), round(rng.gauss(lng, spread * 1.5), 6)


def generate(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` search documents (the shape of :mod:`search.documents`)."""
    rng = random.Random(seed)
    weights = [c[3] for c in CITIES]
    n_orgs = max(1, n // 5)
    n_projects = n // 5
    docs: list[dict[str, Any]] = []
    orgs: list[tuple[str, str]] = []
    version = int(NOW.timestamp() * 1000)

    def base(kind: str, name: str, org_ids: list[str], org_names: list[str]) -> dict[str, Any]:
        object_id = _uuid(rng)
        city, lat, lng = _place(rng, weights)
        words = [rng.choice(FILLER) for _ in range(rng.randint(8, 24))]
        words[rng.randrange(len(words))] = rng.choice(NOUNS)
        return {
            "id": f"{kind}-{object_id}",
            "type": kind,
            "object_id": object_id,
            "url": f"https://bench.maillon.test/{kind}s/{object_id}",
            "origin": "local" if rng.random() < 0.9 else "autre.maillon.test",
            "name": name,
            "description": " ".join(words).capitalize() + ".",
            "themes": rng.sample(THEME_IDS, rng.choice((1, 1, 2, 2, 3))),
            "tags": rng.sample(TAGS, rng.randint(0, 4)),
            "organisation_ids": org_ids,
            "organisation_names": org_names,
            "city": city,
            "postal_code": None,
            "insee_code": None,
            "lat": lat,
            "lng": lng,
            "starts_at": None,
            "ends_at": None,
            "status": None,
            "kind": None,
            "stage": None,
            "version": version,
        }

    for _ in range(n_orgs):
        name = f"{rng.choice(ORG_WORDS)} {rng.choice(NOUNS)} {rng.choice(QUALIFIERS)}"
        name = f"{name} de {rng.choice(PLACES)}".capitalize()
        doc = base("organisation", name, [], [])
        doc["organisation_ids"], doc["organisation_names"] = [doc["object_id"]], [name]
        doc["kind"] = rng.choice(("association", "cooperative", "informal-group"))
        orgs.append((doc["object_id"], name))
        docs.append(doc)
    for _ in range(n_projects):
        org_id, org_name = rng.choice(orgs)
        name = f"Projet {rng.choice(NOUNS)} {rng.choice(QUALIFIERS)} à {rng.choice(PLACES)}"
        doc = base("project", name, [org_id], [org_name])
        doc["stage"] = rng.choice(("idea", "running", "done"))
        docs.append(doc)
    start = int(NOW.timestamp()) - 30 * DAY
    for _ in range(n - len(docs)):
        chosen = rng.sample(orgs, rng.choice((1, 1, 1, 2)))
        name = f"{rng.choice(NOUNS)} {rng.choice(QUALIFIERS)}".capitalize()
        if rng.random() < 0.5:
            name += f" à {rng.choice(PLACES)}"
        doc = base("event", name, [o for o, _ in chosen], [m for _, m in chosen])
        begins = start + rng.randrange(365 * 24) * 3600
        doc.update(
            starts_at=begins,
            ends_at=begins + rng.choice((1, 2, 3, 4, 8, 48)) * 3600,
            status="cancelled" if rng.random() < 0.03 else "confirmed",
            timezone="Europe/Paris",
            online_url=None,
        )
        docs.append(doc)
    rng.shuffle(docs)
    return docs


# -- Meilisearch server (the approach of tests/search/conftest.py) ------------------------


@dataclass(frozen=True)
class MeiliServer:
    url: str
    key: str
    process: subprocess.Popen[bytes]
    log: Path



def start_meili(binary: Path, workdir: Path) -> MeiliServer:
    workdir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(24)
    port = free_port()
    log = workdir / "meilisearch.log"
    command = [
        str(binary),
        "--http-addr", f"{HOST}:{port}",
        "--no-analytics",
        "--db-path", str(workdir / "data.ms"),
        "--dump-dir", str(workdir / "dumps"),
        f"--master-key={key}",  # a key may start with "-"
        "--env", "development",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = MeiliServer(f"http://{HOST}:{port}", key, process, log)
    deadline = time.monotonic() + START_DEADLINE_S
    with httpx.Client(timeout=2.0) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Meilisearch exited ({process.returncode}); see {log}")
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{server.url}/health").status_code == 200:
                    return server
            if time.monotonic() > deadline:
                stop_meili(server)
                raise RuntimeError(f"Meilisearch not healthy after {START_DEADLINE_S:.0f} s")
            time.sleep(0.02)


def stop_meili(server: MeiliServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


# -- the node, through HTTP ("api" rows) -------------------------------------------------


@contextlib.contextmanager
def node_serve(search_env: dict[str, str], workdir: Path) -> Iterator[str]:
    """``maillon serve --no-workers`` as a real process on a free loopback port: one
    uvicorn worker, log level WARNING (no access line per request), a fresh SQLite
    database in ``workdir`` (``serve`` migrates it), the search settings ``search_env``
    (``MAILLON_SEARCH`` and where the index is). Yields its base URL; always stopped."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings = {
        "MAILLON_DATABASE_URL": f"sqlite:///{workdir / 'node.db'}",
        "MAILLON_SECRET_KEY": secrets.token_urlsafe(32),
        "MAILLON_WORKERS": "0",
        "MAILLON_LOG_LEVEL": "WARNING",
        **search_env,
    }
    port = free_port()
    settings["MAILLON_PUBLIC_URL"] = f"http://{HOST}:{port}"
    with maillon_serve(settings, port, workdir / "maillon-serve.log") as (base, _):
        yield base


class ApiClient:
    """``GET /api/v1/search`` through one kept-alive httpx client (identity encoding)."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(
            base_url=base, headers={"Accept-Encoding": "identity"}, timeout=30.0
        )

    def close(self) -> None:
        self.client.close()

    def search(self, params: dict[str, str | int]) -> dict[str, Any]:
        response = self.client.get("/api/v1/search", params=params)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


@contextlib.contextmanager
def node_api(search_env: dict[str, str], workdir: Path) -> Iterator[ApiClient]:
    with node_serve(search_env, workdir) as base:
        api = ApiClient(base)
        try:
            yield api
        finally:
            api.close()


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def text_geo_api(q: TextGeo, radius: float) -> dict[str, str | int]:
    """text+geo's SearchQuery as the API's parameters (facets: all, the default)."""
    return {
        "q": q.word, "themes": q.theme, "lat": repr(q.point.lat), "lon": repr(q.point.lon),
        "radius_km": repr(radius), "start": _iso(q.start), "end": _iso(q.end),
        "sort": "distance", "limit": 20,
    }  # fmt: skip


def map_api(box: BBox, now: int) -> dict[str, str | int]:
    """The map's SearchQuery as the API's parameters (no facets), "upcoming" at the
    run's reference time (the node's is its clock) as a window from it: the same
    filter."""
    return {
        "bbox": f"{box.min_lon!r},{box.min_lat!r},{box.max_lon!r},{box.max_lat!r}",
        "start": _iso(now), "limit": 200, "facets": "none",
    }  # fmt: skip


def facets_api(now: int) -> dict[str, str | int]:
    """The facets' SearchQuery ("upcoming" at ``now``: a window from it; facets: all)."""
    return {"start": _iso(now), "limit": 20}


def _same_api_answer(ours: SearchResult, api: dict[str, Any], facets: bool) -> bool:
    """Whether the API answered as ours: total, ids in order, distances (and facets)."""
    return bool(
        ours.total == api["total"]
        and [(h.object_id, h.distance_km) for h in ours.hits]
        == [(h["id"], h["distance_km"]) for h in api["hits"]]
        and (not facets or ours.facets == api["facets"])
    )


# -- raw engines --------------------------------------------------------------------------


class RawMeili:
    """Hand-written Meilisearch requests: the request bodies our backend sends (checked
    once per query kind by :class:`Recorder`), sent with a bare httpx client. ``sent``
    keeps the bodies of the searches (each query of a multi-search), for that check."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.client = httpx.Client(
            headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"},
            timeout=30.0,
        )
        self.sent: list[dict[str, Any]] = []

    def close(self) -> None:
        self.client.close()

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(body)
        response = self.client.post(f"{self.url}/indexes/{INDEX}/search", json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def multi(self, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.sent.extend(bodies)
        queries = [{"indexUid": INDEX, **body} for body in bodies]
        response = self.client.post(f"{self.url}/multi-search", json={"queries": queries})
        response.raise_for_status()
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def fetch(self, ids: list[str]) -> list[dict[str, Any]]:
        """The documents of these ids, in this order."""
        body = {"ids": ids, "limit": len(ids)}
        response = self.client.post(f"{self.url}/indexes/{INDEX}/documents/fetch", json=body)
        response.raise_for_status()
        found = {d["id"]: d for d in response.json()["results"]}  # in the engine's order
        return [found[i] for i in ids if i in found]

    def text_geo(
        self, q: TextGeo, radius: float, limit: int
    ) -> tuple[int, list[dict[str, Any]], dict[str, dict[str, int]]]:
        """Our requests for a radius in distance order (docs/search.md, "A radius"): one
        multi-search — the box counted (``limit`` 0, facets), its rim and corners (outside
        the cross of :func:`search.geo.inner_cross`) and a ring around the point (ids,
        coordinates, facet fields) — then the page's documents, or a ring sized from the
        density when the first one held too few. In between: the distances, the corners'
        facets taken off the box's, the nearest sorted."""
        point = q.point
        count, rim = text_geo_bodies(q, radius)
        counted, candidates = self.multi([count, rim])
        counts = {f: dict(v) for f, v in (counted.get("facetDistribution") or {}).items()}
        distance = distances_from(point)
        near: list[tuple[float, str]] = []
        beyond = []
        for hit in candidates["hits"]:
            away = distance(hit["lat"], hit["lng"])
            if away > radius:
                beyond.append(hit)
            elif away <= radius * RING_SHARE:
                near.append((away, hit["id"]))
        for facet, values in count_facets(beyond, FACETS).items():
            for value, n in values.items():
                counts[facet][value] -= n
        counts = {f: {v: n for v, n in vs.items() if n} for f, vs in counts.items()}
        total = sum(counts.get("type", {}).values())
        if len(near) >= min(limit, total):  # the page, or the whole circle (as ours)
            near.sort()
            return total, self.fetch([i for _, i in near[:limit]]), counts
        around = radius * math.sqrt(min(1.0, RING_DENSITY * limit / max(1, total)))
        around = max(around, 2 * radius * RING_SHARE)
        while True:
            around = min(around, radius)
            body = {
                "q": q.word,
                "filter": _text_geo_filter(q, box_around(point, radius)),
                "matchingStrategy": "all",
                "limit": MAX_TOTAL_HITS,
            }
            if around < radius:
                body["filter"] = f"({_box_filter(box_around(point, around))}) AND {body['filter']}"
            docs = sorted(
                (away, d["id"], d)
                for d in self.search(body)["hits"]
                if (away := distance(d["lat"], d["lng"])) <= around
            )
            if len(docs) >= limit or around >= radius:
                return total, [d for _, _, d in docs[:limit]], counts
            around *= 2

    def text_geo_before(
        self, body: dict[str, Any], point: Point, radius: float, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """The requests for a radius before 2026-12-07: every candidate of the circle's box
        (ids, coordinates and facet fields), then the documents of the nearest ``limit``
        inside the circle — with only the distances computed in between (no facet counts)."""
        phi1, cos1 = math.radians(point.lat), math.cos(math.radians(point.lat))
        sin, cos, rad = math.sin, math.cos, math.radians
        inside = []
        for hit in self.search(body)["hits"]:
            lat, lng = hit.get("lat"), hit.get("lng")
            if lat is None or lng is None:
                continue
            dlng = rad(lng - point.lon)
            h = sin((rad(lat) - phi1) / 2) ** 2 + cos1 * cos(rad(lat)) * sin(dlng / 2) ** 2
            away = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
            if away <= radius:
                inside.append((away, hit["id"]))
        inside.sort()
        return len(inside), self.fetch([i for _, i in inside[:limit]])

    def add(self, doc: dict[str, Any]) -> None:
        response = self.client.post(f"{self.url}/indexes/{INDEX}/documents", json=[doc])
        response.raise_for_status()

    def version(self) -> str:
        return str(self.client.get(f"{self.url}/version").json().get("pkgVersion", "?"))


HAVERSINE = (
    "(2 * :earth * asin(min(1.0, sqrt(pow(sin((radians(d.lat) - :phi1) / 2), 2)"
    " + :cos1 * cos(radians(d.lat)) * pow(sin(radians(d.lng - :plon) / 2), 2)))))"
)
UPCOMING = "(d.type <> 'event' OR d.ends_at >= :now)"
DATE_ORDER = (
    "d.type <> 'event', d.starts_at,"
    " CASE WHEN d.type = 'event' THEN NULL ELSE d.name_sort END, d.id"
)


class RawSQLite:
    """Hand-written SQL on the embedded backend's file (stdlib ``sqlite3``)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA cache_size = -65536")
        self.conn.execute("PRAGMA temp_store = MEMORY")

    def close(self) -> None:
        self.conn.close()

    def _bodies(self, rids: list[int]) -> list[dict[str, Any]]:
        rows = dict(
            self.conn.execute(
                "SELECT rid, body FROM bodies WHERE rid IN (SELECT value FROM json_each(?))",
                (json.dumps(rids),),
            ).fetchall()
        )
        return [json.loads(rows[r]) for r in rids]

    def _facets(self, rids: list[int]) -> dict[str, dict[str, int]]:
        ids = json.dumps(rids)
        inside = "IN (SELECT value FROM json_each(?))"
        counts: dict[str, dict[str, int]] = {"type": {}, "city": {}}
        for kind, city, n in self.conn.execute(
            f"SELECT type, city, count(*) FROM docs WHERE rid {inside} GROUP BY 1, 2", (ids,)
        ):
            counts["type"][kind] = counts["type"].get(kind, 0) + n
            if city is not None:
                counts["city"][city] = counts["city"].get(city, 0) + n
        for name, table in (("themes", "doc_themes"), ("tags", "doc_tags")):
            sql = f"SELECT value, count(*) FROM {table} WHERE doc {inside} GROUP BY 1"
            counts[name] = dict(self.conn.execute(sql, (ids,)).fetchall())
        return counts

    def text_geo(
        self, word: str, theme: str, point: Point, radius: float, start: int, end: int
    ) -> tuple[int, list[dict[str, Any]], dict[str, dict[str, int]]]:
        box = box_around(point, radius)
        phi1 = math.radians(point.lat)
        match = (
            f'{{name description organisation_names tags city}} : ("{word}"*)'
            f' AND keys : ("{key_token("themes", theme)}")'
        )
        sql = (
            f"SELECT d.rid, {HAVERSINE} AS dist, d.id FROM docs_fts"
            " CROSS JOIN docs AS d ON d.rid = docs_fts.rowid"
            " WHERE docs_fts MATCH :match AND d.status IS NOT 'cancelled'"
            " AND (d.type <> 'event' OR (d.ends_at >= :start AND d.starts_at <= :end))"
            " AND d.lat BETWEEN :a AND :b AND d.lng BETWEEN :c AND :e"
            f" AND {HAVERSINE} <= :radius"
        )
        params = {
            "match": match, "start": start, "end": end, "radius": radius,
            "a": box.min_lat, "b": box.max_lat, "c": box.min_lon, "e": box.max_lon,
            "earth": EARTH_RADIUS_KM, "phi1": phi1, "cos1": math.cos(phi1), "plon": point.lon,
        }  # fmt: skip
        found = sorted((dist, doc_id, rid) for rid, dist, doc_id in self.conn.execute(sql, params))
        rids = [rid for _, _, rid in found]
        return len(found), self._bodies(rids[:20]), self._facets(rids)

    def map(self, box: BBox, now: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """The total (counted in the covering index of places) and the first ``limit`` in
        date order (read from the date index: a town's box holds a tenth of the index)."""
        where = (
            "d.lat BETWEEN :a AND :b AND d.lng BETWEEN :c AND :e"
            f" AND d.status IS NOT 'cancelled' AND {UPCOMING}"
        )
        params = {
            "a": box.min_lat, "b": box.max_lat, "c": box.min_lon, "e": box.max_lon,
            "now": now, "limit": limit,
        }  # fmt: skip
        count = f"SELECT count(*) FROM docs AS d INDEXED BY docs_place WHERE {where}"
        (total,) = self.conn.execute(count, params).fetchone()
        sql = (
            f"SELECT d.rid FROM docs AS d INDEXED BY docs_date_order WHERE {where}"
            f" ORDER BY {DATE_ORDER} LIMIT :limit"
        )
        rids = [r for (r,) in self.conn.execute(sql, params)]
        return total, self._bodies(rids)

    def facets(self, now: int) -> tuple[int, list[dict[str, Any]], dict[str, dict[str, int]]]:
        where = f"d.status IS NOT 'cancelled' AND {UPCOMING}"
        counts: dict[str, dict[str, int]] = {"type": {}, "city": {}}
        total = 0
        for kind, city, n in self.conn.execute(
            f"SELECT d.type, d.city, count(*) FROM docs AS d WHERE {where} GROUP BY 1, 2",
            {"now": now},
        ):
            total += n
            counts["type"][kind] = counts["type"].get(kind, 0) + n
            if city is not None:
                counts["city"][city] = counts["city"].get(city, 0) + n
        for name, table in (("themes", "doc_themes"), ("tags", "doc_tags")):
            sql = (
                f"SELECT x.value, count(*) FROM docs AS d CROSS JOIN {table} AS x"
                f" ON x.doc = d.rid WHERE {where} GROUP BY 1"
            )
            counts[name] = dict(self.conn.execute(sql, {"now": now}).fetchall())
        page = [
            r
            for (r,) in self.conn.execute(
                f"SELECT d.rid FROM docs AS d WHERE {where} ORDER BY {DATE_ORDER} LIMIT 20",
                {"now": now},
            )
        ]
        return total, self._bodies(page), counts

    def rename(self, rid: int, doc: dict[str, Any], word: str) -> None:
        """A renamed document, by hand, in one transaction: its full-text row, its stored
        body and sort key, and the new word in the vocabulary (of the typo fallback)."""
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        plain = unicodedata.normalize("NFKD", doc["name"]).encode("ascii", "ignore").decode()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE docs_fts SET name = ? WHERE rowid = ?", (doc["name"], rid))
        self.conn.execute("UPDATE bodies SET body = ? WHERE rid = ?", (body, rid))
        self.conn.execute(
            "UPDATE docs SET name_sort = ?, version = version + 1 WHERE rid = ?",
            (plain.lower(), rid),
        )
        self.conn.execute(
            "INSERT INTO vocab (term, n) VALUES (?, 1)"
            " ON CONFLICT (term) DO UPDATE SET n = n + 1",
            (word,),
        )
        self.conn.execute("COMMIT")

    def find(self, word: str) -> bool:
        row = self.conn.execute(
            "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? LIMIT 1",
            (f'{{name description organisation_names tags city}} : ("{word}")',),
        ).fetchone()
        return row is not None

    def rid_of(self, doc_id: str) -> int:
        rid: int = self.conn.execute("SELECT rid FROM docs WHERE id = ?", (doc_id,)).fetchone()[0]
        return rid


# -- meilisearch raw bodies ---------------------------------------------------------------


# Written out by hand, in the form our backend sends (each filter part in parentheses,
# joined by AND); `Recorder` checks that ours sends exactly these bodies.


def _box_filter(box: BBox) -> str:
    return f"lat {box.min_lat} TO {box.max_lat} AND lng {box.min_lon} TO {box.max_lon}"


def _upcoming_filter(now: int) -> str:
    return (
        f'(status != "cancelled") AND (type != "event" OR ends_at >= {now}'
        f" OR (ends_at IS NULL AND starts_at >= {now}))"
    )


def text_geo_body(q: TextGeo, radius: float, *, place_first: bool = True) -> dict[str, Any]:
    """Every candidate of the circle's box, with what the cut and the facets need.

    ``place_first=False``: the filter of the code before 2026-12-07 (the box last)."""
    return {
        "q": q.word,
        "filter": _text_geo_filter(q, box_around(q.point, radius), place_first=place_first),
        "matchingStrategy": "all",
        "limit": MAX_TOTAL_HITS,
        "attributesToRetrieve": ["id", "lat", "lng", *FACETS],
    }


def text_geo_bodies(q: TextGeo, radius: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first two of our requests for a radius in distance order: the box counted (total
    and facets), and its rim and corners with a ring around the point."""
    count = {**text_geo_body(q, radius), "limit": 0, "facets": sorted(FACETS)}
    del count["attributesToRetrieve"]
    cross = " OR ".join(f"({_box_filter(b)})" for b in inner_cross(q.point, radius))
    ring = box_around(q.point, radius * RING_SHARE)
    rim = text_geo_body(q, radius)
    rim["filter"] += f" AND ((NOT ({cross})) OR ({_box_filter(ring)}))"
    return count, rim


def _text_geo_filter(q: TextGeo, box: BBox, *, place_first: bool = True) -> str:
    window = (
        f"(ends_at >= {q.start} OR (ends_at IS NULL AND starts_at >= {q.start}))"
        f" AND starts_at <= {q.end}"
    )
    rest = (
        f'(themes IN ["{q.theme}"]) AND (status != "cancelled")'
        f' AND (type != "event" OR ({window}))'
    )
    place = f"({_box_filter(box)})"
    return f"{place} AND {rest}" if place_first else f"{rest} AND {place}"


def map_body(box: BBox, now: int, *, place_first: bool = True) -> dict[str, Any]:
    """A map's pins: the box and "upcoming", the date order (``place_first=False``: the
    filter of the code before 2026-12-07)."""
    place, upcoming = f"({_box_filter(box)})", _upcoming_filter(now)
    return date_page_body(
        f"{place} AND {upcoming}" if place_first else f"{upcoming} AND {place}", 200, ()
    )


def text_geo_reference_body(q: TextGeo, radius: float) -> dict[str, Any]:
    """Not the same question: one request for the circle's box (corners included), 20 hits
    in relevance order, facets over the box — the least any exact answer has to ask."""
    body = text_geo_body(q, radius)
    del body["attributesToRetrieve"]
    return {**body, "facets": list(FACETS), "limit": 20}


def date_page_body(filter_: str, limit: int, facets: Sequence[str]) -> dict[str, Any]:
    """The date order in one request: events by start then id, with the facets."""
    return {
        "q": "",
        "filter": filter_,
        "matchingStrategy": "all",
        "limit": limit,
        "sort": ["starts_at:asc", "id:asc"],
        "facets": sorted({"type", *facets}),
    }


@contextlib.contextmanager
def code_before(backend: MeiliBackend) -> Iterator[None]:
    """Our backend as it was before 2026-12-07, for the "before" rows measured in the same
    run: a radius fetched every candidate of its box (``staircase = False``, the path still
    used for a circle the cross cannot serve) and the place came last in the filter. The
    body check proves the requests are the old ones; the Python around them is today's."""
    current = meili_module.filters

    def place_last(query: SearchQuery) -> list[str]:
        parts = current(query)
        places = int(query.bbox is not None)
        places += int(query.point is not None and query.radius_km is not None)
        return parts[places:] + parts[:places]

    meili_module.filters = place_last
    backend.staircase = False
    try:
        yield
    finally:
        meili_module.filters = current
        backend.staircase = True


def _before(backend: MeiliBackend, call: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        with code_before(backend):
            return call()

    return run


class Recorder:
    """An httpx request hook keeping the JSON bodies of the searches our backend sends
    while ``on`` (each query of a multi-search), to check that the raw requests are the
    same."""

    def __init__(self) -> None:
        self.on = False
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> None:
        if self.on and request.url.path.endswith("/search"):
            self.bodies.append(json.loads(request.content))
        elif self.on and request.url.path.endswith("/multi-search"):
            for query in json.loads(request.content)["queries"]:
                self.bodies.append({k: v for k, v in query.items() if k != "indexUid"})

    def sent(self, call: Callable[[], object]) -> list[dict[str, Any]]:
        self.bodies, self.on = [], True
        try:
            call()
        finally:
            self.on = False
        return self.bodies


# -- measuring ----------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


@dataclass
class Figure:
    samples: list[float]  # milliseconds

    @property
    def p50(self) -> float:
        return percentile(sorted(self.samples), 50)

    @property
    def p95(self) -> float:
        return percentile(sorted(self.samples), 95)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def rotate(calls: Sequence[Sequence[Callable[[], object]]], warmup: int) -> list[Figure]:
    """Time each query's calls back to back, each query starting with the next call in
    turn (so that none always runs first, or right after another), the first ``warmup``
    queries unmeasured."""
    samples: list[list[float]] = [[] for _ in calls[0]] if calls else []
    for i, group in enumerate(calls):
        times = [0.0] * len(group)
        for step in range(len(group)):
            which = (i + step) % len(group)
            times[which] = timed(group[which])
        if i >= warmup:
            for which, ms in enumerate(times):
                samples[which].append(ms)
    return [Figure(s) for s in samples]


@dataclass(frozen=True)
class TextGeo:
    word: str
    theme: str
    point: Point
    start: int
    end: int


def text_geo_params(rng: random.Random, n: int) -> list[TextGeo]:
    out = []
    for _ in range(n):
        _, lat, lng, _, spread = rng.choice(LILLE_AREA)
        start = int(NOW.timestamp()) + rng.randrange(300) * DAY
        out.append(
            TextGeo(
                word=rng.choice(WORDS),
                theme=rng.choice(THEME_IDS),
                point=Point(round(rng.gauss(lat, spread), 5), round(rng.gauss(lng, spread), 5)),
                start=start,
                end=start + 30 * DAY,
            )
        )
    return out


def map_boxes(rng: random.Random, n: int) -> list[BBox]:
    out = []
    for _ in range(n):
        _, lat, lng, _, _ = rng.choice(LILLE_AREA)
        lat, lng = rng.gauss(lat, 0.01), rng.gauss(lng, 0.015)
        out.append(BBox(lat - 0.03, lng - 0.045, lat + 0.03, lng + 0.045))
    return out


@dataclass
class Checks:
    """What a run verified besides the timings, and the rows beside ours and raw."""

    same_bodies: dict[str, bool]  # query kind → ours sent exactly the raw request bodies
    reference: Figure | None = None  # text+geo: one request for the box, not exact
    #: query kind → (ours, raw) with the code before 2026-12-07, timed in the same rounds
    before: dict[str, tuple[Figure, Figure]] = field(default_factory=dict)
    same_answers: tuple[int, int] = (0, 0)  # text+geo: (ours = ours before, compared)
    #: query kind → GET /api/v1/search on the node, timed in the same rounds
    api: dict[str, Figure] = field(default_factory=dict)
    #: query kind → (API answers = ours, compared)
    api_same: dict[str, tuple[int, int]] = field(default_factory=dict)


def measure_queries(
    name: str,
    backend: Any,
    n: int,
    seed: int,
    raw_meili: RawMeili | None,
    raw_sql: RawSQLite | None,
    recorder: Recorder | None = None,
    api: ApiClient | None = None,
) -> tuple[dict[str, tuple[Figure, Figure]], Checks]:
    """The three query kinds through ``backend``, beside the raw engine (and through the
    node's API when ``api`` is given), every row of a kind timed in the same rounds."""
    rng = random.Random(seed)
    warmup = min(10, max(1, n // 10))
    figures: dict[str, tuple[Figure, Figure]] = {}
    checks = Checks(same_bodies={})
    fmt = "%Y-%m-%d"

    def utc(epoch: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(epoch, dt.UTC)

    def check(kind: str, ours: Callable[[], object], bodies: list[dict[str, Any]]) -> None:
        if recorder is not None:
            sent = recorder.sent(ours)
            checks.same_bodies[kind] = checks.same_bodies.get(kind, True) and sent == bodies
            if sent != bodies:
                print(f"  {name}: {kind}: ours sent {sent!r}, raw sends {bodies!r}", flush=True)

    def through_api(
        kind: str, query: SearchQuery, params: dict[str, str | int], facets: bool = True
    ) -> list[Callable[[], object]]:
        """The API's call for this query (none without a node), its answer compared with
        ours for the first ``API_CHECKS`` queries of the kind (outside the timings)."""
        if api is None:
            return []
        equal, compared = checks.api_same.get(kind, (0, 0))
        if compared < API_CHECKS:
            ours, theirs = backend.search(query), api.search(params)
            same = _same_api_answer(ours, theirs, facets)
            if not same:
                print(
                    f"  {name}: {kind}: the API answered otherwise: total {theirs['total']}"
                    f" (ours {ours.total}), ids {[h['id'] for h in theirs['hits'][:3]]}…"
                    f" (ours {[h.object_id for h in ours.hits[:3]]}…)",
                    flush=True,
                )
            checks.api_same[kind] = (equal + same, compared + 1)
        return [_bind(api.search, params)]

    def measured(kind: str, rounds: list[list[Callable[[], object]]]) -> list[Figure]:
        """Ours, raw and the rest of the rows in the order of the rounds; the API's (the
        last) into ``checks``."""
        timed = rotate(rounds, warmup)
        if api is not None:
            checks.api[kind] = timed.pop()
        figures[kind] = (timed[0], timed[1])
        return timed

    # text + 10 km + theme + 30-day window, by distance
    rounds: list[list[Callable[[], object]]] = []
    same, compared = 0, 0
    for q in text_geo_params(rng, n + warmup):
        query = SearchQuery(
            text=q.word, themes=(q.theme,), point=q.point, radius_km=10.0,
            start=utc(q.start), end=utc(q.end), sort=Sort.distance, now=NOW,
        )  # fmt: skip
        ours = _bind(backend.search, query)
        if raw_meili is not None:
            old = text_geo_body(q, 10.0, place_first=False)
            if len(rounds) < SAME_ANSWER_CHECKS:  # outside the timings
                raw_meili.sent = []
                raw_meili.text_geo(q, 10.0, 20)
                check("text+geo", ours, raw_meili.sent)
                check("text+geo before", _before(backend, ours), [old])
                compared += 1
                same += _same_answer(backend.search(query), _before(backend, ours)())
            calls = [
                ours, _bind(raw_meili.text_geo, q, 10.0, 20),
                _before(backend, ours), _bind(raw_meili.text_geo_before, old, q.point, 10.0, 20),
                _bind(raw_meili.search, text_geo_reference_body(q, 10.0)),
            ]  # fmt: skip
        else:
            assert raw_sql is not None
            args = (q.word, q.theme, q.point, 10.0, q.start, q.end)
            calls = [ours, _bind(raw_sql.text_geo, *args)]
        rounds.append(calls + through_api("text+geo", query, text_geo_api(q, 10.0)))
    timed = measured("text+geo", rounds)
    if raw_meili is not None:
        checks.before["text+geo"] = (timed[2], timed[3])
        checks.reference = timed[4]
        checks.same_answers = (same, compared)
    print(f"  {name}: text+geo done", flush=True)

    # map: a box, 200 pins
    rounds = []
    now = int(NOW.timestamp())
    for box in map_boxes(rng, n + warmup):
        query = SearchQuery(bbox=box, limit=200, facets=(), now=NOW)
        ours = _bind(backend.search, query)
        if raw_meili is not None:
            body, old = map_body(box, now), map_body(box, now, place_first=False)
            if not rounds:
                check("map", ours, [body])
                check("map before", _before(backend, ours), [old])
            calls = [
                ours, _bind(raw_meili.search, body),
                _before(backend, ours), _bind(raw_meili.search, old),
            ]  # fmt: skip
        else:
            assert raw_sql is not None
            calls = [ours, _bind(raw_sql.map, box, now, 200)]
        rounds.append(calls + through_api("map", query, map_api(box, now), facets=False))
    timed = measured("map", rounds)
    if raw_meili is not None:
        checks.before["map"] = (timed[2], timed[3])
    print(f"  {name}: map done", flush=True)

    # facets over the whole index (the reference time varies over a month)
    rounds = []
    for _ in range(n + warmup):
        moment = NOW + dt.timedelta(hours=rng.randrange(30 * 24))
        query = SearchQuery(now=moment, facets=FACETS, limit=20)
        ours = _bind(backend.search, query)
        at = int(moment.timestamp())
        if raw_meili is not None:
            body = date_page_body(_upcoming_filter(at), 20, FACETS)
            if not rounds:
                check("facets", ours, [body])
            calls = [ours, _bind(raw_meili.search, body)]
        else:
            assert raw_sql is not None
            calls = [ours, _bind(raw_sql.facets, at)]
        rounds.append(calls + through_api("facets", query, facets_api(at)))
    measured("facets", rounds)
    print(f"  {name}: facets done ({NOW.strftime(fmt)} + 30 days)", flush=True)
    return figures, checks


def _bind(function: Callable[..., object], *args: object) -> Callable[[], object]:
    return lambda: function(*args)


def _same_answer(ours: Any, before: Any) -> bool:
    """Whether two answers are the same: ids in order, documents, distances, total, facets."""
    return bool(
        [(h.id, h.document, h.distance_km) for h in ours.hits]
        == [(h.id, h.document, h.distance_km) for h in before.hits]
        and ours.total == before.total
        and ours.facets == before.facets
    )


def _word(rng: random.Random) -> str:
    return "zq" + "".join(rng.choice(string.ascii_lowercase) for _ in range(9))


def _wait_until(found: Callable[[], bool]) -> None:
    deadline = time.perf_counter() + FRESHNESS_DEADLINE_S
    while not found():
        if time.perf_counter() > deadline:
            raise RuntimeError("freshness: the write never became searchable")
        time.sleep(0.001)


def freshness(
    backend: Any,
    docs: list[dict[str, Any]],
    tries: int,
    seed: int,
    raw_meili: RawMeili | None,
    raw_sql: RawSQLite | None,
) -> tuple[Figure, Figure]:
    """Write-to-searchable: upsert a changed document, search its new word until found."""
    rng = random.Random(seed)
    ours: list[float] = []
    raw: list[float] = []
    now = int(NOW.timestamp())
    findable = [d for d in docs if d["type"] != "event" or d["ends_at"] >= now]  # upcoming
    for _ in range(tries):
        doc = dict(rng.choice(findable))
        word = _word(rng)
        doc["name"] = f"{doc['name']} {word}"
        query = SearchQuery(text=word + " ", facets=(), limit=1, now=NOW, include_cancelled=True)

        def mine(doc: dict[str, Any] = doc, query: SearchQuery = query) -> None:
            backend.upsert([doc])
            _wait_until(lambda: backend.search(query).total > 0)

        ours.append(timed(mine))
        word = _word(rng)
        if raw_meili is not None:
            changed = {**doc, "name": f"{doc['name']} {word}"}
            body = {"q": word, "limit": 1, "attributesToRetrieve": ["id"]}

            def theirs_meili(
                changed: dict[str, Any] = changed, body: dict[str, Any] = body
            ) -> None:
                assert raw_meili is not None
                raw_meili.add(changed)
                _wait_until(lambda: bool(raw_meili.search(body)["hits"]))

            raw.append(timed(theirs_meili))
        else:
            assert raw_sql is not None
            rid = raw_sql.rid_of(doc["id"])

            renamed = {**doc, "name": f"{doc['name']} {word}"}

            def theirs_sql(rid: int = rid, doc: dict[str, Any] = renamed, w: str = word) -> None:
                assert raw_sql is not None
                raw_sql.rename(rid, doc, w)
                _wait_until(lambda: raw_sql.find(w))

            raw.append(timed(theirs_sql))
    return Figure(ours), Figure(raw)


# -- report -------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{model}, {os.cpu_count()} CPUs",
        "python": f"{platform.python_implementation()} {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}",
        "os": platform.platform(),
    }


def index(backend: Any, docs: list[dict[str, Any]], batch: int) -> float:
    started = time.perf_counter()
    for at in range(0, len(docs), batch):
        backend.upsert(docs[at : at + batch])
    return time.perf_counter() - started


@contextlib.contextmanager
def meilisearch(binary: Path, workdir: Path) -> Iterator[MeiliServer]:
    server = start_meili(binary, workdir)
    try:
        yield server
    finally:
        stop_meili(server)


def run(args: argparse.Namespace) -> int:
    if not MEILI_BIN.is_file():
        print(f"no Meilisearch binary at {MEILI_BIN} (run `make meili`)", file=sys.stderr)
        return 2
    info = machine()
    for key, value in info.items():
        print(f"{key:>7}: {value}")
    started = time.perf_counter()
    docs = generate(args.items, args.seed)
    kinds = {k: sum(d["type"] == k for d in docs) for k in ("event", "organisation", "project")}
    print(f"generated {len(docs):,} documents {kinds} in {time.perf_counter() - started:.1f} s")
    rows: dict[str, dict[str, tuple[Figure, Figure]]] = {}
    checks: dict[str, Checks] = {}
    indexing: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="maillon-bench-search-") as tmp:
        work = Path(tmp)
        if args.backend in ("both", "embedded"):
            embedded = EmbeddedBackend(work / "search.db")
            raw_sql = RawSQLite(work / "search.db")
            try:
                embedded.setup()
                indexing["embedded"] = index(embedded, docs, args.batch)
                print(f"embedded: indexed in {indexing['embedded']:.1f} s", flush=True)
                node_env = {
                    "MAILLON_SEARCH": "embedded",
                    "MAILLON_SEARCH_PATH": str(work / "search.db"),
                }
                with node_api(node_env, work / "node-embedded") as api:
                    rows["embedded"], checks["embedded"] = measure_queries(
                        "embedded", embedded, args.queries, args.seed, None, raw_sql, api=api
                    )
                rows["embedded"]["freshness"] = freshness(
                    embedded, docs, args.fresh, args.seed, None, raw_sql
                )
            finally:
                raw_sql.close()
                embedded.close()
        if args.backend in ("both", "meilisearch"):
            with meilisearch(MEILI_BIN, work / "meili") as server:
                node_env = {
                    "MAILLON_SEARCH": "meilisearch",
                    "MAILLON_MEILI_URL": server.url,
                    "MAILLON_MEILI_KEY": server.key,
                }
                node_index = make_backend(load_settings(search="meilisearch", meili_url=server.url))
                node_index.close()
                if getattr(node_index, "index", None) != INDEX:
                    raise RuntimeError(f"a node reads {node_index!r}, this fills {INDEX!r}")
                recorder = Recorder()
                client = httpx.Client(event_hooks={"request": [recorder]})
                meili = MeiliBackend(
                    server.url, server.key, index=INDEX, task_timeout=600.0, client=client
                )
                raw_meili = RawMeili(server.url, server.key)
                try:
                    info["meilisearch"] = raw_meili.version()
                    meili.setup()
                    indexing["meilisearch"] = index(meili, docs, args.batch)
                    print(f"meilisearch: indexed in {indexing['meilisearch']:.1f} s", flush=True)
                    with node_api(node_env, work / "node-meilisearch") as api:
                        rows["meilisearch"], checks["meilisearch"] = measure_queries(
                            "meilisearch", meili, args.queries, args.seed, raw_meili, None,
                            recorder, api,
                        )  # fmt: skip
                    rows["meilisearch"]["freshness"] = freshness(
                        meili, docs, args.fresh, args.seed, raw_meili, None
                    )
                finally:
                    raw_meili.close()
                    meili.close()
                    client.close()
    report(args, info, indexing, rows, checks)
    return 0


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    indexing: dict[str, float],
    rows: dict[str, dict[str, tuple[Figure, Figure]]],
    checks: dict[str, Checks],
) -> None:
    print()
    print(f"Search benchmark — {args.items:,} items, {args.queries} queries per kind, "
          f"{args.fresh} freshness tries, batches of {args.batch:,}")  # fmt: skip
    print(f"{info['date']} · {info['cpu']} · {info['python']} · "
          f"Meilisearch {info.get('meilisearch', '?')}")  # fmt: skip
    print()
    for name, seconds in indexing.items():
        print(f"indexing {name:<12} {seconds:8.1f} s  ({args.items / seconds:,.0f} items/s)")
    print()
    head = (
        f"| {'backend':<11} | {'query':<10} | {'ours p50':>9} | {'ours p95':>9} |"
        f" {'api p50':>9} | {'api p95':>9} | {'raw p50':>9} | {'raw p95':>9} |"
        f" {'limit p95':>9} | {'ours ≤ limit':<12} | {'api ≤ limit':<12} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    verdicts: list[tuple[str, bool, str]] = []

    def cell(ok: bool | None) -> str:
        return "" if ok is None else "pass" if ok else "FAIL"

    for backend, figures in rows.items():
        for kind, (ours, raw) in figures.items():
            limit = 1.5 * raw.p95 + 2
            ok = ours.p95 <= limit
            verdicts.append((f"{backend} {kind}: ours p95 ≤ 1.5 × raw p95 + 2 ms", ok,
                             f"{ours.p95:.2f} ≤ {limit:.2f}"))  # fmt: skip
            api = checks[backend].api.get(kind) if backend in checks else None
            api_ok = None
            if api is not None:
                api_ok = api.p95 <= limit
                verdicts.append((f"{backend} {kind}: api p95 ≤ 1.5 × raw p95 + 2 ms", api_ok,
                                 f"{api.p95:.2f} ≤ {limit:.2f}"))  # fmt: skip
            api_cells = f"{api.p50:9.2f} | {api.p95:9.2f}" if api else f"{'':>9} | {'':>9}"
            print(
                f"| {backend:<11} | {kind:<10} | {ours.p50:9.2f} | {ours.p95:9.2f} |"
                f" {api_cells} | {raw.p50:9.2f} | {raw.p95:9.2f} | {limit:9.2f} |"
                f" {cell(ok):<12} | {cell(api_ok):<12} |"
            )
    meili = checks.get("meilisearch")
    if meili is not None and meili.reference is not None:
        ref = meili.reference
        print(
            f"| {'meilisearch':<11} | {'(1 request)':<10} | {'':>9} | {'':>9} |"
            f" {'':>9} | {'':>9} | {ref.p50:9.2f} | {ref.p95:9.2f} | {'':>9} |"
            f" {'reference':<12} | {'':<12} |"
        )
    if meili is not None and meili.before and "meilisearch" in rows:
        print()
        equal, compared = meili.same_answers
        print("Meilisearch, before (the code before 2026-12-07: every candidate of a radius's")
        print("box, the place last in the filter) and after, timed in the same rounds; text+geo")
        print(f"answers identical to those before: {equal} of {compared}")
        print()
        print("| query      | ours before p50 | p95 | ours after p50 | p95 |"
              " raw before p50 | p95 | raw after p50 | p95 |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for kind, (mine_before, raw_before) in meili.before.items():
            mine, raw = rows["meilisearch"][kind]
            cells = " | ".join(
                f"{f.p50:.2f} | {f.p95:.2f}" for f in (mine_before, mine, raw_before, raw)
            )
            print(f"| {kind:<10} | {cells} |")
    targets = (
        ("meilisearch", "text+geo", 15.0),
        ("embedded", "text+geo", 25.0),
        ("meilisearch", "freshness", 1000.0),
    )
    for backend, kind, bound in targets:
        if backend in rows and kind in rows[backend]:
            p95 = rows[backend][kind][0].p95
            verdicts.append((f"{backend} {kind} p95 ≤ {bound:g} ms", p95 <= bound,
                             f"{p95:.2f} ms"))  # fmt: skip
        api = checks[backend].api.get(kind) if backend in checks else None
        if api is not None:
            verdicts.append((f"{backend} {kind} api p95 ≤ {bound:g} ms", api.p95 <= bound,
                             f"{api.p95:.2f} ms"))  # fmt: skip
    print()
    print("milliseconds; 'ours' = backend.search() in this process (not through HTTP);")
    print("'api' = GET /api/v1/search on `maillon serve --no-workers` (one uvicorn worker, no")
    print("access log) reading the same index, timed at the client (one keep-alive httpx")
    print("client, identity encoding): the same questions, but the map asks for the type facet")
    print("(the API cannot ask for none) and 'upcoming' is a window from the run's reference")
    print("time; 'raw' = the same Meilisearch requests (bodies written by hand) through a bare")
    print("httpx client / hand-written SQL with the stdlib sqlite3. '(1 request)': one search")
    print("for the circle's box, 20 hits in relevance order with facets — not an exact circle,")
    print("not a distance order: the least a text+geo query asks of Meilisearch. Every row of")
    print("a kind is timed in the same rounds, each round starting with the next in turn.")
    if meili is not None and meili.same_bodies:
        same = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in meili.same_bodies.items())
        print(f"ours sends the raw search bodies: {same}")
    for backend, found in checks.items():
        if found.api_same:
            same = ", ".join(f"{k} {e} of {c}" for k, (e, c) in found.api_same.items())
            print(f"{backend}: the API answers as ours (total, ids, distances, facets): {same}")
    print()
    for what, ok, detail in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {what}  ({detail})")
    if args.items < 100_000:
        print(f"\nnote: {args.items:,} items, not the 100,000 the targets are set for")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/search.py", description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="measured per query kind")
    parser.add_argument("--fresh", type=int, default=20, help="freshness tries per backend")
    parser.add_argument("--batch", type=int, default=BATCH, help="documents per indexing batch")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--backend", choices=("both", "embedded", "meilisearch"), default="both",
        help="which backends to measure",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 1 <= args.items <= MAX_ITEMS or not 1 <= args.queries <= MAX_QUERIES:
        parser.error(f"--items in 1..{MAX_ITEMS}, --queries in 1..{MAX_QUERIES}")
    if not 1 <= args.fresh <= 200 or not 1 <= args.batch <= 50_000:
        parser.error("--fresh in 1..200, --batch in 1..50000")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
