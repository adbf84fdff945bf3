"""Keys for HTTP signatures: generation, PEM, encryption at rest, sign/verify primitives."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "ALGORITHMS",
    "KeyDecryptionError",
    "PrivateKey",
    "PublicKey",
    "decrypt_private_key",
    "encrypt_private_key",
    "generate_rsa_key",
    "key_algorithms",
    "load_private_key",
    "load_public_key",
    "private_key_pem",
    "public_key_pem",
    "sign_bytes",
    "verify_bytes",
]

PublicKey = rsa.RSAPublicKey | Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | Ed25519PrivateKey

#: Signature algorithms, named as in the RFC 9421 registry.
ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")

_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)  # RFC 9421 §3.3.1
_KDF_INFO = b"maillon: private keys at rest, v1"


class KeyDecryptionError(ValueError):
    """Wrong node secret, or a corrupted encrypted key."""


def generate_rsa_key() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key, the size every fediverse peer accepts."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: PrivateKey) -> str:
    """Unencrypted PKCS#8 PEM (encrypt it with :func:`encrypt_private_key` to store it)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_pem(key: PrivateKey | PublicKey) -> str:
    """SPKI PEM (``BEGIN PUBLIC KEY``), as actor documents publish it."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey | Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private_key(pem: str) -> PrivateKey:
    """An unencrypted PEM private key (RSA or Ed25519); ValueError otherwise."""
    key = serialization.load_pem_private_key(pem.strip().encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | Ed25519PrivateKey):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def load_public_key(pem: str) -> PublicKey:
    """SPKI (``BEGIN PUBLIC KEY``) or PKCS#1 (``BEGIN RSA PUBLIC KEY``) PEM, RSA or Ed25519.

    Raises ValueError for anything else.
    """
    key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey | Ed25519PublicKey):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


def _fernet(secret: str) -> Fernet:
    """Fernet keyed by HKDF-SHA256 of the node secret.

    HKDF rather than scrypt: the node secret is a machine-generated random value (the
    default is 256 bits), which needs no stretching, and keys are loaded on every
    delivery job, where a memory-hard KDF would cost tens of milliseconds each time.
    The ``info`` label keeps this key independent of other uses of the same secret.
    A short human-chosen secret is not protected against offline guessing.
    """
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_private_key(pem: str, secret: str) -> str:
    """Encrypt (and authenticate) a PEM private key with the node secret."""
    return _fernet(secret).encrypt(pem.encode("utf-8")).decode("ascii")


def decrypt_private_key(token: str, secret: str) -> str:
    """The PEM given to :func:`encrypt_private_key`; KeyDecryptionError otherwise."""
    try:
        return _fernet(secret).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise KeyDecryptionError("wrong node secret or corrupted key") from exc


def key_algorithms(key: PublicKey | PrivateKey) -> tuple[str, ...]:
    """The algorithms a key can verify with when the signer did not name one."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return ("rsa-v1_5-sha256", "rsa-pss-sha512")
    return ("ed25519",)


def sign_bytes(key: PrivateKey, algorithm: str, data: bytes) -> bytes:
    if algorithm == "ed25519" and isinstance(key, Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, rsa.RSAPrivateKey):
        if algorithm == "rsa-v1_5-sha256":
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if algorithm == "rsa-pss-sha512":
            return key.sign(data, _PSS_SHA512, hashes.SHA512())
    raise ValueError(f"cannot sign {algorithm} with {type(key).__name__}")


def verify_bytes(key: PublicKey, algorithm: str, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``key``'s signature of ``data`` under ``algorithm``."""
    try:
        if algorithm == "ed25519" and isinstance(key, Ed25519PublicKey):
            key.verify(signature, data)
            return True
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm == "rsa-v1_5-sha256":
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
                return True
            if algorithm == "rsa-pss-sha512":
                key.verify(signature, data, _PSS_SHA512, hashes.SHA512())
                return True
    except InvalidSignature:
        return False
    return False
