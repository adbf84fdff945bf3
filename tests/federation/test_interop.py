"""Mastodon, Mobilizon and Gancio shapes against a node: follow, receive, import."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from federation import peers
from federation.policy import federates_with
from node.models import Event, Follower, Place, Report
from tests.federation.conftest import Nodes
from tests.federation.peer import FakePeer

DATA = Path(__file__).parent / "data"


def payload(name: str, **replace: str) -> dict[str, Any]:
    text = (DATA / name).read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    document: dict[str, Any] = json.loads(text)
    return document


def test_a_mastodon_user_follows_an_organisation_and_receives_its_events(nodes: Nodes) -> None:
    lille = nodes.lille
    mastodon = FakePeer("mastodon.test", nodes.network)
    alice = mastodon.actor("/users/alice", username="alice")
    token, _ = lille.account()
    org = lille.organisation(token, name="La CoFabrik")
    finger = lille.http.get(
        "/.well-known/webfinger", params={"resource": f"acct:la-cofabrik@{lille.host}"}
    )
    assert finger.status_code == 200
    actor_url = next(link["href"] for link in finger.json()["links"] if link["rel"] == "self")
    assert actor_url == org["url"]

    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{alice}#follows/1",
        "type": "Follow",
        "actor": alice,
        "object": actor_url,
    }
    assert mastodon.send(alice, f"{actor_url}/inbox", follow).status_code == 202
    nodes.settle()
    [accept] = [r for r in mastodon.received if r.activity["type"] == "Accept"]
    assert accept.error is None and accept.verified_key == f"{actor_url}#main-key"
    assert accept.activity["object"]["id"] == follow["id"]

    lille.event(token, org["id"], name="Repair café", starts_at="2030-12-05T19:00:00",
                ends_at="2030-12-05T22:00:00")
    nodes.settle()
    [create] = [r for r in mastodon.received if r.activity["type"] == "Create"]
    assert create.path == "/inbox"  # the shared inbox
    assert create.error is None, create.error
    event = create.activity["object"]
    assert create.activity["actor"] == actor_url == event["attributedTo"]
    assert event["startTime"] == "2030-12-05T19:00:00+01:00"
    assert event["location"]["type"] == "Place"
    assert isinstance(event["location"]["latitude"], float)
    assert "\n" not in event["summary"]

    undo = {"id": f"{alice}#undo/1", "type": "Undo", "actor": alice, "object": follow}
    assert mastodon.send(alice, f"{actor_url}/inbox", undo).status_code == 202
    nodes.settle()
    with lille.runtime.transaction() as session:
        assert session.scalar(select(Follower)) is None


def _import(nodes: Nodes, peer: FakePeer, activity: dict[str, Any]) -> Event:
    """Serve the activity's actor and organisers from ``peer``, deliver it to Lille."""
    event = activity["object"]
    organisers = event.get("attributedTo")
    for ap_id in {activity["actor"], *(organisers if isinstance(organisers, list)
                                       else [organisers] if organisers else [])}:
        path = ap_id.removeprefix(peer.base)
        peer.actor(path, kind="Group" if ap_id != activity["actor"] else "Person",
                   username=path.strip("/@").split("/")[-1])
    assert peer.send(activity["actor"], "http://lille.test/inbox", activity).status_code == 202
    nodes.settle()
    with nodes.lille.runtime.transaction() as session:
        found = session.scalar(select(Event).where(col(Event.origin) == peer.host))
        assert found is not None, "the event was not imported"
        return found


def _local(name: str, real_host: str, test_host: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        json.dumps(payload(name)).replace(f"https://{real_host}", f"http://{test_host}")
    )
    return document


def test_a_mobilizon_event_is_imported_with_its_local_time_and_place(nodes: Nodes) -> None:
    mobilizon = FakePeer("mobilizon.test", nodes.network)
    activity = _local("mobilizon_create_event.json", "mobilizon.example", "mobilizon.test")
    event = _import(nodes, mobilizon, activity)
    sent = activity["object"]
    start = datetime.fromisoformat(sent["startTime"])
    assert event.starts_at == start
    assert event.timezone == sent.get("timezone", "Europe/Paris")
    assert event.starts_at.astimezone(ZoneInfo(event.timezone)).utcoffset() == start.utcoffset()
    with nodes.lille.runtime.transaction() as session:
        place = session.get(Place, event.place_id)
        assert place is not None
        assert place.city == sent["location"]["address"]["addressLocality"]
        assert place.latitude == sent["location"]["latitude"]


def test_a_gancio_event_without_time_zone_gets_the_right_local_time(nodes: Nodes) -> None:
    gancio = FakePeer("gancio.test", nodes.network)
    activity = _local("gancio_create_event.json", "gancio.example", "gancio.test")
    event = _import(nodes, gancio, activity)
    sent = datetime.fromisoformat(activity["object"]["startTime"])
    assert event.starts_at == sent
    assert event.timezone == "Europe/Paris"


def test_a_mobilizon_online_event_keeps_its_link(nodes: Nodes) -> None:
    mobilizon = FakePeer("mobilizon.test", nodes.network)
    activity = _local("mobilizon_online_event.json", "mobilizon.example", "mobilizon.test")
    event = _import(nodes, mobilizon, activity)
    assert event.online_url and event.online_url.startswith("http")


def test_a_relay_announce_is_fetched_from_the_origin(nodes: Nodes) -> None:
    lille, roubaix = nodes.lille, nodes.roubaix
    token, _ = roubaix.account()
    org = roubaix.organisation(token, name="Vélo Roubaix")
    event = roubaix.event(token, org["id"], name="Bourse aux vélos")
    relay = FakePeer("relay.test", nodes.network)
    actor = relay.actor("/actor", kind="Application", username="relay")
    announce = {"id": f"{actor}/announces/1", "type": "Announce", "actor": actor,
                "object": event["url"]}
    assert relay.send(actor, "http://lille.test/inbox", announce).status_code == 202
    nodes.settle()
    [hit] = lille.search(q="bourse")["hits"]
    assert hit["origin"] == "roubaix.test" and hit["url"] == event["url"]


def test_a_flag_reaches_the_moderators(nodes: Nodes) -> None:
    mastodon = FakePeer("mastodon.test", nodes.network)
    alice = mastodon.actor("/users/alice", username="alice")
    token, _ = nodes.lille.account()
    org = nodes.lille.organisation(token)
    flag = {"id": f"{alice}#flags/1", "type": "Flag", "actor": alice,
            "object": [org["url"]], "content": "spam"}
    assert mastodon.send(alice, "http://lille.test/inbox", flag).status_code == 202
    nodes.settle()
    with nodes.lille.runtime.transaction() as session:
        [report] = session.scalars(select(Report)).all()
        assert (report.targets, report.content, report.domain) == (
            [org["url"]], "spam", "mastodon.test")


def test_allowlist_mode_refuses_domains_not_allowed(nodes: Nodes) -> None:
    lille = nodes.lille
    strict = lille.runtime.settings.model_copy(update={"federation": "allowlist"})
    with lille.runtime.transaction() as session:
        assert federates_with(session, lille.runtime.settings, "roubaix.test")
        assert not federates_with(session, strict, "roubaix.test")
        peers.allow(session, "roubaix.test")
        assert federates_with(session, strict, "roubaix.test")
        peers.block(session, "roubaix.test")
        assert not federates_with(session, lille.runtime.settings, "roubaix.test")
