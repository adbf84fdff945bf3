"""The page routers, in the order they are mounted at the root.

Forms come before the entity pages: ``/events/new`` is not the event ``new``.
"""

from __future__ import annotations

from fastapi import APIRouter

from web.pages import (
    accounts,
    admin,
    event_form,
    events,
    members,
    organisations,
    people,
    publish,
    search,
    site,
)

#: the most visited pages: tried before the API's routes (routing tries routes in order:
#: measured in bench/web.py)
FIRST: tuple[APIRouter, ...] = (search.router, event_form.router, events.router)
#: the other pages, the most visited first
ROUTERS: tuple[APIRouter, ...] = (
    site.router,
    accounts.router,
    admin.router,
    publish.router,
    members.router,
    organisations.router,
    people.router,
)
