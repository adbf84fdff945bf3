"""Request body size limit (pure ASGI) and the login rate limiter."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from re import Pattern
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from node.errors import RateLimited

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
#: the attribute :func:`larger_body` sets on an endpoint
LARGER_BODY = "maillon_max_body_bytes"


def larger_body(max_bytes: int) -> Callable[[Endpoint], Endpoint]:
    """Let a page (a root route of a plugin: ``runtime.pages``, ``runtime.first_pages``)
    take a body of up to ``max_bytes`` declared with Content-Length, more than the node's
    limit (``MAILLON_MAX_BODY_BYTES``): for a form with a file, which reads the body and
    says that the file is too large next to its field, where a 413 sent before the body
    is read reaches a browser as a bare error or a cut connection. The page bounds what
    it keeps, and checks who sends it before reading. The API keeps the node's limit."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, LARGER_BODY, max_bytes)
        return endpoint

    return mark


class BodyLimit:
    """Refuse bodies over ``max_bytes`` with a JSON 413.

    With a Content-Length the check is up front (the server never delivers more than it
    declares). Without one (chunked), the body is read here, at most ``max_bytes`` of it
    held, then handed on: a 413 can only be answered before the app starts reading.
    A page marked with :func:`larger_body` may take more, up to its own limit, when the
    length is declared (browsers declare it); chunked bodies keep ``max_bytes``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        #: (path pattern, methods, endpoint) of the pages marked with ``larger_body``
        self._larger: list[tuple[Pattern[str], set[str] | None, Any]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared >= 0:
            if declared > self.max_bytes:
                allowed = max(self.max_bytes, self._page_limit(scope))
                if declared > allowed:
                    await _refuse(send, allowed)
                    return
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await _refuse(send, self.max_bytes)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    def _page_limit(self, scope: Scope) -> int:
        """The larger limit a page declared for this method and path, or 0 (asked only of
        a body over the node's limit; the pages are listed on the first such request)."""
        if self._larger is None:
            self._larger = _larger_pages(scope.get("app"))
        path = str(scope["path"])
        root = str(scope.get("root_path") or "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        for pattern, methods, endpoint in self._larger:
            if pattern.fullmatch(path) and (not methods or scope["method"] in methods):
                return int(getattr(endpoint, LARGER_BODY))
        return 0


def _larger_pages(app: Any) -> list[tuple[Pattern[str], set[str] | None, Any]]:
    """The pages of the node served by ``app`` (``app.state.runtime``) that declared a
    larger body with :func:`larger_body`."""
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    routers = [*getattr(runtime, "first_pages", ()), *getattr(runtime, "pages", ())]
    return [
        (route.path_regex, route.methods, route.endpoint)
        for router in routers
        for route in router.routes
        if isinstance(getattr(getattr(route, "endpoint", None), LARGER_BODY, None), int)
    ]


async def _refuse(send: Send, limit: int) -> None:
    body = (
        b'{"error":{"code":"too_large","message":"the body is larger than '
        + str(limit).encode()
        + b' bytes"}}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """At most ``limit`` hits per key in a sliding window of ``window`` seconds (per process)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raise 429 when ``key`` is over its budget (does not count a hit)."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                return
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = int(hits[0] + self.window - now) + 1
                raise RateLimited("too many attempts; try again later", retry)

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > 100_000:  # bounded memory under a spray of keys
                self._hits.clear()
            self._hits.setdefault(key, deque()).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
