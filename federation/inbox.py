"""Receiving activities: verify, persist, answer 202 — handling runs later, from jobs.

Order of the checks on ``POST /inbox`` (shared) and ``POST <actor>/inbox``: the body
size (``BodyLimit``, 413) → a JSON object with an id, a type and an actor (400) → the
signer's domain is one we federate with (403) → the HTTP signature (401) → the signer
speaks for the activity's actor (same host, 401) → the activity is stored once, keyed by
its id (a repeat answers 202 and changes nothing) → an ``inbox`` job → 202.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from federation.convert import ParseError, object_id, object_type
from federation.policy import domain_of, federates_with, forget_states, peer_state, revive
from federation.process import delivery_key
from federation.service import Federation
from federation.signatures import SignatureError, verify_request
from node.jobs import enqueue
from node.models import InboxItem, Peer
from node.runtime import Runtime

INBOX_MAX_ATTEMPTS = 8


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def receive(request: Request) -> Response:
    body = await request.body()
    return await run_in_threadpool(_receive, request, body)


def _receive(request: Request, body: bytes) -> Response:
    runtime: Runtime = request.app.state.runtime
    federation: Federation = runtime.extensions["federation"]
    try:
        activity = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _error(400, "bad_request", "the body is not JSON")
    if not isinstance(activity, dict):
        return _error(400, "bad_request", "an activity is a JSON object")
    try:
        activity_id = object_id(activity)
        actor = object_id(activity.get("actor"))
    except ParseError as error:
        return _error(400, "bad_request", f"not an activity: {error}")
    kind = activity.get("type")
    if not isinstance(kind, str) or len(activity_id) > 500 or len(actor) > 500:
        return _error(400, "bad_request", "an activity needs a type, an id and an actor")

    signer_domain = _signer_domain(request) or domain_of(actor)
    with runtime.transaction() as session:  # no connection when the states are cached
        for domain in {signer_domain, domain_of(actor)}:
            if not federates_with(session, runtime.settings, domain):
                return _error(403, "forbidden", f"this node does not federate with {domain}")
    try:
        verified = verify_request(
            request.method,
            public_target(runtime, request),
            request.headers,
            body,
            federation.public_key,
            max_skew=runtime.settings.federation_clock_skew_seconds,
        )
    except SignatureError as error:
        return _error(401, "bad_signature", f"{type(error).__name__}: {error}")
    if domain_of(verified.key_id) != domain_of(actor) or domain_of(activity_id) != domain_of(
        actor
    ):
        return _error(401, "bad_signature", "the signer does not speak for this actor")

    try:
        inner_type = object_type(activity.get("object"))
    except ParseError:
        inner_type = None
    activity_id = delivery_key(activity, activity_id)
    signature = hashlib.sha256(
        (request.headers.get("signature") or request.headers.get("signature-input") or "")
        .encode()
    ).hexdigest()
    with runtime.transaction() as session:
        added = session.scalar(
            _insert_once(session).values(
                activity_id=activity_id,
                actor=actor,
                domain=domain_of(actor),
                type=kind[:32],
                object_type=(inner_type or "")[:32] or None,
                payload=activity,
                signature=signature,
            )
        )
        if added is None:  # stored already: a redelivery, done once — or a replay
            seen = session.scalar(
                select(col(InboxItem.signature)).where(col(InboxItem.activity_id) == activity_id)
            )
            if seen == signature:  # the very same signed request again
                return _error(401, "bad_signature", "this signature was already used")
            return Response(status_code=202)
        _revive(session, domain_of(actor))
        enqueue(session, "inbox", {"item": added}, max_attempts=INBOX_MAX_ATTEMPTS)
    return Response(status_code=202)


def _insert_once(session: Session) -> Any:
    """``INSERT … ON CONFLICT (activity_id) DO NOTHING RETURNING id`` (the same activity
    delivered twice at once stores one row, without an error to recover from)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(InboxItem)
        .on_conflict_do_nothing(index_elements=["activity_id"])
        .returning(col(InboxItem.id))
    )


def public_target(runtime: Runtime, request: Request) -> str:
    """The URL the peer addressed: our public base (a TLS proxy may stand in front) with
    the raw path and query as received."""
    path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    target = runtime.urls.base + path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


def _signer_domain(request: Request) -> str | None:
    """The host of the ``keyId`` (cavage) or ``keyid`` (RFC 9421), read before checking."""
    for header in ("signature", "signature-input"):
        value = request.headers.get(header, "")
        for marker in ('keyId="', 'keyid="'):
            if marker in value:
                return domain_of(value.split(marker, 1)[1].split('"', 1)[0])
    return None


def _revive(session: Session, domain: str) -> None:
    """A peer that speaks to us is up again: forget its failure days."""
    state = peer_state(session, domain)
    if state is None or not state.failing:
        return
    row = session.get(Peer, domain)
    if row is not None and (row.unavailable_since or row.failure_days):
        revive(row)
        forget_states(session)
