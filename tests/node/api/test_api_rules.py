"""Relationships and rules through the API (issue 2): membership, invitations, the last
admin, participation (capacity, restricted, external), co-organisers, contributions,
follows, list filters, cursor pagination and PATCH merges."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import World

V1 = "/api/v1"
ORGS, EVENTS, PROJECTS = f"{V1}/organisations", f"{V1}/events", f"{V1}/projects"


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else None


def refused(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] and error["message"]
    return error


def members(
    client: TestClient, org_id: str, viewer: dict[str, str] | None = None
) -> dict[str, str]:
    headers = World.auth(viewer) if viewer else {}
    listed = ok(client.get(f"{ORGS}/{org_id}/members", headers=headers))
    return {m["person_id"]: f"{m['role']}/{m['state']}" for m in listed}


# --- organisations: members, invitations, the last admin ----------------------------------


def test_membership_request_is_pending_until_an_admin_accepts(
    client: TestClient, world: World
) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    org = world.organisation(alice)
    assert org["members_count"] == 1

    asked = ok(client.post(f"{ORGS}/{org['id']}/members", headers=World.auth(bruno)), 201)
    assert (asked["person_id"], asked["role"], asked["state"]) == (bruno["id"], "member", "pending")
    again = ok(client.post(f"{ORGS}/{org['id']}/members", headers=World.auth(bruno)), 201)
    assert again["state"] == "pending"  # asking twice is asking once

    assert bruno["id"] not in members(client, org["id"])  # the public sees accepted members
    assert members(client, org["id"], alice)[bruno["id"]] == "member/pending"
    assert ok(client.get(f"{ORGS}/{org['id']}"))["members_count"] == 1

    # a pending member cannot accept themselves
    refused(
        client.patch(
            f"{ORGS}/{org['id']}/members/{bruno['id']}",
            json={"accept": True},
            headers=World.auth(bruno),
        ),
        403,
    )
    accepted = ok(
        client.patch(
            f"{ORGS}/{org['id']}/members/{bruno['id']}",
            json={"accept": True},
            headers=World.auth(alice),
        )
    )
    assert accepted["state"] == "accepted"
    assert members(client, org["id"])[bruno["id"]] == "member/accepted"
    assert ok(client.get(f"{ORGS}/{org['id']}"))["members_count"] == 2

    # a plain member is not an admin: no edits
    refused(
        client.patch(f"{ORGS}/{org['id']}", json={"name": "Mine"}, headers=World.auth(bruno)),
        403,
    )


def test_invitation_accepted_by_joining(client: TestClient, world: World) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    org = world.organisation(alice)
    invited = ok(
        client.post(
            f"{ORGS}/{org['id']}/invitations",
            json={"person_id": bruno["id"], "role": "admin"},
            headers=World.auth(alice),
        ),
        201,
    )
    assert (invited["role"], invited["state"]) == ("admin", "invited")
    # not yet an admin: the invitation is not accepted
    refused(
        client.patch(f"{ORGS}/{org['id']}", json={"name": "Renamed"}, headers=World.auth(bruno)),
        403,
    )
    joined = ok(client.post(f"{ORGS}/{org['id']}/members", headers=World.auth(bruno)), 201)
    assert (joined["role"], joined["state"]) == ("admin", "accepted")
    renamed = ok(
        client.patch(f"{ORGS}/{org['id']}", json={"name": "Renamed"}, headers=World.auth(bruno))
    )
    assert renamed["name"] == "Renamed"


def test_invitation_of_someone_who_asked_accepts_them(client: TestClient, world: World) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    org = world.organisation(alice)
    ok(client.post(f"{ORGS}/{org['id']}/members", headers=World.auth(bruno)), 201)
    invited = ok(
        client.post(
            f"{ORGS}/{org['id']}/invitations",
            json={"person_id": bruno["id"]},
            headers=World.auth(alice),
        ),
        201,
    )
    assert invited["state"] == "accepted"


def test_the_last_admin_cannot_leave_or_step_down(client: TestClient, world: World) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    org = world.organisation(alice)
    leave = f"{ORGS}/{org['id']}/members/{alice['id']}"
    error = refused(client.delete(leave, headers=World.auth(alice)), 409)
    assert "admin" in error["message"]
    refused(client.patch(leave, json={"role": "member"}, headers=World.auth(alice)), 409)
    assert members(client, org["id"])[alice["id"]] == "admin/accepted"

    # with a second admin, the first may go
    ok(
        client.post(
            f"{ORGS}/{org['id']}/invitations",
            json={"person_id": bruno["id"], "role": "admin"},
            headers=World.auth(alice),
        ),
        201,
    )
    ok(client.post(f"{ORGS}/{org['id']}/members", headers=World.auth(bruno)), 201)
    assert client.delete(leave, headers=World.auth(alice)).status_code == 204
    assert members(client, org["id"]) == {bruno["id"]: "admin/accepted"}
    # and now Bruno is the last one
    refused(
        client.delete(f"{ORGS}/{org['id']}/members/{bruno['id']}", headers=World.auth(bruno)),
        409,
    )


def test_members_leave_and_admins_remove(client: TestClient, world: World) -> None:
    alice, bruno, chloe = world.account("Alice"), world.account("Bruno"), world.account("Chloé")
    org = world.organisation(alice)
    for person in (bruno, chloe):
        ok(client.post(f"{ORGS}/{org['id']}/members", headers=World.auth(person)), 201)
        ok(
            client.patch(
                f"{ORGS}/{org['id']}/members/{person['id']}",
                json={},
                headers=World.auth(alice),
            )
        )
    # a member cannot remove another member
    refused(
        client.delete(f"{ORGS}/{org['id']}/members/{chloe['id']}", headers=World.auth(bruno)),
        403,
    )
    assert (
        client.delete(
            f"{ORGS}/{org['id']}/members/{bruno['id']}", headers=World.auth(bruno)
        ).status_code
        == 204
    )
    assert (
        client.delete(
            f"{ORGS}/{org['id']}/members/{chloe['id']}", headers=World.auth(alice)
        ).status_code
        == 204
    )
    assert members(client, org["id"]) == {alice["id"]: "admin/accepted"}
    refused(
        client.delete(f"{ORGS}/{org['id']}/members/{chloe['id']}", headers=World.auth(alice)),
        404,
    )


# --- follows ------------------------------------------------------------------------------


def test_follow_and_unfollow_counts(client: TestClient, world: World) -> None:
    alice, bruno, chloe = world.account("Alice"), world.account("Bruno"), world.account("Chloé")
    org = world.organisation(alice)
    path = f"{ORGS}/{org['id']}/follow"
    assert org["followers_count"] == 0
    for person in (bruno, bruno, chloe):  # following twice counts once
        assert client.post(path, headers=World.auth(person)).status_code == 204
    assert ok(client.get(f"{ORGS}/{org['id']}"))["followers_count"] == 2
    assert client.delete(path, headers=World.auth(bruno)).status_code == 204
    assert client.delete(path, headers=World.auth(bruno)).status_code == 204  # idempotent
    assert ok(client.get(f"{ORGS}/{org['id']}"))["followers_count"] == 1
    listed = ok(client.get(ORGS))["items"]
    assert [o["followers_count"] for o in listed if o["id"] == org["id"]] == [1]


# --- participation ------------------------------------------------------------------------


def test_capacity_is_honoured(client: TestClient, world: World) -> None:
    alice = world.account("Alice")
    people = [world.account(name) for name in ("Bruno", "Chloé", "Djamel")]
    org = world.organisation(alice)
    event = world.event(alice, org["id"], capacity=2)
    assert (event["remaining_capacity"], event["participant_count"]) == (2, 0)
    join = f"{EVENTS}/{event['id']}/participation"

    assert ok(client.post(join, headers=World.auth(people[0])), 201)["state"] == "going"
    # registering twice is one registration
    assert ok(client.post(join, headers=World.auth(people[0])), 201)["state"] == "going"
    assert ok(client.post(join, headers=World.auth(people[1])), 201)["state"] == "going"
    fetched = ok(client.get(f"{EVENTS}/{event['id']}"))
    assert (fetched["remaining_capacity"], fetched["participant_count"]) == (0, 2)

    error = refused(client.post(join, headers=World.auth(people[2])), 409)
    assert error["fields"] == {"capacity": "full"}

    # leaving frees the seat
    assert client.delete(join, headers=World.auth(people[0])).status_code == 204
    refused(client.delete(join, headers=World.auth(people[0])), 404)
    assert ok(client.get(f"{EVENTS}/{event['id']}"))["remaining_capacity"] == 1
    assert ok(client.post(join, headers=World.auth(people[2])), 201)["state"] == "going"
    going = ok(client.get(f"{EVENTS}/{event['id']}/participants", headers=World.auth(alice)))
    assert {p["person_id"] for p in going} == {people[1]["id"], people[2]["id"]}


def test_restricted_registration_waits_for_the_organisers(client: TestClient, world: World) -> None:
    alice, bruno, chloe = world.account("Alice"), world.account("Bruno"), world.account("Chloé")
    org = world.organisation(alice)
    event = world.event(alice, org["id"], join_mode="restricted", capacity=1)
    join = f"{EVENTS}/{event['id']}/participation"
    assert ok(client.post(join, headers=World.auth(bruno)), 201)["state"] == "pending"
    assert ok(client.post(join, headers=World.auth(chloe)), 201)["state"] == "pending"
    assert ok(client.get(f"{EVENTS}/{event['id']}"))["participant_count"] == 0

    decide = f"{EVENTS}/{event['id']}/participants"
    refused(
        client.patch(f"{decide}/{bruno['id']}", json={"state": "going"}, headers=World.auth(bruno)),
        403,
    )
    accepted = ok(
        client.patch(f"{decide}/{bruno['id']}", json={"state": "going"}, headers=World.auth(alice))
    )
    assert accepted["state"] == "going"
    # the only seat is taken: accepting a second one is a conflict
    refused(
        client.patch(f"{decide}/{chloe['id']}", json={"state": "going"}, headers=World.auth(alice)),
        409,
    )
    declined = ok(
        client.patch(
            f"{decide}/{chloe['id']}", json={"state": "rejected"}, headers=World.auth(alice)
        )
    )
    assert declined["state"] == "rejected"
    # declined stays declined
    refused(client.post(join, headers=World.auth(chloe)), 409)
    fetched = ok(client.get(f"{EVENTS}/{event['id']}"))
    assert (fetched["participant_count"], fetched["remaining_capacity"]) == (1, 0)


def test_external_registration_is_elsewhere(client: TestClient, world: World) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    org = world.organisation(alice)
    event = world.event(
        alice,
        org["id"],
        join_mode="external",
        external_participation_url="https://billetterie.example/repair",
    )
    error = refused(
        client.post(f"{EVENTS}/{event['id']}/participation", headers=World.auth(bruno)), 409
    )
    assert "billetterie.example" in error["message"]


def test_cancelled_and_past_events_take_no_registrations(client: TestClient, world: World) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    org = world.organisation(alice)
    cancelled = world.event(alice, org["id"])
    ok(
        client.patch(
            f"{EVENTS}/{cancelled['id']}", json={"status": "cancelled"}, headers=World.auth(alice)
        )
    )
    past = world.event(
        alice, org["id"], starts_at="2020-05-16T14:00:00", ends_at="2020-05-16T18:00:00"
    )
    for event in (cancelled, past):
        refused(
            client.post(f"{EVENTS}/{event['id']}/participation", headers=World.auth(bruno)), 409
        )


# --- co-organisers -------------------------------------------------------------------------


def test_co_organisers_need_both_admins_and_either_may_edit(
    client: TestClient, world: World
) -> None:
    alice, bruno, chloe = world.account("Alice"), world.account("Bruno"), world.account("Chloé")
    org_a = world.organisation(alice, name="Atelier A")
    org_b = world.organisation(bruno, name="Bureau B")

    # Alice does not administer B: she cannot name it co-organiser
    body = {
        "name": "Fête des voisins",
        "organisation_id": org_a["id"],
        "co_organiser_ids": [org_b["id"]],
        "starts_at": "2030-06-20T18:00:00",
        "ends_at": "2030-06-20T23:00:00",
        "online_url": "https://visio.example/fete",
    }
    refused(client.post(EVENTS, json=body, headers=World.auth(alice)), 403)

    # once admin of both, she can
    ok(
        client.post(
            f"{ORGS}/{org_b['id']}/invitations",
            json={"person_id": alice["id"], "role": "admin"},
            headers=World.auth(bruno),
        ),
        201,
    )
    ok(client.post(f"{ORGS}/{org_b['id']}/members", headers=World.auth(alice)), 201)
    event = ok(client.post(EVENTS, json=body, headers=World.auth(alice)), 201)
    assert [o["id"] for o in event["organisers"]] == [org_a["id"], org_b["id"]]

    # Bruno administers only B, yet may edit the event; Chloé may not
    edited = ok(
        client.patch(
            f"{EVENTS}/{event['id']}", json={"name": "Fête de quartier"}, headers=World.auth(bruno)
        )
    )
    assert edited["name"] == "Fête de quartier"
    assert [o["id"] for o in edited["organisers"]] == [org_a["id"], org_b["id"]]
    refused(
        client.patch(f"{EVENTS}/{event['id']}", json={"name": "Mine"}, headers=World.auth(chloe)),
        403,
    )
    # Bruno sees the participants; Chloé does not
    ok(client.get(f"{EVENTS}/{event['id']}/participants", headers=World.auth(bruno)))
    refused(client.get(f"{EVENTS}/{event['id']}/participants", headers=World.auth(chloe)), 403)

    # the event is listed under both organisations
    for org in (org_a, org_b):
        listed = ok(client.get(EVENTS, params={"organisation_id": org["id"]}))["items"]
        assert [e["id"] for e in listed] == [event["id"]]

    # deleting B leaves the event to A
    assert client.delete(f"{ORGS}/{org_b['id']}", headers=World.auth(bruno)).status_code == 204
    kept = ok(client.get(f"{EVENTS}/{event['id']}"))
    assert [o["id"] for o in kept["organisers"]] == [org_a["id"]]


def test_a_co_organiser_cannot_remove_the_other_organisers(
    client: TestClient, world: World
) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    org_a = world.organisation(alice, name="Atelier A")
    org_b = world.organisation(bruno, name="Bureau B")
    ok(
        client.post(
            f"{ORGS}/{org_b['id']}/invitations",
            json={"person_id": alice["id"], "role": "admin"},
            headers=World.auth(bruno),
        ),
        201,
    )
    ok(client.post(f"{ORGS}/{org_b['id']}/members", headers=World.auth(alice)), 201)
    event = world.event(alice, org_a["id"], co_organiser_ids=[org_b["id"]])
    takeover = client.patch(
        f"{EVENTS}/{event['id']}",
        json={"organisation_id": org_b["id"], "co_organiser_ids": []},
        headers=World.auth(bruno),
    )
    assert takeover.status_code == 403, takeover.text
    kept = ok(client.get(f"{EVENTS}/{event['id']}"))
    assert [o["id"] for o in kept["organisers"]] == [org_a["id"], org_b["id"]]


# --- projects ------------------------------------------------------------------------------


def test_project_contribution_request_and_acceptance(client: TestClient, world: World) -> None:
    alice, bruno = world.account("Alice"), world.account("Bruno")
    org = world.organisation(alice)
    project = ok(
        client.post(
            PROJECTS,
            json={"name": "Jardin partagé", "organisation_id": org["id"], "themes": ["food"]},
            headers=World.auth(alice),
        ),
        201,
    )
    assert project["organisation"]["id"] == org["id"]
    assert project["stage"] == "idea"

    offer = ok(
        client.post(f"{PROJECTS}/{project['id']}/contribution", headers=World.auth(bruno)), 201
    )
    assert (offer["state"], offer["role"]) == ("pending", "member")
    contributor = f"{PROJECTS}/{project['id']}/contributors/{bruno['id']}"
    refused(client.patch(contributor, json={"role": "admin"}, headers=World.auth(bruno)), 403)
    refused(
        client.patch(
            f"{PROJECTS}/{project['id']}", json={"stage": "launched"}, headers=World.auth(bruno)
        ),
        403,
    )
    accepted = ok(client.patch(contributor, json={"role": "admin"}, headers=World.auth(alice)))
    assert (accepted["state"], accepted["role"]) == ("accepted", "admin")

    # a project admin edits the project (but cannot move it to another organisation)
    launched = ok(
        client.patch(
            f"{PROJECTS}/{project['id']}", json={"stage": "launched"}, headers=World.auth(bruno)
        )
    )
    assert launched["stage"] == "launched"
    assert launched["themes"] == ["food"]

    # withdrawing
    assert client.delete(contributor, headers=World.auth(bruno)).status_code == 204
    refused(client.delete(contributor, headers=World.auth(bruno)), 404)
    refused(
        client.patch(
            f"{PROJECTS}/{project['id']}", json={"stage": "mature"}, headers=World.auth(bruno)
        ),
        403,
    )


# --- lists: filters and pagination ----------------------------------------------------------


def test_event_list_filters(client: TestClient, world: World) -> None:
    alice = world.account("Alice")
    org_a = world.organisation(alice, name="Atelier A")
    org_b = world.organisation(alice, name="Bureau B")
    repair = world.event(alice, org_a["id"], themes=["sharing"], tags=["Réparation"])
    concert = world.event(
        alice,
        org_b["id"],
        name="Concert",
        themes=["culture"],
        tags=["musique"],
        starts_at="2030-06-01T20:00:00",
        ends_at="2030-06-01T23:00:00",
    )
    past = world.event(
        alice,
        org_a["id"],
        name="Ancien",
        themes=["culture"],
        starts_at="2021-06-01T20:00:00",
        ends_at="2021-06-01T23:00:00",
    )
    older = world.event(
        alice,
        org_a["id"],
        name="Plus ancien",
        themes=["sharing"],
        starts_at="2019-06-01T20:00:00",
        ends_at="2019-06-01T23:00:00",
    )

    def ids(**params: Any) -> list[str]:
        return [e["id"] for e in ok(client.get(EVENTS, params=params))["items"]]

    assert ids() == [repair["id"], concert["id"]]  # upcoming, soonest first
    assert ids(when="past") == [past["id"], older["id"]]  # latest first
    assert set(ids(when="all")) == {repair["id"], concert["id"], past["id"], older["id"]}
    assert ids(theme="culture") == [concert["id"]]
    assert ids(theme="culture", when="past") == [past["id"]]
    assert ids(theme=["culture", "sharing"]) == [repair["id"], concert["id"]]
    assert ids(tag="reparation") == [repair["id"]]
    assert ids(tag="#Réparation") == [repair["id"]]  # tags are normalised on the way in
    assert ids(tag="nothing-like-it") == []
    assert ids(organisation_id=org_b["id"]) == [concert["id"]]
    assert ids(organisation_id=org_a["id"], when="all") == [older["id"], past["id"], repair["id"]]
    assert ids(origin="local") == [repair["id"], concert["id"]]
    assert ids(origin="mobilizon.example") == []


def test_organisation_and_project_filters(client: TestClient, world: World) -> None:
    alice = world.account("Alice")
    food = world.organisation(alice, name="Amap", themes=["food"], tags=["bio"], kind="association")
    coop = world.organisation(alice, name="Coop", themes=["energy"], kind="cooperative")
    projects = {}
    for name, org, stage, themes in (
        ("Compost", food, "idea", ["environment"]),
        ("Panneaux", coop, "launched", ["energy"]),
    ):
        projects[name] = ok(
            client.post(
                PROJECTS,
                json={"name": name, "organisation_id": org["id"], "stage": stage, "themes": themes},
                headers=World.auth(alice),
            ),
            201,
        )["id"]

    def org_ids(**params: Any) -> list[str]:
        return [o["id"] for o in ok(client.get(ORGS, params=params))["items"]]

    def project_ids(**params: Any) -> list[str]:
        return [p["id"] for p in ok(client.get(PROJECTS, params=params))["items"]]

    assert org_ids(theme="food") == [food["id"]]
    assert org_ids(tag="bio") == [food["id"]]
    assert org_ids(kind="cooperative") == [coop["id"]]
    assert org_ids(theme=["food", "energy"]) == [food["id"], coop["id"]]  # by name
    assert project_ids(theme="energy") == [projects["Panneaux"]]
    assert project_ids(stage="idea") == [projects["Compost"]]
    assert project_ids(organisation_id=food["id"]) == [projects["Compost"]]
    assert project_ids() == [projects["Panneaux"], projects["Compost"]]  # newest first


def _walk(client: TestClient, path: str, limit: int, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(50):
        query = {**params, "limit": limit} | ({"cursor": cursor} if cursor else {})
        page = ok(client.get(path, params=query))
        assert len(page["items"]) <= limit
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            return seen
    raise AssertionError("pagination does not end")


def test_cursor_pagination_visits_everything_once(client: TestClient, world: World) -> None:
    alice = world.account("Alice")
    orgs = [
        world.organisation(alice, name=name)
        for name in ("Bêta", "Alpha", "Bêta", "Gamma", "Alpha", "Delta", "Bêta")
    ]
    org_id = orgs[0]["id"]
    # events with equal start times: the id breaks the tie
    starts = [
        "2030-01-05",
        "2030-01-03",
        "2030-01-03",
        "2030-01-04",
        "2030-01-03",
        "2030-01-01",
        "2030-01-02",
    ]
    events = [
        world.event(
            alice, org_id, name=f"E{n}", starts_at=f"{day}T10:00:00", ends_at=f"{day}T12:00:00"
        )
        for n, day in enumerate(starts)
    ]
    past = [
        world.event(
            alice,
            org_id,
            name=f"P{n}",
            starts_at="2020-01-01T10:00:00",
            ends_at="2020-01-01T12:00:00",
        )
        for n in range(4)
    ]
    projects = [
        ok(
            client.post(
                PROJECTS,
                json={"name": f"Projet {n}", "organisation_id": org_id},
                headers=World.auth(alice),
            ),
            201,
        )["id"]
        for n in range(5)
    ]

    all_orgs = [o["id"] for o in ok(client.get(ORGS, params={"limit": 200}))["items"]]
    assert sorted(all_orgs) == sorted(o["id"] for o in orgs)
    all_events = [e["id"] for e in ok(client.get(EVENTS, params={"limit": 200}))["items"]]
    assert sorted(all_events) == sorted(e["id"] for e in events)
    all_past = [e["id"] for e in ok(client.get(EVENTS, params={"when": "past"}))["items"]]
    assert sorted(all_past) == sorted(e["id"] for e in past)
    assert ok(client.get(PROJECTS))["items"][0]["id"] == projects[-1]

    for limit in (1, 2, 3, 7):
        assert _walk(client, ORGS, limit) == all_orgs
        assert _walk(client, EVENTS, limit) == all_events
        assert _walk(client, EVENTS, limit, when="past") == all_past
        assert _walk(client, PROJECTS, limit) == list(reversed(projects))
    names = [o["name"] for o in ok(client.get(ORGS))["items"]]
    assert names == sorted(names)
    assert ok(client.get(EVENTS, params={"limit": 7}))["next"] is None


# --- PATCH -----------------------------------------------------------------------------------


def test_patch_merges_and_revalidates_the_whole(client: TestClient, world: World) -> None:
    alice = world.account("Alice")
    org = world.organisation(alice, website="https://cofabrik.example", tags=["Bois"])
    event = world.event(alice, org["id"], capacity=12, online_url="https://visio.example/r")
    path = f"{EVENTS}/{event['id']}"

    renamed = ok(client.patch(path, json={"name": "Repair café d'été"}, headers=World.auth(alice)))
    unchanged = {k: v for k, v in event.items() if k not in {"name", "updated"}}
    assert {k: renamed[k] for k in unchanged} == unchanged
    assert renamed["name"] == "Repair café d'été"

    # ends_at before the stored starts_at: the merge is refused, naming the field
    error = refused(
        client.patch(path, json={"ends_at": "2030-05-16T13:00:00"}, headers=World.auth(alice)),
        422,
    )
    assert "ends_at" in error["fields"]
    # a new start after the stored end: starts and ends stay coherent
    error = refused(
        client.patch(path, json={"starts_at": "2030-05-16T19:00:00"}, headers=World.auth(alice)),
        422,
    )
    assert "ends_at" in error["fields"]
    # moving both at once is fine
    moved = ok(
        client.patch(
            path,
            json={"starts_at": "2030-05-17T19:00:00", "ends_at": "2030-05-17T21:00:00"},
            headers=World.auth(alice),
        )
    )
    assert moved["starts_at"] == "2030-05-17T19:00:00+02:00"
    assert moved["capacity"] == 12 and moved["place"] == event["place"]

    # dropping the place keeps the event reachable online; dropping both is refused
    online = ok(client.patch(path, json={"place": None}, headers=World.auth(alice)))
    assert online["place"] is None and online["online_url"] == "https://visio.example/r"
    error = refused(client.patch(path, json={"online_url": None}, headers=World.auth(alice)), 422)
    assert "online_url" in error["fields"]
    assert ok(client.get(path))["online_url"] == "https://visio.example/r"

    # an organisation PATCH keeps what it does not mention
    patched = ok(
        client.patch(f"{ORGS}/{org['id']}", json={"themes": ["digital"]}, headers=World.auth(alice))
    )
    assert patched["themes"] == ["digital"]
    assert patched["website"] == "https://cofabrik.example"
    assert patched["tags"] == ["bois"]
    assert patched["place"] == org["place"]
    refused(
        client.patch(f"{ORGS}/{org['id']}", json={"website": "ftp://x"}, headers=World.auth(alice)),
        422,
    )
    assert ok(client.get(f"{ORGS}/{org['id']}"))["website"] == "https://cofabrik.example"


def test_deleted_objects_answer_gone(client: TestClient, world: World) -> None:
    alice = world.account("Alice")
    org = world.organisation(alice)
    event = world.event(alice, org["id"])
    project = ok(
        client.post(
            PROJECTS, json={"name": "P", "organisation_id": org["id"]}, headers=World.auth(alice)
        ),
        201,
    )
    assert client.delete(f"{ORGS}/{org['id']}", headers=World.auth(alice)).status_code == 204
    for path in (f"{ORGS}/{org['id']}", f"{EVENTS}/{event['id']}", f"{PROJECTS}/{project['id']}"):
        assert refused(client.get(path), 410)["code"] == "gone"
    assert ok(client.get(EVENTS, params={"when": "all"}))["items"] == []
    assert ok(client.get(PROJECTS))["items"] == []
