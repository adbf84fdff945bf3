"""An in-process network: several nodes' apps reached by host, through one httpx transport.

Each node's ``Federation`` sends its requests through :class:`Network`, which hands them
to the ASGI app registered for the request's host (an anyio portal runs the apps on one
event loop thread). A host that is "down" refuses connections; nothing else is faked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal


class Network(httpx.BaseTransport):
    def __init__(self) -> None:
        self.apps: dict[str, Any] = {}
        self.down: set[str] = set()
        self.requests: list[httpx.Request] = []
        self._portal: BlockingPortal | None = None
        self._stack = contextlib.ExitStack()

    # not __enter__/__exit__: httpx closes a client's transport when the client closes
    def start(self) -> None:
        self._portal = self._stack.enter_context(start_blocking_portal())

    def stop(self) -> None:
        self._stack.close()

    def add(self, host: str, app: Any) -> None:
        self.apps[host] = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.netloc.decode()
        self.requests.append(request)
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"{host} is unreachable", request=request)
        assert self._portal is not None, "start the network first"
        body = request.read()
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )
        transport = httpx.ASGITransport(app=self.apps[host])

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = await transport.handle_async_request(forwarded)
            content = await response.aread()
            return response.status_code, response.headers.raw, content

        status, headers, content = self._portal.call(call)
        return httpx.Response(status, headers=headers, content=content, request=request)


@contextlib.contextmanager
def network() -> Iterator[Network]:
    net = Network()
    net.start()
    try:
        yield net
    finally:
        net.stop()
