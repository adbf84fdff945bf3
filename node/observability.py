"""What the node records about each HTTP request: its id, metrics, one access line.

Two pure ASGI middlewares (not ``BaseHTTPMiddleware``: it breaks context variables and
costs a task per request):

- :class:`RequestObserver`, outermost: takes ``X-Request-Id`` from the request or makes
  one, puts it in :data:`node.logs.request_id` for every log record written while
  answering, returns it as ``X-Request-Id``, then counts the request in
  ``runtime.metrics`` and logs one access line;
- :class:`RouteCapture`, innermost (just outside the router): reads the route the
  router matched. A middleware in between may hand a copy of the scope on (content
  negotiation rewrites the path), so the route travels back through an object both
  copies share.

The route label is the matched route's template (``/api/v1/events/{event_id}``), never
the raw path, so the metrics' label sets stay bounded. The router tells which route
matched; :class:`RouteTemplates` knows its full template, prefix included (FastAPI may
hand on a router's own route, whose path lacks the prefix it was included under).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable
from time import perf_counter

from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node.logs import request_id
from node.metrics import Metrics

access_log = logging.getLogger("maillon.access")

HEADER = b"x-request-id"
#: Ids accepted from clients (a proxy's, a peer's); anything else is replaced by ours.
_VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
#: Label of requests no route matched (404s, answers given before routing).
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Probes and scrapes: their access lines are logged at DEBUG, not INFO.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_EXCHANGE = "maillon.exchange"


class _Exchange:
    """Shared by every copy of one request's scope."""

    __slots__ = ("route",)

    def __init__(self) -> None:
        self.route = UNMATCHED


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        identifier = _incoming_id(scope) or uuid.uuid4().hex
        token = request_id.set(identifier)
        exchange = _Exchange()
        scope[_EXCHANGE] = exchange
        header = (HEADER, identifier.encode("ascii"))
        status = 500  # unless a response starts: an exception becomes a 500 outside

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        start = perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter() - start
            method = scope["method"] if scope["method"] in METHODS else "other"
            route = exchange.route
            self.metrics.observe_request(method, route, status, elapsed)
            level = logging.DEBUG if route in QUIET_ROUTES else logging.INFO
            if access_log.isEnabledFor(level):
                duration_ms = round(elapsed * 1000, 1)
                access_log.log(
                    level,
                    "%s %s %s %.1f ms",
                    method,
                    scope["path"],
                    status,
                    duration_ms,
                    extra={
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": duration_ms,
                    },
                )
            request_id.reset(token)


class RouteTemplates:
    """The full path template of each route, by route object (and by mounted app)."""

    def __init__(self) -> None:
        self._by_id: dict[int, str] = {}

    def add(self, routes: Iterable[BaseRoute], prefix: str = "") -> None:
        """Routes included under ``prefix`` (the app's own routes: none)."""
        for route in routes:
            path = getattr(route, "path", None)
            if not isinstance(path, str):
                continue
            self._by_id[id(route)] = prefix + path
            if isinstance(route, Mount):  # the mounted app is the scope's endpoint
                self._by_id[id(route.app)] = prefix + path

    def of(self, scope: Scope) -> str:
        """The template of the route the router matched for this scope."""
        route = scope.get("route")
        found = self._by_id.get(id(route)) if route is not None else None
        if found is None and "endpoint" in scope:
            found = self._by_id.get(id(scope["endpoint"]))
        if found is None:
            path = getattr(route, "path", None)
            found = path if isinstance(path, str) else UNMATCHED
        return found


class RouteCapture:
    """Record the matched route's template for :class:`RequestObserver`."""

    def __init__(self, app: ASGIApp, templates: RouteTemplates) -> None:
        self.app = app
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            exchange: _Exchange | None = scope.get(_EXCHANGE)
            if exchange is not None and ("route" in scope or "endpoint" in scope):
                exchange.route = self.templates.of(scope)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER:
            return value.decode("ascii") if _VALID_ID.fullmatch(value) else None
    return None
