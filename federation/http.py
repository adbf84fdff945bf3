"""The one outbound HTTP client of federation: timeouts, user agent, SSRF guard, signing.

Every outbound URL goes through :class:`GuardedTransport`, redirect hops included: only
``http``/``https``, no userinfo, and (unless ``federation_allow_private``) only hosts
that resolve to public addresses. The check resolves the name before httpx connects,
so a DNS answer that changes in between (rebinding) is not caught here.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from federation.signatures import resign_redirect
from node.settings import Settings

__all__ = [
    "AP_ACCEPT",
    "MAX_JSON_BYTES",
    "MAX_REDIRECTS",
    "BlockedAddress",
    "FetchError",
    "GuardedTransport",
    "check_url",
    "fetch_json",
    "is_public_address",
    "make_client",
    "user_agent",
]

AP_ACCEPT = (
    "application/activity+json, "
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
)
MAX_REDIRECTS = 5
MAX_JSON_BYTES = 2_000_000

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(httpx.RequestError):
    """The URL may not be fetched: bad scheme, userinfo, or a non-public address."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class FetchError(Exception):
    """A fetched document is unusable: non-2xx status, not JSON, or too large."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(f"{url}: {reason} (HTTP {status})")
        self.url = url
        self.status = status
        self.reason = reason


def is_public_address(ip: _IPAddress) -> bool:
    """False for loopback, private, link-local, multicast, reserved, unspecified, CGNAT,
    and IPv6 forms embedding such an IPv4 address (mapped, 6to4, NAT64)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:  # DNS64 answers on IPv6-only networks
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and not is_public_address(ip.sixtofour):
            return False
    elif ip in _CGNAT:
        return False
    return ip.is_global and not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _resolve(host: str, port: int) -> list[_IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def _check(url: httpx.URL, allow_private: bool, request: httpx.Request | None = None) -> None:
    if url.scheme not in ("http", "https"):
        raise BlockedAddress(f"scheme {url.scheme!r} refused", request=request)
    if url.userinfo:
        raise BlockedAddress("URLs with userinfo are refused", request=request)
    host = url.raw_host.decode("ascii")
    if not host:
        raise BlockedAddress("URL without host", request=request)
    if allow_private:
        return
    port = url.port or (443 if url.scheme == "https" else 80)
    for ip in _resolve(host, port):
        if not is_public_address(ip):
            raise BlockedAddress(f"{host} is a non-public address ({ip})", request=request)


def check_url(url: str, allow_private: bool) -> None:
    """Raise :class:`BlockedAddress` unless ``url`` may be fetched (resolves its host)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise BlockedAddress(f"invalid URL {url!r}") from exc
    _check(parsed, allow_private)


class GuardedTransport(httpx.BaseTransport):
    """Checks each request's URL (see :func:`check_url`) before ``inner`` sends it."""

    def __init__(self, inner: httpx.BaseTransport, allow_private: bool) -> None:
        self.inner = inner
        self.allow_private = allow_private

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _check(request.url, self.allow_private, request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@cache
def _version() -> str:
    try:
        return version("maillon")
    except PackageNotFoundError:
        return "0+unknown"


def user_agent(settings: Settings) -> str:
    return f"Maillon/{_version()} (+{settings.public_url})"


def make_client(
    settings: Settings,
    *,
    auth: httpx.Auth | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client for talking to peers; ``transport`` replaces the network (tests).

    Environment proxies are ignored (``trust_env=False``): a proxy mount would bypass
    the guarded transport. Redirect hops of requests signed by a ``SignatureAuth`` (the
    client's or a request's) are signed again for their new target.
    """
    return httpx.Client(
        auth=auth,
        transport=GuardedTransport(
            transport or httpx.HTTPTransport(), settings.federation_allow_private
        ),
        timeout=httpx.Timeout(settings.federation_timeout_seconds),
        headers={"User-Agent": user_agent(settings), "Accept": AP_ACCEPT},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,
        event_hooks={"request": [resign_redirect]},
    )


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def fetch_json(
    client: httpx.Client,
    url: str,
    *,
    auth: httpx.Auth | None = None,
    accept: str = AP_ACCEPT,
    max_bytes: int = MAX_JSON_BYTES,
) -> dict[str, Any]:
    """GET a JSON object of at most ``max_bytes`` (decoded), signed by ``auth`` if given.

    Raises :class:`FetchError` for a non-2xx status, a non-JSON type, an oversized or
    unparsable body; transport failures stay ``httpx.RequestError`` (BlockedAddress too).
    """
    with client.stream(
        "GET",
        url,
        headers={"Accept": accept},
        auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
    ) as response:
        status = response.status_code
        if not response.is_success:
            raise FetchError(url, status, "unexpected status")
        if not _is_json(response.headers.get("content-type", "")):
            raise FetchError(url, status, f"not JSON ({response.headers.get('content-type')})")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(url, status, f"larger than {max_bytes} bytes")
        chunks = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(url, status, f"larger than {max_bytes} bytes")
            chunks.append(chunk)
    try:
        document = json.loads(b"".join(chunks))
    except ValueError as exc:
        raise FetchError(url, status, "invalid JSON") from exc
    if not isinstance(document, dict):
        raise FetchError(url, status, "JSON is not an object")
    return document
