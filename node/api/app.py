"""The node's HTTP application: health, readiness, metrics, the REST API under ``/api/v1``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from functools import cache, partial

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

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
from node.metrics import CONTENT_TYPE
from node.observability import RequestObserver, RouteCapture, RouteTemplates
from node.runtime import Runtime, build_runtime
from node.settings import Settings
from node.wakeups import job_notifications

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
        with job_notifications(node.engine) if running else nullcontext():
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
    templates = RouteTemplates()  # filled below, once every route is there
    app.add_middleware(RouteCapture, templates=templates)  # innermost: sees the route
    for middleware, options in node.middleware:  # added by plugins, innermost first
        app.add_middleware(middleware, **options)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestObserver, metrics=node.metrics)  # outermost: request id
    for router in node.first_pages:  # the most requested pages (plugins say which)
        app.include_router(router)
    for router in (*ROUTERS, *node.routers):  # node.routers: added by plugins
        app.include_router(router, prefix=API_PREFIX)
    for router in node.pages:  # root routers of plugins (federation, web)
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    code_head = cache(partial(head_revision, node.engine))  # reading it takes a while

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        return readiness(node, code_head())

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(node.metrics.render(), media_type=CONTENT_TYPE)

    for router in (*ROUTERS, *node.routers):
        templates.add(router.routes, API_PREFIX)
    for router in (*node.first_pages, *node.pages):
        templates.add(router.routes)
    templates.add(app.router.routes)
    return app


def readiness(node: Runtime, head: str | None) -> JSONResponse:
    """200 when the database answers at the code's schema revision ``head`` and every
    plugin's check passes; 503 listing what fails otherwise."""
    checks: list[tuple[str, bool, str]] = []
    schema: str | None = None
    try:
        schema = schema_revision(node.engine)
    except SQLAlchemyError as error:  # the database is what we report on
        checks.append(("database", False, _first_line(error)))
    else:
        checks.append(("database", True, "reachable"))
        found = f"at revision {schema}" if schema else "no schema"
        at_head = schema == head
        checks.append(("migrations", at_head, found if at_head else f"{found}, code needs {head}"))
    for check in node.readiness:
        try:
            checks.append(check())
        except Exception as error:  # a check that fails to run is a failing check
            name = getattr(check, "__name__", type(check).__name__)
            checks.append((name, False, f"{type(error).__name__}: {_first_line(error)}"))
    failing = [name for name, ok, _ in checks if not ok]
    body = {
        "status": "unavailable" if failing else "ok",
        "schema": schema,
        "head": head,
        "checks": [{"name": name, "ok": ok, "detail": detail} for name, ok, detail in checks],
        "failing": failing,
    }
    return JSONResponse(body, 503 if failing else 200)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
