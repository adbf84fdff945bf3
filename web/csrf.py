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
    sent = form.get(FIELD)
    expected = session_of(request).get("csrf")
    if (
        not isinstance(sent, str)
        or not isinstance(expected, str)
        or not expected
        or not hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfFailed("this form expired or did not come from this site: reload the page")
    return form
