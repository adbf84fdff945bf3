"""Groups across servers: a citizen follows an organisation of another server, a person of
another server joins one of ours (``Join{Group}``), and blocking a domain forgets it."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import col, select

import web.plugin
from federation import peers
from node.api.app import create_app
from node.cli import main
from node.models import (
    Event,
    Follow,
    Follower,
    InboxItem,
    Job,
    Label,
    Membership,
    Organisation,
    Participation,
    Person,
    Place,
    RemoteActor,
)
from tests.federation.conftest import PASSWORD, Node, Nodes
from tests.federation.peer import FakePeer, Received
from tests.web.conftest import Browser

AS = "https://www.w3.org/ns/activitystreams"
MOBILIZON = "mobilizon.test"


@pytest.fixture
def mobilizon(nodes: Nodes) -> FakePeer:
    return FakePeer(MOBILIZON, nodes.network)


def received(peer: FakePeer, kind: str) -> list[Received]:
    return [r for r in peer.received if r.activity.get("type") == kind]


def person_url(node: Node, person_id: str) -> str:
    return f"{node.url}/people/{person_id}"


def remote_group(peer: FakePeer, node: Node, nodes: Nodes, username: str = "velo") -> str:
    """A Mobilizon group whose copy ``node`` stores (it received the group's ``Create``)."""
    path = f"/@{username}"
    group = peer.actor(path, kind="Group", username=username, name=f"Groupe {username}")
    create = {
        "@context": AS,
        "id": f"{group}/create",
        "type": "Create",
        "actor": group,
        "object": peer.documents[path],
    }
    assert peer.send(group, f"{node.url}/inbox", create).status_code == 202
    nodes.settle()
    return group


def copy_id(node: Node, ap_id: str) -> str:
    with node.runtime.transaction() as session:
        found = session.scalar(select(col(Organisation.id)).where(col(Organisation.ap_id) == ap_id))
    assert found is not None, f"{node.host} has no copy of {ap_id}"
    return found


def event_copy(node: Node, ap_id: str) -> str:
    with node.runtime.transaction() as session:
        found = session.scalar(select(col(Event.id)).where(col(Event.ap_id) == ap_id))
    assert found is not None, f"{node.host} has no copy of {ap_id}"
    return found


def follow_state(node: Node, person_id: str, org_id: str) -> str | None:
    with node.runtime.transaction() as session:
        return session.scalar(
            select(col(Follow.state)).where(
                col(Follow.person_id) == person_id, col(Follow.organisation_id) == org_id
            )
        )


def follow_sent(node: Node, nodes: Nodes, peer: FakePeer, token: str, org_id: str) -> str:
    """The person follows the copy; the group's server receives a signed ``Follow``: its id."""
    assert node.api("POST", f"/organisations/{org_id}/follow", token).status_code == 204
    nodes.settle()
    [follow] = received(peer, "Follow")
    assert follow.error is None, follow.error
    return str(follow.activity["id"])


# --- a citizen follows a group of another server ---------------------------------------------


def test_following_a_mobilizon_group_waits_for_its_accept(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    lille = nodes.lille
    group = remote_group(mobilizon, lille, nodes)
    org_id = copy_id(lille, group)
    token, person_id = lille.account("Camille")
    camille = person_url(lille, person_id)

    follow_id = follow_sent(lille, nodes, mobilizon, token, org_id)
    [follow] = received(mobilizon, "Follow")
    assert follow.path == "/@velo/inbox"
    assert follow.verified_key == f"{camille}#main-key"
    assert (follow.activity["actor"], follow.activity["object"]) == (camille, group)
    assert follow_state(lille, person_id, org_id) == "pending"
    # following again while pending sends nothing more
    assert lille.api("POST", f"/organisations/{org_id}/follow", token).status_code == 204
    nodes.settle()
    assert len(received(mobilizon, "Follow")) == 1

    accept = {
        "@context": AS,
        "id": f"{mobilizon.base}/accept/follow/1",
        "type": "Accept",
        "actor": group,
        "object": {"id": follow_id, "type": "Follow", "actor": camille, "object": group},
    }
    assert mobilizon.send(group, f"{lille.url}/inbox", accept).status_code == 202
    nodes.settle()
    assert follow_state(lille, person_id, org_id) == "accepted"

    # the same Accept delivered again (a fresh signature) changes nothing
    assert mobilizon.send(group, f"{lille.url}/inbox", accept, later=1).status_code == 202
    nodes.settle()
    assert follow_state(lille, person_id, org_id) == "accepted"

    # the group's events arrive through Create, as any copy
    event = {
        "id": f"{mobilizon.base}/events/balade",
        "type": "Event",
        "name": "Balade à vélo",
        "startTime": "2030-06-01T10:00:00+02:00",
        "endTime": "2030-06-01T12:00:00+02:00",
        "timezone": "Europe/Paris",
        "attributedTo": group,
    }
    create = {"id": f"{event['id']}/activity", "type": "Create", "actor": group, "object": event}
    assert mobilizon.send(group, f"{lille.url}/inbox", create).status_code == 202
    nodes.settle()
    hits = lille.search(q="balade")["hits"]
    assert [(h["name"], h["origin"]) for h in hits] == [("Balade à vélo", MOBILIZON)]


def test_a_mastodon_shaped_accept_names_only_the_follow(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    lille = nodes.lille
    group = remote_group(mobilizon, lille, nodes)
    org_id = copy_id(lille, group)
    token, person_id = lille.account()
    follow_id = follow_sent(lille, nodes, mobilizon, token, org_id)

    # another server answering for the group is not heard
    other = FakePeer("elsewhere.test", nodes.network)
    intruder = other.actor("/users/eve", username="eve")
    forged = {"id": f"{intruder}#accept", "type": "Accept", "actor": intruder, "object": follow_id}
    assert other.send(intruder, f"{lille.url}/inbox", forged).status_code == 202
    nodes.settle()
    assert follow_state(lille, person_id, org_id) == "pending"

    accept = {"id": f"{group}#accepts/1", "type": "Accept", "actor": group, "object": follow_id}
    assert mobilizon.send(group, f"{lille.url}/inbox", accept).status_code == 202
    nodes.settle()
    assert follow_state(lille, person_id, org_id) == "accepted"


def test_an_accept_of_a_follow_of_its_own_making_is_matched_by_who_follows_whom(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    lille = nodes.lille
    group = remote_group(mobilizon, lille, nodes)
    org_id = copy_id(lille, group)
    token, person_id = lille.account()
    follow_sent(lille, nodes, mobilizon, token, org_id)
    camille = person_url(lille, person_id)
    accept = {
        "id": f"{group}#accepts/2",
        "type": "Accept",
        "actor": group,
        "object": {"type": "Follow", "actor": camille, "object": group},
    }
    assert mobilizon.send(group, f"{lille.url}/inbox", accept).status_code == 202
    nodes.settle()
    assert follow_state(lille, person_id, org_id) == "accepted"


def test_a_rejected_follow_is_dropped(nodes: Nodes, mobilizon: FakePeer) -> None:
    lille = nodes.lille
    group = remote_group(mobilizon, lille, nodes)
    org_id = copy_id(lille, group)
    token, person_id = lille.account()
    follow_id = follow_sent(lille, nodes, mobilizon, token, org_id)
    reject = {
        "id": f"{mobilizon.base}/reject/follow/1",
        "type": "Reject",
        "actor": group,
        "object": {"id": follow_id, "type": "Follow", "actor": person_url(lille, person_id),
                   "object": group},
    }
    assert mobilizon.send(group, f"{lille.url}/inbox", reject).status_code == 202
    nodes.settle()
    assert follow_state(lille, person_id, org_id) is None
    # the person may ask again: a new Follow
    follow_sent_again = lille.api("POST", f"/organisations/{org_id}/follow", token)
    assert follow_sent_again.status_code == 204
    nodes.settle()
    assert [r.activity["id"] for r in received(mobilizon, "Follow")][1] != follow_id


def test_unfollowing_sends_undo_follow(nodes: Nodes, mobilizon: FakePeer) -> None:
    lille = nodes.lille
    group = remote_group(mobilizon, lille, nodes)
    org_id = copy_id(lille, group)
    token, person_id = lille.account()
    camille = person_url(lille, person_id)
    follow_id = follow_sent(lille, nodes, mobilizon, token, org_id)
    accept = {"id": f"{group}#accepts/3", "type": "Accept", "actor": group, "object": follow_id}
    mobilizon.send(group, f"{lille.url}/inbox", accept)
    nodes.settle()

    assert lille.api("DELETE", f"/organisations/{org_id}/follow", token).status_code == 204
    nodes.settle()
    [undo] = received(mobilizon, "Undo")
    assert undo.error is None and undo.verified_key == f"{camille}#main-key"
    assert undo.path == "/@velo/inbox"
    assert undo.activity["actor"] == camille
    assert undo.activity["object"] == {
        "id": follow_id, "type": "Follow", "actor": camille, "object": group,
    }
    assert follow_state(lille, person_id, org_id) is None


def test_a_citizen_follows_an_organisation_of_another_maillon(nodes: Nodes) -> None:
    """Maillon to Maillon: Roubaix accepts at once, records the follower, forgets it on
    Undo."""
    lille, roubaix = nodes.lille, nodes.roubaix
    peers.follow(lille.federation, "http://roubaix.test")
    nodes.settle()
    owner, _ = roubaix.account("Nadia")
    org = roubaix.organisation(owner, name="Vélo Roubaix")
    nodes.settle()
    org_id = copy_id(lille, org["url"])
    token, person_id = lille.account("Camille")

    assert lille.api("POST", f"/organisations/{org_id}/follow", token).status_code == 204
    nodes.settle()
    assert follow_state(lille, person_id, org_id) == "accepted"
    with roubaix.runtime.transaction() as session:
        followers = session.scalars(
            select(col(Follower.follower)).where(col(Follower.actor) == org["url"])
        ).all()
    assert followers == [person_url(lille, person_id)]

    assert lille.api("DELETE", f"/organisations/{org_id}/follow", token).status_code == 204
    nodes.settle()
    with roubaix.runtime.transaction() as session:
        assert session.scalar(select(Follower).where(col(Follower.actor) == org["url"])) is None


AP_JSON = {"Accept": "application/activity+json"}


def test_a_pending_follow_is_shown_pending_and_counted_nowhere(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    """Until the group accepts: the organisation page offers to withdraw the request, the
    agenda lists the group marked pending, and neither the group's follower count nor the
    person's ``following`` collection counts it."""
    lille = nodes.lille
    group = remote_group(mobilizon, lille, nodes)
    org_id = copy_id(lille, group)
    web.plugin.register(lille.runtime)  # the pages, on Lille's runtime
    app = create_app(lille.runtime.settings, runtime=lille.runtime, workers=0)
    with TestClient(app, base_url=lille.url) as client:
        browser = Browser(client)
        browser.signup("Camille", "camille@lille.example")
        token = lille.api("POST", "/tokens", json={"email": "camille@lille.example",
                                                  "password": PASSWORD}).json()["token"]
        camille = lille.api("PUT", "/me", token, json={"name": "Camille",
                                                      "public_profile": True}).json()["url"]
        followed = browser.post(f"/organisations/{org_id}/follow", {"action": "follow"},
                                page=f"/organisations/{org_id}")
        assert followed.status_code == 303, followed.text
        page = browser.get(f"/organisations/{org_id}").text
        assert "Withdraw my request" in page or "Retirer ma demande" in page
        assert followed_in_agenda(browser, org_id) == "pending"
        assert followers_count(lille, org_id) == 0
        assert following(lille, camille) == []

        nodes.settle()
        follow_id = received(mobilizon, "Follow")[0].activity["id"]
        accept = {"id": f"{group}#accepts/4", "type": "Accept", "actor": group, "object": follow_id}
        mobilizon.send(group, f"{lille.url}/inbox", accept)
        nodes.settle()
        page = browser.get(f"/organisations/{org_id}").text
        assert "Withdraw my request" not in page and "Retirer ma demande" not in page
        assert "Stop following" in page or "Ne plus suivre" in page
        assert followed_in_agenda(browser, org_id) == "accepted"
        assert followers_count(lille, org_id) == 1
        assert following(lille, camille) == [group]


def followed_in_agenda(browser: Browser, org_id: str) -> str | None:
    """How "My agenda" lists the organisation among those followed."""
    page = browser.get("/agenda").text
    section = page[page.index('id="followed-title"'):page.index('id="mine-title"')]
    found = re.search(rf'<li><a href="/organisations/{org_id}">[^<]*</a>(.*?)</li>', section)
    if found is None:
        return None
    return "pending" if 'class="badge"' in found.group(1) else "accepted"


def followers_count(node: Node, org_id: str) -> int:
    answer = node.api("GET", f"/organisations/{org_id}")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["followers_count"])


def collection_items(node: Node, url: str) -> tuple[int, list[Any]]:
    """``totalItems`` of an ActivityPub collection, and the items of its first page."""
    whole = node.http.get(url, headers=AP_JSON)
    first = node.http.get(f"{url}?page=1", headers=AP_JSON)
    assert whole.status_code == first.status_code == 200, whole.text
    return int(whole.json()["totalItems"]), list(first.json()["orderedItems"])


def following(node: Node, person: str) -> list[Any]:
    total, items = collection_items(node, f"{person}/following")
    assert total == len(items)
    return items


def test_the_followers_of_our_organisations_are_the_accepted_follows(nodes: Nodes) -> None:
    """Our own organisations accept at once; a follow in any other state (none is made
    today) is not a follower: the rule holds whatever wrote the row."""
    lille = nodes.lille
    admin, _ = lille.account("Admin")
    org = lille.organisation(admin)
    people = {}
    for name in ("Camille", "Sam"):
        token, person_id = lille.account(name)
        assert lille.api("PUT", "/me", token, json={"name": name,
                                                   "public_profile": True}).status_code == 200
        assert lille.api("POST", f"/organisations/{org['id']}/follow", token).status_code == 204
        people[name] = person_id
    with lille.runtime.transaction() as session:
        session.scalars(
            select(Follow).where(col(Follow.person_id) == people["Sam"])
        ).one().state = "pending"
    assert followers_count(lille, org["id"]) == 1
    assert collection_items(lille, f"{org['url']}/followers") == (
        1, [person_url(lille, people["Camille"])]
    )


# --- a person of another server joins one of our organisations --------------------------------


def members(node: Node, token: str, org_id: str) -> dict[str, str]:
    """name → membership state, as an admin sees them."""
    answer = node.api("GET", f"/organisations/{org_id}/members", token)
    assert answer.status_code == 200, answer.text
    return {m["name"]: m["state"] for m in answer.json()}


def member_id(node: Node, token: str, org_id: str, name: str) -> str:
    answer = node.api("GET", f"/organisations/{org_id}/members", token)
    return str(next(m["person_id"] for m in answer.json() if m["name"] == name))


def join(peer: FakePeer, person: str, node: Node, org_url: str, n: int, later: int = 0) -> str:
    """Mobilizon's ``Join{Group}`` (its id is the membership's URL there)."""
    activity = {"@context": AS, "id": f"{peer.base}/member/{n}", "type": "Join",
                "actor": person, "object": org_url}
    assert peer.send(person, f"{node.url}/inbox", activity, later=later).status_code == 202
    return str(activity["id"])


def test_joining_an_open_organisation_is_accepted_at_once_and_once(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    lille = nodes.lille
    token, _ = lille.account("Admin")
    org = lille.organisation(token, name="Jardin partagé")
    with lille.runtime.transaction() as session:
        session.get_one(Organisation, org["id"]).join_mode = "open"
    alex = mobilizon.actor("/@alex", username="alex")

    join_id = join(mobilizon, alex, lille, org["url"], 1)
    join(mobilizon, alex, lille, org["url"], 1, later=1)  # delivered twice
    nodes.settle()
    assert members(lille, token, org["id"]) == {"Admin": "accepted", "Alex": "accepted"}
    [accept] = received(mobilizon, "Accept")
    assert accept.error is None and accept.verified_key == f"{org['url']}#main-key"
    assert accept.path == "/@alex/inbox"
    assert accept.activity["actor"] == org["url"]
    assert accept.activity["object"] == {
        "id": join_id, "type": "Member", "actor": alex, "object": org["url"], "role": "member",
    }


def test_joining_a_restricted_organisation_waits_for_the_admins(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    lille = nodes.lille
    token, _ = lille.account("Admin")
    org = lille.organisation(token, name="Conseil de quartier")  # restricted by default
    alex = mobilizon.actor("/@alex", username="alex")
    sam = mobilizon.actor("/@sam", username="sam")
    alex_join = join(mobilizon, alex, lille, org["url"], 1)
    sam_join = join(mobilizon, sam, lille, org["url"], 2)
    nodes.settle()
    assert members(lille, token, org["id"]) == {
        "Admin": "accepted", "Alex": "pending", "Sam": "pending",
    }
    assert received(mobilizon, "Accept") == received(mobilizon, "Reject") == []

    alex_id = member_id(lille, token, org["id"], "Alex")
    decided = lille.api("PATCH", f"/organisations/{org['id']}/members/{alex_id}", token,
                        json={"accept": True})
    assert decided.status_code == 200, decided.text
    sam_id = member_id(lille, token, org["id"], "Sam")
    assert lille.api(
        "DELETE", f"/organisations/{org['id']}/members/{sam_id}", token
    ).status_code == 204
    nodes.settle()
    [accept] = received(mobilizon, "Accept")
    assert accept.error is None and accept.path == "/@alex/inbox"
    assert accept.activity["object"]["id"] == alex_join
    [reject] = received(mobilizon, "Reject")
    assert reject.error is None and reject.path == "/@sam/inbox"
    assert reject.activity["actor"] == org["url"]
    assert reject.activity["object"]["id"] == sam_join
    assert members(lille, token, org["id"]) == {"Admin": "accepted", "Alex": "accepted"}

    leave = {"id": f"{alex}#leave/1", "type": "Leave", "actor": alex, "object": org["url"]}
    assert mobilizon.send(alex, f"{lille.url}/inbox", leave).status_code == 202
    nodes.settle()
    assert members(lille, token, org["id"]) == {"Admin": "accepted"}


def test_removing_a_member_of_another_server_sends_remove(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    """Mobilizon's shape: ``Remove{object: the membership (its Join's id, Mobilizon's
    member URL), origin: the group}`` from the group; a member who leaves gets nothing."""
    lille = nodes.lille
    token, _ = lille.account("Admin")
    org = lille.organisation(token, name="Conseil de quartier", join_mode="open")
    alex = mobilizon.actor("/@alex", username="alex")
    sam = mobilizon.actor("/@sam", username="sam")
    alex_join = join(mobilizon, alex, lille, org["url"], 1)
    join(mobilizon, sam, lille, org["url"], 2)
    nodes.settle()
    assert members(lille, token, org["id"]) == {
        "Admin": "accepted", "Alex": "accepted", "Sam": "accepted",
    }

    alex_id = member_id(lille, token, org["id"], "Alex")
    assert lille.api(
        "DELETE", f"/organisations/{org['id']}/members/{alex_id}", token
    ).status_code == 204
    nodes.settle()
    [remove] = received(mobilizon, "Remove")
    assert remove.error is None and remove.verified_key == f"{org['url']}#main-key"
    assert remove.path == "/@alex/inbox"
    activity = remove.activity
    assert (activity["actor"], activity["origin"], activity["target"]) == (org["url"],) * 3
    assert activity["object"] == {
        "id": alex_join, "type": "Member", "actor": alex, "object": org["url"],
        "role": "member",
    }
    assert activity["to"] == [alex]
    assert members(lille, token, org["id"]) == {"Admin": "accepted", "Sam": "accepted"}

    leave = {"id": f"{sam}#leave/1", "type": "Leave", "actor": sam, "object": org["url"]}
    assert mobilizon.send(sam, f"{lille.url}/inbox", leave).status_code == 202
    nodes.settle()
    assert members(lille, token, org["id"]) == {"Admin": "accepted"}
    assert len(received(mobilizon, "Remove")) == 1


# --- how an organisation takes members ----------------------------------------------------------


def actor_document(node: Node, url: str) -> dict[str, Any]:
    answer = node.http.get(url, headers=AP_JSON)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def test_join_mode_is_set_through_the_api_and_advertised_as_openness(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    lille = nodes.lille
    token, _ = lille.account("Admin")
    org = lille.organisation(token, name="Jardin partagé")
    assert org["join_mode"] == "restricted"  # the default
    assert actor_document(lille, org["url"])["openness"] == "moderated"
    context = actor_document(lille, org["url"])["@context"][-1]
    assert context["openness"] == {"@id": "mz:openness", "@type": "@id"}

    def set_mode(mode: str) -> None:
        answer = lille.api("PATCH", f"/organisations/{org['id']}", token,
                           json={"join_mode": mode})
        assert answer.status_code == 200, answer.text
        assert answer.json()["join_mode"] == mode

    set_mode("open")
    assert actor_document(lille, org["url"])["openness"] == "open"
    alex = mobilizon.actor("/@alex", username="alex")
    join(mobilizon, alex, lille, org["url"], 1)
    nodes.settle()
    assert [r.activity["object"]["actor"] for r in received(mobilizon, "Accept")] == [alex]

    set_mode("invite")
    assert actor_document(lille, org["url"])["openness"] == "invite_only"
    sam = mobilizon.actor("/@sam", username="sam")
    join(mobilizon, sam, lille, org["url"], 2)
    nodes.settle()
    assert members(lille, token, org["id"]) == {
        "Admin": "accepted", "Alex": "accepted", "Sam": "pending",
    }
    assert len(received(mobilizon, "Accept")) == 1

    # the copy of another server's group does not know how that server takes members
    copy = copy_id(lille, remote_group(mobilizon, lille, nodes))
    assert lille.api("GET", f"/organisations/{copy}").json()["join_mode"] is None


# --- erasing an account tells the groups of other servers ---------------------------------------


def erase(node: Node, token: str) -> None:
    answer = node.api("DELETE", "/me", token, json={"password": PASSWORD})
    assert answer.status_code == 204, answer.text


def test_erasing_an_account_undoes_its_follows_and_leaves_its_groups(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    """As unfollowing and leaving do: ``Undo{Follow}`` for each follow, accepted or still
    pending, ``Leave`` for each membership, signed by the person's key — which the group
    kept from the ``Follow``: the person's URL answers 410 by the time they arrive."""
    mobilizon.cache_keys = True
    lille = nodes.lille
    velo = remote_group(mobilizon, lille, nodes, "velo")
    jardin = remote_group(mobilizon, lille, nodes, "jardin")
    velo_id, jardin_id = copy_id(lille, velo), copy_id(lille, jardin)
    token, person_id = lille.account("Camille")
    camille = person_url(lille, person_id)
    for org_id in (velo_id, jardin_id):
        assert lille.api("POST", f"/organisations/{org_id}/follow", token).status_code == 204
    assert lille.api("POST", f"/organisations/{jardin_id}/members", token).status_code == 201
    nodes.settle()
    follows = {r.activity["object"]: r.activity["id"] for r in received(mobilizon, "Follow")}
    accept = {"id": f"{velo}#accepts/1", "type": "Accept", "actor": velo, "object": follows[velo]}
    assert mobilizon.send(velo, f"{lille.url}/inbox", accept).status_code == 202
    nodes.settle()
    assert follow_state(lille, person_id, velo_id) == "accepted"
    assert follow_state(lille, person_id, jardin_id) == "pending"

    erase(lille, token)
    nodes.settle()
    assert lille.http.get(camille, headers=AP_JSON).status_code == 410
    undos = received(mobilizon, "Undo")
    assert [(u.error, u.verified_key) for u in undos] == [(None, f"{camille}#main-key")] * 2
    assert sorted(u.path for u in undos) == ["/@jardin/inbox", "/@velo/inbox"]
    for undo in undos:
        group = undo.activity["object"]["object"]
        assert undo.activity["actor"] == camille
        assert undo.activity["object"] == {
            "id": follows[group], "type": "Follow", "actor": camille, "object": group,
        }
    [leave] = received(mobilizon, "Leave")
    assert leave.error is None and leave.verified_key == f"{camille}#main-key"
    assert leave.path == "/@jardin/inbox"
    assert (leave.activity["actor"], leave.activity["object"]) == (camille, jardin)
    assert count(lille, Follow) == 0
    assert count(lille, Membership, col(Membership.person_id) == person_id) == 0


def test_an_erased_account_no_longer_follows_an_organisation_of_another_maillon(
    nodes: Nodes,
) -> None:
    lille, roubaix = nodes.lille, nodes.roubaix
    peers.follow(lille.federation, "http://roubaix.test")
    nodes.settle()
    owner, _ = roubaix.account("Nadia")
    org = roubaix.organisation(owner, name="Vélo Roubaix")
    nodes.settle()
    token, _ = lille.account("Camille")
    org_id = copy_id(lille, org["url"])
    assert lille.api("POST", f"/organisations/{org_id}/follow", token).status_code == 204
    nodes.settle()
    assert count(roubaix, Follower, col(Follower.actor) == org["url"]) == 1

    erase(lille, token)
    nodes.settle()
    assert count(roubaix, Follower, col(Follower.actor) == org["url"]) == 0
    assert collection_items(roubaix, f"{org['url']}/followers") == (0, [])
    assert count(lille, Job, col(Job.state) == "failed") == 0


def test_leaving_a_group_of_another_server_sends_leave(nodes: Nodes, mobilizon: FakePeer) -> None:
    lille = nodes.lille
    group = remote_group(mobilizon, lille, nodes)
    org_id = copy_id(lille, group)
    token, person_id = lille.account("Camille")
    assert lille.api("POST", f"/organisations/{org_id}/members", token).status_code == 201
    assert lille.api(
        "DELETE", f"/organisations/{org_id}/members/{person_id}", token
    ).status_code == 204
    nodes.settle()
    [leave] = received(mobilizon, "Leave")
    assert leave.error is None and leave.path == "/@velo/inbox"
    assert (leave.activity["actor"], leave.activity["object"]) == (
        person_url(lille, person_id), group,
    )


# --- blocking a domain forgets it -------------------------------------------------------------


def count(node: Node, model: type[Any], *where: Any) -> int:
    with node.runtime.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_blocking_a_domain_deletes_its_copies_and_leaves_ours(
    nodes: Nodes,
    mobilizon: FakePeer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    lille, roubaix = nodes.lille, nodes.roubaix
    peers.follow(lille.federation, "http://roubaix.test")
    peers.follow(roubaix.federation, "http://lille.test")
    nodes.settle()
    # Roubaix publishes; Lille keeps copies
    nadia, _ = roubaix.account("Nadia")
    r_org = roubaix.organisation(nadia, name="Vélo Roubaix", themes=["mobility"],
                                 place={"city": "Roubaix", "postal_code": "59100"})
    r_event = roubaix.event(nadia, r_org["id"], name="Atelier vélo", themes=["mobility"],
                            place={"city": "Roubaix", "postal_code": "59100"})
    # Lille publishes; Roubaix keeps copies
    camille, camille_id = lille.account("Camille")
    l_org = lille.organisation(camille, name="Les Sheds")
    l_event = lille.event(camille, l_org["id"], name="Portes ouvertes")
    nodes.settle()
    r_org_copy = copy_id(lille, r_org["url"])
    r_event_copy = event_copy(lille, r_event["url"])
    l_event_copy = event_copy(roubaix, l_event["url"])
    # a citizen of Lille follows the Roubaix group and registers for its event; one of
    # Roubaix registers for Lille's event (a copy of that person is kept in Lille)
    assert lille.api("POST", f"/organisations/{r_org_copy}/follow", camille).status_code == 204
    assert lille.api("POST", f"/events/{r_event_copy}/participation", camille).status_code in (
        200, 201,
    )
    assert roubaix.api("POST", f"/events/{l_event_copy}/participation", nadia).status_code in (
        200, 201,
    )
    nodes.settle()
    # another domain's group stays
    group = remote_group(mobilizon, lille, nodes)
    origin = col(Organisation.origin) == "roubaix.test"
    assert count(lille, Organisation, origin) == 1
    assert count(lille, Person, col(Person.origin) == "roubaix.test") == 1
    assert count(lille, Participation) == 2
    assert follow_state(lille, camille_id, r_org_copy) == "accepted"
    assert [h["name"] for h in lille.search(q="atelier velo")["hits"]] == ["Atelier vélo"]
    places = count(lille, Place)
    copies_places = count(
        lille, Event, col(Event.origin) == "roubaix.test", col(Event.place_id).is_not(None)
    )
    assert copies_places == 1  # (group copies carry no place)

    # the operator blocks Roubaix from the command line: the counts are printed
    for name in [n for n in os.environ if n.startswith("MAILLON_")]:
        monkeypatch.delenv(name)
    for name, value in {
        "MAILLON_DATABASE_URL": lille.runtime.settings.database_url,
        "MAILLON_PUBLIC_URL": lille.url,
        "MAILLON_SECRET_KEY": "secret-of-lille.test",
        "MAILLON_SEARCH_PATH": str(tmp_path / "cli.search.db"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["peers", "block", "roubaix.test"]) == 0
    out = capsys.readouterr().out
    assert "roubaix.test: blocked" in out
    assert "removed: events 1, organisations 1, people 1" in out
    assert "participations 2" in out and "follows 1" in out
    nodes.settle()  # index jobs, and the purge job the block enqueued (nothing left)

    assert lille.search(q="atelier velo")["hits"] == []
    assert lille.search(q="velo roubaix")["hits"] == []
    for model in (Organisation, Event, Person):
        assert count(lille, model, col(model.origin) == "roubaix.test") == 0
    assert count(lille, RemoteActor, col(RemoteActor.domain) == "roubaix.test") == 0
    assert count(lille, Follower, col(Follower.follower).startswith("http://roubaix.test/")) == 0
    assert count(lille, Label, col(Label.entity_id).in_([r_org_copy, r_event_copy])) == 0
    assert count(lille, Place) == places - copies_places
    assert count(lille, Participation) == 0  # both went with the copies
    assert count(lille, Follow) == 0
    assert count(lille, Job, col(Job.state) == "failed") == 0
    # ours, and the other domain's, are untouched
    assert [h["name"] for h in lille.search(q="portes ouvertes")["hits"]] == ["Portes ouvertes"]
    assert lille.api("GET", f"/organisations/{l_org['id']}").status_code == 200
    assert count(lille, Person, col(Person.origin).is_(None)) == 1
    assert copy_id(lille, group)
    assert count(lille, RemoteActor, col(RemoteActor.domain) == MOBILIZON) == 1

    # blocking again (the admin page's way: a purge job) finds nothing more to remove
    with lille.runtime.transaction() as session:
        peers.block(session, "roubaix.test")
    nodes.settle()
    assert count(lille, Organisation) == 2
    removed, finished = peers.purge(lille.runtime, "roubaix.test")
    assert finished and not removed
    assert main(["peers", "block", "roubaix.test"]) == 0
    assert "removed: nothing" in capsys.readouterr().out


def test_the_purge_goes_in_bounded_batches_and_drops_pending_activities(
    nodes: Nodes, mobilizon: FakePeer
) -> None:
    lille = nodes.lille
    for n in range(5):
        remote_group(mobilizon, lille, nodes, username=f"groupe{n}")
    # one more activity received but not handled yet
    alex = mobilizon.actor("/@alex", username="alex")
    flag = {"id": f"{alex}#flag", "type": "Flag", "actor": alex, "object": alex}
    assert mobilizon.send(alex, f"{lille.url}/inbox", flag).status_code == 202
    assert count(lille, InboxItem, col(InboxItem.state) == "pending") == 1

    with lille.runtime.transaction() as session:
        peers.block(session, MOBILIZON)
    removed, finished = peers.purge(lille.runtime, MOBILIZON, batches=2, size=2)
    assert not finished
    assert (removed.inbox_items, removed.organisations) == (1, 2)
    assert count(lille, Organisation) == 3
    nodes.settle()  # the purge job finishes, a few batches at a time
    assert count(lille, Organisation) == 0
    assert count(lille, RemoteActor) == 0
    assert count(lille, InboxItem, col(InboxItem.state) == "pending") == 0
    assert count(lille, Job, col(Job.state) == "failed") == 0
