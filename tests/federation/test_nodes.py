"""Three nodes in one process: following, propagation, origin rule, blocking, joining."""

from __future__ import annotations

from sqlmodel import col, select

from federation import peers
from node.models import Event, InboxItem, Organisation
from tests.federation.conftest import Nodes


def follow(nodes: Nodes, follower: str, followed: str) -> None:
    node = next(n for n in nodes.all if n.host == follower)
    peers.follow(node.federation, f"http://{followed}")
    nodes.settle()


def test_lille_follows_roubaix_and_sees_its_events_come_change_and_go(nodes: Nodes) -> None:
    lille, roubaix = nodes.lille, nodes.roubaix
    follow(nodes, "lille.test", "roubaix.test")
    with roubaix.runtime.transaction() as session:
        peer_rows = peers.listing(session)
    assert [(p["domain"], p["follows_us"]) for p in peer_rows] == [("lille.test", True)]

    token, _ = roubaix.account("Nadia")
    org = roubaix.organisation(token, name="Vélo Roubaix", themes=["mobility"],
                               place={"city": "Roubaix", "postal_code": "59100"})
    event = roubaix.event(token, org["id"], name="Atelier vélo",
                          place={"city": "Roubaix", "postal_code": "59100"},
                          themes=["mobility"])
    nodes.settle()

    found = lille.search(q="atelier velo")
    assert [h["name"] for h in found["hits"]] == ["Atelier vélo"]
    assert found["hits"][0]["origin"] == "roubaix.test"
    assert found["hits"][0]["url"] == event["url"]

    path = f"/events/{event['id']}"
    changed = roubaix.api("PATCH", path, token, json={"name": "Atelier vélo cargo"})
    assert changed.status_code == 200, changed.text
    nodes.settle()
    assert [h["name"] for h in lille.search(q="cargo")["hits"]] == ["Atelier vélo cargo"]

    assert roubaix.api("DELETE", f"/events/{event['id']}", token).status_code == 204
    nodes.settle()
    assert lille.search(q="atelier")["hits"] == []
    gone = roubaix.http.get(
        f"/events/{event['id']}", headers={"Accept": "application/activity+json"}
    )
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone"


def test_a_node_cannot_update_another_nodes_event(nodes: Nodes) -> None:
    lille, roubaix, tourcoing = nodes.lille, nodes.roubaix, nodes.tourcoing
    follow(nodes, "lille.test", "roubaix.test")
    token, _ = roubaix.account()
    org = roubaix.organisation(token)
    event = roubaix.event(token, org["id"], name="Disco soupe")
    nodes.settle()

    forged = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "http://tourcoing.test/activities/forged",
        "type": "Update",
        "actor": "http://tourcoing.test/actor",
        "object": {
            "id": event["url"],
            "type": "Event",
            "name": "Hijacked",
            "startTime": "2030-05-16T14:00:00+02:00",
            "endTime": "2030-05-16T18:00:00+02:00",
            "attributedTo": "http://tourcoing.test/actor",
            "updated": "2031-01-01T00:00:00Z",
        },
    }
    federation = tourcoing.federation
    with tourcoing.runtime.transaction() as session:
        auth = federation.signer(session, tourcoing.runtime.urls.node_actor)
    answer = federation.client.post(
        "http://lille.test/inbox", json=forged, auth=auth,
        headers={"Content-Type": "application/activity+json"},
    )
    assert answer.status_code == 202
    nodes.settle()
    with lille.runtime.transaction() as session:
        copy = session.scalar(select(Event).where(col(Event.ap_id) == event["url"]))
        assert copy is not None and copy.name == "Disco soupe"
        item = session.scalar(
            select(InboxItem).where(col(InboxItem.activity_id).startswith(forged["id"]))
        )
        assert item is not None and item.state == "ignored"
        assert "origin rule" in (item.note or "")


def test_a_blocked_domain_is_refused_and_nothing_is_stored(nodes: Nodes) -> None:
    lille, roubaix = nodes.lille, nodes.roubaix
    with lille.runtime.transaction() as session:
        peers.block(session, "roubaix.test")
    federation = roubaix.federation
    with roubaix.runtime.transaction() as session:
        auth = federation.signer(session, roubaix.runtime.urls.node_actor)
    follow_activity = {
        "id": "http://roubaix.test/activities/f1",
        "type": "Follow",
        "actor": "http://roubaix.test/actor",
        "object": "http://lille.test/actor",
    }
    answer = federation.client.post(
        "http://lille.test/inbox", json=follow_activity, auth=auth,
        headers={"Content-Type": "application/activity+json"},
    )
    assert answer.status_code == 403
    with lille.runtime.transaction() as session:
        assert session.scalar(select(InboxItem)) is None
        assert session.scalar(select(Organisation)) is None


def test_a_rotated_key_still_verifies_at_the_peer(nodes: Nodes) -> None:
    """Roubaix caches the organisation's key; after rotation a delivery signed with the
    new key fails once, Roubaix re-fetches the actor and accepts it."""
    lille, roubaix = nodes.lille, nodes.roubaix
    follow(nodes, "roubaix.test", "lille.test")
    token, _ = lille.account()
    org = lille.organisation(token, name="Les Sheds")
    lille.event(token, org["id"], name="Portes ouvertes")
    nodes.settle()
    peers.rotate_key(lille.federation, org["url"])
    lille.event(token, org["id"], name="Atelier compost")
    nodes.settle()
    names = {h["name"] for h in roubaix.search(q="portes compost", limit=10)["hits"]}
    assert len(roubaix.search(q="compost")["hits"]) == 1, names
