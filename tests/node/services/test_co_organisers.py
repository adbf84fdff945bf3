"""Co-organisers: finding the organisation a person names; refusals name the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from node.errors import Invalid
from node.models import Organisation
from node.runtime import Runtime
from node.services import events
from node.urls import Urls
from tests.conftest import PUBLIC_URL, World

URLS = Urls(PUBLIC_URL)


def test_an_organisation_is_found_by_address_id_username_or_name(
    runtime: Runtime, world: World
) -> None:
    alice = world.account("Alice")
    org = world.organisation(alice, name="Maison du Vélo")
    gone = world.organisation(alice, name="Ancienne asso")
    assert (
        world.client.delete(
            f"/api/v1/organisations/{gone['id']}", headers=World.auth(alice)
        ).status_code
        == 204
    )
    with runtime.transaction() as session:
        remote = Organisation(
            ap_id="https://gancio.example/u/velo", origin="gancio.example",
            username="velo@gancio.example", name="Atelier vélo", kind="association",
        )  # fmt: skip
        session.add(remote)
        session.flush()
        found = {
            reference: events.find_organisation(session, reference, URLS).id
            for reference in (
                f"{PUBLIC_URL}/organisations/{org['id']}",
                f"{PUBLIC_URL}/organisations/{org['id']}/",
                f"/organisations/{org['id']}",
                org["id"],
                f"@{org['username']}",
                f"{org['username']}@lille.test",
                "  maison du vélo ",
                "https://gancio.example/u/velo",
                "velo@gancio.example",
                "@VELO@gancio.example",
            )
        }
        assert set(found.values()) == {org["id"], remote.id}
        for unknown in ("", "Ancienne asso", f"/organisations/{gone['id']}", "velo@other.example"):
            with pytest.raises(Invalid) as refused:
                events.find_organisation(session, unknown, URLS)
            assert refused.value.fields == {"co_organiser": events.CO_ORGANISER_UNKNOWN}


def test_a_refused_co_organiser_names_the_field(client: TestClient, world: World) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    org_a = world.organisation(alice, name="Atelier A")
    org_b = world.organisation(bruno, name="Bureau B")
    event = world.event(alice, org_a["id"])
    added = client.patch(
        f"/api/v1/events/{event['id']}",
        json={"co_organiser_ids": [org_b["id"]]},
        headers=World.auth(alice),
    )
    assert added.status_code == 403
    assert added.json()["error"]["fields"] == {"co_organiser_ids": events.CO_ORGANISER_ADD}
    # the main organiser stays a plain 403 (a form cannot fix it)
    taken = client.patch(
        f"/api/v1/events/{event['id']}",
        json={"organisation_id": org_b["id"]},
        headers=World.auth(alice),
    )
    assert taken.status_code == 403 and "fields" not in taken.json()["error"]
