"""CSRF protection: every POST form carries the session's token in a hidden field.

``SameSite=Lax`` already keeps other sites' forms from sending the session cookie;
the token also covers same-site attackers and old browsers. A form without the
right token is refused with a 403 page and changes nothing.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.datastructures import FormData

from node.errors import Forbidden
from web.sessions import session_of

FIELD = "csrf"


class CsrfFailed(Forbidden):
    """The form's token is missing or not this session's (expired session, forged form)."""


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matched the session's (a FastAPI dependency)."""
    form = await request.form()
    if not _matches(form.get(FIELD), session_of(request).get("csrf")):
        raise CsrfFailed(EXPIRED)
    return form


def matches(form: FormData, expected: object) -> bool:
    """The form's token is ``expected`` (compared in constant time)."""
    return _matches(form.get(FIELD), expected)


EXPIRED = "this form expired or did not come from this site: reload the page"


def _matches(sent: object, expected: object) -> bool:
    return (
        isinstance(sent, str)
        and isinstance(expected, str)
        and bool(expected)
        and hmac.compare_digest(sent.encode(), expected.encode())
    )
