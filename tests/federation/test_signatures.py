"""Signing with SignatureAuth / sign_headers, and every refusal of verify_request."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation import signatures_cavage as cavage
from federation import signatures_rfc9421 as rfc9421
from federation.signatures import (
    BadSignature,
    DigestMismatch,
    KeyDecryptionError,
    MalformedSignature,
    MissingComponents,
    MissingSignature,
    PrivateKey,
    PublicKey,
    SignatureAuth,
    StaleSignature,
    UnknownKey,
    UnsupportedAlgorithm,
    Verified,
    decrypt_private_key,
    encrypt_private_key,
    generate_rsa_key,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    sign_headers,
    verify_request,
)
from federation.signatures_keys import sign_bytes
from federation.signatures_message import SignedRequest

DATA = Path(__file__).parent / "data" / "signatures"
NOW = datetime(2026, 12, 5, 13, 0, 0, tzinfo=UTC)
KEY_ID = "https://lyon.example/actor#main-key"
INBOX = "https://lille.example/inbox"
BODY = b'{"type": "Follow"}'


def _key(name: str) -> PrivateKey:
    return load_private_key((DATA / f"{name}-private.pem").read_text())


RSA_KEY = _key("rfc9421-test-key-rsa")
OTHER_RSA_KEY = _key("cavage-test")
ED_KEY = _key("rfc9421-test-key-ed25519")


class Keys:
    """A key store that records its calls; ``fresh`` is what a refresh returns."""

    def __init__(self, key: PublicKey | None, fresh: PublicKey | None = None) -> None:
        self.key = key
        self.fresh = fresh if fresh is not None else key
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, key_id: str, refresh: bool) -> PublicKey | None:
        self.calls.append((key_id, refresh))
        return self.fresh if refresh else self.key


def post(
    body: bytes = BODY,
    *,
    url: str = INBOX,
    key: PrivateKey = RSA_KEY,
    now: datetime = NOW,
    covered: tuple[str, ...] | None = None,
) -> dict[str, str]:
    headers = {"Content-Type": "application/activity+json"}
    return headers | sign_headers("POST", url, headers, body, KEY_ID, key, now, covered=covered)


def verify(
    headers: dict[str, str],
    body: bytes = BODY,
    *,
    method: str = "POST",
    url: str = INBOX,
    keys: Keys | None = None,
    now: datetime = NOW,
) -> Verified:
    return verify_request(
        method, url, headers, body, keys or Keys(RSA_KEY.public_key()), now=now, max_skew=3600
    )


# --- signing and accepting ------------------------------------------------------------


def test_post_roundtrip_signs_what_federation_md_says() -> None:
    headers = post()
    assert headers["Date"] == "Sat, 05 Dec 2026 13:00:00 GMT"
    assert headers["Host"] == "lille.example"
    digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert headers["Digest"] == f"SHA-256={digest}"
    assert headers["Signature"].startswith(
        f'keyId="{KEY_ID}",algorithm="rsa-sha256",'
        'headers="(request-target) host date digest content-type",signature="'
    )
    assert verify(headers) == Verified(
        KEY_ID,
        "cavage",
        "rsa-v1_5-sha256",
        ("(request-target)", "host", "date", "digest", "content-type"),
    )


def test_get_roundtrip_signs_accept_and_non_default_port() -> None:
    url = "http://lille.example:8080/actors/jeanne?page=2"
    request = {"Accept": "application/activity+json"}
    headers = request | sign_headers("GET", url, request, b"", KEY_ID, RSA_KEY, NOW)
    assert headers["Host"] == "lille.example:8080"
    assert "Digest" not in headers
    assert 'headers="(request-target) host date accept"' in headers["Signature"]
    assert verify(headers, b"", method="GET", url=url).covered[-1] == "accept"


def test_hs2019_and_authorization_header_are_accepted() -> None:
    headers = post()
    headers["Signature"] = headers["Signature"].replace('"rsa-sha256"', '"hs2019"')
    assert verify(headers).algorithm == "rsa-v1_5-sha256"
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert verify(headers).key_id == KEY_ID


def test_ed25519_keys_sign_as_hs2019() -> None:
    headers = post(key=ED_KEY)
    assert 'algorithm="hs2019"' in headers["Signature"]
    assert verify(headers, keys=Keys(ED_KEY.public_key())).algorithm == "ed25519"


def test_pkcs1_and_spki_public_keys_are_accepted() -> None:
    pkcs1 = (DATA / "rfc9421-test-key-rsa-public.pem").read_text()
    assert pkcs1.startswith("-----BEGIN RSA PUBLIC KEY-----")
    spki = public_key_pem(RSA_KEY)
    assert spki.startswith("-----BEGIN PUBLIC KEY-----")
    for pem in (pkcs1, spki):
        assert verify(post(), keys=Keys(load_public_key(pem))).key_id == KEY_ID


def test_signature_without_query_string_is_accepted() -> None:
    headers = post(url="https://lille.example/inbox")
    assert verify(headers, url="https://lille.example/inbox?from=lyon").key_id == KEY_ID
    headers = post(url="https://lille.example/inbox?from=lyon")
    assert verify(headers, url="https://lille.example/inbox?from=lyon").key_id == KEY_ID
    with pytest.raises(BadSignature):
        verify(headers, url="https://lille.example/inbox?from=paris")


def test_sha512_digest_is_accepted() -> None:
    sha512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    headers = {
        "Host": "lille.example",
        "Date": "Sat, 05 Dec 2026 13:00:00 GMT",
        "Digest": f"SHA-512={sha512}",
    }
    covered = ("(request-target)", "host", "date", "digest")
    text = cavage.signing_string(SignedRequest.of("POST", INBOX, headers), covered)
    signature = base64.b64encode(sign_bytes(RSA_KEY, "rsa-v1_5-sha256", text.encode())).decode()
    headers["Signature"] = f'keyId="{KEY_ID}",headers="{" ".join(covered)}",signature="{signature}"'
    assert verify(headers).covered == covered
    with pytest.raises(DigestMismatch):
        verify(headers, b"{}")


# --- refusals ---------------------------------------------------------------------------


def test_missing_and_malformed_signatures() -> None:
    with pytest.raises(MissingSignature):
        verify({"Date": "Sat, 05 Dec 2026 13:00:00 GMT"})
    with pytest.raises(MalformedSignature):
        verify({**post(), "Signature": 'keyId="x",signature="not base64!"'})
    with pytest.raises(MalformedSignature):
        verify({**post(), "Signature": "garbage"})


def test_bad_signature_refreshes_the_key_once() -> None:
    keys = Keys(OTHER_RSA_KEY.public_key())
    with pytest.raises(BadSignature):
        verify(post(), keys=keys)
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


def test_rotated_key_is_refetched_and_accepted() -> None:
    keys = Keys(OTHER_RSA_KEY.public_key(), fresh=RSA_KEY.public_key())
    assert verify(post(), keys=keys).key_id == KEY_ID
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


def test_good_key_is_not_refetched() -> None:
    keys = Keys(RSA_KEY.public_key())
    verify(post(), keys=keys)
    assert keys.calls == [(KEY_ID, False)]


def test_unknown_key() -> None:
    keys = Keys(None)
    with pytest.raises(UnknownKey):
        verify(post(), keys=keys)
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.parametrize("offset", [timedelta(seconds=3601), timedelta(seconds=-3601)])
def test_date_outside_the_window_is_stale(offset: timedelta) -> None:
    with pytest.raises(StaleSignature):
        verify(post(now=NOW + offset))


@pytest.mark.parametrize("offset", [timedelta(seconds=3599), timedelta(seconds=-3599)])
def test_date_inside_the_window_is_accepted(offset: timedelta) -> None:
    assert verify(post(now=NOW + offset)).key_id == KEY_ID


def test_unsigned_date_is_refused() -> None:
    headers = post(covered=("(request-target)", "host", "digest", "content-type"))
    with pytest.raises(MissingComponents):
        verify(headers)


def test_unsigned_digest_on_post_is_refused() -> None:
    with pytest.raises(MissingComponents):
        verify(post(covered=("(request-target)", "host", "date", "content-type")))


def test_unsigned_host_on_get_is_refused() -> None:
    headers = sign_headers("GET", INBOX, {}, b"", KEY_ID, RSA_KEY, NOW, covered=("date",))
    with pytest.raises(MissingComponents):
        verify(headers, b"", method="GET")


def test_body_not_matching_digest_is_refused() -> None:
    with pytest.raises(DigestMismatch):
        verify(post(), b'{"type": "Delete"}')


def test_unsupported_algorithm_is_refused_before_fetching_the_key() -> None:
    headers = post()
    headers["Signature"] = headers["Signature"].replace('"rsa-sha256"', '"hmac-sha256"')
    keys = Keys(RSA_KEY.public_key())
    with pytest.raises(UnsupportedAlgorithm):
        verify(headers, keys=keys)
    assert keys.calls == []


# --- RFC 9421 policy ----------------------------------------------------------------------


def rfc_post(
    components: tuple[str, ...] = ("@method", "@target-uri", "content-digest", "content-type"),
    *,
    body: bytes = BODY,
    created: datetime = NOW,
    expires: datetime | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    headers = {"Content-Type": "application/activity+json", "Content-Digest": f"sha-256=:{digest}:"}
    return headers | rfc9421.sign_message(
        SignedRequest.of("POST", INBOX, headers),
        components,
        KEY_ID,
        ED_KEY,
        created=int(created.timestamp()),
        expires=None if expires is None else int(expires.timestamp()),
        label=label,
    )


ED_KEYS = Keys(ED_KEY.public_key())


def test_rfc9421_mastodon_profile_is_accepted() -> None:
    verified = verify(rfc_post(), keys=ED_KEYS)
    assert (verified.scheme, verified.algorithm) == ("rfc9421", "ed25519")


def test_rfc9421_refusals() -> None:
    with pytest.raises(MissingComponents):
        verify(rfc_post(("@method", "@target-uri", "content-type")), keys=ED_KEYS)
    with pytest.raises(DigestMismatch):
        verify(rfc_post(), b"{}", keys=ED_KEYS)
    with pytest.raises(StaleSignature):
        verify(rfc_post(created=NOW - timedelta(hours=2)), keys=ED_KEYS)
    with pytest.raises(StaleSignature):
        verify(rfc_post(expires=NOW - timedelta(seconds=1)), keys=ED_KEYS)
    headers = rfc_post()
    headers["Signature-Input"] += ';alg="hmac-sha256"'
    with pytest.raises(UnsupportedAlgorithm):
        verify(headers, keys=ED_KEYS)
    headers = rfc_post()
    headers["Signature-Input"] = headers["Signature-Input"].replace(";created=", ";x=")
    with pytest.raises(MissingComponents):
        verify(headers, keys=ED_KEYS)
    with pytest.raises(MissingSignature):
        verify({k: v for k, v in rfc_post().items() if k != "Signature"}, keys=ED_KEYS)
    with pytest.raises(BadSignature):
        verify(rfc_post(), keys=Keys(Ed25519PrivateKey.generate().public_key()))


def test_rfc9421_get_needs_authority_or_target_uri() -> None:
    headers = rfc9421.sign_message(
        SignedRequest.of("GET", INBOX, {}),
        ["@method", "@path"],
        KEY_ID,
        ED_KEY,
        created=int(NOW.timestamp()),
    )
    with pytest.raises(MissingComponents):
        verify(headers, b"", method="GET", keys=ED_KEYS)


def test_rfc9421_any_verifying_label_is_enough() -> None:
    good = rfc_post(label="good")
    bad = rfc_post(("@method", "@target-uri", "content-type"), label="bad")
    headers = dict(good)
    headers["Signature-Input"] = f"{bad['Signature-Input']}, {good['Signature-Input']}"
    headers["Signature"] = f"{bad['Signature']}, {good['Signature']}"
    assert verify(headers, keys=ED_KEYS).key_id == KEY_ID


def test_rfc9421_rsa_v1_5_sha256_roundtrip() -> None:
    headers = rfc9421.sign_message(
        SignedRequest.of("GET", INBOX, {"Accept": "application/activity+json"}),
        ["@method", "@target-uri", "accept"],
        "test-key-rsa",
        RSA_KEY,
        created=int(NOW.timestamp()),
        alg="rsa-v1_5-sha256",
    )
    headers["Accept"] = "application/activity+json"
    pkcs1 = load_public_key((DATA / "rfc9421-test-key-rsa-public.pem").read_text())
    verified = verify(headers, b"", method="GET", keys=Keys(pkcs1))
    assert (verified.key_id, verified.algorithm) == ("test-key-rsa", "rsa-v1_5-sha256")


# --- SignatureAuth -----------------------------------------------------------------------


def ticking_clock() -> Iterator[datetime]:
    moment = NOW
    while True:
        yield moment
        moment += timedelta(seconds=7)


def test_signature_auth_signs_each_send_afresh() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202)

    clock = ticking_clock()
    auth = SignatureAuth(KEY_ID, RSA_KEY, clock=lambda: next(clock))
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        request = client.build_request(
            "POST", INBOX, content=BODY, headers={"Content-Type": "application/activity+json"}
        )
        client.send(request)
        first = dict(sent[0].headers)
        client.send(request)  # a retry of the same request
        second = dict(sent[1].headers)
    assert first["date"] == "Sat, 05 Dec 2026 13:00:00 GMT"
    assert second["date"] == "Sat, 05 Dec 2026 13:00:07 GMT"
    assert first["signature"] != second["signature"]
    for headers, moment in ((first, NOW), (second, NOW + timedelta(seconds=7))):
        verified = verify_request(
            "POST", INBOX, headers, BODY, Keys(RSA_KEY.public_key()), now=moment
        )
        assert "digest" in verified.covered


# --- keys -------------------------------------------------------------------------------


def test_generated_key_pem_roundtrip_and_encryption_at_rest() -> None:
    key = generate_rsa_key()
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    pem = private_key_pem(key)
    token = encrypt_private_key(pem, "node secret")
    assert "PRIVATE KEY" not in token
    assert decrypt_private_key(token, "node secret") == pem
    assert public_key_pem(load_private_key(pem)) == public_key_pem(key.public_key())
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(token, "another secret")
