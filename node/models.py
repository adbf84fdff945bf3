"""The node's tables. Models are data: behaviour lives in ``node/services``.

Every federated object (person, organisation, event, project) carries ``ap_id`` — its
canonical URL and future ActivityPub id, built by :mod:`node.urls` for local objects —
and ``origin``: ``None`` for local objects, the origin host for remote ones (which are
never edited locally). Deleted objects keep their row with ``deleted_at`` set so that
their URL answers 410 Gone.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from node.dbtypes import UTCDateTime, utcnow
from node.ids import new_id


class OrganisationKind(StrEnum):
    association = "association"
    cooperative = "cooperative"
    social_enterprise = "social-enterprise"
    company = "company"
    public_body = "public-body"
    informal_group = "informal-group"


class LegalForm(StrEnum):
    association_1901 = "association-1901"
    scop = "scop"
    scic = "scic"
    cae = "cae"
    cooperative = "cooperative"
    mutuelle = "mutuelle"
    fondation = "fondation"
    sas_esus = "sas-esus"
    sarl_esus = "sarl-esus"
    other = "other"


class JoinMode(StrEnum):
    free = "free"
    restricted = "restricted"
    external = "external"


class EventStatus(StrEnum):
    confirmed = "confirmed"
    tentative = "tentative"
    cancelled = "cancelled"


class ProjectStage(StrEnum):
    idea = "idea"
    launched = "launched"
    mature = "mature"


class Role(StrEnum):
    admin = "admin"
    member = "member"


class MembershipState(StrEnum):
    pending = "pending"
    invited = "invited"
    accepted = "accepted"


class MembershipMode(StrEnum):
    """How an organisation takes members: anyone who asks (``open``), or those its admins
    accept (``restricted``) or invited (``invite``: a request still waits for them)."""

    open = "open"
    restricted = "restricted"
    invite = "invite"


class FollowState(StrEnum):
    """A follow of a remote organisation waits for its server's ``Accept``."""

    pending = "pending"
    accepted = "accepted"


class ParticipationState(StrEnum):
    going = "going"
    pending = "pending"
    rejected = "rejected"


class JobState(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


def _now_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Stored(SQLModel):
    """Fields every federated object has."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    ap_id: str = Field(unique=True, index=True, max_length=500)
    origin: str | None = Field(default=None, index=True, max_length=255)
    created: datetime = _now_field()
    updated: datetime = _now_field()
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_local(self) -> bool:
        return self.origin is None


class Territory(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    slug: str = Field(unique=True, max_length=100)
    timezone: str = Field(max_length=64)
    default_language: str = Field(default="fr", max_length=8)
    min_lat: float | None = None
    min_lon: float | None = None
    max_lat: float | None = None
    max_lon: float | None = None
    communes: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    #: the node's name in its pages (the territory's name when unset)
    node_name: str | None = Field(default=None, max_length=200)
    #: ``#rrggbb``: buttons and links (white text on it), the header's marks
    primary_colour: str | None = Field(default=None, max_length=7)
    accent_colour: str | None = Field(default=None, max_length=7)
    #: the logo's media type and SHA-256 (its bytes are in ``territorylogo``)
    logo_type: str | None = Field(default=None, max_length=32)
    logo_sha256: str | None = Field(default=None, max_length=64)
    created: datetime = _now_field()
    updated: datetime = _now_field()


class TerritoryLogo(SQLModel, table=True):
    """The node's logo, base64 text: kept apart so that reading the territory stays
    small, in the database so that every process serves it and backups carry it."""

    territory_id: str = Field(foreign_key="territory.id", primary_key=True, max_length=36)
    data: str
    created: datetime = _now_field()


class Place(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str | None = Field(default=None, max_length=200)
    street: str | None = Field(default=None, max_length=300)
    postal_code: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=200)
    insee_code: str | None = Field(default=None, max_length=10, index=True)
    country: str | None = Field(default=None, max_length=60)
    latitude: float | None = None
    longitude: float | None = None
    precision: str = Field(default="none", max_length=10)


class Person(Stored, table=True):
    username: str = Field(unique=True, index=True, max_length=255)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, unique=True, max_length=320)
    password_hash: str | None = Field(default=None, max_length=255)
    bio: str = Field(default="")
    locale: str = Field(default="fr", max_length=8)
    public_profile: bool = Field(default=False)
    is_admin: bool = Field(default=False)
    inbox: str | None = Field(default=None, max_length=500)
    shared_inbox: str | None = Field(default=None, max_length=500)
    #: the person's saved place ("near me" when they give no point)
    place_id: str | None = Field(default=None, foreign_key="place.id", max_length=36)


class Token(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=36)
    token_hash: str = Field(unique=True, max_length=64)
    created: datetime = _now_field()
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Organisation(Stored, table=True):
    username: str = Field(unique=True, index=True, max_length=255)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    legal_form: str | None = Field(default=None, max_length=32)
    siren: str | None = Field(default=None, max_length=9)
    rna: str | None = Field(default=None, max_length=10)
    description: str = Field(default="")
    website: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    logo_url: str | None = Field(default=None, max_length=500)
    themes: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    tags: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    place_id: str | None = Field(default=None, foreign_key="place.id", max_length=36)
    #: a :class:`MembershipMode`
    join_mode: str = Field(default=MembershipMode.restricted, max_length=16)


class Event(Stored, table=True):
    __table_args__ = (Index("ix_event_starts", "starts_at", "id"),)

    name: str = Field(max_length=200)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=36)
    description: str = Field(default="")
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    timezone: str = Field(max_length=64)
    place_id: str | None = Field(default=None, foreign_key="place.id", max_length=36)
    online_url: str | None = Field(default=None, max_length=500)
    capacity: int | None = None
    join_mode: str = Field(default="free", max_length=16)
    external_participation_url: str | None = Field(default=None, max_length=500)
    status: str = Field(default="confirmed", max_length=16)
    themes: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    tags: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class EventOrganiser(SQLModel, table=True):
    """Every organiser of an event, the main one (``Event.organisation_id``) included."""

    event_id: str = Field(foreign_key="event.id", primary_key=True, max_length=36)
    organisation_id: str = Field(
        foreign_key="organisation.id", primary_key=True, index=True, max_length=36
    )
    position: int = 0


class Project(Stored, table=True):
    name: str = Field(max_length=200)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=36)
    stage: str = Field(default="idea", max_length=16)
    description: str = Field(default="")
    themes: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    tags: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    place_id: str | None = Field(default=None, foreign_key="place.id", max_length=36)


class Label(SQLModel, table=True):
    """Themes and tags of an object, one row each, for filtering lists."""

    __table_args__ = (Index("ix_label_value", "kind", "value", "entity_type", "entity_id"),)

    entity_type: str = Field(primary_key=True, max_length=16)
    entity_id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(primary_key=True, max_length=8)
    value: str = Field(primary_key=True, max_length=64)


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organisation_id", "person_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=36)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=36)
    role: str = Field(default="member", max_length=16)
    state: str = Field(default="pending", max_length=16)
    #: the ActivityPub ``Join`` of a person of another node, answered when decided
    activity_id: str | None = Field(default=None, max_length=500)
    created: datetime = _now_field()
    updated: datetime = _now_field()


class Follow(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("person_id", "organisation_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=36)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=36)
    #: a :class:`FollowState`: ``pending`` until a remote organisation accepts
    state: str = Field(default=FollowState.accepted, max_length=16)
    #: our ``Follow`` activity, for a remote organisation (its ``Accept`` names it)
    activity_id: str | None = Field(default=None, index=True, max_length=500)
    created: datetime = _now_field()


class Participation(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    event_id: str = Field(foreign_key="event.id", index=True, max_length=36)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=36)
    state: str = Field(default="going", max_length=16)
    #: the ActivityPub ``Join`` behind a federated registration (ours or a peer's)
    activity_id: str | None = Field(default=None, max_length=500)
    created: datetime = _now_field()
    updated: datetime = _now_field()


class Contribution(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "person_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=36)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=36)
    role: str = Field(default="member", max_length=16)
    state: str = Field(default="pending", max_length=16)
    created: datetime = _now_field()
    updated: datetime = _now_field()


class Activity(SQLModel, table=True):
    """The outbox log: every public change, in order (``seq`` is the changes cursor)."""

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(default_factory=new_id, unique=True, max_length=36)
    ap_id: str = Field(unique=True, max_length=500)
    type: str = Field(max_length=32)
    actor: str = Field(max_length=500)
    object_type: str = Field(max_length=32)
    object_id: str = Field(index=True, max_length=36)
    object_url: str = Field(max_length=500)
    public: bool = Field(default=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    created: datetime = _now_field()


class Job(SQLModel, table=True):
    """A durable unit of background work (see ``node/jobs.py``)."""

    __table_args__ = (
        Index("ix_job_claim", "state", "kind", "next_attempt_at"),
        Index("ix_job_key", "kind", "key", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    key: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    max_attempts: int = 16
    next_attempt_at: datetime = _now_field()
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_by: str | None = Field(default=None, max_length=64)
    last_error: str | None = None
    created: datetime = _now_field()
    updated: datetime = _now_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- federation ------------------------------------------------------------------------
# Stored by the node (one database, one transaction); read and written by ``federation``.


class ActorKey(SQLModel, table=True):
    """A local actor's RSA key pair; the private half encrypted with the node secret."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    actor: str = Field(index=True, max_length=500)
    key_id: str = Field(unique=True, max_length=520)
    public_pem: str
    private_pem: str
    created: datetime = _now_field()
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RemoteActor(SQLModel, table=True):
    """What we know of a peer's actor: where to deliver, how to verify it."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    ap_id: str = Field(unique=True, max_length=500)
    type: str = Field(max_length=32)
    domain: str = Field(index=True, max_length=255)
    username: str | None = Field(default=None, max_length=255)
    inbox: str = Field(max_length=500)
    shared_inbox: str | None = Field(default=None, max_length=500)
    outbox: str | None = Field(default=None, max_length=500)
    followers: str | None = Field(default=None, max_length=500)
    key_id: str | None = Field(default=None, index=True, max_length=520)
    public_key_pem: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    fetched_at: datetime = _now_field()


class Follower(SQLModel, table=True):
    """A remote actor following one of our actors (a group, a person, the node)."""

    __table_args__ = (UniqueConstraint("actor", "follower"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    actor: str = Field(index=True, max_length=500)
    follower: str = Field(index=True, max_length=500)
    inbox: str = Field(max_length=500)
    follow_id: str | None = Field(default=None, max_length=500)
    created: datetime = _now_field()


class Peer(SQLModel, table=True):
    """Another server, by domain: our policy towards it and the state of our links."""

    domain: str = Field(primary_key=True, max_length=255)
    #: ``none`` (open federation applies), ``allowed`` or ``blocked``
    policy: str = Field(default="none", max_length=16)
    actor: str | None = Field(default=None, max_length=500)
    inbox: str | None = Field(default=None, max_length=500)
    outbox: str | None = Field(default=None, max_length=500)
    #: our node's follow of theirs: ``none``, ``pending``, ``accepted``
    following: str = Field(default="none", max_length=16)
    follow_id: str | None = Field(default=None, max_length=500)
    software: str | None = Field(default=None, max_length=64)
    #: distinct UTC days with failed deliveries since the last success
    failure_days: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    unavailable_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created: datetime = _now_field()
    updated: datetime = _now_field()


class InboxState(SQLModel, table=True):
    """Delivery health of one inbox: the circuit breaker and the last outcome."""

    inbox: str = Field(primary_key=True, max_length=500)
    domain: str = Field(index=True, max_length=255)
    failures: int = 0
    open_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: int | None = None
    last_error: str | None = None
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class InboxItem(SQLModel, table=True):
    """An activity received, persisted before handling (idempotent on its id)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    activity_id: str = Field(unique=True, max_length=500)
    actor: str = Field(max_length=500)
    domain: str = Field(index=True, max_length=255)
    type: str = Field(max_length=32)
    object_type: str | None = Field(default=None, max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    #: SHA-256 of the signature it came with: the same signature again is a replay
    signature: str | None = Field(default=None, max_length=64)
    #: ``pending``, ``done``, ``ignored`` (no handler or nothing to do), ``failed``
    state: str = Field(default="pending", max_length=16)
    note: str | None = None
    received: datetime = _now_field()
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Report(SQLModel, table=True):
    """A report (ActivityPub ``Flag`` or a local one) for the node's moderators."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    reporter: str = Field(max_length=500)
    targets: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    content: str = Field(default="")
    domain: str | None = Field(default=None, max_length=255)
    state: str = Field(default="open", max_length=16)
    created: datetime = _now_field()
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=36)
