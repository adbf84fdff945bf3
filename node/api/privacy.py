"""Personal data (GDPR): ``GET /me/export`` and ``DELETE /me``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from node.api import deps
from node.errors import Invalid
from node.schemas import Input
from node.services import privacy

router = APIRouter(tags=["privacy"])


class AccountDeletionIn(Input):
    password: str = Field(max_length=256, description="the current password, to confirm")


@router.get(
    "/me/export",
    response_model=privacy.PersonalDataExport,
    responses={200: {"description": "a JSON file to download"}},
)
def export_me(request: Request) -> Response:
    """Download everything this node holds about you (GDPR access and portability).

    Your account, sign-in tokens (never their secrets), memberships, follows,
    registrations to events, contributions to projects, what you administer and the
    public activities you authored.
    """
    node = deps.runtime(request)
    with node.transaction() as session:
        person = deps.actor(request, session)
        document = privacy.export_personal_data(session, node.context, person)
    day = document.exported_at.strftime("%Y-%m-%d")
    return Response(
        content=document.model_dump_json(indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="maillon-{document.account.username}'
            f'-{day}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.delete("/me", status_code=204)
def delete_me(data: AccountDeletionIn, request: Request) -> Response:
    """Delete your account (GDPR erasure); confirm with your password.

    Your profile is erased, your tokens revoked, your memberships, follows,
    registrations and contributions deleted. Organisations you administer alone pass
    to their longest-standing member, else to the node's administrators. Your profile
    URL then answers 410 Gone and your email can register again. Wrong password: 422.
    """
    node = deps.runtime(request)
    limiter = request.app.state.login_limiter
    with node.transaction() as session:
        person = deps.actor(request, session)
        key = f"delete-account|{person.id}"
        limiter.check(key)  # a stolen token must not become a password oracle
        try:
            privacy.check_password(person, data.password)
        except Invalid:
            limiter.hit(key)
            raise
        privacy.delete_account(session, node.context, person)
    limiter.reset(key)
    return Response(status_code=204)
