"""The durable job queue: claiming, leases, retries, exactly-once completion."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

from sqlmodel import select

from node.dbtypes import utcnow
from node.jobs import (
    ClaimedJob,
    JobQueue,
    PermanentFailure,
    Registry,
    RetryLater,
    Worker,
    backoff_seconds,
    enqueue,
)
from node.models import Job, JobState
from node.runtime import Runtime


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _add(runtime: Runtime, n: int = 1, kind: str = "index", **kwargs: object) -> None:
    with runtime.transaction() as session:
        for i in range(n):
            enqueue(session, kind, {"n": i}, **kwargs)  # type: ignore[arg-type]


def _job(runtime: Runtime, job_id: int) -> Job:
    with runtime.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_a_job_runs_once_and_is_done(runtime: Runtime) -> None:
    _add(runtime, 3)
    seen: list[int] = []
    registry = Registry()
    registry.register("index", lambda job: seen.append(job.payload["n"]))
    worker = Worker(runtime.queue, registry)
    assert worker.drain() == 3
    assert sorted(seen) == [0, 1, 2]
    assert runtime.queue.counts() == {("index", "done"): 3}
    assert worker.run_once() == 0


def test_a_waiting_job_with_the_same_key_absorbs_the_next(runtime: Runtime) -> None:
    _add(runtime, 1, key="event:1")
    _add(runtime, 1, key="event:1")
    _add(runtime, 1, key="event:2")
    assert runtime.queue.counts() == {("index", "pending"): 2}
    claimed = runtime.queue.claim(["index"], 10)
    _add(runtime, 1, key="event:1")  # the first is running: a new one must wait behind it
    assert runtime.queue.counts()[("index", "pending")] == 1
    assert len(claimed) == 2


def test_a_dead_workers_job_comes_back_and_completes_exactly_once(runtime: Runtime) -> None:
    clock = Clock()
    queue = JobQueue(runtime.sessions, lease_seconds=60, clock=clock)
    _add(runtime, 1)
    clock.advance(1)
    [lost] = queue.claim(["index"])  # this worker dies without an answer
    assert queue.claim(["index"]) == []  # locked while the lease runs
    clock.advance(61)
    [again] = queue.claim(["index"])
    assert again.id == lost.id and again.attempts == 2
    assert queue.complete(again) is True
    assert queue.complete(lost) is False  # the dead worker's late answer is refused
    assert queue.fail(lost, "late") is False
    job = _job(runtime, again.id)
    assert job.state == JobState.done and job.attempts == 2 and job.last_error is None


def test_a_batch_completes_in_one_go_except_the_jobs_no_longer_held(runtime: Runtime) -> None:
    clock = Clock()
    queue = JobQueue(runtime.sessions, lease_seconds=60, clock=clock)
    _add(runtime, 3)
    clock.advance(1)
    batch = queue.claim(["index"])
    assert len(batch) == 3
    clock.advance(61)  # the lease ran out: another worker takes the first job back
    [taken] = queue.claim(["index"], 1)
    assert taken.id == batch[0].id
    assert queue.complete_many(batch) == 2
    assert _job(runtime, batch[0].id).state == JobState.running
    assert {_job(runtime, job.id).state for job in batch[1:]} == {JobState.done}
    assert queue.complete_many([taken]) == 1
    assert queue.complete_many([]) == 0


def test_failures_back_off_then_fail_for_good(runtime: Runtime) -> None:
    clock = Clock()
    queue = JobQueue(runtime.sessions, clock=clock)
    _add(runtime, 1, max_attempts=3)
    clock.advance(1)

    def broken(job: ClaimedJob) -> None:
        raise ValueError("peer said no")

    registry = Registry()
    registry.register("index", broken)
    worker = Worker(queue, registry)
    assert worker.run_once() == 1
    job = _job(runtime, 1)
    assert job.state == JobState.pending and job.attempts == 1
    assert job.last_error == "ValueError: peer said no"
    delay = (job.next_attempt_at - clock.now).total_seconds()
    assert 15 <= delay <= 15 * 1.25
    assert worker.run_once() == 0  # not due yet
    for _ in range(2):
        clock.advance(3600)
        assert worker.run_once() == 1
    job = _job(runtime, 1)
    assert job.state == JobState.failed and job.attempts == 3
    assert runtime.queue.failures()[0].id == 1
    assert runtime.queue.retry_failed("index") == 1
    assert _job(runtime, 1).state == JobState.pending


def test_retry_later_and_permanent_failure(runtime: Runtime) -> None:
    clock = Clock()
    queue = JobQueue(runtime.sessions, clock=clock)
    _add(runtime, 1, kind="deliver")
    _add(runtime, 1, kind="index")
    clock.advance(1)

    def later(job: ClaimedJob) -> None:
        raise RetryLater(120, "Retry-After: 120")

    def final(job: ClaimedJob) -> None:
        raise PermanentFailure("410 Gone")

    registry = Registry()
    registry.register("deliver", later)
    registry.register("index", final)
    Worker(queue, registry).run_once()
    with runtime.transaction() as session:
        jobs = {j.kind: j for j in session.scalars(select(Job))}
    assert jobs["deliver"].state == JobState.pending
    assert (jobs["deliver"].next_attempt_at - clock.now).total_seconds() == 120
    assert jobs["index"].state == JobState.failed
    assert jobs["index"].last_error == "PermanentFailure: 410 Gone"


def test_a_worker_only_claims_the_kinds_it_handles(runtime: Runtime) -> None:
    _add(runtime, 2, kind="deliver")
    registry = Registry()
    registry.register("index", lambda job: None)
    assert Worker(runtime.queue, registry).drain() == 0
    assert runtime.queue.counts() == {("deliver", "pending"): 2}


def test_concurrent_workers_never_share_a_job(runtime: Runtime) -> None:
    _add(runtime, 60)
    handled: list[int] = []
    lock = threading.Lock()

    def handle(job: ClaimedJob) -> None:
        with lock:
            handled.append(job.id)

    registry = Registry()
    registry.register("index", handle)
    threads = [
        threading.Thread(target=Worker(runtime.queue, registry, batch=3).drain) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(handled) == list(range(1, 61))
    assert runtime.queue.counts() == {("index", "done"): 60}


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(1)
    delays = [backoff_seconds(n, rng) for n in range(1, 20)]
    assert delays[0] < delays[3] < delays[6]
    assert max(delays) <= 6 * 3600 * 1.25


def test_a_batch_handler_gets_the_claimed_jobs_together(runtime: Runtime) -> None:
    _add(runtime, 5)
    batches: list[list[int]] = []
    registry = Registry()
    registry.register_batch("index", lambda jobs: batches.append([j.payload["n"] for j in jobs]))
    assert Worker(runtime.queue, registry, batch=3).drain() == 5
    assert batches == [[0, 1, 2], [3, 4]]
    assert runtime.queue.counts() == {("index", "done"): 5}


def test_a_failing_batch_fails_each_of_its_jobs(runtime: Runtime) -> None:
    _add(runtime, 2)

    def down(jobs: list[ClaimedJob]) -> None:
        raise RetryLater(5, "search engine down")

    registry = Registry()
    registry.register_batch("index", down)
    assert Worker(runtime.queue, registry).run_once() == 2
    with runtime.transaction() as session:
        jobs = list(session.scalars(select(Job)))
    assert [(j.state, j.attempts, j.last_error) for j in jobs] == [
        ("pending", 1, "search engine down")
    ] * 2
