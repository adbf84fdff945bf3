"""What services need besides the session: URLs, the geocoder, the territory's defaults."""

from __future__ import annotations

from dataclasses import dataclass

from node.geocoding import Geocoder
from node.urls import Urls


@dataclass(frozen=True, slots=True)
class NodeContext:
    urls: Urls
    geocoder: Geocoder
    timezone: str = "Europe/Paris"
