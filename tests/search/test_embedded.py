"""The embedded search backend (SQLite FTS5 + R*Tree) on its own: text, filters, orders,
facets, writes, concurrency — and, on a random corpus, every path of the engine held to a
plain-Python reading of the query model."""

from __future__ import annotations

import gc
import math
import random
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from search import embedded_query
from search.embedded import EmbeddedBackend
from search.embedded_query import DISTANCE_SQL
from search.embedded_text import distance, fold
from search.geo import EARTH_RADIUS_KM, distance_km
from search.query import BBox, Point, SearchQuery, Sort

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
DAY = 86400
MOULINS = Point(50.6197, 3.0672)  # Lille-Moulins
COFABRIK = (50.6189, 3.0700)
ROUBAIX = (50.6942, 3.1746)
BASE = SearchQuery(now=NOW, limit=100)


def make(
    kind: str,
    n: int,
    name: str,
    *,
    where: tuple[float, float] | None = None,
    city: str | None = None,
    themes: list[str] | None = None,
    tags: list[str] | None = None,
    starts: float | None = None,
    hours: float = 2,
    status: str | None = None,
    origin: str = "local",
    description: str = "",
    organisation_ids: list[str] | None = None,
    organisation_names: list[str] | None = None,
    version: int = 1,
) -> dict[str, Any]:
    """A valid search document (``starts``: days from NOW; events only)."""
    object_id = f"00000000-0000-7000-8000-{n:012d}"
    start = None
    if kind == "event":
        start = int(NOW.timestamp() + (starts if starts is not None else 1) * DAY)
    return {
        "id": f"{kind}-{object_id}",
        "type": kind,
        "object_id": object_id,
        "url": f"https://lille.test/{kind}s/{object_id}",
        "origin": origin,
        "name": name,
        "description": description,
        "themes": themes or [],
        "tags": tags or [],
        "organisation_ids": organisation_ids or [],
        "organisation_names": organisation_names or [],
        "city": city,
        "postal_code": None,
        "insee_code": None,
        "lat": where[0] if where else None,
        "lng": where[1] if where else None,
        "starts_at": start,
        "ends_at": None if start is None else int(start + hours * 3600),
        "status": (status or "confirmed") if kind == "event" else None,
        "kind": "association" if kind == "organisation" else None,
        "stage": "launched" if kind == "project" else None,
        "version": version,
        **({"timezone": "Europe/Paris", "online_url": None} if kind == "event" else {}),
    }


def oid(n: int) -> str:
    return f"00000000-0000-7000-8000-{n:012d}"


CORPUS = [
    make(
        "organisation",
        1,
        "La CoFabrik",
        where=COFABRIK,
        city="Lille",
        themes=["crafts", "sharing"],
        tags=["atelier-partage"],
        description="Ateliers partagés d'artisans à Moulins",
    ),
    make(
        "organisation",
        2,
        "Recyclerie de Roubaix",
        where=ROUBAIX,
        city="Roubaix",
        themes=["environment"],
        tags=["reemploi"],
    ),
    make("organisation", 3, "Club repair", themes=["sharing"], tags=["reemploi"]),
    make(
        "event",
        10,
        "Atelier Vélo solidaire",
        where=(50.6250, 3.0600),
        city="Lille",
        themes=["mobility"],
        tags=["velo"],
        starts=2,
        organisation_ids=[f"organisation-{oid(1)}"],
        organisation_names=["La CoFabrik"],
    ),
    make(
        "event",
        11,
        "Reparation de velos",
        where=(50.6900, 3.1800),
        city="Roubaix",
        themes=["mobility", "sharing"],
        tags=["velo", "reemploi"],
        starts=5,
    ),
    make(
        "event",
        12,
        "Disco soupe",
        where=(50.6330, 3.0586),
        city="Lille",
        themes=["food"],
        tags=["anti-gaspi"],
        starts=1,
    ),
    make(
        "event",
        13,
        "Marché annulé",
        where=(50.63, 3.07),
        city="Lille",
        themes=["crafts"],
        starts=3,
        status="cancelled",
    ),
    make(
        "event",
        14,
        "Festival des cultures",
        where=(50.637, 3.0635),
        city="Lille",
        themes=["culture"],
        starts=-1,
        hours=72,
    ),
    make(
        "event",
        15,
        "Conférence passée",
        where=(50.62, 3.065),
        city="Lille",
        themes=["citizenship"],
        starts=-10,
    ),
    make("event", 16, "Webinaire énergie", themes=["energy"], starts=4),
    make(
        "event",
        17,
        "Café Réparation",
        where=(50.64, 3.11),
        city="Mons-en-Barœul",
        themes=["sharing"],
        tags=["reemploi"],
        starts=6,
        origin="roubaix.example",
    ),
    make(
        "project",
        20,
        "Jardin partagé de Fives",
        where=(50.629, 3.089),
        city="Lille",
        themes=["food", "environment"],
        tags=["jardin"],
    ),
]


def nums(result: Any) -> list[int]:
    return [int(hit.object_id.rsplit("-", 1)[1]) for hit in result.hits]


@pytest.fixture(params=["memory", "file"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmbeddedBackend]:
    engine = EmbeddedBackend(":memory:" if request.param == "memory" else tmp_path / "s.db")
    engine.setup()
    yield engine
    engine.close()


@pytest.fixture
def loaded(backend: EmbeddedBackend) -> EmbeddedBackend:
    backend.upsert(CORPUS)
    return backend


def found(backend: EmbeddedBackend, **changes: Any) -> set[int]:
    return set(nums(backend.search(replace(BASE, **changes))))


# text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("velo", {10, 11}),  # "Vélo" — accents folded
        ("VÉLO", {10, 11}),  # case folded, accents in the query folded too
        ("réparation", {11, 17}),  # "Reparation" without accent, "Réparation" with
        ("reparation", {11, 17}),
        ("cofabrik", {1, 10}),  # 10: through its organiser's name
        ("atel", {1, 10}),  # prefix of the last word while typing
        ("disco soupe", {12}),  # every word must match
        ("disco pizza", set()),
        ("Mons", {17}),  # city; a remote item
        ("reemploi", {2, 3, 11, 17}),  # tags are searchable
    ],
)
def test_text(loaded: EmbeddedBackend, text: str, expected: set[int]) -> None:
    assert found(loaded, text=text) == expected


def test_prefix_only_on_the_last_word_and_not_after_a_space(loaded: EmbeddedBackend) -> None:
    assert found(loaded, text="sou disco") == set()
    assert found(loaded, text="disco sou") == {12}
    assert found(loaded, text="discotheque ") == set()  # no prefix, no one-typo neighbour


def test_prefixes_of_few_or_many_words(backend: EmbeddedBackend) -> None:
    letters = "abcdefghijklmnopqrst"
    backend.upsert([make("organisation", n, f"Velo{letters[n]}") for n in range(20)])
    backend.upsert([make("project", 101, "Vélodrome"), make("project", 102, "Vel")])
    assert found(backend, text="velo") == {*range(20), 101}  # 21 words: the index's prefix
    assert found(backend, text="velodr") == {101}  # one word: spelt out
    assert found(backend, text="vel") == {*range(20), 101, 102}
    assert found(backend, text="veloa velo") == {0}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cofabirk", {1, 10}),  # a transposition in a long word
        ("cofabrick", {1, 10}),  # an insertion
        ("repiar", {3}),  # a transposition in a short word ("Club repair")
        ("festivql", {14}),  # a substitution
        ("disco sopue", {12}),  # one word right, one misspelt
        ("reparatoim", {11, 17}),  # two typos in a word of 8 letters or more
        ("cofabi", {1, 10}),  # a typo in what has been typed so far (prefix)
    ],
)
def test_typos(loaded: EmbeddedBackend, text: str, expected: set[int]) -> None:
    assert found(loaded, text=text) == expected


def test_typos_are_limited(loaded: EmbeddedBackend) -> None:
    assert found(loaded, text="vwlp ") == set()  # two typos in a short word
    assert found(loaded, text="zzzzzzzz") == set()
    assert found(loaded, text="disco zzzzzz") == set()  # a word without neighbour
    assert found(loaded, text="reparatoim", types=frozenset({"project"})) == set()


def test_a_few_misspelt_words_at_most(backend: EmbeddedBackend) -> None:
    backend.upsert([make("organisation", 1, "Alpha bravo charlie delta echo")])
    assert found(backend, text="alpah bravp charlei deltq echo") == {1}
    assert found(backend, text="alpah alpah alpah alpah bravp charlei deltq") == {1}
    assert found(backend, text="alpah bravp charlei deltq ecoh") == set()  # five


def test_typos_follow_the_vocabulary(backend: EmbeddedBackend) -> None:
    backend.upsert([make("organisation", 1, "Cofabrik"), make("organisation", 2, "Cofabrik bis")])
    assert found(backend, text="cofabirk") == {1, 2}
    backend.delete([f"organisation-{oid(1)}"])
    assert found(backend, text="cofabirk") == {2}
    backend.upsert([make("organisation", 2, "Autre nom")])  # the word is gone
    assert found(backend, text="cofabirk") == set()
    assert found(backend, text="autre nmo ") == {2}


@pytest.mark.parametrize(
    "text",
    ['"', '""', "*", "NEAR(", "NEAR(velo, 2)", "-", "-velo", "AND OR NOT", "(velo", "velo)",
     "name:velo", "{name}: velo", "^velo", "vélo\"'", "🚲", "\x00", "a" * 300, "é" * 40,
     "velo " * 50, "日本語", "ß", "Ⅻ", "velo*", "'; DROP TABLE docs; --"],
)  # fmt: skip
def test_hostile_text_never_breaks(loaded: EmbeddedBackend, text: str) -> None:
    result = loaded.search(replace(BASE, text=text))
    assert result.total == len(result.hits)


def test_syntax_is_only_words(loaded: EmbeddedBackend) -> None:
    assert found(loaded, text='"velo"') == {10, 11}
    assert found(loaded, text="velo*") == {10, 11}
    assert found(loaded, text="-velo") == {10, 11}  # not a negation
    assert found(loaded, text="disco OR soupe") == set()  # "or" is a word that must match
    assert found(loaded, text="***") == found(loaded)  # no words: no text


def test_name_weighs_more_than_description(backend: EmbeddedBackend) -> None:
    backend.upsert(
        [
            make("organisation", 1, "Les amis", description="un atelier de couture ici"),
            make("organisation", 2, "Atelier couture"),
        ]
    )
    assert nums(backend.search(replace(BASE, text="couture"))) == [2, 1]


# filters ---------------------------------------------------------------------------------


def test_upcoming_by_default_and_cancelled_excluded(loaded: EmbeddedBackend) -> None:
    everything = {1, 2, 3, 10, 11, 12, 14, 16, 17, 20}  # not 13 (cancelled), 15 (over)
    assert found(loaded) == everything
    assert found(loaded, include_cancelled=True) == everything | {13}
    later = NOW + timedelta(days=30)  # events over by then; the others are never dated
    assert found(loaded, now=later) == {1, 2, 3, 20}


def test_date_window_overlap(loaded: EmbeddedBackend) -> None:
    window = {"start": NOW + timedelta(hours=1), "end": NOW + timedelta(days=2, hours=1)}
    events = frozenset({"event"})
    # 14 began yesterday and lasts three days: it overlaps the window's start
    assert found(loaded, types=events, **window) == {10, 12, 14}
    assert found(loaded, types=events, start=NOW - timedelta(days=20)) == {
        10, 11, 12, 14, 15, 16, 17,
    }  # fmt: skip
    assert found(loaded, types=events, end=NOW - timedelta(days=2)) == {15}
    assert found(loaded, types=frozenset({"project", "organisation"}), **window) == {1, 2, 3, 20}
    naive = {k: v.replace(tzinfo=None) for k, v in window.items()}  # taken as UTC
    assert found(loaded, types=events, **naive) == {10, 12, 14}


def test_text_with_a_window_finds_events_of_any_length(backend: EmbeddedBackend) -> None:
    backend.upsert(
        [
            make("event", 1, "Expo courte", starts=10, hours=2),
            make("event", 2, "Expo de trois semaines", starts=-14, hours=21 * 24),
            make("event", 3, "Expo de deux ans", starts=-300, hours=2 * 365 * 24),
            make("event", 4, "Expo finie", starts=-30, hours=24),
            make("organisation", 5, "Expo permanente"),
        ]
    )
    window = {"start": NOW + timedelta(days=3), "end": NOW + timedelta(days=4)}
    assert found(backend, text="expo", **window) == {2, 3, 5}
    wide = {"start": NOW - timedelta(days=200), "end": NOW + timedelta(days=200)}
    assert found(backend, text="expo", **wide) == {1, 2, 3, 4, 5}


def test_an_event_without_end_lasts_an_instant(backend: EmbeddedBackend) -> None:
    event = make("event", 1, "Instant", starts=1)
    event["ends_at"] = None
    backend.upsert([event])
    assert found(backend) == {1}
    assert found(backend, now=NOW + timedelta(days=1, seconds=1)) == set()
    day = NOW + timedelta(days=1)
    assert found(backend, start=day, end=day) == {1}


def test_types_themes_tags_origin_organisation(loaded: EmbeddedBackend) -> None:
    assert found(loaded, types=frozenset({"project"})) == {20}
    assert found(loaded, types=frozenset({"project", "organisation"})) == {1, 2, 3, 20}
    assert found(loaded, types=frozenset({"event", "organisation", "project"})) == found(loaded)
    assert found(loaded, themes=("food", "crafts")) == {1, 12, 20}
    assert found(loaded, tags=("velo", "reemploi")) == {2, 3, 10, 11, 17}
    assert found(loaded, tags=("velo", "reemploi"), tags_all=True) == {11}
    assert found(loaded, tags=("velo", "nope"), tags_all=True) == set()
    assert found(loaded, origin="roubaix.example") == {17}
    assert 17 not in found(loaded, origin="local")
    assert found(loaded, origin="elsewhere.example") == set()
    assert found(loaded, organisation_id=f"organisation-{oid(1)}") == {10}
    # with text, themes/tags/organisation narrow inside the full-text index
    assert found(loaded, text="velo", tags=("reemploi",)) == {11}
    assert found(loaded, text="velo", themes=("food",)) == set()
    assert found(loaded, text="velo", organisation_id=f"organisation-{oid(1)}") == {10}
    assert found(loaded, text="reemploi", tags=("velo", "reemploi"), tags_all=True) == {11}


def test_radius_around_moulins(loaded: EmbeddedBackend) -> None:
    result = loaded.search(replace(BASE, point=MOULINS, radius_km=5, sort=Sort.distance))
    ids = nums(result)
    assert 1 in ids  # La CoFabrik, 0.2 km away
    assert 2 not in ids and 11 not in ids  # Roubaix, ~9 km away
    assert 3 not in ids and 16 not in ids  # no coordinates: excluded by a radius
    assert ids[0] == 1
    for hit in result.hits:
        lat, lng = hit.document["lat"], hit.document["lng"]
        assert hit.distance_km == round(distance_km(MOULINS, lat, lng), 3)
        assert hit.distance_km is not None and hit.distance_km <= 5
    assert distance_km(MOULINS, *ROUBAIX) > 5
    assert found(loaded, point=MOULINS, radius_km=0.3) == {1}


def test_bounding_box(loaded: EmbeddedBackend) -> None:
    box = BBox(min_lat=50.61, min_lon=3.05, max_lat=50.626, max_lon=3.075)
    assert found(loaded, bbox=box) == {1, 10}
    edge = BBox(min_lat=50.6189, min_lon=3.0700, max_lat=50.6189, max_lon=3.0700)
    assert found(loaded, bbox=edge) == {1}  # borders belong to the box
    both = {"bbox": box, "point": MOULINS, "radius_km": 0.5}
    assert found(loaded, **both) == {1}


def test_distance_is_given_whenever_a_point_is(loaded: EmbeddedBackend) -> None:
    result = loaded.search(replace(BASE, point=MOULINS))
    for hit in result.hits:
        if hit.document["lat"] is None:
            assert hit.distance_km is None
        else:
            assert hit.distance_km == round(distance_km(MOULINS, *coords(hit.document)), 3)
    assert all(h.distance_km is None for h in loaded.search(BASE).hits)


def coords(doc: dict[str, Any]) -> tuple[float, float]:
    return doc["lat"], doc["lng"]


# orders ----------------------------------------------------------------------------------


def test_date_order(loaded: EmbeddedBackend) -> None:
    # events by start (14 is running since yesterday), then the others by folded name
    assert nums(loaded.search(replace(BASE, sort=Sort.date))) == [
        14, 12, 10, 16, 11, 17, 3, 20, 1, 2,
    ]  # fmt: skip
    # relevance without text is the date order
    assert nums(loaded.search(BASE)) == nums(loaded.search(replace(BASE, sort=Sort.date)))


def test_distance_order(loaded: EmbeddedBackend) -> None:
    result = loaded.search(replace(BASE, point=MOULINS, sort=Sort.distance))
    ids = nums(result)
    assert ids[-2:] == [16, 3]  # without coordinates: last, by id ("event-" < "org…")
    distances = [h.distance_km for h in result.hits if h.distance_km is not None]
    assert distances == sorted(distances)


def test_ties_are_broken_by_id(backend: EmbeddedBackend) -> None:
    same = [make("event", n, f"Pareil {n}", where=COFABRIK, starts=1) for n in (5, 3, 4)]
    same += [make("organisation", n, "Même nom", where=COFABRIK) for n in (9, 7, 8)]
    backend.upsert(same)
    assert nums(backend.search(replace(BASE, sort=Sort.date))) == [3, 4, 5, 7, 8, 9]
    near = backend.search(replace(BASE, point=MOULINS, sort=Sort.distance))
    assert nums(near) == [3, 4, 5, 7, 8, 9]


def test_distance_sort_without_point_is_relevance(loaded: EmbeddedBackend) -> None:
    by_distance = loaded.search(replace(BASE, sort=Sort.distance, text="velo"))
    by_relevance = loaded.search(replace(BASE, text="velo"))
    assert nums(by_distance) == nums(by_relevance)


# facets, totals, pages -----------------------------------------------------------------


def test_facets_add_up(loaded: EmbeddedBackend) -> None:
    result = loaded.search(replace(BASE, themes=("sharing", "food")))
    assert set(nums(result)) == {1, 3, 11, 12, 17, 20}
    facets = result.facets
    assert sum(facets["type"].values()) == result.total == 6
    assert facets["type"] == {"organisation": 2, "event": 3, "project": 1}
    assert facets["themes"] == {
        "sharing": 4, "food": 2, "crafts": 1, "environment": 1, "mobility": 1,
    }  # fmt: skip
    assert facets["city"] == {"Lille": 3, "Roubaix": 1, "Mons-en-Barœul": 1}
    assert facets["tags"]["reemploi"] == 3
    assert next(iter(facets["themes"])) == "sharing"  # most frequent first


def test_only_the_facets_asked_for(loaded: EmbeddedBackend) -> None:
    assert loaded.search(replace(BASE, facets=())).facets == {}
    assert set(loaded.search(replace(BASE, facets=("city", "nope"))).facets) == {"city"}
    assert loaded.search(replace(BASE, text="zzzzzzzz", facets=("type",))).facets == {"type": {}}


def test_paging(loaded: EmbeddedBackend) -> None:
    every = nums(loaded.search(replace(BASE, sort=Sort.date)))
    pages = [
        loaded.search(replace(BASE, sort=Sort.date, limit=3, offset=offset))
        for offset in range(0, 12, 3)
    ]
    assert [n for page in pages for n in nums(page)] == every
    assert {page.total for page in pages} == {len(every)}
    empty = loaded.search(replace(BASE, limit=0))
    assert empty.hits == [] and empty.total == len(every) and empty.facets["type"]
    assert loaded.search(replace(BASE, offset=100)).hits == []


def test_took_ms(loaded: EmbeddedBackend) -> None:
    assert loaded.search(BASE).took_ms > 0


# writes ----------------------------------------------------------------------------------


def test_upsert_replaces_everything(loaded: EmbeddedBackend) -> None:
    renamed = make("event", 12, "Soupe populaire", where=ROUBAIX, city="Roubaix",
                   themes=["solidarity"], tags=["soupe"], starts=3, version=2)  # fmt: skip
    loaded.upsert([renamed])
    assert found(loaded, text="disco") == set()
    assert found(loaded, text="populaire") == {12}
    assert 12 not in found(loaded, themes=("food",))
    assert found(loaded, themes=("solidarity",)) == {12}
    assert 12 not in found(loaded, point=MOULINS, radius_km=5)
    assert found(loaded, tags=("soupe",)) == {12}
    facets = loaded.search(BASE).facets
    assert "food" in facets["themes"] and facets["themes"]["solidarity"] == 1
    assert "anti-gaspi" not in facets["tags"]
    assert loaded.versions()[f"event-{oid(12)}"] == 2
    hit = loaded.search(replace(BASE, text="populaire")).hits[0]
    assert hit.document == renamed


def test_upsert_keeps_the_last_of_an_id_and_drops_coordinates(backend: EmbeddedBackend) -> None:
    first = make("organisation", 1, "Premier", where=COFABRIK)
    second = make("organisation", 1, "Second")
    backend.upsert([first, second])
    assert found(backend, text="second") == {1}
    assert found(backend, text="premier") == set()
    assert found(backend, point=MOULINS, radius_km=5) == set()
    assert len(backend.versions()) == 1


def test_delete(loaded: EmbeddedBackend) -> None:
    loaded.delete([f"organisation-{oid(1)}", "organisation-unknown"])
    assert found(loaded, text="cofabrik") == {10}  # still its organiser's name
    assert 1 not in found(loaded, themes=("crafts",))
    assert 1 not in found(loaded, point=MOULINS, radius_km=5)
    assert f"organisation-{oid(1)}" not in loaded.versions()
    assert "atelier-partage" not in loaded.search(BASE).facets["tags"]
    loaded.delete([])


def test_versions_clear_setup(loaded: EmbeddedBackend) -> None:
    assert loaded.versions() == {doc["id"]: 1 for doc in CORPUS}
    loaded.setup()  # idempotent
    assert len(loaded.versions()) == len(CORPUS)
    loaded.clear()
    assert loaded.versions() == {}
    assert loaded.search(BASE).total == 0
    assert loaded.search(replace(BASE, text="cofabirk")).total == 0
    loaded.upsert(CORPUS[:2])
    assert found(loaded) == {1, 2}


def test_documents_are_validated(backend: EmbeddedBackend) -> None:
    with pytest.raises(ValueError):
        backend.upsert([{"type": "event"}])
    backend.upsert([])
    assert backend.versions() == {}


def test_a_file_outlives_its_backend(tmp_path: Path) -> None:
    first = EmbeddedBackend(tmp_path / "s.db")
    first.upsert(CORPUS)
    first.close()
    second = EmbeddedBackend(str(tmp_path / "s.db"))
    second.setup()
    assert found(second, text="cofabirk") == {1, 10}
    second.close()
    second.close()  # twice is fine


def test_an_index_of_another_schema_is_rebuilt(tmp_path: Path) -> None:
    old = EmbeddedBackend(tmp_path / "s.db")
    old.upsert(CORPUS)
    old.close()
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    new = EmbeddedBackend(tmp_path / "s.db")
    new.setup()
    assert new.versions() == {}  # derived data: `maillon reindex` fills it again
    new.upsert(CORPUS)
    assert found(new, text="cofabrik") == {1, 10}
    new.close()


def test_a_thread_s_connection_goes_with_it(tmp_path: Path) -> None:
    engine = EmbeddedBackend(tmp_path / "s.db")
    engine.upsert(CORPUS)
    for _ in range(5):
        thread = threading.Thread(target=engine.search, args=(BASE,))
        thread.start()
        thread.join()
    gc.collect()
    assert len(engine._opened) <= 2  # this thread's, maybe the last one's
    engine.close()


def test_memory_starts_afresh_after_close() -> None:
    engine = EmbeddedBackend(":memory:")
    engine.upsert(CORPUS)
    engine.close()
    assert engine.versions() == {}


def test_threads_search_while_one_writes(tmp_path: Path) -> None:
    for engine in (EmbeddedBackend(tmp_path / "t.db"), EmbeddedBackend(":memory:")):
        engine.setup()
        engine.upsert(CORPUS)
        assert hammer(engine) == []
        assert len(engine.versions()) == len(CORPUS) + 60 - 20
        engine.close()


def hammer(engine: EmbeddedBackend) -> list[BaseException]:
    """Four threads search while one writes; the errors they met."""
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for n in range(100, 160):
                engine.upsert([make("event", n, f"Atelier {n}", where=COFABRIK, starts=1)])
                if n % 3 == 0:
                    engine.delete([f"event-{oid(n - 1)}"])
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    def read() -> None:
        try:
            while not done.is_set():
                result = engine.search(replace(BASE, text="atelier", point=MOULINS))
                assert result.total >= 2
                assert sum(result.facets["type"].values()) == result.total
                engine.search(replace(BASE, point=MOULINS, radius_km=5, sort=Sort.distance))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(4)]
    threads.append(threading.Thread(target=write))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


# building blocks --------------------------------------------------------------------------


def test_sql_distance_is_search_geo_distance_to_the_bit() -> None:
    conn = sqlite3.connect(":memory:")
    rnd = random.Random(3)
    points = [(rnd.uniform(-89, 89), rnd.uniform(-179, 179)) for _ in range(500)]
    points += [(50.6 + rnd.random() / 5, 3 + rnd.random() / 5) for _ in range(500)]
    conn.execute("CREATE TABLE d (lat REAL, lng REAL)")
    conn.executemany("INSERT INTO d VALUES (?, ?)", points)
    for centre in (MOULINS, Point(-33.9, 151.2), Point(0.0, 0.0)):
        phi1 = math.radians(centre.lat)
        params = {"earth": EARTH_RADIUS_KM, "phi1": phi1, "cos1": math.cos(phi1)}
        rows = conn.execute(
            f"SELECT lat, lng, {DISTANCE_SQL} FROM d AS d", {**params, "plon": centre.lon}
        )
        for lat, lng, km in rows:
            assert km == distance_km(centre, lat, lng)
    conn.close()


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("repair", "repiar", 1), ("cofabrik", "cofabirk", 1), ("velo", "velo", 0),
     ("velo", "vel", 1), ("velo", "vlo", 1), ("abc", "xyz", 3), ("reparation", "reparatoim", 2)],
)  # fmt: skip
def test_edit_distance(a: str, b: str, expected: int) -> None:
    assert distance(a, b, 2) == expected  # 3: more than the limit
    assert distance(b, a, 2) == expected


def test_fold() -> None:
    assert fold("Vélo À Mons-en-Barœul") == "velo a mons-en-barœul"


# a random corpus against a plain reading of the query model ---------------------------

WORDS = ["atelier", "vélo", "soupe", "jardin", "café", "réparation", "marché", "fête"]
CITIES = ["Lille", "Roubaix", "Tourcoing", "Lens", None]
THEMES = ["food", "mobility", "culture", "sharing", "energy"]
TAGS = ["velo", "reemploi", "jardin", "compost", "musique", "lecture"]


def random_corpus(size: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    docs = []
    for n in range(1, size + 1):
        kind = rnd.choice(["event", "event", "organisation", "project"])
        where = None
        if rnd.random() > 0.1:
            where = (rnd.gauss(50.63, 0.05), rnd.gauss(3.06, 0.08))
        docs.append(
            make(
                kind,
                n,
                f"{rnd.choice(WORDS).capitalize()} {rnd.choice(WORDS)} {n % 7}",
                where=where,
                city=rnd.choice(CITIES),
                themes=rnd.sample(THEMES, rnd.randint(0, 2)),
                tags=rnd.sample(TAGS, rnd.randint(0, 3)),
                starts=rnd.uniform(-20, 40),
                hours=rnd.choice([1, 3, 50, 2000, 12000]),  # up to 71 weeks
                status=rnd.choice(["confirmed"] * 9 + ["cancelled"]),
                origin=rnd.choice(["local"] * 4 + ["roubaix.example"]),
                description="commun " + " ".join(rnd.sample(WORDS, 2)),
                organisation_ids=[f"org-{rnd.randint(1, 5)}"],
            )
        )
    return docs


def expected_matches(docs: list[dict[str, Any]], q: SearchQuery) -> list[dict[str, Any]]:
    """The query model's filters, read plainly (no text)."""

    def epoch(moment: datetime) -> int:
        return int(moment.timestamp())

    def keep(d: dict[str, Any]) -> bool:
        if q.types and d["type"] not in q.types:
            return False
        if q.themes and not set(q.themes) & set(d["themes"]):
            return False
        tags = set(d["tags"])
        if q.tags and not (set(q.tags) <= tags if q.tags_all else set(q.tags) & tags):
            return False
        if q.organisation_id is not None and q.organisation_id not in d["organisation_ids"]:
            return False
        if q.origin != "all" and d["origin"] != q.origin:
            return False
        if not q.include_cancelled and d["status"] == "cancelled":
            return False
        if d["type"] == "event":
            end = d["ends_at"] if d["ends_at"] is not None else d["starts_at"]
            upcoming = q.start is None and q.end is None and q.now is not None
            if upcoming and q.now is not None and end < epoch(q.now):
                return False
            if q.start is not None and end < epoch(q.start):
                return False
            if q.end is not None and d["starts_at"] > epoch(q.end):
                return False
        circle = q.point is not None and q.radius_km is not None
        if (circle or q.bbox) and d["lat"] is None:
            return False
        if circle:
            assert q.point is not None and q.radius_km is not None
            if distance_km(q.point, d["lat"], d["lng"]) > q.radius_km:
                return False
        return not (q.bbox and not q.bbox.contains(d["lat"], d["lng"]))

    return [d for d in docs if keep(d)]


def expected_order(matches: list[dict[str, Any]], q: SearchQuery) -> list[str]:
    def by_date(d: dict[str, Any]) -> tuple[Any, ...]:
        if d["type"] == "event":
            return (0, d["starts_at"], "", d["id"])
        return (1, 0, fold(d["name"]), d["id"])

    def by_distance(d: dict[str, Any]) -> tuple[Any, ...]:
        assert q.point is not None
        if d["lat"] is None:
            return (1, 0.0, d["id"])
        return (0, distance_km(q.point, d["lat"], d["lng"]), d["id"])

    nearest = Sort(q.sort) is Sort.distance and q.point is not None
    return [d["id"] for d in sorted(matches, key=by_distance if nearest else by_date)]


def expected_facets(matches: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    return {
        "type": Counter(d["type"] for d in matches),
        "city": Counter(d["city"] for d in matches if d["city"] is not None),
        "themes": Counter(t for d in matches for t in set(d["themes"])),
        "tags": Counter(t for d in matches for t in set(d["tags"])),
    }


def random_queries(seed: int, count: int) -> Iterator[SearchQuery]:
    rnd = random.Random(seed)
    for _ in range(count):
        changes: dict[str, Any] = {"now": NOW, "limit": rnd.choice([5, 20, 500])}
        changes["offset"] = rnd.choice([0, 0, 3, 40])
        if rnd.random() < 0.3:
            changes["types"] = frozenset(rnd.sample(["event", "organisation", "project"], 2))
        if rnd.random() < 0.3:
            changes["themes"] = tuple(rnd.sample(THEMES, rnd.randint(1, 2)))
        if rnd.random() < 0.3:
            changes["tags"] = tuple(rnd.sample(TAGS, rnd.randint(1, 2)))
            changes["tags_all"] = rnd.random() < 0.5
        if rnd.random() < 0.15:
            changes["organisation_id"] = f"org-{rnd.randint(1, 5)}"
        if rnd.random() < 0.5:
            changes["point"] = Point(rnd.gauss(50.63, 0.03), rnd.gauss(3.06, 0.05))
            if rnd.random() < 0.6:
                changes["radius_km"] = rnd.choice([0.5, 3.0, 8.0, 30.0])
        if rnd.random() < 0.15:
            lat, lon = rnd.gauss(50.63, 0.03), rnd.gauss(3.06, 0.05)
            changes["bbox"] = BBox(lat - 0.03, lon - 0.05, lat + 0.03, lon + 0.05)
        if rnd.random() < 0.3:
            start = NOW + timedelta(days=rnd.uniform(-10, 20))
            changes["start"] = start
            changes["end"] = start + timedelta(days=rnd.choice([0, 2, 15]))
        if rnd.random() < 0.2:
            changes["origin"] = rnd.choice(["local", "roubaix.example"])
        changes["include_cancelled"] = rnd.random() < 0.2
        changes["sort"] = rnd.choice([Sort.date, Sort.distance, Sort.relevance])
        if rnd.random() < 0.3:  # a text every document holds: the full-text path, same set
            changes["text"] = "commun"
        yield SearchQuery(**changes)


@pytest.mark.parametrize("size", [60, 400])
def test_random_queries_against_a_plain_reading(backend: EmbeddedBackend, size: int) -> None:
    """Every path (full text, side tables, R*Tree, dense scans read ring by ring or in index
    order, facet counts from matches or from misses) gives the plain answer."""
    docs = random_corpus(size, seed=size)
    backend.upsert(docs[: size // 2])
    backend.upsert(docs[size // 2 :])
    for query in random_queries(seed=size, count=150):
        result = backend.search(query)
        matches = expected_matches(docs, query)
        assert result.total == len(matches), query
        order = expected_order(matches, query)
        got = [hit.id for hit in result.hits]
        if query.text and Sort(query.sort) is not Sort.date and query.point is None:
            assert set(got) <= set(order)  # text relevance: any order
        elif query.text and Sort(query.sort) is Sort.relevance:
            assert set(got) <= set(order)
        else:
            assert got == order[query.offset : query.offset + query.limit], query
        facets = expected_facets(matches)
        for name in ("type", "city", "themes", "tags"):
            assert result.facets[name] == dict(facets[name]), (name, query)


def test_random_corpus_after_rewrites(backend: EmbeddedBackend) -> None:
    """Totals kept by the write path (facet counts of the whole index, vocabulary) stay
    right through replacements and deletions."""
    docs = random_corpus(300, seed=7)
    backend.upsert(docs)
    rnd = random.Random(8)
    current = {d["id"]: d for d in docs}
    rewritten = rnd.sample(random_corpus(300, seed=9), 120)  # same numbers, other kinds too
    for doc in rewritten:
        current[doc["id"]] = doc
    backend.upsert(rewritten)
    backend.upsert([current[i] for i in rnd.sample(sorted(current), 50)])  # unchanged
    gone = rnd.sample(sorted(current), 50)
    backend.delete(gone)
    for doc_id in gone:
        del current[doc_id]
    everything = list(current.values())
    for query in (replace(BASE, limit=10), replace(BASE, limit=10, include_cancelled=True)):
        result = backend.search(query)
        matches = expected_matches(everything, query)
        assert result.total == len(matches)
        facets = expected_facets(matches)
        for name in ("type", "city", "themes", "tags"):
            assert result.facets[name] == dict(facets[name])


@pytest.mark.parametrize("size", [60, 400])
def test_random_queries_without_facets_give_the_same_page(
    backend: EmbeddedBackend, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without facets nothing is materialised (counted, then read from the indexes): the
    same total and page, whichever way the page is read."""
    docs = random_corpus(size, seed=size)
    backend.upsert(docs)
    for walk_factor in (0, 10**9):  # sort the matches / walk the date index
        monkeypatch.setattr(embedded_query, "WALK_FACTOR", walk_factor)
        for query in random_queries(seed=size + 1, count=120):
            if query.text:
                continue
            bare = backend.search(replace(query, facets=()))
            matches = expected_matches(docs, query)
            assert bare.total == len(matches), query
            assert bare.facets == {}
            order = expected_order(matches, query)
            assert [h.id for h in bare.hits] == order[query.offset : query.offset + query.limit]


def test_partial_changes_rewrite_only_what_changed(backend: EmbeddedBackend) -> None:
    """A rename, a move, new themes or an unchanged document: each keeps the parts it
    does not change in place, and every query still gives the plain answer."""
    docs = random_corpus(200, seed=11)
    backend.upsert(docs)
    rnd = random.Random(12)
    current = {d["id"]: d for d in docs}
    changed = []
    for doc in rnd.sample(docs, 120):
        new = dict(doc)
        what = rnd.choice(["name", "place", "themes", "tags", "nothing", "everything"])
        if what in ("name", "everything"):
            new["name"] = f"{doc['name']} {rnd.choice(WORDS)}"
        if what in ("place", "everything"):
            new["lat"], new["lng"] = (None, None) if rnd.random() < 0.2 else (50.6, 3.0)
        if what in ("themes", "everything"):
            new["themes"] = rnd.sample(THEMES, rnd.randint(0, 2))
        if what in ("tags", "everything"):
            new["tags"] = rnd.sample(TAGS, rnd.randint(0, 3))
        current[new["id"]] = new
        changed.append(new)
    backend.upsert(changed[:60])
    backend.upsert(changed[60:])
    everything = list(current.values())
    for query in random_queries(seed=13, count=80):
        result = backend.search(query)
        matches = expected_matches(everything, query)
        assert result.total == len(matches), query
        if not query.text:
            order = expected_order(matches, query)
            assert [h.id for h in result.hits] == order[query.offset : query.offset + query.limit]
        facets = expected_facets(matches)
        for name in ("type", "city", "themes", "tags"):
            assert result.facets[name] == dict(facets[name]), (name, query)
    before = {d["id"]: d["name"] for d in docs}
    renamed = next(d for d in changed if d["name"] != before[d["id"]])
    window = replace(BASE, include_cancelled=True, start=NOW - timedelta(days=400))
    found = backend.search(replace(window, text=renamed["name"]))
    assert renamed["id"] in {h.id for h in found.hits}
