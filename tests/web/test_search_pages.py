"""Stage 2: home and search — filters, views, map pins, facets, pagination, URLs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from starlette.datastructures import QueryParams

from tests.web.conftest import Browser, Content, text_of
from web.search_params import SearchParams, parse, window

PINS = re.compile(r'<script type="application/json" id="map-pins">(.*?)</script>', re.S)
ITEMS = re.compile(r'<li class="result" data-id="([0-9a-f-]+)" data-type="(\w+)"([^>]*)>')


def pins(html: str) -> list[dict[str, object]]:
    found = PINS.search(html)
    assert found
    result: list[dict[str, object]] = json.loads(found.group(1))
    return result


def items(html: str) -> list[tuple[str, str, bool]]:
    return [(i, t, "data-lat" in rest) for i, t, rest in ITEMS.findall(html)]


def soon(hours: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def test_home_shows_the_next_events(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    event = content.event(admin, org["id"])
    content.index()
    page = browser.get("/")
    assert page.status_code == 200
    found = items(page.text)
    assert (event["id"], "event", True) in found
    assert all(kind == "event" for _, kind, _ in found)  # events only on the home page
    assert 'id="map"' in page.text


def test_search_by_theme_with_facet_counts(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    repair = content.event(admin, org["id"], themes=["sharing"])
    concert = content.event(admin, org["id"], name="Concert", themes=["culture"])
    content.index()
    page = browser.get("/search?theme=sharing&type=event")
    ids = [i for i, _, _ in items(page.text)]
    assert repair["id"] in ids and concert["id"] not in ids
    assert 'value="sharing" checked' in page.text
    assert re.search(r'value="sharing" checked> Mutualisation <span class="count">\(1\)', page.text)
    assert "1 résultat" in text_of(page.text)


def test_date_presets(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    now = content.event(
        admin, org["id"], name="Happening now", starts_at=soon(-1), ends_at=soon(2)
    )
    later = content.event(admin, org["id"], name="Far away in time")
    content.index()
    for preset in ("week", "month"):
        ids = [i for i, _, _ in items(browser.get(f"/search?when={preset}").text)]
        assert now["id"] in ids and later["id"] not in ids
    everything = [i for i, _, _ in items(browser.get("/search").text)]
    assert later["id"] in everything


def test_weekend_window() -> None:
    wednesday = datetime(2030, 5, 15, 10, 0, tzinfo=UTC)
    start, end = window("weekend", "Europe/Paris", wednesday)
    assert start.isoformat() == "2030-05-18T00:00:00+02:00"
    assert end.isoformat() == "2030-05-20T00:00:00+02:00"
    sunday = datetime(2030, 5, 19, 10, 0, tzinfo=UTC)
    start, end = window("weekend", "Europe/Paris", sunday)
    assert start == sunday and end.isoformat() == "2030-05-20T00:00:00+02:00"


def test_radius_near_a_point_and_a_commune(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    lille = content.event(admin, org["id"], name="In Lille")
    paris = content.event(
        admin,
        org["id"],
        name="In Paris",
        place={"name": "Halle", "postal_code": "75011", "city": "Paris"},
    )
    content.index()
    near_point = browser.get("/search?lat=50.63&lon=3.06&radius=10&sort=distance")
    ids = [i for i, _, _ in items(near_point.text)]
    assert lille["id"] in ids and paris["id"] not in ids
    assert " km" in near_point.text or " m " in text_of(near_point.text)
    near_commune = browser.get("/search?near=Paris&radius=25")
    ids = [i for i, _, _ in items(near_commune.text)]
    assert paris["id"] in ids and lille["id"] not in ids
    unknown = browser.get("/search?near=Nowhereville")
    assert unknown.status_code == 200 and 'class="notice"' in unknown.text


def test_map_area_and_pins_agree_with_the_list(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    lille = content.event(admin, org["id"], name="In Lille")
    online = content.event(
        admin, org["id"], name="Online", place=None, online_url="https://visio.test/room"
    )
    content.index()
    page = browser.get("/search?type=event")
    listed = items(page.text)
    assert {i for i, _, _ in listed} == {lille["id"], online["id"]}
    assert sorted(str(p["id"]) for p in pins(page.text)) == sorted(i for i, _, has in listed if has)
    in_area = browser.get("/search?type=event&bbox=2.9,50.5,3.2,50.7")
    assert [i for i, _, _ in items(in_area.text)] == [lille["id"]]
    assert "Seulement dans la zone de la carte choisie" in in_area.text  # can be unticked
    elsewhere = browser.get("/search?type=event&bbox=2.0,48.0,2.5,49.0")
    assert items(elsewhere.text) == []


def test_agenda_view_groups_events_by_day(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    content.event(admin, org["id"], name="Morning", starts_at="2030-05-16T09:00:00",
                  ends_at="2030-05-16T10:00:00")
    content.event(admin, org["id"], name="Next day", starts_at="2030-05-17T09:00:00",
                  ends_at="2030-05-17T10:00:00")
    content.index()
    page = browser.get("/search?view=agenda")
    text = text_of(page.text)
    assert "jeudi 16 mai 2030" in text and "vendredi 17 mai 2030" in text
    assert text.index("Morning") < text.index("Next day")
    assert 'aria-current="page">Agenda' in page.text


def test_pagination_keeps_the_filters(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    for n in range(23):
        content.event(admin, org["id"], name=f"Atelier {n:02d}", themes=["sharing"])
    content.index()
    first = browser.get("/search?theme=sharing&type=event")
    assert len(items(first.text)) == 20
    assert 'href="/search?theme=sharing&amp;type=event&amp;page=2" rel="next"' in first.text
    second = browser.get("/search?theme=sharing&type=event&page=2")
    assert len(items(second.text)) == 3


def test_mangled_links_still_answer(browser: Browser) -> None:
    for query in ("lat=abc&lon=3", "lat=50", "bbox=1,2,3", "page=-4", "theme=unknown",
                  "radius=1e309", "view=<script>", "when=yesterday", "sort=random"):
        page = browser.get(f"/search?{query}")
        assert page.status_code == 200, query
        assert "<script>" not in page.text.split("<main", 1)[1].split("</main>")[0]


def test_a_search_url_round_trips() -> None:
    query = "q=v%C3%A9lo&theme=mobility&theme=sharing&type=event&when=weekend&radius=10&view=map"
    params = parse(QueryParams(query))
    assert params.query_string() == query
    assert isinstance(params, SearchParams)


def test_a_date_range(browser: Browser, content: Content) -> None:
    admin = content.account()
    org = content.organisation(admin)
    event = content.event(admin, org["id"])  # 16 May 2030, 14:00-18:00 in Paris
    content.index()
    found = browser.get("/search?start=2030-05-16&end=2030-05-16")
    assert event["id"] in [i for i, _, _ in items(found.text)]
    assert 'value="2030-05-16"' in found.text
    later = browser.get("/search?start=2030-05-17&end=2030-05-30")
    assert event["id"] not in [i for i, _, _ in items(later.text)]
