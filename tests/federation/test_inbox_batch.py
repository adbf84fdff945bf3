"""The inbox in batches: what peers send most (events created and updated) is written a
claimed batch at a time, in one transaction, with the same results as one by one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from federation import policy
from federation.handlers.objects import create_event
from federation.process import BULK, Incoming
from node.models import Event, InboxItem, Job
from tests.federation.conftest import Node, Nodes
from tests.federation.peer import FakePeer

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _event(peer: FakePeer, group: str, slug: str, name: str, updated: str) -> dict[str, Any]:
    return {
        "id": f"{peer.base}/events/{slug}",
        "type": "Event",
        "name": name,
        "startTime": "2030-03-01T18:00:00+01:00",
        "endTime": "2030-03-01T21:00:00+01:00",
        "timezone": "Europe/Paris",
        "location": {"type": "Place", "name": "Maison de l'ESS",
                     "address": {"type": "PostalAddress", "addressLocality": "Lille",
                                 "postalCode": "59000", "addressCountry": "FR"},
                     "latitude": 50.6265, "longitude": 3.0773},
        "attributedTo": group,
        "updated": updated,
        "to": [PUBLIC],
    }  # fmt: skip


def _activity(verb: str, actor: str, document: dict[str, Any], n: int) -> dict[str, Any]:
    return {"id": f"{actor}/activities/{n}", "type": verb, "actor": actor,
            "object": document, "to": [PUBLIC]}  # fmt: skip


@pytest.fixture
def peer(nodes: Nodes) -> Iterator[FakePeer]:
    yield FakePeer("peer.test", nodes.network)


def _deliver(peer: FakePeer, actor: str, activities: list[dict[str, Any]]) -> None:
    for activity in activities:
        answer = peer.send(actor, "http://lille.test/inbox", activity)
        assert answer.status_code == 202, answer.text


def _states(node: Node) -> dict[str, tuple[str, str | None]]:
    with node.runtime.transaction() as session:
        return {
            item.activity_id.split("#", 1)[0]: (item.state, item.note)
            for item in session.scalars(select(InboxItem))
        }


def _names(node: Node) -> dict[str, str]:
    with node.runtime.transaction() as session:
        return {e.ap_id or "": e.name for e in session.scalars(select(Event))}


def _commits(node: Node) -> list[int]:
    seen = [0]
    event.listen(node.runtime.engine, "commit", lambda *_: seen.__setitem__(0, seen[0] + 1))
    return seen


def test_creates_and_updates_of_one_batch_apply_in_order_in_one_transaction(
    nodes: Nodes, peer: FakePeer
) -> None:
    lille = nodes.lille
    group = peer.actor("/@atelier", kind="Group", username="atelier")
    first = _event(peer, group, "a", "Repair café", "2026-12-01T10:00:00Z")
    _deliver(peer, group, [_activity("Create", group, first, 0)])
    lille.run_jobs()  # the group's copy exists from here on, as in steady traffic

    a_again = first | {"name": "Repair café (complet)", "updated": "2026-12-02T10:00:00Z"}
    a_stale = first | {"name": "Repair café (ancien)", "updated": "2026-11-30T10:00:00Z"}
    b = _event(peer, group, "b", "Troc de graines", "2026-12-01T10:00:00Z")
    b_renamed = b | {"name": "Troc de graines et plants", "updated": "2026-12-03T10:00:00Z"}
    elsewhere = _event(peer, group, "x", "Ailleurs", "2026-12-01T10:00:00Z") | {
        "id": "http://roubaix.test/events/x"
    }
    batch = [
        _activity("Create", group, b, 1),
        _activity("Update", group, a_again, 2),
        _activity("Update", group, b_renamed, 3),
        _activity("Update", group, a_stale, 4),
        _activity("Create", group, elsewhere, 5),  # the origin rule refuses it
    ]
    _deliver(peer, group, batch)
    commits = _commits(lille)
    handled = lille.runtime.worker(kinds=["inbox"], batch=10).run_once()

    assert handled == 5
    # claim, read the items, write the copies with their items' states, complete the jobs
    # (the organiser, read for the first activity, is still in memory)
    assert commits[0] == 4
    states = _states(lille)
    assert [states[a["id"]][0] for a in batch] == ["done", "done", "done", "ignored", "ignored"]
    assert "stale" in (states[batch[3]["id"]][1] or "")
    assert "origin rule" in (states[batch[4]["id"]][1] or "")
    assert _names(lille) == {
        first["id"]: "Repair café (complet)",
        b["id"]: "Troc de graines et plants",
    }
    lille.run_jobs()
    assert [h["name"] for h in lille.search(q="graines")["hits"]] == ["Troc de graines et plants"]


def test_an_activity_that_needs_a_retry_does_not_hold_back_its_batch(
    nodes: Nodes, peer: FakePeer
) -> None:
    lille = nodes.lille
    group = peer.actor("/@atelier", kind="Group", username="atelier")
    known = _event(peer, group, "a", "Repair café", "2026-12-01T10:00:00Z")
    # organised by a group its host does not serve (yet): it cannot be fetched
    orphan = _event(peer, f"{peer.base}/@ailleurs", "b", "Troc", "2026-12-01T10:00:00Z")
    sent = [_activity("Create", group, known, 0), _activity("Create", group, orphan, 1)]
    _deliver(peer, group, sent)
    lille.runtime.worker(kinds=["inbox"]).run_once()

    states = _states(lille)
    assert states[sent[0]["id"]][0] == "done"
    assert states[sent[1]["id"]][0] == "pending"
    with lille.runtime.transaction() as session:
        jobs = {
            job.payload["item"]: job
            for job in session.scalars(select(Job).where(col(Job.kind) == "inbox"))
        }
        retried = [job for job in jobs.values() if job.state == "pending"]
    assert len(retried) == 1 and retried[0].last_error

    peer.actor("/@ailleurs", kind="Group", username="ailleurs")  # now it answers
    lille.make_due()
    lille.run_jobs()
    assert _states(lille)[sent[1]["id"]][0] == "done"
    assert set(_names(lille)) == {known["id"], orphan["id"]}


def test_a_batch_that_fails_as_a_whole_is_handled_one_by_one(
    nodes: Nodes, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lille = nodes.lille
    group = peer.actor("/@atelier", kind="Group", username="atelier")
    documents = [
        _event(peer, group, slug, f"Atelier {slug}", "2026-12-01T10:00:00Z") for slug in "abc"
    ]

    def broken(incomings: list[Incoming]) -> Any:
        def apply_all(session: Any) -> Any:
            raise RuntimeError("a bug in the batch form")

        return apply_all

    monkeypatch.setitem(BULK, create_event, broken)
    _deliver(peer, group, [_activity("Create", group, d, n) for n, d in enumerate(documents)])
    lille.runtime.worker(kinds=["inbox"]).run_once()

    assert {state for state, _ in _states(lille).values()} == {"done"}
    assert set(_names(lille)) == {d["id"] for d in documents}


def test_what_a_domain_sent_before_its_block_is_not_applied(
    nodes: Nodes, peer: FakePeer
) -> None:
    lille = nodes.lille
    group = peer.actor("/@atelier", kind="Group", username="atelier")
    first = _event(peer, group, "a", "Repair café", "2026-12-01T10:00:00Z")
    _deliver(peer, group, [_activity("Create", group, first, 0)])
    lille.run_jobs()
    later = _event(peer, group, "b", "Troc", "2026-12-01T10:00:00Z")
    sent = [_activity("Create", group, later, 1)]
    _deliver(peer, group, sent)  # received, not handled yet…
    with lille.runtime.transaction() as session:
        # …when the domain is blocked (the row alone: the purge job would also delete
        # the waiting item; here the worker meets it first)
        policy.set_policy(session, "peer.test", "blocked")
    lille.runtime.worker(kinds=["inbox"]).run_once()

    state, note = _states(lille)[sent[0]["id"]]
    assert state == "ignored" and "refused domain" in (note or "")
    assert later["id"] not in _names(lille)
