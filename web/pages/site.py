"""The language switch."""

from __future__ import annotations

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from node.schemas import ProfileIn
from node.services import accounts
from web import csrf, i18n
from web.forms import safe_next, see_other
from web.pages.common import page_router, viewer, web_of
from web.sessions import session_of

router = page_router()
YEAR = 365 * 24 * 3600


@router.post("/language")
async def switch_language(request: Request) -> Response:
    """Remember the chosen language (cookie, and the account's when signed in).

    A signed-in person's form carries their session's token (it changes their account);
    a visitor's the node's language token, which pages render without making a session.
    """
    form = await request.form()
    return await run_in_threadpool(_switch_language, request, form)


def _switch_language(request: Request, form: FormData) -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = viewer(request, session)
        tokens = [session_of(request).get("csrf")] + ([] if person else [web.language_token])
        if not any(csrf.matches(form, token) for token in tokens):
            raise csrf.CsrfFailed(csrf.EXPIRED)
        wanted = form.get("language")
        back = safe_next(str(form.get("next") or ""))
        if wanted not in i18n.LANGUAGES:
            return see_other(back)
        language = str(wanted)
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
