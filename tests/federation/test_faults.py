"""Faults: a peer down, deliveries lost, duplicates, bad signatures, oversized bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, func
from sqlmodel import col, select

from federation import peers
from federation.signatures import SignatureAuth
from node.models import Event, InboxItem, Job
from tests.federation.conftest import Node, Nodes
from tests.federation.peer import FakePeer


def _roubaix_org(nodes: Nodes) -> tuple[str, str]:
    peers.follow(nodes.lille.federation, "http://roubaix.test")
    nodes.settle()
    token, _ = nodes.roubaix.account("Nadia")
    org = nodes.roubaix.organisation(token, name="Vélo Roubaix")
    return token, org["id"]


def _copies(node: Node) -> int:
    with node.runtime.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Event)
                .where(col(Event.origin) == "roubaix.test", col(Event.deleted_at).is_(None))
            )
            or 0
        )


def test_a_peer_down_during_50_publications_receives_them_all_through_retries(
    nodes: Nodes,
) -> None:
    lille, roubaix = nodes.lille, nodes.roubaix
    token, org_id = _roubaix_org(nodes)
    nodes.network.down.add("lille.test")
    for n in range(50):
        roubaix.event(token, org_id, name=f"Atelier {n}")
    nodes.settle()  # every delivery fails and waits for its retry
    with roubaix.runtime.transaction() as session:
        waiting = session.scalar(
            select(func.count()).where(col(Job.kind) == "deliver", col(Job.state) == "pending")
        )
    assert waiting == 51  # the 50 events and the organisation
    assert _copies(lille) == 0

    nodes.network.down.discard("lille.test")
    for _ in range(5):  # time passes: retries come due, the breaker half-opens
        roubaix.make_due()
        nodes.settle()
    assert _copies(lille) == 50
    assert len(lille.search(q="atelier", limit=100)["hits"]) == 50


def test_a_peer_that_missed_deliveries_converges_through_outbox_paging(nodes: Nodes) -> None:
    lille, roubaix = nodes.lille, nodes.roubaix
    token, org_id = _roubaix_org(nodes)
    nodes.network.down.add("lille.test")
    made = [roubaix.event(token, org_id, name=f"Repair café {n}") for n in range(30)]
    assert roubaix.api("DELETE", f"/events/{made[0]['id']}", token).status_code == 204
    with roubaix.runtime.transaction() as session:  # a peer that delivers once: all lost
        session.execute(delete(Job).where(col(Job.kind) == "deliver"))
    nodes.network.down.discard("lille.test")

    lille.make_due()  # the periodic catch-up comes due
    nodes.settle()
    assert _copies(lille) == 29
    assert lille.search(q="repair", limit=100)["total"] == 29


def _mobilizon_event(peer: FakePeer, group: str, name: str, updated: str) -> dict[str, object]:
    event_id = f"{peer.base}/events/1"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{event_id}/activity",
        "type": "Create",
        "actor": group,
        "object": {
            "id": event_id,
            "type": "Event",
            "name": name,
            "attributedTo": group,
            "startTime": "2030-06-01T10:00:00+02:00",
            "endTime": "2030-06-01T12:00:00+02:00",
            "updated": updated,
        },
    }


def test_the_same_activity_delivered_twice_is_applied_once(nodes: Nodes) -> None:
    lille = nodes.lille
    peer = FakePeer("mobilizon.test", nodes.network)
    group = peer.actor("/@velo", kind="Group", username="velo")
    activity = _mobilizon_event(peer, group, "Vélorution", "2030-01-01T00:00:00Z")
    assert peer.send(group, "http://lille.test/inbox", activity).status_code == 202
    retry = peer.send(group, "http://lille.test/inbox", activity, later=30)  # a redelivery
    assert retry.status_code == 202
    nodes.settle()
    with lille.runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboxItem)) == 1
    assert len(lille.search(q="velorution")["hits"]) == 1

    # Mobilizon reuses the activity id for an Update: a newer version is applied
    update = _mobilizon_event(peer, group, "Vélorution d'été", "2030-02-01T00:00:00Z")
    update["type"] = "Update"
    assert peer.send(group, "http://lille.test/inbox", update).status_code == 202
    nodes.settle()
    assert [h["name"] for h in lille.search(q="velorution")["hits"]] == ["Vélorution d'été"]


def _post(peer: FakePeer, headers: dict[str, str], body: bytes) -> httpx.Response:
    with httpx.Client(transport=peer.network) as client:
        return client.post("http://lille.test/inbox", content=body, headers=headers)


def _signed(
    peer: FakePeer, actor: str, body: bytes, when: datetime | None = None
) -> dict[str, str]:
    auth = SignatureAuth(f"{actor}#main-key", peer.key, clock=lambda: when or datetime.now(UTC))
    request = httpx.Request("POST", "http://lille.test/inbox", content=body,
                            headers={"Content-Type": "application/activity+json"})
    auth.sign(request)
    return dict(request.headers)


def test_bad_stale_missing_and_replayed_signatures_are_refused(nodes: Nodes) -> None:
    lille = nodes.lille
    peer = FakePeer("mobilizon.test", nodes.network)
    group = peer.actor("/@velo", kind="Group", username="velo")
    body = json.dumps(_mobilizon_event(peer, group, "Vélorution", "2030-01-01T00:00:00Z"))
    data = body.encode()

    now = datetime.now(UTC)
    unsigned = _post(peer, {"Content-Type": "application/activity+json"}, data)
    tampered = _post(peer, _signed(peer, group, data), data.replace(b'"Create"', b'"Update"'))
    stale = _post(peer, _signed(peer, group, data, now - timedelta(hours=3)), data)
    future = _post(peer, _signed(peer, group, data, now + timedelta(hours=3)), data)
    headers = _signed(peer, group, data)
    headers["signature"] = headers["signature"].replace('signature="', 'signature="AAAA')
    bad = _post(peer, headers, data)
    assert [r.status_code for r in (unsigned, tampered, stale, future, bad)] == [401] * 5

    headers = _signed(peer, group, data, now + timedelta(seconds=5))
    assert _post(peer, headers, data).status_code == 202
    replay = _post(peer, headers, data)
    assert replay.status_code == 401
    assert "already used" in replay.text
    nodes.settle()
    with lille.runtime.transaction() as session:
        assert session.scalar(select(func.count()).select_from(InboxItem)) == 1
        [event] = session.scalars(select(Event)).all()
        assert event.name == "Vélorution"


def test_an_oversized_body_gets_413(nodes: Nodes) -> None:
    peer = FakePeer("mobilizon.test", nodes.network)
    group = peer.actor("/@velo", kind="Group", username="velo")
    huge = json.dumps({"id": f"{group}#x", "type": "Create", "actor": group,
                       "object": {"content": "x" * 2_000_000}}).encode()
    answer = _post(peer, _signed(peer, group, huge), huge)
    assert answer.status_code == 413
    with nodes.lille.runtime.transaction() as session:
        assert session.scalar(select(InboxItem)) is None


def test_a_citizen_joins_a_remote_event_with_capacity(nodes: Nodes) -> None:
    lille, roubaix = nodes.lille, nodes.roubaix
    token, org_id = _roubaix_org(nodes)
    event = roubaix.event(token, org_id, name="Atelier réparation", capacity=1)
    nodes.settle()
    copy = lille.search(q="reparation")["hits"][0]

    first, _ = lille.account("Camille")
    second, _ = lille.account("Karim")
    joined = lille.api("POST", f"/events/{copy['id']}/participation", first)
    assert joined.status_code == 201 and joined.json()["state"] == "pending"
    nodes.settle()
    later = lille.api("POST", f"/events/{copy['id']}/participation", first)
    assert later.json()["state"] == "going"

    lille.api("POST", f"/events/{copy['id']}/participation", second)
    nodes.settle()
    refused = lille.api("POST", f"/events/{copy['id']}/participation", second)
    assert refused.status_code == 409  # the organiser's node answered Reject (full)

    listed = roubaix.api("GET", f"/events/{event['id']}/participants", token)
    assert [p["state"] for p in listed.json()] == ["going"]


def test_delivery_failures_are_counted_per_peer(nodes: Nodes) -> None:
    roubaix = nodes.roubaix
    token, org_id = _roubaix_org(nodes)
    nodes.network.down.add("lille.test")
    roubaix.event(token, org_id, name="Atelier")
    nodes.settle()
    scraped = roubaix.runtime.metrics.render().decode()
    assert 'maillon_delivery_failures_total{domain="lille.test"} 2.0' in scraped


def test_an_activity_pushed_then_paged_is_recorded_once(nodes: Nodes) -> None:
    lille, roubaix = nodes.lille, nodes.roubaix
    token, org_id = _roubaix_org(nodes)
    roubaix.event(token, org_id, name="Atelier")
    nodes.settle()  # pushed
    lille.make_due()  # the periodic catch-up pages the same activities
    nodes.settle()
    with lille.runtime.transaction() as session:
        keys = list(session.scalars(select(col(InboxItem.activity_id))))
    activities = [key.split("#at=")[0] for key in keys]
    assert any("#at=" in key for key in keys)  # the Create{Event}, keyed by its version
    assert len(activities) == len(set(activities))  # pull did not record a pushed one again
