"""Why a signed request was refused. The inbox answers 401 for all of them."""

from __future__ import annotations

__all__ = [
    "BadSignature",
    "DigestMismatch",
    "MalformedSignature",
    "MissingComponents",
    "MissingSignature",
    "SignatureError",
    "StaleSignature",
    "UnknownKey",
    "UnsupportedAlgorithm",
]


class SignatureError(Exception):
    """A request's signature could not be accepted."""


class MissingSignature(SignatureError):
    """No ``Signature`` (or ``Signature-Input``) header."""


class MalformedSignature(SignatureError):
    """The signature headers do not parse, or name a component the request lacks."""


class UnsupportedAlgorithm(SignatureError):
    """An algorithm (signature or digest) we do not accept."""


class StaleSignature(SignatureError):
    """``Date`` / ``created`` outside the clock window, or ``expires`` passed."""


class DigestMismatch(SignatureError):
    """The signed digest does not match the body."""


class MissingComponents(SignatureError):
    """A component our policy requires (date, host, digest…) is not signed."""


class UnknownKey(SignatureError):
    """The key id resolves to no key."""


class BadSignature(SignatureError):
    """The signature does not verify with the key (even after refreshing it)."""
