"""A scripted fediverse server (a Mastodon, Mobilizon or Gancio stand-in) on the network.

It serves the documents a test gives it (actors with a real key pair, events…), signs
what it sends with that key, and keeps every request its inboxes receive, checked by a
strict verifier — our own, configured as FEDERATION.md describes Mastodon's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from federation.signatures import (
    PublicKey,
    SignatureAuth,
    SignatureError,
    generate_rsa_key,
    load_public_key,
    public_key_pem,
    verify_request,
)
from tests.federation.network import Network


@dataclass
class Received:
    path: str
    activity: dict[str, Any]
    verified_key: str | None
    error: str | None


@dataclass
class FakePeer:
    host: str
    network: Network
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    #: keep the keys fetched and fetch again only when a signature fails, as Mobilizon
    #: and Mastodon do (a key stays usable after its actor is gone); off: every check
    #: fetches the key
    cache_keys: bool = False
    _keys: dict[str, PublicKey] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.key = generate_rsa_key()
        self.base = f"http://{self.host}"
        app = Starlette(
            routes=[
                Route("/{path:path}", self._get, methods=["GET"]),
                Route("/{path:path}", self._post, methods=["POST"]),
            ]
        )
        self.network.add(self.host, app)

    def actor(self, path: str, kind: str = "Person", username: str = "dominique",
              **extra: Any) -> str:
        ap_id = f"{self.base}{path}"
        self.documents[path] = {
            "@context": ["https://www.w3.org/ns/activitystreams",
                         "https://w3id.org/security/v1"],
            "id": ap_id,
            "type": kind,
            "preferredUsername": username,
            "name": username.title(),
            "inbox": f"{ap_id}/inbox",
            "outbox": f"{ap_id}/outbox",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": f"{ap_id}#main-key", "owner": ap_id,
                          "publicKeyPem": public_key_pem(self.key)},
        } | extra
        return ap_id

    def send(
        self, actor: str, url: str, activity: dict[str, Any], *, later: int = 0
    ) -> httpx.Response:
        """POST signed now (or ``later`` seconds from now: a retry's fresh signature)."""
        auth = SignatureAuth(
            f"{actor}#main-key", self.key,
            clock=lambda: datetime.now(UTC) + timedelta(seconds=later),
        )
        with httpx.Client(transport=self.network) as client:
            return client.post(url, content=json.dumps(activity).encode(), auth=auth,
                               headers={"Content-Type": "application/activity+json"})

    async def _get(self, request: Request) -> Response:
        document = self.documents.get(request.url.path)
        if document is None:
            return JSONResponse({"error": "not found"}, 404)
        return JSONResponse(document, media_type="application/activity+json")

    async def _post(self, request: Request) -> Response:
        body = await request.body()
        # the key fetch goes back through the network: off the event loop thread
        verified, key_error = await run_in_threadpool(self._verify, request, body)
        self.received.append(Received(request.url.path, json.loads(body), verified, key_error))
        return Response(status_code=202 if verified else 401)

    def _verify(self, request: Request, body: bytes) -> tuple[str | None, str | None]:
        try:
            result = verify_request(
                request.method, str(request.url), request.headers, body, self._key,
                now=datetime.now(UTC), max_skew=3600,
            )
        except SignatureError as error:  # the strict verifier's verdict is what we record
            return None, f"{type(error).__name__}: {error}"
        return result.key_id, None

    def _key(self, key_id: str, refresh: bool) -> PublicKey | None:
        """Fetch the signer's key from its node, as a real server would."""
        if self.cache_keys and not refresh and key_id in self._keys:
            return self._keys[key_id]
        owner = key_id.split("#", 1)[0]
        with httpx.Client(transport=self.network) as client:
            answer = client.get(owner, headers={"Accept": "application/activity+json"})
        if answer.status_code != 200:
            return None
        document = answer.json()
        key = document.get("publicKey", {})
        if key.get("id") != key_id or key.get("owner") != owner:
            return None
        self._keys[key_id] = load_public_key(key["publicKeyPem"])
        return self._keys[key_id]
