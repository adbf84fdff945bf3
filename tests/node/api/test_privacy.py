"""Personal data over the API: ``GET /me/export``, ``DELETE /me``, private profiles."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from node.models import Person
from node.runtime import Runtime
from tests.conftest import World

PASSWORD = "correct horse"  # what World.account registers with


def _delete(client: TestClient, account: dict[str, str], password: str = PASSWORD) -> Any:
    return client.request(
        "DELETE", "/api/v1/me", json={"password": password}, headers=World.auth(account)
    )


def _member(client: TestClient, admin: dict[str, str], org_id: str, member: dict[str, str]) -> None:
    """``member`` asks to join, ``admin`` accepts."""
    asked = client.post(f"/api/v1/organisations/{org_id}/members", headers=World.auth(member))
    assert asked.status_code == 201, asked.text
    accepted = client.patch(
        f"/api/v1/organisations/{org_id}/members/{member['id']}",
        json={"accept": True},
        headers=World.auth(admin),
    )
    assert accepted.status_code == 200, accepted.text


def _co_admin(
    client: TestClient, admin: dict[str, str], org_id: str, other: dict[str, str]
) -> None:
    invited = client.post(
        f"/api/v1/organisations/{org_id}/invitations",
        json={"person_id": other["id"], "role": "admin"},
        headers=World.auth(admin),
    )
    assert invited.status_code == 201, invited.text
    accepted = client.post(f"/api/v1/organisations/{org_id}/members", headers=World.auth(other))
    assert accepted.json()["state"] == "accepted"


def _members(client: TestClient, org_id: str) -> dict[str, tuple[str, str]]:
    answer = client.get(f"/api/v1/organisations/{org_id}/members")
    assert answer.status_code == 200, answer.text
    return {m["person_id"]: (m["role"], m["state"]) for m in answer.json()}


def _project(client: TestClient, admin: dict[str, str], org_id: str) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/projects",
        json={"name": "Jardin partagé", "organisation_id": org_id, "themes": ["food"]},
        headers=World.auth(admin),
    )
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _contributor(
    client: TestClient, admin: dict[str, str], project_id: str, person: dict[str, str]
) -> None:
    offered = client.post(f"/api/v1/projects/{project_id}/contribution", headers=World.auth(person))
    assert offered.status_code == 201, offered.text
    accepted = client.patch(
        f"/api/v1/projects/{project_id}/contributors/{person['id']}",
        json={},
        headers=World.auth(admin),
    )
    assert accepted.status_code == 200, accepted.text


# --- export --------------------------------------------------------------------------


def test_export_holds_every_relation_and_no_secret(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    event = world.event(camille, org["id"])
    project = _project(client, camille, org["id"])
    public = client.put(
        "/api/v1/me",
        json={"name": "Camille D.", "bio": "Bénévole", "public_profile": True},
        headers=world.auth(camille),
    )
    assert public.status_code == 200, public.text

    karim = world.account("Karim")
    assert (
        client.post(
            f"/api/v1/organisations/{org['id']}/follow", headers=world.auth(karim)
        ).status_code
        == 204
    )
    _member(client, camille, org["id"], karim)
    joined = client.post(f"/api/v1/events/{event['id']}/participation", headers=world.auth(karim))
    assert joined.status_code == 201, joined.text
    offered = client.post(
        f"/api/v1/projects/{project['id']}/contribution", headers=world.auth(karim)
    )
    assert offered.status_code == 201, offered.text

    answer = client.get("/api/v1/me/export", headers=world.auth(karim))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert ".json" in answer.headers["content-disposition"]
    assert answer.headers["cache-control"] == "no-store"
    data = answer.json()
    assert data["format_version"] == 1
    assert data["exported_at"]
    assert data["account"]["id"] == karim["id"]
    assert data["account"]["email"].endswith("@lille.example")
    assert data["account"]["name"] == "Karim"
    assert {"username", "locale", "bio", "public_profile", "is_admin", "created", "updated"} <= set(
        data["account"]
    )
    assert len(data["tokens"]) == 1
    assert set(data["tokens"][0]) == {"id", "created", "last_used_at", "revoked_at"}
    [membership] = data["memberships"]
    assert membership["organisation"]["id"] == org["id"]
    assert membership["organisation"]["name"] == org["name"]
    assert membership["organisation"]["url"] == org["url"]
    assert (membership["role"], membership["state"]) == ("member", "accepted")
    assert [(f["organisation"]["id"], f["state"]) for f in data["follows"]] == [
        (org["id"], "accepted")
    ]
    [participation] = data["participations"]
    assert participation["event"]["id"] == event["id"]
    assert participation["event"]["url"] == event["url"]
    assert participation["event"]["name"] == "Repair café"
    assert participation["event"]["starts_at"].startswith("2030-05-16T12:00:00")
    assert participation["state"] == "going"
    [contribution] = data["contributions"]
    assert contribution["project"]["id"] == project["id"]
    assert contribution["state"] == "pending"
    assert data["administered"] == {"organisations": [], "events": [], "projects": []}
    assert data["activities"] == []

    text = answer.text
    assert "password" not in text
    assert "hash" not in text
    assert "$argon2" not in text
    assert karim["Authorization"].removeprefix("Bearer ") not in text

    mine = client.get("/api/v1/me/export", headers=world.auth(camille)).json()
    assert mine["account"]["bio"] == "Bénévole"
    assert mine["account"]["public_profile"] is True
    assert [o["id"] for o in mine["administered"]["organisations"]] == [org["id"]]
    assert [e["id"] for e in mine["administered"]["events"]] == [event["id"]]
    assert [p["id"] for p in mine["administered"]["projects"]] == [project["id"]]
    assert [(m["role"], m["state"]) for m in mine["memberships"]] == [("admin", "accepted")]
    assert [(c["role"], c["state"]) for c in mine["contributions"]] == [("admin", "accepted")]
    [update] = mine["activities"]
    assert (update["type"], update["object_type"], update["object_id"]) == (
        "Update",
        "person",
        camille["id"],
    )
    assert update["url"].startswith("http://lille.test/activities/")


def test_export_and_delete_need_a_signed_in_person(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/me/export").status_code == 401
    answer = client.request("DELETE", "/api/v1/me", json={"password": PASSWORD})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    bogus = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/me/export", headers=bogus).status_code == 401


# --- deletion ------------------------------------------------------------------------


def test_wrong_password_is_refused_and_changes_nothing(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    event = world.event(camille, org["id"])
    assert (
        client.post(
            f"/api/v1/events/{event['id']}/participation", headers=world.auth(camille)
        ).status_code
        == 201
    )
    before = client.get("/api/v1/me/export", headers=world.auth(camille)).json()
    changes = client.get("/api/v1/changes").json()["next"]

    wrong = _delete(client, camille, "not my password")
    assert wrong.status_code == 422
    assert wrong.json()["error"]["fields"] == {"password": "wrong password"}
    missing = client.request("DELETE", "/api/v1/me", json={}, headers=world.auth(camille))
    assert missing.status_code == 422
    assert "password" in missing.json()["error"]["fields"]

    after = client.get("/api/v1/me/export", headers=world.auth(camille)).json()
    before.pop("exported_at")
    after.pop("exported_at")
    for token in before["tokens"] + after["tokens"]:
        token.pop("last_used_at")
    assert after == before
    assert client.get(f"/api/v1/events/{event['id']}").json()["participant_count"] == 1
    assert client.get("/api/v1/changes", params={"since": changes}).json()["items"] == []


def test_repeated_wrong_passwords_are_rate_limited(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    limit = client.app.state.login_limiter.limit  # type: ignore[attr-defined]
    for _ in range(limit):
        assert _delete(client, camille, "guess").status_code == 422
    assert _delete(client, camille, "guess").status_code == 429
    assert client.get("/api/v1/me", headers=world.auth(camille)).status_code == 200


def test_deleted_account_is_erased_everywhere(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    event = world.event(camille, org["id"])
    project = _project(client, camille, org["id"])

    email = f"karim-{uuid.uuid4().hex[:6]}@lille.example"
    registered = client.post(
        "/api/v1/accounts", json={"email": email, "password": PASSWORD, "name": "Karim"}
    )
    assert registered.status_code == 201, registered.text
    karim_id = registered.json()["id"]
    tokens = [
        client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD}).json()["token"]
        for _ in range(2)
    ]
    karim = {"Authorization": f"Bearer {tokens[0]}", "id": karim_id}
    other_device = {"Authorization": f"Bearer {tokens[1]}"}
    assert (
        client.put(
            "/api/v1/me",
            json={"name": "Karim B.", "bio": "Vélo", "public_profile": True},
            headers=world.auth(karim),
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/events/{event['id']}/participation", headers=world.auth(karim)
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/organisations/{org['id']}/follow", headers=world.auth(karim)
        ).status_code
        == 204
    )
    _member(client, camille, org["id"], karim)
    _contributor(client, camille, project["id"], karim)
    assert client.get(f"/api/v1/events/{event['id']}").json()["participant_count"] == 1
    organisation = client.get(f"/api/v1/organisations/{org['id']}").json()
    assert (organisation["followers_count"], organisation["members_count"]) == (1, 2)
    since = client.get("/api/v1/changes").json()["next"]

    answer = _delete(client, karim)
    assert answer.status_code == 204, answer.text
    assert answer.content == b""

    for headers in (karim, other_device):
        assert client.get("/api/v1/me", headers=world.auth(headers)).status_code == 401
        assert client.get("/api/v1/me/export", headers=world.auth(headers)).status_code == 401
    assert _delete(client, karim).status_code == 401
    gone = client.get(f"/api/v1/people/{karim_id}")
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "gone"
    assert (
        client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD}).status_code
        == 401
    )

    assert client.get(f"/api/v1/events/{event['id']}").json()["participant_count"] == 0
    organisation = client.get(f"/api/v1/organisations/{org['id']}").json()
    assert (organisation["followers_count"], organisation["members_count"]) == (0, 1)
    assert karim_id not in _members(client, org["id"])
    assert _members(client, org["id"])[camille["id"]] == ("admin", "accepted")

    items = client.get("/api/v1/changes", params={"since": since}).json()["items"]
    [deleted] = [i for i in items if i["object_type"] == "person"]
    assert deleted["type"] == "Delete"
    assert deleted["object_id"] == karim_id
    assert deleted["actor"] == deleted["object_url"] == f"http://lille.test/people/{karim_id}"
    assert deleted["object"] is None

    with runtime.transaction() as session:
        row = session.get(Person, karim_id)
        assert row is not None
        assert row.deleted_at is not None
        assert (row.email, row.password_hash, row.bio, row.public_profile) == (
            None,
            None,
            "",
            False,
        )
        assert row.name == "Compte supprimé"
        assert row.username.startswith("deleted-")

    again = client.post(
        "/api/v1/accounts", json={"email": email, "password": PASSWORD, "name": "Karim"}
    )
    assert again.status_code == 201, again.text
    assert again.json()["id"] != karim_id
    assert again.json()["username"] == "karim"


def test_organisation_with_another_admin_keeps_its_admins(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    lea = world.account("Léa")
    _co_admin(client, camille, org["id"], lea)
    karim = world.account("Karim")
    _member(client, camille, org["id"], karim)

    assert _delete(client, camille).status_code == 204
    assert _members(client, org["id"]) == {
        lea["id"]: ("admin", "accepted"),
        karim["id"]: ("member", "accepted"),
    }


def test_longest_standing_member_becomes_admin(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    first, second, pending = world.account("Léa"), world.account("Karim"), world.account("Inès")
    for person in (first, second, pending):
        asked = client.post(
            f"/api/v1/organisations/{org['id']}/members", headers=world.auth(person)
        )
        assert asked.status_code == 201
    for person in (second, first):  # accepted in the other order: seniority is the request
        assert (
            client.patch(
                f"/api/v1/organisations/{org['id']}/members/{person['id']}",
                json={"accept": True},
                headers=world.auth(camille),
            ).status_code
            == 200
        )

    assert _delete(client, camille).status_code == 204
    members = _members(client, org["id"])
    assert members == {
        first["id"]: ("admin", "accepted"),
        second["id"]: ("member", "accepted"),
    }
    # the new admin can act as one
    renamed = client.patch(
        f"/api/v1/organisations/{org['id']}",
        json={"name": "La CoFabrik 2"},
        headers=world.auth(first),
    )
    assert renamed.status_code == 200, renamed.text


def test_node_admins_take_over_an_organisation_without_members(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    invited = world.account("Inès")  # invited, never accepted: not a member yet
    assert (
        client.post(
            f"/api/v1/organisations/{org['id']}/invitations",
            json={"person_id": invited["id"]},
            headers=world.auth(camille),
        ).status_code
        == 201
    )
    operator = world.account("Opératrice")
    with runtime.transaction() as session:
        admin = session.get(Person, operator["id"])
        assert admin is not None
        admin.is_admin = True

    assert _delete(client, camille).status_code == 204
    members = _members(client, org["id"])
    assert members == {operator["id"]: ("admin", "accepted")}
    assert client.get(f"/api/v1/organisations/{org['id']}").status_code == 200


def test_organisation_left_without_any_admin_stays_published(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    event = world.event(camille, org["id"])

    with caplog.at_level(logging.WARNING, logger="node.services.privacy"):
        assert _delete(client, camille).status_code == 204
    [warning] = [r for r in caplog.records if r.name == "node.services.privacy"]
    assert warning.levelno == logging.WARNING
    assert org["id"] in warning.getMessage()
    assert "no admin" in warning.getMessage()
    assert _members(client, org["id"]) == {}
    assert client.get(f"/api/v1/organisations/{org['id']}").status_code == 200
    assert client.get(f"/api/v1/events/{event['id']}").status_code == 200


def test_project_passes_to_the_longest_standing_contributor(
    client: TestClient, world: World
) -> None:
    camille = world.account("Camille")
    org = world.organisation(camille)
    lea = world.account("Léa")
    _co_admin(client, camille, org["id"], lea)
    led = _project(client, camille, org["id"])
    alone = _project(client, camille, org["id"])
    first, second = world.account("Karim"), world.account("Inès")
    _contributor(client, camille, led["id"], first)
    _contributor(client, camille, led["id"], second)

    assert _delete(client, camille).status_code == 204
    edited = client.patch(
        f"/api/v1/projects/{led['id']}", json={"stage": "launched"}, headers=world.auth(first)
    )
    assert edited.status_code == 200, edited.text
    refused = client.patch(
        f"/api/v1/projects/{led['id']}", json={"stage": "mature"}, headers=world.auth(second)
    )
    assert refused.status_code == 403
    # no contributor left: the organisation's admins keep it
    kept = client.patch(
        f"/api/v1/projects/{alone['id']}", json={"stage": "launched"}, headers=world.auth(lea)
    )
    assert kept.status_code == 200, kept.text


# --- profiles ------------------------------------------------------------------------


def test_private_profile_is_seen_only_by_its_person(client: TestClient, world: World) -> None:
    camille = world.account("Camille")
    karim = world.account("Karim")
    url = f"/api/v1/people/{camille['id']}"

    assert client.get(url).status_code == 404
    assert client.get(url, headers=world.auth(karim)).status_code == 404
    own = client.get(url, headers=world.auth(camille))
    assert own.status_code == 200
    assert own.json()["id"] == camille["id"]
    assert "email" not in own.json()

    assert (
        client.put(
            "/api/v1/me",
            json={"name": "Camille", "public_profile": True},
            headers=world.auth(camille),
        ).status_code
        == 200
    )
    shown = client.get(url)
    assert shown.status_code == 200
    assert "email" not in shown.json()
    assert client.get(url, headers=world.auth(karim)).status_code == 200


def test_openapi_documents_the_privacy_routes(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/me/export"]
    assert "delete" in paths["/api/v1/me"]
