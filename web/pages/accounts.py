"""Sign up, sign in, sign out, change the password."""

from __future__ import annotations

from fastapi import Request, Response
from pydantic import ValidationError

from node.api.deps import client_address
from node.api.limits import RateLimiter
from node.errors import DomainError, RateLimited, Unauthenticated
from node.schemas import AccountIn, PasswordChangeIn
from node.services import accounts
from web.app import flash
from web.forms import FormState, domain_errors, safe_next, see_other, texts, validation_errors
from web.pages.common import Form, page_router, signed_in, viewer, web_of
from web.sessions import sign_in, sign_out

router = page_router()


@router.get("/signup")
def signup_form(request: Request, next: str = "") -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        viewer(request, session)
    return web.render(request, "accounts/signup.html", {"form": FormState(), "next": next})


@router.post("/signup")
def signup(request: Request, form: Form) -> Response:
    web = web_of(request)
    typed = texts(form, "name", "email", "next")
    password = str(form.get("password") or "")
    state = FormState(values=typed)
    translate = web.translate(request)
    try:
        data = AccountIn(
            name=typed["name"],
            email=typed["email"],
            password=password,
            locale=web.language(request),
        )
        with web.runtime.transaction() as session:
            person = accounts.register(session, web.runtime.context, data)
            sign_in(request, session, person)
    except ValidationError as error:
        state.errors = validation_errors(error, translate)
    except DomainError as error:
        failed = domain_errors(error, translate)
        state.errors, state.error = failed.errors, failed.error
    if state.invalid:
        return web.render(
            request,
            "accounts/signup.html",
            {"form": state, "next": typed["next"]},
            status=422,
        )
    flash(request, web.gettext(request, "Welcome! Your account is ready."))
    return see_other(safe_next(typed["next"], "/agenda"))


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        viewer(request, session)
    return web.render(request, "accounts/login.html", {"form": FormState(), "next": next})


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    """Sign in; failed attempts count against the node's login rate limit (as the API's)."""
    web = web_of(request)
    typed = texts(form, "email", "next")
    password = str(form.get("password") or "")
    limiter: RateLimiter = request.app.state.login_limiter
    key = f"{client_address(request)}|{typed['email'].lower()}"
    state = FormState(values=typed)
    try:
        limiter.check(key)
        with web.runtime.transaction() as session:
            person = accounts.authenticate(session, typed["email"][:320], password[:256])
            sign_in(request, session, person)
    except RateLimited as error:
        state.error = web.gettext(request, "Too many attempts; please wait a minute.")
        return web.render(
            request,
            "accounts/login.html",
            {"form": state, "next": typed["next"]},
            status=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except Unauthenticated:
        limiter.hit(key)
        state.error = web.gettext(request, "Wrong email or password.")
        return web.render(
            request, "accounts/login.html", {"form": state, "next": typed["next"]}, status=401
        )
    limiter.reset(key)
    return see_other(safe_next(typed["next"], "/agenda"))


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        sign_out(request, session)
    flash(request, web.gettext(request, "You are signed out."))
    return see_other("/")


@router.get("/account/password")
def password_form(request: Request) -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        signed_in(request, session)
    return web.render(request, "accounts/password.html", {"form": FormState()})


@router.post("/account/password")
def change_password(request: Request, form: Form) -> Response:
    """Change the password: every session and token is revoked, this one starts anew."""
    web = web_of(request)
    state = FormState()
    translate = web.translate(request)
    try:
        data = PasswordChangeIn(
            current_password=str(form.get("current_password") or ""),
            new_password=str(form.get("new_password") or ""),
        )
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            accounts.change_password(session, person, data)
            sign_in(request, session, person)
    except ValidationError as error:
        state.errors = validation_errors(error, translate)
    except DomainError as error:
        if error.status == 401:
            raise
        failed = domain_errors(error, translate)
        state.errors, state.error = failed.errors, failed.error
    if state.invalid:
        return web.render(request, "accounts/password.html", {"form": state}, status=422)
    flash(request, web.gettext(request, "Your password was changed."))
    return see_other("/agenda")

