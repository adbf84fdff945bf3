"""Geocoding of the places users enter (organisations, events): at least to the commune,
offline, from the shipped gazetteer (:mod:`node.gazetteer`); optionally to the street or
the house number through an online geocoder — the French national address API (BAN,
``api-adresse.data.gouv.fr``) or Nominatim — when the node is configured for one.

No geocoder raises for a place it cannot find: it returns the place as given, with
precision ``"none"``. The online geocoders fall back to the offline one on any network
error, timeout, HTTP error status, malformed payload or empty result.

Coordinates the user gave are kept (precision ``"exact"``) and never sent anywhere; a
partial or out-of-range pair is dropped. Nominatim's usage policy asks for at most one
request per second and an identifying User-Agent: callers geocoding in bulk must pace
themselves.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

from node.gazetteer import Commune, Gazetteer, default_gazetteer, normalise_name

__all__ = [
    "DEFAULT_URLS",
    "USER_AGENT",
    "GeocodedPlace",
    "Geocoder",
    "GeocoderKind",
    "OfflineGeocoder",
    "OnlineGeocoder",
    "PlaceInput",
    "Precision",
    "is_france",
    "make_geocoder",
]

log = logging.getLogger(__name__)

Precision = Literal["exact", "street", "city", "none"]
GeocoderKind = Literal["offline", "ban", "nominatim"]

DEFAULT_URLS: dict[str, str] = {
    "ban": "https://api-adresse.data.gouv.fr",
    "nominatim": "https://nominatim.openstreetmap.org",
}
USER_AGENT = "Maillon/0.1 (federated civic social network; geocoding)"
DEFAULT_TIMEOUT = 5.0

# Country values meaning France (normalised): metropolitan France and the DROM, which
# the gazetteer covers.
_FRANCE_METRO = frozenset({"fr", "fra", "france", "republique francaise", "french republic"})
_FRANCE = _FRANCE_METRO | frozenset(
    {
        "gp", "glp", "guadeloupe",
        "mq", "mtq", "martinique",
        "gf", "guf", "guyane", "guyane francaise", "french guiana",
        "re", "reu", "reunion", "la reunion",
        "yt", "myt", "mayotte",
    }
)  # fmt: skip
_BAN_QUERY_MAX = 200


@dataclass(frozen=True, slots=True)
class PlaceInput:
    """A place as a user typed it."""

    name: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class GeocodedPlace:
    """A place with what geocoding could add: coordinates, the commune's INSEE code, and
    how precise the coordinates are — ``exact`` (given by the user, or a house number),
    ``street``, ``city`` (the commune's town hall or centre), ``none`` (no coordinates)."""

    name: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    insee_code: str | None = None
    precision: Precision = "none"


class Geocoder(Protocol):
    def geocode(self, place: PlaceInput) -> GeocodedPlace: ...


def is_france(country: str | None) -> bool:
    """Whether a country value means France (None and blank do: the default country)."""
    if country is None or not country.strip():
        return True
    return normalise_name(country) in _FRANCE


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


def _valid_pair(latitude: Any, longitude: Any) -> tuple[float, float] | None:
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    return lat, lon


def _user_coordinates(place: PlaceInput) -> tuple[float, float] | None:
    if place.latitude is None or place.longitude is None:
        return None
    return _valid_pair(place.latitude, place.longitude)


def _as_given(place: PlaceInput) -> GeocodedPlace:
    """The place as the user gave it (blank strings → None, bad coordinates dropped)."""
    coordinates = _user_coordinates(place)
    return GeocodedPlace(
        name=_clean(place.name),
        street=_clean(place.street),
        postal_code=_clean(place.postal_code),
        city=_clean(place.city),
        country=_clean(place.country),
        latitude=coordinates[0] if coordinates else None,
        longitude=coordinates[1] if coordinates else None,
        precision="exact" if coordinates else "none",
    )


class OfflineGeocoder:
    """Geocodes French places to their commune with the gazetteer; never calls out.

    The city becomes the commune's official name ("Paris" for an arrondissement), the
    INSEE code is the commune's (the arrondissement's for Paris, Lyon and Marseille, as
    BAN gives), the postal code is kept as given or, when absent, filled in if the commune
    has only one. Places outside France are returned as given."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self._gazetteer = gazetteer if gazetteer is not None else default_gazetteer()

    @property
    def gazetteer(self) -> Gazetteer:
        return self._gazetteer

    def geocode(self, place: PlaceInput) -> GeocodedPlace:
        given = _as_given(place)
        if not is_france(place.country) or (given.city is None and given.postal_code is None):
            return given
        commune = self._gazetteer.find(city=given.city, postal_code=given.postal_code)
        if commune is None:
            return given
        return self.with_commune(given, commune)

    def with_commune(self, place: GeocodedPlace, commune: Commune) -> GeocodedPlace:
        """``place`` completed from ``commune``; its own coordinates, if any, are kept."""
        postal_code = place.postal_code
        if postal_code is None and len(commune.postal_codes) == 1:
            postal_code = commune.postal_codes[0]
        has_coordinates = place.latitude is not None and place.longitude is not None
        return GeocodedPlace(
            name=place.name,
            street=place.street,
            postal_code=postal_code,
            city=self._gazetteer.municipality(commune).name,
            country=place.country,
            latitude=place.latitude if has_coordinates else commune.latitude,
            longitude=place.longitude if has_coordinates else commune.longitude,
            insee_code=commune.insee,
            precision=place.precision if has_coordinates else "city",
        )


class OnlineGeocoder:
    """Geocodes through BAN or Nominatim with an injected :class:`httpx.Client`.

    A place with user-given coordinates, or without a street (the commune is all there is
    to find), is geocoded offline first; the network is asked only for a street address
    or for what the gazetteer does not know. BAN covers France only: other countries go
    to the offline geocoder (which returns them as given). Any failure of the online
    service falls back to the offline geocoder. ``min_score`` is BAN's relevance score
    below which a result is ignored."""

    def __init__(
        self,
        kind: Literal["ban", "nominatim"],
        client: httpx.Client,
        url: str | None = None,
        *,
        fallback: OfflineGeocoder | None = None,
        user_agent: str = USER_AGENT,
        timeout: float = DEFAULT_TIMEOUT,
        min_score: float = 0.4,
        owns_client: bool = False,
    ) -> None:
        if kind not in ("ban", "nominatim"):
            raise ValueError(f"unknown online geocoder {kind!r}")
        self.kind = kind
        self.url = (url or DEFAULT_URLS[kind]).rstrip("/")
        self._client = client
        self._fallback = fallback if fallback is not None else OfflineGeocoder()
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        self._timeout = timeout
        self._min_score = min_score
        self._owns_client = owns_client

    def close(self) -> None:
        """Close the HTTP client if this geocoder created it (see :func:`make_geocoder`)."""
        if self._owns_client:
            self._client.close()

    def geocode(self, place: PlaceInput) -> GeocodedPlace:
        given = _as_given(place)
        if given.latitude is not None:
            return self._fallback.geocode(place)
        if given.street is None:
            offline = self._fallback.geocode(place)
            if offline.precision != "none":
                return offline
        if self.kind == "ban" and not is_france(place.country):
            return self._fallback.geocode(place)
        if given.street is None and given.postal_code is None and given.city is None:
            return given
        try:
            found = self._ban(given) if self.kind == "ban" else self._nominatim(given)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, KeyError, TypeError, IndexError):
            log.warning("%s geocoder failed, using the gazetteer", self.kind, exc_info=True)
            found = None
        return found if found is not None else self._fallback.geocode(place)

    # ----------------------------------------------------------------------- BAN

    def _ban(self, place: GeocodedPlace) -> GeocodedPlace | None:
        parts = (place.street, place.postal_code, place.city)
        query = " ".join(p for p in parts if p)[:_BAN_QUERY_MAX]
        response = self._client.get(
            f"{self.url}/search/",
            params={"q": query, "limit": "1"},
            headers=self._headers,
            timeout=self._timeout,
        )
        response.raise_for_status()
        payload = response.json()
        features = payload["features"]
        if not isinstance(features, list):
            raise TypeError("BAN: features is not a list")
        if not features:
            return None
        feature = features[0]
        props: dict[str, Any] = feature["properties"]
        coordinates = feature["geometry"]["coordinates"]
        pair = _valid_pair(coordinates[1], coordinates[0])
        if pair is None:
            raise ValueError(f"BAN: bad coordinates {coordinates!r}")
        if float(props.get("score", 1.0)) < self._min_score:
            return None
        kind = props.get("type")
        precision: Precision
        street = place.street
        if kind == "housenumber":
            precision = "exact"
            street = _text(props.get("name")) or street
        elif kind in ("street", "locality"):
            precision = "street"
            street = _text(props.get("name")) or street
        else:
            precision = "city"
        return GeocodedPlace(
            name=place.name,
            street=street,
            postal_code=_text(props.get("postcode")) or place.postal_code,
            city=_text(props.get("city")) or place.city,
            country=place.country,
            latitude=pair[0],
            longitude=pair[1],
            insee_code=_text(props.get("citycode")),
            precision=precision,
        )

    # ----------------------------------------------------------------------- Nominatim

    def _nominatim(self, place: GeocodedPlace) -> GeocodedPlace | None:
        locality = " ".join(p for p in (place.postal_code, place.city) if p)
        query = ", ".join(p for p in (place.street, locality, place.country) if p)
        params = {"format": "jsonv2", "addressdetails": "1", "limit": "1", "q": query}
        if place.country is None or normalise_name(place.country) in _FRANCE_METRO:
            params["countrycodes"] = "fr"
        response = self._client.get(
            f"{self.url}/search",
            params=params,
            headers={**self._headers, "Accept-Language": "fr"},
            timeout=self._timeout,
        )
        response.raise_for_status()
        payload = response.json()
        if not isinstance(payload, list):
            raise TypeError("Nominatim: payload is not a list")
        if not payload:
            return None
        item: dict[str, Any] = payload[0]
        pair = _valid_pair(item["lat"], item["lon"])
        if pair is None:
            raise ValueError(f"Nominatim: bad coordinates {item['lat']!r}, {item['lon']!r}")
        address: dict[str, Any] = item.get("address") or {}
        rank = int(item.get("place_rank") or 0)
        precision: Precision
        if address.get("house_number") or rank >= 28:
            precision = "exact"
        elif rank >= 26:
            precision = "street"
        elif rank >= 13:
            precision = "city"
        else:  # a region, a country: no better than nothing
            return None
        road = _text(address.get("road"))
        street = place.street
        if road is not None and precision != "city":
            number = _text(address.get("house_number"))
            street = f"{number} {road}" if number else road
        city = place.city
        for key in ("city", "town", "village", "municipality", "hamlet"):
            value = _text(address.get(key))
            if value is not None:
                city = value
                break
        postal_code = _text(address.get("postcode")) or place.postal_code
        insee_code = None
        if is_france(place.country):
            commune = self._fallback.gazetteer.find(city=city, postal_code=postal_code)
            if commune is not None:
                insee_code = commune.insee
        return GeocodedPlace(
            name=place.name,
            street=street,
            postal_code=postal_code,
            city=city,
            country=place.country,
            latitude=pair[0],
            longitude=pair[1],
            insee_code=insee_code,
            precision=precision,
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise TypeError(f"expected a string, got {value!r}")
    return _clean(str(value))


def make_geocoder(
    kind: GeocoderKind, url: str | None, client: httpx.Client | None = None
) -> Geocoder:
    """The geocoder a node is configured for (``Settings.geocoder``/``geocoder_url``).

    ``url`` defaults to the public service of that kind; ``client`` to a new
    :class:`httpx.Client` owned by the geocoder (released by ``OnlineGeocoder.close``)."""
    if kind == "offline":
        return OfflineGeocoder()
    if kind in ("ban", "nominatim"):
        if client is not None:
            return OnlineGeocoder(kind, client, url)
        client = httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=True)
        return OnlineGeocoder(kind, client, url, owns_client=True)
    raise ValueError(f"unknown geocoder {kind!r}")
