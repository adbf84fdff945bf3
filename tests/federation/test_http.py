"""The outbound client: SSRF guard, redirects, user agent, timeouts, fetch_json limits.

No network: the inner transport is an ``httpx.MockTransport`` and hosts are literal
public addresses, or names whose resolution the test controls.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.http import (
    AP_ACCEPT,
    BlockedAddress,
    FetchError,
    GuardedTransport,
    check_url,
    fetch_json,
    make_client,
)
from federation.signatures import SignatureAuth, load_private_key, verify_request
from node.settings import Settings

PUBLIC = "http://93.184.215.14"
DATA = Path(__file__).parent / "data" / "signatures"
Handler = Callable[[httpx.Request], httpx.Response]


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "public_url": "https://lille.example",
        "secret_key": "test",
        "federation_timeout_seconds": 7.5,
    }
    return Settings(**(values | overrides))


class Recorder:
    """A mock peer: records requests, answers with ``respond``."""

    def __init__(self, respond: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond or (lambda request: httpx.Response(200, json={"ok": True}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    def client(self, **overrides: Any) -> httpx.Client:
        return make_client(settings(**overrides), transport=httpx.MockTransport(self))


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Resolve only the names a test registers; fail loudly on any other lookup."""
    names: dict[str, str] = {}

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in names:
            raise AssertionError(f"unexpected DNS lookup of {host}")
        family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (names[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fc00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "ftp://93.184.215.14/",
        "http://user:secret@93.184.215.14/",
    ],
)
def test_guard_refuses(url: str) -> None:
    peer = Recorder()
    with peer.client() as client, pytest.raises(BlockedAddress):
        client.get(url)
    assert peer.requests == []
    with pytest.raises(BlockedAddress):
        check_url(url, allow_private=False)


def test_guard_allows_a_public_address() -> None:
    peer = Recorder()
    with peer.client() as client:
        assert client.get(f"{PUBLIC}/actor").status_code == 200
    assert len(peer.requests) == 1
    check_url(f"{PUBLIC}/actor", allow_private=False)


def test_guard_checks_what_names_resolve_to(no_dns: dict[str, str]) -> None:
    no_dns["intranet.example"] = "10.0.0.7"
    no_dns["peer.example"] = "2606:2800:220:1:248:1893:25c8:1946"
    peer = Recorder()
    with peer.client() as client:
        with pytest.raises(BlockedAddress):
            client.get("https://intranet.example/actor")
        assert client.get("https://peer.example/actor").status_code == 200
    assert [str(r.url) for r in peer.requests] == ["https://peer.example/actor"]


def test_allow_private_lets_loopback_through() -> None:
    peer = Recorder()
    with peer.client(federation_allow_private=True) as client:
        assert client.get("http://127.0.0.1:8000/actor").status_code == 200
        with pytest.raises(BlockedAddress):  # schemes and userinfo stay refused
            client.get("http://user@127.0.0.1:8000/actor")
    check_url("http://localhost/actor", allow_private=True)  # no lookup needed


def test_redirect_to_a_private_address_is_refused() -> None:
    peer = Recorder(
        lambda request: httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})
    )
    with peer.client() as client, pytest.raises(BlockedAddress):
        client.get(f"{PUBLIC}/actor")
    assert [str(r.url) for r in peer.requests] == [f"{PUBLIC}/actor"]


def test_redirects_are_limited_to_five() -> None:
    peer = Recorder(
        lambda request: httpx.Response(
            302, headers={"Location": f"{PUBLIC}/hop{len(peer.requests)}"}
        )
    )
    with peer.client() as client, pytest.raises(httpx.TooManyRedirects):
        client.get(f"{PUBLIC}/start")
    assert len(peer.requests) == 6  # the request and five redirects


def test_redirect_hops_are_signed_again() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/@jeanne":
            return httpx.Response(301, headers={"Location": "/users/jeanne"})
        return httpx.Response(
            200,
            json={"id": str(request.url)},
            headers={"Content-Type": "application/activity+json"},
        )

    peer = Recorder(respond)
    key = load_private_key((DATA / "rfc9421-test-key-rsa-private.pem").read_text())
    now = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)
    auth = SignatureAuth("https://lille.example/actor#main-key", key, clock=lambda: now)
    with peer.client() as client:
        assert fetch_json(client, f"{PUBLIC}/@jeanne", auth=auth) == {
            "id": f"{PUBLIC}/users/jeanne"
        }
    first, hop = peer.requests
    assert (first.url.path, hop.url.path) == ("/@jeanne", "/users/jeanne")
    for request in (first, hop):
        verified = verify_request(
            "GET",
            str(request.url),
            request.headers,
            b"",
            lambda key_id, refresh: key.public_key(),
            now=now,
        )
        assert verified.covered == ("(request-target)", "host", "date", "accept")
    assert first.headers["Signature"] != hop.headers["Signature"]


def test_user_agent_accept_and_timeout() -> None:
    peer = Recorder()
    with peer.client() as client:
        assert client.timeout == httpx.Timeout(7.5)
        assert client.follow_redirects and client.max_redirects == 5
        client.get(f"{PUBLIC}/actor")
    sent = peer.requests[0].headers
    assert sent["User-Agent"] == f"Maillon/{version('maillon')} (+https://lille.example)"
    assert sent["Accept"] == AP_ACCEPT
    assert peer.requests[0].extensions["timeout"] == httpx.Timeout(7.5).as_dict()


def test_environment_proxies_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy mount would bypass the guarded transport."""
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    peer = Recorder()
    with peer.client() as client:
        assert client.get(f"{PUBLIC}/actor").status_code == 200
    assert len(peer.requests) == 1


def test_guarded_transport_closes_its_inner_transport() -> None:
    closed: list[bool] = []

    class Inner(httpx.BaseTransport):
        def close(self) -> None:
            closed.append(True)

    GuardedTransport(Inner(), allow_private=False).close()
    assert closed == [True]


# --- fetch_json ---------------------------------------------------------------------------


def json_response(body: bytes, content_type: str = "application/activity+json") -> Handler:
    return lambda request: httpx.Response(200, content=body, headers={"Content-Type": content_type})


def test_fetch_json_returns_the_object_and_sends_the_accept() -> None:
    peer = Recorder(json_response(b'{"type": "Person"}'))
    with peer.client() as client:
        assert fetch_json(client, f"{PUBLIC}/actor") == {"type": "Person"}
        assert fetch_json(client, f"{PUBLIC}/wf", accept="application/jrd+json") == {
            "type": "Person"
        }
    assert peer.requests[0].headers["Accept"] == AP_ACCEPT
    assert peer.requests[1].headers["Accept"] == "application/jrd+json"


@pytest.mark.parametrize("status", [404, 410, 500])
def test_fetch_json_non_2xx_carries_the_status(status: int) -> None:
    peer = Recorder(lambda request: httpx.Response(status, json={"error": "no"}))
    with peer.client() as client, pytest.raises(FetchError) as caught:
        fetch_json(client, f"{PUBLIC}/actor")
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html></html>", "text/html; charset=utf-8"),
        (b'["not", "an", "object"]', "application/json"),
        (b'{"broken": ', 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'),
    ],
)
def test_fetch_json_refuses_what_is_not_a_json_object(body: bytes, content_type: str) -> None:
    peer = Recorder(json_response(body, content_type))
    with peer.client() as client, pytest.raises(FetchError) as caught:
        fetch_json(client, f"{PUBLIC}/actor")
    assert caught.value.status == 200


def test_fetch_json_size_cap_stops_reading() -> None:
    produced: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield b'{"padding": "'
        for index in range(100):
            produced.append(index)
            yield b"x" * 100_000
        yield b'"}'

    peer = Recorder(
        lambda request: httpx.Response(
            200, content=chunks(), headers={"Content-Type": "application/activity+json"}
        )
    )
    with peer.client() as client, pytest.raises(FetchError, match="larger than 1000000"):
        fetch_json(client, f"{PUBLIC}/actor", max_bytes=1_000_000)
    assert len(produced) < 20


def test_fetch_json_refuses_a_declared_oversize_body() -> None:
    body = json.dumps({"padding": "x" * 3_000_000}).encode()
    peer = Recorder(json_response(body))
    with peer.client() as client, pytest.raises(FetchError, match="larger than 2000000"):
        fetch_json(client, f"{PUBLIC}/actor")
