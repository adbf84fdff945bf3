"""Content negotiation on canonical URLs: ActivityPub JSON for peers, HTML for people.

A local object's canonical URL (``/events/<id>``…) is both its web page and its
ActivityPub id. This pure ASGI middleware sends requests that ask for
``application/activity+json`` (or ActivityStreams JSON-LD) to the federation routes
under ``/_ap``, leaves the others to the pages, and marks every answer on those URLs
``Vary: Accept`` so caches keep the two apart.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

INTERNAL_PREFIX = "/_ap"
CANONICAL = re.compile(r"^/(organisations|events|projects|people|activities)/[^/]+$")
AP_TYPES = ("application/activity+json",)
AS_PROFILE = "https://www.w3.org/ns/activitystreams"


def wants_activitypub(accept: str) -> bool:
    for part in accept.split(","):
        media = part.strip().lower()
        if media.startswith(AP_TYPES):
            return True
        if media.startswith("application/ld+json") and AS_PROFILE in media:
            return True
    return False


class ActivityPubNegotiation:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not CANONICAL.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD") and wants_activitypub(
            Headers(scope=scope).get("accept", "")
        ):
            scope = dict(scope)
            scope["path"] = INTERNAL_PREFIX + scope["path"]
            scope["raw_path"] = scope["path"].encode()

        async def vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Accept")
            await send(message)

        await self.app(scope, receive, vary)
