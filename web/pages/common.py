"""What every page module uses: the web object, a router of pages, the signed-in person."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from node.errors import NotFound, Unauthenticated
from node.models import Person
from web.app import Web
from web.csrf import checked_form
from web.errors import PageRoute
from web.sessions import current_person

#: a POSTed form whose CSRF token was checked
Form = Annotated[FormData, Depends(checked_form)]


def page_router() -> APIRouter:
    """A router whose pages answer HTML errors; not in the API's OpenAPI document."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)


def web_of(request: Request) -> Web:
    web: Web = request.app.state.runtime.extensions["web"]
    return web


def viewer(request: Request, session: Session) -> Person | None:
    return current_person(request, session)


def signed_in(request: Request, session: Session) -> Person:
    """The signed-in person; otherwise the 401 page, which links to the sign-in form."""
    person = current_person(request, session)
    if person is None:
        raise Unauthenticated("sign in first")
    return person


_ID = re.compile(r"[0-9a-f-]{1,36}")


def check_id(value: str) -> None:
    """404 for an id no object can have (before any query)."""
    if not _ID.fullmatch(value):
        raise NotFound("no such page")
