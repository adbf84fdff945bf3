"""The search contract: every case runs against every backend (embedded, Meilisearch)
and must give the same ids — and the same order where the order is defined."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from search.backend import SearchBackend
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
