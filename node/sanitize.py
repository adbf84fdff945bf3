"""HTML sanitising of user descriptions with an allow-list (nh3, the ammonia bindings)."""

from __future__ import annotations

from typing import Final

import nh3

ALLOWED_TAGS: Final = frozenset(
    {
        "p",
        "br",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "h3",
        "h4",
        "code",
        "pre",
        "hr",
    }
)
ALLOWED_ATTRIBUTES: Final = {"a": {"href", "title"}}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})


def sanitize_html(html: str) -> str:
    """Keep only harmless markup; links get ``rel="noopener noreferrer nofollow"``."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    ).strip()
