"""The structured-field subset behind RFC 9421: strict parsing, canonical serialisation."""

from __future__ import annotations

import pytest

from federation.signatures_sf import (
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_inner_list,
    serialize_item,
)


def test_signature_input_is_reserialised_canonically() -> None:
    parsed = parse_dictionary(
        'sig1=( "@method"   "@query-param";name="Pet" "x" );created=1618884473'
        ';keyid="a \\"b\\" \\\\c";alg=rsa-v1_5-sha256;flag;off=?0;n=-1.50;raw=:AQID:,  other=?1'
    )
    member = parsed["sig1"]
    assert isinstance(member, InnerList)
    assert member.param("alg") == "rsa-v1_5-sha256"
    assert isinstance(member.param("alg"), Token)
    assert member.param("raw") == b"\x01\x02\x03"
    assert serialize_inner_list(member) == (
        '("@method" "@query-param";name="Pet" "x");created=1618884473'
        ';keyid="a \\"b\\" \\\\c";alg=rsa-v1_5-sha256;flag;off=?0;n=-1.5;raw=:AQID:'
    )
    assert parsed["other"] == Item(True)


def test_repeated_keys_keep_their_place_and_take_the_last_value() -> None:
    parsed = parse_dictionary("a=1, b=2, a=3")
    assert list(parsed) == ["a", "b"]
    assert parsed["a"] == Item(3)
    assert serialize_item(Item(Token("tok"), (("q", 0.5),))) == "tok;q=0.5"


def test_byte_sequence_padding_may_be_omitted() -> None:
    assert parse_dictionary("d=:AQI:")["d"] == Item(b"\x01\x02")


@pytest.mark.parametrize(
    "text",
    [
        "a=1,",
        "A=1",
        'a="\\x"',
        'a="unterminated',
        "a=(1 2",
        "a=(1,2)",
        "a=:not base64!:",
        "a=?2",
        "a=1234567890123456",
        "a=1.2345",
        "a=1 b=2",
        "a=@",
    ],
)
def test_malformed_fields_are_refused(text: str) -> None:
    with pytest.raises(StructuredFieldError):
        parse_dictionary(text)
