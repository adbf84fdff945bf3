"""Exact great-circle distances and the boxes that pre-filter a radius."""

from __future__ import annotations

import math

from search.query import BBox, Point

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


def distance_km(a: Point, lat: float, lon: float) -> float:
    """Haversine distance from ``a`` to (lat, lon), in kilometres."""
    phi1, phi2 = math.radians(a.lat), math.radians(lat)
    dphi = phi2 - phi1
    dlambda = math.radians(lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


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
