"""Request helpers shared by the routers: the runtime, the bearer token, the actor."""

from __future__ import annotations

import re

from fastapi import Request
from sqlalchemy.orm import Session

from node.errors import NotFound, Unauthenticated
from node.models import Person
from node.runtime import Runtime
from node.services.accounts import person_for_token


def runtime(request: Request) -> Runtime:
    node: Runtime = request.app.state.runtime
    return node


#: The shape of every stored object's id (see ``node.ids``; ``schemas.ObjectId`` alike).
_ID = re.compile(r"[0-9a-f-]{1,36}")


def known_path_ids(request: Request) -> None:
    """404 for a path id no object can have (SQL fragments, NUL bytes, 10 kB ids…).

    A router dependency: it runs before the body is read and before any query.
    """
    for name, value in request.path_params.items():
        if name.endswith("_id") and not _ID.fullmatch(str(value)):
            raise NotFound(f"no such {name.removesuffix('_id')}")


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def optional_actor(request: Request, session: Session) -> Person | None:
    token = bearer_token(request)
    return person_for_token(session, token) if token else None


def actor(request: Request, session: Session) -> Person:
    """The signed-in person; 401 without a valid bearer token."""
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("sign in: send 'Authorization: Bearer <token>'")
    person = person_for_token(session, token)
    if person is None:
        raise Unauthenticated("this token is invalid or revoked")
    return person


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
