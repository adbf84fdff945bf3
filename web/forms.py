"""Forms: read what was typed, validate it with the node's schemas, say what is wrong.

A form that fails is shown again with what the person typed and each error next to
its field. Errors come from the node's own rules: a pydantic ``ValidationError`` of
``node.schemas`` or a ``node.errors.DomainError`` a service raised (its ``fields``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import RedirectResponse
from markupsafe import escape
from pydantic import ValidationError
from starlette.datastructures import FormData

from node.errors import DomainError
from web.messages import N_

Translate = Callable[..., str]

#: pydantic error types → message ids (with the error's context as variables)
_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Please enter at least %(min_length)s characters."),
    "string_too_long": N_("Please enter at most %(max_length)s characters."),
    "too_short": N_("Please choose at least %(min_length)s."),
    "too_long": N_("Please choose at most %(max_length)s."),
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "greater_than": N_("Must be more than %(gt)s."),
    "less_than": N_("Must be less than %(lt)s."),
    "int_parsing": N_("Please enter a whole number."),
    "int_from_float": N_("Please enter a whole number."),
    "float_parsing": N_("Please enter a number."),
    "finite_number": N_("Please enter a number."),
    "enum": N_("Please choose one of the proposed values."),
    "literal_error": N_("Please choose one of the proposed values."),
    "datetime_parsing": N_("Please enter a date and a time."),
    "datetime_from_date_parsing": N_("Please enter a date and a time."),
    "datetime_type": N_("Please enter a date and a time."),
    "string_pattern_mismatch": N_("This value has not the expected form."),
    "value_error": "%(reason)s",
    "assertion_error": "%(reason)s",
}


@dataclass
class FormState:
    """What a form shows: the values typed, the error of each field, a general error."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def get(self, name: str, default: Any = "") -> Any:
        value = self.values.get(name)
        return default if value is None else value

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.error)


def texts(form: FormData, *names: str) -> dict[str, str]:
    """The named text fields, stripped ("" when absent)."""
    out: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip() if isinstance(value, str) else ""
    return out


def choices(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def optional(value: str) -> str | None:
    return value or None


def validation_errors(
    error: ValidationError, translate: Translate, prefix_map: dict[str, str] | None = None
) -> dict[str, str]:
    """One translated message per field (the first), under the form's field names.

    ``loc`` ``("place", "city")`` becomes ``place.city``; a rule on a whole object (a
    model validator) is reported on the object's name (``place``). ``prefix_map``
    renames schema fields to form fields (``starts_at`` → ``starts_on``).
    """
    found: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item.get("loc", ()) if not isinstance(part, int))
        name = (prefix_map or {}).get(name, name) or "form"
        if name in found:
            continue
        found[name] = _message(item, translate)
    return found


def _message(item: Any, translate: Translate) -> str:
    kind = str(item.get("type", ""))
    context = dict(item.get("ctx") or {})
    template = _MESSAGES.get(kind)
    if kind in ("value_error", "assertion_error") or template is None:
        reason = str(item.get("msg", "")).removeprefix("Value error, ")
        return translate(reason)
    try:
        return translate(template, **{k: str(v) for k, v in context.items()})
    except (KeyError, ValueError):
        return translate(str(item.get("msg", "")))


#: Refusals a form cannot show next to a field: the error pages answer them (sign in,
#: forbidden, not found, gone).
PAGE_ERRORS = frozenset({401, 403, 404, 410})


def domain_errors(error: DomainError, translate: Translate) -> FormState:
    """A service's refusal as form errors: its fields if it named some, else general."""
    if error.fields:
        return FormState(errors={k: translate(v) for k, v in error.fields.items()})
    return FormState(error=translate(error.message))


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go on to after a form (never another site)."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 32 for c in value):
        return default
    return value


def see_other(url: str) -> RedirectResponse:
    """After a successful POST: go to a page with GET (303)."""
    return RedirectResponse(url, status_code=303)


PLACE_FIELDS = ("name", "street", "postal_code", "city", "latitude", "longitude")


def place_values(form: FormData) -> dict[str, str]:
    """The place fields as typed (``place.city``…)."""
    return texts(form, *(f"place.{name}" for name in PLACE_FIELDS))


def place_input(values: dict[str, str]) -> dict[str, Any] | None:
    """The place for the schema (``PlaceIn``), or ``None`` when every field is empty."""
    given = {name: values.get(f"place.{name}", "") for name in PLACE_FIELDS}
    if not any(given.values()):
        return None
    return {name: (value or None) for name, value in given.items()}


def place_form_values(place: Any) -> dict[str, str]:
    """A stored place (``PlaceOut``) as form values. Coordinates are shown only when they
    were given (``exact``): geocoded ones are recomputed when the address changes."""
    if place is None:
        return {}
    out: dict[str, str] = {}
    for name in PLACE_FIELDS:
        value = getattr(place, name, None)
        if name in ("latitude", "longitude") and getattr(place, "precision", "") != "exact":
            value = None
        out[f"place.{name}"] = "" if value is None else str(value)
    return out


def tags_of(text: str) -> list[str]:
    """Tags typed as ``vélo, réemploi #zéro-déchet`` (commas or spaces)."""
    return [t for t in text.replace(",", " ").split() if t][:30]


def text_to_html(text: str) -> str:
    """Plain text typed in a form as paragraphs (escaped; the services sanitise anyway)."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join("<p>" + str(escape(p)).replace("\n", "<br>") + "</p>" for p in paragraphs)


def same_place(before: dict[str, str], after: dict[str, str]) -> bool:
    """Whether a form left the place as it showed it (then it is not geocoded again)."""
    return all(
        before.get(f"place.{name}", "").strip() == after.get(f"place.{name}", "").strip()
        for name in PLACE_FIELDS
    )
