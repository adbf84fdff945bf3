"""Publish and edit an event (name, date, place first; details later), manage participants."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from node.api.ical import html_to_text
from node.api.representations import event_out
from node.errors import DomainError
from node.models import Event, JoinMode, Organisation, Participation, ParticipationState, Person
from node.schemas import EventIn
from node.services import events as service
from node.services.common import get_live
from node.services.permissions import require_event_editor
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
TEXTS = ("organisation_id", "name", "starts_on", "starts_time", "ends_on", "ends_time",
         "timezone", "online_url", "description", "tags", "capacity", "join_mode",
         "external_participation_url", "status", "co_organiser")  # fmt: skip
#: schema fields → the form field their error is shown next to
FIELD_OF = {"starts_at": "starts_on", "ends_at": "ends_time"}
JOIN_MODES = {
    "free": N_("Open: anyone registers"),
    "restricted": N_("On approval: the organisers accept each registration"),
    "external": N_("Elsewhere: on another site"),
}
STATUSES = {"confirmed": N_("Confirmed"), "tentative": N_("To be confirmed"),
            "cancelled": N_("Cancelled")}  # fmt: skip
#: the event service's refusals about co-organisers, translated where the form shows them
#: (the same words as ``node.services.events``: a test keeps them equal)
NODE_MESSAGES = (
    N_("only an organisation's admins may make it a co-organiser"),
    N_("only an organisation's admins may withdraw it from an event"),
    N_("no organisation found: give its name, @username or the address of its page"),
    N_("several organisations have this name: give the address of its page"),
)


@router.get("/events/new")
def new_event(request: Request, organisation_id: str = "") -> Response:
    web = web_of(request)
    with web.runtime.transaction() as session:
        signed_in(request, session)
    values = {
        "organisation_id": organisation_id,
        "timezone": web.territory().timezone,
        "starts_time": "18:00",
        "ends_time": "20:00",
        "join_mode": "free",
    }
    return _form(request, FormState(values=values), None)


@router.post("/events/new")
def create_event(request: Request, form: Form) -> Response:
    web = web_of(request)
    typed = _typed(form)
    try:
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            _add_named_co_organiser(request, session, typed)
            data = EventIn(**_input(typed, web.territory().timezone))
            event_id = service.create_event(session, web.runtime.context, person, data).id
    except ValidationError as error:
        return _form(request, _invalid(request, typed, error), None)
    except DomainError as error:
        if error.status == 401:
            raise
        return _form(request, _refused(request, typed, error), None)
    flash(request, web.gettext(request, "Your event is published."))
    return see_other(f"/events/{event_id}")


@router.get("/events/{event_id}/edit")
def edit_event(event_id: str, request: Request) -> Response:
    check_id(event_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        require_event_editor(session, person, get_live(session, Event, event_id))
        shown = event_out(session, event_id)
    zone = ZoneInfo(shown.timezone)
    start, end = shown.starts_at.astimezone(zone), shown.ends_at.astimezone(zone)
    values: dict[str, Any] = {
        "organisation_id": shown.organisation_id,
        "name": shown.name,
        "starts_on": start.date().isoformat(),
        "starts_time": start.strftime("%H:%M"),
        "ends_on": "" if end.date() == start.date() else end.date().isoformat(),
        "ends_time": end.strftime("%H:%M"),
        "timezone": shown.timezone,
        "online_url": shown.online_url or "",
        "description": html_to_text(shown.description),
        "tags": ", ".join(shown.tags),
        "themes": shown.themes,
        "capacity": "" if shown.capacity is None else str(shown.capacity),
        "join_mode": shown.join_mode,
        "external_participation_url": shown.external_participation_url or "",
        "status": shown.status,
        "co_organiser_ids": [o.id for o in shown.organisers[1:]],
        **place_form_values(shown.place),
        "place_before": place_form_values(shown.place),
    }
    return _form(request, FormState(values=values), event_id)


@router.post("/events/{event_id}/edit")
def update_event(event_id: str, request: Request, form: Form) -> Response:
    check_id(event_id)
    web = web_of(request)
    typed = _typed(form)
    try:
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            event = get_live(session, Event, event_id, lock=True)
            require_event_editor(session, person, event)
            _add_named_co_organiser(request, session, typed)
            data = EventIn(**_input(typed, web.territory().timezone))
            changed = not same_place(typed["place_before"], typed)
            service.update_event(session, web.runtime.context, person, event, data, changed)
    except ValidationError as error:
        return _form(request, _invalid(request, typed, error), event_id)
    except DomainError as error:
        # a co-organiser the person may not add or withdraw is shown on the form
        if error.status in PAGE_ERRORS and not error.fields:
            raise
        return _form(request, _refused(request, typed, error), event_id)
    flash(request, web.gettext(request, "Your changes are saved."))
    return see_other(f"/events/{event_id}")


@router.post("/events/{event_id}/delete")
def delete_event(event_id: str, request: Request, form: Form) -> Response:
    check_id(event_id)
    web = web_of(request)
    if form.get("confirm") != "yes":
        flash(request, web.gettext(request, "Tick the box to confirm the deletion."))
        return see_other(f"/events/{event_id}/edit")
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        event = get_live(session, Event, event_id)
        organisation_id = event.organisation_id
        service.delete_event(session, web.runtime.context, person, event)
    flash(request, web.gettext(request, "The event was deleted."))
    return see_other(f"/organisations/{organisation_id}")


@router.get("/events/{event_id}/participants")
def participants(event_id: str, request: Request) -> Response:
    """Who registered, for the organisers: accept or decline each registration."""
    check_id(event_id)
    web = web_of(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        require_event_editor(session, person, get_live(session, Event, event_id))
        shown = event_out(session, event_id)
        rows = session.execute(
            select(Participation, Person)
            .join(Person, col(Person.id) == col(Participation.person_id))
            .where(col(Participation.event_id) == event_id)
            .order_by(col(Participation.created))
        ).all()
        people = [
            {"id": p.id, "name": p.name, "state": r.state, "registered": r.created}
            for r, p in rows
        ]
    return web.render(request, "forms/participants.html", {"event": shown, "people": people})


@router.post("/events/{event_id}/participants/{person_id}")
def decide(event_id: str, person_id: str, request: Request, form: Form) -> Response:
    check_id(event_id)
    check_id(person_id)
    web = web_of(request)
    state = ParticipationState.rejected
    if form.get("state") == "going":
        state = ParticipationState.going
    try:
        with web.runtime.transaction() as session:
            person = signed_in(request, session)
            event = get_live(session, Event, event_id)
            # with the node's context, like the API: a person of another node is told
            # the answer (Accept or Reject of their Join)
            service.decide_participation(
                session, person, event, person_id, state, web.runtime.context
            )
        flash(request, web.gettext(request, "The registration is updated."))
    except DomainError as error:
        if error.status in (401, 403):
            raise
        flash(request, web.gettext(request, error.message))
    return see_other(f"/events/{event_id}/participants")


def _typed(form: Any) -> dict[str, Any]:
    typed: dict[str, Any] = texts(form, *TEXTS) | place_values(form)
    typed["themes"] = choices(form, "themes")
    typed["co_organiser_ids"] = choices(form, "co_organiser_ids")
    before = texts(form, *(f"before.place.{n}" for n in PLACE_NAMES))
    typed["place_before"] = {k.removeprefix("before."): v for k, v in before.items()}
    return typed


PLACE_NAMES = ("name", "street", "postal_code", "city", "latitude", "longitude")


def _add_named_co_organiser(request: Request, session: Session, typed: dict[str, Any]) -> None:
    """The organisation typed in "add a co-organiser" joins the ticked ones (then shown
    ticked, should the form come back); 422 on that field when none or several match."""
    if not typed["co_organiser"]:
        return
    org = service.find_organisation(session, typed["co_organiser"], web_of(request).runtime.urls)
    if org.id not in typed["co_organiser_ids"] and org.id != typed["organisation_id"]:
        typed["co_organiser_ids"].append(org.id)
    typed["co_organiser"] = ""


def _moment(day: str, clock: str) -> str:
    """``2030-05-16`` and ``14:00`` as a naive ISO date-time (read in the event's zone)."""
    if not day or not clock:
        return ""
    try:
        moment = datetime.combine(date.fromisoformat(day), datetime.strptime(clock, "%H:%M").time())
    except ValueError:
        return f"{day}T{clock}"  # not a date: the schema says so, next to the field
    return moment.isoformat()


def _input(typed: dict[str, Any], default_zone: str) -> dict[str, Any]:
    return {
        "name": typed["name"],
        "organisation_id": typed["organisation_id"],
        "co_organiser_ids": typed["co_organiser_ids"],
        "starts_at": _moment(typed["starts_on"], typed["starts_time"]),
        "ends_at": _moment(typed["ends_on"] or typed["starts_on"], typed["ends_time"]),
        "timezone": typed["timezone"] or default_zone,
        "description": text_to_html(typed["description"]),
        "place": place_input(typed),
        "online_url": optional(typed["online_url"]),
        "capacity": optional(typed["capacity"]),
        "join_mode": typed["join_mode"] or JoinMode.free.value,
        "external_participation_url": optional(typed["external_participation_url"]),
        "status": typed["status"] or "confirmed",
        "themes": typed["themes"],
        "tags": tags_of(typed["tags"]),
    }


def _invalid(request: Request, typed: dict[str, Any], error: ValidationError) -> FormState:
    translate = web_of(request).translate(request)
    errors = validation_errors(error, translate, FIELD_OF)
    if "online_url" in errors and not typed["online_url"] and place_input(typed) is None:
        errors["place"] = errors.pop("online_url")  # "a place, an online link, or both"
    return FormState(values=typed, errors=errors)


def _refused(request: Request, typed: dict[str, Any], error: DomainError) -> FormState:
    failed = domain_errors(error, web_of(request).translate(request))
    errors = {FIELD_OF.get(k, k): v for k, v in failed.errors.items()}
    return FormState(values=typed, errors=errors, error=failed.error)


def _form(request: Request, form: FormState, event_id: str | None) -> Response:
    web = web_of(request)
    translate = web.translate(request)
    with web.runtime.transaction() as session:
        person = signed_in(request, session)
        organisations = administered_organisations(session, person)
        co_organisers = _co_organiser_choices(session, form, organisations)
    values = {
        "form": form,
        "event_id": event_id,
        "organisations": organisations,
        "co_organisers": co_organisers,
        "join_modes": [(k, translate(v)) for k, v in JOIN_MODES.items()],
        "statuses": [(k, translate(v)) for k, v in STATUSES.items()],
    }
    return web.render(request, "forms/event.html", values, status=422 if form.invalid else 200)


def _co_organiser_choices(
    session: Session, form: FormState, administered: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The co-organisers to tick: the chosen ones (in their order), then the other
    organisations this person administers. Another node's shows its origin."""
    chosen = [str(i) for i in form.get("co_organiser_ids", [])]
    rows = session.execute(
        select(col(Organisation.id), col(Organisation.name), col(Organisation.origin)).where(
            col(Organisation.id).in_(chosen), col(Organisation.deleted_at).is_(None)
        )
    ).all()
    named = {str(i): f"{n} ({o})" if o else str(n) for i, n, o in rows}
    main = form.get("organisation_id")
    options = [(i, named[i]) for i in chosen if i in named]
    options += [(i, n) for i, n in administered if i not in named and i != main]
    return options
