"""Hostile and malformed requests (issue 2): every one is answered with a JSON 4xx error
and none changes anything — not a row, not the changes feed, not an object's answer."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlmodel import SQLModel

from node.runtime import Runtime
from tests.conftest import World

UNKNOWN_ID = "01890000-0000-7000-8000-000000000000"
SQL = "' OR 1=1 --"
UNSET: Any = object()


@dataclass(frozen=True)
class Scene:
    """Two people, A's organisation with an event and a project, B's organisation."""

    a: dict[str, str]
    b: dict[str, str]
    a_email: str
    org: str
    org_b: str
    event: str
    project: str
    gone: str  # a deleted event

    def headers(self, auth: str) -> dict[str, str]:
        return {
            "none": {},
            "a": World.auth(self.a),
            "b": World.auth(self.b),
            "garbage": {"Authorization": "Bearer not-a-token"},
            "long": {"Authorization": "Bearer " + "x" * 300},
            "basic": {"Authorization": "Basic YTpi"},
            "empty": {"Authorization": "Bearer "},
        }[auth]

    def fill(self, text: str) -> str:
        return text.format(
            org=self.org,
            org_b=self.org_b,
            event=self.event,
            project=self.project,
            gone=self.gone,
            a=self.a["id"],
            b=self.b["id"],
            a_email=self.a_email,
        )


@pytest.fixture
def scene(client: TestClient, world: World) -> Scene:
    a = world.account("Alice")
    b = world.account("Bruno")
    org = world.organisation(a)
    org_b = world.organisation(b, name="Les Jardins de Bruno", themes=["food"])
    event = world.event(a, org["id"], capacity=10)
    gone = world.event(a, org["id"], name="Annulé")
    deleted = client.delete(f"/api/v1/events/{gone['id']}", headers=World.auth(a))
    assert deleted.status_code == 204, deleted.text
    project = client.post(
        "/api/v1/projects",
        json={"name": "Atelier vélo", "organisation_id": org["id"], "themes": ["mobility"]},
        headers=World.auth(a),
    )
    assert project.status_code == 201, project.text
    me = client.get("/api/v1/me", headers=World.auth(a)).json()
    return Scene(
        a=a,
        b=b,
        a_email=me["email"],
        org=org["id"],
        org_b=org_b["id"],
        event=event["id"],
        project=project.json()["id"],
        gone=gone["id"],
    )


# --- bodies that would be accepted, to spoil one field at a time ------------------------

ORG = {"name": "Le Fablab", "kind": "association", "themes": ["digital"]}
EVENT = {
    "name": "Café réparation",
    "organisation_id": "{org}",
    "starts_at": "2031-03-01T14:00:00",
    "ends_at": "2031-03-01T18:00:00",
    "timezone": "Europe/Paris",
    "place": {"city": "Lille"},
}
PROJECT = {"name": "Compost partagé", "organisation_id": "{org}"}
ACCOUNT = {"email": "new@lille.example", "password": "correct horse", "name": "Nouveau"}


def cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def big_chunks() -> Iterator[bytes]:
    """2 MB without a Content-Length (chunked transfer encoding)."""
    for _ in range(20):
        yield b" " * 100_000


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    status: int
    auth: str = "a"
    json: Any = UNSET
    content: Any = None  # raw bytes (or an iterator of chunks), sent as is
    content_type: str | None = "application/json"
    params: dict[str, Any] = field(default_factory=dict)
    field: str | None = None  # for a 422: the field ``error.fields`` must name


def body(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``base`` with fields replaced; a value of UNSET removes the field."""
    merged = {**base, **changes}
    return {k: v for k, v in merged.items() if v is not UNSET}


def org(**changes: Any) -> dict[str, Any]:
    return body(ORG, **changes)


def event(**changes: Any) -> dict[str, Any]:
    return body(EVENT, **changes)


def project(**changes: Any) -> dict[str, Any]:
    return body(PROJECT, **changes)


def account(**changes: Any) -> dict[str, Any]:
    return body(ACCOUNT, **changes)


V1 = "/api/v1"
ORGS, EVENTS, PROJECTS = f"{V1}/organisations", f"{V1}/events", f"{V1}/projects"
LONG = "a" * 300
HUGE = "x" * 10_000

CASES: list[Case] = [
    # --- accounts and tokens ------------------------------------------------------------
    Case("register-bad-email", "POST", f"{V1}/accounts", 422, "none",
         account(email="not-an-email"), field="email"),
    Case("register-email-sql", "POST", f"{V1}/accounts", 422, "none",
         account(email=SQL), field="email"),
    Case("register-email-nul", "POST", f"{V1}/accounts", 422, "none",
         account(email="a\x00b@lille.example"), field="email"),
    Case("register-email-huge", "POST", f"{V1}/accounts", 422, "none",
         account(email="a" * 400 + "@lille.example"), field="email"),
    Case("register-short-password", "POST", f"{V1}/accounts", 422, "none",
         account(password="short"), field="password"),
    Case("register-password-type", "POST", f"{V1}/accounts", 422, "none",
         account(password=12345678), field="password"),
    Case("register-huge-name", "POST", f"{V1}/accounts", 422, "none",
         account(name=HUGE), field="name"),
    Case("register-name-int", "POST", f"{V1}/accounts", 422, "none",
         account(name=42), field="name"),
    Case("register-name-blank", "POST", f"{V1}/accounts", 422, "none",
         account(name="   "), field="name"),
    Case("register-extra-is-admin", "POST", f"{V1}/accounts", 422, "none",
         account(is_admin=True), field="is_admin"),
    Case("register-locale", "POST", f"{V1}/accounts", 422, "none",
         account(locale="de"), field="locale"),
    Case("register-duplicate-email", "POST", f"{V1}/accounts", 409, "none",
         account(email="{a_email}")),
    Case("register-array", "POST", f"{V1}/accounts", 422, "none", [ACCOUNT], field="body"),
    Case("register-empty-body", "POST", f"{V1}/accounts", 422, "none", content=b"",
         field="body"),
    Case("register-malformed", "POST", f"{V1}/accounts", 400, "none",
         content=b'{"email": "x@y.fr", "password":'),
    Case("login-wrong-password", "POST", f"{V1}/tokens", 401, "none",
         {"email": "{a_email}", "password": "wrong password"}),
    Case("login-sql-email", "POST", f"{V1}/tokens", 401, "none",
         {"email": SQL, "password": SQL}),
    Case("login-password-list", "POST", f"{V1}/tokens", 422, "none",
         {"email": "{a_email}", "password": ["correct horse"]}, field="password"),
    Case("login-huge-password", "POST", f"{V1}/tokens", 422, "none",
         {"email": "{a_email}", "password": HUGE}, field="password"),
    Case("login-nul-email", "POST", f"{V1}/tokens", 422, "none",
         {"email": "\x00", "password": "x"}, field="email"),
    Case("me-anonymous", "GET", f"{V1}/me", 401, "none"),
    Case("me-garbage-token", "GET", f"{V1}/me", 401, "garbage"),
    Case("me-long-token", "GET", f"{V1}/me", 401, "long"),
    Case("me-basic-scheme", "GET", f"{V1}/me", 401, "basic"),
    Case("me-empty-bearer", "GET", f"{V1}/me", 401, "empty"),
    Case("me-update-anonymous", "PUT", f"{V1}/me", 401, "none", {"name": "Mallory"}),
    Case("me-update-blank-name", "PUT", f"{V1}/me", 422, "a", {"name": ""}, field="name"),
    Case("me-update-bio-nul", "PUT", f"{V1}/me", 422, "a", {"name": "A", "bio": "\x00"},
         field="bio"),
    Case("password-wrong-current", "POST", f"{V1}/me/password", 422, "a",
         {"current_password": "nope nope", "new_password": "a new password"},
         field="current_password"),
    Case("password-new-too-short", "POST", f"{V1}/me/password", 422, "a",
         {"current_password": "correct horse", "new_password": "short"},
         field="new_password"),
    Case("logout-anonymous", "DELETE", f"{V1}/tokens/current", 401, "none"),
    Case("person-private", "GET", f"{V1}/people/{{a}}", 404, "b"),
    Case("person-sql-id", "GET", f"{V1}/people/{SQL}", 404, "none"),
    # --- organisations: bodies ---------------------------------------------------------
    Case("org-anonymous", "POST", ORGS, 401, "none", org()),
    Case("org-garbage-token", "POST", ORGS, 401, "garbage", org()),
    Case("org-huge-name", "POST", ORGS, 422, "a", org(name=HUGE), field="name"),
    Case("org-name-list", "POST", ORGS, 422, "a", org(name=["x"]), field="name"),
    Case("org-name-null", "POST", ORGS, 422, "a", org(name=None), field="name"),
    Case("org-name-control", "POST", ORGS, 422, "a", org(name="bell\x07"), field="name"),
    Case("org-kind-unknown", "POST", ORGS, 422, "a", org(kind="church"), field="kind"),
    Case("org-kind-missing", "POST", ORGS, 422, "a", org(kind=UNSET), field="kind"),
    Case("org-legal-form", "POST", ORGS, 422, "a", org(legal_form="llc"), field="legal_form"),
    Case("org-siren-checksum", "POST", ORGS, 422, "a", org(siren="123456789"), field="siren"),
    Case("org-siren-letters", "POST", ORGS, 422, "a", org(siren="12345678A"), field="siren"),
    Case("org-siren-int", "POST", ORGS, 422, "a", org(siren=552100554), field="siren"),
    Case("org-rna", "POST", ORGS, 422, "a", org(rna="X12"), field="rna"),
    Case("org-website-javascript", "POST", ORGS, 422, "a",
         org(website="javascript:alert(1)"), field="website"),
    Case("org-website-nul", "POST", ORGS, 422, "a",
         org(website="https://ok.example/\x00"), field="website"),
    Case("org-logo-data-url", "POST", ORGS, 422, "a",
         org(logo_url="data:text/html,<script>alert(1)</script>"), field="logo_url"),
    Case("org-email", "POST", ORGS, 422, "a", org(email="<script>@x"), field="email"),
    Case("org-phone-script", "POST", ORGS, 422, "a",
         org(phone="<script>alert(1)</script>"), field="phone"),
    Case("org-theme-unknown", "POST", ORGS, 422, "a", org(themes=["astrology"]),
         field="themes"),
    Case("org-themes-string", "POST", ORGS, 422, "a", org(themes="food"), field="themes"),
    Case("org-themes-too-many", "POST", ORGS, 422, "a", org(themes=["food"] * 17),
         field="themes"),
    Case("org-tags-too-many", "POST", ORGS, 422, "a", org(tags=[f"t{n}" for n in range(31)]),
         field="tags"),
    Case("org-join-mode-unknown", "POST", ORGS, 422, "a", org(join_mode="everyone"),
         field="join_mode"),
    Case("org-join-mode-null", "POST", ORGS, 422, "a", org(join_mode=None), field="join_mode"),
    Case("org-tag-too-long", "POST", ORGS, 422, "a", org(tags=["t" * 61]), field="tags.0"),
    Case("org-tag-int", "POST", ORGS, 422, "a", org(tags=[7]), field="tags.0"),
    Case("org-description-huge", "POST", ORGS, 422, "a", org(description="x" * 20_001),
         field="description"),
    Case("org-description-type", "POST", ORGS, 422, "a", org(description={"html": "<p>"}),
         field="description"),
    Case("org-lat-200", "POST", ORGS, 422, "a",
         org(place={"latitude": 200, "longitude": 3}), field="place.latitude"),
    Case("org-lon-minus-500", "POST", ORGS, 422, "a",
         org(place={"latitude": 50.6, "longitude": -500}), field="place.longitude"),
    Case("org-lat-without-lon", "POST", ORGS, 422, "a",
         org(place={"latitude": 50.6}), field="place.longitude"),
    Case("org-lat-string", "POST", ORGS, 422, "a",
         org(place={"latitude": "north", "longitude": 3}), field="place.latitude"),
    Case("org-lat-nan", "POST", ORGS, 422, "a",
         content=b'{"name": "X", "kind": "association",'
         b' "place": {"latitude": NaN, "longitude": 3.0}}', field="place.latitude"),
    Case("org-lon-infinity", "POST", ORGS, 422, "a",
         content=b'{"name": "X", "kind": "association",'
         b' "place": {"latitude": 50.0, "longitude": 1e999}}', field="place.longitude"),
    Case("org-place-empty", "POST", ORGS, 422, "a", org(place={}), field="place"),
    Case("org-place-string", "POST", ORGS, 422, "a", org(place="Lille"), field="place"),
    Case("org-postal-code-script", "POST", ORGS, 422, "a",
         org(place={"postal_code": "<script>", "city": "Lille"}), field="place.postal_code"),
    Case("org-place-extra", "POST", ORGS, 422, "a",
         org(place={"city": "Lille", "altitude": 20}), field="place.altitude"),
    Case("org-extra-field", "POST", ORGS, 422, "a", org(owner_id="{b}"), field="owner_id"),
    Case("org-text-plain", "POST", ORGS, 422, "a", content=json.dumps(ORG).encode(),
         content_type="text/plain", field="body"),
    Case("org-form-encoded", "POST", ORGS, 422, "a", content=b"name=X&kind=association",
         content_type="application/x-www-form-urlencoded", field="body"),
    Case("org-malformed-json", "POST", ORGS, 400, "a", content=b'{"name": "X", kind}'),
    Case("org-json-array", "POST", ORGS, 422, "a", [ORG], field="body"),
    Case("org-json-string", "POST", ORGS, 422, "a", "Le Fablab", field="body"),
    Case("org-json-null", "POST", ORGS, 422, "a", content=b"null", field="body"),
    Case("org-invalid-utf8", "POST", ORGS, 400, "a",
         content=b'{"name": "\xff\xfe", "kind": "association"}'),
    Case("org-deep-nesting", "POST", ORGS, 400, "a",
         content=b"[" * 50_000 + b"]" * 50_000),
    Case("org-2mb-body", "POST", ORGS, 413, "a",
         content=json.dumps(org(description="x" * 2_000_000)).encode()),
    Case("org-2mb-chunked", "POST", ORGS, 413, "a", content=big_chunks),
    # --- organisations: foreign edits, unknown ids, relations ---------------------------
    Case("org-patch-by-b", "PATCH", f"{ORGS}/{{org}}", 403, "b", {"name": "Pwned"}),
    Case("org-patch-anonymous", "PATCH", f"{ORGS}/{{org}}", 401, "none", {"name": "Pwned"}),
    # the body's shape is checked first, for everyone (it reveals nothing of the object);
    # then who asks; then the merged whole
    Case("org-patch-by-b-shape", "PATCH", f"{ORGS}/{{org}}", 422, "b", {"kind": "church"},
         field="kind"),
    Case("org-patch-by-b-invalid", "PATCH", f"{ORGS}/{{org}}", 403, "b", {"name": None}),
    Case("org-patch-join-mode", "PATCH", f"{ORGS}/{{org}}", 422, "a", {"join_mode": "free"},
         field="join_mode"),
    Case("org-patch-join-mode-null", "PATCH", f"{ORGS}/{{org}}", 422, "a", {"join_mode": None},
         field="join_mode"),
    Case("org-patch-kind", "PATCH", f"{ORGS}/{{org}}", 422, "a", {"kind": "church"},
         field="kind"),
    Case("org-patch-name-null", "PATCH", f"{ORGS}/{{org}}", 422, "a", {"name": None},
         field="name"),
    Case("org-patch-siren", "PATCH", f"{ORGS}/{{org}}", 422, "a", {"siren": "123456789"},
         field="siren"),
    Case("org-patch-extra", "PATCH", f"{ORGS}/{{org}}", 422, "a", {"deleted_at": None},
         field="deleted_at"),
    Case("org-patch-unknown", "PATCH", f"{ORGS}/{UNKNOWN_ID}", 404, "a", {"name": "X"}),
    Case("org-patch-sql-id", "PATCH", f"{ORGS}/{SQL}", 404, "a", {"name": "X"}),
    Case("org-delete-by-b", "DELETE", f"{ORGS}/{{org}}", 403, "b"),
    Case("org-delete-anonymous", "DELETE", f"{ORGS}/{{org}}", 401, "none"),
    Case("org-delete-nul-id", "DELETE", f"{ORGS}/%00", 404, "a"),
    Case("org-get-long-id", "GET", f"{ORGS}/{LONG}", 404, "none"),
    Case("org-get-unknown", "GET", f"{ORGS}/{UNKNOWN_ID}", 404, "none"),
    Case("org-put", "PUT", f"{ORGS}/{{org}}", 405, "a", org()),
    Case("org-follow-anonymous", "POST", f"{ORGS}/{{org}}/follow", 401, "none"),
    Case("org-follow-unknown", "POST", f"{ORGS}/{UNKNOWN_ID}/follow", 404, "b"),
    Case("org-invite-by-b", "POST", f"{ORGS}/{{org}}/invitations", 403, "b",
         {"person_id": "{b}"}),
    Case("org-invite-sql-id", "POST", f"{ORGS}/{{org}}/invitations", 422, "a",
         {"person_id": SQL}, field="person_id"),
    Case("org-invite-unknown", "POST", f"{ORGS}/{{org}}/invitations", 404, "a",
         {"person_id": UNKNOWN_ID}),
    Case("org-invite-role", "POST", f"{ORGS}/{{org}}/invitations", 422, "a",
         {"person_id": "{b}", "role": "owner"}, field="role"),
    Case("org-promote-by-b", "PATCH", f"{ORGS}/{{org}}/members/{{b}}", 403, "b",
         {"role": "admin"}),
    Case("org-remove-a-by-b", "DELETE", f"{ORGS}/{{org}}/members/{{a}}", 403, "b"),
    Case("org-last-admin-leaves", "DELETE", f"{ORGS}/{{org}}/members/{{a}}", 409, "a"),
    Case("org-last-admin-demoted", "PATCH", f"{ORGS}/{{org}}/members/{{a}}", 409, "a",
         {"role": "member"}),
    Case("org-decide-unknown", "PATCH", f"{ORGS}/{{org}}/members/{{b}}", 404, "a",
         {"accept": True}),
    # --- organisations: lists -----------------------------------------------------------
    Case("orgs-limit-0", "GET", ORGS, 422, "none", params={"limit": 0}, field="limit"),
    Case("orgs-limit-huge", "GET", ORGS, 422, "none", params={"limit": 100_000},
         field="limit"),
    Case("orgs-limit-negative", "GET", ORGS, 422, "none", params={"limit": -1},
         field="limit"),
    Case("orgs-limit-text", "GET", ORGS, 422, "none", params={"limit": "all"},
         field="limit"),
    Case("orgs-theme-sql", "GET", ORGS, 422, "none", params={"theme": SQL}, field="theme"),
    Case("orgs-kind-sql", "GET", ORGS, 422, "none", params={"kind": SQL}, field="kind"),
    Case("orgs-origin-sql", "GET", ORGS, 422, "none", params={"origin": SQL},
         field="origin"),
    Case("orgs-origin-nul", "GET", ORGS, 422, "none", params={"origin": "\x00"},
         field="origin"),
    Case("orgs-cursor-garbage", "GET", ORGS, 422, "none", params={"cursor": "!!not base64"},
         field="cursor"),
    Case("orgs-cursor-numbers", "GET", ORGS, 422, "none", params={"cursor": cursor([1, 2])},
         field="cursor"),
    Case("orgs-cursor-nul", "GET", ORGS, 422, "none",
         params={"cursor": cursor(["\x00", "\x00"])}, field="cursor"),
    Case("orgs-cursor-surrogate", "GET", ORGS, 422, "none",
         params={"cursor": base64.urlsafe_b64encode(b'["\\ud800", "x"]').decode()},
         field="cursor"),
    Case("orgs-cursor-huge", "GET", ORGS, 422, "none", params={"cursor": "A" * 10_000},
         field="cursor"),
    # --- events -------------------------------------------------------------------------
    Case("event-anonymous", "POST", EVENTS, 401, "none", event()),
    Case("event-for-foreign-org", "POST", EVENTS, 403, "b", event()),
    Case("event-co-organiser-foreign", "POST", EVENTS, 403, "a",
         event(co_organiser_ids=["{org_b}"])),
    Case("event-co-organiser-unknown", "POST", EVENTS, 422, "a",
         event(co_organiser_ids=[UNKNOWN_ID]), field="co_organiser_ids"),
    Case("event-co-organisers-too-many", "POST", EVENTS, 422, "a",
         event(co_organiser_ids=[UNKNOWN_ID] * 11), field="co_organiser_ids"),
    Case("event-organisation-sql", "POST", EVENTS, 422, "a", event(organisation_id=SQL),
         field="organisation_id"),
    Case("event-organisation-unknown", "POST", EVENTS, 422, "a",
         event(organisation_id=UNKNOWN_ID), field="organisation_id"),
    Case("event-organisation-missing", "POST", EVENTS, 422, "a",
         event(organisation_id=UNSET), field="organisation_id"),
    Case("event-huge-name", "POST", EVENTS, 422, "a", event(name=HUGE), field="name"),
    Case("event-description-nul", "POST", EVENTS, 422, "a", event(description="<p>\x00</p>"),
         field="description"),
    Case("event-starts-words", "POST", EVENTS, 422, "a", event(starts_at="tomorrow"),
         field="starts_at"),
    Case("event-starts-feb-30", "POST", EVENTS, 422, "a",
         event(starts_at="2031-02-30T14:00:00"), field="starts_at"),
    Case("event-starts-hour-25", "POST", EVENTS, 422, "a",
         event(starts_at="2031-03-01T25:00:00"), field="starts_at"),
    Case("event-starts-offset-99", "POST", EVENTS, 422, "a",
         event(starts_at="2031-03-01T14:00:00+99:00"), field="starts_at"),
    Case("event-starts-timestamp", "POST", EVENTS, 422, "a", event(starts_at=1_900_000_000),
         field="starts_at"),
    Case("event-starts-year-1", "POST", EVENTS, 422, "a",
         event(starts_at="0001-01-01T00:00:00"), field="starts_at"),
    Case("event-starts-year-1-offset", "POST", EVENTS, 422, "a",
         event(starts_at="0001-01-01T00:00:00+01:00"), field="starts_at"),
    Case("event-starts-1969", "POST", EVENTS, 422, "a",
         event(starts_at="1969-07-20T20:17:00Z", ends_at="1969-07-21T02:56:00Z"),
         field="starts_at"),
    Case("event-ends-year-9999", "POST", EVENTS, 422, "a",
         event(ends_at="9999-12-31T23:59:59-14:00"), field="ends_at"),
    Case("event-ends-before-starts", "POST", EVENTS, 422, "a",
         event(ends_at="2031-03-01T10:00:00"), field="ends_at"),
    Case("event-ends-equals-starts", "POST", EVENTS, 422, "a",
         event(ends_at="2031-03-01T14:00:00"), field="ends_at"),
    Case("event-lasts-two-years", "POST", EVENTS, 422, "a",
         event(ends_at="2033-03-01T14:00:00"), field="ends_at"),
    Case("event-timezone-unknown", "POST", EVENTS, 422, "a", event(timezone="Mars/Olympus"),
         field="timezone"),
    Case("event-timezone-path", "POST", EVENTS, 422, "a",
         event(timezone="../../../etc/passwd"), field="timezone"),
    Case("event-timezone-int", "POST", EVENTS, 422, "a", event(timezone=2), field="timezone"),
    Case("event-nowhere", "POST", EVENTS, 422, "a", event(place=UNSET), field="online_url"),
    Case("event-online-javascript", "POST", EVENTS, 422, "a",
         event(place=UNSET, online_url="javascript:alert(1)"), field="online_url"),
    Case("event-join-mode-unknown", "POST", EVENTS, 422, "a", event(join_mode="vip"),
         field="join_mode"),
    Case("event-external-without-url", "POST", EVENTS, 422, "a", event(join_mode="external"),
         field="external_participation_url"),
    Case("event-external-javascript", "POST", EVENTS, 422, "a",
         event(join_mode="external", external_participation_url="javascript:void(0)"),
         field="external_participation_url"),
    Case("event-status-unknown", "POST", EVENTS, 422, "a", event(status="done"),
         field="status"),
    Case("event-capacity-zero", "POST", EVENTS, 422, "a", event(capacity=0),
         field="capacity"),
    Case("event-capacity-negative", "POST", EVENTS, 422, "a", event(capacity=-5),
         field="capacity"),
    Case("event-capacity-fraction", "POST", EVENTS, 422, "a", event(capacity=2.5),
         field="capacity"),
    Case("event-capacity-words", "POST", EVENTS, 422, "a", event(capacity="lots"),
         field="capacity"),
    Case("event-capacity-huge", "POST", EVENTS, 422, "a", event(capacity=10**30),
         field="capacity"),
    Case("event-theme-unknown", "POST", EVENTS, 422, "a", event(themes=["food", "magic"]),
         field="themes"),
    Case("event-lat-200", "POST", EVENTS, 422, "a",
         event(place={"latitude": 200, "longitude": 3.06}), field="place.latitude"),
    Case("event-patch-by-b", "PATCH", f"{EVENTS}/{{event}}", 403, "b", {"name": "Pwned"}),
    Case("event-patch-by-b-invalid", "PATCH", f"{EVENTS}/{{event}}", 403, "b",
         {"ends_at": "2030-05-16T09:00:00"}),
    Case("event-patch-anonymous", "PATCH", f"{EVENTS}/{{event}}", 401, "none",
         {"name": "Pwned"}),
    Case("event-patch-ends-before-starts", "PATCH", f"{EVENTS}/{{event}}", 422, "a",
         {"ends_at": "2030-05-16T09:00:00"}, field="ends_at"),
    Case("event-patch-starts-timestamp", "PATCH", f"{EVENTS}/{{event}}", 422, "a",
         {"starts_at": 12345}, field="starts_at"),
    Case("event-patch-external", "PATCH", f"{EVENTS}/{{event}}", 422, "a",
         {"join_mode": "external"}, field="external_participation_url"),
    Case("event-patch-no-place", "PATCH", f"{EVENTS}/{{event}}", 422, "a", {"place": None},
         field="online_url"),
    Case("event-patch-timezone", "PATCH", f"{EVENTS}/{{event}}", 422, "a",
         {"timezone": "Europe/Lile"}, field="timezone"),
    Case("event-patch-huge-name", "PATCH", f"{EVENTS}/{{event}}", 422, "a", {"name": HUGE},
         field="name"),
    Case("event-patch-co-organiser", "PATCH", f"{EVENTS}/{{event}}", 403, "a",
         {"co_organiser_ids": ["{org_b}"]}),
    Case("event-patch-gone", "PATCH", f"{EVENTS}/{{gone}}", 410, "a", {"name": "Back"}),
    Case("event-get-gone", "GET", f"{EVENTS}/{{gone}}", 410, "none"),
    Case("event-delete-gone", "DELETE", f"{EVENTS}/{{gone}}", 410, "a"),
    Case("event-join-gone", "POST", f"{EVENTS}/{{gone}}/participation", 410, "b"),
    Case("event-delete-by-b", "DELETE", f"{EVENTS}/{{event}}", 403, "b"),
    Case("event-delete-anonymous", "DELETE", f"{EVENTS}/{{event}}", 401, "none"),
    Case("event-get-script-id", "GET", f"{EVENTS}/<script>alert(1)</script>", 404, "none"),
    Case("event-get-sql-id", "GET", f"{EVENTS}/1 OR 1=1", 404, "none"),
    Case("event-put", "PUT", f"{EVENTS}/{{event}}", 405, "a", event()),
    Case("event-post-on-object", "POST", f"{EVENTS}/{{event}}", 405, "a", event()),
    Case("event-join-anonymous", "POST", f"{EVENTS}/{{event}}/participation", 401, "none"),
    Case("event-join-unknown", "POST", f"{EVENTS}/{UNKNOWN_ID}/participation", 404, "b"),
    Case("event-leave-unregistered", "DELETE", f"{EVENTS}/{{event}}/participation", 404, "b"),
    Case("event-participants-by-b", "GET", f"{EVENTS}/{{event}}/participants", 403, "b"),
    Case("event-decide-by-b", "PATCH", f"{EVENTS}/{{event}}/participants/{{b}}", 403, "b",
         {"state": "going"}),
    Case("event-decide-state", "PATCH", f"{EVENTS}/{{event}}/participants/{{b}}", 422, "a",
         {"state": "maybe"}, field="state"),
    Case("event-decide-unregistered", "PATCH", f"{EVENTS}/{{event}}/participants/{{b}}", 404,
         "a", {"state": "going"}),
    Case("events-when", "GET", EVENTS, 422, "none", params={"when": "tomorrow"},
         field="when"),
    Case("events-organisation-sql", "GET", EVENTS, 422, "none",
         params={"organisation_id": SQL}, field="organisation_id"),
    Case("events-tag-too-long", "GET", EVENTS, 422, "none", params={"tag": "t" * 61},
         field="tag.0"),
    Case("events-tags-too-many", "GET", EVENTS, 422, "none",
         params={"tag": [f"t{n}" for n in range(31)]}, field="tag"),
    Case("events-themes-sql", "GET", EVENTS, 422, "none",
         params={"theme": ["food", SQL]}, field="theme"),
    Case("events-cursor-naive", "GET", EVENTS, 422, "none",
         params={"cursor": cursor(["2031-01-01T00:00:00", UNKNOWN_ID])}, field="cursor"),
    Case("events-cursor-date", "GET", EVENTS, 422, "none",
         params={"cursor": cursor(["next week", UNKNOWN_ID])}, field="cursor"),
    Case("events-limit-0", "GET", EVENTS, 422, "none", params={"limit": 0}, field="limit"),
    # --- projects -----------------------------------------------------------------------
    Case("project-anonymous", "POST", PROJECTS, 401, "none", project()),
    Case("project-for-foreign-org", "POST", PROJECTS, 403, "b", project()),
    Case("project-stage", "POST", PROJECTS, 422, "a", project(stage="over"), field="stage"),
    Case("project-organisation-unknown", "POST", PROJECTS, 422, "a",
         project(organisation_id=UNKNOWN_ID), field="organisation_id"),
    Case("project-name-missing", "POST", PROJECTS, 422, "a", project(name=UNSET),
         field="name"),
    Case("project-patch-by-b", "PATCH", f"{PROJECTS}/{{project}}", 403, "b",
         {"stage": "mature"}),
    Case("project-patch-by-b-invalid", "PATCH", f"{PROJECTS}/{{project}}", 403, "b",
         {"organisation_id": "{org_b}"}),
    Case("project-patch-move", "PATCH", f"{PROJECTS}/{{project}}", 422, "a",
         {"organisation_id": "{org_b}"}, field="organisation_id"),
    Case("project-patch-stage", "PATCH", f"{PROJECTS}/{{project}}", 422, "a",
         {"stage": 3}, field="stage"),
    Case("project-delete-by-b", "DELETE", f"{PROJECTS}/{{project}}", 403, "b"),
    Case("project-delete-unknown", "DELETE", f"{PROJECTS}/{UNKNOWN_ID}", 404, "a"),
    Case("project-contribute-anonymous", "POST", f"{PROJECTS}/{{project}}/contribution", 401,
         "none"),
    Case("project-accept-by-b", "PATCH", f"{PROJECTS}/{{project}}/contributors/{{b}}", 403,
         "b", {"role": "admin"}),
    Case("project-remove-a-by-b", "DELETE", f"{PROJECTS}/{{project}}/contributors/{{a}}", 403,
         "b"),
    Case("projects-stage", "GET", PROJECTS, 422, "none", params={"stage": SQL},
         field="stage"),
    Case("projects-cursor", "GET", PROJECTS, 422, "none", params={"cursor": cursor([1])},
         field="cursor"),
    # --- changes feed and unknown routes ------------------------------------------------
    Case("changes-since-negative", "GET", f"{V1}/changes", 422, "none", params={"since": -1},
         field="since"),
    Case("changes-since-huge", "GET", f"{V1}/changes", 422, "none",
         params={"since": 10**30}, field="since"),
    Case("changes-since-sql", "GET", f"{V1}/changes", 422, "none", params={"since": SQL},
         field="since"),
    Case("changes-limit-huge", "GET", f"{V1}/changes", 422, "none",
         params={"limit": 100_000}, field="limit"),
    Case("unknown-route", "GET", f"{V1}/admin/users", 404, "a"),
]


def _fill(scene: Scene, value: Any) -> Any:
    """Replace ``{org}``-style placeholders inside a JSON body."""
    if isinstance(value, str):
        return scene.fill(value) if "{" in value and "}" in value else value
    if isinstance(value, list):
        return [_fill(scene, v) for v in value]
    if isinstance(value, dict):
        return {k: _fill(scene, v) for k, v in value.items()}
    return value


def send(client: TestClient, scene: Scene, case: Case) -> Any:
    headers = scene.headers(case.auth)
    content: Any = case.content() if callable(case.content) else case.content
    if case.json is not UNSET:
        content = json.dumps(_fill(scene, case.json)).encode()
    if content is not None and case.content_type:
        headers = {**headers, "Content-Type": case.content_type}
    path = scene.fill(case.path) if "{" in case.path and "<" not in case.path else case.path
    return client.request(
        case.method, path, content=content, headers=headers, params=case.params or None
    )


# --- the state that must not move ---------------------------------------------------------

#: Columns that may legitimately move on a read (none today; kept out of the fingerprint).
VOLATILE = {"last_used_at"}


def database_state(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    existing = set(inspect(runtime.engine).get_table_names())
    state: dict[str, list[tuple[Any, ...]]] = {}
    with runtime.transaction() as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in existing:
                continue
            columns = [c for c in table.columns if c.name not in VOLATILE]
            query = select(*columns).order_by(*table.primary_key.columns)
            state[table.name] = [tuple(row) for row in session.execute(query)]
    return state


def api_state(client: TestClient, scene: Scene) -> dict[str, Any]:
    auth_a, auth_b = scene.headers("a"), scene.headers("b")
    return {
        "org": client.get(f"{ORGS}/{scene.org}").json(),
        "org_b": client.get(f"{ORGS}/{scene.org_b}").json(),
        "event": client.get(f"{EVENTS}/{scene.event}").json(),
        "project": client.get(f"{PROJECTS}/{scene.project}").json(),
        "gone": client.get(f"{EVENTS}/{scene.gone}").status_code,
        "members": client.get(f"{ORGS}/{scene.org}/members", headers=auth_a).json(),
        "participants": client.get(
            f"{EVENTS}/{scene.event}/participants", headers=auth_a
        ).json(),
        "me_a": client.get(f"{V1}/me", headers=auth_a).json(),
        "me_b": client.get(f"{V1}/me", headers=auth_b).json(),
        "orgs": client.get(ORGS).json(),
        "events": client.get(EVENTS, params={"when": "all"}).json(),
        "projects": client.get(PROJECTS).json(),
        "changes": client.get(f"{V1}/changes").json(),
    }


def test_there_are_enough_distinct_hostile_cases() -> None:
    assert len(CASES) >= 50
    assert len({c.id for c in CASES}) == len(CASES)


def test_hostile_requests_get_json_4xx_and_change_nothing(
    client: TestClient, scene: Scene, runtime: Runtime
) -> None:
    rows_before = database_state(runtime)
    api_before = api_state(client, scene)
    problems: list[str] = []
    for case in CASES:
        answer = send(client, scene, case)
        where = f"{case.id}: {case.method} {case.path} → {answer.status_code}"
        rows_now = database_state(runtime)
        if rows_now != rows_before:
            problems.append(f"{where} changed the database")
            rows_before = rows_now
        if answer.status_code != case.status:
            problems.append(f"{where}, expected {case.status}: {answer.text[:300]}")
        if not 400 <= answer.status_code < 500:
            problems.append(f"{where} is not a 4xx")
        if not answer.headers.get("content-type", "").startswith("application/json"):
            problems.append(f"{where} is not JSON: {answer.headers.get('content-type')}")
            continue
        error = answer.json().get("error") if isinstance(answer.json(), dict) else None
        if not isinstance(error, dict) or not error.get("code") or not error.get("message"):
            problems.append(f"{where} has no error.code/error.message: {answer.text[:300]}")
            continue
        if not all(isinstance(error[k], str) for k in ("code", "message")):
            problems.append(f"{where}: code and message are not strings")
        if case.field is not None and case.field not in (error.get("fields") or {}):
            problems.append(f"{where}: fields {error.get('fields')} do not name {case.field}")
        if answer.status_code == 401 and "WWW-Authenticate" not in answer.headers:
            problems.append(f"{where}: a 401 without WWW-Authenticate")
    assert not problems, "\n".join(problems)
    assert api_state(client, scene) == api_before


def test_names_are_plain_text_and_descriptions_are_sanitised(
    client: TestClient, world: World
) -> None:
    """Accepted, not refused: a name is text (stored and returned as written, JSON-encoded),
    a description is HTML and loses everything outside the allow-list."""
    a = world.account("Alice")
    name = "<script>alert('x')</script> & Robert'); DROP TABLE organisation;--"
    created = client.post(
        ORGS,
        json=org(name=name, description="<script>alert(1)</script><p>ok</p>"),
        headers=World.auth(a),
    )
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/json")
    fetched = client.get(f"{ORGS}/{created.json()['id']}").json()
    assert fetched["name"] == name
    assert fetched["description"] == "<p>ok</p>"

    ev = world.event(
        a,
        fetched["id"],
        description='<p onclick="x()">hi <a href="javascript:alert(1)">link</a></p><iframe/>',
    )
    assert "onclick" not in ev["description"]
    assert "javascript:" not in ev["description"]
    assert "<iframe" not in ev["description"]
    assert ev["description"].startswith("<p>hi")

    listed = client.get(ORGS).json()["items"]
    assert name in [o["name"] for o in listed]


def test_failed_logins_are_rate_limited_with_retry_after(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    a = world.account("Alice")
    email = client.get(f"{V1}/me", headers=World.auth(a)).json()["email"]
    budget = runtime.settings.login_attempts_per_minute
    tokens_before = len(database_state(runtime)["token"])
    for _ in range(budget):
        wrong = client.post(f"{V1}/tokens", json={"email": email, "password": "wrong guess"})
        assert wrong.status_code == 401, wrong.text
    for password in ("wrong guess", "correct horse"):  # even the right one, for now
        limited = client.post(f"{V1}/tokens", json={"email": email, "password": password})
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"]["code"] == "rate_limited"
        assert limited.json()["error"]["message"]
        assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert len(database_state(runtime)["token"]) == tokens_before
    # another account from the same address is not locked out
    b = world.account("Bruno")
    assert client.get(f"{V1}/me", headers=World.auth(b)).status_code == 200
