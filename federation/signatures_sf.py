"""The part of Structured Field Values (RFC 8941) that HTTP Message Signatures need.

Dictionaries (``Signature-Input``, ``Signature``, ``Content-Digest``), inner lists of
component identifiers and parameters: parsed strictly and serialised canonically, as
RFC 9421 §2.5 builds ``@signature-params`` from the parsed value.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from dataclasses import dataclass

__all__ = [
    "BareItem",
    "InnerList",
    "Item",
    "Params",
    "StructuredFieldError",
    "Token",
    "parse_dictionary",
    "serialize_inner_list",
    "serialize_item",
]


class StructuredFieldError(ValueError):
    """The text is not a valid structured field of the expected type."""


class Token(str):
    """An sf-token (``rsa-v1_5-sha256`` unquoted), kept apart from an sf-string."""

    __slots__ = ()


BareItem = int | float | str | bytes | bool
Params = tuple[tuple[str, BareItem], ...]


@dataclass(frozen=True)
class Item:
    value: BareItem
    params: Params = ()

    def param(self, name: str) -> BareItem | None:
        return dict(self.params).get(name)


@dataclass(frozen=True)
class InnerList:
    items: tuple[Item, ...]
    params: Params = ()

    def param(self, name: str) -> BareItem | None:
        return dict(self.params).get(name)


_KEY_FIRST = frozenset(string.ascii_lowercase + "*")
_KEY_REST = frozenset(string.ascii_lowercase + string.digits + "_-.*")
_TOKEN_FIRST = frozenset(string.ascii_letters + "*")
_TOKEN_REST = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:/")
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/=")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text.strip(" ")
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def fail(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"{what} at offset {self.pos} of {self.text!r}")

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def dictionary(self) -> dict[str, Item | InnerList]:
        members: dict[str, Item | InnerList] = {}
        while self.pos < len(self.text):
            key = self.key()
            if self.peek() == "=":
                self.pos += 1
                members[key] = self.item_or_inner_list()
            else:
                members[key] = Item(True, self.parameters())
            self.skip(" \t")
            if self.pos >= len(self.text):
                return members
            if self.peek() != ",":
                raise self.fail("expected ','")
            self.pos += 1
            self.skip(" \t")
            if self.pos >= len(self.text):
                raise self.fail("trailing ','")
        return members

    def item_or_inner_list(self) -> Item | InnerList:
        if self.peek() != "(":
            return Item(self.bare_item(), self.parameters())
        self.pos += 1
        items: list[Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.parameters())
            if not self.peek():
                raise self.fail("unterminated inner list")
            items.append(Item(self.bare_item(), self.parameters()))
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')'")

    def parameters(self) -> Params:
        params: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return tuple(params.items())

    def key(self) -> str:
        start = self.pos
        if not self.peek() or self.peek() not in _KEY_FIRST:
            raise self.fail("expected a key")
        while self.peek() and self.peek() in _KEY_REST:
            self.pos += 1
        return self.text[start : self.pos]

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == "-" or char.isdigit():
            return self.number()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            flag = self.text[self.pos + 1 : self.pos + 2]
            if flag not in ("0", "1"):
                raise self.fail("bad boolean")
            self.pos += 2
            return flag == "1"
        if char and char in _TOKEN_FIRST:
            start = self.pos
            while self.peek() and self.peek() in _TOKEN_REST:
                self.pos += 1
            return Token(self.text[start : self.pos])
        raise self.fail("expected an item")

    def number(self) -> int | float:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.fail("bad number")
        text = match.group()
        self.pos = match.end()
        if match.group(1) is None:
            if len(text.lstrip("-")) > 15:
                raise self.fail("integer too long")
            return int(text)
        whole, fraction = text.lstrip("-").split(".")
        if len(whole) > 12 or len(fraction) > 3:
            raise self.fail("decimal too long")
        return float(text)

    def string(self) -> str:
        self.pos += 1
        out: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise self.fail("unterminated string")
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                escaped = self.peek()
                if not escaped or escaped not in ('"', "\\"):
                    raise self.fail("bad escape")
                self.pos += 1
                out.append(escaped)
            elif not " " <= char <= "~":
                raise self.fail("bad string character")
            else:
                out.append(char)

    def byte_sequence(self) -> bytes:
        end = self.text.find(":", self.pos + 1)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        encoded = self.text[self.pos + 1 : end]
        if not set(encoded) <= _BASE64:
            raise self.fail("bad base64")
        self.pos = end + 1
        try:
            # RFC 8941 §4.2.7: parsers may accept missing padding.
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error as exc:
            raise self.fail("bad base64") from exc


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """Parse an sf-dictionary (several field lines joined with ``,``)."""
    return _Parser(text).dictionary()


def _serialize_bare(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, Token):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _serialize_params(params: Params) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={_serialize_bare(value)}" for key, value in params
    )


def serialize_item(item: Item) -> str:
    return _serialize_bare(item.value) + _serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    return (
        "("
        + " ".join(serialize_item(i) for i in inner.items)
        + ")"
        + _serialize_params(inner.params)
    )
