"""Create and edit an organisation or a project (the same services as the API)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError

from node.api.ical import html_to_text
from node.api.representations import organisations_out, projects_out
from node.errors import DomainError
from node.models import (
    LegalForm,
    MembershipMode,
    Organisation,
    OrganisationKind,
    Project,
    ProjectStage,
)
from node.schemas import OrganisationIn, ProjectIn
from node.services import organisations as org_service
from node.services import projects as project_service
from node.services.common import get_live
from node.services.permissions import require_local, require_org_admin, require_project_editor
from web.app import flash
from web.forms import (
    PAGE_ERRORS,
    FormState,
    choices,
    domain_errors,
    optional,
    place_form_values,
    place_input,
    place_values,
    same_place,
    see_other,
    tags_of,
    text_to_html,
    texts,
    validation_errors,
)
from web.messages import N_
from web.pages.choices import administered_organisations
from web.pages.common import Form, check_id, page_router, signed_in, web_of

router = page_router()
ORG_TEXTS = ("name", "kind", "legal_form", "siren", "rna", "description", "website", "email",
             "phone", "tags", "join_mode")  # fmt: skip


# --- organisations -------------------------------------------------------------------


@router.get("/organisations/new")
def new_organisation(request: Request) -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        signed_in(request, session)
    form = FormState(values={"kind": "association", "join_mode": MembershipMode.restricted})
    return _org_form(request, form, None)


@router.post("/organisations/new")
def create_organisation(request: Request, form: Form) -> Response:
    web = web_of(request)
    typed = _org_typed(form)
    try:
        data = OrganisationIn(**_org_input(typed))
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            org = org_service.create_organisation(session, web.runtime.context, person, data)
            org_id = org.id
    except ValidationError as error:
        return _org_form(request, _invalid(typed, error, web.translate(request)), None)
    except DomainError as error:
        if error.status in (401, 403):
            raise
        return _org_form(request, _refused(typed, error, web.translate(request)), None)
    flash(request, web.gettext(request, "Your organisation's page is published."))
    return see_other(f"/organisations/{org_id}")


@router.get("/organisations/{organisation_id}/edit")
def edit_organisation(organisation_id: str, request: Request) -> Response:
    check_id(organisation_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        org = get_live(session, Organisation, organisation_id)
        require_local(org)
        require_org_admin(session, person, org.id)
        shown = organisations_out(session, [org])[0]
    values: dict[str, Any] = {
        name: getattr(shown, name) or "" for name in ORG_TEXTS if name not in ("tags",)
    }
    values.update(
        description=html_to_text(shown.description),
        tags=", ".join(shown.tags),
        themes=shown.themes,
        **place_form_values(shown.place),
    )
    values["place_before"] = place_form_values(shown.place)
    return _org_form(request, FormState(values=values), organisation_id)


@router.post("/organisations/{organisation_id}/edit")
def update_organisation(organisation_id: str, request: Request, form: Form) -> Response:
    check_id(organisation_id)
    web = web_of(request)
    typed = _org_typed(form)
    try:
        data = OrganisationIn(**_org_input(typed))
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            org = get_live(session, Organisation, organisation_id, lock=True)
            changed = not same_place(typed["place_before"], typed)
            org_service.update_organisation(
                session, web.runtime.context, person, org, data, changed
            )
    except ValidationError as error:
        state = _invalid(typed, error, web.translate(request))
        return _org_form(request, state, organisation_id)
    except DomainError as error:
        if error.status in PAGE_ERRORS:
            raise
        return _org_form(request, _refused(typed, error, web.translate(request)), organisation_id)
    flash(request, web.gettext(request, "Your changes are saved."))
    return see_other(f"/organisations/{organisation_id}")


def _before_names() -> list[str]:
    return [f"before.place.{n}" for n in ("name", "street", "postal_code", "city", "latitude",
                                          "longitude")]  # fmt: skip


def _org_typed(form: Any) -> dict[str, Any]:
    typed: dict[str, Any] = texts(form, *ORG_TEXTS) | place_values(form)
    typed["themes"] = choices(form, "themes")
    typed["place_before"] = {
        k.removeprefix("before."): v for k, v in texts(form, *_before_names()).items()
    }
    return typed


def _org_input(typed: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": typed["name"],
        "kind": typed["kind"],
        "legal_form": optional(typed["legal_form"]),
        "siren": optional(typed["siren"]),
        "rna": optional(typed["rna"]),
        "description": text_to_html(typed["description"]),
        "website": optional(typed["website"]),
        "email": optional(typed["email"]),
        "phone": optional(typed["phone"]),
        "themes": typed["themes"],
        "tags": tags_of(typed["tags"]),
        "place": place_input(typed),
        # a form without the choice (an older page) keeps the default
        **({"join_mode": typed["join_mode"]} if typed["join_mode"] else {}),
    }


def _org_form(request: Request, form: FormState, organisation_id: str | None) -> Response:
    web = web_of(request)
    translate = web.translate(request)
    values = {
        "form": form,
        "organisation_id": organisation_id,
        "kinds": [(k.value, translate(KIND_LABELS[k.value])) for k in OrganisationKind],
        "legal_forms": [(f.value, LEGAL_FORM_LABELS[f.value]) for f in LegalForm],
        "join_modes": [(m.value, translate(JOIN_MODE_LABELS[m.value])) for m in MembershipMode],
    }
    return web.render(
        request, "forms/organisation.html", values, status=422 if form.invalid else 200
    )


KIND_LABELS = {
    "association": N_("Association"),
    "cooperative": N_("Cooperative"),
    "social-enterprise": N_("Social enterprise"),
    "company": N_("Company"),
    "public-body": N_("Public body"),
    "informal-group": N_("Informal group"),
}
JOIN_MODE_LABELS = {
    "open": N_("Anyone who asks becomes a member"),
    "restricted": N_("The admins accept each request"),
    "invite": N_("Only the people the admins invite"),
}
LEGAL_FORM_LABELS = {
    "association-1901": "Association loi 1901",
    "scop": "SCOP",
    "scic": "SCIC",
    "cae": "CAE",
    "cooperative": "Coopérative",
    "mutuelle": "Mutuelle",
    "fondation": "Fondation",
    "sas-esus": "SAS ESUS",
    "sarl-esus": "SARL ESUS",
    "other": "Autre",
}


def _invalid(typed: dict[str, Any], error: ValidationError, translate: Any) -> FormState:
    return FormState(values=typed, errors=validation_errors(error, translate))


def _refused(typed: dict[str, Any], error: DomainError, translate: Any) -> FormState:
    failed = domain_errors(error, translate)
    return FormState(values=typed, errors=failed.errors, error=failed.error)


# --- projects --------------------------------------------------------------------------

PROJECT_TEXTS = ("name", "organisation_id", "stage", "description", "tags")


@router.get("/projects/new")
def new_project(request: Request, organisation_id: str = "") -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        signed_in(request, session)
    form = FormState(values={"organisation_id": organisation_id, "stage": "idea"})
    return _project_form(request, form, None)


@router.post("/projects/new")
def create_project(request: Request, form: Form) -> Response:
    web = web_of(request)
    typed = _project_typed(form)
    try:
        data = ProjectIn(**_project_input(typed))
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            project = project_service.create_project(session, web.runtime.context, person, data)
            project_id = project.id
    except ValidationError as error:
        return _project_form(request, _invalid(typed, error, web.translate(request)), None)
    except DomainError as error:
        if error.status == 401:
            raise
        return _project_form(request, _refused(typed, error, web.translate(request)), None)
    flash(request, web.gettext(request, "The project is published."))
    return see_other(f"/projects/{project_id}")


@router.get("/projects/{project_id}/edit")
def edit_project(project_id: str, request: Request) -> Response:
    check_id(project_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        project = get_live(session, Project, project_id)
        require_project_editor(session, person, project)
        shown = projects_out(session, [project])[0]
    values: dict[str, Any] = {
        "name": shown.name,
        "organisation_id": shown.organisation.id,
        "stage": shown.stage,
        "description": html_to_text(shown.description),
        "tags": ", ".join(shown.tags),
        "themes": shown.themes,
        **place_form_values(shown.place),
        "place_before": place_form_values(shown.place),
    }
    return _project_form(request, FormState(values=values), project_id)


@router.post("/projects/{project_id}/edit")
def update_project(project_id: str, request: Request, form: Form) -> Response:
    check_id(project_id)
    web = web_of(request)
    typed = _project_typed(form)
    try:
        data = ProjectIn(**_project_input(typed))
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            project = get_live(session, Project, project_id, lock=True)
            changed = not same_place(typed["place_before"], typed)
            project_service.update_project(
                session, web.runtime.context, person, project, data, changed
            )
    except ValidationError as error:
        return _project_form(request, _invalid(typed, error, web.translate(request)), project_id)
    except DomainError as error:
        if error.status in PAGE_ERRORS:
            raise
        return _project_form(request, _refused(typed, error, web.translate(request)), project_id)
    flash(request, web.gettext(request, "Your changes are saved."))
    return see_other(f"/projects/{project_id}")


def _project_typed(form: Any) -> dict[str, Any]:
    typed: dict[str, Any] = texts(form, *PROJECT_TEXTS) | place_values(form)
    typed["themes"] = choices(form, "themes")
    typed["place_before"] = {
        k.removeprefix("before."): v for k, v in texts(form, *_before_names()).items()
    }
    return typed


def _project_input(typed: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": typed["name"],
        "organisation_id": typed["organisation_id"],
        "stage": typed["stage"],
        "description": text_to_html(typed["description"]),
        "themes": typed["themes"],
        "tags": tags_of(typed["tags"]),
        "place": place_input(typed),
    }


def _project_form(request: Request, form: FormState, project_id: str | None) -> Response:
    web = web_of(request)
    translate = web.translate(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        organisations = administered_organisations(session, person)
    values = {
        "form": form,
        "project_id": project_id,
        "organisations": organisations,
        "stages": [(s.value, translate(STAGE_LABELS[s.value])) for s in ProjectStage],
    }
    return web.render(request, "forms/project.html", values, status=422 if form.invalid else 200)


STAGE_LABELS = {"idea": N_("Idea"), "launched": N_("Launched"), "mature": N_("Mature")}
