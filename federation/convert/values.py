"""Tolerant readers of the JSON values peers send, and the activity envelope.

Each reader takes whatever a peer put in a field (``Any``: a string, an object, a list,
a number, ``None``) and returns a clean value or ``None``; readers of required values
raise :class:`ParseError`. No reader raises anything else, whatever the input.
"""

from __future__ import annotations

import html
import math
import re
from datetime import datetime
from typing import Any, Final

import nh3

from federation.convert.vocab import URL_MAX
from node.sanitize import sanitize_html


class ParseError(ValueError):
    """A peer's object cannot be used (a required field missing or invalid)."""


#: How deep wrappers (``Announce{Create{…}}``) and lists are followed.
MAX_DEPTH: Final = 4
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_HTTP_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


# --- scalars -----------------------------------------------------------------------------


def first(value: Any) -> Any:
    """A list's first item (a peer may send one value or a list of them)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def clean_text(value: Any, limit: int) -> str | None:
    """A string without control characters, whitespace collapsed, cut to ``limit``."""
    if not isinstance(value, str):
        return None
    text = _SPACES.sub(" ", _CONTROL.sub("", value)).strip()[:limit].strip()
    return text or None


def url(value: Any, _depth: int = 0) -> str | None:
    """An ``http(s)`` URL from a string, a ``Link`` (``href``), an object with ``url``
    or a list of those (the first usable, ``text/html`` links preferred); ``None`` when
    absent, not http(s) or longer than a URL column holds (a cut URL points elsewhere)."""
    if _depth > MAX_DEPTH:
        return None
    if isinstance(value, list):
        candidates = [item for item in value[:20] if _is_html_link(item)]
        candidates += [item for item in value[:20] if not _is_html_link(item)]
        for item in candidates:
            found = url(item, _depth + 1)
            if found:
                return found
        return None
    if isinstance(value, dict):
        inner = value.get("href")
        if inner is None:
            inner = value.get("url")
        return url(inner, _depth + 1)
    if not isinstance(value, str):
        return None
    candidate = value.strip()
    if len(candidate) > URL_MAX or not _HTTP_URL.match(candidate):
        return None
    if _CONTROL.search(candidate):
        return None
    return candidate


def _is_html_link(item: Any) -> bool:
    return isinstance(item, dict) and item.get("mediaType") == "text/html"


def number(value: Any) -> float | None:
    """A finite float from a number or a numeric string (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str) and len(value) <= 40:
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    """An integer from an int, an integral float or a numeric string."""
    found = number(value)
    if found is None or found != int(found):
        return None
    return int(found)


def moment(value: Any) -> datetime | None:
    """A datetime from ISO 8601 (``Z``, milliseconds, offsets); naive when no offset."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def type_names(obj: Any) -> list[str]:
    """The ``type`` of an object as a list of strings (it may be a string or a list)."""
    if not isinstance(obj, dict):
        return []
    kind = obj.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind[:10] if isinstance(k, str)]
    return []


def language_value(obj: dict[str, Any], key: str) -> Any:
    """``obj[key]``, or from ``obj[key + "Map"]`` (French, then English, then any)."""
    plain = obj.get(key)
    if isinstance(plain, str) and plain.strip():
        return plain
    mapping = obj.get(f"{key}Map")
    if isinstance(mapping, dict):
        for language in ("fr", "en"):
            for tag, text in mapping.items():
                if (
                    isinstance(tag, str)
                    and tag.lower().split("-")[0] == language
                    and isinstance(text, str)
                    and text.strip()
                ):
                    return text
        for text in mapping.values():
            if isinstance(text, str) and text.strip():
                return text
    return plain


# --- HTML --------------------------------------------------------------------------------


def text_to_html(text: str) -> str:
    """Plain text as HTML: escaped, paragraphs on blank lines, line breaks kept."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p)


def html_to_text(markup: str) -> str:
    """The text of an HTML fragment (tags dropped, entities decoded)."""
    spaced = re.sub(r"(?i)<br\s*/?>|</p>", "\n", markup)
    return html.unescape(nh3.clean(spaced, tags=set()))


def safe_html(markup: str, limit: int) -> str:
    """Sanitised HTML of at most ``limit`` characters (cut before sanitising, so that
    the sanitiser closes what the cut left open)."""
    cut, attempt = limit, 0
    while True:
        cleaned = sanitize_html(_CONTROL.sub("", markup[:cut]))
        if len(cleaned) <= limit:
            return cleaned
        attempt += 1
        excess = len(cleaned) - limit
        cut = max(0, cut - excess - 64) if attempt < 4 else cut // 2


# --- the activity envelope ---------------------------------------------------------------


def object_id(value: Any) -> str:
    """The id of a value that is an id or an object with an ``id`` (a one-item list of
    either is accepted); :class:`ParseError` otherwise."""
    value = first(value) if isinstance(value, list) and len(value) == 1 else value
    candidate = value.get("id") if isinstance(value, dict) else value
    found = url(candidate) if isinstance(candidate, str) else None
    if found is None:
        raise ParseError("expected an object id (an http(s) URL) or an object with one")
    return found


def object_type(value: Any) -> str | None:
    """The (first) type of an embedded object; ``None`` for a bare id or no type."""
    names = type_names(value)
    return names[0] if names else None


def unwrap_announce(activity: Any) -> dict[str, Any] | str:
    """What an ``Announce`` shares: its object, through ``Create``/``Update`` wrappers and
    nested ``Announce`` (``Announce{Create{Event}}`` → the Event); an id when the object is
    given by id. :class:`ParseError` for anything else."""
    if "Announce" not in type_names(activity):
        raise ParseError("not an Announce")
    inner: Any = activity
    for _ in range(MAX_DEPTH + 1):
        if not ({"Announce", "Create", "Update"} & set(type_names(inner))):
            break
        inner = first(inner.get("object"))
        if isinstance(inner, str):
            return object_id(inner)
        if not isinstance(inner, dict):
            raise ParseError("Announce without an object")
    else:
        raise ParseError("Announce wrappers nested too deep")
    object_id(inner)  # the shared object needs an id
    result: dict[str, Any] = inner
    return result


def parse_tombstone(obj: Any) -> tuple[str, str | None]:
    """The id and former type of what a ``Delete`` deletes.

    Accepts a ``Tombstone`` (``formerType``), the deleted object itself (Mobilizon sends
    the whole Event; its ``type`` is the former type) or a bare id (former type unknown).
    """
    ap_id = object_id(obj)
    if not isinstance(obj, dict):
        return ap_id, None
    if "Tombstone" in type_names(obj):
        former = first(obj.get("formerType"))
        return ap_id, clean_text(former, 32) if isinstance(former, str) else None
    return ap_id, object_type(obj)
