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

ROUTERS: tuple[APIRouter, ...] = (
    site.router,
    accounts.router,
    admin.router,
    search.router,
    publish.router,
    event_form.router,
    members.router,
    events.router,
    organisations.router,
    people.router,
)
