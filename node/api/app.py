"""The node's HTTP application: health, the REST API under ``/api/v1``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from node.api import (
    accounts,
    changes,
    events,
    exports,
    organisations,
    privacy,
    projects,
    territory,
)
from node.api.errors import install_error_handlers
from node.api.limits import BodyLimit, RateLimiter
from node.db import head_revision, schema_revision
from node.runtime import Runtime, build_runtime
from node.settings import Settings

API_PREFIX = "/api/v1"


#: the node's own routers, each mounted under /api/v1 (flat: nested routers cost a
#: measurable share of a small request, see docs/performance.md)
ROUTERS: tuple[APIRouter, ...] = (
    territory.router,
    accounts.router,
    privacy.router,
    organisations.router,
    events.router,
    projects.router,
    changes.router,
    exports.router,
)


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, workers: int | None = None
) -> FastAPI:
    """Build the app for these settings; ``workers`` job threads run while it serves."""
    node = runtime or build_runtime(settings)
    threads = settings.workers if workers is None else workers

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        running = [
            threading.Thread(
                target=node.worker().run_forever, args=(stop,), name=f"worker-{n}", daemon=True
            )
            for n in range(threads)
        ]
        for thread in running:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            for thread in running:
                thread.join(timeout=10)

    app = FastAPI(
        title="Maillon",
        summary="A territory's organisations, events and projects, federated.",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = node
    app.state.login_limiter = RateLimiter(settings.login_attempts_per_minute)
    install_error_handlers(app)
    for middleware, options in node.middleware:  # added by plugins, innermost first
        app.add_middleware(middleware, **options)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    for router in (*ROUTERS, *node.routers):  # node.routers: added by plugins
        app.include_router(router, prefix=API_PREFIX)
    for router in node.pages:  # root routers of plugins (federation, web)
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        try:
            current = schema_revision(node.engine)
        except Exception as error:  # the database is what we report on
            return JSONResponse({"status": "unavailable", "database": str(error)}, 503)
        head = head_revision(node.engine)
        ready = current == head
        return JSONResponse(
            {"status": "ok" if ready else "migrating", "schema": current, "head": head},
            200 if ready else 503,
        )

    return app
