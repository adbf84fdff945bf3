"""Browser sessions: a signed cookie (itsdangerous) holding a bearer token and a CSRF token.

The cookie is Starlette's signed session (``HttpOnly``, ``SameSite=Lax``, ``Secure``
when the node's public URL is https), restricted to the pages: API calls never read
nor set it. Signing in issues a node token (``node.services.accounts.issue_token``)
and keeps it in the session, so a session is revoked like any token: signing out
revokes it, changing the password revokes them all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from node.models import Person
from node.services import accounts

COOKIE = "maillon_session"
MAX_AGE = 30 * 24 * 3600
#: paths that never carry the page session (API, federation, static files)
SKIPPED = ("/api/", "/static/", "/.well-known/", "/healthz", "/readyz", "/metrics")


def derived_key(secret: str, purpose: str) -> str:
    """A key for one purpose, so the node secret itself signs nothing directly."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


class PageSessions:
    """Pure ASGI: the signed session cookie on page requests only."""

    def __init__(self, app: ASGIApp, secret_key: str, https_only: bool) -> None:
        self.app = app
        self.sessions = SessionMiddleware(
            app,
            secret_key=derived_key(secret_key, "maillon web session"),
            session_cookie=COOKIE,
            max_age=MAX_AGE,
            same_site="lax",
            https_only=https_only,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(SKIPPED):
            await self.app(scope, receive, send)
            return
        await self.sessions(scope, receive, send)


def session_of(request: Request) -> dict[str, Any]:
    """The request's session (an empty one outside the pages)."""
    found: dict[str, Any] = request.scope.get("session", {})
    return found


class LazyToken:
    """The CSRF token as a page's context holds it: made (and the session with it) only
    when a form of the page is rendered, so reading a page sets no cookie."""

    __slots__ = ("request",)

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)

    def __html__(self) -> str:  # jinja's autoescape asks this
        return str(self)


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use."""
    session = session_of(request)
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person as pages show them (a snapshot: no database session needed)."""

    id: str
    name: str
    locale: str
    is_admin: bool


def _remember(request: Request, person: Person | None) -> None:
    request.state.viewer = (
        Viewer(person.id, person.name, person.locale, person.is_admin) if person else None
    )


def current_person(request: Request, session: Session) -> Person | None:
    """The signed-in person, loaded in this transaction (``request.state.viewer`` keeps
    a snapshot for the templates)."""
    if hasattr(request.state, "viewer"):
        known: Viewer | None = request.state.viewer
        return None if known is None else session.get(Person, known.id)
    token = session_of(request).get("token")
    person = accounts.person_for_token(session, token) if isinstance(token, str) else None
    if person is None and token is not None:
        session_of(request).pop("token", None)  # revoked elsewhere: forget it
    _remember(request, person)
    return person


def sign_in(request: Request, session: Session, person: Person) -> None:
    """Start a fresh session for this person (a new CSRF token too: no fixation)."""
    web_session = session_of(request)
    web_session.clear()
    web_session["token"] = accounts.issue_token(session, person)
    web_session["csrf"] = secrets.token_urlsafe(24)
    _remember(request, person)


def sign_out(request: Request, session: Session) -> None:
    token = session_of(request).get("token")
    if isinstance(token, str):
        accounts.revoke_token(session, token)
    session_of(request).clear()
    _remember(request, None)
