"""Accounts and tokens: ``/accounts``, ``/tokens``, ``/me``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from node.api import deps
from node.api.representations import MeOut, PersonOut, me_out, person_out
from node.errors import NotFound, Unauthenticated
from node.models import Person
from node.schemas import AccountIn, LoginIn, PasswordChangeIn, ProfileIn
from node.services import accounts
from node.services.common import get_live

router = APIRouter(tags=["accounts"], dependencies=[Depends(deps.known_path_ids)])


class TokenOut(BaseModel):
    token: str
    person: MeOut


@router.post("/accounts", status_code=201, response_model=MeOut)
def register(data: AccountIn, request: Request) -> MeOut:
    """Create an account (email, password of 8+ characters, display name)."""
    node = deps.runtime(request)
    with node.transaction() as session:
        return me_out(session, accounts.register(session, node.context, data))


@router.post("/tokens", status_code=201, response_model=TokenOut)
def login(data: LoginIn, request: Request) -> TokenOut:
    """Exchange email and password for a bearer token. Failed attempts are rate-limited."""
    node = deps.runtime(request)
    limiter = request.app.state.login_limiter
    key = f"{deps.client_address(request)}|{data.email.lower()}"
    limiter.check(key)
    try:
        with node.transaction() as session:
            person = accounts.authenticate(session, data.email, data.password)
            token = accounts.issue_token(session, person)
            out = me_out(session, person)
    except Unauthenticated:
        limiter.hit(key)
        raise
    limiter.reset(key)
    return TokenOut(token=token, person=out)


@router.delete("/tokens/current", status_code=204)
def logout(request: Request) -> Response:
    """Revoke the token this request carries."""
    node = deps.runtime(request)
    with node.transaction() as session:
        deps.actor(request, session)
        accounts.revoke_token(session, deps.bearer_token(request) or "")
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def me(request: Request) -> MeOut:
    node = deps.runtime(request)
    with node.transaction() as session:
        return me_out(session, deps.actor(request, session))


@router.put("/me", response_model=MeOut)
def update_me(data: ProfileIn, request: Request) -> MeOut:
    """Edit the profile; ``public_profile`` chooses whether others may see it.

    ``place`` is the saved place search uses for "near me" (geocoded like an
    organisation's; only you see it): left as it is when absent, cleared by ``null``.
    """
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        return me_out(session, accounts.update_profile(session, node.context, person, data))


@router.post("/me/password", status_code=204)
def change_password(data: PasswordChangeIn, request: Request) -> Response:
    """Change the password; every token is revoked (sign in again)."""
    node = deps.runtime(request)
    with node.transaction() as session:
        accounts.change_password(session, deps.actor(request, session), data)
    return Response(status_code=204)


@router.get("/people/{person_id}", response_model=PersonOut)
def get_person(person_id: str, request: Request) -> PersonOut:
    """A public profile (404 when the person keeps it private)."""
    node = deps.runtime(request)
    with node.transaction() as session:
        person = get_live(session, Person, person_id)
        viewer = deps.optional_actor(request, session)
        if not person.public_profile and (viewer is None or viewer.id != person.id):
            raise NotFound(f"no person {person_id}")
        return person_out(person)
