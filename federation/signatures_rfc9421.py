"""HTTP Message Signatures (RFC 9421): signature base, signing and cryptographic checks.

Requests only. Derived components: ``@method``, ``@target-uri``, ``@authority``,
``@scheme``, ``@request-target``, ``@path``, ``@query``, ``@query-param``; header fields
without component parameters. Algorithms: ``rsa-v1_5-sha256``, ``rsa-pss-sha512``,
``ed25519``. What a signature must cover is policy, decided in
:mod:`federation.signatures`.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from cryptography.hazmat.primitives.asymmetric import rsa

from federation.signatures_errors import (
    BadSignature,
    MalformedSignature,
    MissingSignature,
    UnsupportedAlgorithm,
)
from federation.signatures_keys import (
    ALGORITHMS,
    PrivateKey,
    PublicKey,
    key_algorithms,
    sign_bytes,
    verify_bytes,
)
from federation.signatures_message import SignedRequest
from federation.signatures_sf import (
    BareItem,
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_inner_list,
    serialize_item,
)

__all__ = [
    "MessageSignature",
    "candidate_algorithms",
    "parse_signatures",
    "sign_message",
    "signature_base",
    "verify_message",
]


@dataclass(frozen=True)
class MessageSignature:
    """One labelled signature: its ``Signature-Input`` member and its bytes."""

    label: str
    input: InnerList
    signature: bytes

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(str(item.value) for item in self.input.items)

    def _param(self, name: str, kind: type[int] | type[str]) -> BareItem | None:
        value = self.input.param(name)
        if value is not None and (type(value) is not kind):
            raise MalformedSignature(f"signature parameter {name} must be {kind.__name__}")
        return value

    @property
    def key_id(self) -> str | None:
        value = self._param("keyid", str)
        return None if value is None else str(value)

    @property
    def alg(self) -> str | None:
        value = self._param("alg", str)
        return None if value is None else str(value)

    @property
    def created(self) -> int | None:
        value = self._param("created", int)
        return None if value is None else int(value)

    @property
    def expires(self) -> int | None:
        value = self._param("expires", int)
        return None if value is None else int(value)


def parse_signatures(signature_input: str, signature: str | None) -> list[MessageSignature]:
    """The labelled signatures, in ``Signature-Input`` order."""
    if not signature:
        raise MissingSignature("Signature-Input without Signature")
    try:
        inputs = parse_dictionary(signature_input)
        values = parse_dictionary(signature)
    except StructuredFieldError as exc:
        raise MalformedSignature(str(exc)) from exc
    found = []
    for label, member in inputs.items():
        value = values.get(label)
        if not isinstance(member, InnerList) or not isinstance(value, Item):
            raise MalformedSignature(f"signature {label!r}: malformed or missing")
        if not isinstance(value.value, bytes):
            raise MalformedSignature(f"signature {label!r} is not a byte sequence")
        for item in member.items:
            if not isinstance(item.value, str) or isinstance(item.value, Token):
                raise MalformedSignature(f"signature {label!r}: component ids are strings")
        found.append(MessageSignature(label, member, value.value))
    if not found:
        raise MissingSignature("empty Signature-Input")
    return found


def _query_encode(text: str) -> str:
    # The application/x-www-form-urlencoded percent-encode set, spaces as %20 (§2.2.8).
    return quote(text, safe="*").replace("~", "%7E")


def _query_param(request: SignedRequest, item: Item) -> str:
    name = item.param("name")
    if not isinstance(name, str):
        raise MalformedSignature('@query-param needs a "name" parameter')
    pairs = parse_qsl(request.query, keep_blank_values=True)
    values = [_query_encode(v) for n, v in pairs if _query_encode(n) == name]
    if len(values) != 1:
        raise MalformedSignature(f"query parameter {name!r} absent or repeated")
    return values[0]


def _component_value(request: SignedRequest, item: Item) -> str:
    name = str(item.value)
    extra = {key for key, _ in item.params} - ({"name"} if name == "@query-param" else set())
    if extra:
        raise MalformedSignature(f"unsupported component parameters {sorted(extra)}")
    derived = {
        "@method": lambda: request.method,
        "@target-uri": lambda: request.url,
        "@authority": lambda: request.authority,
        "@scheme": lambda: request.scheme,
        "@request-target": lambda: request.request_target,
        "@path": lambda: request.path,
        "@query": lambda: "?" + request.query,
        "@query-param": lambda: _query_param(request, item),
    }
    if name.startswith("@"):
        if name not in derived:
            raise MalformedSignature(f"unsupported component {name!r}")
        return derived[name]()
    value = request.field(name)
    if value is None:
        raise MalformedSignature(f"signed field {name!r} is missing from the request")
    return value


def signature_base(request: SignedRequest, signature_input: InnerList) -> str:
    """The signature base of RFC 9421 §2.5 (lines joined by LF, no final LF)."""
    lines = []
    seen = set()
    for item in signature_input.items:
        identifier = serialize_item(item)
        if identifier in seen:
            raise MalformedSignature(f"component {identifier} covered twice")
        seen.add(identifier)
        lines.append(f"{identifier}: {_component_value(request, item)}")
    lines.append(f'"@signature-params": {serialize_inner_list(signature_input)}')
    return "\n".join(lines)


def candidate_algorithms(alg: str | None, key: PublicKey | None = None) -> tuple[str, ...]:
    """The named ``alg`` if we support it, else those the key can use; or refuse."""
    if alg is not None:
        if alg not in ALGORITHMS:
            raise UnsupportedAlgorithm(f"signature algorithm {alg!r}")
        return (alg,)
    return key_algorithms(key) if key is not None else ()


def sign_message(
    request: SignedRequest,
    components: Sequence[str],
    key_id: str,
    private_key: PrivateKey,
    *,
    created: int,
    expires: int | None = None,
    alg: str | None = None,
    nonce: str | None = None,
    tag: str | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """``Signature-Input`` and ``Signature`` headers for ``request``.

    Parameters are written in the order created, keyid, alg, expires, nonce, tag; ``alg``
    is written only when given (default algorithm: the key's own, PKCS#1 v1.5 for RSA).
    """
    params: list[tuple[str, BareItem]] = [("created", created), ("keyid", key_id)]
    optional: dict[str, BareItem | None] = {
        "alg": alg,
        "expires": expires,
        "nonce": nonce,
        "tag": tag,
    }
    params += [(name, value) for name, value in optional.items() if value is not None]
    signature_input = InnerList(tuple(Item(name) for name in components), tuple(params))
    rsa_key = isinstance(private_key, rsa.RSAPrivateKey)
    algorithm = alg or ("rsa-v1_5-sha256" if rsa_key else "ed25519")
    base = signature_base(request, signature_input)
    signature = sign_bytes(private_key, algorithm, base.encode("utf-8"))
    return {
        "Signature-Input": f"{label}={serialize_inner_list(signature_input)}",
        "Signature": f"{label}=:{base64.b64encode(signature).decode('ascii')}:",
    }


def verified_algorithm(signature: MessageSignature, base: str, key: PublicKey) -> str | None:
    """The algorithm under which ``signature`` verifies ``base`` with ``key``, if any."""
    for algorithm in candidate_algorithms(signature.alg, key):
        if verify_bytes(key, algorithm, base.encode("utf-8"), signature.signature):
            return algorithm
    return None


def verify_message(
    request: SignedRequest, key: PublicKey, *, label: str | None = None
) -> MessageSignature:
    """Check one signature cryptographically (no policy, no clock); BadSignature if wrong."""
    signatures = parse_signatures(
        request.field("signature-input") or "", request.field("signature")
    )
    chosen = [s for s in signatures if label is None or s.label == label][:1]
    if not chosen:
        raise MissingSignature(f"no signature labelled {label!r}")
    if verified_algorithm(chosen[0], signature_base(request, chosen[0].input), key) is None:
        raise BadSignature(f"signature {chosen[0].label!r} does not verify")
    return chosen[0]
