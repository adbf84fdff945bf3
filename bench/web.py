# ruff: noqa: E501  (the floor's templates keep the node's long lines of markup)
"""Web page throughput benchmark: the node's pages against a bare Starlette + jinja2 floor.

Not a test: it prints figures and asserts nothing about timing. It follows
``bench/api.py`` and reuses its pieces (data generation, load generators, server
processes, machine description):

1. generates the same territory as ``bench/api.py`` (300 organisations, 10,000 events
   with places, themes, tags, co-organisers and registrations) into a temporary SQLite
   file, bulk-inserted (**the write path is bypassed for data generation only**), adds
   a territory row (name, zone, bounding box), then builds the search index with
   ``maillon reindex`` against that file, as an operator would;
2. starts the node as a real process (``create_app``, plugins included, so the web
   pages are served as ``maillon serve`` serves them; one uvicorn worker, access log off,
   no job threads) and, in turn, the *floor*: a bare Starlette app (same uvicorn
   settings) whose event page is a jinja2 template of the same size and layout, filled
   by one stdlib ``sqlite3`` query (event, place, going count, organisers) on the same
   file: no sessions, no CSRF token, no i18n machinery, no ORM;
3. loads each server in turn with the same load (a warm-up, then a fixed duration at a
   fixed number of keep-alive connections, random paths) on three pages of the node:
   ``/`` (home: the next events), ``/search?q=<tag>&theme=<theme>`` (results) and
   ``/events/<id>`` (event); and on the floor's ``/events/<id>``;
4. prints requests/s, p50/p95/p99 latency, errors, the server's CPU use and each page's
   ratio to the floor. Issue 5's target: the event page at >= 0.3 of the floor.

Requests are anonymous first visits (no cookie): the node makes a session with a CSRF
token for each, as it does for a new visitor.

    .venv/bin/python bench/web.py                        # the full run (about 2 minutes)
    .venv/bin/python bench/web.py --duration 5 --warmup 1 --events 2000   # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# As in bench/api.py: packages are looked up from the project root, not from bench/.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
sys.path.insert(0, str(_BENCH.parent))

from bench.api import (  # noqa: E402
    CITIES,
    TAG_WORDS,
    THEME_IDS,
    TIMEZONE,
    LoadGenerator,
    Result,
    Territory,
    generate,
    load_average,
    prepare,
    serve_node,
    uvicorn_options,
)
from bench.common import HOST, serve_process  # noqa: E402

TARGET = 0.3  # issue 5: the event page at >= 0.3 of the floor on one worker
NODE_PAGES = ("home", "search", "event")


# --- the data: bench/api.py's territory, a territory row, the search index -----------


def add_territory(db: Path) -> None:
    """The node's territory (its name, zone and box: the pages and the map use them)."""
    from sqlalchemy import insert

    from node.db import make_engine
    from node.models import Territory as TerritoryRow

    lats = [c[3] for c in CITIES]
    lons = [c[4] for c in CITIES]
    now = dt.datetime.now(dt.UTC)
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(TerritoryRow.__table__),  # type: ignore[arg-type]
                {
                    "id": "0199f000-0000-7000-8000-000000000001",
                    "name": "Métropole lilloise",
                    "slug": "metropole-lilloise",
                    "timezone": TIMEZONE,
                    "default_language": "fr",
                    "min_lat": min(lats) - 0.05,
                    "min_lon": min(lons) - 0.05,
                    "max_lat": max(lats) + 0.05,
                    "max_lon": max(lons) + 0.05,
                    "communes": [c[2] for c in CITIES],
                    "created": now,
                    "updated": now,
                },
            )
    finally:
        engine.dispose()


def reindex(db: Path, workdir: Path) -> float:
    """``maillon reindex`` against the file (the index goes beside it); returns seconds."""
    script = Path(sys.executable).with_name("maillon")
    command = [str(script), "reindex"]
    if not script.is_file():
        code = "import sys; from node.cli import main; sys.exit(main())"
        command = [sys.executable, "-c", code, "reindex"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLON_")}
    env["MAILLON_DATABASE_URL"] = f"sqlite:///{db}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_BENCH.parent), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"maillon reindex failed:\n{completed.stdout}{completed.stderr[-3000:]}")
    return time.perf_counter() - started


# --- the floor: a bare Starlette app rendering the event page with jinja2 ------------

FLOOR_SQL = """
SELECT e.id, e.ap_id, e.origin, e.name, e.description, e.starts_at, e.ends_at, e.timezone,
       e.online_url, e.capacity, e.join_mode, e.external_participation_url, e.status,
       e.themes, e.tags,
       p.id AS place_id, p.name AS place_name, p.street, p.postal_code, p.city, p.country, p.latitude,
       p.longitude,
       (SELECT count(*) FROM participation r
         WHERE r.event_id = e.id AND r.state = 'going') AS going,
       o.id AS org_id, o.ap_id AS org_url, o.origin AS org_origin, o.name AS org_name
FROM event e
LEFT JOIN place p ON p.id = e.place_id
LEFT JOIN eventorganiser eo ON eo.event_id = e.id
LEFT JOIN organisation o ON o.id = eo.organisation_id
WHERE e.id = ? AND e.deleted_at IS NULL
ORDER BY eo.position
"""

# The node's layout and event page (web/templates/base.html, event.html) as a careful
# hand-written page would have them: the same markup, French text written in, no
# translation calls, no session or CSRF field.
FLOOR_BASE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %} · Maillon</title>
<link rel="stylesheet" href="/static/css/maillon.css?v=1">
<link rel="icon" href="/static/favicon.svg">
{% block head %}{% endblock %}
</head>
<body>
<a class="skip-link" href="#main">Aller au contenu</a>
<header class="site-header">
  <div class="bar">
    <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">◆</span><span class="brand-name">{{ territory }}</span></a>
    <form class="site-search" role="search" action="/search" method="get">
      <label for="site-q" class="visually-hidden">Rechercher des événements, organisations, projets</label>
      <input id="site-q" type="search" name="q" value="" placeholder="Rechercher…" maxlength="200">
      <button type="submit">Rechercher</button>
    </form>
    <nav class="account-nav" aria-label="Votre compte">
      <ul>
        <li><a href="/login?next={{ path|urlencode }}">Se connecter</a></li>
        <li><a href="/signup">Créer un compte</a></li>
      </ul>
    </nav>
    <form class="language-switch" method="post" action="/language">
      <input type="hidden" name="next" value="{{ path }}">
      <span class="visually-hidden" id="language-label">Langue</span>
      <button type="submit" name="language" value="fr" lang="fr" aria-describedby="language-label" aria-pressed="true">Français</button>
      <button type="submit" name="language" value="en" lang="en" aria-describedby="language-label" aria-pressed="false">English</button>
    </form>
  </div>
</header>
<main id="main" tabindex="-1">
{% block main %}{% endblock %}
</main>
<footer class="site-footer">
  <p>{{ territory }} · Un nœud Maillon : les organisations, événements et projets du territoire, fédérés.</p>
  <ul>
    <li><a href="/search">Rechercher</a></li>
    <li><a href="/api/v1/events.ics">Agenda à s’abonner (.ics)</a></li>
    <li><a href="/api/v1/docs">API</a></li>
  </ul>
</footer>
{% block scripts %}{% endblock %}
</body>
</html>
"""
FLOOR_EVENT = """{% extends "base.html" %}
{% block title %}{{ e.name }}{% endblock %}
{% block head %}
<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css?v=1">
<link rel="alternate" type="application/activity+json" href="{{ e.url }}">
<script type="application/ld+json">{{ json_ld }}</script>
{% endblock %}
{% block main %}
<article aria-labelledby="event-title">
  <div class="entity-head">
    <div>
      <p class="meta">Événement{% for theme in e.themes %} · {{ theme }}{% endfor %}</p>
      <h1 id="event-title">{{ e.name }}</h1>
      {% if e.status == "cancelled" %}<p class="badge cancelled">Annulé</p>{% endif %}
    </div>
  </div>
  <div class="entity-grid">
    <div>
      <h2>Quand</h2>
      <p><time datetime="{{ e.starts }}">{{ e.span }}</time></p>
      <h2>Où</h2>
      {% if e.place %}
      <address>
        {% if e.place.name %}{{ e.place.name }}<br>{% endif %}
        {% if e.place.street %}{{ e.place.street }}<br>{% endif %}
        {{ e.place.postal_code or "" }} {{ e.place.city or "" }}
      </address>
      {% endif %}
      {% if e.online_url %}<p>En ligne : <a href="{{ e.online_url }}" rel="nofollow noopener">{{ e.online_url }}</a></p>{% endif %}
      {% if pins %}
      <div id="map" class="map small" data-tiles="{{ tiles }}" data-attribution="© OpenStreetMap contributors"
        data-territory="{{ bbox }}" data-area-label="Rechercher dans cette zone" role="region" aria-label="Carte des résultats">
        <p class="map-note">La carte demande JavaScript. La liste montre les mêmes résultats.</p>
      </div>
      <script type="application/json" id="map-pins">{{ pins }}</script>
      {% endif %}
      {% if e.description %}
      <h2>Présentation</h2>
      <div class="description">{{ e.description }}</div>
      {% endif %}
      {% if e.tags %}<p class="meta">Mots-clés : {% for tag in e.tags %}<a href="/search?q={{ tag|urlencode }}">#{{ tag }}</a> {% endfor %}</p>{% endif %}
    </div>
    <aside class="facts" aria-label="Inscription et organisateurs">
      <h2>Participer</h2>
      <p id="participant-count">{{ e.going }} {{ "personne inscrite" if e.going <= 1 else "personnes inscrites" }}{% if e.capacity %} · {{ e.left }} {{ "place restante" if e.left <= 1 else "places restantes" }}{% endif %}</p>
      <div id="participation" aria-live="polite">
      {% if e.is_over %}
        <p>Cet événement est terminé.</p>
      {% elif e.status == "cancelled" %}
        <p>Cet événement est annulé.</p>
      {% else %}
        <p><a class="button" href="/login?next={{ path|urlencode }}">Se connecter pour s’inscrire</a></p>
      {% endif %}
      </div>
      <p><a href="/events/{{ e.id }}.ics" download>Ajouter à mon agenda (.ics)</a></p>
      <h2>{{ "Organisateur" if e.organisers|length == 1 else "Organisateurs" }}</h2>
      <ul>
        {% for org in e.organisers %}
        <li><a href="/organisations/{{ org.id }}">{{ org.name }}</a>{% if org.origin %} <span class="badge remote">de {{ org.origin }}</span>{% endif %}</li>
        {% endfor %}
      </ul>
    </aside>
  </div>
</article>
{% endblock %}
{% block scripts %}
<script src="/static/vendor/htmx/htmx.min.js?v=1"></script>
<script src="/static/vendor/leaflet/leaflet.js?v=1"></script>
<script src="/static/js/map.js?v=1"></script>
{% endblock %}
"""
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
SHORT_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
SHORT_MONTHS = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
    "nov.", "déc.",
)  # fmt: skip
STATUS_LD = {
    "confirmed": "https://schema.org/EventScheduled",
    "tentative": "https://schema.org/EventScheduled",
    "cancelled": "https://schema.org/EventCancelled",
}
_TAG = re.compile(r"<[^>]+>")


def french_span(start: dt.datetime, end: dt.datetime) -> str:
    """``jeudi 29 octobre 2026, 19:30 – 20:30``, or two short dates across midnight."""
    if start.date() == end.date():
        day = f"{DAYS[start.weekday()]} {start.day} {MONTHS[start.month - 1]} {start.year}"
        return f"{day}, {start:%H:%M} – {end:%H:%M}"

    def short(moment: dt.datetime) -> str:
        return (
            f"{SHORT_DAYS[moment.weekday()]} {moment.day} {SHORT_MONTHS[moment.month - 1]} "
            f"{moment.year}, {moment:%H:%M}"
        )

    return f"{short(start)} – {short(end)}"


def script_json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def floor_app(db: Path) -> Any:
    """The event page from one sqlite3 query and one jinja2 template; sync endpoint, so
    Starlette runs it in its thread pool as FastAPI runs the node's pages."""
    from jinja2 import DictLoader, Environment
    from markupsafe import Markup
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from node.themes import THEMES

    environment = Environment(
        loader=DictLoader({"base.html": FLOOR_BASE, "event.html": FLOOR_EVENT}),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = environment.get_template("event.html")
    labels = {key: french for key, (french, _) in THEMES.items()}
    lats = [c[3] for c in CITIES]
    lons = [c[4] for c in CITIES]
    bbox = f"{min(lats) - 0.05},{min(lons) - 0.05},{max(lats) + 0.05},{max(lons) + 0.05}"
    tiles = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
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

    def moment(value: str, zone: ZoneInfo) -> dt.datetime:
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).astimezone(zone)

    def event(request: Request) -> HTMLResponse:
        event_id = request.path_params["event_id"]
        rows = connection().execute(FLOOR_SQL, (event_id,)).fetchall()
        if not rows:
            return HTMLResponse("<!doctype html><title>Page introuvable</title>", 404)
        r = rows[0]
        zone = zones.get(r["timezone"]) or zones.setdefault(r["timezone"], ZoneInfo(r["timezone"]))
        starts, ends = moment(r["starts_at"], zone), moment(r["ends_at"], zone)
        organisers = [
            {
                "id": o["org_id"],
                "name": o["org_name"],
                "url": o["org_url"],
                "origin": o["org_origin"],
            }
            for o in rows
            if o["org_id"] is not None
        ]
        themes = json.loads(r["themes"])
        tags = json.loads(r["tags"])
        capacity, going = r["capacity"], r["going"]
        place = None
        if r["place_id"] is not None:
            place = {
                "name": r["place_name"],
                "street": r["street"],
                "postal_code": r["postal_code"],
                "city": r["city"],
            }
        json_ld: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "Event",
            "@id": r["ap_id"],
            "url": r["ap_id"],
            "name": r["name"],
            "startDate": starts.isoformat(),
            "endDate": ends.isoformat(),
            "eventStatus": STATUS_LD.get(r["status"], STATUS_LD["confirmed"]),
            "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode"
            if place
            else "https://schema.org/OnlineEventAttendanceMode",
            "organizer": [
                {"@type": "Organization", "name": o["name"], "url": o["url"]} for o in organisers
            ],
            "keywords": ", ".join([*themes, *tags]),
            "description": _TAG.sub(" ", r["description"] or "").strip(),
        }
        if place:
            json_ld["location"] = {
                "@type": "Place",
                "name": r["place_name"] or r["city"] or "",
                "address": {
                    "@type": "PostalAddress",
                    "streetAddress": r["street"] or "",
                    "postalCode": r["postal_code"] or "",
                    "addressLocality": r["city"] or "",
                    "addressCountry": r["country"] or "FR",
                },
                "geo": {
                    "@type": "GeoCoordinates",
                    "latitude": r["latitude"],
                    "longitude": r["longitude"],
                },
            }
        else:
            json_ld["location"] = {"@type": "VirtualLocation", "url": r["online_url"]}
        pins = None
        if r["latitude"] is not None and r["longitude"] is not None:
            pins = [
                {
                    "id": r["id"],
                    "type": "event",
                    "name": r["place_name"] or r["name"],
                    "path": f"/events/{r['id']}",
                    "lat": r["latitude"],
                    "lon": r["longitude"],
                }
            ]
        values = {
            "id": r["id"],
            "url": r["ap_id"],
            "name": r["name"],
            "status": r["status"],
            "themes": [labels.get(t, t) for t in themes],
            "tags": tags,
            "starts": starts.isoformat(),
            "span": french_span(starts, ends),
            "place": place,
            "online_url": r["online_url"],
            # stored descriptions are sanitised when written: shown as they are
            "description": Markup(r["description"] or ""),
            "going": going,
            "capacity": capacity,
            "left": None if capacity is None else max(0, capacity - going),
            "is_over": ends <= dt.datetime.now(dt.UTC),
            "organisers": organisers,
        }
        html = template.render(
            e=values,
            path=request.url.path,
            territory="Métropole lilloise",
            json_ld=Markup(script_json(json_ld)),
            pins=Markup(script_json(pins)) if pins else None,
            tiles=tiles,
            bbox=bbox,
        )
        return HTMLResponse(html)

    def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/healthz", healthz), Route("/events/{event_id}", event)])


def serve_floor(db: Path, port: int) -> None:
    import uvicorn

    uvicorn.run(floor_app(db), **uvicorn_options(port))


# --- orchestration -------------------------------------------------------------------


def server(
    name: str, db: Path, workdir: Path, cpu: int | None
) -> contextlib.AbstractContextManager[tuple[int, int]]:
    """``bench/web.py serve --app name`` in a child process (see bench/common.py)."""
    return serve_process(Path(__file__).resolve(), name, db, workdir, cpu)


def get_page(port: int, path: str) -> tuple[int, str]:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode()


@dataclass
class Page:
    key: str
    server: str  # "node" or "floor"
    title: str
    paths: list[str]


def pages(territory: Territory, seed: int) -> list[Page]:
    rng = random.Random(seed + 1)
    by_id = [f"/events/{i}" for i in territory.event_ids]
    rng.shuffle(by_id)
    searches = [f"/search?q={tag}&theme={theme}" for tag in TAG_WORDS for theme in THEME_IDS]
    rng.shuffle(searches)
    return [
        Page("home", "node", "`/` (home: next events, map, list)", ["/"]),
        Page(
            "search",
            "node",
            f"`/search?q={{tag}}&theme={{theme}}` (random of {len(searches)})",
            searches,
        ),
        Page("event", "node", f"`/events/{{id}}` (random of {len(by_id)})", by_id),
        Page("event", "floor", f"`/events/{{id}}` (random of {len(by_id)})", by_id),
    ]


_CHECKED = {
    "title": re.compile(r'<h1 id="event-title">(.*?)</h1>'),
    "when": re.compile(r"<time datetime=\"([^\"]+)\">(.*?)</time>"),
    "participants": re.compile(r'<p id="participant-count">(.*?)</p>'),
    "organisers": re.compile(r'<a href="/organisations/([0-9a-f-]+)">(.*?)</a>'),
    "tags": re.compile(r'<a href="/search\?q=([^"]+)">'),
}


def check_pages(node_port: int, floor_port: int, territory: Territory) -> dict[str, int]:
    """The floor must show what the node shows; the node's pages must answer with
    results. Returns the size in bytes of one page of each kind."""
    sizes: dict[str, int] = {}
    for event_id in territory.event_ids[:: max(1, len(territory.event_ids) // 8)]:
        _, node = get_page(node_port, f"/events/{event_id}")
        _, floor = get_page(floor_port, f"/events/{event_id}")
        sizes.setdefault("event", len(node.encode()))
        sizes.setdefault("floor", len(floor.encode()))
        for key, pattern in _CHECKED.items():
            if pattern.findall(node) != pattern.findall(floor):
                raise RuntimeError(
                    f"node and floor differ on {key} of event {event_id}: "
                    f"{pattern.findall(node)} != {pattern.findall(floor)}"
                )
    for path, key in (("/", "home"), (f"/search?q={TAG_WORDS[1]}&theme={THEME_IDS[0]}", "search")):
        status, html = get_page(node_port, path)
        if status != 200 or 'class="result"' not in html:
            raise RuntimeError(f"the node's {path} shows no results ({status})")
        sizes[key] = len(html.encode())
    return sizes


def run(args: argparse.Namespace) -> int:
    kind, server_cpu, load_cpu = prepare(args)

    with tempfile.TemporaryDirectory(prefix="maillon-bench-web-") as tmp:
        workdir = Path(tmp)
        print(f"\ngenerating {args.events} events, {args.organisations} organisations…", flush=True)
        territory = generate(
            workdir / "territory.db", args.events, args.organisations, args.people, args.seed
        )
        add_territory(territory.path)
        print(
            f"   territory: {', '.join(f'{v} {k}' for k, v in territory.counts.items())} "
            f"in {territory.seconds:.1f} s (bulk insert: the write path is bypassed)"
        )
        seconds = reindex(territory.path, workdir)
        print(f"      search: `maillon reindex` (embedded index) in {seconds:.1f} s", flush=True)
        loadgen = LoadGenerator(kind, workdir, args.connections, load_cpu, args.seed)
        print(
            f"        load: {loadgen.description}; {args.warmup:g} s warm-up then "
            f"{args.duration:g} s per page, one server at a time"
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
            sizes = check_pages(node_port, floor_port, territory)
        print(
            "       check: node and floor event pages show the same title, time, place "
            "count, organisers and tags; home and search show results"
        )
        print("       sizes: " + ", ".join(f"{k} {v / 1024:.1f} KiB" for k, v in sizes.items()))
        print(f"    loadavg: {load_average()} (other work on the machine skews req/s)\n")

        cases = [
            p for p in pages(territory, args.seed) if p.key in args.only or p.server == "floor"
        ]
        results: dict[tuple[str, str], Result] = {}
        for round_ in range(1, args.rounds + 1):
            for case in cases:
                paths_file = workdir / f"{case.server}-{case.key}.paths"
                paths_file.write_text("\n".join(case.paths) + "\n")
                with server(case.server, territory.path, workdir, server_cpu) as (port, pid):
                    if args.warmup:
                        loadgen.run(port, paths_file, args.warmup, pid)
                    result = loadgen.run(port, paths_file, args.duration, pid)
                best = results.get((case.key, case.server))
                if best is None or result.rps > best.rps:
                    results[(case.key, case.server)] = result
                print(
                    f"  round {round_}  {case.key:<6} {case.server:<5} {result.rps:6.0f} req/s  "
                    f"p50 {result.p50_ms:6.1f} ms  p95 {result.p95_ms:6.1f} ms  "
                    f"errors {result.errors:<3} server CPU {result.cpu_share:4.0%}",
                    flush=True,
                )

        print_table(cases, results, loadgen, args)
        if args.keep:
            kept = Path(args.keep)
            shutil.copy(territory.path, kept)
            shutil.copy(territory.path.with_suffix(".search.db"), kept.with_suffix(".search.db"))
            print(f"\nterritory kept at {kept} (search index beside it)")
    return 0


def print_table(
    cases: list[Page],
    results: dict[tuple[str, str], Result],
    loadgen: LoadGenerator,
    args: argparse.Namespace,
) -> None:
    best = f", best of {args.rounds} rounds" if args.rounds > 1 else ""
    print(
        f"\n{loadgen.kind}, {args.connections} connections, {args.warmup:g} s warm-up + "
        f"{args.duration:g} s per page{best}\n"
    )
    print(
        "| page | server | req/s | p50 ms | p95 ms | p99 ms | errors | server CPU | req per CPU-s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for case in cases:
        r = results[(case.key, case.server)]
        print(
            f"| {case.title} | {case.server} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} "
            f"| {r.p99_ms:.1f} | {r.errors} | {r.cpu_share:.0%} | {r.per_cpu_second:.0f} |"
        )
    print()
    floor = results[("event", "floor")]
    for case in cases:
        if case.server != "node":
            continue
        node = results[(case.key, "node")]
        ratio = node.rps / floor.rps if floor.rps else 0.0
        per_cpu = node.per_cpu_second / floor.per_cpu_second if floor.per_cpu_second else 0.0
        verdict = ""
        if case.key == "event":
            verdict = f"  target ≥ {TARGET}: " + ("met" if ratio >= TARGET else "NOT met")
        else:
            verdict = "  (against the event floor: for scale only)"
        print(
            f"{case.key:<6}/floor: {ratio:.2f} in req/s, {per_cpu:.2f} in req per CPU-s" + verdict
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        parser = argparse.ArgumentParser(prog="bench/web.py serve")
        parser.add_argument("--app", choices=["node", "floor"], required=True)
        parser.add_argument("--db", type=Path, required=True)
        parser.add_argument("--port", type=int, required=True)
        options = parser.parse_args(argv[1:])
        (serve_node if options.app == "node" else serve_floor)(options.db, options.port)
        return 0
    parser = argparse.ArgumentParser(
        description="Node web pages throughput against a bare Starlette + jinja2 floor."
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
    parser.add_argument(
        "--only", nargs="+", choices=list(NODE_PAGES), default=list(NODE_PAGES),
        help="node pages to load (the floor is always loaded)",
    )  # fmt: skip
    parser.add_argument("--keep", metavar="FILE", help="copy the generated SQLite file here")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
