"""draft-cavage-http-signatures (version 12), the scheme every fediverse peer speaks.

Signing follows FEDERATION.md: ``rsa-sha256``, ``(request-target) host date digest
content-type`` on requests with a body, ``(request-target) host date accept`` otherwise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from federation.signatures_errors import MalformedSignature, UnsupportedAlgorithm
from federation.signatures_keys import PrivateKey, PublicKey, key_algorithms, sign_bytes
from federation.signatures_message import SignedRequest

__all__ = [
    "CavageSignature",
    "candidate_algorithms",
    "expects_digest",
    "http_date",
    "parse_signature",
    "sign_headers",
    "signing_string",
]

#: cavage ``algorithm`` → the algorithms to try; None: decided by the key (hs2019).
_ALGORITHMS: dict[str, tuple[str, ...] | None] = {
    "rsa-sha256": ("rsa-v1_5-sha256",),
    "hs2019": None,
}
_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^\s,"]*))\s*(,|$)')


@dataclass(frozen=True)
class CavageSignature:
    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes
    created: int | None = None
    expires: int | None = None


def expects_digest(method: str, body: bytes) -> bool:
    """Whether a request carries a body whose digest must be signed."""
    return bool(body) or method.upper() in ("POST", "PUT", "PATCH")


def http_date(when: datetime) -> str:
    """IMF-fixdate: ``Sat, 05 Dec 2026 13:00:00 GMT``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return format_datetime(when.astimezone(UTC), usegmt=True)


def parse_signature(value: str) -> CavageSignature:
    """Parse a ``Signature`` header value (or the part after ``Authorization: Signature``).

    Without ``headers``, only ``date`` is signed (the draft's original default, kept by
    Mastodon and by the Appendix C.1 test).
    """
    params: dict[str, str] = {}
    pos = 0
    while pos < len(value):
        match = _PARAM.match(value, pos)
        if match is None or match.end() == pos:
            raise MalformedSignature(f"unparsable signature parameters: {value!r}")
        name = match.group(1)
        if name in params:
            raise MalformedSignature(f"repeated signature parameter {name}")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
    if not params.get("keyId") or not params.get("signature"):
        raise MalformedSignature("keyId and signature are required")
    headers = tuple(params.get("headers", "date").lower().split())
    if not headers:
        raise MalformedSignature("empty headers list")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
        created = int(params["created"]) if "created" in params else None
        expires = int(params["expires"]) if "expires" in params else None
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignature(f"bad signature parameter: {exc}") from exc
    algorithm = params.get("algorithm")
    return CavageSignature(
        key_id=params["keyId"],
        algorithm=algorithm.lower() if algorithm else None,
        headers=headers,
        signature=signature,
        created=created,
        expires=expires,
    )


def candidate_algorithms(algorithm: str | None, key: PublicKey | None = None) -> tuple[str, ...]:
    """Algorithms to verify with; UnsupportedAlgorithm for anything but rsa-sha256/hs2019."""
    if algorithm is not None and algorithm not in _ALGORITHMS:
        raise UnsupportedAlgorithm(f"signature algorithm {algorithm!r}")
    fixed = _ALGORITHMS.get(algorithm or "hs2019")
    if fixed is not None:
        return fixed
    return key_algorithms(key) if key is not None else ()


def signing_string(
    request: SignedRequest,
    headers: Sequence[str],
    *,
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """The text signed: one ``name: value`` line per entry of ``headers``."""
    lines = []
    for name in headers:
        if name == "(request-target)":
            value: str | None = f"{request.method.lower()} {request.request_target}"
        elif name == "(created)":
            value = None if created is None else str(created)
        elif name == "(expires)":
            value = None if expires is None else str(expires)
        else:
            value = request.field(name)
            if value is None and name == "host":
                value = request.authority
        if value is None:
            raise MalformedSignature(f"signed component {name!r} is missing from the request")
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _default_headers(request: SignedRequest, with_digest: bool) -> list[str]:
    if with_digest:
        optional = ["content-type"]
        covered = ["(request-target)", "host", "date", "digest"]
    else:
        optional = ["accept"]
        covered = ["(request-target)", "host", "date"]
    return covered + [name for name in optional if request.field(name) is not None]


def sign_headers(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key_id: str,
    private_key: PrivateKey,
    now: datetime | None = None,
    *,
    covered: Sequence[str] | None = None,
) -> dict[str, str]:
    """The headers to set on a request to sign it: Host, Date, Digest (with a body), Signature.

    ``Date`` is ``now`` (default: the current time), ``Host`` and ``Digest`` come from
    ``url`` and ``body``; other signed headers (content-type, accept) from ``headers``.
    ``covered`` overrides the signed header list (for tests against published vectors).
    """
    added = {
        "Host": SignedRequest(method, url, {}).authority,
        "Date": http_date(now or datetime.now(UTC)),
    }
    with_digest = expects_digest(method, body)
    if with_digest:
        added["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    lines = dict(SignedRequest.of(method, url, headers).lines)
    lines.update({name.lower(): (value,) for name, value in added.items()})
    request = SignedRequest(method, url, lines)
    names = list(covered) if covered is not None else _default_headers(request, with_digest)
    if isinstance(private_key, rsa.RSAPrivateKey):
        algorithm, primitive = "rsa-sha256", "rsa-v1_5-sha256"
    else:
        algorithm, primitive = "hs2019", "ed25519"
    signature = sign_bytes(private_key, primitive, signing_string(request, names).encode())
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return added
