"""Time-ordered, stable identifiers (UUIDv7, RFC 9562) for every stored object."""

from __future__ import annotations

import re

import uuid6

ID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_id() -> str:
    """A new identifier; later ids sort after earlier ones."""
    return str(uuid6.uuid7())


def is_id(value: str) -> bool:
    """True when ``value`` has the shape of an identifier made by :func:`new_id`."""
    return bool(ID_PATTERN.match(value))
