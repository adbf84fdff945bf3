"""Published test vectors, reproduced byte for byte.

- draft-cavage-http-signatures-12, Appendix C (test key C.1; tests C.1, C.2, C.3);
- RFC 9421 Appendix B.1 keys, B.2.1-B.2.3 (rsa-pss-sha512), B.2.6 (ed25519),
  the B.4 transformation example (ed25519) and the §4.3 proxy signature
  (rsa-v1_5-sha256, the only published rsa-v1_5-sha256 value of the RFC).

PKCS#1 v1.5 and Ed25519 signatures are deterministic: we sign and compare. RSA-PSS
signatures are salted: we compare the signature base and verify the published value.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from federation import signatures_cavage as cavage
from federation import signatures_rfc9421 as rfc9421
from federation.signatures import (
    BadSignature,
    GetKey,
    MissingComponents,
    PublicKey,
    load_private_key,
    load_public_key,
    sign_headers,
    verify_request,
)
from federation.signatures_keys import verify_bytes
from federation.signatures_message import SignedRequest
from federation.signatures_sf import InnerList, parse_dictionary

DATA = Path(__file__).parent / "data" / "signatures"
BODY = b'{"hello": "world"}'


def public(name: str) -> PublicKey:
    return load_public_key((DATA / f"{name}-public.pem").read_text())


def keys(**by_id: PublicKey) -> GetKey:
    return lambda key_id, refresh: by_id.get(key_id)


# --- draft-cavage-http-signatures-12, Appendix C -------------------------------------

CAVAGE_URL = "http://example.com/foo?param=value&pet=dog"
CAVAGE_NOW = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)  # the request's Date
CAVAGE_DIGEST = "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
CAVAGE_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": CAVAGE_DIGEST,
    "Content-Length": "18",
}
C1_SIGNATURE = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLE"
    "EaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5Woz"
    "sbM="
)
C2_SIGNATURE = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2i"
    "icw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2"
    "Os0="
)
C3_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB"
    "1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s"
    "1dE="
)
# C.3 lists "(request-target) (created) (expires) host date content-type digest
# content-length" but its published signature covers the list below (a known erratum).
C3_HEADERS = ("(request-target)", "host", "date", "content-type", "digest", "content-length")


def _signature_param(header: str) -> str:
    return header.rsplit('signature="', 1)[1].rstrip('"')


@pytest.mark.parametrize(
    ("covered", "expected"),
    [
        (("date",), C1_SIGNATURE),
        (("(request-target)", "host", "date"), C2_SIGNATURE),
        (C3_HEADERS, C3_SIGNATURE),
    ],
    ids=["C.1-default", "C.2-basic", "C.3-all-headers"],
)
def test_cavage_appendix_c_signatures(covered: tuple[str, ...], expected: str) -> None:
    private = load_private_key((DATA / "cavage-test-private.pem").read_text())
    added = sign_headers(
        "POST", CAVAGE_URL, CAVAGE_HEADERS, BODY, "Test", private, CAVAGE_NOW, covered=covered
    )
    assert added["Date"] == "Sun, 05 Jan 2014 21:31:40 GMT"
    assert added["Digest"] == CAVAGE_DIGEST
    assert added["Signature"] == (
        f'keyId="Test",algorithm="rsa-sha256",headers="{" ".join(covered)}",signature="{expected}"'
    )


def test_cavage_c1_default_headers_is_date() -> None:
    header = f'keyId="Test",algorithm="rsa-sha256",signature="{C1_SIGNATURE}"'
    parsed = cavage.parse_signature(header)
    assert parsed.headers == ("date",)
    text = cavage.signing_string(SignedRequest.of("POST", CAVAGE_URL, CAVAGE_HEADERS), ("date",))
    assert text == "date: Sun, 05 Jan 2014 21:31:40 GMT"
    assert verify_bytes(public("cavage-test"), "rsa-v1_5-sha256", text.encode(), parsed.signature)


def test_cavage_c2_signing_string() -> None:
    request = SignedRequest.of("POST", CAVAGE_URL, CAVAGE_HEADERS)
    assert cavage.signing_string(request, ("(request-target)", "host", "date")) == (
        "(request-target): post /foo?param=value&pet=dog\n"
        "host: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT"
    )


@pytest.mark.parametrize("signature", [C1_SIGNATURE, C2_SIGNATURE])
def test_cavage_c1_c2_refused_by_policy_without_digest(signature: str) -> None:
    headers = {**CAVAGE_HEADERS, "Signature": f'keyId="Test",signature="{signature}"'}
    with pytest.raises(MissingComponents):
        verify_request(
            "POST", CAVAGE_URL, headers, BODY, keys(Test=public("cavage-test")), now=CAVAGE_NOW
        )


def test_cavage_c3_verifies_under_our_policy() -> None:
    header = (
        f'keyId="Test",algorithm="rsa-sha256",headers="{" ".join(C3_HEADERS)}",'
        f'signature="{C3_SIGNATURE}"'
    )
    verified = verify_request(
        "POST",
        CAVAGE_URL,
        {**CAVAGE_HEADERS, "Signature": header},
        BODY,
        keys(Test=public("cavage-test")),
        now=CAVAGE_NOW,
    )
    assert (verified.key_id, verified.scheme, verified.algorithm) == (
        "Test",
        "cavage",
        "rsa-v1_5-sha256",
    )


# --- RFC 9421 Appendix B ----------------------------------------------------------------

RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_CREATED = 1618884473
RFC_NOW = datetime.fromtimestamp(RFC_CREATED, UTC)
CONTENT_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNy"
    "ealdVLvRwEmTHWXvJwew==:"
)
TEST_REQUEST = {  # B.2 test-request
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": CONTENT_DIGEST,
    "Content-Length": "18",
}

B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it"
    "++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdC"
    "bzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzu"
    "VG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ9"
    "8Xw9Q==:"
)
B21_BASE = (
    '"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss"'
    ';nonce="b3k2pp5k7z-50gnwp.yemd"'
)

B22_INPUT = (
    'sig-b22=("@authority" "content-digest" "@query-param";name="Pet")'
    ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"'
)
B22_SIGNATURE = (
    "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CD"
    "fKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw"
    "1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lank"
    "enQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEj"
    "HSw==:"
)
B22_BASE = (
    '"@authority": example.com\n'
    f'"content-digest": {CONTENT_DIGEST}\n'
    '"@query-param";name="Pet": dog\n'
    '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet")'
    ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"'
)

B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest"'
    ' "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeG"
    "t683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7Ks"
    "LNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF"
    "8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA"
    "==:"
)
B23_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@query": ?param=Value&Pet=dog\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    f'"content-digest": {CONTENT_DIGEST}\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type"'
    ' "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)

B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5W"
    "PpBKRCw==:"
)
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type"'
    ' "content-length");created=1618884473;keyid="test-key-ed25519"'
)


def signed(headers: Mapping[str, str], signature_input: str, signature: str) -> dict[str, str]:
    return {**headers, "Signature-Input": signature_input, "Signature": signature}


def the_input(signature_input: str) -> InnerList:
    (member,) = parse_dictionary(signature_input).values()
    assert isinstance(member, InnerList)
    return member


def test_rfc9421_b26_ed25519_base_and_signature_exact() -> None:
    request = SignedRequest.of("POST", RFC_URL, TEST_REQUEST)
    assert rfc9421.signature_base(request, the_input(B26_INPUT)) == B26_BASE
    private = load_private_key((DATA / "rfc9421-test-key-ed25519-private.pem").read_text())
    components = ["date", "@method", "@path", "@authority", "content-type", "content-length"]
    headers = rfc9421.sign_message(
        request, components, "test-key-ed25519", private, created=RFC_CREATED, label="sig-b26"
    )
    assert headers == {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}
    raw = base64.b64decode(B26_SIGNATURE.split(":")[1])
    assert verify_bytes(public("rfc9421-test-key-ed25519"), "ed25519", B26_BASE.encode(), raw)


@pytest.mark.parametrize(
    ("label", "signature_input", "signature", "base"),
    [
        ("sig-b21", B21_INPUT, B21_SIGNATURE, B21_BASE),
        ("sig-b22", B22_INPUT, B22_SIGNATURE, B22_BASE),
        ("sig-b23", B23_INPUT, B23_SIGNATURE, B23_BASE),
    ],
    ids=["B.2.1", "B.2.2", "B.2.3"],
)
def test_rfc9421_rsa_pss_examples_verify(
    label: str, signature_input: str, signature: str, base: str
) -> None:
    request = SignedRequest.of("POST", RFC_URL, signed(TEST_REQUEST, signature_input, signature))
    assert rfc9421.signature_base(request, the_input(signature_input)) == base
    found = rfc9421.verify_message(request, public("rfc9421-test-key-rsa-pss"))
    assert found.label == label
    with pytest.raises(BadSignature):
        rfc9421.verify_message(request, public("rfc9421-test-key-rsa"))


def test_rfc9421_b23_verifies_under_our_policy() -> None:
    verified = verify_request(
        "POST",
        RFC_URL,
        signed(TEST_REQUEST, B23_INPUT, B23_SIGNATURE),
        BODY,
        keys(**{"test-key-rsa-pss": public("rfc9421-test-key-rsa-pss")}),
        now=RFC_NOW,
    )
    assert (verified.key_id, verified.scheme, verified.algorithm) == (
        "test-key-rsa-pss",
        "rfc9421",
        "rsa-pss-sha512",
    )


def test_rfc9421_b26_refused_by_policy_without_content_digest() -> None:
    with pytest.raises(MissingComponents):
        verify_request(
            "POST",
            RFC_URL,
            signed(TEST_REQUEST, B26_INPUT, B26_SIGNATURE),
            BODY,
            keys(**{"test-key-ed25519": public("rfc9421-test-key-ed25519")}),
            now=RFC_NOW,
        )


# §4.3: a proxy's rsa-v1_5-sha256 signature with test-key-rsa (deterministic).
PROXY_URL = "https://origin.host.internal.example/foo?param=Value&Pet=dog"
PROXY_HEADERS = {
    "Host": "origin.host.internal.example",
    "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
    "Content-Type": "application/json",
    "Content-Digest": CONTENT_DIGEST,
    "Content-Length": "18",
    "Forwarded": "for=192.0.2.123;host=example.com;proto=https",
}
PROXY_INPUT = (
    'proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type"'
    ' "content-length" "forwarded");created=1618884480;keyid="test-key-rsa"'
    ';alg="rsa-v1_5-sha256";expires=1618884540'
)
PROXY_SIGNATURE = (
    "proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHg"
    "xtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOW"
    "AEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAs"
    "D3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9ddzirrswsE1w5o0"
    "LV/g==:"
)


def test_rfc9421_rsa_v1_5_sha256_proxy_signature_exact() -> None:
    private = load_private_key((DATA / "rfc9421-test-key-rsa-private.pem").read_text())
    components = [
        "@method",
        "@authority",
        "@path",
        "content-digest",
        "content-type",
        "content-length",
        "forwarded",
    ]
    headers = rfc9421.sign_message(
        SignedRequest.of("POST", PROXY_URL, PROXY_HEADERS),
        components,
        "test-key-rsa",
        private,
        created=1618884480,
        expires=1618884540,
        alg="rsa-v1_5-sha256",
        label="proxy_sig",
    )
    assert headers == {"Signature-Input": PROXY_INPUT, "Signature": PROXY_SIGNATURE}
    verified = verify_request(
        "POST",
        PROXY_URL,
        signed(PROXY_HEADERS, PROXY_INPUT, PROXY_SIGNATURE),
        BODY,
        keys(**{"test-key-rsa": public("rfc9421-test-key-rsa")}),  # PKCS#1 PEM
        now=datetime.fromtimestamp(1618884500, UTC),
    )
    assert verified.algorithm == "rsa-v1_5-sha256"


# B.4: a GET with two Accept field lines, signed with ed25519 (deterministic).
TRANSFORM_URL = "https://example.org/demo?name1=Value1&Name2=value2"
TRANSFORM_INPUT = (
    'transform=("@method" "@path" "@authority" "accept");created=1618884473'
    ';keyid="test-key-ed25519"'
)
TRANSFORM_SIGNATURE = (
    "transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0"
    "pmj3NDA==:"
)
TRANSFORM_BASE = (
    '"@method": GET\n'
    '"@path": /demo\n'
    '"@authority": example.org\n'
    '"accept": application/json, */*\n'
    '"@signature-params": ("@method" "@path" "@authority" "accept");created=1618884473'
    ';keyid="test-key-ed25519"'
)


def test_rfc9421_b4_repeated_field_lines() -> None:
    headers = httpx.Headers(
        [
            ("Host", "example.org"),
            ("Date", "Fri, 15 Jul 2022 14:24:55 GMT"),
            ("Accept", "application/json"),
            ("Accept", "*/*"),
        ]
    )
    request = SignedRequest.of("GET", TRANSFORM_URL, headers)
    assert rfc9421.signature_base(request, the_input(TRANSFORM_INPUT)) == TRANSFORM_BASE
    private = load_private_key((DATA / "rfc9421-test-key-ed25519-private.pem").read_text())
    assert rfc9421.sign_message(
        request,
        ["@method", "@path", "@authority", "accept"],
        "test-key-ed25519",
        private,
        created=RFC_CREATED,
        label="transform",
    ) == {"Signature-Input": TRANSFORM_INPUT, "Signature": TRANSFORM_SIGNATURE}
    headers["Signature-Input"] = TRANSFORM_INPUT
    headers["Signature"] = TRANSFORM_SIGNATURE
    verified = verify_request(
        "GET",
        TRANSFORM_URL,
        headers,
        b"",
        keys(**{"test-key-ed25519": public("rfc9421-test-key-ed25519")}),
        now=RFC_NOW,
    )
    assert (verified.scheme, verified.algorithm) == ("rfc9421", "ed25519")
