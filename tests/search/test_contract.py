"""The search contract: every case runs against every backend (embedded, Meilisearch)
and must give the same ids — and the same order where the order is defined."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest

from search.backend import SearchBackend
from search.geo import EARTH_RADIUS_KM, box_around, distance_km
from search.query import BBox, Point, SearchQuery, Sort
from tests.search.contract_data import CORPUS, MOULINS, NOW, doc, object_id

BASE = SearchQuery(now=NOW, limit=50)


@pytest.fixture
def loaded(backend: SearchBackend) -> SearchBackend:
    backend.upsert(CORPUS)
    return backend


def ids(backend: SearchBackend, query: SearchQuery) -> list[int]:
    return [int(h.object_id.rsplit("-", 1)[1]) for h in backend.search(query).hits]


def test_everything_upcoming_or_undated_without_cancelled(loaded: SearchBackend) -> None:
    result = loaded.search(BASE)
    found = sorted(int(h.object_id.rsplit("-", 1)[1]) for h in result.hits)
    assert found == [1, 2, 3, 10, 11, 12, 14, 15, 17, 18, 20, 21]
    assert result.total == 12


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("velo", {10, 11}),  # accents folded
        ("VÉLO", {10, 11}),  # case folded
        ("reparation", {11, 18}),  # "Réparation", "réparation"
        ("cofabrik", {1}),
        ("cofabirk", {1}),  # one transposition / typo
        ("disco soupe", {12}),  # every word must match
        ("atel", {1, 10}),  # prefix of the last word while typing
    ],
)
def test_text_is_forgiving(loaded: SearchBackend, text: str, expected: set[int]) -> None:
    assert set(ids(loaded, replace(BASE, text=text))) == expected


def test_hostile_text_never_breaks(loaded: SearchBackend) -> None:
    for text in ['"', "*", "NEAR(", "-", "AND OR NOT", "(velo", "vélo\"'", "🚲", "a" * 200]:
        loaded.search(replace(BASE, text=text))


def test_radius_around_moulins(loaded: SearchBackend) -> None:
    query = replace(BASE, point=Point(*MOULINS), radius_km=5, sort=Sort.distance)
    result = loaded.search(query)
    found = [int(h.object_id.rsplit("-", 1)[1]) for h in result.hits]
    assert found == [2, 1, 10, 12, 20, 14, 18]
    assert 3 not in found and 11 not in found  # Roubaix is ~9 km away
    distances = [h.distance_km for h in result.hits]
    assert distances == sorted(distances)  # type: ignore[type-var]
    assert distances[0] is not None and distances[0] < 0.2


def test_distance_order_covers_everything_with_coordinates_first(loaded: SearchBackend) -> None:
    query = replace(BASE, point=Point(*MOULINS), sort=Sort.distance, types=frozenset({"event"}))
    assert ids(loaded, query) == [10, 12, 14, 18, 15, 11, 17]


def test_bounding_box(loaded: SearchBackend) -> None:
    box = BBox(min_lat=50.61, min_lon=3.05, max_lat=50.625, max_lon=3.075)
    assert set(ids(loaded, replace(BASE, bbox=box))) == {1, 2, 10}


def test_date_window_overlap(loaded: SearchBackend) -> None:
    start = NOW + timedelta(hours=1)
    query = replace(
        BASE,
        start=start,
        end=NOW + timedelta(days=2, hours=23),
        types=frozenset({"event"}),
        sort=Sort.date,
    )
    # the festival started yesterday and is still on: it overlaps the window start
    assert ids(loaded, query) == [14, 12, 10]


def test_date_sort_puts_events_first_then_names(loaded: SearchBackend) -> None:
    assert ids(loaded, replace(BASE, sort=Sort.date)) == [
        14,
        12,
        10,
        17,
        11,
        18,
        15,
        20,
        1,
        2,
        21,
        3,
    ]


def test_past_and_cancelled_on_request(loaded: SearchBackend) -> None:
    window = replace(
        BASE,
        start=NOW - timedelta(days=30),
        end=NOW + timedelta(days=30),
        types=frozenset({"event"}),
    )
    assert 16 in ids(loaded, window) and 13 not in ids(loaded, window)
    assert 13 in ids(loaded, replace(window, include_cancelled=True))


def test_themes_any_of_with_facets_that_add_up(loaded: SearchBackend) -> None:
    query = replace(BASE, themes=("sharing", "food"))
    result = loaded.search(query)
    assert {int(h.object_id.rsplit("-", 1)[1]) for h in result.hits} == {1, 3, 11, 12, 18, 20}
    facets = result.facets
    assert sum(facets["type"].values()) == result.total == 6
    assert facets["type"] == {"organisation": 2, "event": 3, "project": 1}
    assert facets["themes"]["sharing"] == 4 and facets["themes"]["food"] == 2
    assert facets["city"]["Lille"] == 3


def test_tags_any_and_all(loaded: SearchBackend) -> None:
    assert set(ids(loaded, replace(BASE, tags=("velo", "reemploi")))) == {3, 10, 11, 18}
    assert set(ids(loaded, replace(BASE, tags=("velo", "reemploi"), tags_all=True))) == {11}


def test_types_origin_and_organisation(loaded: SearchBackend) -> None:
    assert set(ids(loaded, replace(BASE, types=frozenset({"project"})))) == {20, 21}
    assert ids(loaded, replace(BASE, origin="roubaix.example")) == [18]
    assert 18 not in ids(loaded, replace(BASE, origin="local"))
    assert ids(loaded, replace(BASE, text="mons")) == [18]  # remote items are searchable


def test_paging_and_totals(loaded: SearchBackend) -> None:
    first = loaded.search(replace(BASE, sort=Sort.date, limit=5))
    second = loaded.search(replace(BASE, sort=Sort.date, limit=5, offset=5))
    assert first.total == second.total == 12
    both = [h.id for h in first.hits + second.hits]
    assert len(set(both)) == 10


def test_deletion_and_replacement(loaded: SearchBackend) -> None:
    loaded.delete([f"organisation-{object_id(1)}"])
    assert ids(loaded, replace(BASE, text="cofabrik")) == []
    renamed = doc(
        "event", 12, "Soupe populaire", lat=50.6330, lng=3.0586, starts=1, status="confirmed"
    )
    loaded.upsert([renamed])
    assert ids(loaded, replace(BASE, text="disco")) == []
    assert ids(loaded, replace(BASE, text="populaire")) == [12]
    versions = loaded.versions()
    assert f"organisation-{object_id(1)}" not in versions
    assert len(versions) == len(CORPUS) - 1


# -- a radius: the exact distance decides, whatever the order ------------------------------

CIRCLE = [2, 1, 10, 12, 20, 14, 18]  # within 5 km of Moulins, nearest first


def test_a_radius_cuts_the_corners_of_its_box(loaded: SearchBackend) -> None:
    """The engines pre-filter a radius with its box: what lies in the box's corner but
    beyond the radius is in neither the hits, the total nor the facets; what lies at the
    circle's rim, near the box's edge, is in all three."""
    centre = Point(*MOULINS)
    box = box_around(centre, 5)
    corner = doc("event", 30, "Coin", lat=box.max_lat - 0.001, lng=box.max_lon - 0.001,
                 city="Corner", themes=["corner"], starts=1, status="confirmed")  # fmt: skip
    rim = doc("event", 31, "Bord", lat=centre.lat + 0.001, lng=box.max_lon - 0.0002,
              city="Rim", themes=["rim"], starts=1, status="confirmed")  # fmt: skip
    assert distance_km(centre, corner["lat"], corner["lng"]) > 5
    assert 4.98 < distance_km(centre, rim["lat"], rim["lng"]) <= 5
    loaded.upsert([corner, rim])
    query = replace(BASE, point=centre, radius_km=5, sort=Sort.distance)
    result = loaded.search(query)
    found = [int(h.object_id.rsplit("-", 1)[1]) for h in result.hits]
    assert found == [*CIRCLE, 31]
    assert result.total == len(CIRCLE) + 1
    assert "corner" not in result.facets["themes"] and result.facets["themes"]["rim"] == 1
    assert "Corner" not in result.facets["city"] and result.facets["city"]["Rim"] == 1
    assert sum(result.facets["type"].values()) == result.total


def test_a_hit_on_the_radius_is_decided_by_its_exact_distance(loaded: SearchBackend) -> None:
    """Due north of the point, on the box's edge, the distance is the radius up to
    rounding: both engines compute it the same way (search.geo) and agree."""
    centre = Point(*MOULINS)
    north = doc("event", 32, "Nord", lat=box_around(centre, 5).max_lat, lng=centre.lon,
                themes=["north"], starts=1, status="confirmed")  # fmt: skip
    loaded.upsert([north])
    inside = distance_km(centre, north["lat"], north["lng"]) <= 5
    result = loaded.search(replace(BASE, point=centre, radius_km=5, sort=Sort.distance))
    assert (32 in [int(h.object_id.rsplit("-", 1)[1]) for h in result.hits]) == inside
    assert result.total == len(CIRCLE) + inside


def test_radius_pages_add_up_in_distance_order(loaded: SearchBackend) -> None:
    query = replace(BASE, point=Point(*MOULINS), radius_km=5, sort=Sort.distance, limit=2)
    whole = loaded.search(replace(query, limit=50))
    pages = [loaded.search(replace(query, offset=offset)) for offset in range(0, 8, 2)]
    assert [int(h.object_id.rsplit("-", 1)[1]) for p in pages for h in p.hits] == CIRCLE
    assert {p.total for p in pages} == {len(CIRCLE)}
    assert all(p.facets == whole.facets for p in pages)


def test_radius_in_date_and_relevance_orders(loaded: SearchBackend) -> None:
    around = replace(BASE, point=Point(*MOULINS), radius_km=5)
    # events by start, then the others by name (accents and case folded)
    assert ids(loaded, replace(around, sort=Sort.date)) == [14, 12, 10, 18, 20, 1, 2]
    assert ids(loaded, replace(around, sort=Sort.date, offset=3, limit=2)) == [18, 20]
    assert set(ids(loaded, replace(around, text="atel"))) == {1, 10}
    assert ids(loaded, replace(around, text="roubaix")) == []  # Roubaix is ~9 km away


def test_distance_order_pages_through_growing_rings(backend: SearchBackend) -> None:
    """Without a radius, the nearest first however far: 0.5, 3, 30, 300 and 3,000 km north
    of the point, then the items without coordinates by id, page by page."""
    centre = Point(*MOULINS)
    steps = [0.0045, 0.027, 0.27, 2.7, 27.0]  # degrees of latitude
    located = [
        doc("organisation", 40 + i, f"Loin {i}", lat=centre.lat + step, lng=centre.lon,
            themes=["rings"])
        for i, step in enumerate(steps)
    ]  # fmt: skip
    nowhere = [doc("project", 50 + i, f"Nulle part {i}", themes=["rings"]) for i in range(2)]
    backend.upsert([*located, *nowhere])
    query = replace(BASE, point=centre, sort=Sort.distance, themes=("rings",), limit=2)
    expected = [40, 41, 42, 43, 44, 50, 51]
    for offset in range(len(expected)):
        result = backend.search(replace(query, offset=offset))
        found = [int(h.object_id.rsplit("-", 1)[1]) for h in result.hits]
        assert found == expected[offset : offset + 2]
        assert result.total == len(expected)


def test_a_wide_radius_keeps_what_lies_at_its_widest(loaded: SearchBackend) -> None:
    """A circle is widest a little poleward of its centre, wider than radius / cos(lat):
    an item there is within the radius (a box of ``radius / cos(lat)`` left it out)."""
    centre, radius = Point(*MOULINS), 1000.0
    d = radius / EARTH_RADIUS_KM
    lat = math.degrees(math.asin(math.sin(math.radians(centre.lat)) / math.cos(d)))
    widest = math.degrees(math.asin(math.sin(d) / math.cos(math.radians(centre.lat))))
    far = doc("organisation", 33, "Au plus large", lat=lat, lng=centre.lon + 0.999 * widest)
    assert distance_km(centre, far["lat"], far["lng"]) <= radius
    assert far["lng"] > centre.lon + math.degrees(d) / math.cos(math.radians(centre.lat))
    loaded.upsert([far])
    query = replace(BASE, point=centre, radius_km=radius, sort=Sort.distance)
    assert ids(loaded, query)[-1] == 33
