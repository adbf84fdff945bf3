"""Indexing through the job table: index jobs in batches, full reindex, drift check."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from node.jobs import ClaimedJob, RetryLater
from node.runtime import Runtime
from search import documents
from search.backend import SearchUnavailable
from search.service import SearchService

log = logging.getLogger(__name__)
BATCH = 500
#: retries while the engine is away: 2, 4, 8… seconds, at most a minute apart
RETRY_CAP_SECONDS = 60.0

Progress = Callable[[str, int, int], None]


def index_jobs(runtime: Runtime, service: SearchService) -> Callable[[list[ClaimedJob]], None]:
    """The batch handler of ``index`` jobs: the current state of each object, at once."""

    def handle(jobs: list[ClaimedJob]) -> None:
        wanted: dict[str, set[str]] = defaultdict(set)
        for job in jobs:
            kind = str(job.payload.get("type", ""))
            if kind in documents.MODELS:
                wanted[kind].add(str(job.payload.get("id", "")))
        try:
            backend = service.ready()
            docs: list[documents.Document] = []
            gone: list[str] = []
            with runtime.transaction() as session:
                for kind, ids in wanted.items():
                    built, removed = documents.build(session, kind, ids)
                    docs += built
                    gone += removed
            # one write of each sort for the whole batch: Meilisearch makes a task of
            # each and the handler waits for it
            if docs:
                backend.upsert(docs)
            if gone:
                backend.delete(gone)
        except SearchUnavailable as error:
            attempts = max(job.attempts for job in jobs)
            raise RetryLater(min(RETRY_CAP_SECONDS, 2.0**attempts), f"search: {error}") from None

    return handle


@dataclass(frozen=True, slots=True)
class Drift:
    missing: int  # in the database, not in the index
    stale: int  # in both, older in the index
    extra: int  # in the index, not (or no longer) in the database

    @property
    def total(self) -> int:
        return self.missing + self.stale + self.extra


def expected_versions(runtime: Runtime) -> dict[str, int]:
    """What the index should hold: every live object's document id and version."""
    expected: dict[str, int] = {}
    with runtime.transaction() as session:
        for kind in documents.MODELS:
            expected.update(documents.live_versions(session, kind))
    return expected


def drift(runtime: Runtime, service: SearchService) -> Drift:
    """Compare the database with the index."""
    expected = expected_versions(runtime)
    indexed = service.ready().versions()
    missing = sum(1 for doc_id in expected if doc_id not in indexed)
    stale = sum(1 for doc_id, v in expected.items() if doc_id in indexed and indexed[doc_id] != v)
    extra = sum(1 for doc_id in indexed if doc_id not in expected)
    return Drift(missing=missing, stale=stale, extra=extra)


def reindex(runtime: Runtime, service: SearchService, progress: Progress | None = None) -> int:
    """Rebuild the index from the database; returns the number of documents written."""
    backend = service.ready()
    expected = expected_versions(runtime)
    extra = [doc_id for doc_id in backend.versions() if doc_id not in expected]
    if extra:
        backend.delete(extra)
    written = 0
    total = len(expected)
    for kind in documents.MODELS:
        with runtime.transaction() as session:
            ids = documents.all_ids(session, kind)
        for start in range(0, len(ids), BATCH):
            with runtime.transaction() as session:
                docs, _ = documents.build(session, kind, ids[start : start + BATCH])
            backend.upsert(docs)
            written += len(docs)
            if progress:
                progress(kind, written, total)
    return written
