"""The node's Prometheus metrics, one registry per runtime (tests build many apps).

``runtime.metrics`` holds the metric objects; the HTTP middleware
(:mod:`node.observability`) and the plugins observe into them (federation counts failed
deliveries per peer, search times its queries), and ``GET /metrics`` renders the
registry. The job queue is not counted as it changes: a collector reads it from the
database at scrape time, in one GROUP BY over the jobs still in the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col, select

from node.dbtypes import utcnow
from node.models import Job, JobState

log = logging.getLogger(__name__)

#: The Prometheus text exposition format every Prometheus version reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Request latency buckets (seconds): most API answers take a few milliseconds.
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SEARCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: The job states that make the queue (``done`` jobs are history: see ``maillon jobs``).
QUEUE_STATES = (JobState.pending, JobState.running, JobState.failed)


class Metrics:
    """The metric objects of one node process, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.http_requests = Counter(
            "maillon_http_requests",
            "HTTP requests answered, by method, matched route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_request_duration = Histogram(
            "maillon_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and matched route template.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.delivery_failures = Counter(
            "maillon_delivery_failures",
            "Failed ActivityPub deliveries, by peer domain.",
            ["domain"],
            registry=self.registry,
        )
        self.search_duration = Histogram(
            "maillon_search_duration_seconds",
            "Time the search backend takes, by backend and kind of call.",
            ["backend", "kind"],
            buckets=SEARCH_BUCKETS,
            registry=self.registry,
        )
        # Labelled children, looked up without prometheus_client's lock on every request.
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._durations: dict[tuple[str, str], Histogram] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered HTTP request (called by the request middleware)."""
        counter = self._requests.get((method, route, status))
        if counter is None:
            counter = self.http_requests.labels(method, route, str(status))
            self._requests[(method, route, status)] = counter
        counter.inc()
        histogram = self._durations.get((method, route))
        if histogram is None:
            histogram = self.http_request_duration.labels(method, route)
            self._durations[(method, route)] = histogram
        histogram.observe(seconds)

    def watch_jobs(
        self, sessions: sessionmaker[Session], kinds: Callable[[], Iterable[str]]
    ) -> None:
        """Report the job queue at scrape time; ``kinds`` are reported even when empty."""
        self.registry.register(JobCollector(sessions, kinds))

    def render(self) -> bytes:
        """The registry in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


class JobCollector(Collector):
    """``maillon_jobs{kind,state}`` and ``maillon_job_oldest_pending_age_seconds{kind}``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        kinds: Callable[[], Iterable[str]],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.kinds = kinds
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        return []  # unknown until scraped: the registry must not collect at registration

    def collect(self) -> Iterable[Metric]:
        now = self.clock()
        due = case(
            (
                (col(Job.state) == JobState.pending) & (col(Job.next_attempt_at) <= now),
                col(Job.next_attempt_at),
            ),
        )
        query = (
            select(col(Job.kind), col(Job.state), func.count(), func.min(due))
            .where(col(Job.state).in_(QUEUE_STATES))
            .group_by(col(Job.kind), col(Job.state))
        )
        try:
            with self.sessions() as session:
                rows = session.execute(query).all()
        except SQLAlchemyError as error:  # the database is away: /readyz says so
            log.warning("job metrics unavailable: %s", error)
            return []
        counts: dict[tuple[str, str], int] = {}
        oldest: dict[str, datetime] = {}
        for kind, state, count, first_due in rows:
            counts[(kind, state)] = int(count)
            if first_due is not None:
                oldest[kind] = min(first_due, oldest.get(kind, first_due))
        kinds = sorted(set(self.kinds()) | {kind for kind, _ in counts})
        jobs = GaugeMetricFamily(
            "maillon_jobs",
            "Jobs in the queue, by kind and state (pending, running, failed).",
            labels=["kind", "state"],
        )
        age = GaugeMetricFamily(
            "maillon_job_oldest_pending_age_seconds",
            "How long the oldest due pending job has waited for a worker (0: none waits).",
            labels=["kind"],
        )
        for kind in kinds:
            for state in QUEUE_STATES:
                jobs.add_metric([kind, state.value], counts.get((kind, state.value), 0))
            waited = (now - oldest[kind]).total_seconds() if kind in oldest else 0.0
            age.add_metric([kind], max(0.0, waited))
        return [jobs, age]
