"""Waking this process's idle workers when another process queued jobs (PostgreSQL).

A transaction that enqueues jobs wakes the workers of its own process at commit
(``node.jobs.JOBS_ADDED``); workers in other processes would find the jobs only at their
next poll (``idle_seconds``, half a second in ``maillon serve`` and ``maillon worker``).
On PostgreSQL every committed insert into ``job`` notifies channel ``maillon_jobs``
(a trigger, migration 0006); one thread per process LISTENs on it with a connection of
its own and sets the event. A lost connection is opened again after a pause; meanwhile
the workers poll as before, so nothing depends on a notification arriving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine

from node.jobs import JOBS_ADDED

log = logging.getLogger(__name__)
CHANNEL = "maillon_jobs"
#: how often the listening thread looks at its stop flag, and waits before reconnecting
TICK_SECONDS = 1.0


class JobListener:
    """LISTEN ``maillon_jobs`` in a thread; each notification sets ``wake``."""

    def __init__(self, conninfo: str, wake: threading.Event = JOBS_ADDED) -> None:
        self.conninfo = conninfo
        self.wake = wake
        self.listening = threading.Event()  # set once LISTEN is in place (tests)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * TICK_SECONDS + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for _ in connection.notifies(timeout=TICK_SECONDS, stop_after=1):
                            self.wake.set()
            except psycopg.Error as error:
                self.listening.clear()
                log.warning("job notifications interrupted (%s); workers poll meanwhile", error)
                self._stop.wait(TICK_SECONDS)


def conninfo(engine: Engine) -> str | None:
    """The libpq URL of a PostgreSQL engine (``None`` for other databases)."""
    if engine.dialect.name != "postgresql":
        return None
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def job_notifications(engine: Engine) -> Iterator[JobListener | None]:
    """Listen while the block runs (on PostgreSQL; elsewhere nothing)."""
    url = conninfo(engine)
    if url is None:
        yield None
        return
    listener = JobListener(url)
    listener.start()
    try:
        yield listener
    finally:
        listener.stop()
