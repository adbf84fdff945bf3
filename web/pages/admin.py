"""Node administration: settings and territory, reports, federation peers, people."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Depends, Request, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col
from starlette.datastructures import FormData, UploadFile

from federation import peers
from node.api.limits import larger_body
from node.api.territory import logo_url
from node.errors import DomainError
from node.models import Peer, Person, Report
from node.services import branding
from node.services import territory as territory_service
from node.services.moderation import require_node_admin, resolve_report
from node.services.territory import TerritoryIn
from web.app import flash
from web.forms import (
    PAGE_ERRORS,
    FormState,
    domain_errors,
    optional,
    see_other,
    texts,
    validation_errors,
)
from web.messages import N_
from web.pages.common import Form, check_id, page_router, signed_in, web_of
from web.views import path_of

router = page_router()
DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$")
PEOPLE_PAGE = 100
SETTINGS_TEXTS = ("node_name", "name", "timezone", "default_language", "communes",
                  "primary_colour", "accent_colour")  # fmt: skip
BBOX = ("min_lat", "min_lon", "max_lat", "max_lon")
LANGUAGES = {"fr": "Français", "en": "English"}
#: the largest settings form read (a photo chosen as the logo, say): over the logo's own
#: limit, the form says so next to the field with what was typed, where the node's body
#: limit would answer a bare 413 (and a browser still sending would see the connection
#: cut); only a node administrator's body is read (checked first)
SETTINGS_BODY_BYTES = 16 * 1024 * 1024
#: what the territory service refuses, to be translated (the same words as
#: ``node.services.branding`` and ``node.services.territory``: a test keeps them equal)
NODE_MESSAGES = (
    N_("a colour is written #rrggbb, for example #0b5cad"),
    N_("too light for white text: choose a darker colour (contrast with white at least 4.5:1)"),
    N_("too light to stand out on the page header: choose a darker colour (contrast at least 3:1)"),
    N_("the file is empty"),
    N_("the logo is larger than 512 KiB"),
    N_("SVG images are not accepted (they can carry scripts): use PNG, JPEG or WebP"),
    N_("not a PNG, JPEG or WebP image"),
    N_("the image is larger than 4096 pixels on a side"),
    N_("an INSEE code has 5 characters, such as 59350 or 2A004"),
    N_("the minimum latitude and longitude come before the maximum ones"),
)


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


@router.get("/admin/settings")
def settings_form(request: Request) -> Response:
    """The node's name, territory, colours and logo, as they are stored now."""
    web = web_of(request)
    with web.runtime.transaction() as session:
        require_node_admin(signed_in(request, session))
        found = territory_service.current(session)
        defaults = {
            "timezone": web.runtime.settings.timezone,
            "default_language": web.runtime.settings.language,
        }
        stored = territory_service.territory_input(found, defaults)
        logo = logo_url(found.logo_sha256) if found is not None else None
    values: dict[str, Any] = {
        name: "" if stored.get(name) is None else str(stored[name]) for name in SETTINGS_TEXTS
    }
    values["communes"] = " ".join(stored.get("communes") or [])
    corners = stored.get("bbox") or ("", "", "", "")
    values |= {name: str(value) for name, value in zip(BBOX, corners, strict=True)}
    return _settings(request, FormState(values=values), logo)


def _node_admin(request: Request) -> None:
    """Refuse whoever is not a node administrator before their body is read."""
    with web_of(request).runtime.transaction() as session:
        require_node_admin(signed_in(request, session))


@router.post("/admin/settings", dependencies=[Depends(_node_admin)])
@larger_body(SETTINGS_BODY_BYTES)
def save_settings(request: Request, form: Form) -> Response:
    """Save every field at once (one transaction): nothing changes when one is wrong.
    The form (and its CSRF token) is read after ``_node_admin`` passed."""
    web = web_of(request)
    translate = web.translate(request)
    typed = texts(form, *SETTINGS_TEXTS, *BBOX, "remove_logo")
    logo = _upload(form)
    try:
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            require_node_admin(person)
            data = TerritoryIn(**_settings_input(typed))
            territory_service.update_territory(session, person, data)
            if logo:
                territory_service.set_logo(session, person, logo)
            elif typed["remove_logo"] == "yes":
                territory_service.remove_logo(session, person)
    except ValidationError as error:
        errors = validation_errors(error, translate)
        return _settings(request, FormState(values=typed, errors=errors), _stored_logo(request))
    except DomainError as error:
        if error.status in PAGE_ERRORS:
            raise
        failed = domain_errors(error, translate)
        state = FormState(values=typed, errors=failed.errors, error=failed.error)
        return _settings(request, state, _stored_logo(request))
    except _BboxIncomplete:
        message = translate(N_("Give the four limits of the box, or none."))
        state = FormState(values=typed, errors={"bbox": message})
        return _settings(request, state, _stored_logo(request))
    flash(request, web.gettext(request, "The settings are saved."))
    return see_other("/admin/settings")


class _BboxIncomplete(Exception):
    """Some limits of the bounding box were given, not all four."""


def _upload(form: FormData) -> bytes:
    """The chosen logo file (at most one byte over the limit: enough to refuse it)."""
    upload = form.get("logo")
    if not isinstance(upload, UploadFile):
        return b""
    with upload.file:  # closed now: the spooled file is not left to the collector
        return upload.file.read(branding.MAX_LOGO_BYTES + 1)


def _settings_input(typed: dict[str, str]) -> dict[str, Any]:
    corners = [typed[name].replace(",", ".") for name in BBOX]
    if any(corners) and not all(corners):
        raise _BboxIncomplete
    return {
        "name": typed["name"],
        "node_name": optional(typed["node_name"]),
        "timezone": typed["timezone"],
        "default_language": typed["default_language"] or "fr",
        "bbox": corners if all(corners) else None,
        "communes": typed["communes"].replace(",", " ").split(),
        "primary_colour": optional(typed["primary_colour"]),
        "accent_colour": optional(typed["accent_colour"]),
    }


def _stored_logo(request: Request) -> str | None:
    with web_of(request).runtime.transaction() as session:
        found = territory_service.current(session)
        return logo_url(found.logo_sha256) if found is not None else None


def _settings(request: Request, form: FormState, logo: str | None) -> Response:
    values = {
        "form": form,
        "logo": logo,
        "languages": list(LANGUAGES.items()),
        "max_logo_kib": branding.MAX_LOGO_BYTES // 1024,
    }
    status = 422 if form.invalid else 200
    return web_of(request).render(request, "admin/settings.html", values, status=status)


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
