"""Exact great-circle distances and the boxes that pre-filter a radius."""

from __future__ import annotations

import math
from collections.abc import Callable

from search.query import BBox, Point

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


def distance_km(a: Point, lat: float, lon: float) -> float:
    """Haversine distance from ``a`` to (lat, lon), in kilometres."""
    return distances_from(a)(lat, lon)


def distances_from(a: Point) -> Callable[[float, float], float]:
    """:func:`distance_km` from ``a`` as a function of (lat, lon), with what depends on
    ``a`` alone computed once (the same operations, so the same doubles)."""
    phi1, lon1, cos1 = math.radians(a.lat), a.lon, math.cos(math.radians(a.lat))
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt

    def distance(lat: float, lon: float) -> float:
        phi2 = radians(lat)
        h = sin((phi2 - phi1) / 2) ** 2 + cos1 * cos(phi2) * sin(radians(lon - lon1) / 2) ** 2
        return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))

    return distance


def box_around(centre: Point, radius_km: float) -> BBox:
    """The smallest lat/lon box that holds the circle (for an index pre-filter)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = math.cos(math.radians(centre.lat))
    dlon = 180.0 if cos_lat < 1e-9 else min(180.0, dlat / cos_lat)
    return BBox(
        min_lat=max(-90.0, centre.lat - dlat),
        min_lon=max(-180.0, centre.lon - dlon),
        max_lat=min(90.0, centre.lat + dlat),
        max_lon=min(180.0, centre.lon + dlon),
    )
