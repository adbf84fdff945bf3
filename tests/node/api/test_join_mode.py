"""How an organisation takes members (``join_mode``) through the API: set, changed,
refused when unknown (422 naming it), documented in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import World

ORGS = "/api/v1/organisations"


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def test_join_mode_is_set_changed_and_kept(client: TestClient, world: World) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    assert world.organisation(alice)["join_mode"] == "restricted"  # the default
    org = world.organisation(alice, name="Jardin partagé", join_mode="open")
    assert org["join_mode"] == "open"
    path, admin = f"{ORGS}/{org['id']}", World.auth(alice)

    # open: asking is joining
    joined = ok(client.post(f"{path}/members", headers=World.auth(bruno)), 201)
    assert joined["state"] == "accepted"

    assert ok(client.patch(path, json={"join_mode": "invite"}, headers=admin))["join_mode"] == (
        "invite"
    )
    # a PATCH of another field keeps it
    assert ok(client.patch(path, json={"name": "Jardin"}, headers=admin))["join_mode"] == "invite"
    assert ok(client.get(path))["join_mode"] == "invite"
    chloe = world.account("Chloé")
    asked = ok(client.post(f"{path}/members", headers=World.auth(chloe)), 201)
    assert asked["state"] == "pending"

    refused = client.patch(path, json={"join_mode": "everyone"}, headers=admin)
    assert refused.status_code == 422
    assert "join_mode" in refused.json()["error"]["fields"]
    assert ok(client.get(path))["join_mode"] == "invite"


def test_openapi_documents_join_mode(client: TestClient) -> None:
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    for name in ("OrganisationIn", "OrganisationInPatch"):
        field = schemas[name]["properties"]["join_mode"]
        assert "Mobilizon" in field["description"] and "`invite`" in field["description"]
    assert schemas["MembershipMode"]["enum"] == ["open", "restricted", "invite"]
    assert "join_mode" in schemas["OrganisationOut"]["properties"]
