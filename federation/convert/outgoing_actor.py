"""Our organisations, projects, people and node → ActivityStreams actors.

Actor documents follow FEDERATION.md ("Actors and discovery"); the endpoints' URLs are
given by the routes that serve them (:class:`ActorUrls`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from federation.convert.outgoing_parts import context, hashtags, place_object, utc_iso
from federation.convert.values import text_to_html
from federation.convert.vocab import base_of
from node.models import Organisation, Person, Place, Project

_WEBSITE: Final = {"fr": "Site web", "en": "Website"}


@dataclass(frozen=True, slots=True)
class ActorUrls:
    """Where an actor's endpoints are served (given by the routes that serve them)."""

    inbox: str
    outbox: str
    followers: str
    following: str
    shared_inbox: str | None = None
    #: FEP-8a8e collection of the actor's coming events (organisations)
    upcoming_events: str | None = None

    @classmethod
    def under(
        cls, actor_id: str, *, shared_inbox: str | None = None, upcoming_events: bool = False
    ) -> ActorUrls:
        """The collections served below the actor's id: ``<actor>/inbox``, ``/outbox``,
        ``/followers`` (see :func:`followers_of`), ``/following``, ``/upcoming-events``."""
        return cls(
            inbox=f"{actor_id}/inbox",
            outbox=f"{actor_id}/outbox",
            followers=followers_of(actor_id),
            following=f"{actor_id}/following",
            shared_inbox=shared_inbox,
            upcoming_events=f"{actor_id}/upcoming-events" if upcoming_events else None,
        )


def followers_of(actor_id: str) -> str:
    """The followers collection of a local actor: ``<actor>/followers``."""
    return f"{actor_id}/followers"


def group_actor(
    org: Organisation | Project,
    *,
    place: Place | None,
    public_key_pem: str,
    kind: Literal["organisation", "project"],
    urls: ActorUrls,
    username: str | None = None,
    language: str = "fr",
) -> dict[str, Any]:
    """An organisation or a project as a ``Group`` (projects have no username field:
    give ``username``)."""
    if kind == "organisation" and not isinstance(org, Organisation):
        raise ValueError("kind 'organisation' needs an Organisation")
    if kind == "project" and not isinstance(org, Project):
        raise ValueError("kind 'project' needs a Project")
    preferred = username or (org.username if isinstance(org, Organisation) else None)
    if not preferred:
        raise ValueError("a project actor needs a username")
    document = _actor(
        "Group",
        org.ap_id,
        preferred,
        org.name,
        org.description,
        public_key_pem,
        urls,
        discoverable=True,
        manually_approves=False,
        published=org.created,
    )
    document["tag"] = hashtags(org.tags, org.themes, base=base_of(org.ap_id))
    if isinstance(org, Organisation):
        if org.logo_url:
            document["icon"] = {"type": "Image", "url": org.logo_url}
        if org.website:
            label = _WEBSITE.get(language, _WEBSITE["fr"])
            link = html.escape(org.website)
            document["attachment"] = [
                {
                    "type": "PropertyValue",
                    "name": label,
                    "value": f'<a href="{link}" rel="me nofollow noopener noreferrer" '
                    f'target="_blank">{link}</a>',
                }
            ]
    if place is not None:
        document["location"] = place_object(place, owner=org.ap_id)
    return document


def person_actor(
    person: Person,
    *,
    public_key_pem: str,
    urls: ActorUrls,
    manually_approves_followers: bool = True,
) -> dict[str, Any]:
    """A person as a ``Person``; discoverable only with a public profile. People are not
    followed in Maillon (follows go to organisations), hence manual approval."""
    return _actor(
        "Person",
        person.ap_id,
        person.username,
        person.name,
        text_to_html(person.bio),
        public_key_pem,
        urls,
        discoverable=person.public_profile,
        manually_approves=manually_approves_followers,
        published=person.created,
    )


def application_actor(
    *,
    id: str,
    name: str,
    public_key_pem: str,
    urls: ActorUrls,
    preferred_username: str = "relay",
    url: str | None = None,
) -> dict[str, Any]:
    """The node's instance actor (``relay@host``, as Mobilizon looks it up); ``url`` (its
    HTML page) defaults to the id without its last segment (``<base>/actor`` → ``<base>``).
    """
    document = _actor(
        "Application",
        id,
        preferred_username,
        name,
        "",
        public_key_pem,
        urls,
        discoverable=False,
        manually_approves=False,
        published=None,
    )
    document["url"] = url or id.rsplit("/", 1)[0]
    return document


def _actor(
    kind: str,
    ap_id: str,
    username: str,
    name: str,
    summary: str,
    public_key_pem: str,
    urls: ActorUrls,
    *,
    discoverable: bool,
    manually_approves: bool,
    published: datetime | None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": context(),
        "id": ap_id,
        "type": kind,
        "preferredUsername": username,
        "name": name,
        "summary": summary,
        "url": ap_id,
        "inbox": urls.inbox,
        "outbox": urls.outbox,
        "followers": urls.followers,
        "following": urls.following,
        "publicKey": {"id": f"{ap_id}#main-key", "owner": ap_id, "publicKeyPem": public_key_pem},
        "manuallyApprovesFollowers": manually_approves,
        "discoverable": discoverable,
        "indexable": discoverable,
    }
    if urls.shared_inbox:
        document["endpoints"] = {"sharedInbox": urls.shared_inbox}
    if urls.upcoming_events:
        document["upcomingEvents"] = urls.upcoming_events
    if published is not None:
        document["published"] = utc_iso(published)
    return document
