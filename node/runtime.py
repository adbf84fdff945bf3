"""A running node: settings, database, URLs, geocoder, job queue and metrics, built once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from node import plugins
from node.db import make_engine, make_sessionmaker, transaction
from node.geocoding import Geocoder, make_geocoder
from node.jobs import JobQueue, Registry, Worker
from node.metrics import Metrics
from node.services.context import NodeContext
from node.settings import Settings
from node.urls import Urls

#: A readiness check: ``() -> (name, ok, detail)``, run by ``GET /readyz``.
ReadinessCheck = Callable[[], tuple[str, bool, str]]


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    context: NodeContext
    queue: JobQueue
    registry: Registry = field(default_factory=Registry)
    #: API routers added by plugins, mounted under ``/api/v1``.
    routers: list[APIRouter] = field(default_factory=list)
    #: Routers added by plugins, mounted at the root (ActivityPub, well-known, pages),
    #: in plugin order: federation's canonical URLs before web's pages.
    pages: list[APIRouter] = field(default_factory=list)
    #: Root routers tried before even the API's: the few most requested pages (routing
    #: tries routes in order, ≈1.3 µs each; a handful costs the API little).
    first_pages: list[APIRouter] = field(default_factory=list)
    #: Pure ASGI middleware classes added by plugins, with their keyword arguments
    #: (e.g. federation answers ActivityPub requests on canonical URLs).
    middleware: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    #: Services plugins attach (e.g. ``"search"``), for their routers and commands.
    extensions: dict[str, Any] = field(default_factory=dict)
    #: Called by :meth:`close`, last added first (plugins release their resources).
    closers: list[Callable[[], None]] = field(default_factory=list)
    #: This process's Prometheus metrics (``GET /metrics``); plugins observe into them.
    metrics: Metrics = field(default_factory=Metrics)
    #: Checks ``GET /readyz`` runs besides the database's, added by plugins (e.g. the
    #: search engine's health): each answers ``(name, ok, detail)``.
    readiness: list[ReadinessCheck] = field(default_factory=list)

    @property
    def urls(self) -> Urls:
        return self.context.urls

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with transaction(self.sessions) as session:
            yield session

    def worker(self, kinds: list[str] | None = None, batch: int = 10) -> Worker:
        return Worker(self.queue, self.registry, kinds=kinds, batch=batch)

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
        self.engine.dispose()


def register_plugins(runtime: Runtime, found: Iterable[Any] | None = None) -> None:
    """Let every installed plugin register its job handlers and routers (node/plugins.py)."""
    for plugin in plugins.installed() if found is None else found:
        register: Callable[[Runtime], None] | None = getattr(plugin, "register", None)
        if register is not None:
            register(runtime)


def build_runtime(
    settings: Settings, geocoder: Geocoder | None = None, *, plugins: bool = True
) -> Runtime:
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    context = NodeContext(
        urls=Urls(settings.public_url),
        geocoder=geocoder or make_geocoder(settings.geocoder, settings.geocoder_url),
        timezone=settings.timezone,
    )
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        context=context,
        queue=JobQueue(sessions, lease_seconds=settings.job_lease_seconds),
    )
    runtime.metrics.watch_jobs(sessions, lambda: runtime.registry.kinds)
    if plugins:
        register_plugins(runtime)
    return runtime
