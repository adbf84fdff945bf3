"""HTTP signatures: sign what we send, verify what we receive.

Outbound: draft-cavage ``rsa-sha256`` (:class:`SignatureAuth`, :func:`sign_headers`),
signed at send time. Inbound (:func:`verify_request`): draft-cavage (``rsa-sha256``,
``hs2019``) or RFC 9421 when ``Signature-Input`` is present, under one policy:

- ``date`` (cavage; or ``(created)``) / ``created`` (RFC 9421) is signed and within
  ``max_skew`` seconds of our clock, either way (default ±1 h: Mastodon allows about
  +1 h / −65 min, so its peers never hit our edge); a passed ``expires`` is refused;
- ``host`` (cavage) / ``@authority`` or ``@target-uri`` (RFC 9421) is signed on requests
  without a body (GET);
- a request with a body (or any POST/PUT/PATCH) has its digest signed (``digest`` /
  ``content-digest``) and the digest matches the body;
- the signature is tried against the URL with its query, then without it; with RFC
  9421, the first four labels are tried in order and the first that passes wins;
- on failure the key is fetched again once (``get_key(key_id, True)``) for rotations.

Every refusal is a :class:`SignatureError` subclass; the inbox maps them all to 401.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

import httpx

from federation import signatures_cavage as cavage
from federation import signatures_rfc9421 as rfc9421
from federation.signatures_cavage import http_date, sign_headers
from federation.signatures_errors import (
    BadSignature,
    DigestMismatch,
    MalformedSignature,
    MissingComponents,
    MissingSignature,
    SignatureError,
    StaleSignature,
    UnknownKey,
    UnsupportedAlgorithm,
)
from federation.signatures_keys import (
    KeyDecryptionError,
    PrivateKey,
    PublicKey,
    decrypt_private_key,
    encrypt_private_key,
    generate_rsa_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    verify_bytes,
)
from federation.signatures_message import SignedRequest
from federation.signatures_sf import Item, StructuredFieldError, parse_dictionary

__all__ = [
    "BadSignature",
    "DigestMismatch",
    "GetKey",
    "KeyDecryptionError",
    "MalformedSignature",
    "MissingComponents",
    "MissingSignature",
    "PrivateKey",
    "PublicKey",
    "SignatureAuth",
    "SignatureError",
    "StaleSignature",
    "UnknownKey",
    "UnsupportedAlgorithm",
    "Verified",
    "decrypt_private_key",
    "encrypt_private_key",
    "generate_rsa_key",
    "http_date",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_key_pem",
    "resign_redirect",
    "sign_headers",
    "verify_request",
]

#: ``get_key(key_id, refresh)``: the key, re-fetched when ``refresh``; None if unknown.
GetKey = Callable[[str, bool], PublicKey | None]

_DIGESTS = {"sha-256": "sha256", "sha-512": "sha512"}
_SIGNER = "maillon.signer"
_SIGNED = "maillon.signed"
_MAX_LABELS = 4  # RFC 9421 signatures tried per request (each may fetch a key)


@dataclass(frozen=True)
class Verified:
    """Who signed a request, and how."""

    key_id: str
    scheme: Literal["cavage", "rfc9421"]
    algorithm: str
    covered: tuple[str, ...]


class SignatureAuth(httpx.Auth):
    """Signs every request when it is sent (draft-cavage, see :func:`sign_headers`)."""

    requires_request_body = True

    def __init__(
        self,
        key_id: str,
        private_key: PrivateKey,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.key_id = key_id
        self.private_key = private_key
        self.clock = clock

    def sign(self, request: httpx.Request) -> None:
        """Set a fresh Date, Host, Digest and Signature on ``request``."""
        request.read()
        request.headers.update(
            sign_headers(
                request.method,
                str(request.url),
                request.headers,
                request.content,
                self.key_id,
                self.private_key,
                now=self.clock(),
            )
        )
        request.extensions = {
            **request.extensions,
            _SIGNER: self,
            _SIGNED: _target(request),
        }

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request


def _target(request: httpx.Request) -> str:
    return f"{request.method} {request.url}"


def resign_redirect(request: httpx.Request) -> None:
    """An httpx ``request`` event hook: re-sign redirect hops of signed requests.

    httpx runs :meth:`SignatureAuth.auth_flow` for the first request only; a hop carries
    its headers (a signature for another request-target and host), so sign it again.
    """
    signer = request.extensions.get(_SIGNER)
    if isinstance(signer, SignatureAuth) and request.extensions.get(_SIGNED) != _target(request):
        signer.sign(request)


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    get_key: GetKey,
    *,
    now: datetime | None = None,
    max_skew: int = 3600,
) -> Verified:
    """Verify a signed request (see the module docstring for the policy).

    ``url`` is the URL the peer addressed (our public scheme and host, raw path and
    query); ``headers`` are case-insensitive (httpx or Starlette ``Headers``).
    """
    request = SignedRequest.of(method, url, headers)
    moment = now or datetime.now(UTC)
    if request.field("signature-input") is not None:
        return _verify_rfc9421(request, body, get_key, moment, max_skew)
    return _verify_cavage(request, body, get_key, moment, max_skew)


def _verify_cavage(
    request: SignedRequest, body: bytes, get_key: GetKey, now: datetime, max_skew: int
) -> Verified:
    value = request.field("signature")
    authorization = request.field("authorization") or ""
    if value is None and authorization[:10].lower() == "signature ":
        value = authorization[10:]
    if not value:
        raise MissingSignature("no Signature header")
    signature = cavage.parse_signature(value)
    cavage.candidate_algorithms(signature.algorithm)
    covered = signature.headers
    if "date" not in covered and "(created)" not in covered:
        raise MissingComponents("date (or (created)) must be signed")
    has_body = cavage.expects_digest(request.method, body)
    if not has_body and "host" not in covered:
        raise MissingComponents("host must be signed")
    if has_body and "digest" not in covered:
        raise MissingComponents("digest must be signed on requests with a body")
    if "date" in covered:
        _check_time(_parse_date(request.field("date")), now, max_skew, "Date")
    if "(created)" in covered:
        if signature.created is None:
            raise MalformedSignature("(created) signed without created")
        _check_time(_timestamp(signature.created), now, max_skew, "created")
    if "(expires)" in covered and signature.expires is not None:
        _check_expires(signature.expires, now)
    if "digest" in covered:
        _check_digest(request.field("digest"), body, legacy=True)
    texts = [
        cavage.signing_string(
            variant, covered, created=signature.created, expires=signature.expires
        ).encode("utf-8")
        for variant in _variants(request)
    ]

    def check(key: PublicKey) -> str | None:
        for algorithm in cavage.candidate_algorithms(signature.algorithm, key):
            if any(verify_bytes(key, algorithm, text, signature.signature) for text in texts):
                return algorithm
        return None

    algorithm = _with_rotation(signature.key_id, get_key, check)
    return Verified(signature.key_id, "cavage", algorithm, covered)


def _verify_rfc9421(
    request: SignedRequest, body: bytes, get_key: GetKey, now: datetime, max_skew: int
) -> Verified:
    signatures = rfc9421.parse_signatures(
        request.field("signature-input") or "", request.field("signature")
    )
    first_error: SignatureError | None = None
    for signature in signatures[:_MAX_LABELS]:
        try:
            return _verify_one(request, signature, body, get_key, now, max_skew)
        except SignatureError as exc:
            first_error = first_error or exc
    raise first_error or MissingSignature("no signature")


def _verify_one(
    request: SignedRequest,
    signature: rfc9421.MessageSignature,
    body: bytes,
    get_key: GetKey,
    now: datetime,
    max_skew: int,
) -> Verified:
    key_id = signature.key_id
    if key_id is None:
        raise MalformedSignature(f"signature {signature.label!r} has no keyid")
    rfc9421.candidate_algorithms(signature.alg)
    covered = signature.components
    if signature.created is None:
        raise MissingComponents("created must be given")
    has_body = cavage.expects_digest(request.method, body)
    if not has_body and not {"@authority", "@target-uri"} & set(covered):
        raise MissingComponents("@authority or @target-uri must be signed")
    if has_body and "content-digest" not in covered:
        raise MissingComponents("content-digest must be signed on requests with a body")
    _check_time(_timestamp(signature.created), now, max_skew, "created")
    if signature.expires is not None:
        _check_expires(signature.expires, now)
    if "content-digest" in covered:
        _check_digest(request.field("content-digest"), body, legacy=False)
    bases = [rfc9421.signature_base(variant, signature.input) for variant in _variants(request)]

    def check(key: PublicKey) -> str | None:
        for base in bases:
            algorithm = rfc9421.verified_algorithm(signature, base, key)
            if algorithm is not None:
                return algorithm
        return None

    algorithm = _with_rotation(key_id, get_key, check)
    return Verified(key_id, "rfc9421", algorithm, covered)


def _variants(request: SignedRequest) -> list[SignedRequest]:
    """The request as addressed, then without its query (some peers sign without it)."""
    return [request, request.without_query()] if request.query else [request]


def _with_rotation(key_id: str, get_key: GetKey, check: Callable[[PublicKey], str | None]) -> str:
    """Check with the known key, then once with a re-fetched one."""
    key = get_key(key_id, False)
    refreshed = key is None
    if key is None:
        key = get_key(key_id, True)
        if key is None:
            raise UnknownKey(f"no key {key_id!r}")
    algorithm = check(key)
    if algorithm is None and not refreshed:
        fresh = get_key(key_id, True)
        algorithm = check(fresh) if fresh is not None else None
    if algorithm is None:
        raise BadSignature(f"signature by {key_id!r} does not verify")
    return algorithm


def _parse_date(value: str | None) -> datetime:
    if not value:
        raise MalformedSignature("Date signed but absent")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise MalformedSignature(f"bad Date {value!r}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _timestamp(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedSignature(f"bad timestamp {seconds}") from exc


def _check_time(moment: datetime, now: datetime, max_skew: int, what: str) -> None:
    if abs((moment - now).total_seconds()) > max_skew:
        raise StaleSignature(f"{what} {moment.isoformat()} is outside ±{max_skew}s of now")


def _check_expires(expires: int, now: datetime) -> None:
    if _timestamp(expires) < now:
        raise StaleSignature("signature expired")


def _check_digest(value: str | None, body: bytes, *, legacy: bool) -> None:
    """Compare ``Digest`` (RFC 3230, ``legacy``) or ``Content-Digest`` (RFC 9530)."""
    if not value:
        raise MalformedSignature("digest signed but absent")
    claimed: dict[str, bytes] = {}
    try:
        if legacy:
            for part in value.split(","):
                name, _, encoded = part.strip().partition("=")
                claimed[name.lower()] = base64.b64decode(encoded, validate=True)
        else:
            for name, member in parse_dictionary(value).items():
                if isinstance(member, Item) and isinstance(member.value, bytes):
                    claimed[name] = member.value
    except (binascii.Error, StructuredFieldError) as exc:
        raise MalformedSignature(f"bad digest header {value!r}") from exc
    known = {name: digest for name, digest in claimed.items() if name in _DIGESTS}
    if not known:
        raise UnsupportedAlgorithm(f"no SHA-256 or SHA-512 digest in {value!r}")
    for name, digest in known.items():
        if not hmac.compare_digest(hashlib.new(_DIGESTS[name], body).digest(), digest):
            raise DigestMismatch(f"{name} digest does not match the body")
