"""Error pages that help: what happened, and where to go from there.

Two paths lead here. A page's own refusal (a ``node.errors.DomainError`` raised by a
service, an invalid query string, an unexpected exception) is caught by
:class:`PageRoute`, the route class of every page. A URL that matches no page (or a
method a page does not take) gets the node's JSON error; :class:`HtmlErrors` turns
it into the 404 page for a browser asking for HTML outside the API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node.errors import DomainError, RateLimited
from web.messages import N_

log = logging.getLogger(__name__)

#: status → (title, default explanation); message ids, translated when shown
TITLES: dict[int, tuple[str, str]] = {
    400: (N_("This request cannot be answered"), N_("Some of the address is not understood.")),
    401: (N_("Please sign in"), N_("This page is for signed-in members.")),
    403: (N_("You may not do this"), N_("Your account does not have the right to do this.")),
    404: (
        N_("Page not found"),
        N_("This page does not exist, or no longer exists. The address may be mistyped."),
    ),
    405: (N_("Page not found"), N_("This page does not exist at this address.")),
    409: (N_("This cannot be done now"), N_("The page changed in the meantime.")),
    410: (N_("This page was deleted"), N_("What was here has been deleted by its authors.")),
    413: (N_("Too large"), N_("What you sent is too large.")),
    422: (N_("Please check what you entered"), N_("Some of the values are not valid.")),
    429: (N_("Too many attempts"), N_("Please wait a minute, then try again.")),
    500: (
        N_("Something went wrong on our side"),
        N_("The error was logged. Please try again in a moment."),
    ),
}
API_PREFIXES = ("/api/", "/static/", "/.well-known/", "/healthz", "/readyz", "/metrics")


def error_page(
    request: Request,
    status: int,
    message: str | None = None,
    *,
    links: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error page for ``status``; ``message`` is shown as said (already translated)."""
    web = request.app.state.runtime.extensions["web"]
    title, explanation = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    return web.render(  # type: ignore[no-any-return]
        request,
        "errors/error.html",
        {
            "status": status,
            "title": web.gettext(request, title),
            "explanation": web.gettext(request, explanation),
            "message": message,
            "links": links or [],
        },
        status=status,
        headers=headers,
    )


def domain_error_page(request: Request, error: DomainError) -> Response:
    headers: dict[str, str] | None = None
    if isinstance(error, RateLimited):
        headers = {"Retry-After": str(error.retry_after)}
    if error.status == 401:
        web = request.app.state.runtime.extensions["web"]
        links = [("/login?next=" + _quoted_path(request), web.gettext(request, "Sign in"))]
        return error_page(request, 401, None, links=links)
    return error_page(request, error.status, None, headers=headers)


def _quoted_path(request: Request) -> str:
    return quote(request.url.path, safe="/")


class PageRoute(APIRoute):
    """A page route: refusals and failures answer an HTML page, never JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as error:
                return domain_error_page(request, error)
            except RequestValidationError:
                return error_page(request, 400)
            except Exception:
                log.exception("unhandled error on page %s %s", request.method, request.url.path)
                return error_page(request, 500)

        return page_handler


class HtmlErrors:
    """Pure ASGI: a browser's request for an unknown page gets the HTML 404 page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or str(scope["path"]).startswith(API_PREFIXES)
            or "text/html" not in Headers(scope=scope).get("accept", "")
        ):
            await self.app(scope, receive, send)
            return
        replaced = False

        async def intercept(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] in (404, 405):
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
                if content_type.startswith("application/json"):
                    replaced = True
                    return
            if replaced:
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    await _send_page(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, intercept)


async def _send_page(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    response = error_page(request, 404)
    await response(scope, receive, send)
