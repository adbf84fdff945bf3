"""Delivering our activities: one ``deliver`` job per target inbox, retried on Mastodon's
schedule, signed at send time.

- 2xx: delivered; the inbox's breaker closes, the peer's failure days are forgotten.
- 401, 408, 429, 5xx except 501, and network errors: retried after
  ``attempt**4 + 15`` s plus jitter (16 attempts, about three days), or after the
  ``Retry-After`` a 429/503 asks for.
- Any other 4xx and 501: final (the job fails, nothing more is sent for it).
- A circuit breaker per inbox: after ``BREAKER_THRESHOLD`` failures in a row, jobs for
  that inbox wait until the breaker half-opens instead of hammering a dead server.
- A domain that failed on ``UNAVAILABLE_DAYS`` distinct days with no success is marked
  unavailable: its jobs get one try each, no retries, until one succeeds or the peer
  writes to us (then it is revived).
"""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation.documents import render
from federation.policy import domain_of, federates_with, peer, revive
from federation.service import Federation
from node.dbtypes import utcnow
from node.jobs import ClaimedJob, PermanentFailure, RetryLater
from node.models import Activity, InboxState

BREAKER_THRESHOLD = 5
BREAKER_MAX_SECONDS = 3600.0
UNAVAILABLE_DAYS = 7
RETRY_AFTER_CAP = 24 * 3600.0
RENDER_REUSE_SECONDS = 10.0


def retry_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Mastodon's schedule: ``attempt**4 + 15`` seconds, plus jitter."""
    draw = (rng or random).random()
    return attempts**4 + 15 + draw * 10 * (attempts + 1)


def retryable(status: int) -> bool:
    return status in (401, 408, 429) or (status >= 500 and status != 501)


def retry_after(response: httpx.Response, now: datetime) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return min(float(value), RETRY_AFTER_CAP)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min((moment - now).total_seconds(), RETRY_AFTER_CAP))


def inbox_state(session: Session, inbox: str, domain: str) -> InboxState:
    """The inbox's breaker row, locked for this transaction; made on first use. Two
    workers' first deliveries to an inbox can finish at once: one insert wins, the
    other reads the winner's row (no unique violation failing a delivered job)."""
    found = session.get(InboxState, inbox, with_for_update=True)
    if found is None:
        try:
            with session.begin_nested():
                session.add(InboxState(inbox=inbox, domain=domain))
        except IntegrityError:
            pass
        found = session.get(InboxState, inbox, with_for_update=True)
        if found is None:
            raise RuntimeError(f"no inbox state row for {inbox}")
    return found


class Deliverer:
    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        self.runtime = federation.runtime
        #: activity id → (when, body): one activity fans out to many inboxes within
        #: seconds; it is rendered once for them (still "at delivery time")
        self._bodies: dict[str, tuple[float, bytes | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, job: ClaimedJob) -> None:
        inbox = str(job.payload["inbox"])
        domain = domain_of(inbox)
        settings = self.runtime.settings
        with self.runtime.transaction() as session:
            activity = session.scalar(
                select(Activity).where(col(Activity.id) == job.payload["activity_id"])
            )
            if activity is None:
                raise PermanentFailure("the activity is gone")
            if not federates_with(session, settings, domain):
                raise PermanentFailure(f"{domain} is blocked or not allowed")
            state = session.get(InboxState, inbox)
            now = utcnow()
            if state is not None and state.open_until is not None and state.open_until > now:
                wait = (state.open_until - now).total_seconds() + 1
                raise RetryLater(
                    max(wait, retry_delay(job.attempts)), "circuit open for this inbox"
                )
            unavailable = peer(session, domain).unavailable_since is not None
            if unavailable and job.attempts > 1:
                raise PermanentFailure(f"{domain} is unavailable; one try per activity")
            body = self._body(session, activity)
            if body is None:
                return
            auth = self.federation.signer(session, activity.actor)
        try:
            response = self.federation.client.post(
                inbox,
                content=body,
                headers={"Content-Type": "application/activity+json"},
                auth=auth,
            )
        except httpx.HTTPError as error:
            self._failed(inbox, domain, None, f"{type(error).__name__}: {error}")
            raise RetryLater(retry_delay(job.attempts), f"{inbox}: {error}") from error
        if response.is_success:
            self._succeeded(inbox, domain)
            return
        reason = f"{inbox} answered {response.status_code}"
        self._failed(inbox, domain, response.status_code, reason)
        if not retryable(response.status_code):
            raise PermanentFailure(reason)
        asked = retry_after(response, utcnow()) if response.status_code in (429, 503) else None
        raise RetryLater(asked if asked is not None else retry_delay(job.attempts), reason)

    def _body(self, session: Session, activity: Activity) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            cached = self._bodies.get(activity.id)
        if cached is not None and now - cached[0] < RENDER_REUSE_SECONDS:
            return cached[1]
        settings = self.runtime.settings
        document = render(session, self.runtime.urls, settings.secret_key, activity)
        body = json.dumps(document, ensure_ascii=False).encode() if document else None
        with self._lock:
            if len(self._bodies) > 1000:
                self._bodies = {
                    k: v for k, v in self._bodies.items() if now - v[0] < RENDER_REUSE_SECONDS
                }
            self._bodies[activity.id] = (now, body)
        return body

    def _succeeded(self, inbox: str, domain: str) -> None:
        with self.runtime.transaction() as session:
            state = inbox_state(session, inbox, domain)
            state.failures = 0
            state.open_until = None
            state.last_status = 200
            state.last_error = None
            state.last_success_at = utcnow()
            session.add(state)
            revive(peer(session, domain), state.last_success_at)

    def _failed(self, inbox: str, domain: str, status: int | None, reason: str) -> None:
        self.runtime.metrics.delivery_failures.labels(domain).inc()
        now = utcnow()
        with self.runtime.transaction() as session:
            state = inbox_state(session, inbox, domain)
            state.failures += 1
            state.last_status = status
            state.last_error = reason[:2000]
            if state.failures >= BREAKER_THRESHOLD:
                pause = min(BREAKER_MAX_SECONDS, 60.0 * 2 ** (state.failures - BREAKER_THRESHOLD))
                state.open_until = now + timedelta(seconds=pause)
            session.add(state)
            row = peer(session, domain)
            today = now.date().isoformat()
            if today not in row.failure_days:
                row.failure_days = [*row.failure_days, today][-30:]
            if len(row.failure_days) >= UNAVAILABLE_DAYS and row.unavailable_since is None:
                row.unavailable_since = now
