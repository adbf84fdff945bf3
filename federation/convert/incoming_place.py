"""The ``location`` of a peer's event → :class:`RemotePlace` and an online link.

Accepted (FEDERATION.md, "Events on the wire"): ``location`` as one object or an array
(the first physical place is kept), a ``Place`` whose ``address`` is a string or a
schema.org ``PostalAddress``, online places as ``VirtualLocation`` or as a ``Place`` whose
``address.url`` is set, coordinates as floats or numeric strings (or in ``geo``). An
address string keeps the part before a French postal code as the street, the code and
the city after it (``"12 rue X, 59000 Lille, France"``); without a code it is the street.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from federation.convert.values import (
    clean_text,
    first,
    language_value,
    number,
    type_names,
    url,
)
from federation.convert.vocab import CITY_MAX, COUNTRY_MAX, NAME_MAX, POSTAL_CODE_MAX, STREET_MAX

#: How many items of a ``location`` array are looked at.
MAX_ITEMS: Final = 50

_POSTAL_CITY = re.compile(r"(?<![\dA-Za-z])(\d{5})(?!\d)[\s,]*([^,\d][^,]*)?")
_POSTAL_CODE = re.compile(r"^[0-9A-Za-z -]*$")


@dataclass(frozen=True, slots=True)
class RemotePlace:
    name: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def read_location(value: Any) -> tuple[RemotePlace | None, str | None]:
    """The first physical place and the first online link of ``location``."""
    place: RemotePlace | None = None
    online: str | None = None
    items = value[:MAX_ITEMS] if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str):
            if place is None and url(item) is None:  # a bare id cannot be used offline
                place = _place_of({"name": item})
            continue
        if not isinstance(item, dict):
            continue
        address = item.get("address")
        address_url = url(address.get("url")) if isinstance(address, dict) else None
        if "VirtualLocation" in type_names(item) or address_url:
            online = online or url(item.get("url")) or address_url
        elif place is None:
            place = _place_of(item)
    return place, online


def _place_of(item: dict[str, Any]) -> RemotePlace | None:
    address = item.get("address")
    if address is None and "PostalAddress" in type_names(item):
        address = item
    street = postal_code = city = region = country = None
    if isinstance(address, str):
        street, postal_code, city = _split_address(address)
    elif isinstance(address, dict):
        street = clean_text(first(address.get("streetAddress")), STREET_MAX)
        postal_code = _postal_code(first(address.get("postalCode")))
        city = clean_text(first(address.get("addressLocality")), CITY_MAX)
        region = clean_text(first(address.get("addressRegion")), CITY_MAX)
        country_value = first(address.get("addressCountry"))
        if isinstance(country_value, dict):
            country_value = country_value.get("name")
        country = clean_text(country_value, COUNTRY_MAX)
    latitude, longitude = _coordinates(item)
    place = RemotePlace(
        name=clean_text(language_value(item, "name"), NAME_MAX),
        street=street,
        postal_code=postal_code,
        city=city,
        region=region,
        country=country,
        latitude=latitude,
        longitude=longitude,
    )
    if not (place.name or street or postal_code or city or latitude is not None):
        return None
    return place


def _split_address(text: str) -> tuple[str | None, str | None, str | None]:
    """``"12 rue X, 59000 Lille, France"`` → street, postal code, city."""
    line = clean_text(text, STREET_MAX * 2) or ""
    found = _POSTAL_CITY.search(line)
    if found is None:
        return clean_text(line, STREET_MAX), None, None
    street = clean_text(line[: found.start()].strip(" ,"), STREET_MAX)
    return street, found.group(1), clean_text(found.group(2), CITY_MAX)


def _postal_code(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    code = clean_text(value, POSTAL_CODE_MAX)
    return code if code and _POSTAL_CODE.match(code) else None


def _coordinates(item: dict[str, Any]) -> tuple[float | None, float | None]:
    source = item
    if item.get("latitude") is None and isinstance(item.get("geo"), dict):
        source = item["geo"]
    latitude, longitude = number(source.get("latitude")), number(source.get("longitude"))
    if latitude is None or longitude is None:
        return None, None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None, None
    return latitude, longitude
