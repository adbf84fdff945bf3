"""Opaque keyset cursors for list endpoints."""

from __future__ import annotations

import base64
import json
from typing import Any

from node.errors import Invalid


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise Invalid("cursor", "not a cursor this node gave") from None
    if not isinstance(values, list) or len(values) != size:
        raise Invalid("cursor", "not a cursor this node gave")
    # Every cursor this node gives is a list of short strings; anything else (numbers, NUL
    # or lone surrogates that no database stores) would reach SQL as a hostile parameter.
    if not all(_plain(v) for v in values):
        raise Invalid("cursor", "not a cursor this node gave")
    return values


def _plain(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 300 or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
