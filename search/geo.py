"""Exact great-circle distances and the boxes that pre-filter a radius."""

from __future__ import annotations

import math
from collections.abc import Callable

from search.query import BBox, Point

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)
#: how much wider than the circle its box is drawn (relative): far above rounding errors
MARGIN = 1e-9


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
    """The smallest lat/lon box that holds the circle (for an index pre-filter), widened by
    a hair (1e-9) so that rounding never leaves out a point the exact distance keeps.

    The circle's widest longitude is ``asin(sin(d) / cos(lat))`` (reached a little
    poleward of the centre), not ``d / cos(lat)``: that was 6 mm short at 10 km around
    Lille, 6 km short at 1,000 km and lost whole regions beyond. A circle that holds a pole
    spans every longitude. Longitudes are clipped at ±180 (see :func:`crosses_antimeridian`).
    """
    d = radius_km / EARTH_RADIUS_KM  # radians
    dlat = math.degrees(d) * (1 + MARGIN)
    north, south = centre.lat + dlat, centre.lat - dlat
    cos_lat = math.cos(math.radians(centre.lat))
    widest = math.sin(d) / cos_lat if cos_lat > 1e-12 else 2.0
    if north >= 90 or south <= -90 or d >= math.pi / 2 or widest >= 1:  # a pole inside
        return BBox(max(-90.0, south), -180.0, min(90.0, north), 180.0)
    dlon = math.degrees(math.asin(widest)) * (1 + MARGIN)
    return BBox(
        min_lat=south,
        min_lon=max(-180.0, centre.lon - dlon),
        max_lat=north,
        max_lon=min(180.0, centre.lon + dlon),
    )


def crosses_antimeridian(box: BBox) -> bool:
    """Whether a :func:`box_around` was clipped at ±180° of longitude: the circle goes on
    past it, where the box does not follow (only a box spanning every longitude holds it)."""
    full = box.min_lon <= -180.0 and box.max_lon >= 180.0
    return not full and (box.min_lon <= -180.0 or box.max_lon >= 180.0)


#: corners (degrees from the east-west axis) of the two centred rectangles inside a circle
#: whose union covers the most of it: 79 % of the circle, 62 % of its box
CROSS_ANGLES = (31.72, 58.28)


def inner_cross(centre: Point, radius_km: float) -> list[BBox]:
    """Two centred lat/lon rectangles inside the circle and inside its :func:`box_around`
    (a cross), or none where they are not drawn (a circle holding a pole, cut at ±180° or
    wider than 5,000 km).

    A lat/lon rectangle less than 180° wide lies in a spherical cap smaller than a
    hemisphere when its four corners do (its meridian edges are great-circle arcs, and
    along a parallel the distance grows with the difference of longitude). The corners sit
    on a circle 1 mm (or 1e-9 of the radius) smaller: whatever lies in the cross is within
    the radius by far more than the rounding of a distance.
    """
    box = box_around(centre, radius_km)
    if radius_km > 5000 or box.min_lon <= -180 or box.max_lon >= 180:
        return []  # wider, around a pole (every longitude) or cut at the antimeridian
    inner = radius_km - max(1e-6, radius_km * MARGIN)
    if inner <= 0:
        return []
    dlat = math.degrees(inner / EARTH_RADIUS_KM)
    out = []
    for angle in CROSS_ANGLES:
        h = dlat * math.sin(math.radians(angle))
        south = _half_width(centre, centre.lat - h, inner)
        north = _half_width(centre, centre.lat + h, inner)
        w = min(south, north)
        if w > 0:
            out.append(
                BBox(
                    min_lat=max(box.min_lat, centre.lat - h),
                    min_lon=max(box.min_lon, centre.lon - w),
                    max_lat=min(box.max_lat, centre.lat + h),
                    max_lon=min(box.max_lon, centre.lon + w),
                )
            )
    return out


def _half_width(centre: Point, lat: float, radius_km: float) -> float:
    """Degrees of longitude from the centre's meridian to the circle at ``lat`` (0 where
    the parallel misses the circle)."""
    d = radius_km / EARTH_RADIUS_KM
    phi0, phi = math.radians(centre.lat), math.radians(lat)
    room = math.sin(d / 2) ** 2 - math.sin((phi - phi0) / 2) ** 2
    if room <= 0:
        return 0.0
    x = room / (math.cos(phi0) * math.cos(phi))
    return 180.0 if x >= 1 else math.degrees(2 * math.asin(math.sqrt(x)))
