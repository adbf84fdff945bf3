"""The language switch."""

from __future__ import annotations

from fastapi import Request, Response

from node.schemas import ProfileIn
from node.services import accounts
from web import i18n
from web.forms import safe_next, see_other
from web.pages.common import Form, page_router, viewer, web_of

router = page_router()
YEAR = 365 * 24 * 3600


@router.post("/language")
def switch_language(request: Request, form: Form) -> Response:
    """Remember the chosen language (cookie, and the account's when signed in)."""
    web = web_of(request)
    wanted = form.get("language")
    back = safe_next(str(form.get("next") or ""))
    if wanted not in i18n.LANGUAGES:
        return see_other(back)
    language = str(wanted)
    with web.runtime.transaction() as session:
        person = viewer(request, session)
        if person is not None and person.locale != language:
            data = ProfileIn(
                name=person.name,
                bio=person.bio,
                locale=language,
                public_profile=person.public_profile,
            )
            accounts.update_profile(session, web.runtime.context, person, data)
    response = see_other(back)
    response.set_cookie(
        i18n.COOKIE,
        language,
        max_age=YEAR,
        httponly=True,
        samesite="lax",
        secure=web.secure_cookies,
    )
    return response
