"""Which domains we federate with, as the inbox reads it for every activity."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import col

from federation import policy
from node.models import Peer
from node.runtime import Runtime


def test_a_policy_set_here_applies_at_once_and_one_set_elsewhere_within_seconds(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = runtime.settings
    with runtime.transaction() as session:
        assert policy.federates_with(session, settings, "spam.test")
        policy.set_policy(session, "spam.test", "blocked")
    with runtime.transaction() as session:  # this process: at once
        assert not policy.federates_with(session, settings, "spam.test")
        policy.set_policy(session, "spam.test", "none")
    with runtime.transaction() as session:
        assert policy.federates_with(session, settings, "spam.test")
    with runtime.transaction() as session:  # another process (the CLI) blocks it
        session.execute(
            update(Peer).where(col(Peer.domain) == "spam.test").values(policy="blocked")
        )
    with runtime.transaction() as session:
        assert policy.federates_with(session, settings, "spam.test")  # still trusted…
    later = policy.time.monotonic() + policy.STATE_SECONDS + 0.1
    monkeypatch.setattr(policy.time, "monotonic", lambda: later)
    with runtime.transaction() as session:
        assert not policy.federates_with(session, settings, "spam.test")  # …for seconds
