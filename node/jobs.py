"""Durable jobs: the queue every background effect goes through.

A job row is written in the same transaction as the change that needs it, so work is
never lost. Workers claim due jobs (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
serialises writers, so its single-statement claim is safe), run the handler registered
for the kind and mark the row done — or record the error and schedule the next attempt
with exponential backoff and jitter. A claim is a lease: when a worker dies, its lock
expires and another worker takes the job; the dead worker's late answer is refused
because it no longer holds the claim token, so a job completes exactly once.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Table, event, func, insert, or_, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col, select

from node.db import redoable
from node.dbtypes import utcnow
from node.ids import new_id
from node.models import Job, JobState

log = logging.getLogger(__name__)
JOB_TABLE: Table = Job.__table__  # type: ignore[attr-defined]

BACKOFF_BASE_SECONDS = 15.0
BACKOFF_CAP_SECONDS = 6 * 3600.0


class RetryLater(Exception):
    """Raised by a handler to be tried again after ``seconds`` (e.g. ``Retry-After``)."""

    def __init__(self, seconds: float, reason: str = "retry later") -> None:
        super().__init__(reason)
        self.seconds = seconds


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help (the job is marked failed)."""


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    token: str


Handler = Callable[[ClaimedJob], None]
#: A handler that takes every claimed job of its kind at once (e.g. one indexing call).
#: It may answer the jobs that failed alone (``RetryLater``/``PermanentFailure`` by job
#: id); the others are done. An exception it raises fails the whole batch.
BatchHandler = Callable[[list[ClaimedJob]], "dict[int, Exception] | None"]


@dataclass
class Registry:
    """Handlers per job kind: one job at a time, or a whole claimed batch."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)

    def register(self, kind: str, handler: Handler) -> None:
        """Handle each job of ``kind`` alone (replaces any earlier handler of the kind)."""
        self.batch_handlers.pop(kind, None)
        self.handlers[kind] = handler

    def register_batch(self, kind: str, handler: BatchHandler) -> None:
        """Handle the claimed jobs of ``kind`` together (replaces any earlier handler)."""
        self.handlers.pop(kind, None)
        self.batch_handlers[kind] = handler

    @property
    def kinds(self) -> list[str]:
        return sorted(set(self.handlers) | set(self.batch_handlers))


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    delay_seconds: float = 0.0,
    max_attempts: int = 16,
) -> bool:
    """Add a job in the caller's transaction (``False``: a waiting job absorbed it).

    With ``key``, a job of the same kind and key that is still waiting absorbs this one
    (debounce): the pending job will see the latest state when it runs.
    """
    if key is not None:
        waiting = session.scalar(
            select(col(Job.id)).where(
                col(Job.kind) == kind,
                col(Job.key) == key,
                col(Job.state) == JobState.pending,
                col(Job.locked_by).is_(None),
            )
        )
        if waiting is not None:
            return False
    _wake_after_commit(session)
    # a Core insert, executed now: the unit of work's flush costs several times more
    session.execute(
        insert(JOB_TABLE).values(
            kind=kind,
            key=key,
            payload=payload,
            max_attempts=max_attempts,
            next_attempt_at=utcnow() + timedelta(seconds=delay_seconds),
        )
    )
    return True


def enqueue_keyed(
    session: Session, kind: str, payloads: dict[str, dict[str, Any]], *, max_attempts: int = 16
) -> int:
    """:func:`enqueue` of many debounced jobs (``key → payload``) with one look-up;
    returns how many were added (the others joined a waiting job)."""
    if not payloads:
        return 0
    waiting = set(
        session.scalars(
            select(col(Job.key)).where(
                col(Job.kind) == kind,
                col(Job.key).in_(list(payloads)),
                col(Job.state) == JobState.pending,
                col(Job.locked_by).is_(None),
            )
        )
    )
    due = utcnow()
    added = [
        {"kind": kind, "key": key, "payload": payload, "max_attempts": max_attempts,
         "next_attempt_at": due}
        for key, payload in payloads.items()
        if key not in waiting
    ]  # fmt: skip
    if added:
        _wake_after_commit(session)
        session.execute(insert(JOB_TABLE), added)
    return len(added)


def _wake_after_commit(session: Session) -> None:
    if not session.info.get("wakes_workers"):
        session.info["wakes_workers"] = True
        event.listen(session, "after_commit", _wake_workers, once=True)


#: Set when a transaction that enqueued jobs commits: idle workers of this process wake
#: at once instead of sleeping out their poll interval (other processes poll).
JOBS_ADDED = threading.Event()


def _wake_workers(session: Session) -> None:
    session.info.pop("wakes_workers", None)
    JOBS_ADDED.set()


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Delay before the next try: 15 s doubling per attempt, capped at 6 h, +0-25% jitter."""
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** max(0, attempts - 1))
    jitter = rng.uniform(0, 0.25) if rng else random.uniform(0, 0.25)
    return delay * (1 + jitter)


class JobQueue:
    """Claiming and finishing jobs against the database."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        lease_seconds: float = 300.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock

    def claim(self, kinds: Iterable[str], limit: int = 10) -> list[ClaimedJob]:
        """Lock up to ``limit`` due jobs of these kinds for this caller."""
        kinds = list(kinds)
        if not kinds:
            return []
        now = self.clock()
        token = new_id()
        claimable = (
            col(Job.kind).in_(kinds),
            col(Job.state).in_([JobState.pending, JobState.running]),
            col(Job.next_attempt_at) <= now,
            or_(col(Job.locked_until).is_(None), col(Job.locked_until) < now),
        )
        with self.sessions() as session, session.begin():
            redoable(session)
            due = (
                select(col(Job.id))
                .where(*claimable)
                .order_by(col(Job.next_attempt_at), col(Job.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            ids = list(session.scalars(due))
            if not ids:
                return []
            # The conditions are checked again under the write lock: on SQLite the select
            # above ran without it, and another claimer may have taken some rows since.
            session.execute(
                update(Job)
                .where(col(Job.id).in_(ids), *claimable)
                .values(
                    state=JobState.running,
                    locked_by=token,
                    locked_until=now + self.lease,
                    attempts=col(Job.attempts) + 1,
                    updated=now,
                )
            )
            rows = session.scalars(
                select(Job).where(col(Job.locked_by) == token).order_by(col(Job.id))
            )
            return [
                ClaimedJob(
                    id=row.id or 0,
                    kind=row.kind,
                    payload=dict(row.payload),
                    attempts=row.attempts,
                    max_attempts=row.max_attempts,
                    token=token,
                )
                for row in rows
            ]

    def complete(self, job: ClaimedJob) -> bool:
        """Mark done; False when this claim was lost (lease expired and re-claimed)."""
        return self.complete_many([job]) == 1

    def complete_many(self, jobs: list[ClaimedJob]) -> int:
        """Mark a claimed batch done in one transaction; returns how many were still ours."""
        if not jobs:
            return 0
        now = self.clock()
        done = 0
        with self.sessions() as session, session.begin():
            redoable(session)
            for token in {job.token for job in jobs}:
                result = session.execute(
                    update(Job)
                    .where(
                        col(Job.id).in_([job.id for job in jobs if job.token == token]),
                        col(Job.locked_by) == token,
                    )
                    .values(
                        state=JobState.done,
                        locked_by=None,
                        locked_until=None,
                        finished_at=now,
                        updated=now,
                    )
                )
                done += int(result.rowcount)  # type: ignore[attr-defined]
        return done

    def fail(
        self, job: ClaimedJob, error: str, *, retry_in: float | None = None, final: bool = False
    ) -> bool:
        """Record the error and schedule a retry, or mark failed after the last attempt."""
        now = self.clock()
        give_up = final or job.attempts >= job.max_attempts
        delay = retry_in if retry_in is not None else backoff_seconds(job.attempts)
        with self.sessions() as session, session.begin():
            redoable(session)
            result = session.execute(
                update(Job)
                .where(col(Job.id) == job.id, col(Job.locked_by) == job.token)
                .values(
                    state=JobState.failed if give_up else JobState.pending,
                    locked_by=None,
                    locked_until=None,
                    last_error=error[:4000],
                    next_attempt_at=now + timedelta(seconds=delay),
                    finished_at=now if give_up else None,
                    updated=now,
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def retry_failed(self, kind: str | None = None) -> int:
        """Put failed jobs back in the queue (operator action)."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            statement = update(Job).where(col(Job.state) == JobState.failed)
            if kind:
                statement = statement.where(col(Job.kind) == kind)
            result = session.execute(
                statement.values(
                    state=JobState.pending, attempts=0, next_attempt_at=now, finished_at=None
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def counts(self) -> dict[tuple[str, str], int]:
        """Jobs per (kind, state)."""
        with self.sessions() as session:
            rows = session.execute(
                select(col(Job.kind), col(Job.state), func.count()).group_by(
                    col(Job.kind), col(Job.state)
                )
            )
            return {(kind, state): int(n) for kind, state, n in rows}

    def failures(self, limit: int = 20) -> list[Job]:
        """The most recent failed or erroring jobs."""
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(Job)
                    .where(col(Job.last_error).is_not(None), col(Job.state) != JobState.done)
                    .order_by(col(Job.updated).desc())
                    .limit(limit)
                )
            )


class Worker:
    """Runs registered handlers on claimed jobs; step it in tests, loop it in production."""

    def __init__(
        self,
        queue: JobQueue,
        registry: Registry,
        *,
        kinds: Iterable[str] | None = None,
        batch: int = 10,
    ) -> None:
        self.queue = queue
        self.registry = registry
        self.kinds = sorted(set(kinds) & set(registry.kinds)) if kinds else registry.kinds
        self.batch = batch

    def run_once(self) -> int:
        """Claim one batch and run it; returns how many jobs were handled."""
        jobs = self.queue.claim(self.kinds, self.batch)
        batches: dict[str, list[ClaimedJob]] = {}
        for job in jobs:
            if job.kind in self.registry.batch_handlers:
                batches.setdefault(job.kind, []).append(job)
            else:
                self.run_job(job)
        for kind, batch in batches.items():
            self._run(batch, partial(self.registry.batch_handlers[kind], batch))
        return len(jobs)

    def run_job(self, job: ClaimedJob) -> None:
        handler = self.registry.handlers[job.kind]
        self._run([job], lambda: handler(job) and None)

    def _run(self, jobs: list[ClaimedJob], call: Callable[[], dict[int, Exception] | None]) -> None:
        """Run a handler call for these jobs; they all succeed or all record the error,
        but for the jobs a batch handler answers as failed alone."""
        try:
            failed = call() or {}
        except Exception as error:
            failed = dict.fromkeys((job.id for job in jobs), error)
        for job in jobs:
            if job.id in failed:
                self._fail(job, failed[job.id])
        self.queue.complete_many([job for job in jobs if job.id not in failed])

    def _fail(self, job: ClaimedJob, error: Exception) -> None:
        if isinstance(error, RetryLater):
            self.queue.fail(job, str(error), retry_in=error.seconds)
        elif isinstance(error, PermanentFailure):
            log.warning("job %s failed for good: %s", job.id, error)
            self.queue.fail(job, f"{type(error).__name__}: {error}", final=True)
        else:  # a handler's bug must not kill the worker
            log.error("job %s (%s) failed", job.id, job.kind, exc_info=error)
            self.queue.fail(job, f"{type(error).__name__}: {error}")

    def drain(self, max_rounds: int = 1000) -> int:
        """Run until nothing is due (tests, CLI)."""
        total = 0
        for _ in range(max_rounds):
            handled = self.run_once()
            if not handled:
                break
            total += handled
        return total

    def run_forever(self, stop: threading.Event, idle_seconds: float = 0.5) -> None:
        while not stop.is_set():
            try:
                handled = self.run_once()
            except Exception:  # database away: wait and try again
                log.exception("worker could not claim jobs")
                handled = 0
            if not handled:
                # new work in this process ends the wait early; stop is checked each loop
                JOBS_ADDED.wait(idle_seconds)
                JOBS_ADDED.clear()
