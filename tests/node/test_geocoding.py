"""Geocoding (node/geocoding.py). Online geocoders only ever see httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from node.gazetteer import default_gazetteer
from node.geocoding import (
    DEFAULT_URLS,
    GeocodedPlace,
    Geocoder,
    OfflineGeocoder,
    OnlineGeocoder,
    PlaceInput,
    is_france,
    make_geocoder,
)

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(scope="module")
def offline() -> OfflineGeocoder:
    return OfflineGeocoder(default_gazetteer())


class Recorder:
    """A MockTransport handler that records requests and answers with ``respond``."""

    def __init__(self, respond: Handler) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


@pytest.fixture
def mock_client() -> Iterator[Callable[[Handler], tuple[httpx.Client, Recorder]]]:
    clients: list[httpx.Client] = []

    def make(respond: Handler) -> tuple[httpx.Client, Recorder]:
        recorder = Recorder(respond)
        client = httpx.Client(transport=httpx.MockTransport(recorder))
        clients.append(client)
        return client, recorder

    yield make
    for client in clients:
        client.close()


def ban_feature(**properties: Any) -> dict[str, Any]:
    coordinates = properties.pop("coordinates", [3.0634, 50.6366])
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coordinates},
        "properties": {"score": 0.93, **properties},
    }


def ban_answer(*features: dict[str, Any]) -> Handler:
    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"type": "FeatureCollection", "features": list(features)})

    return respond


LILLE_ADDRESS = PlaceInput(
    name="Maison des associations",
    street="72 rue Royale",
    postal_code="59000",
    city="Lille",
    country="France",
)
LILLE_HOUSENUMBER = ban_feature(
    label="72 Rue Royale 59000 Lille",
    type="housenumber",
    housenumber="72",
    street="Rue Royale",
    name="72 Rue Royale",
    postcode="59000",
    citycode="59350",
    city="Lille",
    coordinates=[3.060512, 50.641211],
)


# --------------------------------------------------------------------------- offline


def test_is_france() -> None:
    for value in (None, "", " ", "FR", "fr", "FRA", "France", "FRANCE", "République française"):
        assert is_france(value), value
    for value in ("GP", "Guadeloupe", "La Réunion", "Mayotte"):
        assert is_france(value), value
    for value in ("BE", "Belgique", "Germany", "Monaco"):
        assert not is_france(value), value


def test_offline_city_level(offline: OfflineGeocoder) -> None:
    place = offline.geocode(LILLE_ADDRESS)
    assert place.precision == "city"
    assert place.insee_code == "59350"
    assert place.city == "Lille"
    assert place.postal_code == "59000"
    assert place.street == "72 rue Royale"
    assert place.name == "Maison des associations"
    assert place.country == "France"
    assert place.latitude == pytest.approx(50.63, abs=0.03)
    assert place.longitude == pytest.approx(3.06, abs=0.04)


def test_offline_fills_names_and_single_postal_code(offline: OfflineGeocoder) -> None:
    roubaix = offline.geocode(PlaceInput(city="ROUBAIX"))
    assert (roubaix.city, roubaix.postal_code, roubaix.insee_code) == ("Roubaix", "59100", "59512")
    assert roubaix.precision == "city"
    # Lille has five postal codes: none is made up.
    lille = offline.geocode(PlaceInput(city="lille"))
    assert (lille.city, lille.postal_code, lille.insee_code) == ("Lille", None, "59350")
    by_code = offline.geocode(PlaceInput(postal_code="59650"))
    assert (by_code.city, by_code.insee_code) == ("Villeneuve-d'Ascq", "59009")
    vda = offline.geocode(PlaceInput(street="2 rue Paul Doumer", city="villeneuve d ascq"))
    assert vda.insee_code == "59009" and vda.precision == "city"


def test_offline_hellemmes_is_lille(offline: OfflineGeocoder) -> None:
    place = offline.geocode(
        PlaceInput(street="rue Roger Salengro", postal_code="59260", city="Hellemmes")
    )
    assert place.insee_code == "59350"
    assert place.city == "Lille"
    assert place.postal_code == "59260"
    assert place.precision == "city"


def test_offline_arrondissement(offline: OfflineGeocoder) -> None:
    place = offline.geocode(PlaceInput(postal_code="75011", city="Paris"))
    assert place.insee_code == "75111"
    assert place.city == "Paris"
    assert place.precision == "city"


def test_offline_keeps_user_coordinates(offline: OfflineGeocoder) -> None:
    given = PlaceInput(city="Lille", postal_code="59000", latitude=50.6372, longitude=3.0633)
    place = offline.geocode(given)
    assert place.precision == "exact"
    assert (place.latitude, place.longitude) == (50.6372, 3.0633)
    assert place.insee_code == "59350"
    nowhere = offline.geocode(PlaceInput(city="Nowhere", latitude=48.0, longitude=2.0))
    assert nowhere.precision == "exact"
    assert (nowhere.latitude, nowhere.longitude) == (48.0, 2.0)
    assert nowhere.insee_code is None


def test_offline_drops_partial_or_invalid_coordinates(offline: OfflineGeocoder) -> None:
    partial = offline.geocode(PlaceInput(city="Roubaix", latitude=50.7))
    assert partial.precision == "city" and partial.insee_code == "59512"
    assert partial.latitude != 50.7
    bad = offline.geocode(PlaceInput(city="Nowhere", latitude=200.0, longitude=3.0))
    assert bad.precision == "none"
    assert (bad.latitude, bad.longitude) == (None, None)
    nan = offline.geocode(PlaceInput(latitude=float("nan"), longitude=3.0))
    assert nan.precision == "none"


def test_offline_unknown_place(offline: OfflineGeocoder) -> None:
    given = PlaceInput(
        name="Chez nous",
        street="1 rue X",
        postal_code="99999",
        city="Nowhere-sur-Rien",
        country="FR",
    )
    place = offline.geocode(given)
    assert place == GeocodedPlace(
        name="Chez nous",
        street="1 rue X",
        postal_code="99999",
        city="Nowhere-sur-Rien",
        country="FR",
        precision="none",
    )
    assert offline.geocode(PlaceInput()) == GeocodedPlace()
    blank = offline.geocode(PlaceInput(name=" ", street="", city="  "))
    assert blank == GeocodedPlace()


def test_offline_ambiguous_city_is_not_guessed(offline: OfflineGeocoder) -> None:
    assert offline.geocode(PlaceInput(city="Valence")).precision == "none"
    drome = offline.geocode(PlaceInput(city="Valence", postal_code="26000"))
    assert drome.insee_code == "26362"


def test_offline_other_countries_pass_through(offline: OfflineGeocoder) -> None:
    brussels = PlaceInput(street="Grand-Place", postal_code="1000", city="Bruxelles", country="BE")
    place = offline.geocode(brussels)
    assert place.precision == "none"
    assert place.insee_code is None
    assert place.postal_code == "1000"  # not read as the French 01000
    with_coordinates = offline.geocode(
        PlaceInput(city="Bruxelles", country="Belgique", latitude=50.8467, longitude=4.3525)
    )
    assert with_coordinates.precision == "exact"
    assert with_coordinates.insee_code is None


def test_offline_overseas(offline: OfflineGeocoder) -> None:
    place = offline.geocode(PlaceInput(city="Saint-Denis", postal_code="97400", country="RE"))
    assert place.insee_code == "97411"
    assert place.latitude is not None and place.latitude < 0


# --------------------------------------------------------------------------- BAN


def test_ban_housenumber(mock_client: Any, offline: OfflineGeocoder) -> None:
    client, recorder = mock_client(ban_answer(LILLE_HOUSENUMBER))
    geocoder = OnlineGeocoder("ban", client, "https://ban.test/", fallback=offline)
    place = geocoder.geocode(LILLE_ADDRESS)
    assert place == GeocodedPlace(
        name="Maison des associations",
        street="72 Rue Royale",
        postal_code="59000",
        city="Lille",
        country="France",
        latitude=50.641211,
        longitude=3.060512,
        insee_code="59350",
        precision="exact",
    )
    [request] = recorder.requests
    assert request.method == "GET"
    assert request.url.host == "ban.test"
    assert request.url.path == "/search/"
    assert request.url.params["q"] == "72 rue Royale 59000 Lille"
    assert request.url.params["limit"] == "1"
    assert request.headers["User-Agent"].startswith("Maillon")


def test_ban_street_and_municipality(mock_client: Any, offline: OfflineGeocoder) -> None:
    street = ban_feature(
        type="street", name="Rue Royale", postcode="59000", citycode="59350", city="Lille"
    )
    client, _ = mock_client(ban_answer(street))
    place = OnlineGeocoder("ban", client, fallback=offline).geocode(LILLE_ADDRESS)
    assert (place.precision, place.street, place.insee_code) == ("street", "Rue Royale", "59350")

    town = ban_feature(
        type="municipality", name="Lille", postcode="59000", citycode="59350", city="Lille"
    )
    client, _ = mock_client(ban_answer(town))
    place = OnlineGeocoder("ban", client, fallback=offline).geocode(LILLE_ADDRESS)
    assert (place.precision, place.street) == ("city", "72 rue Royale")


def failing(exc: Exception) -> Handler:
    def respond(request: httpx.Request) -> httpx.Response:
        raise exc

    return respond


def status(code: int, body: str = "error") -> Handler:
    return lambda request: httpx.Response(code, text=body)


def raw(body: str) -> Handler:
    return lambda request: httpx.Response(200, text=body)


FAILURES: dict[str, Handler] = {
    "connect error": failing(httpx.ConnectError("refused")),
    "read timeout": failing(httpx.ReadTimeout("slow")),
    "500": status(500),
    "503": status(503),
    "429": status(429),
    "not json": raw("<html>oops</html>"),
    "wrong shape": raw(json.dumps({"type": "FeatureCollection"})),
    "features not a list": raw(json.dumps({"features": {"a": 1}})),
    "bad coordinates": ban_answer(ban_feature(type="housenumber", coordinates=["x", None])),
    "no geometry": raw(json.dumps({"features": [{"properties": {"type": "street"}}]})),
    "list payload": raw(json.dumps([1, 2])),
    "empty result": ban_answer(),
    "low score": ban_answer({**LILLE_HOUSENUMBER, "properties": {"score": 0.1}}),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_ban_falls_back_to_the_gazetteer(
    failure: str, mock_client: Any, offline: OfflineGeocoder
) -> None:
    client, recorder = mock_client(FAILURES[failure])
    geocoder = OnlineGeocoder("ban", client, fallback=offline)
    place = geocoder.geocode(LILLE_ADDRESS)
    assert len(recorder.requests) == 1
    assert place == offline.geocode(LILLE_ADDRESS)
    assert place.precision == "city"
    assert place.insee_code == "59350"


def test_ban_failure_for_an_unknown_place(mock_client: Any, offline: OfflineGeocoder) -> None:
    client, _ = mock_client(status(500))
    given = PlaceInput(street="1 rue X", city="Nowhere-sur-Rien")
    place = OnlineGeocoder("ban", client, fallback=offline).geocode(given)
    assert place.precision == "none"
    assert (place.street, place.city) == ("1 rue X", "Nowhere-sur-Rien")


def test_online_skips_the_network_when_it_need_not(
    mock_client: Any, offline: OfflineGeocoder
) -> None:
    client, recorder = mock_client(failing(AssertionError("no request expected")))
    for kind in ("ban", "nominatim"):
        geocoder = OnlineGeocoder(kind, client, fallback=offline)
        # no street: the commune is all there is to find
        assert geocoder.geocode(PlaceInput(postal_code="59100")).insee_code == "59512"
        # the user's coordinates are kept and not sent anywhere
        exact = geocoder.geocode(
            PlaceInput(street="72 rue Royale", city="Lille", latitude=50.6, longitude=3.1)
        )
        assert exact.precision == "exact" and exact.insee_code == "59350"
        assert geocoder.geocode(PlaceInput()) == GeocodedPlace()
    ban = OnlineGeocoder("ban", client, fallback=offline)
    foreign = ban.geocode(PlaceInput(street="Grand-Place 1", city="Bruxelles", country="BE"))
    assert foreign.precision == "none"
    assert recorder.requests == []


def test_ban_is_asked_for_a_city_the_gazetteer_does_not_know(
    mock_client: Any, offline: OfflineGeocoder
) -> None:
    town = ban_feature(
        type="municipality", name="Lille", postcode="59000", citycode="59350", city="Lille"
    )
    client, recorder = mock_client(ban_answer(town))
    place = OnlineGeocoder("ban", client, fallback=offline).geocode(PlaceInput(city="Lile"))
    assert len(recorder.requests) == 1
    assert (place.city, place.insee_code, place.precision) == ("Lille", "59350", "city")


# --------------------------------------------------------------------------- Nominatim


NOMINATIM_HOUSE = [
    {
        "place_id": 1,
        "lat": "50.6412110",
        "lon": "3.0605120",
        "category": "place",
        "type": "house",
        "place_rank": 30,
        "addresstype": "place",
        "display_name": "72, Rue Royale, Lille, Nord, France",
        "address": {
            "house_number": "72",
            "road": "Rue Royale",
            "suburb": "Vieux-Lille",
            "city": "Lille",
            "postcode": "59000",
            "country": "France",
            "country_code": "fr",
        },
    }
]


def test_nominatim_house(mock_client: Any, offline: OfflineGeocoder) -> None:
    client, recorder = mock_client(lambda request: httpx.Response(200, json=NOMINATIM_HOUSE))
    geocoder = OnlineGeocoder("nominatim", client, "https://osm.test", fallback=offline)
    place = geocoder.geocode(LILLE_ADDRESS)
    assert place == GeocodedPlace(
        name="Maison des associations",
        street="72 Rue Royale",
        postal_code="59000",
        city="Lille",
        country="France",
        latitude=50.641211,
        longitude=3.060512,
        insee_code="59350",
        precision="exact",
    )
    [request] = recorder.requests
    assert request.url.host == "osm.test"
    assert request.url.path == "/search"
    params = request.url.params
    assert params["format"] == "jsonv2"
    assert params["addressdetails"] == "1"
    assert params["limit"] == "1"
    assert params["countrycodes"] == "fr"
    assert params["q"] == "72 rue Royale, 59000 Lille, France"
    assert request.headers["User-Agent"].startswith("Maillon")


def test_nominatim_street_and_abroad(mock_client: Any, offline: OfflineGeocoder) -> None:
    answer = [
        {
            "lat": "50.8467",
            "lon": "4.3525",
            "place_rank": 26,
            "address": {
                "road": "Grand-Place",
                "city": "Bruxelles",
                "postcode": "1000",
                "country_code": "be",
            },
        }
    ]
    client, recorder = mock_client(lambda request: httpx.Response(200, json=answer))
    geocoder = OnlineGeocoder("nominatim", client, fallback=offline)
    place = geocoder.geocode(
        PlaceInput(street="Grand Place", postal_code="1000", city="Bruxelles", country="BE")
    )
    assert place.precision == "street"
    assert (place.street, place.city, place.postal_code) == ("Grand-Place", "Bruxelles", "1000")
    assert place.insee_code is None
    assert "countrycodes" not in recorder.requests[0].url.params
    assert recorder.requests[0].url.host == "nominatim.openstreetmap.org"


@pytest.mark.parametrize(
    "respond",
    [
        failing(httpx.ConnectError("refused")),
        failing(httpx.ConnectTimeout("slow")),
        status(500),
        raw("not json"),
        raw(json.dumps({"error": "Unable to geocode"})),
        raw(json.dumps([{"lat": "x", "lon": "3"}])),
        raw(json.dumps([{"lon": "3"}])),
        raw(json.dumps([])),
        raw(json.dumps([{"lat": "46.6", "lon": "2.2", "place_rank": 4, "address": {}}])),
    ],
    ids=[
        "connect",
        "timeout",
        "500",
        "not json",
        "object",
        "bad lat",
        "no lat",
        "empty",
        "country",
    ],
)
def test_nominatim_falls_back(respond: Handler, mock_client: Any, offline: OfflineGeocoder) -> None:
    client, recorder = mock_client(respond)
    place = OnlineGeocoder("nominatim", client, fallback=offline).geocode(LILLE_ADDRESS)
    assert len(recorder.requests) == 1
    assert place == offline.geocode(LILLE_ADDRESS)
    assert place.precision == "city"


# --------------------------------------------------------------------------- factory


def test_make_geocoder(mock_client: Any) -> None:
    offline: Geocoder = make_geocoder("offline", None)
    assert isinstance(offline, OfflineGeocoder)
    client, _ = mock_client(ban_answer())
    ban = make_geocoder("ban", None, client)
    assert isinstance(ban, OnlineGeocoder)
    assert (ban.kind, ban.url) == ("ban", DEFAULT_URLS["ban"])
    nominatim = make_geocoder("nominatim", "https://nominatim.example.org/", client)
    assert isinstance(nominatim, OnlineGeocoder)
    assert nominatim.url == "https://nominatim.example.org"
    owned = make_geocoder("ban", "https://ban.example.org")
    assert isinstance(owned, OnlineGeocoder)
    owned.close()
    with pytest.raises(ValueError):
        make_geocoder("google", None)  # type: ignore[arg-type]
