"""Actors received from peers → :class:`RemoteActor` (plain data, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from federation.convert.values import (
    ParseError,
    clean_text,
    first,
    language_value,
    object_id,
    safe_html,
    type_names,
    url,
)
from federation.convert.vocab import DESCRIPTION_MAX, NAME_MAX, USERNAME_MAX

#: How many keys of a ``publicKey`` list are looked at.
MAX_KEYS: Final = 10
#: A PEM longer than this is no RSA or Ed25519 public key anyone uses (16k-bit RSA ≈ 3 kB).
PEM_MAX: Final = 8_000


@dataclass(frozen=True, slots=True)
class RemoteActor:
    ap_id: str
    #: ``Person``, ``Group``, ``Application``, ``Service``, ``Organization``…
    type: str
    username: str | None
    name: str
    #: sanitised HTML
    summary: str
    url: str | None
    inbox: str
    outbox: str | None
    followers: str | None
    following: str | None
    shared_inbox: str | None
    public_key_id: str | None
    public_key_pem: str | None
    icon_url: str | None
    manually_approves: bool
    #: FEP-8a8e ``upcomingEvents`` collection
    upcoming_events: str | None
    #: Mobilizon's ``events`` collection of a group (all its events)
    events: str | None


def parse_actor(obj: Any) -> RemoteActor:
    """Read a peer's actor document; :class:`ParseError` without ``id``, ``type``, ``inbox``."""
    if not isinstance(obj, dict):
        raise ParseError("an actor is a JSON object")
    ap_id = object_id(obj)
    kinds = type_names(obj)
    if not kinds:
        raise ParseError("an actor needs a type")
    inbox = url(obj.get("inbox"))
    if inbox is None:
        raise ParseError("an actor needs an inbox")
    username = clean_text(obj.get("preferredUsername"), USERNAME_MAX)
    endpoints = obj.get("endpoints")
    key_id, key_pem = _public_key(obj.get("publicKey"), ap_id)
    summary = language_value(obj, "summary")
    return RemoteActor(
        ap_id=ap_id,
        type=kinds[0][:32],
        username=username,
        name=clean_text(language_value(obj, "name"), NAME_MAX) or username or "",
        summary=safe_html(summary, DESCRIPTION_MAX) if isinstance(summary, str) else "",
        url=url(obj.get("url")),
        inbox=inbox,
        outbox=_reference(obj.get("outbox")),
        followers=_reference(obj.get("followers")),
        following=_reference(obj.get("following")),
        shared_inbox=url(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None,
        public_key_id=key_id,
        public_key_pem=key_pem,
        icon_url=url(first(obj.get("icon"))),
        manually_approves=obj.get("manuallyApprovesFollowers") is True,
        upcoming_events=_reference(obj.get("upcomingEvents")),
        events=_reference(obj.get("events")),
    )


def _reference(value: Any) -> str | None:
    """A collection given by URL or embedded with an ``id``."""
    if isinstance(value, dict):
        value = value.get("id")
    return url(value) if isinstance(value, str) else None


def _public_key(value: Any, actor_id: str) -> tuple[str | None, str | None]:
    """The actor's own key: the first whose ``owner`` is the actor (or says nothing)."""
    keys = value[:MAX_KEYS] if isinstance(value, list) else [value]
    for key in keys:
        if isinstance(key, str):
            return url(key), None
        if not isinstance(key, dict):
            continue
        owner = key.get("owner")
        if owner is not None and owner != actor_id:
            continue
        pem = key.get("publicKeyPem")
        usable = isinstance(pem, str) and len(pem) <= PEM_MAX and "-----BEGIN" in pem
        return url(key.get("id")), (pem if usable else None)
    return None, None
