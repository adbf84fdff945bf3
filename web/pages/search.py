"""Home and search: text, themes, types, dates, place; list, map and agenda views."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response

from search.backend import SearchUnavailable
from search.service import SearchService
from web import search_params
from web.pages.common import page_router, viewer, web_of
from web.search_params import RADII, SearchParams
from web.views import HitView, hit_view, pins_json

router = page_router()


@router.get("/")
def home(request: Request) -> Response:
    """What happens around: the next events, on a map and in a list."""
    params = search_params.parse(request.query_params)
    if not request.query_params:
        params.types = ["event"]
    return _search(request, params, home=True)


@router.get("/search")
def search(request: Request) -> Response:
    return _search(request, search_params.parse(request.query_params), home=False)


def _search(request: Request, params: SearchParams, *, home: bool) -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        viewer(request, session)
    params = search_params.locate(params, web.runtime.context.geocoder)
    territory = web.territory()
    query = search_params.to_query(params, territory.timezone)
    service: SearchService = web.runtime.extensions["search"]
    values: dict[str, Any] = {
        "params": params,
        "home": home,
        "header_q": params.q,
        "radii": RADII,
        "notices": [web.gettext(request, n) for n in params.notices],
        "hits": [],
        "total": 0,
        "facets": {},
        "unavailable": False,
    }
    status = 200
    try:
        result = service.search(query)
    except SearchUnavailable:
        values["unavailable"] = True
        status = 503
    else:
        hits = [hit_view(h) for h in result.hits]
        values.update(
            hits=hits,
            total=result.total,
            facets=result.facets,
            pages=_pages(params, result.total),
            agenda=_agenda(hits, territory.timezone),
            pins=pins_json(hits),
        )
    values.setdefault("pins", pins_json([]))
    values.setdefault("pages", None)
    values.setdefault("agenda", [])
    return web.render(request, "search.html", values, status=status)


def _pages(params: SearchParams, total: int) -> dict[str, Any]:
    last = max(1, min(search_params.MAX_PAGE, -(-total // search_params.PAGE_SIZE)))
    previous = params.query_string(page=params.page - 1) if params.page > 1 else None
    following = params.query_string(page=params.page + 1) if params.page < last else None
    return {"current": params.page, "last": last, "previous": previous, "next": following}


def _agenda(hits: list[HitView], timezone: str) -> list[tuple[date, list[HitView]]]:
    """Events grouped by their day in the territory's zone, in order."""
    days: dict[date, list[HitView]] = defaultdict(list)
    zone = ZoneInfo(timezone)
    for hit in hits:
        if hit.starts_at is not None:
            days[hit.starts_at.astimezone(zone).date()].append(hit)
    return sorted(days.items())
