"""Validated input of the domain services (what forms, the API and the demo loader send).

Every rule a value must meet lives here, once: the API turns a failure into a 422 that
names the field, the services trust what passed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Self, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from node.models import (
    EventStatus,
    JoinMode,
    LegalForm,
    MembershipMode,
    OrganisationKind,
    ProjectStage,
)
from node.themes import THEMES, normalise_tags

MAX_DESCRIPTION = 20_000


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _no_control(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("control characters are not allowed")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _themes(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in THEMES]
    if unknown:
        raise ValueError(f"unknown theme {unknown[0]!r}; known: {', '.join(THEMES)}")
    return list(dict.fromkeys(values))


def _tags(values: list[str]) -> list[str]:
    return normalise_tags(values)


def _timezone(value: str) -> str:
    if value not in _zones():
        raise ValueError("unknown IANA time zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError("unknown IANA time zone") from error
    return value


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def _iso_datetime(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


#: Years a date-time may have. Wide enough for every event, narrow enough that reading a
#: naive time in a zone or converting to UTC never leaves the range of ``datetime``.
FIRST_YEAR, LAST_YEAR = 1970, 2199


def _moment_range(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _storable(value: Any) -> None:
    """Refuse NUL characters anywhere: no database stores them (PostgreSQL errors)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL characters are not allowed")
    elif isinstance(value, list | tuple | set):
        for item in value:
            _storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _storable(item)


def _siren(value: str) -> str:
    """SIREN: 9 digits whose Luhn checksum is valid (La Poste's 356000000 excepted)."""
    digits = value.replace(" ", "")
    if not re.fullmatch(r"\d{9}", digits):
        raise ValueError("a SIREN has 9 digits")
    if digits != "356000000" and not _luhn(digits):
        raise ValueError("invalid SIREN checksum")
    return digits


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        n = int(char) * (2 if index % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _rna(value: str) -> str:
    upper = value.upper().replace(" ", "")
    if not re.fullmatch(r"W\d[0-9A-Z]\d{7}", upper):
        raise ValueError("an RNA number looks like W595012345")
    return upper


Text = Annotated[str, BeforeValidator(_strip), AfterValidator(_no_control)]
Name = Annotated[Text, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]
Url = Annotated[str, BeforeValidator(_strip), Field(max_length=500), AfterValidator(_http_url)]
Themes = Annotated[list[str], Field(max_length=16), AfterValidator(_themes)]
Tags = Annotated[
    list[Annotated[str, Field(max_length=60)]], Field(max_length=30), AfterValidator(_tags)
]
TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_timezone)]
Moment = Annotated[datetime, BeforeValidator(_iso_datetime), AfterValidator(_moment_range)]
ObjectId = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]
#: ``origin`` filters: ``local`` or the host (and port) of a peer node.
ORIGIN_PATTERN = r"^[A-Za-z0-9.:\[\]-]+$"


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_DESCRIPTION)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        _storable(value)
        return value


class PlaceIn(Input):
    name: Annotated[Text, Field(max_length=200)] | None = None
    street: Annotated[Text, Field(max_length=300)] | None = None
    postal_code: Annotated[Text, Field(max_length=20, pattern=r"^[0-9A-Za-z -]*$")] | None = None
    city: Annotated[Text, Field(max_length=200)] | None = None
    country: Annotated[Text, Field(max_length=60)] | None = None
    latitude: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = Field(
        default=None, validate_default=True
    )

    @field_validator("longitude", mode="after")
    @classmethod
    def _coordinates_together(cls, value: float | None, info: ValidationInfo) -> float | None:
        if "latitude" in info.data and (info.data["latitude"] is None) != (value is None):
            raise ValueError("latitude and longitude go together")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if not (self.name or self.street or self.postal_code or self.city) and (
            self.latitude is None
        ):
            raise ValueError("a place needs an address, a city or coordinates")
        return self


class AccountIn(Input):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=8, max_length=256)
    name: Name
    locale: Annotated[str, Field(pattern=r"^(fr|en)$")] = "fr"


class LoginIn(Input):
    email: str = Field(max_length=320)
    password: str = Field(max_length=256)


class ProfileIn(Input):
    name: Name
    bio: Description = ""
    locale: Annotated[str, Field(pattern=r"^(fr|en)$")] = "fr"
    public_profile: bool = False
    #: the saved place ("near me" in search): left as it is when absent, cleared by null
    place: PlaceIn | None = None


class PasswordChangeIn(Input):
    current_password: str = Field(max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class OrganisationIn(Input):
    name: Name
    kind: OrganisationKind
    legal_form: LegalForm | None = None
    siren: Annotated[str, AfterValidator(_siren)] | None = None
    rna: Annotated[str, AfterValidator(_rna)] | None = None
    description: Description = ""
    website: Url | None = None
    email: EmailStr | None = None
    phone: Annotated[Text, Field(max_length=40, pattern=r"^[0-9+(). -]*$")] | None = None
    logo_url: Url | None = None
    themes: Themes = []
    tags: Tags = []
    place: PlaceIn | None = None
    join_mode: MembershipMode = Field(
        default=MembershipMode.restricted,
        description="How it takes members: `open` (whoever asks is a member at once), "
        "`restricted` (its admins accept each request) or `invite` (those its admins "
        "invite; a request waits for them). Other servers read it as Mobilizon's "
        "`openness` on the Group actor.",
    )


class EventIn(Input):
    name: Name
    organisation_id: ObjectId
    co_organiser_ids: Annotated[list[ObjectId], Field(max_length=10)] = []
    starts_at: Moment
    ends_at: Moment
    timezone: TimeZone | None = None
    description: Description = ""
    place: PlaceIn | None = None
    online_url: Url | None = Field(default=None, validate_default=True)
    capacity: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    join_mode: JoinMode = JoinMode.free
    external_participation_url: Url | None = Field(default=None, validate_default=True)
    status: EventStatus = EventStatus.confirmed
    themes: Themes = []
    tags: Tags = []

    # Field validators (not a model validator) so that the 422 names the field to fix;
    # each runs only when the field it depends on passed (it is then in ``info.data``).
    @field_validator("online_url", mode="after")
    @classmethod
    def _somewhere(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and "place" in info.data and info.data["place"] is None:
            raise ValueError("an event needs a place, an online_url, or both")
        return value

    @field_validator("external_participation_url", mode="after")
    @classmethod
    def _registration(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value and info.data.get("join_mode") == JoinMode.external:
            raise ValueError("join_mode 'external' needs an external_participation_url")
        return value


class ProjectIn(Input):
    name: Name
    organisation_id: ObjectId
    stage: ProjectStage = ProjectStage.idea
    description: Description = ""
    themes: Themes = []
    tags: Tags = []
    place: PlaceIn | None = None


def _optional(info: FieldInfo) -> Any:
    """The field's type with its constraints and validators, or ``None``."""
    annotation: Any = info.annotation
    if info.metadata:
        annotation = cast(Any, Annotated)[(annotation, *info.metadata)]
    return annotation | None


def partial(model: type[Input]) -> type[Input]:
    """The same fields, all optional: the body of a PATCH (merged, then validated whole).

    Each given field is checked on its own as in ``model`` (type, constraints, validators)
    so a PATCH accepts exactly what a POST would; rules across fields run on the merge.
    """
    fields: dict[str, Any] = {
        name: (_optional(info), Field(default=None, description=info.description))
        for name, info in model.model_fields.items()
    }
    return create_model(f"{model.__name__}Patch", __base__=Input, **fields)


OrganisationPatch = partial(OrganisationIn)
EventPatch = partial(EventIn)
ProjectPatch = partial(ProjectIn)
