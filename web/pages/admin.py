"""Node administration: settings and territory, reports, federation peers, people."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlmodel import col

from federation import peers
from node.models import Peer, Person, Report
from node.services.moderation import require_node_admin, resolve_report
from web.app import flash
from web.forms import see_other
from web.pages.common import Form, check_id, page_router, signed_in, web_of
from web.views import path_of

router = page_router()
DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$")
PEOPLE_PAGE = 100


@router.get("/admin")
def overview(request: Request) -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        require_node_admin(signed_in(request, session))
        open_reports = len(
            list(session.scalars(select(col(Report.id)).where(col(Report.state) == "open")))
        )
    settings = web.runtime.settings
    values = {
        "settings": [
            ("MAILLON_PUBLIC_URL", settings.public_url),
            ("MAILLON_LANGUAGE", settings.language),
            ("MAILLON_TIMEZONE", settings.timezone),
            ("MAILLON_SEARCH", settings.search),
            ("MAILLON_FEDERATION", settings.federation),
            ("MAILLON_WEB_TEMPLATES", str(web.override_dir or "—")),
            ("MAILLON_TILE_URL", web.tile_url),
        ],
        "open_reports": open_reports,
    }
    return web.render(request, "admin/overview.html", values)


@router.get("/admin/reports")
def reports(request: Request) -> Response:
    web = web_of(request)
    local = web.runtime.settings.public_url + "/"
    with web.runtime.transaction() as session:
        require_node_admin(signed_in(request, session))
        rows = session.scalars(
            select(Report).order_by(col(Report.state), col(Report.created).desc()).limit(200)
        )
        listed = [
            {
                "id": r.id,
                "reporter": r.reporter,
                "targets": [(_local_path(t, local), t) for t in r.targets],
                "content": r.content,
                "domain": r.domain,
                "state": r.state,
                "created": r.created,
            }
            for r in rows
        ]
    return web.render(request, "admin/reports.html", {"reports": listed})


@router.post("/admin/reports/{report_id}/resolve")
def resolve(report_id: str, request: Request, form: Form) -> Response:
    check_id(report_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        resolve_report(session, signed_in(request, session), report_id)
    flash(request, web.gettext(request, "The report is resolved."))
    return see_other("/admin/reports")


@router.get("/admin/peers")
def peer_list(request: Request) -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        require_node_admin(signed_in(request, session))
        rows = list(session.scalars(select(Peer).order_by(col(Peer.domain))))
        listed = [
            {
                "domain": p.domain,
                "policy": p.policy,
                "following": p.following,
                "software": p.software or "",
            }
            for p in rows
        ]
    values = {"peers": listed, "mode": web.runtime.settings.federation, "error": None}
    return web.render(request, "admin/peers.html", values)


@router.post("/admin/peers")
def set_peer_policy(request: Request, form: Form) -> Response:
    """Block, allow or reset (``none``) a domain: federation's own policy functions."""
    web = web_of(request)
    domain = str(form.get("domain") or "").strip().lower()
    policy = form.get("policy")
    actions: dict[Any, Any] = {
        "blocked": peers.block,
        "allowed": peers.allow,
        "none": peers.unblock,
    }
    if not DOMAIN.fullmatch(domain) or policy not in actions:
        flash(request, web.gettext(request, "Give a domain such as mobilizon.example."))
        return see_other("/admin/peers")
    with web.runtime.transaction() as session:
        require_node_admin(signed_in(request, session))
        actions[policy](session, domain)
    flash(request, web.gettext(request, "The policy for %(domain)s is saved.", domain=domain))
    return see_other("/admin/peers")


@router.get("/admin/users")
def users(request: Request, page: int = 1) -> Response:
    web = web_of(request)
    page = max(1, min(page, 10_000))
    with web.runtime.transaction() as session:
        require_node_admin(signed_in(request, session))
        rows = session.scalars(
            select(Person)
            .where(col(Person.origin).is_(None), col(Person.deleted_at).is_(None))
            .order_by(col(Person.created))
            .offset((page - 1) * PEOPLE_PAGE)
            .limit(PEOPLE_PAGE + 1)
        ).all()
        listed = [
            {
                "id": p.id,
                "name": p.name,
                "email": p.email or "",
                "admin": p.is_admin,
                "public": p.public_profile,
                "created": p.created,
            }
            for p in rows[:PEOPLE_PAGE]
        ]
    values = {"people": listed, "page": page, "more": len(rows) > PEOPLE_PAGE}
    return web.render(request, "admin/users.html", values)


def _local_path(url: str, local: str) -> str | None:
    """The page of a target on this node (``…/events/<id>``), if it is one of ours."""
    if not url.startswith(local):
        return None
    parts = url.removeprefix(local).split("/")
    kinds = {"events": "event", "organisations": "organisation", "projects": "project"}
    if len(parts) == 2 and parts[0] in kinds:
        return path_of(kinds[parts[0]], parts[1])
    if len(parts) == 2 and parts[0] == "people":
        return f"/people/{parts[1]}"
    return None
