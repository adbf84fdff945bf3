"""The federation service of a running node: its HTTP client, keys and actor cache.

One object per runtime (``runtime.extensions["federation"]``). Tests replace
``transport`` to route requests between in-process nodes; nothing else changes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select

from federation import keys
from federation.convert import ParseError, parse_actor
from federation.convert import RemoteActor as ParsedActor
from federation.http import FetchError, fetch_json, make_client
from federation.policy import domain_of, federates_with
from federation.signatures import PublicKey, SignatureAuth, load_public_key
from node.dbtypes import utcnow
from node.models import RemoteActor
from node.runtime import Runtime

SIGNER_CACHE = 10_000
#: How long a process trusts its copy of a stored remote actor (this process's own
#: refreshes replace it at once).
ACTOR_SECONDS = 60.0


class Unreachable(Exception):
    """A peer could not be fetched (network, status, refused address): retry later."""


class Refused(Exception):
    """A domain we do not federate with (blocked, or not allowed)."""


class Federation:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.urls = runtime.urls
        self.transport: httpx.BaseTransport | None = None
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._node_signer: SignatureAuth | None = None
        self._signers: dict[str, tuple[str, SignatureAuth]] = {}
        #: verified peers' keys by key id (a failed check re-fetches: rotation)
        self._public_keys: dict[str, PublicKey] = {}
        #: stored remote actors by id, with when to read them again
        self._actors: dict[str, tuple[float, RemoteActor]] = {}

    # --- HTTP -------------------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = make_client(self.settings, transport=self.transport)
            return self._client

    def use_transport(self, transport: httpx.BaseTransport | None) -> None:
        """Route outbound requests through ``transport`` (tests, benchmarks)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            self.transport = transport

    def close(self) -> None:
        self.use_transport(None)

    def signer(self, session: Session, actor: str) -> SignatureAuth:
        """The actor's signer; the decrypted key is kept per key row (a rotation makes a
        new row), so deliveries do not decrypt and parse a PEM each time."""
        row = keys.ensure(session, actor, self.settings.secret_key)
        cached = self._signers.get(actor)
        if cached is not None and cached[0] == row.id:
            return cached[1]
        key = keys.load(row, self.settings.secret_key)
        auth = SignatureAuth(key.key_id, key.private_key)
        with self._lock:
            if len(self._signers) > SIGNER_CACHE:
                self._signers.clear()
            self._signers[actor] = (row.id, auth)
        return auth

    def node_signer(self) -> SignatureAuth:
        """The node actor's signer, kept in memory once loaded (it signs every fetch)."""
        if self._node_signer is None:
            with self.runtime.transaction() as session:
                self._node_signer = self.signer(session, self.urls.node_actor)
        return self._node_signer

    def fetch(self, url: str) -> dict[str, Any]:
        """GET an ActivityPub document, signed by the node's actor (authorized fetch)."""
        with self.runtime.transaction() as session:
            if not federates_with(session, self.settings, domain_of(url)):
                raise Refused(domain_of(url))
        auth = self.node_signer()
        try:
            return fetch_json(self.client, url, auth=auth)
        except (FetchError, httpx.HTTPError) as error:
            raise Unreachable(f"{url}: {error}") from error

    def fetch_any(self, url: str) -> dict[str, Any]:
        """GET a public JSON document (WebFinger, NodeInfo): unsigned."""
        with self.runtime.transaction() as session:
            if not federates_with(session, self.settings, domain_of(url)):
                raise Refused(domain_of(url))
        try:
            return fetch_json(self.client, url, accept="application/jrd+json, application/json")
        except (FetchError, httpx.HTTPError) as error:
            raise Unreachable(f"{url}: {error}") from error

    # --- remote actors --------------------------------------------------------------------
    # Fetches happen outside write transactions: a handler first gathers what it needs
    # from the network, then applies it in one short transaction.

    def known_actor(self, ap_id: str) -> RemoteActor | None:
        """The stored actor, kept in memory :data:`ACTOR_SECONDS` (every activity a
        group sends names it: a batch of its events would read it each time)."""
        now = time.monotonic()
        cached = self._actors.get(ap_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self.runtime.transaction() as session:
            found = session.scalar(select(RemoteActor).where(col(RemoteActor.ap_id) == ap_id))
        if found is not None:
            self._keep(found, now)
        return found

    def _keep(self, actor: RemoteActor, now: float | None = None) -> None:
        with self._lock:
            if len(self._actors) > SIGNER_CACHE:
                self._actors.clear()
            self._actors[actor.ap_id] = ((now or time.monotonic()) + ACTOR_SECONDS, actor)

    def forget_actor(self, ap_id: str) -> None:
        """After the actor's row changed outside :meth:`remember` (deleted)."""
        self._actors.pop(ap_id, None)

    def actor(self, ap_id: str, *, refresh: bool = False) -> RemoteActor:
        """What we know of a remote actor, fetched when unknown (or asked to refresh)."""
        found = None if refresh else self.known_actor(ap_id)
        if found is not None:
            return found
        document = self.fetch(ap_id)
        if document.get("id") != ap_id:
            raise Unreachable(f"{ap_id} answered a document of another id")
        return self.remember(document)

    def remember(self, document: dict[str, Any]) -> RemoteActor:
        """Store (or refresh) an actor document we fetched from its own id."""
        parsed: ParsedActor = parse_actor(document)
        try:
            return self._store_actor(parsed, document)
        except IntegrityError:
            # Two first requests signed by an unknown actor at once (two deliveries from
            # one peer): the other stored it meanwhile; this refreshes that row.
            return self._store_actor(parsed, document)

    def _store_actor(self, parsed: ParsedActor, document: dict[str, Any]) -> RemoteActor:
        with self.runtime.transaction() as session:
            found = session.scalar(
                select(RemoteActor).where(col(RemoteActor.ap_id) == parsed.ap_id)
            )
            if found is None:
                found = RemoteActor(
                    ap_id=parsed.ap_id, type=parsed.type, domain=domain_of(parsed.ap_id), inbox=""
                )
                session.add(found)
            found.type = parsed.type
            found.username = parsed.username
            found.inbox = parsed.inbox
            found.shared_inbox = parsed.shared_inbox
            found.outbox = parsed.outbox
            found.followers = parsed.followers
            found.key_id = parsed.public_key_id
            found.public_key_pem = parsed.public_key_pem
            found.data = document
            found.fetched_at = utcnow()
            session.flush()
        self._keep(found)
        return found

    def public_key(self, key_id: str, refresh: bool) -> PublicKey | None:
        """The key behind a signature's ``keyId`` (the verifier's lookup)."""
        if not refresh and key_id in self._public_keys:
            return self._public_keys[key_id]
        owner = key_id.split("#", 1)[0]
        with self.runtime.transaction() as session:
            found = session.scalar(select(RemoteActor).where(col(RemoteActor.key_id) == key_id))
        if found is None or refresh:
            try:
                document = self.fetch(owner)
                if document.get("type") in ("Key", "CryptographicKey"):  # a key document
                    document = self.fetch(str(document.get("owner", "")))
                found = self.remember(document)
            except (Unreachable, Refused, ParseError):
                return None
        if found.key_id != key_id or not found.public_key_pem:
            return None
        try:
            key = load_public_key(found.public_key_pem)
        except ValueError:
            return None
        with self._lock:
            if len(self._public_keys) > SIGNER_CACHE:
                self._public_keys.clear()
            self._public_keys[key_id] = key
        return key
